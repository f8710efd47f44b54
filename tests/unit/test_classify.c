/*
 * test_classify.c - envelope rules (first match, every field, domains with
 * and without the leading dot) and the headers (list header, List-Id,
 * Precedence, invalid names failing closed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/classify.h"
#include "core/config.h"

static struct config cf;

static int
setup(void **state)
{
	static const char text[] =
	    "classify: { rules = (\n"
	    "  { sender = \"receipts@news.example.com\"; class = \"transactional\"; },\n"
	    "  { sender_domain = \".news.example.com\"; list = \"news\"; },\n"
	    "  { sender_domain = \"example.org\"; },\n"
	    "  { sasl_login = \"mailer\"; daemon_name = \"bulk\"; list = \"promo\"; }\n"
	    "); };\n";
	char err[256];

	(void)state;
	if (config_load_string(&cf, text, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	return 0;
}

static void
env(const char *sender, const char *login, const char *daemon, int class_,
    const char *list, const char *why)
{
	struct classify_env e = { sender, login, daemon };
	struct classify_result r;

	classify_envelope(&cf.classify, &e, &r);
	assert_int_equal(r.class_, class_);
	if (list != NULL)
		assert_string_equal(r.list, list);
	if (why != NULL)
		assert_string_equal(r.why, why);
}

static void
test_envelope(void **state)
{
	(void)state;
	env("<Receipts@NEWS.example.com>", NULL, NULL, CLASS_TRANSACTIONAL,
	    NULL, "rule 1");
	env("promo@news.example.com", NULL, NULL, CLASS_BULK, "news", "rule 2");
	env("a@deep.news.example.com", NULL, NULL, CLASS_BULK, "news", "rule 2");
	env("a@xnews.example.com", NULL, NULL, CLASS_UNKNOWN, NULL, NULL);
	env("a@example.org", NULL, NULL, CLASS_BULK, "default", "rule 3");
	env("a@sub.example.org", NULL, NULL, CLASS_UNKNOWN, NULL, NULL);
	/* Both fields of rule 4 must match. */
	env("x@example.net", "mailer", "bulk", CLASS_BULK, "promo", "rule 4");
	env("x@example.net", "mailer", NULL, CLASS_UNKNOWN, NULL, NULL);
	env("x@example.net", NULL, "bulk", CLASS_UNKNOWN, NULL, NULL);
	/* The null sender and missing macros match no sender rule. */
	env("<>", NULL, NULL, CLASS_UNKNOWN, NULL, NULL);
	env(NULL, NULL, NULL, CLASS_UNKNOWN, NULL, NULL);
	env("garbage\r\n", NULL, NULL, CLASS_UNKNOWN, NULL, NULL);
}

static void
hdrs(const char *const *h, int class_, const char *list, const char *why)
{
	struct classify_hdrs ch;
	struct classify_result r;

	memset(&ch, 0, sizeof(ch));
	for (; h[0] != NULL; h += 2)
		classify_header(&cf.classify, &ch, h[0], h[1]);
	classify_headers(&cf.classify, &ch, &r);
	assert_int_equal(r.class_, class_);
	assert_string_equal(r.list, list);
	if (why != NULL)
		assert_string_equal(r.why, why);
}

static void
test_headers(void **state)
{
	(void)state;
	hdrs((const char *[]){ "Subject", "hi", NULL }, CLASS_TRANSACTIONAL,
	    "", NULL);
	hdrs((const char *[]){ "list-id", " Our news <News.Example.COM> ", NULL },
	    CLASS_BULK, "news.example.com", "List-Id");
	hdrs((const char *[]){ "List-Id", "plain.example.com", NULL }, CLASS_BULK,
	    "plain.example.com", NULL);
	hdrs((const char *[]){ "Precedence", " Bulk", NULL }, CLASS_BULK,
	    "default", "Precedence");
	hdrs((const char *[]){ "Precedence", "junk", NULL }, CLASS_TRANSACTIONAL,
	    "", NULL);
	/* The list header beats List-Id; the first one of each counts. */
	hdrs((const char *[]){ "List-Id", "<a.example>", "X-Consent-List", "deals",
	    "x-consent-list", "other", NULL }, CLASS_BULK, "deals", NULL);
	/* A name we cannot store fails closed: bulk on no list. */
	hdrs((const char *[]){ "X-Consent-List", "two words", NULL }, CLASS_BULK,
	    "", "X-Consent-List (invalid list name)");
	hdrs((const char *[]){ "List-Id", "<this.list.id.is.far.too.long.to.be."
	    "stored.as.a.list.name.in.the.consent.store.example.com>", NULL },
	    CLASS_BULK, "", "List-Id (invalid list id)");
}

static void
test_header_count(void **state)
{
	struct classify_hdrs ch;

	(void)state;
	memset(&ch, 0, sizeof(ch));
	classify_header(&cf.classify, &ch, "X-Consent-List", "a");
	classify_header(&cf.classify, &ch, "X-CONSENT-LIST", "b");
	assert_int_equal(ch.nlist_hdr, 2);
	assert_string_equal(ch.list_hdr, "a");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_header_count),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
