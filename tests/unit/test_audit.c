/*
 * test_audit.c - the audit trail: lines chain, a reopened log continues
 * the chain, a rotated series verifies across files, and a deleted,
 * edited, reordered or torn line is named by audit_verify.  A write cut
 * short (RLIMIT_FSIZE stands in for a full disk: deterministic, and no
 * root needed) leaves whole lines only, and a gap line that verify names.
 */
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <linux/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
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

/* The gap lines verify named, and the last of them. */
static unsigned long ngaps;
static struct audit_gap last_gap;

static void
on_gap(void *arg, const struct audit_gap *g)
{
	(void)arg;
	ngaps++;
	last_gap = *g;
}

static int
verify(const char *path, unsigned long *bad)
{
	char chain[AUDIT_HASH_HEX], err[256];
	unsigned long n;
	int have = 0, rc;
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	ngaps = 0;
	memset(&last_gap, 0, sizeof(last_gap));
	rc = audit_verify(fp, chain, &have, &n, bad, on_gap, NULL, err,
	    sizeof(err));
	fclose(fp);
	return rc;
}

/* Every line of path is whole: ends in "}\n", no torn bytes. */
static void
assert_whole_lines(const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	while ((n = getline(&line, &cap, fp)) != -1)
		if (n < 3 || strcmp(line + n - 3, "\"}\n") != 0)
			fail_msg("not a whole line: %s", line);
	free(line);
	fclose(fp);
}

static off_t
file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/*
 * Write one entry with the file size limited to limit octets (the rest of
 * the line fails as on a full disk: EFBIG, SIGXFSZ ignored).  The limit
 * is lifted before anything else is written, test output included.
 */
static int
write_limited(struct audit *a, int i, off_t limit, int *err)
{
	struct rlimit old, lim;
	struct audit_entry e;
	int rc;

	entry(&e, i);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)limit;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = audit_write(a, &e, 1);
	*err = errno;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
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
		{ "6s/}$/~/", 6 },			/* pass a line off as torn */
		{ "3i {\"v\":1,\"t~", 3 },		/* add a torn line */
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
	assert_int_equal(audit_verify(fp, chain, &have, &n, &bad, NULL, NULL,
	    err, sizeof(err)), 0);
	fclose(fp);
	fp = fopen(p1, "r");
	assert_int_equal(audit_verify(fp, chain, &have, &n, &bad, NULL, NULL,
	    err, sizeof(err)), 0);
	fclose(fp);
	/* The other order breaks at the first line of the second file. */
	have = 0;
	fp = fopen(p1, "r");
	assert_int_equal(audit_verify(fp, chain, &have, &n, &bad, NULL, NULL,
	    err, sizeof(err)), 0);
	fclose(fp);
	fp = fopen(p2, "r");
	assert_int_equal(audit_verify(fp, chain, &have, &n, &bad, NULL, NULL,
	    err, sizeof(err)), -1);
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
	/* A half line (a crash mid-write, say): reported... */
	fp = fopen(path, "a");
	fputs("{\"v\":1,\"t\":\"2023", fp);
	fclose(fp);
	assert_int_equal(verify(path, &bad), -1);
	assert_int_equal(bad, 5);
	/* ...cut off by the next writer, which names the gap first. */
	write_lines(path, 3, 5);
	assert_whole_lines(path);
	assert_int_equal(verify(path, &bad), 0);
	assert_int_equal(ngaps, 1);
	assert_int_equal(last_gap.line, 5);
	assert_true(last_gap.crash);
	assert_true(last_gap.torn);
	assert_int_equal(last_gap.removed, 16);
	assert_int_equal(last_gap.kept, 0);
	assert_int_equal(last_gap.at, last_gap.offset);
	unlink(path);
}

