/*
 * test_mta.c - the removal forms: every RCPT form RFC 5321 allows gets
 * the form Postfix's cleanup matches; anything a parser could read two
 * ways gets none.  Sendmail's: the RCPT argument as given, unless its list
 * parse could split it.  Which MTA a {v} macro names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "milter/mta.h"

static void
sure(const char *raw, const char *want)
{
	char out[MTA_DELRCPT_MAX];

	if (mta_delrcpt_arg(raw, out, sizeof(out)) != 1)
		fail_msg("no form for %s", raw);
	assert_string_equal(out, want);
}

static void
unsure(const char *raw)
{
	char out[MTA_DELRCPT_MAX];

	if (mta_delrcpt_arg(raw, out, sizeof(out)) != 0)
		fail_msg("a form for %s: %s", raw, out);
}

static void
test_plain_forms(void **state)
{
	(void)state;
	sure("<erin@example.com>", "<erin@example.com>");
	sure("erin@example.com", "<erin@example.com>");
	sure("<Erin@Example.COM>", "<Erin@Example.COM>");
	sure("<a.b+tag@sub.example.com>", "<a.b+tag@sub.example.com>");
	sure("<!#$%&'*+-/=?^_`{|}~@example.com>", "<!#$%&'*+-/=?^_`{|}~@example.com>");
	sure("<u@[192.0.2.1]>", "<u@[192.0.2.1]>");
	sure("<u@[IPv6:2001:db8::1]>", "<u@[IPv6:2001:db8::1]>");
	sure("<u@example.com.>", "<u@example.com.>");
	sure("<postmaster>", "<postmaster>");
	/* Blanks around the mailbox: both parses skip them. */
	sure("< erin@example.com>", "<erin@example.com>");
	sure("<erin@example.com\t >", "<erin@example.com>");
	sure("<us%er@example.com>", "<us%er@example.com>");
	/* SMTPUTF8 */
	sure("<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", "<j\xc3\xb6rg@b\xc3\xbc" "cher.example>");
}

static void
test_quoted(void **state)
{
	(void)state;
	sure("<\"bob\"@example.com>", "<\"bob\"@example.com>");
	sure("<\"a b\"@example.com>", "<\"a b\"@example.com>");
	sure("<\"a\\\"b\"@example.com>", "<\"a\\\"b\"@example.com>");
	sure("<\"a@b\"@example.com>", "<\"a@b\"@example.com>");
	sure("<\"a:b\"@example.com>", "<\"a:b\"@example.com>");
	unsure("<\"\"@example.com>");
	unsure("<\"a\"b@example.com>");
	unsure("<\"unterminated@example.com>");
	unsure("<\"a\\\x01\"@example.com>");
	unsure("<\"a\tb\"@example.com>");
}

static void
test_routes(void **state)
{
	(void)state;
	/* Postfix's smtpd cuts the route; cleanup does not: we must. */
	sure("<@relay.example:erin@example.com>", "<erin@example.com>");
	sure("<@a,@b:bob@example.com>", "<bob@example.com>");
	sure("<@x:\"bob\"@example.com>", "<\"bob\"@example.com>");
	sure("<@[192.0.2.1]:bob@example.com>", "<bob@example.com>");
	/* Cut at the first colon, as smtpd does: what is left is not a mailbox. */
	unsure("<@[IPv6:2001:db8::1]:bob@example.com>");
	unsure("<@a:b@c:erin@example.com>");
	unsure("<@relay.example>");
	unsure("<@relay.example:>");
}

static void
test_refused(void **state)
{
	char out[8];

	(void)state;
	unsure("");
	unsure("<>");
	unsure("< @relay.example:erin@example.com>");
	unsure("<erin @example.com>");
	unsure("<erin(comment)@example.com>");
	unsure("<erin@example.com> junk");
	unsure("<<erin@example.com>>");
	unsure("<erin@example.com");
	unsure("erin@example.com>");
	unsure("<a@b, c@d>");
	unsure("<group: a@b;>");
	unsure("<a..b@example.com>");
	unsure("<.a@example.com>");
	unsure("<a.@example.com>");
	unsure("<a@@example.com>");
	unsure("<a@exa mple.com>");
	unsure("<a@example..com>");
	unsure("<a@[1.2.3.4]x>");
	unsure("<a@[1.2[3]>");
	unsure("<a@>");
	unsure("<@example.com>");
	unsure("<a@b\\c>");
	unsure("<a\xff@example.com>");	/* not UTF-8 */
	unsure("<a\x7f@example.com>");
	/* Too small a buffer is no form at all. */
	assert_int_equal(mta_delrcpt_arg("<erin@example.com>", out, sizeof(out)), 0);
	assert_int_equal(mta_delrcpt_arg(NULL, out, sizeof(out)), 0);
}

