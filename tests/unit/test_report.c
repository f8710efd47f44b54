/*
 * test_report.c - the audit report's two line scanners: audit_scan
 * (core/audit_scan.c) reads back what the writer in audit.c writes,
 * hostile values included, and refuses what it never writes, naming the
 * column; maillog_scan (ctl/maillog.c) reads the Postfix lines the
 * report joins, in both syslog time formats, and leaves every other
 * line alone.  The rest of the report is driven through consentctl in
 * tests/cli/test_audit_report.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/audit.h"
#include "core/audit_scan.h"
#include "ctl/maillog.h"

/* is - the view s holds exactly want. */
static void
is(struct util_str s, const char *want)
{
	assert_non_null(s.p);
	assert_int_equal(s.n, strlen(want));
	assert_memory_equal(s.p, want, s.n);
}

/* scan - audit_scan() of a C string, its result; err into why. */
static int
scan(const char *line, struct audit_fields *f, char *scratch, size_t slen,
    char *why, size_t whylen)
{
	return audit_scan(line, strlen(line), scratch, slen, f, why, whylen);
}

/* refused - line is refused, with why starting "column N:". */
static void
refused(const char *line, int column)
{
	struct audit_fields f;
	char scratch[512], why[256], want[32];

	assert_int_equal(scan(line, &f, scratch, sizeof(scratch), why,
	    sizeof(why)), -1);
	snprintf(want, sizeof(want), "column %d:", column);
	if (strncmp(why, want, strlen(want)) != 0)
		fail_msg("\"%s\": got \"%s\", want %s", line, why, want);
}

static void
test_audit_fields(void **state)
{
	struct audit_fields f;
	char scratch[512], why[256];

	(void)state;
	assert_int_equal(scan("{\"v\":1,\"t\":\"2026-11-26T22:00:00.123Z\","
	    "\"qid\":\"4XyZ1abc\",\"msgid\":\"<m1@example.com>\",\"from\":"
	    "\"news@example.com\",\"list\":\"news\",\"class\":\"bulk\","
	    "\"rcpt\":\"h:0f3a\",\"verdict\":\"deny\",\"reason\":"
	    "\"unsubscribed\",\"action\":\"reject\",\"stage\":\"rcpt\","
	    "\"outcome\":\"rejected\",\"ev_kind\":\"consent\",\"ev_value\":"
	    "\"unsubscribed\",\"ev_source\":\"one-click\",\"ev_time\":"
	    "\"2026-11-20T10:00:00Z\",\"chain\":\"ab\"}", &f, scratch,
	    sizeof(scratch), why, sizeof(why)), 0);
	assert_null(f.type.p);
	is(f.t, "2026-11-26T22:00:00.123Z");
	is(f.qid, "4XyZ1abc");
	is(f.msgid, "<m1@example.com>");
	is(f.list, "news");
	is(f.class_, "bulk");
	is(f.rcpt, "h:0f3a");
	is(f.verdict, "deny");
	is(f.reason, "unsubscribed");
	is(f.outcome, "rejected");
	is(f.ev_kind, "consent");
	is(f.ev_value, "unsubscribed");
	is(f.ev_source, "one-click");
	is(f.ev_time, "2026-11-20T10:00:00Z");
	/* Blanks around everything; unknown keys with any value skipped. */
	assert_int_equal(scan(" { \"type\" : \"open\" , \"n\": -1.5E3, "
	    "\"ok\":true, \"z\":null, \"\\u0074\":\"x\" }\r", &f, scratch,
	    sizeof(scratch), why, sizeof(why)), 0);
	is(f.type, "open");
	assert_null(f.t.p);	/* a key with an escape is not ours */
}

static void
test_audit_escapes(void **state)
{
	struct audit_fields f;
	char scratch[512], why[256];

	(void)state;
	assert_int_equal(scan("{\"msgid\":\"<a\\\"b\\\\c\\u00e9\\/\\n@x>\","
	    "\"list\":\"\\ud83d\\ude00\",\"rcpt\":\"plain\"}", &f, scratch,
	    sizeof(scratch), why, sizeof(why)), 0);
	is(f.msgid, "<a\"b\\c\xc3\xa9/\n@x>");
	is(f.list, "\xf0\x9f\x98\x80");
	is(f.rcpt, "plain");
	/* Decoded strings are in the scratch, the others in the line. */
	assert_true(f.msgid.p >= scratch && f.msgid.p < scratch + sizeof(scratch));
	/* The scratch is the caller's size: too small is refused. */
	assert_int_equal(scan("{\"list\":\"\\u00e9\"}", &f, scratch, 2, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "scratch"));
}

