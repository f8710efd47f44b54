/*
 * bench_fleet.c - the fleet's figures that need a clock inside one
 * process (tests/bench/fleet.sh runs it).
 *
 *   bench_fleet propagate CONNINFO N STORE...
 *     N changes, one transaction each, inserted into the journal with the
 *     writer's connection; after each commit, polls every STORE (each kept
 *     by its own consent-syncd) until the change is there, and records
 *     the time from commit to visible in all of them.  Prints p50, p99 and
 *     the worst.
 *
 *   bench_fleet decide STORE NKEYS SECONDS [XID ID]
 *     the milter's decision (normalise, store_facts, policy_decide) on
 *     random keys user%07d@example.com below NKEYS, for SECONDS; with XID
 *     ID, until the store's cursor reaches that row instead (a replica
 *     applying an import meanwhile).  Prints decisions per second and, for
 *     the cursor, how long the replica took.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/change.h"
#include "core/pgjournal.h"
#include "core/policy.h"
#include "core/store.h"

#define STORES_MAX	8

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
die(const char *what, const char *err)
{
	fprintf(stderr, "bench_fleet: %s: %s\n", what, err);
	exit(1);
}

/* visible - 1 once key is in every store not yet seen (seen[] marks). */
static int
visible(struct store **st, int nst, int *seen, const char *key)
{
	struct subject s;
	char err[256];
	int all = 1, rc;

	for (int i = 0; i < nst; i++) {
		if (seen[i])
			continue;
		subject_init(&s);
		if ((rc = store_get(st[i], key, &s, err, sizeof(err))) == -1)
			die("store_get", err);
		subject_clear(&s);
		seen[i] = rc == 1;
		all &= seen[i];
	}
	return all;
}

static int
propagate(const char *conninfo, long n, char **dirs, int nst)
{
	struct store *st[STORES_MAX];
	struct pgjournal *pg;
	struct change c;
	double *lat, t0, t;
	int seen[STORES_MAX];
	char err[512];

	if ((lat = calloc((size_t)n, sizeof(*lat))) == NULL)
		die("calloc", "out of memory");
	for (int i = 0; i < nst; i++)
		if (store_open(&st[i], dirs[i], STORE_RDONLY, 0, 0, err,
		    sizeof(err)) == -1)
			die(dirs[i], err);
	if (pgj_connect(&pg, conninfo, "bench_fleet", err, sizeof(err)) == -1)
		die("connect", err);
	for (long k = 0; k < n; k++) {
		change_init(&c, CHANGE_CONSENT, "", (int64_t)time(NULL));
		snprintf(c.key, sizeof(c.key), "p%06ld@bench.example", k);
		strcpy(c.list, "news");
		strcpy(c.origin, "bench");
		c.ev.status = CS_SUBSCRIBED;
		c.ev.source = SRC_API;
		c.ev.time = c.made;
		change_new_id(&c);
		if (pgj_insert(pg, &c, 1, err, sizeof(err)) != 1)
			die("insert", err);
		t0 = now();
		memset(seen, 0, sizeof(seen));
		while (!visible(st, nst, seen, c.key)) {
			if (now() - t0 > 30)
				die(c.key, "not visible after 30 s");
			usleep(250);
		}
		t = now();
		lat[k] = t - t0;
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("propagation, commit to visible in all %d replicas, %ld changes "
	    "one by one: p50 %.1f ms, p99 %.1f ms, worst %.1f ms (goal p99 < "
	    "1000 ms)\n", nst, n, lat[n / 2] * 1e3, lat[n * 99 / 100] * 1e3,
	    lat[n - 1] * 1e3);
	pgj_close(pg);
	for (int i = 0; i < nst; i++)
		store_close(st[i]);
	free(lat);
	return 0;
}

static int
decide(const char *dir, unsigned nkeys, double secs, int until,
    const struct pgj_pos *end)
{
	static const struct policy_conf pc = { POLICY_OPTIN, 0 };
	struct store *st;
	struct store_sync ss;
	struct policy_facts f;
	struct decision dec;
	struct addr a;
	struct pgj_pos cur;
	char key[64], err[256];
	unsigned seed = 42;
	unsigned long done = 0;
	double t0, t1;
	size_t n;

	if (store_open(&st, dir, STORE_RDONLY, 0, 0, err, sizeof(err)) == -1)
		die(dir, err);
	t0 = now();
	for (;;) {
		for (int i = 0; i < 10000; i++) {
			seed = seed * 1103515245u + 12345u;
			n = (size_t)snprintf(key, sizeof(key),
			    "<user%07u@example.com>", (seed >> 1) % nkeys);
			if (addr_normalize(key, n, 0, "+", &a, err,
			    sizeof(err)) == -1 || store_facts(st, &a, "news", &f,
			    err, sizeof(err)) == -1)
				die("decide", err);
			policy_decide(&pc, &f, (int64_t)time(NULL), &dec);
		}
		done += 10000;
		t1 = now();
		if (!until && t1 - t0 >= secs)
			break;
		if (until) {
			if (store_sync_get(st, &ss, err, sizeof(err)) != 1)
				die("sync state", err);
			cur.xid = ss.xid;
			cur.id = ss.id;
			if (pgj_pos_cmp(&cur, end) >= 0)
				break;
			if (t1 - t0 > 600)
				die("apply", "not done after 600 s");
		}
	}
	printf("%.0f decisions/s over %.2f s%s\n", done / (t1 - t0), t1 - t0,
	    until ? " (until the replica reached the journal's end)" : "");
	store_close(st);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "propagate") == 0 &&
	    argc - 4 <= STORES_MAX)
		return propagate(argv[2], strtol(argv[3], NULL, 10), argv + 4,
		    argc - 4);
	if ((argc == 5 || argc == 7) && strcmp(argv[1], "decide") == 0) {
		struct pgj_pos end = { 0, 0 };

		if (argc == 7) {
			end.xid = strtoull(argv[5], NULL, 10);
			end.id = strtoll(argv[6], NULL, 10);
		}
		return decide(argv[2], (unsigned)strtoul(argv[3], NULL, 10),
		    strtod(argv[4], NULL), argc == 7, &end);
	}
	fprintf(stderr, "usage: bench_fleet propagate CONNINFO N STORE...\n"
	    "       bench_fleet decide STORE NKEYS SECONDS [XID ID]\n");
	return 2;
}
