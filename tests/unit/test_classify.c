/*
 * test_classify.c - envelope rules (first match, every field, domains with
 * and without the leading dot) and the headers (list header, List-Id,
 * Precedence, invalid names failing closed), read without their comments
 * and folding (RFC 5322 CFWS).
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
cfws(const char *in, const char *want)
{
	char out[64];

	if (want == NULL) {
		assert_int_equal(classify_cfws(in, out, sizeof(out)), -1);
		return;
	}
	assert_int_equal(classify_cfws(in, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void
test_cfws(void **state)
{
	char small[5];

	(void)state;
	cfws("", "");
	cfws(" \t\r\n ", "");
	cfws("(only a comment)", "");
	cfws("list (mailing list)", "list");
	cfws("a(x)b", "a b");
	cfws("  a \r\n\t b  ", "a b");
	cfws("a (x (y) \\( z) b", "a b");
	cfws("\"q (not a comment)\" (a comment)", "\"q (not a comment)\"");
	cfws("\"a\\\"(b\" c", "\"a\\\"(b\" c");
	cfws("\"fol\r\n ded\"", "\"fol ded\"");
	cfws("(\"a quote in a comment) x", "x");
	cfws("a (unbalanced", NULL);
	cfws("a (b (c)", NULL);
	cfws("a)", NULL);
	cfws("(a \\", NULL);
	cfws("\"unterminated", NULL);
	cfws("\"a\\", NULL);
	/* The result must fit, NUL included. */
	assert_int_equal(classify_cfws("abcd", small, sizeof(small)), 0);
	assert_string_equal(small, "abcd");
	assert_int_equal(classify_cfws("abcde", small, sizeof(small)), -1);
	assert_int_equal(classify_cfws("(long comment) abcd (more)", small,
	    sizeof(small)), 0);
	assert_int_equal(classify_cfws("", small, 0), -1);
}

/* Comments and folding (RFC 5322 CFWS) hide no bulk marker. */
static void
test_headers_cfws(void **state)
{
	(void)state;
	hdrs((const char *[]){ "Precedence", "list (mailing list)", NULL },
	    CLASS_BULK, "default", "Precedence");
	hdrs((const char *[]){ "Precedence", "(x) bulk", NULL }, CLASS_BULK,
	    "default", "Precedence");
	hdrs((const char *[]){ "Precedence", "bulk(x)", NULL }, CLASS_BULK,
	    "default", "Precedence");
	hdrs((const char *[]){ "Precedence", "\r\n\tlist\r\n (mailing\r\n\t list)\r\n",
	    NULL }, CLASS_BULK, "default", "Precedence");
	hdrs((const char *[]){ "Precedence", "bulk (a (nested) comment)", NULL },
	    CLASS_BULK, "default", "Precedence");
	hdrs((const char *[]){ "Precedence", "bulk (quoted \\) pair)", NULL },
	    CLASS_BULK, "default", "Precedence");
	hdrs((const char *[]){ "Precedence", "\"BULK\"", NULL }, CLASS_BULK,
	    "default", "Precedence");
	hdrs((const char *[]){ "Precedence", "\"b\\ulk\" (quoted pair)", NULL },
	    CLASS_BULK, "default", "Precedence");
	/* Still not bulk: junk, another word, a comment alone, a quoted phrase. */
	hdrs((const char *[]){ "Precedence", "junk (auto reply)", NULL },
	    CLASS_TRANSACTIONAL, "", NULL);
	hdrs((const char *[]){ "Precedence", "first-class", NULL },
	    CLASS_TRANSACTIONAL, "", NULL);
	hdrs((const char *[]){ "Precedence", " (bulk) ", NULL },
	    CLASS_TRANSACTIONAL, "", NULL);
	hdrs((const char *[]){ "Precedence", "\"bulk (not a comment)\"", NULL },
	    CLASS_TRANSACTIONAL, "", NULL);
	/* Unreadable, it may say bulk: bulk on no list. */
	hdrs((const char *[]){ "Precedence", "bulk (unbalanced", NULL },
	    CLASS_BULK, "", "Precedence (unreadable)");
	hdrs((const char *[]){ "Precedence", "(bulk", NULL }, CLASS_BULK, "",
	    "Precedence (unreadable)");
	hdrs((const char *[]){ "Precedence", "bulk)", NULL }, CLASS_BULK, "",
	    "Precedence (unreadable)");
	hdrs((const char *[]){ "Precedence", "bulk (a (b)", NULL }, CLASS_BULK,
	    "", "Precedence (unreadable)");
	hdrs((const char *[]){ "Precedence", "\"bulk", NULL }, CLASS_BULK, "",
	    "Precedence (unreadable)");
	hdrs((const char *[]){ "Precedence", "bulk;", NULL }, CLASS_BULK, "",
	    "Precedence (unreadable)");
	hdrs((const char *[]){ "Precedence", "junk bulk", NULL }, CLASS_BULK, "",
	    "Precedence (unreadable)");
	hdrs((const char *[]){ "Precedence", "bulk", "Precedence", "(x", NULL },
	    CLASS_BULK, "", "Precedence (unreadable)");

	/* List-Id: the <id> outside comments and quoted strings. */
	hdrs((const char *[]){ "List-Id", "\"My <list>\" <news.example.com> "
	    "(was <evil.example>)", NULL }, CLASS_BULK, "news.example.com",
	    "List-Id");
	hdrs((const char *[]){ "List-Id", "(comment <evil.example>) \"My <list>\" "
	    "<news.example.com>", NULL }, CLASS_BULK, "news.example.com", NULL);
	hdrs((const char *[]){ "List-Id", "\"Deals (50% off\" <deals.example.com> "
	    "(see <evil.example>)", NULL }, CLASS_BULK, "deals.example.com", NULL);
	hdrs((const char *[]){ "List-Id", "Our\r\n news (weekly)\r\n\t"
	    "<News.Example.COM>\r\n (was\r\n <old.example>)", NULL }, CLASS_BULK,
	    "news.example.com", NULL);
	hdrs((const char *[]){ "List-Id", "news.example.com (bare, RFC 2919 "
	    "wants <>)", NULL }, CLASS_BULK, "news.example.com", NULL);
	/* An id we cannot be sure of names no list. */
	hdrs((const char *[]){ "List-Id", "(x <news.example.com>", NULL },
	    CLASS_BULK, "", "List-Id (invalid list id)");
	hdrs((const char *[]){ "List-Id", "<news.example.com> \"<evil.example>\"",
	    NULL }, CLASS_BULK, "", "List-Id (invalid list id)");
	hdrs((const char *[]){ "List-Id", "<a.example> <b.example>", NULL },
	    CLASS_BULK, "", "List-Id (invalid list id)");

	/* The list header. */
	hdrs((const char *[]){ "X-Consent-List", "news (weekly)", NULL },
	    CLASS_BULK, "news", "X-Consent-List");
	hdrs((const char *[]){ "X-Consent-List", "(x)\r\n\tPromo", NULL },
	    CLASS_BULK, "promo", NULL);
	hdrs((const char *[]){ "X-Consent-List", "news (weekly", NULL },
	    CLASS_BULK, "", "X-Consent-List (invalid list name)");
	hdrs((const char *[]){ "X-Consent-List", "\"news (x)\"", NULL },
	    CLASS_BULK, "", "X-Consent-List (invalid list name)");
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
		cmocka_unit_test(test_cfws),
		cmocka_unit_test(test_headers_cfws),
		cmocka_unit_test(test_header_count),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
