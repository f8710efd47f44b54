/*
 * bench_store.c - policy decisions per second on a real store, against raw
 * mdb_get on the same keys in the same run.
 *
 * usage: bench_store STOREDIR NKEYS LOOKUPS ROUNDS
 * The store holds user%07d@example.com for 0 <= i < NKEYS (made by
 * tests/bench/run.sh through consentctl import).  Each round measures raw
 * LMDB (one read transaction and one mdb_get per lookup) and then the full
 * path (normalise, store_facts, policy_decide), on the same random keys;
 * rounds interleave so that machine noise hits both.  Prints the medians
 * and the ratio.
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/addr.h"
#include "core/policy.h"
#include "core/store.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned
next_key(unsigned *seed, unsigned nkeys)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 1) % nkeys;
}

static double
raw_round(const char *dir, unsigned nkeys, unsigned lookups, unsigned seed)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, d;
	char key[64];
	unsigned found = 0;
	double t0, t1;

	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) ||
	    mdb_env_open(env, dir, MDB_RDONLY, 0660) ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) ||
	    mdb_dbi_open(txn, "addr", 0, &dbi) || mdb_txn_commit(txn)) {
		fprintf(stderr, "bench_store: cannot open %s raw\n", dir);
		exit(1);
	}
	t0 = now();
	for (unsigned i = 0; i < lookups; i++) {
		k.mv_size = (size_t)snprintf(key, sizeof(key),
		    "user%07u@example.com", next_key(&seed, nkeys));
		k.mv_data = key;
		if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
			exit(1);
		found += mdb_get(txn, dbi, &k, &d) == 0;
		mdb_txn_abort(txn);
	}
	t1 = now();
	mdb_env_close(env);
	if (found != lookups) {
		fprintf(stderr, "bench_store: raw found %u of %u\n", found, lookups);
		exit(1);
	}
	return lookups / (t1 - t0);
}

static double
store_round(const char *dir, unsigned nkeys, unsigned lookups, unsigned seed)
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
		fprintf(stderr, "bench_store: %s\n", err);
		exit(1);
	}
	t0 = now();
	for (unsigned i = 0; i < lookups; i++) {
		n = (size_t)snprintf(key, sizeof(key), "<user%07u@example.com>",
		    next_key(&seed, nkeys));
		if (addr_normalize(key, n, 0, "+", &a, err, sizeof(err)) == -1 ||
		    store_facts(st, &a, "default", &f, err, sizeof(err)) == -1) {
			fprintf(stderr, "bench_store: %s\n", err);
			exit(1);
		}
		policy_decide(&pc, &f, 1700000000, &dec);
		allowed += dec.allow;
	}
	t1 = now();
	store_close(st);
	if (allowed == 0) {
		fprintf(stderr, "bench_store: nothing allowed: wrong store?\n");
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
	unsigned nkeys, lookups, rounds;
	double raw[32], pol[32];

	if (argc != 5) {
		fprintf(stderr, "usage: bench_store STOREDIR NKEYS LOOKUPS ROUNDS\n");
		return 2;
	}
	nkeys = (unsigned)strtoul(argv[2], NULL, 10);
	lookups = (unsigned)strtoul(argv[3], NULL, 10);
	rounds = (unsigned)strtoul(argv[4], NULL, 10);
	if (nkeys == 0 || lookups == 0 || rounds == 0 || rounds > 32)
		return 2;
	for (unsigned r = 0; r < rounds; r++) {
		raw[r] = raw_round(argv[1], nkeys, lookups, 42 + r);
		pol[r] = store_round(argv[1], nkeys, lookups, 42 + r);
	}
	qsort(raw, rounds, sizeof(raw[0]), cmp);
	qsort(pol, rounds, sizeof(pol[0]), cmp);
	printf("lookups: raw mdb_get %.0f/s (%.2f us each), policy decisions "
	    "%.0f/s (%.2f us each), ratio %.2f (goal >= 0.80), medians of %u "
	    "rounds of %u random hits on %u keys\n",
	    raw[rounds / 2], 1e6 / raw[rounds / 2], pol[rounds / 2],
	    1e6 / pol[rounds / 2], pol[rounds / 2] / raw[rounds / 2], rounds,
	    lookups, nkeys);
	return 0;
}
