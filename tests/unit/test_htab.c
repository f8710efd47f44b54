/*
 * test_htab.c - the open-addressing tables (util/htab.c): the compact
 * struct htab32 finds what it was given and nothing else, walks its
 * items in the order a struct htab fed the same hashes walks them (the
 * audit report chains message-id candidates in that order), through
 * growth and colliding hashes, refuses the one number it cannot hold,
 * and after deletions (the audit report retires messages) still finds
 * every item left, whatever run a deleted one sat in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/htab.h"

#define N	50000

static uint32_t keys[N];

/* key_eq - item number item holds the key (a uint32_t). */
static int
key_eq(const void *ctx, uint32_t item, const void *key)
{
	const uint32_t *k = ctx;

	return k[item] == *(const uint32_t *)key;
}

/* hash_of - a hash for key k; every 64th shares its low bits with others. */
static uint64_t
hash_of(uint32_t k)
{
	return k % 64 == 0 ? (uint64_t)k << 40 : htab_mix(k);
}

static void
test_htab32_find(void **state)
{
	struct htab32 t;
	uint32_t missing = 7u * N + 1;

	(void)state;
	assert_int_equal(htab32_init(&t, 16), 0);
	for (uint32_t i = 0; i < N; i++) {
		keys[i] = 7 * i;
		assert_int_equal(htab32_put(&t, hash_of(keys[i]), i), 0);
	}
	assert_int_equal(t.n, N);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(htab32_find(&t, hash_of(keys[i]), key_eq,
		    keys, &keys[i]), i + 1);
	assert_int_equal(htab32_find(&t, hash_of(missing), key_eq, keys,
	    &missing), 0);
	assert_int_equal(htab32_put(&t, 1, UINT32_MAX), -1);
	htab32_free(&t);
	htab32_free(&t);	/* freed twice: a no-op */
}

static void
test_htab32_walk(void **state)
{
	struct htab t;
	struct htab32 t32;
	size_t i = 0, j = 0, n = 0;
	uint32_t v;
	void *p;

	(void)state;
	assert_int_equal(htab_init(&t, 16), 0);
	assert_int_equal(htab32_init(&t32, 16), 0);
	for (uint32_t k = 0; k < N; k++) {
		keys[k] = 7 * k;
		assert_int_equal(htab_put(&t, hash_of(keys[k]), &keys[k]), 0);
		assert_int_equal(htab32_put(&t32, hash_of(keys[k]), k), 0);
	}
	assert_int_equal(t.mask, t32.mask);
	while ((p = htab_next(&t, &i)) != NULL) {
		v = htab32_next(&t32, &j);
		assert_int_not_equal(v, 0);
		assert_ptr_equal(p, &keys[v - 1]);
		n++;
	}
	assert_int_equal(htab32_next(&t32, &j), 0);
	assert_int_equal(n, N);
	htab_free(&t);
	htab32_free(&t32);
}

/* A hash for the deletion test: few homes, so runs wrap and overlap. */
static uint64_t
hash_few(uint32_t k)
{
	return (uint64_t)(k * 2654435761u % 61) << 32 | (k * 2654435761u % 61);
}

static void
test_htab32_del(void **state)
{
	struct htab32 t;
	enum { M = 4000 };
	static int gone[M];

	(void)state;
	assert_int_equal(htab32_init(&t, 16), 0);
	assert_int_equal(htab32_del(&t, 1, 0), 0);	/* empty */
	for (uint32_t k = 0; k < M; k++) {
		keys[k] = 11 * k + 3;
		assert_int_equal(htab32_put(&t, hash_few(keys[k]), k), 0);
	}
	/* Delete two in three in a scattered order, then put some back. */
	for (uint32_t r = 0; r < M; r++) {
		uint32_t k = (r * 1237) % M;

		if (k % 3 == 0)
			continue;
		assert_int_equal(htab32_del(&t, hash_few(keys[k]), k), 1);
		assert_int_equal(htab32_del(&t, hash_few(keys[k]), k), 0);
		gone[k] = 1;
	}
	assert_int_equal(t.n, (M + 2) / 3);
	for (uint32_t k = 1; k < M; k += 9) {
		assert_int_equal(htab32_put(&t, hash_few(keys[k]), k), 0);
		gone[k] = 0;
	}
	for (uint32_t k = 0; k < M; k++)
		assert_int_equal(htab32_find(&t, hash_few(keys[k]), key_eq,
		    keys, &keys[k]), gone[k] ? 0 : k + 1);
	htab32_free(&t);
	htab32_init(&t, 16);
	htab32_free(&t);
	assert_int_equal(htab32_del(&t, 1, 0), 0);	/* freed: a no-op */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_htab32_find),
		cmocka_unit_test(test_htab32_walk),
		cmocka_unit_test(test_htab32_del),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
