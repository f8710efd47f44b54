/*
 * test_extsort.c - the external sort: key order as LMDB has it, stable
 * among equal keys, the same whether it stays in memory or spills many
 * runs, read again after a rewind, and nothing left in its directory.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "util/extsort.h"

struct rec {
	char	key[32];
	size_t	klen;
	unsigned seq;		/* the order it was added in */
};

/* reccmp - the order the sorter must give: LMDB's key order, then seq. */
static int
reccmp(const void *pa, const void *pb)
{
	const struct rec *a = pa, *b = pb;
	size_t n = a->klen < b->klen ? a->klen : b->klen;
	int c = memcmp(a->key, b->key, n);

	if (c != 0)
		return c;
	if (a->klen != b->klen)
		return a->klen < b->klen ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* make_recs - n keys with many duplicates, shared prefixes longer than
 * 8 octets, prefixes of each other and high octets. */
static struct rec *
make_recs(unsigned n, unsigned seed)
{
	struct rec *r = calloc(n, sizeof(*r));

	assert_non_null(r);
	for (unsigned i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		unsigned v = (seed >> 8) % (n / 3 + 1);

		r[i].klen = (size_t)snprintf(r[i].key, sizeof(r[i].key),
		    "user%u@example.com", v);
		if (v % 7 == 0)
			r[i].klen = 4 + (v % 3);	/* "user", "user1"... */
		if (v % 11 == 0)
			r[i].key[0] = (char)0xe9;
		r[i].seq = i;
	}
	return r;
}

/* sort_check - n records through a sorter of budget octets: every one
 * back, in order, twice (a rewind); runs spilled in *runs. */
static void
sort_check(unsigned n, size_t budget, unsigned *runs)
{
	struct extsort *x;
	struct rec *r = make_recs(n, n), *want;
	char err[256], dir[64];
	const void *k, *v;
	size_t kl, vl;

	fixture_dir_make("test_extsort", dir, sizeof(dir));
	assert_int_equal(extsort_new(&x, dir, budget, err, sizeof(err)), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(extsort_add(x, r[i].key, r[i].klen, &r[i].seq,
		    sizeof(r[i].seq)), 0);
	assert_int_equal(extsort_finish(x), 0);
	*runs = extsort_runs(x);
	assert_int_equal(extsort_count(x), n);
	want = malloc((size_t)n * sizeof(*want));
	assert_non_null(want);
	memcpy(want, r, (size_t)n * sizeof(*want));
	qsort(want, n, sizeof(*want), reccmp);
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(extsort_rewind(x), 0);
		for (unsigned i = 0; i < n; i++) {
			unsigned seq;

			assert_int_equal(extsort_next(x, &k, &kl, &v, &vl), 1);
			assert_int_equal(kl, want[i].klen);
			assert_memory_equal(k, want[i].key, kl);
			assert_int_equal(vl, sizeof(seq));
			memcpy(&seq, v, sizeof(seq));
			assert_int_equal(seq, want[i].seq);
		}
		assert_int_equal(extsort_next(x, &k, &kl, &v, &vl), 0);
	}
	extsort_free(x);
	/* The spill file was unlinked when it was made. */
	{
		DIR *d = opendir(dir);
		struct dirent *e;
		int others = 0;

		assert_non_null(d);
		while ((e = readdir(d)) != NULL)
			others += strcmp(e->d_name, ".") != 0 &&
			    strcmp(e->d_name, "..") != 0;
		closedir(d);
		assert_int_equal(others, 0);
	}
	assert_int_equal(fixture_dir_remove(dir), 0);
	free(want);
	free(r);
}

static void
test_in_memory(void **state)
{
	unsigned runs;

	(void)state;
	sort_check(20000, 16u << 20, &runs);
	assert_int_equal(runs, 0);
	/* It fits, but takes more than a quarter: spilled as one run. */
	sort_check(20000, 2u << 20, &runs);
	assert_int_equal(runs, 1);
}

static void
test_spilled(void **state)
{
	unsigned runs;

	(void)state;
	/* 64 KiB: about 1,200 records a run. */
	sort_check(50000, 1, &runs);
	assert_true(runs > 20);
}

static void
test_edges(void **state)
{
	struct extsort *x;
	char err[256], dir[64], big[70000];
	const void *k, *v;
	size_t kl, vl;
	unsigned runs;

	(void)state;
	sort_check(1, 1, &runs);
	assert_int_equal(runs, 0);
	fixture_dir_make("test_extsort", dir, sizeof(dir));
	assert_int_equal(extsort_new(&x, dir, 0, err, sizeof(err)), 0);
	/* Nothing added: nothing read. */
	assert_int_equal(extsort_next(x, &k, &kl, &v, &vl), -1);
	memset(big, 'a', sizeof(big));
	assert_int_equal(extsort_add(x, big, sizeof(big), "", 0), -1);
	assert_int_equal(errno, E2BIG);
	assert_int_equal(extsort_add(x, "", 0, big, sizeof(big)), -1);
	assert_int_equal(errno, E2BIG);
	/* An empty key sorts first; an empty value is kept. */
	assert_int_equal(extsort_add(x, "b", 1, "1", 1), 0);
	assert_int_equal(extsort_add(x, "", 0, "", 0), 0);
	assert_int_equal(extsort_finish(x), 0);
	assert_int_equal(extsort_add(x, "c", 1, "", 0), -1);
	assert_int_equal(extsort_rewind(x), 0);
	assert_int_equal(extsort_next(x, &k, &kl, &v, &vl), 1);
	assert_int_equal(kl, 0);
	assert_int_equal(vl, 0);
	assert_int_equal(extsort_next(x, &k, &kl, &v, &vl), 1);
	assert_int_equal(kl, 1);
	assert_int_equal(extsort_next(x, &k, &kl, &v, &vl), 0);
	extsort_free(x);
	extsort_free(NULL);
	assert_int_equal(extsort_new(&x, "/nonexistent/dir/for/spills", 0, err,
	    sizeof(err)), 0);
	/* The directory is needed only at the first spill. */
	for (unsigned i = 0; i < 5000; i++) {
		if (extsort_add(x, "0123456789abcdef", 16, "", 0) == -1) {
			assert_int_equal(errno, ENOENT);
			break;
		}
		assert_true(i < 4999);
	}
	extsort_free(x);
	assert_int_equal(fixture_dir_remove(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_memory),
		cmocka_unit_test(test_spilled),
		cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
