/*
 * test_util.c - util.c on hostile input: the caller's err buffer filled
 * or left alone, truncating copies, hex digits, UTF-8 judged a sequence
 * at a time (overlong forms, surrogates, past U+10FFFF, cut short, stray
 * continuation octets), and log sanitising that always gives one
 * printable ASCII line within its buffer.  Times are test_time.c's, the
 * encoders test_enc.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/util.h"

static void
test_fail(void **state)
{
	char err[8];

	(void)state;
	assert_int_equal(util_fail(err, sizeof(err), "%s %d", "line", 42), -1);
	assert_string_equal(err, "line 42");
	/* Truncated, NUL-terminated; none at all without a buffer. */
	assert_int_equal(util_fail(err, sizeof(err), "%s", "a longer one"), -1);
	assert_string_equal(err, "a longe");
	memset(err, 'x', sizeof(err));
	assert_int_equal(util_fail(err, 0, "%s", "nothing"), -1);
	assert_int_equal(err[0], 'x');
	assert_int_equal(util_fail(NULL, 100, "%s", "nothing"), -1);
	/* A % in the data is data. */
	assert_int_equal(util_fail(err, sizeof(err), "%s", "%n%s%x"), -1);
	assert_string_equal(err, "%n%s%x");
}

static void
test_strlcpy_hexval(void **state)
{
	char buf[4];

	(void)state;
	assert_int_equal(util_strlcpy(buf, "abc", sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(util_strlcpy(buf, "abcdef", sizeof(buf)), 6);
	assert_string_equal(buf, "abc");
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(util_strlcpy(buf, "abc", 0), 3);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(util_strlcpy(buf, "", 1), 0);
	assert_string_equal(buf, "");
	assert_int_equal(util_hexval('0'), 0);
	assert_int_equal(util_hexval('9'), 9);
	assert_int_equal(util_hexval('a'), 10);
	assert_int_equal(util_hexval('F'), 15);
	assert_int_equal(util_hexval('g'), -1);
	assert_int_equal(util_hexval('/'), -1);
	assert_int_equal(util_hexval(0xe9), -1);
	assert_int_equal(util_hexval(-1), -1);
}

static void
test_utf8(void **state)
{
	static const struct {
		const char *s;
		size_t	n, seq;
		int	valid;
	} v[] = {
		{ "a", 1, 1, 1 }, { "\0", 1, 1, 1 },
		{ "\xc3\xa9", 2, 2, 1 }, { "\xe2\x82\xac", 3, 3, 1 },
		{ "\xf0\x9f\x98\x80", 4, 4, 1 }, { "\xf4\x8f\xbf\xbf", 4, 4, 1 },
		{ "\xef\xbf\xbd", 3, 3, 1 },
		{ "\x80", 1, 0, 0 }, { "\xbf", 1, 0, 0 },	/* continuation */
		{ "\xc0\xaf", 2, 0, 0 }, { "\xc1\xbf", 2, 0, 0 },	/* overlong */
		{ "\xe0\x80\xaf", 3, 0, 0 }, { "\xf0\x80\x80\xaf", 4, 0, 0 },
		{ "\xed\xa0\x80", 3, 0, 0 }, { "\xed\xbf\xbf", 3, 0, 0 },
		{ "\xf4\x90\x80\x80", 4, 0, 0 }, { "\xf5\x80\x80\x80", 4, 0, 0 },
		{ "\xff", 1, 0, 0 }, { "\xfe", 1, 0, 0 },
		{ "\xc3", 1, 0, 0 }, { "\xe2\x82", 2, 0, 0 },	/* cut short */
		{ "\xf0\x9f\x98", 3, 0, 0 }, { "\xc3\x41", 2, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (util_utf8_seq(v[i].s, v[i].n) != v[i].seq ||
		    util_utf8_valid(v[i].s, v[i].n) != v[i].valid)
			fail_msg("case %zu", i);
	}
	assert_int_equal(util_utf8_valid("", 0), 1);
	assert_int_equal(util_utf8_valid("caf\xc3\xa9 ok", 8), 1);
	assert_int_equal(util_utf8_valid("caf\xc3\xa9\xe9", 6), 0);
	/* A sequence is judged within n: the octets after it do not count. */
	assert_int_equal(util_utf8_seq("\xc3\xa9", 1), 0);
	assert_int_equal(util_utf8_valid("\xc3\xa9", 1), 0);
}

/* printable - s is one line of printable ASCII. */
static void
printable(const char *s)
{
	for (; *s; s++)
		assert_true(*s >= 0x20 && *s < 0x7f);
}

static void
test_sanitize(void **state)
{
	char buf[64], all[256];

	(void)state;
	assert_string_equal(util_sanitize("a b%c", 5, buf, sizeof(buf)),
	    "a b%c");
	assert_string_equal(util_sanitize("a\nb\\c\x7f\xc3\xa9", 8, buf,
	    sizeof(buf)), "a\\x0ab\\x5cc\\x7f\\xc3\\xa9");
	assert_string_equal(util_sanitize("a\0b", 3, buf, sizeof(buf)),
	    "a\\x00b");
	/* Every octet, in every buffer size: bounded, one printable line. */
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	for (size_t len = 1; len < sizeof(buf); len++) {
		memset(buf, 'Z', sizeof(buf));
		util_sanitize(all, sizeof(all), buf, len);
		assert_true(strlen(buf) < len);
		assert_int_equal(buf[len - 1] == '\0' || strlen(buf) < len - 1, 1);
		printable(buf);
		for (size_t k = len; k < sizeof(buf); k++)
			assert_int_equal(buf[k], 'Z');
	}
	/* Cut short with "...", never in the middle of an escape. */
	util_sanitize("abcdefghijklmnopqrstuvwxyz", 26, buf, 12);
	assert_string_equal(buf, "abcdefgh...");
	util_sanitize("\x01\x02\x03\x04\x05", 5, buf, 12);
	assert_string_equal(buf, "\\x01\\x02...");
	/* len 0 writes nothing. */
	buf[0] = 'Z';
	util_sanitize("abc", 3, buf, 0);
	assert_int_equal(buf[0], 'Z');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail),
		cmocka_unit_test(test_strlcpy_hexval),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_sanitize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
