/*
 * test_seal.c - sealed audit checkpoints: the key's evolution (and that
 * the key file keeps no old key), the checkpoint format, the verifier
 * string, and a log sealed on a fake clock through busy and idle epochs,
 * a downtime, a crash between sealing and evolving, and a rotation.
 * Then each attack named in README "Sealed checkpoints": an edited,
 * removed or reordered line (chain recomputed), a log cut and continued,
 * cut with nothing after, re-sealed with a stolen current key (journald's
 * CVE-2023-31439), rewritten whole with a fresh chain, an idle epoch left
 * unsealed (CVE-2023-31438), and the witness copy against each.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/audit.h"
#include "core/seal.h"
#include "core/seal_verify.h"
#include "core/sealer.h"
#include "fixture.h"

#define IV	10		/* seconds an epoch, in these tests */

static const unsigned char pkey[AUDIT_KEY_BYTES] = "0123456789abcdef0123456789abcde";

/* One test's files, its verifier key and its clock. */
struct env {
	char	dir[64], key[128], log[128], wit[128];
	struct seal_verifier v;
	int64_t	t0;		/* start of epoch 0 */
	struct audit *a;
	struct sealer *s;
	int	seq;
};

/* What the last verification found. */
#define FINDINGS_MAX	64
static struct seal_finding found[FINDINGS_MAX];
static unsigned nfound;
static struct seal_summary summary;

static void
on_finding(void *arg, const struct seal_finding *f)
{
	(void)arg;
	if (getenv("SEAL_DEBUG") != NULL)
		fprintf(stderr, "  %s %s:%lu %s\n", f->what, f->file, f->line,
		    f->text);
	if (nfound < FINDINGS_MAX)
		found[nfound++] = *f;
}

/* has - 1 if a finding of kind what (at level) was made. */
static int
has(const char *what, int level)
{
	for (unsigned i = 0; i < nfound; i++)
		if (strcmp(found[i].what, what) == 0 && found[i].level == level)
			return 1;
	return 0;
}

static int64_t
ms(const struct env *e, double off)
{
	return (int64_t)((double)e->t0 * 1000 + off * 1000);
}