/* What smtpd recorded ({rcpt_addr}) against our removal form. */
static void
test_witness(void **state)
{
	(void)state;
	assert_int_equal(mta_rcpt_witness_ok("<erin@example.com>", "erin@example.com"), 1);
	assert_int_equal(mta_rcpt_witness_ok("<erin@example.com.>", "erin@example.com"), 1);
	assert_int_equal(mta_rcpt_witness_ok("<\"erin\"@example.com>", "erin@example.com"), 1);
	assert_int_equal(mta_rcpt_witness_ok("<\"a b\"@example.com>", "\"a b\"@example.com"), 1);
	/* A bare local part is qualified by Postfix. */
	assert_int_equal(mta_rcpt_witness_ok("<postmaster>", "postmaster@mta.example"), 1);
	/* Case only: smtpd may have recorded either spelling. */
	assert_int_equal(mta_rcpt_witness_ok("<DOUBLE-BOUNCE@Mta.Example>", "double-bounce@mta.example"), 2);
	/* Anything else: no sure removal. */
	assert_int_equal(mta_rcpt_witness_ok("<erin@example.com>", "bob@example.com"), 0);
	assert_int_equal(mta_rcpt_witness_ok("<erin@example.com>", "erin@example.org"), 0);
	assert_int_equal(mta_rcpt_witness_ok("<j\xc3\x96rg@example.com>", "j\xc3\xb6rg@example.com"), 0);
	assert_int_equal(mta_rcpt_witness_ok(NULL, "erin@example.com"), 0);
	assert_int_equal(mta_rcpt_witness_ok("<erin@example.com>", NULL), 0);
	assert_int_equal(mta_rcpt_witness_ok("erin@example.com", "erin@example.com"), 0);
}

static void
test_detect(void **state)
{
	(void)state;
	assert_int_equal(mta_detect("Postfix 3.7.11"), MTA_POSTFIX);
	assert_int_equal(mta_detect("Postfix"), MTA_POSTFIX);
	assert_int_equal(mta_detect("8.17.1.9"), MTA_SENDMAIL);
	assert_int_equal(mta_detect("8.18.1"), MTA_SENDMAIL);
	assert_int_equal(mta_detect(NULL), MTA_UNKNOWN);
	assert_int_equal(mta_detect(""), MTA_UNKNOWN);
	assert_int_equal(mta_detect("Postfixish 1"), MTA_UNKNOWN);
	assert_int_equal(mta_detect("postfix 3.7"), MTA_UNKNOWN);
	assert_int_equal(mta_detect("8."), MTA_UNKNOWN);
	assert_int_equal(mta_detect("8.17."), MTA_UNKNOWN);
	assert_int_equal(mta_detect("8.17.1.9 x"), MTA_UNKNOWN);
	assert_int_equal(mta_detect("9.0.0"), MTA_UNKNOWN);
	assert_int_equal(mta_detect("Exim 4.96"), MTA_UNKNOWN);
	assert_string_equal(mta_name(MTA_SENDMAIL), "Sendmail");
	assert_string_equal(mta_name(MTA_POSTFIX), "Postfix");
	assert_string_equal(mta_name(MTA_UNKNOWN), "an unknown MTA");
}

