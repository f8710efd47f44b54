/*
 * test_fbparse.c - the report parser on the corpus of tests/data/feedback
 * (Postfix, Exim, Sendmail, Microsoft 365, Gmail, RFC 6533, ARF, plain
 * bounces, broken and oversized ones), and its bounds: long and dirty
 * fields, 8 MiB and more, the status code syntax, tokens behind %20.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl/fbparse.h"
#include "util/util.h"

#define FAKETOK "AXq7Zt3dFZ9cLr1pQe0b5YwKJmN2sV8hU4oG6iT_xRaE-lBkCgHjD7fWnMzSyOv1Pu3Q9e2RtL0aZ5XcVbNmKdJhGf8sWqYpUo4I6rE_TyA-lk"

static struct fbp_report rep;
static char err[512];

/* load - a corpus file into a buffer the caller frees. */
static char *
load(const char *name, size_t *n)
{
	const char *top = getenv("TOP");
	char path[512], *buf;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/tests/data/feedback/%s",
	    top ? top : ".", name);
	if ((fp = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s (run from the top of the tree)", path);
	buf = malloc(1 << 20);
	assert_non_null(buf);
	*n = fread(buf, 1, 1 << 20, fp);
	fclose(fp);
	return buf;
}

/* parse - the corpus file name through fbparse_message. */
static int
parse(const char *name)
{
	size_t n;
	char *buf = load(name, &n);
	int rc;

	err[0] = '\0';
	rc = fbparse_message(buf, n, &rep, err, sizeof(err));
	free(buf);
	return rc;
}

static int
parse_str(const char *s)
{
	err[0] = '\0';
	return fbparse_message(s, strlen(s), &rep, err, sizeof(err));
}

static void
assert_rcpt(unsigned i, const char *final, const char *action,
    const char *status)
{
	assert_true(i < rep.nrcpt);
	assert_string_equal(rep.rcpt[i].final, final);
	assert_string_equal(rep.rcpt[i].action, action);
	assert_string_equal(rep.rcpt[i].status, status);
}

static void
assert_faketok(void)
{
	assert_int_equal(rep.ntok, 1);
	assert_string_equal(rep.tok[0], FAKETOK);
}

static void
test_postfix(void **state)
{
	(void)state;
	assert_int_equal(parse("postfix_5.1.1.eml"), FBP_DSN);
	assert_int_equal(rep.nrcpt, 1);
	assert_rcpt(0, "nobody@example.net", "failed", "5.1.1");
	assert_string_equal(rep.rcpt[0].original, "nobody@example.net");
	assert_string_equal(rep.rcpt[0].remote_mta, "mx.example.net");
	/* Folded, unfolded, and its "smtp;" type gone. */
	assert_string_equal(rep.rcpt[0].diag, "550 5.1.1 <nobody@example.net>: "
	    "Recipient address rejected: User unknown in virtual mailbox table");
	assert_string_equal(rep.reporting_mta, "mta.example.org");
	assert_string_equal(rep.msgid, "<news-2026-12.nobody@example.org>");
	assert_true(rep.returned);
	/* The https URL and the mailto's %20-escaped copy are one token. */
	assert_faketok();
	/* Delivered-To, To and X-Postfix-Sender name one return path. */
	assert_int_equal(rep.ntag, 1);
	assert_string_equal(rep.tag[0],
	    "bounces+fb-01504e3k9xqz7mfp2hd4wa@example.org");
}

static void
test_exim(void **state)
{
	(void)state;
	assert_int_equal(parse("exim_5.1.1.eml"), FBP_DSN);
	assert_int_equal(rep.nrcpt, 1);
	/* Exim says 5.0.0 in Status and the real code in the diagnostic. */
	assert_rcpt(0, "gone@example.com", "failed", "5.0.0");
	assert_non_null(strstr(rep.rcpt[0].diag, "550 5.1.1"));
	assert_string_equal(rep.reporting_mta, "relay.example.com");
	assert_string_equal(rep.msgid, "<news-2026-12.gone@example.org>");
	assert_faketok();
	assert_int_equal(rep.ntag, 0);
}

static void
test_sendmail_every_group(void **state)
{
	(void)state;
	assert_int_equal(parse("sendmail_multi.eml"), FBP_DSN);
	assert_int_equal(rep.nrcpt, 3);
	assert_rcpt(0, "alice@example.edu", "failed", "5.1.1");
	assert_rcpt(1, "bob@example.edu", "failed", "5.2.2");
	assert_rcpt(2, "carol@example.edu", "failed", "5.7.1");
	assert_string_equal(rep.rcpt[1].remote_mta, "mail.example.edu");
	assert_string_equal(rep.msgid, "<dept-news-48@example.org>");
	/* No List-Unsubscribe came back: no proof. */
	assert_int_equal(rep.ntok, 0);
}

static void
test_o365(void **state)
{
	(void)state;
	assert_int_equal(parse("o365_5.1.10.eml"), FBP_DSN);
	assert_rcpt(0, "jdoe@contoso.com", "failed", "5.1.10");
	assert_non_null(strstr(rep.rcpt[0].diag, "RESOLVER.ADR.RecipientNotFound"));
	assert_string_equal(rep.reporting_mta,
	    "AM0PR01MB1234.eurprd01.prod.exchangelabs.com");
	assert_string_equal(rep.msgid, "<news-2026-12.o365@example.org>");
	/* Header and quoted-printable body carry the same token. */
	assert_faketok();
	assert_int_equal(parse("o365_5.7.515.eml"), FBP_DSN);
	assert_rcpt(0, "jdoe@outlook.com", "failed", "5.7.515");
	assert_int_equal(strncmp(rep.rcpt[0].diag, "550 5.7.515 Access denied",
	    25), 0);
}

static void
test_gmail(void **state)
{
	(void)state;
	assert_int_equal(parse("gmail_5.1.1.eml"), FBP_DSN);
	assert_rcpt(0, "no.such.user.2026@gmail.com", "failed", "5.1.1");
	/* The comment after the host is not part of it. */
	assert_string_equal(rep.rcpt[0].remote_mta, "gmail-smtp-in.l.google.com");
	assert_non_null(strstr(rep.rcpt[0].diag, "does not exist"));
	assert_null(strchr(rep.rcpt[0].diag, '\n'));
	assert_string_equal(rep.reporting_mta, "googlemail.com");
	assert_faketok();
	assert_int_equal(parse("gmail_5.2.2.eml"), FBP_DSN);
	assert_rcpt(0, "full.mailbox@gmail.com", "failed", "5.2.2");
}

static void
test_global_utf8(void **state)
{
	(void)state;
	assert_int_equal(parse("global_utf8.eml"), FBP_DSN);
	assert_rcpt(0, "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90."
	    "\xe7\xbd\x91\xe7\xbb\x9c", "failed", "5.1.1");
	assert_non_null(strstr(rep.rcpt[0].diag, "(user unknown)"));
	assert_string_equal(rep.msgid, "<news-2026-12.utf8@example.org>");
	assert_faketok();
}

static void
test_arf(void **state)
{
	(void)state;
	assert_int_equal(parse("arf_abuse.eml"), FBP_ARF);
	assert_string_equal(rep.feedback_type, "abuse");
	assert_string_equal(rep.user_agent, "ExampleISP-FBL/2.1");
	assert_string_equal(rep.reporting_mta, "mx3.example-isp.net");
	assert_int_equal(rep.nrcpt, 1);
	assert_string_equal(rep.rcpt[0].final, "redacted@example-isp.net");
	assert_string_equal(rep.msgid, "<news-2026-12.arf@example.org>");
	assert_faketok();
	assert_int_equal(parse("arf_notspam_redacted.eml"), FBP_ARF);
	assert_string_equal(rep.feedback_type, "not-spam");
	assert_int_equal(rep.nrcpt, 0);
	assert_faketok();
}

static void
test_plain(void **state)
{
	(void)state;
	assert_int_equal(parse("plain_code.eml"), FBP_PLAIN);
	assert_int_equal(rep.nrcpt, 1);
	/* The address two lines above its code. */
	assert_rcpt(0, "olduser@example.info", "failed", "5.1.1");
	assert_string_equal(rep.rcpt[0].diag,
	    "Remote host said: 550 5.1.1 Mailbox does not exist");
	assert_faketok();
	/* No enhanced code: nothing guessed. */
	assert_int_equal(parse("plain_nocode.eml"), FBP_PLAIN);
	for (unsigned i = 0; i < rep.nrcpt; i++)
		assert_string_equal(rep.rcpt[i].status, "");
}

static void
test_refused(void **state)
{
	static const struct { const char *file, *why; } cases[] = {
		{ "not_report.eml", "not a delivery status notification" },
		{ "broken_status.eml", "Status is not an enhanced status code" },
		{ "broken_nostatus.eml", "without a message/delivery-status part" },
		{ "broken_mime.eml", "without a message/delivery-status part" },
		{ "broken_binary.eml", "not a MIME message" },
		{ "huge_groups.eml", "more than 64 recipient groups" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].file), -1);
		if (strstr(err, cases[i].why) == NULL)
			fail_msg("%s: \"%s\", expected \"%s\"", cases[i].file, err,
			    cases[i].why);
	}
	assert_int_equal(fbparse_message("", 0, &rep, err, sizeof(err)), -1);
}