static void
test_short_write(void **state)
{
	char path[] = "/tmp/test_audit.XXXXXX", before[8192], after[8192];
	unsigned long bad;
	struct audit *a;
	struct audit_entry e;
	char err[256];
	off_t size;
	int errnum;
	FILE *fp;

	(void)state;
	close(mkstemp(path));
	unlink(path);
	if (audit_open(&a, path, key, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	for (int i = 0; i < 3; i++) {
		entry(&e, i);
		assert_int_equal(audit_write(a, &e, 1), 0);
	}
	size = file_size(path);
	fp = fopen(path, "r");
	memset(before, 0, sizeof(before));
	assert_int_equal(fread(before, 1, sizeof(before), fp), (size_t)size);
	fclose(fp);
	/* The disk fills 100 octets into the next line: the write fails... */
	assert_int_equal(write_limited(a, 3, size + 100, &errnum), -1);
	assert_int_equal(errnum, EFBIG);
	/* ...and the file is exactly as it was. */
	assert_int_equal(file_size(path), size);
	fp = fopen(path, "r");
	memset(after, 0, sizeof(after));
	assert_int_equal(fread(after, 1, sizeof(after), fp), (size_t)size);
	fclose(fp);
	assert_memory_equal(before, after, (size_t)size);
	assert_int_equal(verify(path, &bad), 0);
	assert_int_equal(ngaps, 0);
	/* Nothing fits at all: lost too, nothing written. */
	assert_int_equal(write_limited(a, 4, size, &errnum), -1);
	assert_int_equal(file_size(path), size);
	/* Space again: a gap line, then the line; the chain holds. */
	entry(&e, 5);
	assert_int_equal(audit_write(a, &e, 1), 0);
	audit_close(a);
	assert_whole_lines(path);
	assert_int_equal(verify(path, &bad), 0);
	assert_int_equal(ngaps, 1);
	assert_int_equal(last_gap.line, 5);
	assert_int_equal(last_gap.offset, (unsigned long long)size);
	assert_int_equal(last_gap.lost, 2);
	assert_string_equal(last_gap.since, "2023-11-14T22:13:20.003Z");
	assert_string_equal(last_gap.until, "2023-11-14T22:13:20.004Z");
	assert_string_equal(last_gap.error, strerror(EFBIG));
	assert_false(last_gap.crash);
	assert_false(last_gap.torn);
	/* A restart continues the chain after the gap. */
	write_lines(path, 6, 7);
	assert_int_equal(verify(path, &bad), 0);
	assert_int_equal(ngaps, 1);
	unlink(path);
}

static void
test_gap_across_rotation(void **state)
{
	char p1[] = "/tmp/test_audit1.XXXXXX", p2[] = "/tmp/test_audit2.XXXXXX";
	char chain[AUDIT_HASH_HEX], err[256], cmd[256];
	unsigned long n, bad;
	struct audit *a;
	struct audit_entry e;
	int have = 0, errnum;
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
	assert_int_equal(write_limited(a, 2, file_size(p1) + 10, &errnum), -1);
	/* Rotated before the next decision: the gap goes in the old file. */
	snprintf(cmd, sizeof(cmd), "mv %s %s", p1, p2);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(audit_reopen(a, err, sizeof(err)), 0);
	entry(&e, 3);
	assert_int_equal(audit_write(a, &e, 1), 0);
	audit_close(a);
	assert_int_equal(verify(p2, &bad), 0);
	assert_int_equal(ngaps, 1);
	assert_int_equal(last_gap.line, 3);
	assert_int_equal(last_gap.lost, 1);
	assert_int_equal(verify(p1, &bad), 0);
	assert_int_equal(ngaps, 0);
	/* And the series verifies across the two. */
	fp = fopen(p2, "r");
	assert_int_equal(audit_verify(fp, chain, &have, &n, &bad, NULL, NULL,
	    err, sizeof(err)), 0);
	fclose(fp);
	fp = fopen(p1, "r");
	assert_int_equal(audit_verify(fp, chain, &have, &n, &bad, NULL, NULL,
	    err, sizeof(err)), 0);
	fclose(fp);
	unlink(p1);
	unlink(p2);
}

static void
test_foreign_tail_kept(void **state)
{
	char path[] = "/tmp/test_audit.XXXXXX", buf[16384];
	static char text[8192];
	unsigned long bad;
	size_t len;
	FILE *fp;

	(void)state;
	close(mkstemp(path));
	unlink(path);
	/* audit.file names a file that is not an audit log: nothing of it is cut. */
	strcpy(text, "Dec  1 22:06:39 mx postfix/smtpd[1]: connect\n");
	len = strlen(text);
	memset(text + len, 'x', AUDIT_LINE_MAX + 10);
	len += AUDIT_LINE_MAX + 10;
	fp = fopen(path, "w");
	assert_int_equal(fwrite(text, 1, len, fp), len);
	fclose(fp);
	write_lines(path, 0, 1);
	fp = fopen(path, "r");
	assert_true(fread(buf, 1, sizeof(buf), fp) > len);
	fclose(fp);
	assert_memory_equal(buf, text, len);
	assert_int_equal(verify(path, &bad), -1);
	assert_int_equal(bad, 1);
	unlink(path);
	/* Nor a short last line that does not start as ours do. */
	fp = fopen(path, "w");
	fputs("Dec  1 22:06:39 mx postfix/smtpd[1]: conn", fp);
	fclose(fp);
	write_lines(path, 0, 1);
	fp = fopen(path, "r");
	memset(buf, 0, sizeof(buf));
	assert_true(fread(buf, 1, sizeof(buf) - 1, fp) > 0);
	fclose(fp);
	assert_true(strncmp(buf, "Dec  1 22:06:39 mx postfix/smtpd[1]: conn~\n",
	    43) == 0);
	unlink(path);
}

/* Set or clear the append-only flag (chattr +a); -1 where not allowed. */
static int
append_only(const char *path, int on)
{
	int fd = open(path, O_RDONLY), flags, rc = -1;

	if (fd == -1)
		return -1;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		flags = on ? flags | FS_APPEND_FL : flags & ~FS_APPEND_FL;
		rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
	return rc;
}

/* The append-only file: a failed test must not leave it undeletable. */
static char ao_path[64];

static int
append_only_teardown(void **state)
{
	(void)state;
	if (ao_path[0] != '\0') {
		(void)append_only(ao_path, 0);
		unlink(ao_path);
		ao_path[0] = '\0';
	}
	return 0;
}

static void
test_short_write_append_only(void **state)
{
	char *path = ao_path, cmd[256];
	unsigned long bad;
	struct audit *a;
	struct audit_entry e;
	char err[256];
	off_t size;
	int errnum;
	FILE *fp;

	(void)state;
	strcpy(path, "/tmp/test_audit.XXXXXX");
	close(mkstemp(path));
	unlink(path);
	write_lines(path, 0, 3);
	if (append_only(path, 1) == -1)
		skip();		/* needs root and a file system with chattr +a */
	if (audit_open(&a, path, key, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	size = file_size(path);
	/* Cut short, and the torn bytes cannot be cut off. */
	assert_int_equal(write_limited(a, 3, size + 100, &errnum), -1);
	assert_int_equal(file_size(path), size + 100);
	assert_int_equal(verify(path, &bad), -1);
	assert_int_equal(bad, 6);
	/* The next write ends them with '~' and names them in a gap line. */
	entry(&e, 4);
	assert_int_equal(audit_write(a, &e, 1), 0);
	audit_close(a);
	assert_int_equal(verify(path, &bad), 0);
	assert_int_equal(ngaps, 1);
	assert_int_equal(last_gap.line, 7);
	assert_int_equal(last_gap.lost, 1);
	assert_true(last_gap.torn);
	assert_int_equal(last_gap.at, (unsigned long long)size);
	assert_int_equal(last_gap.kept, 102);
	assert_int_equal(last_gap.removed, 0);
	assert_int_equal(last_gap.torn_first, 6);
	assert_int_equal(last_gap.torn_last, 6);
	/* A crash mid-line on an append-only file: named the same way. */
	fp = fopen(path, "a");
	fputs("{\"v\":1,\"t\":\"2023", fp);
	fclose(fp);
	write_lines(path, 5, 6);
	assert_int_equal(verify(path, &bad), 0);
	assert_int_equal(ngaps, 2);
	assert_true(last_gap.crash);
	assert_int_equal(last_gap.kept, 18);
	assert_int_equal(last_gap.torn_first, 9);
	/* A kept torn line is covered by its gap line's hash. */
	assert_int_equal(append_only(path, 0), 0);
	snprintf(cmd, sizeof(cmd), "sed -i '6s/\"v\":1/\"v\":2/' %s", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(verify(path, &bad), -1);
	assert_int_equal(bad, 6);
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
	/* A write past RLIMIT_FSIZE fails with EFBIG instead of killing us. */
	signal(SIGXFSZ, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_and_reopen),
		cmocka_unit_test(test_tampering_named),
		cmocka_unit_test(test_rotated_series),
		cmocka_unit_test(test_torn_tail),
		cmocka_unit_test(test_short_write),
		cmocka_unit_test(test_gap_across_rotation),
		cmocka_unit_test(test_foreign_tail_kept),
		cmocka_unit_test_teardown(test_short_write_append_only,
		    append_only_teardown),
		cmocka_unit_test(test_pseudonym),
		cmocka_unit_test(test_plain_long_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