static void
env_open_sealer(struct env *e)
{
	struct seal_keyfile *kf;
	char err[512];

	if (seal_key_open(&kf, e->key, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	if (sealer_open(&e->s, kf, e->a, e->log, e->wit, err, sizeof(err)) == -1)
		fail_msg("%s", err);
}

static void
env_open_log(struct env *e)
{
	char err[512];

	if (audit_open(&e->a, e->log, pkey, err, sizeof(err)) == -1)
		fail_msg("%s", err);
}

static void
env_setup(struct env *e)
{
	char err[512];
	int64_t now = time(NULL);

	memset(e, 0, sizeof(*e));
	fixture_dir_make("test_seal", e->dir, sizeof(e->dir));
	snprintf(e->key, sizeof(e->key), "%s/seal.key", e->dir);
	snprintf(e->log, sizeof(e->log), "%s/audit.log", e->dir);
	snprintf(e->wit, sizeof(e->wit), "%s/checkpoints", e->dir);
	if (seal_key_create(e->key, now, IV, &e->v, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	e->t0 = e->v.t0;
	env_open_log(e);
	env_open_sealer(e);
}

static void
env_close(struct env *e)
{
	sealer_close(e->s);
	e->s = NULL;
	audit_close(e->a);
	e->a = NULL;
}

static void
env_teardown(struct env *e)
{
	env_close(e);
	assert_int_equal(fixture_dir_remove(e->dir), 0);
}

/* decide - one decision line at off seconds into the test's time. */
static void
decide(struct env *e, double off)
{
	struct audit_entry x;
	char rcpt[64], qid[32];

	memset(&x, 0, sizeof(x));
	snprintf(rcpt, sizeof(rcpt), "user%d@example.com", e->seq);
	snprintf(qid, sizeof(qid), "Q%d", e->seq++);
	x.time_ms = ms(e, off);
	x.qid = qid;
	x.sender = "news@example.com";
	x.list = "news";
	x.class_ = "bulk";
	x.rcpt = rcpt;
	x.verdict = "allow";
	x.reason = "confirmed";
	x.action = "none";
	x.stage = "rcpt";
	assert_int_equal(audit_write(e->a, &x, 1), 0);
}

static int
tick(struct env *e, double off)
{
	char err[512];
	int rc = sealer_tick(e->s, ms(e, off), err, sizeof(err));

	if (rc == -1)
		fail_msg("%s", err);
	return rc;
}

/*
 * build - four epochs: two busy, one idle (sealed all the same), one
 * busy, and a line of the fifth, unsealed yet.
 */
static void
build(struct env *e)
{
	assert_int_equal(tick(e, 1), 0);	/* epoch 0 is not over */
	decide(e, 1);
	decide(e, 2);
	assert_int_equal(tick(e, 10.5), 1);	/* epoch 0 */
	assert_int_equal(tick(e, 10.9), 0);
	decide(e, 12);
	decide(e, 15);
	assert_int_equal(tick(e, 20.2), 1);	/* epoch 1 */
	assert_int_equal(tick(e, 30.1), 1);	/* epoch 2: no lines */
	decide(e, 33);
	assert_int_equal(tick(e, 40.3), 1);	/* epoch 3 */
	decide(e, 41);
	assert_int_equal(sealer_epoch(e->s), 4);
}

/*
 * verify - the files (NULL-ended) with the verifier key, the witness
 * file if wit is set, at off seconds; the number of failures.  -1 if the
 * chain itself is broken.
 */
static int
verify_at(struct env *e, double off, const char *wit, ...)
{
	struct seal_verify *sv;
	char chain[AUDIT_HASH_HEX], err[512];
	unsigned long n, bad;
	int have = 0, rc = 0;
	const char *path;
	va_list ap;

	nfound = 0;
	memset(&summary, 0, sizeof(summary));
	assert_int_equal(seal_verify_new(&sv, &e->v, e->t0 + (int64_t)off,
	    on_finding, NULL), 0);
	va_start(ap, wit);
	while (rc == 0 && (path = va_arg(ap, const char *)) != NULL) {
		FILE *fp = fopen(path, "r");

		assert_non_null(fp);
		seal_verify_file(sv, path);
		if (audit_verify_lines(fp, chain, &have, &n, &bad, NULL,
		    seal_verify_line, sv, err, sizeof(err)) == -1)
			rc = -1;
		fclose(fp);
	}
	va_end(ap);
	if (rc == 0 && wit != NULL) {
		FILE *fp = fopen(wit, "r");

		assert_non_null(fp);
		assert_int_equal(seal_verify_witness(sv, fp, wit), 0);
		fclose(fp);
	}
	seal_verify_end(sv, &summary);
	seal_verify_free(sv);
	return rc == -1 ? -1 : (int)summary.failures;
}

/* --- the log as lines, for the attacks ---------------------------------- */

struct lines {
	char	*v[256];
	size_t	n;
};

static void
lines_read(const char *path, struct lines *l)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;

	assert_non_null(fp);
	l->n = 0;
	while (getline(&line, &cap, fp) != -1) {
		assert_true(l->n < 256);
		l->v[l->n++] = strdup(line);
	}
	free(line);
	fclose(fp);
}

static void
lines_write(const char *path, struct lines *l)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	for (size_t i = 0; i < l->n; i++) {
		fputs(l->v[i], fp);
		free(l->v[i]);
	}
	fclose(fp);
	l->n = 0;
}

static void
lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

/* chain_of - the chain value of line i (its last 64 hex digits). */
static const char *
chain_of(const struct lines *l, size_t i, char out[65])
{
	size_t n = strlen(l->v[i]);

	memcpy(out, l->v[i] + n - 3 - 64, 64);
	out[64] = '\0';
	return out;
}

/* set_chain - line i chained from prev, as the writer would. */
static void
set_chain(struct lines *l, size_t i, const char *prev)
{
	unsigned char h[32];
	char hexs[65], *tag = strstr(l->v[i], ",\"chain\":\"");
	crypto_hash_sha256_state st;

	assert_non_null(tag);
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)prev, 64);
	crypto_hash_sha256_update(&st, (const unsigned char *)l->v[i],
	    (size_t)(tag - l->v[i]));
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(hexs, sizeof(hexs), h, sizeof(h));
	memcpy(tag + 10, hexs, 64);
}

/* rechain - recompute every chain value from line i on (a forger's work). */
static void
rechain(struct lines *l, size_t from)
{
	char prev[65];

	for (size_t i = from; i < l->n; i++) {
		if (i == 0) {
			const char *p = strstr(l->v[0], "\"prev\":\"");

			assert_non_null(p);
			memcpy(prev, p + 8, 64);
			prev[64] = '\0';
		} else
			chain_of(l, i - 1, prev);
		set_chain(l, i, prev);
	}
}

/* replace - line i becomes text (a whole line with its newline). */
static void
replace(struct lines *l, size_t i, const char *text)
{
	free(l->v[i]);
	l->v[i] = strdup(text);
}

/* drop - remove line i. */
static void
drop(struct lines *l, size_t i)
{
	free(l->v[i]);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(l->v[0]));
	l->n--;
}

/* seal_at - the index of the k-th seal line (0-based), or fail. */
static size_t
seal_at(const struct lines *l, int k)
{
	for (size_t i = 0; i < l->n; i++)
		if (strncmp(l->v[i], "{\"v\":1,\"type\":\"seal\"", 20) == 0 &&
		    k-- == 0)
			return i;
	fail_msg("no seal %d", k);
	return 0;
}

/*
 * reseal - line i (a seal) made again over the lines as they now are,
 * under key k (a key taken from the host), with its chain recomputed
 * onward afterwards by the caller.
 */