/* A DSN of one recipient group whose fields are given. */
#define DSN_HEAD "From: MAILER-DAEMON@mta.example.org\nMIME-Version: 1.0\n" \
	"Content-Type: multipart/report; report-type=delivery-status; " \
	"boundary=\"b\"\n\n--b\nContent-Type: message/delivery-status\n\n" \
	"Reporting-MTA: dns; mta.example.org\n\n"
#define DSN_TAIL "\n--b--\n"

static void
test_missing_fields(void **state)
{
	(void)state;
	assert_int_equal(parse_str(DSN_HEAD "Action: failed\nStatus: 5.1.1\n"
	    DSN_TAIL), -1);
	assert_non_null(strstr(err, "no Final-Recipient field"));
	assert_int_equal(parse_str(DSN_HEAD "Final-Recipient: rfc822; a@b.c\n"
	    "Status: 5.1.1\n" DSN_TAIL), -1);
	assert_non_null(strstr(err, "no Action field"));
	assert_int_equal(parse_str(DSN_HEAD "Final-Recipient: rfc822; a@b.c\n"
	    "Action: failed\nStatus: 5.1.1\n\nFinal-Recipient: rfc822; d@e.f\n"
	    "Action: failed\n" DSN_TAIL), -1);
	assert_non_null(strstr(err, "group 2 has no Status field"));
	assert_int_equal(parse_str("From: MAILER-DAEMON@x.example\n"
	    "MIME-Version: 1.0\nContent-Type: multipart/report; "
	    "report-type=delivery-status; boundary=b\n\n--b\nContent-Type: "
	    "message/delivery-status\n\nReporting-MTA: dns; x\n--b--\n"), -1);
	assert_non_null(strstr(err, "no recipient group"));
	assert_int_equal(parse_str("From: x@y.example\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=disposition-"
	    "notification; boundary=b\n\n--b\nContent-Type: text/plain\n\nx\n"
	    "--b--\n"), -1);
	assert_non_null(strstr(err, "unknown report-type"));
}

