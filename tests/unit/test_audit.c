/*
 * test_audit.c - the audit trail: lines chain, a reopened log continues
 * the chain, a rotated series verifies across files, and a deleted,
 * edited, reordered or torn line is named by audit_verify.
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

static const unsigned char key[AUDIT_KEY_BYTES] = "0123456789abcdef0123456789abcde";

static void
entry(struct audit_entry *e, int i)
{
	static char rcpt[64], qid[32];

	memset(e, 0, sizeof(*e));
	snprintf(rcpt, sizeof(rcpt), "user%d@example.com", i);
	snprintf(qid, sizeof(qid), "Q%d", i);
	e->time_ms = 1700000000000LL + i;
	e->qid = qid;
	e->msgid = "<m\"1@example.com>";
	e->sender = "news@example.com";
	e->list = "news";
	e->class_ = "bulk";
	e->rcpt = rcpt;
	e->verdict = i % 2 ? "deny" : "allow";
	e->reason = i % 2 ? "unsubscribed" : "confirmed";
	e->action = i % 2 ? "reject" : "none";
	e->stage = "rcpt";
	e->ev_kind = "consent";
	e->ev_value = i % 2 ? "unsubscribed" : "confirmed";
	e->ev_source = "form";
	e->ev_time = 1690000000;
}

static void
write_lines(const char *path, int from, int to)
{
	struct audit *a;
	struct audit_entry e;
	char err[256];

	if (audit_open(&a, path, key, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	for (int i = from; i < to; i++) {
		entry(&e, i);
		assert_int_equal(audit_write(a, &e, 1), 0);
	}
	audit_close(a);
}

static int
verify(const char *path, unsigned long *bad)
{
	char chain[AUDIT_HASH_HEX], err[256];
	unsigned long n;
	int have = 0, rc;
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	rc = audit_verify(fp, chain, &have, &n, bad, err, sizeof(err));
	fclose(fp);
	return rc;
}

/* Rewrite path through a shell command (sed), for tampering. */
static void
tamper(const char *path, const char *sedexpr)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "sed -i '%s' %s", sedexpr, path);
	assert_int_equal(system(cmd), 0);
}

static void
test_chain_and_reopen(void **state)
{
	char path[] = "/tmp/test_audit.XXXXXX";
	unsigned long bad;
	int fd = mkstemp(path);
	char buf[8192];
	FILE *fp;

	(void)state;
	close(fd);
	unlink(path);
	write_lines(path, 0, 10);
	write_lines(path, 10, 20);	/* a restart: an open line, same chain */
	assert_int_equal(verify(path, &bad), 0);
	/* 2 open lines + 20 decisions; addresses pseudonymised, JSON escaped. */
	fp = fopen(path, "r");
	assert_non_null(fp);
	memset(buf, 0, sizeof(buf));
	assert_true(fread(buf, 1, sizeof(buf) - 1, fp) > 0);
	fclose(fp);
	assert_null(strstr(buf, "user1@example.com"));
	assert_non_null(strstr(buf, "\"rcpt\":\"h:"));
	assert_non_null(strstr(buf, "\"msgid\":\"<m\\\"1@example.com>\""));
	assert_non_null(strstr(buf, "\"t\":\"2023-11-14T22:13:20.001Z\""));
	unlink(path);
}

static void
test_tampering_named(void **state)
{
	static const struct {
		const char *sed;
		unsigned long line;
	} cases[] = {
		{ "5d", 5 },				/* delete line 5 */
		{ "7s/deny/allow/", 7 },		/* edit line 7 */
		{ "4{h;d};5{G}", 4 },			/* swap lines 4 and 5 */
		{ "1d", 1 },				/* delete the open line */
		{ "$s/}$/,}/", 12 },			/* damage the last line */
	};
	char path[] = "/tmp/test_audit.XXXXXX";
	unsigned long bad;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = mkstemp(path);

		close(fd);
		unlink(path);
		write_lines(path, 0, 11);
		assert_int_equal(verify(path, &bad), 0);
		tamper(path, cases[i].sed);
		assert_int_equal(verify(path, &bad), -1);
		if (bad != cases[i].line)
			fail_msg("case %zu (%s): named line %lu, wanted %lu", i,
			    cases[i].sed, bad, cases[i].line);
		unlink(path);
		strcpy(path, "/tmp/test_audit.XXXXXX");
	}
}

