/*
 * bench_erased.c - what the erased addresses cost a decision: policy
 * decisions per second on two stores with the same NKEYS addresses, one
 * where nobody was ever erased (the lookup is skipped: the database is
 * empty) and one where NERASED other addresses were (every decision
 * hashes the address and looks the hash up: one keyed BLAKE2b and one
 * mdb_get more).  Rounds interleave, so that machine noise hits both,
 * and are timed in the thread's CPU time, which another process on the
 * same cores does not stretch; prints the medians, the ratio and the
 * cost of the lookup.
 *
 * usage: bench_erased WORKDIR NKEYS NERASED LOOKUPS ROUNDS
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/addr.h"
#include "core/policy.h"
#include "core/store.h"

struct fill {
	unsigned nkeys, nerased;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned
next_key(unsigned *seed, unsigned nkeys)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 1) % nkeys;
}

/* fill_fn - the addresses, subscribed; then the erased ones. */
static int
fill_fn(struct store_txn *t, void *arg)
{
	const struct fill *f = arg;
	struct subject s;
	struct evidence ev;
	char key[64];

	memset(&ev, 0, sizeof(ev));
	ev.status = CS_SUBSCRIBED;
	ev.source = SRC_IMPORT;
	ev.time = 1700000000;
	for (unsigned i = 0; i < f->nkeys; i++) {
		subject_init(&s);
		snprintf(key, sizeof(key), "user%07u@example.com", i);
		if (record_apply_consent(&s, "default", &ev) == -1 ||
		    store_txn_put(t, key, &s) == -1)
			return -1;
		subject_clear(&s);
	}
	for (unsigned i = 0; i < f->nerased; i++) {
		snprintf(key, sizeof(key), "gone%07u@example.com", i);
		if (store_txn_erase_mark(t, key, 1700000000) == -1)
			return -1;
	}
	return 0;
}

static void
make(const char *dir, unsigned nkeys, unsigned nerased)
{
	struct fill f = { nkeys, nerased };
	struct store *st;
	char err[256];

	if (store_open(&st, dir, STORE_CREATE, 0, 0, err, sizeof(err)) == -1 ||
	    store_write(st, fill_fn, &f, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_erased: %s: %s\n", dir, err);
		exit(1);
	}
	store_close(st);
}

/* round_ - decisions per second on the store in dir. */
static double
round_(const char *dir, unsigned nkeys, unsigned lookups, unsigned seed)
{
	static const struct policy_conf pc = { POLICY_OPTIN, 0 };
	struct store *st;
	struct policy_facts f;
	struct decision dec;
	struct addr a;
	char key[64], err[256];
	unsigned allowed = 0;
	double t0, t1;
	size_t n;

	if (store_open(&st, dir, STORE_RDONLY, 0, 0, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_erased: %s\n", err);
		exit(1);
	}
	t0 = now();
	for (unsigned i = 0; i < lookups; i++) {
		n = (size_t)snprintf(key, sizeof(key), "<user%07u@example.com>",
		    next_key(&seed, nkeys));
		if (addr_normalize(key, n, 0, "+", &a, err, sizeof(err)) == -1 ||
		    store_facts(st, &a, "default", &f, err, sizeof(err)) == -1) {
			fprintf(stderr, "bench_erased: %s\n", err);
			exit(1);
		}
		policy_decide(&pc, &f, 1700000000, &dec);
		allowed += dec.allow;
	}
	t1 = now();
	store_close(st);
	if (allowed != lookups) {
		fprintf(stderr, "bench_erased: %u of %u allowed\n", allowed,
		    lookups);
		exit(1);
	}
	return lookups / (t1 - t0);
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	char without[1024], with[1024];
	unsigned nkeys, nerased, lookups, rounds;
	double a[32], b[32], ma, mb;

	if (argc != 6) {
		fprintf(stderr, "usage: bench_erased WORKDIR NKEYS NERASED "
		    "LOOKUPS ROUNDS\n");
		return 2;
	}
	nkeys = (unsigned)strtoul(argv[2], NULL, 10);
	nerased = (unsigned)strtoul(argv[3], NULL, 10);
	lookups = (unsigned)strtoul(argv[4], NULL, 10);
	rounds = (unsigned)strtoul(argv[5], NULL, 10);
	if (nkeys == 0 || nerased == 0 || lookups == 0 || rounds == 0 ||
	    rounds > 32)
		return 2;
	snprintf(without, sizeof(without), "%s/without", argv[1]);
	snprintf(with, sizeof(with), "%s/with", argv[1]);
	make(without, nkeys, 0);
	make(with, nkeys, nerased);
	for (unsigned r = 0; r < rounds; r++) {
		a[r] = round_(without, nkeys, lookups, 42 + r);
		b[r] = round_(with, nkeys, lookups, 42 + r);
	}
	qsort(a, rounds, sizeof(a[0]), cmp);
	qsort(b, rounds, sizeof(b[0]), cmp);
	ma = a[rounds / 2];
	mb = b[rounds / 2];
	printf("erased: decisions with %u erased addresses %.0f/s (%.2f us), "
	    "with none %.0f/s (%.2f us), ratio %.2f: the hashed lookup costs "
	    "%.2f us a decision; medians of %u rounds of %u random hits on %u "
	    "keys, CPU time\n", nerased, mb, 1e6 / mb, ma, 1e6 / ma, mb / ma,
	    1e6 / mb - 1e6 / ma, rounds, lookups, nkeys);
	return 0;
}
