/*
 * test_fbtag.c - the signed return path: round trip, and refusal of a
 * tag for another recipient or sender, out of its window, under an
 * unknown or rotated key, damaged in any character; case changes; the
 * 64-octet local part; no tag on a tag.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/fbtag.h"

#define NOW	INT64_C(1764583200)	/* 2026-12-01 */
#define DAY	INT64_C(86400)
#define WIN	(14 * DAY)

static struct token_ring ring, other;

static void
ring_init(void)
{
	memset(&ring, 0, sizeof(ring));
	memset(&other, 0, sizeof(other));
	ring.nkeys = 2;
	ring.keys[0].id = 2;
	ring.keys[1].id = 1;
	other.nkeys = 1;
	other.keys[0].id = 2;
	for (int i = 0; i < TOKEN_KEY_BYTES; i++) {
		ring.keys[0].key[i] = (unsigned char)(i * 3 + 1);
		ring.keys[1].key[i] = (unsigned char)(i * 5 + 2);
		other.keys[0].key[i] = (unsigned char)(i * 7 + 3);
	}
}

static void
test_round_trip(void **state)
{
	char out[300], sender[300];
	int n;

	(void)state;
	n = fbtag_sign(&ring, "bounces@example.org", "ann@example.net", '+',
	    NOW, out, sizeof(out));
	assert_int_equal(n, (int)strlen(out));
	assert_int_equal(strncmp(out, "bounces+fb-02", 13), 0);
	assert_int_equal((int)strlen(out), 7 + 1 + FBTAG_LEN + 12);
	assert_non_null(strstr(out, "@example.org"));
	assert_true(fbtag_verify(&ring, out, "ann@example.net", "+", NOW, WIN,
	    sender));
	assert_string_equal(sender, "bounces@example.org");
	/* Another recipient, sender, or a ring without the key: no. */
	assert_false(fbtag_verify(&ring, out, "bob@example.net", "+", NOW, WIN,
	    NULL));
	out[0] = 'c';
	assert_false(fbtag_verify(&ring, out, "ann@example.net", "+", NOW, WIN,
	    NULL));
	out[0] = 'b';
	assert_false(fbtag_verify(&other, out, "ann@example.net", "+", NOW, WIN,
	    NULL));
	/* A delimiter the configuration does not name. */
	assert_false(fbtag_verify(&ring, out, "ann@example.net", "-", NOW, WIN,
	    NULL));
}

static void
test_window(void **state)
{
	char out[300];

	(void)state;
	assert_true(fbtag_sign(&ring, "b@example.org", "ann@example.net", '+',
	    NOW, out, sizeof(out)) > 0);
	assert_true(fbtag_verify(&ring, out, "ann@example.net", "+", NOW + WIN,
	    WIN, NULL));
	assert_false(fbtag_verify(&ring, out, "ann@example.net", "+",
	    NOW + WIN + 2 * DAY, WIN, NULL));
	/* Signed "tomorrow" by a fast clock: a day of skew, no more. */
	assert_true(fbtag_verify(&ring, out, "ann@example.net", "+", NOW - DAY,
	    WIN, NULL));
	assert_false(fbtag_verify(&ring, out, "ann@example.net", "+",
	    NOW - 3 * DAY, WIN, NULL));
}

static void
test_rotation_and_case(void **state)
{
	struct token_ring old = ring;
	char out[300], up[300];

	(void)state;
	/* Signed with the older key (id 1), verified by the ring holding both. */
	old.keys[0] = ring.keys[1];
	old.nkeys = 1;
	assert_true(fbtag_sign(&old, "Bounces@Example.ORG", "ann@example.net",
	    '+', NOW, out, sizeof(out)) > 0);
	assert_true(fbtag_verify(&ring, out, "ann@example.net", "+", NOW, WIN,
	    NULL));
	/* An MTA that uppercases the address loses nothing. */
	for (size_t i = 0; i <= strlen(out); i++)
		up[i] = (char)(out[i] >= 'a' && out[i] <= 'z' ? out[i] - 32 : out[i]);
	assert_true(fbtag_verify(&ring, up, "ann@example.net", "+", NOW, WIN,
	    NULL));
}

static void
test_every_character(void **state)
{
	char out[300], bad[300];
	const char *tag;

	(void)state;
	assert_true(fbtag_sign(&ring, "bounces@example.org", "ann@example.net",
	    '+', NOW, out, sizeof(out)) > 0);
	tag = strstr(out, "+fb-") + 4;
	for (size_t i = (size_t)(tag - out); i < (size_t)(tag - out) +
	    FBTAG_LEN - 3; i++) {
		for (const char *c = "0123456789abcdefghijklmnopqrstuvwxyz"; *c; c++) {
			if (*c == out[i])
				continue;
			strcpy(bad, out);
			bad[i] = *c;
			if (fbtag_verify(&ring, bad, "ann@example.net", "+", NOW,
			    WIN, NULL))
				fail_msg("%s verified", bad);
		}
	}
}

static void
test_refusals(void **state)
{
	char out[300], again[300];
	char local[80];

	(void)state;
	/* 64 octets at most in the local part: 38 left for the sender's. */
	memset(local, 'a', 38);
	strcpy(local + 38, "@example.org");
	assert_true(fbtag_sign(&ring, local, "a@b.example", '+', NOW, out,
	    sizeof(out)) > 0);
	assert_int_equal(strchr(out, '@') - out, 64);
	memset(local, 'a', 39);
	strcpy(local + 39, "@example.org");
	assert_int_equal(fbtag_sign(&ring, local, "a@b.example", '+', NOW, out,
	    sizeof(out)), -1);
	/* No tag on a tag, no empty sender, no key. */
	assert_true(fbtag_sign(&ring, "b@example.org", "a@b.example", '+', NOW,
	    out, sizeof(out)) > 0);
	assert_int_equal(fbtag_sign(&ring, out, "a@b.example", '+', NOW, again,
	    sizeof(again)), -1);
	assert_int_equal(fbtag_sign(&ring, "", "a@b.example", '+', NOW, out,
	    sizeof(out)), -1);
	assert_int_equal(fbtag_sign(&ring, "@example.org", "a@b.example", '+',
	    NOW, out, sizeof(out)), -1);
	other.nkeys = 0;
	assert_int_equal(fbtag_sign(&other, "b@example.org", "a@b.example", '+',
	    NOW, out, sizeof(out)), -1);
	other.nkeys = 1;
	assert_int_equal(fbtag_sign(&ring, "b@example.org", "a@b.example", '+',
	    NOW, out, 20), -1);
	/* Not tags. */
	assert_false(fbtag_verify(&ring, "b@example.org", "a@b.example", "+",
	    NOW, WIN, NULL));
	assert_false(fbtag_verify(&ring, "b+fb-zz@example.org", "a@b.example",
	    "+", NOW, WIN, NULL));
	assert_false(fbtag_verify(&ring, "", "a@b.example", "+", NOW, WIN, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_rotation_and_case),
		cmocka_unit_test(test_every_character),
		cmocka_unit_test(test_refusals),
	};

	ring_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