/* Sendmail matches the RCPT argument verbatim: what its list parse keeps whole. */
static void
test_sendmail_arg(void **state)
{
	(void)state;
	assert_int_equal(mta_sendmail_arg("<erin@example.com>"), 1);
	assert_int_equal(mta_sendmail_arg("erin@example.com"), 1);
	assert_int_equal(mta_sendmail_arg("<@relay.example:erin@example.com>"), 1);
	assert_int_equal(mta_sendmail_arg("<@a.example,@b.example:bob@example.com>"), 1);
	assert_int_equal(mta_sendmail_arg("<\"a,b\"@example.com>"), 1);
	assert_int_equal(mta_sendmail_arg("<\"a\\\",b\"@example.com>"), 1);
	assert_int_equal(mta_sendmail_arg("< erin@example.com>"), 1);
	assert_int_equal(mta_sendmail_arg("<bob@example.com >"), 1);
	assert_int_equal(mta_sendmail_arg("<u@[IPv6:2001:db8::1]>"), 1);
	/* A comma the list parse would split at, or stop at with an error. */
	assert_int_equal(mta_sendmail_arg("@a.example,@b.example:bob@example.com"), 0);
	assert_int_equal(mta_sendmail_arg("<a,b@example.com>"), 0);
	assert_int_equal(mta_sendmail_arg("a\\,b@example.com"), 0);
	assert_int_equal(mta_sendmail_arg(",erin@example.com"), 0);
	assert_int_equal(mta_sendmail_arg(" <erin@example.com>"), 0);
	/* 8-bit octets are stored quoted (_FFR_8BITENVADDR); controls, tabs. */
	assert_int_equal(mta_sendmail_arg("<j\xc3\xb6rg@example.com>"), 0);
	assert_int_equal(mta_sendmail_arg("<erin@example.com\t>"), 0);
	/* Unbalanced: not what Sendmail recorded. */
	assert_int_equal(mta_sendmail_arg("<\"erin@example.com>"), 0);
	assert_int_equal(mta_sendmail_arg("<erin@example.com"), 0);
	assert_int_equal(mta_sendmail_arg("erin@example.com>"), 0);
	assert_int_equal(mta_sendmail_arg("<erin(x)@example.com>"), 0);
	assert_int_equal(mta_sendmail_arg(""), 0);
	assert_int_equal(mta_sendmail_arg(NULL), 0);
}

/* Sendmail's {rcpt_addr}: whom its mailer delivers to, against our mailbox. */
static void
test_sendmail_witness(void **state)
{
	(void)state;
	assert_int_equal(mta_sendmail_witness_ok("<erin@example.com>", "erin@example.com"), 1);
	assert_int_equal(mta_sendmail_witness_ok("<erin@example.com>", "<erin@example.com>"), 1);
	assert_int_equal(mta_sendmail_witness_ok("<erin@Example.COM.>", "erin@example.com"), 1);
	assert_int_equal(mta_sendmail_witness_ok("<\"erin\"@example.com>", "\"erin\"@example.com"), 1);
	assert_int_equal(mta_sendmail_witness_ok("<\"erin\"@example.com>", "erin@example.com"), 1);
	assert_int_equal(mta_sendmail_witness_ok("<\"a b\"@example.com>", "\"a b\"@example.com"), 1);
	assert_int_equal(mta_sendmail_witness_ok("<erin@example.com>", "@relay.example:erin@example.com"), 1);
	/* A local mailer's user: local part only, its case maybe folded. */
	assert_int_equal(mta_sendmail_witness_ok("<Erin@mta.example>", "erin"), 1);
	assert_int_equal(mta_sendmail_witness_ok("<postmaster>", "postmaster@mta.example"), 1);
	/* Rewritten into someone else, or spelt otherwise for a remote mailer. */
	assert_int_equal(mta_sendmail_witness_ok("<erin%example.com@example.com>", "erin@example.com"), 0);
	assert_int_equal(mta_sendmail_witness_ok("<erin@example.com>", "bob@example.com"), 0);
	assert_int_equal(mta_sendmail_witness_ok("<erin@example.com>", "erin@example.org"), 0);
	assert_int_equal(mta_sendmail_witness_ok("<Erin@example.com>", "erin@example.com"), 0);
	assert_int_equal(mta_sendmail_witness_ok("<erin@example.com>", "bob"), 0);
	assert_int_equal(mta_sendmail_witness_ok("<erin@example.com>", "@relay.example"), 0);
	assert_int_equal(mta_sendmail_witness_ok("<erin@example.com>", "erin@"), 0);
	assert_int_equal(mta_sendmail_witness_ok("<erin@example.com>", ""), 0);
	assert_int_equal(mta_sendmail_witness_ok("erin@example.com", "erin@example.com"), 0);
	assert_int_equal(mta_sendmail_witness_ok(NULL, "erin@example.com"), 0);
	assert_int_equal(mta_sendmail_witness_ok("<erin@example.com>", NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_forms),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_witness),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_sendmail_arg),
		cmocka_unit_test(test_sendmail_witness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