static void
test_rotated_series(void **state)
{
	char p1[] = "/tmp/test_audit1.XXXXXX", p2[] = "/tmp/test_audit2.XXXXXX";
	char chain[AUDIT_HASH_HEX], err[256], cmd[256];
	unsigned long n, bad;
	int have = 0;
	struct audit *a;
	struct audit_entry e;
	FILE *fp;

	(void)state;
	close(mkstemp(p1));
	unlink(p1);
	close(mkstemp(p2));
	unlink(p2);
	if (audit_open(&a, p1, key, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	entry(&e, 1);
	assert_int_equal(audit_write(a, &e, 1), 0);
	/* logrotate moves the file; SIGUSR1 makes the writer reopen. */
	snprintf(cmd, sizeof(cmd), "mv %s %s", p1, p2);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(audit_reopen(a, err, sizeof(err)), 0);
	entry(&e, 2);
	assert_int_equal(audit_write(a, &e, 1), 0);
	audit_close(a);
	/* Older file first: the chain runs across both. */
	fp = fopen(p2, "r");
	assert_int_equal(audit_verify(fp, chain, &have, &n, &bad, err,
	    sizeof(err)), 0);
	fclose(fp);
	fp = fopen(p1, "r");
	assert_int_equal(audit_verify(fp, chain, &have, &n, &bad, err,
	    sizeof(err)), 0);
	fclose(fp);
	/* The other order breaks at the first line of the second file. */
	have = 0;
	fp = fopen(p1, "r");
	assert_int_equal(audit_verify(fp, chain, &have, &n, &bad, err,
	    sizeof(err)), 0);
	fclose(fp);
	fp = fopen(p2, "r");
	assert_int_equal(audit_verify(fp, chain, &have, &n, &bad, err,
	    sizeof(err)), -1);
	assert_int_equal(bad, 1);
	fclose(fp);
	unlink(p1);
	unlink(p2);
}

static void
test_torn_tail(void **state)
{
	char path[] = "/tmp/test_audit.XXXXXX";
	unsigned long bad;
	FILE *fp;

	(void)state;
	close(mkstemp(path));
	unlink(path);
	write_lines(path, 0, 3);
	/* A half line (a full disk, say): reported... */
	fp = fopen(path, "a");
	fputs("{\"v\":1,\"t\":\"2023", fp);
	fclose(fp);
	assert_int_equal(verify(path, &bad), -1);
	assert_int_equal(bad, 5);
	/* ...and a writer never appends onto it. */
	write_lines(path, 3, 5);
	assert_int_equal(verify(path, &bad), -1);
	assert_int_equal(bad, 5);
	unlink(path);
}

static void
test_pseudonym(void **state)
{
	char a[AUDIT_PSEUDO_MAX], b[AUDIT_PSEUDO_MAX];
	unsigned char other[AUDIT_KEY_BYTES] = { 1 };

	(void)state;
	audit_pseudonym(key, "a@example.com", a);
	audit_pseudonym(key, "a@example.com", b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 34);
	audit_pseudonym(other, "a@example.com", b);
	assert_string_not_equal(a, b);
	audit_pseudonym(key, "b@example.com", b);
	assert_string_not_equal(a, b);
}

static void
test_plain_long_address(void **state)
{
	char path[] = "/tmp/test_audit.XXXXXX", addr[300], buf[8192], want[320];
	struct audit *a;
	struct audit_entry e;
	char err[256];
	FILE *fp;

	(void)state;
	close(mkstemp(path));
	unlink(path);
	/* 64-octet local part, long domain: far past a pseudonym's length. */
	memset(addr, 'x', 64);
	strcpy(addr + 64, "@a-rather-long-subdomain.of-an-organisation.example.com");
	if (audit_open(&a, path, NULL, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	entry(&e, 1);
	e.rcpt = addr;
	assert_int_equal(audit_write(a, &e, 1), 0);
	audit_close(a);
	fp = fopen(path, "r");
	memset(buf, 0, sizeof(buf));
	assert_true(fread(buf, 1, sizeof(buf) - 1, fp) > 0);
	fclose(fp);
	snprintf(want, sizeof(want), "\"rcpt\":\"%s\"", addr);
	assert_non_null(strstr(buf, want));
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_and_reopen),
		cmocka_unit_test(test_tampering_named),
		cmocka_unit_test(test_rotated_series),
		cmocka_unit_test(test_torn_tail),
		cmocka_unit_test(test_pseudonym),
		cmocka_unit_test(test_plain_long_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