static void
test_dirty_fields(void **state)
{
	char msg[8192], *p;
	size_t n;

	(void)state;
	/* Control characters, bad UTF-8, and a diagnostic over the bound. */
	n = (size_t)snprintf(msg, sizeof(msg), DSN_HEAD "Final-Recipient: "
	    "rfc822; <a@b.example>\nAction: FAILED (permanent)\nStatus: 5.1.1 "
	    "(bad destination mailbox)\nDiagnostic-Code: smtp; 550\x01\x1b[31m "
	    "x\xff\xfey ");
	p = msg + n;
	for (int i = 0; i < 300; i++) {
		memcpy(p, "\xc3\xa9", 2);
		p += 2;
	}
	strcpy(p, "\n" DSN_TAIL);
	assert_int_equal(parse_str(msg), FBP_DSN);
	assert_rcpt(0, "a@b.example", "failed", "5.1.1");
	/* GMime reads the stray octets in a fallback charset: still UTF-8. */
	assert_int_equal(strncmp(rep.rcpt[0].diag, "550 [31m x", 10), 0);
	assert_true(util_utf8_valid(rep.rcpt[0].diag, strlen(rep.rcpt[0].diag)));
	assert_true(strlen(rep.rcpt[0].diag) <= FBP_DIAG_MAX);
	/* Cut at a character boundary: the last octet ends an "é". */
	assert_int_equal((unsigned char)rep.rcpt[0].diag[strlen(rep.rcpt[0].diag)
	    - 1], 0xa9);
	for (p = rep.rcpt[0].diag; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
}

static void
test_oversized(void **state)
{
	size_t hn, n;
	char *buf, *body;

	(void)state;
	/* A report whose returned message makes it 9 MiB: the first 8 read. */
	buf = load("exim_5.1.1.eml", &hn);
	body = strstr(buf, "--1764583331-eximdsn-1804289383--");
	assert_non_null(body);
	n = (size_t)(body - buf);
	buf = realloc(buf, 9u << 20);
	assert_non_null(buf);
	for (; n < (9u << 20) - 1; n++)
		buf[n] = (n % 77 == 0) ? '\n' : 'x';
	assert_int_equal(fbparse_message(buf, n, &rep, err, sizeof(err)), FBP_DSN);
	assert_true(rep.truncated);
	assert_rcpt(0, "gone@example.com", "failed", "5.0.0");
	free(buf);
}

static void
test_status_syntax(void **state)
{
	(void)state;
	assert_true(fbparse_status_ok("5.1.1"));
	assert_true(fbparse_status_ok("4.4.7"));
	assert_true(fbparse_status_ok("2.0.0"));
	assert_true(fbparse_status_ok("5.7.515"));
	assert_true(fbparse_status_ok("5.1.10"));
	assert_false(fbparse_status_ok("3.1.1"));
	assert_false(fbparse_status_ok("5.1"));
	assert_false(fbparse_status_ok("5.1.1.1"));
	assert_false(fbparse_status_ok("5.1234.1"));
	assert_false(fbparse_status_ok("5..1"));
	assert_false(fbparse_status_ok("5.1.1 "));
	assert_false(fbparse_status_ok(""));
}

static void
test_plain_codes(void **state)
{
	(void)state;
	/* An IP address is not a code; the code after it is. */
	assert_int_equal(parse_str("From: MAILER-DAEMON@x.example\nSubject: "
	    "failure notice\n\n<u@d.example>: host 192.5.1.1 said: 550 5.1.2 "
	    "bad domain\n"), FBP_PLAIN);
	assert_rcpt(0, "u@d.example", "failed", "5.1.2");
	/* A code with no address near it: the token must name the recipient. */
	assert_int_equal(parse_str("From: MAILER-DAEMON@x.example\nSubject: "
	    "failure notice\n\nnothing here\n\n\n\n\n550 5.1.1 no such user\n"),
	    FBP_PLAIN);
	assert_rcpt(0, "", "failed", "5.1.1");
	/* X-Failed-Recipients names who the code is for. */
	assert_int_equal(parse_str("From: x@y.example\nX-Failed-Recipients: "
	    "p@q.example, r@s.example\nSubject: x\n\nerror 4.2.2 over quota\n"),
	    FBP_PLAIN);
	assert_int_equal(rep.nrcpt, 2);
	assert_rcpt(1, "r@s.example", "failed", "4.2.2");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_postfix),
		cmocka_unit_test(test_exim),
		cmocka_unit_test(test_sendmail_every_group),
		cmocka_unit_test(test_o365),
		cmocka_unit_test(test_gmail),
		cmocka_unit_test(test_global_utf8),
		cmocka_unit_test(test_arf),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_dirty_fields),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_status_syntax),
		cmocka_unit_test(test_plain_codes),
	};

	fbparse_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