static void
reseal(struct lines *l, size_t i, const unsigned char k[SEAL_KEY_BYTES],
    int64_t epoch, const struct env *e)
{
	struct seal_point p;
	unsigned char mac[SEAL_MAC_BYTES];
	char text[1024], prev[65];
	size_t n;

	assert_int_equal(seal_parse(l->v[i], strlen(l->v[i]), &p, mac), 0);
	if (epoch >= 0) {
		p.epoch = p.through = (uint64_t)epoch;
		p.start = seal_epoch_start(e->t0, IV, p.epoch);
		p.end = p.start + IV;
		p.sealed_ms = p.end * 1000 + 100;
	}
	p.lines = i;
	chain_of(l, i - 1, prev);
	memcpy(p.head, prev, sizeof(p.head));
	seal_mac(k, &p, mac);
	n = seal_format(&p, mac, text, sizeof(text));
	assert_true(n > 0);
	snprintf(text + n, sizeof(text) - n, ",\"chain\":\"%064d\"}\n", 0);
	replace(l, i, text);
}

/* --- the pure parts ----------------------------------------------------- */

static void
test_evolve(void **state)
{
	struct seal_verifier v;
	struct seal_cursor c;
	unsigned char k[SEAL_KEY_BYTES], k5[SEAL_KEY_BYTES], k2[SEAL_KEY_BYTES];

	(void)state;
	randombytes_buf(v.k0, sizeof(v.k0));
	v.t0 = 0;
	v.interval = IV;
	seal_evolve(v.k0, k);
	assert_memory_not_equal(k, v.k0, SEAL_KEY_BYTES);
	for (int i = 0; i < 4; i++)
		seal_evolve(k, k);
	seal_cursor_init(&c, &v);
	seal_key_at(&v, &c, 5, k5);
	assert_memory_equal(k, k5, SEAL_KEY_BYTES);
	assert_int_equal(c.epoch, 5);
	/* Backwards: from K_0 again. */
	seal_key_at(&v, &c, 2, k2);
	seal_key_at(&v, NULL, 2, k);
	assert_memory_equal(k, k2, SEAL_KEY_BYTES);
	assert_memory_not_equal(k2, k5, SEAL_KEY_BYTES);
	assert_int_equal(seal_epoch_at(100, 10, 99), 0);
	assert_int_equal(seal_epoch_at(100, 10, 125), 2);
	assert_int_equal(seal_epoch_start(100, 10, 2), 120);
}

/* contains - 1 if the file at path holds the n octets of b anywhere. */
static int
contains(const char *path, const unsigned char *b, size_t n)
{
	unsigned char buf[16384];
	int fd = open(path, O_RDONLY);
	ssize_t len;

	assert_true(fd >= 0);
	len = read(fd, buf, sizeof(buf));
	close(fd);
	assert_true(len > 0);
	return memmem(buf, (size_t)len, b, n) != NULL;
}

static void
slurp(const char *path, unsigned char *buf, size_t cap, size_t *n)
{
	int fd = open(path, O_RDONLY);
	ssize_t len;

	assert_true(fd >= 0);
	len = read(fd, buf, cap);
	close(fd);
	assert_true(len > 0);
	*n = (size_t)len;
}

static void
spill(const char *path, const unsigned char *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
}

/*
 * The key file: one key, never overwritten by keygen, owner-only, and
 * once evolved it holds no earlier key anywhere in it; a crash between
 * writing the new slot and erasing the old leaves the new one, and the
 * next open erases the old.
 */
