/*
 * bench_feedback.c - the feedback channel's data and its in-process rate.
 *
 *   bench_feedback gen TEMPLATE OUTDIR N CONFIG
 *       N DSNs in OUTDIR (00000.eml ...) made from TEMPLATE (the Postfix
 *       sample of tests/data/feedback), each for user%05d@dead.example
 *       with a real List-Unsubscribe token under CONFIG's first key.
 *   bench_feedback run CONFIG DIR N ROUNDS WORKDIR
 *       per round, on a fresh store each: every DSN parsed, proven and
 *       recorded (fbparse_message, fb_plan_make, fb_record), against the
 *       baseline of the same suppressions written bare (store_write of
 *       one record each), interleaved.  Prints the medians.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/keyring.h"
#include "ctl/fbparse.h"
#include "ctl/fbplan.h"

#define FAKETOK "AXq7Zt3dFZ9cLr1pQe0b5YwKJmN2sV8hU4oG6iT_xRaE-lBkCgHjD7fWnMzSyOv1Pu3Q9e2RtL0aZ5XcVbNmKdJhGf8sWqYpUo4I6rE_TyA-lk"
#define ROUNDS_MAX 16

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	char *buf = malloc(1 << 20);

	if (fp == NULL || buf == NULL) {
		fprintf(stderr, "bench_feedback: %s: cannot read\n", path);
		exit(1);
	}
	*n = fread(buf, 1, (1 << 20) - 1, fp);
	buf[*n] = '\0';
	fclose(fp);
	return buf;
}

/* subst - s with every from replaced by to, into out (large enough). */
static void
subst(const char *s, const char *from, const char *to, char *out)
{
	size_t fl = strlen(from), tl = strlen(to);
	const char *p;

	while ((p = strstr(s, from)) != NULL) {
		memcpy(out, s, (size_t)(p - s));
		out += p - s;
		memcpy(out, to, tl);
		out += tl;
		s = p + fl;
	}
	strcpy(out, s);
}

static void
load(const char *conf, struct config *cf, struct token_ring *ring)
{
	char err[512];

	if (config_load(cf, conf, err, sizeof(err)) == -1 ||
	    keyring_load(cf, ring, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_feedback: %s\n", err);
		exit(1);
	}
}

static int
gen(const char *tmpl, const char *dir, unsigned n, const char *conf)
{
	static struct config cf;
	struct token_ring ring;
	size_t len;
	char *t = slurp(tmpl, &len), *a = malloc(2 * len + 4096),
	    *b = malloc(2 * len + 4096);
	char addr[64], tok[TOKEN_MAX], path[4200];

	load(conf, &cf, &ring);
	for (unsigned i = 0; i < n; i++) {
		FILE *fp;

		snprintf(addr, sizeof(addr), "user%05u@dead.example", i);
		if (token_make(&ring, addr, "news", time(NULL), tok,
		    sizeof(tok)) < 0)
			return 1;
		subst(t, FAKETOK, tok, a);
		subst(a, "nobody@example.net", addr, b);
		snprintf(path, sizeof(path), "%s/%05u.eml", dir, i);
		if ((fp = fopen(path, "wb")) == NULL ||
		    fwrite(b, 1, strlen(b), fp) != strlen(b) || fclose(fp) != 0)
			return 1;
	}
	return 0;
}

struct bare_arg {
	const char *key;
	int64_t	now;
};

static int
bare_fn(struct store_txn *t, void *arg)
{
	struct bare_arg *a = arg;
	struct subject s;
	struct suppression sp;
	int rc;

	subject_init(&s);
	if (store_txn_get(t, a->key, &s) == -1)
		return -1;
	memset(&sp, 0, sizeof(sp));
	sp.reason = SR_HARD_BOUNCE;
	sp.source = SRC_BOUNCE;
	sp.created = a->now;
	rc = record_apply_supp(&s, &sp, a->now) == 1 ?
	    store_txn_put(t, a->key, &s) : 0;
	subject_clear(&s);
	return rc;
}

static struct store *
fresh(const char *work, int round, const char *what, const struct config *cf)
{
	struct store *st;
	char dir[4200], cmd[4300], err[512];

	snprintf(dir, sizeof(dir), "%s/%s%d", work, what, round);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0 || store_open(&st, dir, STORE_CREATE,
	    cf->addr_flags, 0, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_feedback: %s\n", err);
		exit(1);
	}
	return st;
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
run(const char *conf, const char *dir, unsigned n, int rounds,
    const char *work)
{
	static struct config cf;
	static struct fbp_report rep;
	static struct fb_plan plan;
	struct token_ring ring;
	struct fb_ctx ctx;
	double tf[ROUNDS_MAX], tb[ROUNDS_MAX];
	char **msgs = calloc(n, sizeof(*msgs)), path[4200], err[512], key[64];
	size_t *lens = calloc(n, sizeof(*lens));
	unsigned applied = 0;

	load(conf, &cf, &ring);
	for (unsigned i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%05u.eml", dir, i);
		msgs[i] = slurp(path, &lens[i]);
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.ring = &ring;
	ctx.rules = &cf.fb_rules;
	ctx.delims = "+";
	ctx.addr_flags = cf.addr_flags;
	ctx.now = time(NULL);
	ctx.rp_window = cf.fb_rp_window;
	ctx.soft_threshold = (unsigned)cf.fb_soft_threshold;
	ctx.soft_window = cf.fb_soft_window;
	ctx.soft_expires = cf.fb_soft_expires;
	ctx.sync = &cf.sync;
	fbparse_init();
	for (int r = 0; r < rounds && r < ROUNDS_MAX; r++) {
		struct store *st = fresh(work, r, "fb", &cf);
		double t0 = now();

		applied = 0;
		for (unsigned i = 0; i < n; i++) {
			if (fbparse_message(msgs[i], lens[i], &rep, err,
			    sizeof(err)) == -1 || fb_plan_make(&rep, &ctx, 0,
			    &plan) == 0 || fb_record(st, plan.ch, plan.n, &ctx, err,
			    sizeof(err)) == -1)
				continue;
			applied++;
		}
		tf[r] = now() - t0;
		store_close(st);
		st = fresh(work, r, "bare", &cf);
		t0 = now();
		for (unsigned i = 0; i < n; i++) {
			struct bare_arg a = { key, ctx.now };

			snprintf(key, sizeof(key), "user%05u@dead.example", i);
			if (store_write(st, bare_fn, &a, err, sizeof(err)) != 0)
				return 1;
		}
		tb[r] = now() - t0;
		store_close(st);
	}
	qsort(tf, (size_t)rounds, sizeof(double), dcmp);
	qsort(tb, (size_t)rounds, sizeof(double), dcmp);
	printf("feedback in one process: %u of %u DSNs applied, %.0f/s "
	    "(parse, prove, record); bare store writes of the same "
	    "suppressions %.0f/s; ratio %.2f\n", applied, n,
	    n / tf[rounds / 2], n / tb[rounds / 2], tf[rounds / 2] / tb[rounds / 2]);
	token_wipe(&ring);
	return applied == n ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], argv[3], (unsigned)atoi(argv[4]), argv[5]);
	if (argc == 7 && strcmp(argv[1], "run") == 0)
		return run(argv[2], argv[3], (unsigned)atoi(argv[4]),
		    atoi(argv[5]), argv[6]);
	fprintf(stderr, "usage: bench_feedback gen TEMPLATE OUTDIR N CONFIG\n"
	    "       bench_feedback run CONFIG DIR N ROUNDS WORKDIR\n");
	return 2;
}