static void
test_audit_refused(void **state)
{
	(void)state;
	refused("", 1);
	refused("   ", 4);
	refused("[1]", 1);
	refused("{}", 2);
	refused("{\"t\"}", 5);
	refused("{\"t\":}", 6);
	refused("{\"t\":\"x\"", 9);
	refused("{\"t\":\"x\",}", 10);
	refused("{\"t\":\"x\"} x", 10);
	refused("{\"t\":\"x", 6);
	refused("{\"t", 2);
	refused("{\"t\":1}", 6);		/* ours: a string */
	refused("{\"t\":\"\\q\"}", 7);		/* unknown escape */
	refused("{\"t\":\"\\u00\"}", 7);	/* short */
	refused("{\"t\":\"\\u0000\"}", 7);	/* NUL */
	refused("{\"t\":\"\\udc00\"}", 7);	/* a lone low half */
	refused("{\"t\":\"\\ud800x\"}", 7);	/* a high half alone */
	refused("{\"t\":\"x\" \"q\":1}", 10);
	refused("{\"t\":@}", 6);
	refused("{\"t\":\"x\\\"}", 6);		/* the quote is escaped */
}

/*
 * The scan/print pair: what audit_write() writes, audit_scan() reads
 * back, field for field, for hostile values too.
 */
