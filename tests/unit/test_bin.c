/*
 * test_bin.c - the binary writer and reader (util/bin.h): fixed integers
 * and strings, and the varints, which have one encoding per value and
 * refuse overlong, overflowing and cut-short forms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/bin.h"

/* enc_u - v as a uvarint into buf; its length. */
static size_t
enc_u(uint64_t v, unsigned char *buf, size_t cap)
{
	struct bin_w w = { buf, 0, cap, 0 };
	struct bin_w m = { NULL, 0, 0, 0 };

	bin_put_uvarint(&w, v);
	bin_put_uvarint(&m, v);
	assert_false(w.bad);
	assert_int_equal(m.len, w.len);		/* measuring agrees */
	return w.len;
}

static void
test_fixed(void **state)
{
	unsigned char buf[32];
	struct bin_w w = { buf, 0, sizeof(buf), 0 };
	struct bin_r r;
	char s[8];

	(void)state;
	bin_put_u8(&w, 0xab);
	bin_put_u16(&w, 0x1234);
	bin_put_i64(&w, -2);
	bin_put_str(&w, "abc", 7);
	assert_false(w.bad);
	assert_int_equal(w.len, 1 + 2 + 8 + 4);
	assert_int_equal(buf[1], 0x12);		/* big-endian */
	r = (struct bin_r){ buf, w.len, 0, NULL };
	assert_int_equal(bin_u8(&r, "a"), 0xab);
	assert_int_equal(bin_u16(&r, "b"), 0x1234);
	assert_true(bin_i64(&r, "c") == -2);
	bin_copy(&r, s, 7, "d");
	assert_string_equal(s, "abc");
	assert_null(r.why);
	assert_int_equal(r.off, r.len);
	/* Past the end: the first field short is named, the rest stay quiet. */
	assert_int_equal(bin_u8(&r, "e"), 0);
	assert_true(bin_i64(&r, "f") == 0);
	assert_string_equal(r.why, "e");
	/* A writer that runs out is bad, and stays so. */
	w = (struct bin_w){ buf, 0, 2, 0 };
	bin_put_u16(&w, 1);
	bin_put_u8(&w, 1);
	assert_true(w.bad);
}

static void
test_uvarint_roundtrip(void **state)
{
	static const struct {
		uint64_t v;
		size_t n;
	} cases[] = {
		{ 0, 1 }, { 1, 1 }, { 127, 1 }, { 128, 2 }, { 16383, 2 },
		{ 16384, 3 }, { 1700000000, 5 }, { (uint64_t)1 << 35, 6 },
		{ INT64_MAX, 9 }, { (uint64_t)1 << 63, 10 }, { UINT64_MAX, 10 },
	};
	unsigned char buf[16];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bin_r r;
		size_t n = enc_u(cases[i].v, buf, sizeof(buf));

		assert_int_equal(n, cases[i].n);
		r = (struct bin_r){ buf, n, 0, NULL };
		assert_true(bin_uvarint(&r, "v") == cases[i].v);
		assert_null(r.why);
		assert_int_equal(r.off, n);
	}
	/* The low seven bits come first. */
	assert_int_equal(enc_u(300, buf, sizeof(buf)), 2);
	assert_int_equal(buf[0], 0xac);
	assert_int_equal(buf[1], 0x02);
}

static void
test_svarint_roundtrip(void **state)
{
	static const int64_t cases[] = {
		0, -1, 1, -2, 63, -64, 64, -65, 1700000000, -1700000000,
		INT64_MAX, INT64_MIN, INT64_MIN + 1,
	};
	unsigned char buf[16];

	(void)state;
	assert_true(bin_zigzag(0) == 0);
	assert_true(bin_zigzag(-1) == 1);
	assert_true(bin_zigzag(1) == 2);
	assert_true(bin_zigzag(INT64_MIN) == UINT64_MAX);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bin_w w = { buf, 0, sizeof(buf), 0 };
		struct bin_r r;

		bin_put_svarint(&w, cases[i]);
		assert_false(w.bad);
		r = (struct bin_r){ buf, w.len, 0, NULL };
		assert_true(bin_svarint(&r, "v") == cases[i]);
		assert_null(r.why);
		assert_int_equal(r.off, w.len);
	}
	/* Small either side of 0 is one octet; a time of today five. */
	assert_int_equal(enc_u(bin_zigzag(-64), buf, sizeof(buf)), 1);
	assert_int_equal(enc_u(bin_zigzag(1700000000), buf, sizeof(buf)), 5);
}

/* refused - the varint in v[0..n) fails the reader on "x". */
static void
refused(const unsigned char *v, size_t n)
{
	struct bin_r r = { v, n, 0, NULL };

	assert_true(bin_uvarint(&r, "x") == 0);
	assert_non_null(r.why);
	assert_string_equal(r.why, "x");
	assert_int_equal(r.off, 0);
	r = (struct bin_r){ v, n, 0, NULL };
	assert_true(bin_svarint(&r, "x") == 0);
	assert_string_equal(r.why, "x");
}

static void
test_varint_refused(void **state)
{
	/* overlong: a last octet of 0 after the first */
	static const unsigned char over1[] = { 0x80, 0x00 };
	static const unsigned char over2[] = { 0x81, 0x80, 0x00 };
	static const unsigned char over10[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00
	};
	/* past 64 bits: a tenth octet over 1, or an eleventh */
	static const unsigned char big[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02
	};
	static const unsigned char eleven[] = {
		0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x01
	};
	/* cut short: the high bit says more follows */
	static const unsigned char cut[] = { 0x80 };
	static const unsigned char cut2[] = { 0xff, 0xff };
	static const unsigned char zero[] = { 0x00 };
	unsigned char buf[16];
	struct bin_r r;

	(void)state;
	refused(over1, sizeof(over1));
	refused(over2, sizeof(over2));
	refused(over10, sizeof(over10));
	refused(big, sizeof(big));
	refused(eleven, sizeof(eleven));
	refused(cut, sizeof(cut));
	refused(cut2, sizeof(cut2));
	refused(zero, 0);
	/* A single 0 is the value 0, not overlong. */
	r = (struct bin_r){ zero, 1, 0, NULL };
	assert_true(bin_uvarint(&r, "x") == 0);
	assert_null(r.why);
	/* Every prefix of a long varint is cut short. */
	for (size_t n = 0; n < enc_u(UINT64_MAX, buf, sizeof(buf)); n++)
		refused(buf, n);
	/* A failed reader reads nothing more. */
	r = (struct bin_r){ cut, 1, 0, "earlier" };
	assert_true(bin_uvarint(&r, "x") == 0);
	assert_string_equal(r.why, "earlier");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_uvarint_roundtrip),
		cmocka_unit_test(test_svarint_roundtrip),
		cmocka_unit_test(test_varint_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