static void
test_keyfile(void **state)
{
	struct seal_verifier v, v2;
	struct seal_keyfile *kf;
	unsigned char k[4][SEAL_KEY_BYTES], before[16384], after[16384];
	char dir[64], path[128], err[512];
	size_t nb, na;

	(void)state;
	fixture_dir_make("test_seal", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/seal.key", dir);
	assert_int_equal(seal_key_create(path, 1000007, IV, &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v.t0, 1000000);
	assert_int_equal(seal_key_create(path, 1000007, IV, &v2, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "exists"));
	assert_int_equal(seal_key_open(&kf, path, err, sizeof(err)), 0);
	assert_int_equal(seal_keyfile_key(kf)->epoch, 0);
	assert_memory_equal(seal_keyfile_key(kf)->key, v.k0, SEAL_KEY_BYTES);
	memcpy(k[0], v.k0, SEAL_KEY_BYTES);
	for (int i = 1; i < 4; i++)
		seal_evolve(k[i - 1], k[i]);
	assert_int_equal(seal_key_advance(kf, 3, err, sizeof(err)), 0);
	assert_memory_equal(seal_keyfile_key(kf)->key, k[3], SEAL_KEY_BYTES);
	seal_key_close(kf);
	/* The current key is there; no earlier one is, in either slot. */
	assert_true(contains(path, k[3], SEAL_KEY_BYTES));
	for (int i = 0; i < 3; i++)
		assert_false(contains(path, k[i], SEAL_KEY_BYTES));
	assert_int_equal(seal_key_open(&kf, path, err, sizeof(err)), 0);
	assert_int_equal(seal_keyfile_key(kf)->epoch, 3);
	seal_key_close(kf);

	/* A crash between the two writes: both slots good, the newer wins. */
	slurp(path, before, sizeof(before), &nb);
	assert_int_equal(seal_key_open(&kf, path, err, sizeof(err)), 0);
	assert_int_equal(seal_key_advance(kf, 4, err, sizeof(err)), 0);
	seal_key_close(kf);
	slurp(path, after, sizeof(after), &na);
	assert_int_equal(na, nb);
	/* The slot just erased, as it was before the erasure. */
	for (size_t i = 0; i < 80; i++) {
		if (after[i] == 0 && before[i] != 0)
			after[i] = before[i];
		if (after[4096 + i] == 0 && before[4096 + i] != 0)
			after[4096 + i] = before[4096 + i];
	}
	spill(path, after, na);
	assert_true(contains(path, k[3], SEAL_KEY_BYTES));
	assert_int_equal(seal_key_open(&kf, path, err, sizeof(err)), 0);
	assert_int_equal(seal_keyfile_key(kf)->epoch, 4);
	seal_key_close(kf);
	assert_false(contains(path, k[3], SEAL_KEY_BYTES));

	/* Readable by others: refused. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(seal_key_open(&kf, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);
	/* Damaged: refused. */
	memset(after, 'x', 200);
	spill(path, after, 200);
	assert_int_equal(seal_key_open(&kf, path, err, sizeof(err)), -1);
	assert_int_equal(fixture_dir_remove(dir), 0);
}

static void
test_verifier_string(void **state)
{
	struct seal_verifier v, w;
	char s[SEAL_VERIFIER_MAX], dir[64], path[128], err[256];
	FILE *fp;

	(void)state;
	randombytes_buf(v.k0, sizeof(v.k0));
	v.t0 = 1764194400;
	v.interval = 900;
	assert_int_equal(seal_verifier_format(&v, s, sizeof(s)), 0);
	assert_int_equal(strncmp(s, "cmseal1:1764194400:900:", 23), 0);
	assert_int_equal(seal_verifier_parse(s, &w, err, sizeof(err)), 0);
	assert_memory_equal(&v, &w, sizeof(v));
	/* From a file, so that the secret is not on a command line. */
	fixture_dir_make("test_seal", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/verifier", dir);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "%s\n", s);
	fclose(fp);
	assert_int_equal(seal_verifier_parse(path, &w, err, sizeof(err)), 0);
	assert_memory_equal(&v, &w, sizeof(v));
	assert_int_equal(fixture_dir_remove(dir), 0);
	assert_int_equal(seal_verifier_parse("cmseal1:1:900:AAAA", &w, err,
	    sizeof(err)), -1);
	assert_int_equal(seal_verifier_parse("cmseal1:1:1:", &w, err,
	    sizeof(err)), -1);
	s[strlen(s) - 1] = '!';
	assert_int_equal(seal_verifier_parse(s, &w, err, sizeof(err)), -1);
	/* An octet outside the alphabet, which the decoder would take. */
	s[strlen(s) - 1] = 'A';
	s[strlen(s) - 5] = (char)0xff;
	assert_int_equal(seal_verifier_parse(s, &w, err, sizeof(err)), -1);
	assert_int_equal(seal_verifier_parse("/nonexistent/x", &w, err,
	    sizeof(err)), -1);
}

/* A checkpoint formats, parses back, and each field is under the MAC. */
static void
test_format_parse(void **state)
{
	struct seal_verifier v;
	struct seal_point p, q;
	unsigned char k[SEAL_KEY_BYTES], mac[SEAL_MAC_BYTES], m2[SEAL_MAC_BYTES];
	char line[SEAL_LINE_MAX + 80];
	uint64_t by = 0;
	size_t n;

	(void)state;
	randombytes_buf(v.k0, sizeof(v.k0));
	v.t0 = 1764194400;
	v.interval = 900;
	memset(&p, 0, sizeof(p));
	strcpy(p.file, "audit.log");
	p.epoch = 7;
	p.through = 9;
	p.start = seal_epoch_start(v.t0, v.interval, 7);
	p.end = seal_epoch_start(v.t0, v.interval, 10);
	p.sealed_ms = (int64_t)p.end * 1000 + 123;
	p.lines = 4567;
	memset(p.head, 'a', 64);
	p.late = 1;
	seal_key_at(&v, NULL, 7, k);
	seal_mac(k, &p, mac);
	n = seal_format(&p, mac, line, sizeof(line));
	assert_true(n > 0);
	strcpy(line + n, "}");
	assert_int_equal(seal_parse(line, strlen(line), &q, m2), 0);
	assert_memory_equal(mac, m2, SEAL_MAC_BYTES);
	assert_string_equal(q.file, p.file);
	assert_int_equal(q.epoch, 7);
	assert_int_equal(q.through, 9);
	assert_int_equal(q.start, p.start);
	assert_int_equal(q.end, p.end);
	assert_int_equal(q.sealed_ms, p.sealed_ms);
	assert_int_equal(q.lines, 4567);
	assert_int_equal(q.late, 1);
	assert_int_equal(seal_check(&v, NULL, &q, m2, 100, &by), 1);
	/* With the audit trail's chain after it, as in the log. */
	snprintf(line + n, sizeof(line) - n, ",\"chain\":\"%064d\"}", 0);
	assert_int_equal(seal_parse(line, strlen(line), &q, m2), 0);
	/* Every field counts. */
	q.lines++;
	assert_int_equal(seal_check(&v, NULL, &q, m2, 20, &by), -1);
	q.lines--;
	q.late = 0;
	assert_int_equal(seal_check(&v, NULL, &q, m2, 20, &by), -1);
	q.late = 1;
	q.head[0] = 'b';
	assert_int_equal(seal_check(&v, NULL, &q, m2, 20, &by), -1);
	/* Not ours: refused. */
	assert_int_equal(seal_parse("{\"v\":1,\"type\":\"seal\"}", 21, &q, m2), -1);
	line[n] = '\0';
	line[n - 3] = 'A';	/* uppercase hex */
	strcat(line, "}");
	assert_int_equal(seal_parse(line, strlen(line), &q, m2), -1);
	/* A file name with odd characters is not made. */
	strcpy(p.file, "audit log\"");
	assert_int_equal(seal_format(&p, mac, line, sizeof(line)), 0);
}

/* A MAC under a later key is named with that key's epoch. */
static void
test_check_later_key(void **state)
{
	struct seal_verifier v;
	struct seal_point p;
	unsigned char k[SEAL_KEY_BYTES], mac[SEAL_MAC_BYTES];
	uint64_t by = 0;

	(void)state;
	randombytes_buf(v.k0, sizeof(v.k0));
	v.t0 = 0;
	v.interval = IV;
	memset(&p, 0, sizeof(p));
	strcpy(p.file, "audit.log");
	p.epoch = p.through = 3;
	p.start = 30;
	p.end = 40;
	memset(p.head, '0', 64);
	seal_key_at(&v, NULL, 3, k);
	seal_mac(k, &p, mac);
	assert_int_equal(seal_check(&v, NULL, &p, mac, 10, &by), 1);
	seal_key_at(&v, NULL, 6, k);
	seal_mac(k, &p, mac);
	assert_int_equal(seal_check(&v, NULL, &p, mac, 10, &by), 0);
	assert_int_equal(by, 6);
	/* Beyond the search: under no key. */
	assert_int_equal(seal_check(&v, NULL, &p, mac, 5, &by), -1);
	randombytes_buf(mac, sizeof(mac));
	assert_int_equal(seal_check(&v, NULL, &p, mac, 10, &by), -1);
}

/* --- a log sealed, and verified ----------------------------------------- */

static void
test_sealed_log(void **state)
{
	struct env e;
	struct lines l;
	struct seal_point p;
	unsigned char mac[SEAL_MAC_BYTES];
	size_t s1, s2;

	(void)state;
	env_setup(&e);
	build(&e);
	assert_int_equal(verify_at(&e, 41.5, e.wit, e.log, NULL), 0);
	assert_int_equal(summary.seals, 4);
	assert_int_equal(summary.first, 0);
	assert_int_equal(summary.last, 3);
	assert_int_equal(summary.late, 0);
	assert_int_equal(summary.witnessed, 4);
	assert_int_equal(summary.warnings, 0);
	/* The idle epoch 2 has its checkpoint: over the lines up to seal 1. */
	lines_read(e.log, &l);
	s1 = seal_at(&l, 1);
	s2 = seal_at(&l, 2);
	assert_int_equal(s2, s1 + 1);
	assert_int_equal(seal_parse(l.v[s2], strlen(l.v[s2]), &p, mac), 0);
	assert_int_equal(p.epoch, 2);
	assert_int_equal(p.lines, s1 + 1);
	lines_free(&l);
	/* Later, with no checkpoint since: said, not failed. */
	assert_int_equal(verify_at(&e, 90, NULL, e.log, NULL), 0);
	assert_true(has("stale", SEAL_WARN));
	env_teardown(&e);
}

/* An edited, removed or reordered line, the chain made again over it. */
static void
test_edit_remove_reorder(void **state)
{
	struct env e;
	struct lines l;
	char *tmp;
	size_t s0;

	(void)state;
	env_setup(&e);
	build(&e);
	env_close(&e);
	/* Edited, the chain left alone: the chain names it. */
	lines_read(e.log, &l);
	s0 = seal_at(&l, 0);
	tmp = strstr(l.v[s0 + 1], "allow");
	assert_non_null(tmp);
	memcpy(tmp, "deny\"", 5);
	memmove(tmp + 4, tmp + 5, strlen(tmp + 5) + 1);
	lines_write(e.log, &l);
	assert_int_equal(verify_at(&e, 41.5, NULL, e.log, NULL), -1);
	/* The chain made again from there: the next checkpoint names it. */
	lines_read(e.log, &l);
	rechain(&l, s0 + 1);
	lines_write(e.log, &l);
	/* Every checkpoint after the edit: 1, 2 (idle), 3. */
	assert_int_equal(verify_at(&e, 41.5, NULL, e.log, NULL), 3);
	assert_string_equal(found[0].what, "rewritten");
	assert_int_equal(found[0].line, s0 + 4);	/* epoch 1's seal */

	/* Removed. */
	lines_read(e.log, &l);
	drop(&l, s0 + 1);
	rechain(&l, s0 + 1);
	lines_write(e.log, &l);
	assert_true(verify_at(&e, 41.5, NULL, e.log, NULL) >= 1);
	assert_true(has("rewritten", SEAL_FAIL));

	/* Reordered (before the first checkpoint). */
	lines_read(e.log, &l);
	tmp = l.v[1];
	l.v[1] = l.v[2];
	l.v[2] = tmp;
	rechain(&l, 1);
	lines_write(e.log, &l);
	assert_true(verify_at(&e, 41.5, NULL, e.log, NULL) >= 1);
	assert_true(has("rewritten", SEAL_FAIL));
	assert_int_equal(fixture_dir_remove(e.dir), 0);
}

/* copy_prefix - truncate path after its line k (1-based). */
static void
cut_after(const char *path, size_t k)
{
	struct lines l;

	lines_read(path, &l);
	while (l.n > k)
		drop(&l, l.n - 1);
	lines_write(path, &l);
}

/*
 * Cut after epoch 1's checkpoint, and the filter restarted on it: the
 * chain goes on from the cut, the key is where it was, epochs 2-3 are
 * missing.
 */
static void
test_cut_and_continued(void **state)
{
	struct env e;
	struct lines l;
	size_t s1;

	(void)state;
	env_setup(&e);
	build(&e);
	env_close(&e);
	lines_read(e.log, &l);
	s1 = seal_at(&l, 1);
	lines_free(&l);
	cut_after(e.log, s1 + 1);
	env_open_log(&e);
	env_open_sealer(&e);
	decide(&e, 45);
	assert_int_equal(tick(&e, 50.2), 1);
	assert_int_equal(verify_at(&e, 50.5, NULL, e.log, NULL), 1);
	assert_true(has("missing", SEAL_FAIL));
	/* The witness has the epochs the log lost. */
	assert_true(verify_at(&e, 50.5, e.wit, e.log, NULL) >= 2);
	assert_true(has("missing", SEAL_FAIL));
	env_teardown(&e);
}

/*
 * Cut after epoch 1's checkpoint and lines written on, with no checkpoint
 * (the filter cannot seal: its key is ahead); and cut with nothing after.
 */
static void
test_cut_tail(void **state)
{
	struct env e;
	struct lines l;
	size_t s1;

	(void)state;
	env_setup(&e);
	build(&e);
	env_close(&e);
	lines_read(e.log, &l);
	s1 = seal_at(&l, 1);
	lines_free(&l);
	cut_after(e.log, s1 + 1);
	/* Nothing after: the log alone only says it is stale... */
	assert_int_equal(verify_at(&e, 41.5, NULL, e.log, NULL), 0);
	assert_true(has("stale", SEAL_WARN));
	/* ...the witness says it was cut. */
	assert_int_equal(verify_at(&e, 41.5, e.wit, e.log, NULL), 1);
	assert_true(has("cut", SEAL_FAIL));
	/* Lines past the end of epoch 2, no checkpoint: cut and continued. */
	env_open_log(&e);
	decide(&e, 38);
	assert_int_equal(verify_at(&e, 41.5, NULL, e.log, NULL), 1);
	assert_true(has("cut", SEAL_FAIL));
	env_teardown(&e);
}

/*
 * journald's CVE-2023-31439: the key taken from the host now (epoch 4)
 * re-seals yesterday's checkpoints over an edited line.  Each is named
 * with the epoch of the key that made it.  Sealing them as new epochs
 * instead leaves the old ones missing.
 */
static void
test_resealed_with_stolen_key(void **state)
{
	struct env e;
	struct lines l;
	struct seal_keyfile *kf;
	unsigned char stolen[SEAL_KEY_BYTES];
	char err[512], *tmp;
	size_t s0, s;

	(void)state;
	env_setup(&e);
	build(&e);
	env_close(&e);
	assert_int_equal(seal_key_open(&kf, e.key, err, sizeof(err)), 0);
	assert_int_equal(seal_keyfile_key(kf)->epoch, 4);
	memcpy(stolen, seal_keyfile_key(kf)->key, SEAL_KEY_BYTES);
	seal_key_close(kf);
	lines_read(e.log, &l);
	s0 = seal_at(&l, 0);
	tmp = strstr(l.v[s0 + 1], "\"allow\"");
	memcpy(tmp, "\"alloW\"", 7);
	for (int k = 1; k <= 3; k++) {
		s = seal_at(&l, k);
		rechain(&l, s0 + 1);
		reseal(&l, s, stolen, -1, &e);
	}
	rechain(&l, s0 + 1);
	lines_write(e.log, &l);
	/* Three re-seals, and the last genuine one is epoch 0's. */
	assert_int_equal(verify_at(&e, 41.5, NULL, e.log, NULL), 4);
	assert_true(has("resealed", SEAL_FAIL));
	assert_true(has("cut", SEAL_FAIL));
	assert_non_null(strstr(found[0].text, "key of epoch 4"));
	/* The witness copies disagree with the log too. */
	assert_true(verify_at(&e, 41.5, e.wit, e.log, NULL) >= 3);

	/* As new epochs, with the stolen key's own number. */
	lines_read(e.log, &l);
	for (int k = 3; k >= 1; k--)
		drop(&l, seal_at(&l, k));
	s = l.n;
	l.v[l.n++] = strdup(l.v[s0]);
	rechain(&l, s0 + 1);
	reseal(&l, s, stolen, 4, &e);
	rechain(&l, s0 + 1);
	lines_write(e.log, &l);
	assert_true(verify_at(&e, 51, NULL, e.log, NULL) >= 1);
	assert_true(has("missing", SEAL_FAIL));
	assert_int_equal(fixture_dir_remove(e.dir), 0);
}

/*
 * Rewritten whole, with a fresh chain, by someone without the key: the
 * checkpoints cannot come along, whichever way.
 */
static void
test_rewritten_whole(void **state)
{
	struct env e, f;
	struct lines l, m;

	(void)state;
	env_setup(&e);
	build(&e);
	env_close(&e);
	/* The same decisions, at the same times, in a log of their own. */
	f = e;
	snprintf(f.log, sizeof(f.log), "%s/fresh.log", e.dir);
	f.seq = 0;
	env_open_log(&f);
	decide(&f, 1);
	decide(&f, 2);
	decide(&f, 12);
	decide(&f, 15);
	decide(&f, 33);
	decide(&f, 41);
	audit_close(f.a);
	/* Without checkpoints: lines past their epochs' ends, unsealed. */
	assert_int_equal(verify_at(&e, 41.5, NULL, f.log, NULL), 1);
	assert_true(has("cut", SEAL_FAIL));
	/* And the witness holds checkpoints the log lacks. */
	assert_true(verify_at(&e, 41.5, e.wit, f.log, NULL) >= 2);
	/* With the old checkpoint lines copied in at their places. */
	lines_read(e.log, &l);
	lines_read(f.log, &m);
	for (int k = 0; k < 4; k++) {
		size_t s = seal_at(&l, k);

		memmove(&m.v[s + 1], &m.v[s], (m.n - s) * sizeof(m.v[0]));
		m.v[s] = strdup(l.v[s]);
		m.n++;
	}
	lines_free(&l);
	rechain(&m, 1);
	lines_write(f.log, &m);
	assert_int_equal(verify_at(&e, 41.5, NULL, f.log, NULL), 4);
	assert_true(has("rewritten", SEAL_FAIL));
	assert_int_equal(fixture_dir_remove(e.dir), 0);
}

/*
 * journald's CVE-2023-31438: idle epochs were left unsealed, so a log cut
 * in one and continued passed.  Here every idle epoch has its checkpoint,
 * so a cut in the middle of idle epochs leaves a gap in their sequence.
 */
static void
test_idle_epochs(void **state)
{
	struct env e;
	struct lines l;

	(void)state;
	env_setup(&e);
	decide(&e, 1);
	for (int k = 1; k <= 5; k++)
		assert_int_equal(tick(&e, k * IV + 0.2), 1);
	decide(&e, 52);
	assert_int_equal(verify_at(&e, 52.5, e.wit, e.log, NULL), 0);
	assert_int_equal(summary.seals, 5);
	env_close(&e);
	/* Drop two idle checkpoints, the chain made again: a gap. */
	lines_read(e.log, &l);
	drop(&l, seal_at(&l, 3));
	drop(&l, seal_at(&l, 2));
	rechain(&l, 1);
	lines_write(e.log, &l);
	assert_true(verify_at(&e, 52.5, NULL, e.log, NULL) >= 1);
	assert_true(has("missing", SEAL_FAIL) || has("rewritten", SEAL_FAIL));
	assert_int_equal(fixture_dir_remove(e.dir), 0);
}

/* Down for epochs 2-6: one late checkpoint names them, nothing fails. */
static void
test_late_after_downtime(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e);
	decide(&e, 1);
	assert_int_equal(tick(&e, 10.3), 1);
	decide(&e, 12);
	assert_int_equal(tick(&e, 20.3), 1);
	sealer_close(e.s);
	e.s = NULL;
	decide(&e, 22);	/* written, the sealer down */
	env_open_sealer(&e);
	assert_int_equal(tick(&e, 71), 1);
	assert_int_equal(sealer_epoch(e.s), 7);
	assert_int_equal(tick(&e, 72), 0);
	decide(&e, 73);
	assert_int_equal(tick(&e, 80.1), 1);
	assert_int_equal(verify_at(&e, 80.5, e.wit, e.log, NULL), 0);
	assert_true(has("late", SEAL_NOTE));
	assert_int_equal(summary.late, 1);
	assert_int_equal(summary.last, 7);
	env_teardown(&e);
}

/*
 * A crash after the seal line is on disk, before the key evolved: the
 * restarted sealer finds its seal in the log's tail and evolves past it.
 * Where it cannot see it, it seals the epoch again with the same key:
 * both genuine, and said.
 */
static void
test_crash_between(void **state)
{
	struct env e;
	unsigned char key[16384];
	size_t n;

	(void)state;
	env_setup(&e);
	decide(&e, 1);
	assert_int_equal(tick(&e, 10.3), 1);
	slurp(e.key, key, sizeof(key), &n);
	decide(&e, 12);
	assert_int_equal(tick(&e, 20.3), 1);
	/* The crash: the key file as it was before epoch 1's evolution. */
	sealer_close(e.s);
	spill(e.key, key, n);
	env_open_sealer(&e);
	assert_int_equal(sealer_epoch(e.s), 2);
	assert_int_equal(tick(&e, 20.5), 0);
	assert_int_equal(verify_at(&e, 21, e.wit, e.log, NULL), 0);
	assert_false(has("twice", SEAL_NOTE));

	/* Again, with more than the tail scan's worth of lines after it. */
	slurp(e.key, key, sizeof(key), &n);
	assert_int_equal(tick(&e, 30.3), 1);
	sealer_close(e.s);
	spill(e.key, key, n);
	for (int i = 0; i < 400; i++)
		decide(&e, 31);
	env_open_sealer(&e);
	assert_int_equal(sealer_epoch(e.s), 2);
	assert_int_equal(tick(&e, 31.5), 1);
	assert_int_equal(verify_at(&e, 32, e.wit, e.log, NULL), 0);
	assert_true(has("twice", SEAL_NOTE));
	env_teardown(&e);
}

/* A crash left half a line: cut off, named by a gap line, then sealed. */
static void
test_torn_then_sealed(void **state)
{
	struct env e;
	FILE *fp;

	(void)state;
	env_setup(&e);
	decide(&e, 1);
	assert_int_equal(tick(&e, 10.3), 1);
	decide(&e, 12);
	env_close(&e);
	assert_non_null(fp = fopen(e.log, "a"));
	fputs("{\"v\":1,\"t\":\"2026-01-01T00:00:00.000Z\",\"qid\":\"tor", fp);
	fclose(fp);
	env_open_log(&e);
	env_open_sealer(&e);
	decide(&e, 13);
	assert_int_equal(tick(&e, 20.3), 1);
	assert_int_equal(verify_at(&e, 20.5, e.wit, e.log, NULL), 0);
	assert_int_equal(summary.seals, 2);
	env_teardown(&e);
}

/* Rotation: each file verifies alone, and the series across. */
static void
test_rotation(void **state)
{
	struct env e;
	char old[160], err[512];

	(void)state;
	env_setup(&e);
	decide(&e, 1);
	assert_int_equal(tick(&e, 10.3), 1);
	decide(&e, 12);
	snprintf(old, sizeof(old), "%s.1", e.log);
	assert_int_equal(rename(e.log, old), 0);
	assert_int_equal(audit_reopen(e.a, err, sizeof(err)), 0);
	decide(&e, 15);
	assert_int_equal(tick(&e, 20.3), 1);
	decide(&e, 22);
	assert_int_equal(tick(&e, 30.3), 1);
	assert_int_equal(verify_at(&e, 30.5, e.wit, old, e.log, NULL), 0);
	assert_int_equal(summary.seals, 3);
	assert_int_equal(verify_at(&e, 30.5, NULL, e.log, NULL), 0);
	assert_int_equal(verify_at(&e, 30.5, NULL, old, NULL), 0);
	/* The series with its first file missing: the chain says so. */
	env_teardown(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evolve),
		cmocka_unit_test(test_keyfile),
		cmocka_unit_test(test_verifier_string),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_check_later_key),
		cmocka_unit_test(test_sealed_log),
		cmocka_unit_test(test_edit_remove_reorder),
		cmocka_unit_test(test_cut_and_continued),
		cmocka_unit_test(test_cut_tail),
		cmocka_unit_test(test_resealed_with_stolen_key),
		cmocka_unit_test(test_rewritten_whole),
		cmocka_unit_test(test_idle_epochs),
		cmocka_unit_test(test_late_after_downtime),
		cmocka_unit_test(test_crash_between),
		cmocka_unit_test(test_torn_then_sealed),
		cmocka_unit_test(test_rotation),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