static void
test_audit_pair(void **state)
{
	static const char *hostile[] = {
		"<plain@example.com>", "quote\" back\\slash", "ctl\x01\x1f\x7f",
		"line\nbreak\ttab\r", "caf\xc3\xa9 \xf0\x9f\x98\x80",
		"</script><b>&amp;", "=cmd|' /C calc'!A0",
		"bad\xff\xc0\xafutf8",
	};
	/* What is not UTF-8 is written as U+FFFD, an octet at a time. */
	static const char *back[8] = {
		[7] = "bad\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdutf8",
	};
	char path[] = "/tmp/test_report.XXXXXX", err[256], scratch[8192];
	struct audit_fields f;
	struct audit *a;
	char *line = NULL;
	size_t cap = 0, i;
	ssize_t n;
	FILE *fp;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	assert_int_equal(audit_open(&a, path, NULL, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct audit_entry e;

		memset(&e, 0, sizeof(e));
		e.time_ms = 1793491200123LL;
		e.qid = "4A1B2C3D4E";
		e.msgid = hostile[i];
		e.list = hostile[i];
		e.class_ = "bulk";
		e.rcpt = "a@example.com";
		e.verdict = "allow";
		e.reason = hostile[i];
		e.outcome = "accepted";
		assert_int_equal(audit_write(a, &e, 1), 0);
	}
	audit_close(a);
	assert_non_null(fp = fopen(path, "r"));
	assert_true(getline(&line, &cap, fp) > 0);	/* the open line */
	for (i = 0; (n = getline(&line, &cap, fp)) > 0; i++) {
		assert_int_equal(audit_scan(line, (size_t)n - 1, scratch,
		    sizeof(scratch), &f, err, sizeof(err)), 0);
		is(f.t, "2026-11-01T00:00:00.123Z");
		is(f.qid, "4A1B2C3D4E");
		is(f.msgid, back[i] != NULL ? back[i] : hostile[i]);
		is(f.list, back[i] != NULL ? back[i] : hostile[i]);
		is(f.reason, back[i] != NULL ? back[i] : hostile[i]);
		is(f.rcpt, "a@example.com");
	}
	assert_int_equal(i, sizeof(hostile) / sizeof(hostile[0]));
	free(line);
	fclose(fp);
	unlink(path);
}

/* ml - maillog_scan() of a C string. */
static int
ml(const char *line, struct maillog_line *m)
{
	return maillog_scan(line, strlen(line), m);
}

static void
test_maillog_delivery(void **state)
{
	struct maillog_line m;

	(void)state;
	assert_int_equal(ml("Nov 26 22:00:01 mx postfix/smtp[123]: 4A1B2C3D4E: "
	    "to=<alice@example.com>, relay=mx.example.org[198.51.100.7]:25, "
	    "delay=1.2, dsn=2.0.0, status=sent (250 2.0.0 Ok)", &m),
	    MAILLOG_DELIVERY);
	assert_int_equal(m.classic, 1);
	is(m.time, "Nov 26 22:00:01");
	is(m.qid, "4A1B2C3D4E");
	is(m.to, "alice@example.com");
	assert_null(m.orig_to.p);
	is(m.status, "sent");
	is(m.relay, "mx.example.org");
	is(m.dsn, "2.0.0");
	is(m.detail, "250 2.0.0 Ok");
	/* A bounce: the remote server's words, parentheses inside kept. */
	assert_int_equal(ml("Nov 26 22:00:02 mx postfix/smtp[123]: 4A1B2C3D4F: "
	    "to=<gone@example.net>, relay=mx.example.net[192.0.2.25]:25, "
	    "delay=0.4, delays=0.1/0/0.2/0.1, dsn=5.1.1, status=bounced (host "
	    "mx.example.net[192.0.2.25] said: 550 5.1.1 <gone@example.net>: "
	    "User unknown (in reply to RCPT TO command))", &m), MAILLOG_DELIVERY);
	is(m.relay, "mx.example.net");
	is(m.dsn, "5.1.1");
	is(m.status, "bounced");
	is(m.detail, "host mx.example.net[192.0.2.25] said: 550 5.1.1 "
	    "<gone@example.net>: User unknown (in reply to RCPT TO command)");
	/* relay=none, no detail: views stay sensible. */
	assert_int_equal(ml("Nov 26 22:00:03 mx postfix/smtp[1]: ABCDE: "
	    "to=<a@nx.example>, relay=none, dsn=5.4.4, status=bounced", &m),
	    MAILLOG_DELIVERY);
	is(m.relay, "none");
	is(m.dsn, "5.4.4");
	assert_null(m.detail.p);
	/* RFC 3339 times, multi-instance names, orig_to, forwarding. */
	assert_int_equal(ml("2026-11-26T22:00:01.123456+00:00 mx "
	    "postfix-out/local[9]: 4A1B2C3D53: to=<fwd@example.com>, "
	    "orig_to=<team@example.com>, relay=local, status=sent "
	    "(forwarded as 4A1B2C3D99)\r", &m), MAILLOG_DELIVERY);
	assert_int_equal(m.classic, 0);
	is(m.time, "2026-11-26T22:00:01.123456+00:00");
	is(m.to, "fwd@example.com");
	is(m.orig_to, "team@example.com");
	is(m.newqid, "4A1B2C3D99");
	/* An address may hold '>': the one before ", " ends it. */
	assert_int_equal(ml("Nov  6 22:00:01 mx postfix/lmtp[1]: ABCDE: "
	    "to=<\"a>b\"@example.com>, status=deferred (x)", &m),
	    MAILLOG_DELIVERY);
	is(m.to, "\"a>b\"@example.com");
	is(m.status, "deferred");
	for (const char *agent = "virtual\0pipe\0smtp\0"; *agent;
	    agent += strlen(agent) + 1) {
		char line[256];

		snprintf(line, sizeof(line), "Nov 26 22:00:01 mx postfix/%s[1]: "
		    "ABCDE: to=<a@b>, status=bounced (x)", agent);
		assert_int_equal(ml(line, &m), MAILLOG_DELIVERY);
	}
}

static void
test_maillog_others(void **state)
{
	struct maillog_line m;

	(void)state;
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/cleanup[7]: 4A1B2C3D4E: "
	    "message-id=  <m1@example.com>", &m), MAILLOG_CLEANUP);
	is(m.msgid, "<m1@example.com>");
	assert_int_equal(ml("Nov 26 22:00:09 mx postfix/bounce[8]: 4A1B2C3D4E: "
	    "sender non-delivery notification: 4A1B2C3D77", &m),
	    MAILLOG_NOTICE);
	is(m.newqid, "4A1B2C3D77");
	/* qmgr's sender: consentctl feedback's proof, not the report's. */
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/qmgr[9]: 4A1B2C3D4E: "
	    "from=<a+fb-x@b>, size=1, nrcpt=1 (queue active)", &m), MAILLOG_QMGR);
	is(m.from, "a+fb-x@b");
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/qmgr[9]: 4A1B2C3D4E: "
	    "from=<>, size=1, nrcpt=1 (queue active)", &m), MAILLOG_QMGR);
	assert_int_equal(m.from.n, 0);
	/* Lines the report does not read, and broken ones. */
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/qmgr[9]: 4A1B2C3D4E: "
	    "removed", &m), MAILLOG_REMOVED);
	is(m.qid, "4A1B2C3D4E");
	/* A milter's reject or discard of the whole message ends it too. */
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/cleanup[7]: 4A1B2C3D4F: "
	    "milter-reject: END-OF-MESSAGE from x[192.0.2.1]: 4.7.1 Consent "
	    "store unavailable; from=<a@b> to=<c@d> proto=ESMTP helo=<x>", &m),
	    MAILLOG_REMOVED);
	is(m.qid, "4A1B2C3D4F");
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/cleanup[7]: 4A1B2C3D4F: "
	    "milter-discard: END-OF-MESSAGE from x[192.0.2.1]: milter triggers "
	    "DISCARD action; from=<a@b> to=<c@d> proto=ESMTP helo=<x>", &m),
	    MAILLOG_REMOVED);
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/cleanup[7]: 4A1B2C3D4F: "
	    "milter-reject: RCPT from x[192.0.2.1]: 5.7.1 no", &m),
	    MAILLOG_OTHER);
	/* Held (a milter's quarantine), and deleted by hand. */
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/cleanup[7]: 4A1B2C3D4F: "
	    "milter-hold: END-OF-MESSAGE from x[192.0.2.1]: milter triggers "
	    "HOLD action; from=<a@b> to=<c@d> proto=ESMTP helo=<x>", &m),
	    MAILLOG_HOLD);
	is(m.qid, "4A1B2C3D4F");
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/cleanup[7]: 4A1B2C3D4F: "
	    "hold: header Subject: x from x[192.0.2.1]; from=<a@b> to=<c@d>",
	    &m), MAILLOG_HOLD);
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/postsuper[5]: "
	    "4A1B2C3D4F: removed", &m), MAILLOG_REMOVED);
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/postsuper[5]: "
	    "4A1B2C3D4F: released from hold", &m), MAILLOG_OTHER);
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/qmgr[9]: 4A1B2C3D4E: "
	    "from=a@b, size=1", &m), MAILLOG_OTHER);
	assert_int_equal(ml("Nov 26 22:00:00 mx dovecot[9]: 4A1B2C3D4E: "
	    "to=<a@b>, status=sent", &m), MAILLOG_OTHER);
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/smtp[1]: ABCD: "
	    "to=<a@b>, status=sent", &m), MAILLOG_OTHER);	/* short qid */
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/smtp[1]: ABCDE: "
	    "to=a@b, status=sent", &m), MAILLOG_OTHER);
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/smtp[1]: ABCDE: "
	    "to=<a@b>", &m), MAILLOG_OTHER);			/* no status */
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/smtp[1: ABCDE: "
	    "to=<a@b>, status=sent", &m), MAILLOG_OTHER);
	assert_int_equal(ml("Nov 26 22:00:00 mx postfix/cleanup[7]: ABCDE: "
	    "message-ID=<x>", &m), MAILLOG_OTHER);
	assert_int_equal(ml("2026-11-26 22:00:00 mx postfix/smtp[1]: ABCDE: "
	    "to=<a@b>, status=sent", &m), MAILLOG_OTHER);
	assert_int_equal(ml("short", &m), MAILLOG_OTHER);
	assert_int_equal(ml("", &m), MAILLOG_OTHER);
	assert_int_equal(maillog_scan("Nov 26 22:00:00 mx postfix/smtp[1]: ABCDE: "
	    "to=<a@b>, status=sent", 40, &m), MAILLOG_OTHER);	/* cut */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_fields),
		cmocka_unit_test(test_audit_escapes),
		cmocka_unit_test(test_audit_refused),
		cmocka_unit_test(test_audit_pair),
		cmocka_unit_test(test_maillog_delivery),
		cmocka_unit_test(test_maillog_others),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
