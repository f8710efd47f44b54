/*
 * test_enc.c - the output encoders on hostile input: every format's
 * escapes, the one rule for control characters and for octets outside
 * UTF-8 (overlong forms, surrogates, stray continuation octets, sequences
 * cut short), NUL inside a string, the buffer forms' bounds, and the
 * buffer and stream forms agreeing octet for octet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/enc.h"
#include "util/util.h"

/* Hostile strings every encoder is run over. */
static const struct {
	const char *s;
	size_t	n;
} hostile[] = {
	{ "", 0 }, { "plain", 5 }, { "a\0b", 3 }, { "\"\\/", 3 },
	{ "\x01\x1f\x7f\t\r\n", 6 }, { "caf\xc3\xa9", 5 }, { "caf\xe9", 4 },
	{ "\xc0\xaf", 2 }, { "\xed\xa0\x80", 3 }, { "\xf4\x90\x80\x80", 4 },
	{ "\xe2\x82", 2 }, { "\x80", 1 }, { "\xf0\x9f\x98\x80!", 5 },
	{ "<script>&'\"", 11 }, { "=cmd|' /C calc'!A0", 18 },
};
#define NHOSTILE (sizeof(hostile) / sizeof(hostile[0]))

/* stream - what fn writes to a stream for s, NUL-terminated in buf. */
static const char *
stream(int (*fn)(FILE *, const char *, size_t), const char *s, size_t n,
    char *buf, size_t len)
{
	FILE *fp;

	memset(buf, 0, len);
	assert_non_null(fp = fmemopen(buf, len, "w"));
	assert_int_equal(fn(fp, s, n), 0);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

/* into - what a buffer encoder writes for s, which must fit in buf. */
static const char *
into(size_t (*fn)(const char *, size_t, char *, size_t), const char *s,
    size_t n, char *buf, size_t len)
{
	assert_int_not_equal(fn(s, n, buf, len), (size_t)-1);
	return buf;
}

#define json(s, n, buf, len)	into(enc_json, s, n, buf, len)
#define html(s, n, buf, len)	into(enc_html, s, n, buf, len)

static void
test_json(void **state)
{
	char buf[256];

	(void)state;
	assert_string_equal(json("", 0, buf, sizeof(buf)), "\"\"");
	assert_string_equal(json("a\"b\\c/", 6, buf, sizeof(buf)),
	    "\"a\\\"b\\\\c/\"");
	assert_string_equal(json("\n\r\t\b\f", 5, buf, sizeof(buf)),
	    "\"\\n\\r\\t\\u0008\\u000c\"");
	assert_string_equal(json("\x01\x1f\x7f", 3, buf, sizeof(buf)),
	    "\"\\u0001\\u001f\\u007f\"");
	assert_string_equal(json("a\0b", 3, buf, sizeof(buf)),
	    "\"a\\u0000b\"");
	/* UTF-8 as it is; each octet outside it as U+FFFD, alone. */
	assert_string_equal(json("caf\xc3\xa9", 5, buf, sizeof(buf)),
	    "\"caf\xc3\xa9\"");
	assert_string_equal(json("\xc3\xa9\xe9", 3, buf, sizeof(buf)),
	    "\"\xc3\xa9\\ufffd\"");
	assert_string_equal(json("\xc0\xaf", 2, buf, sizeof(buf)),
	    "\"\\ufffd\\ufffd\"");		/* overlong '/' */
	assert_string_equal(json("\xed\xa0\x80", 3, buf, sizeof(buf)),
	    "\"\\ufffd\\ufffd\\ufffd\"");	/* a surrogate */
	assert_string_equal(json("\xf4\x90\x80\x80", 4, buf, sizeof(buf)),
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");	/* past U+10FFFF */
	assert_string_equal(json("x\xe2\x82", 3, buf, sizeof(buf)),
	    "\"x\\ufffd\\ufffd\"");		/* cut short */
	assert_string_equal(json("\xf0\x9f\x98\x80", 4, buf, sizeof(buf)),
	    "\"\xf0\x9f\x98\x80\"");
	assert_string_equal(stream(enc_json_put, "a\xff\n", 3, buf,
	    sizeof(buf)), "\"a\\ufffd\\n\"");
}

static void
test_json_bounds(void **state)
{
	char buf[8];

	(void)state;
	/* "abcde" needs 7 octets and the NUL. */
	assert_int_equal(enc_json("abcde", 5, buf, 8), 7);
	assert_string_equal(buf, "\"abcde\"");
	assert_int_equal(enc_json("abcdef", 6, buf, 8), (size_t)-1);
	assert_string_equal(buf, "");
	/* An escape that does not fit whole does not fit at all. */
	assert_int_equal(enc_json("abc\x01", 4, buf, 8), (size_t)-1);
	assert_int_equal(enc_json("", 0, buf, 2), (size_t)-1);
	assert_int_equal(enc_json("", 0, buf, 3), 2);
	assert_int_equal(enc_json("", 0, NULL, 0), (size_t)-1);
}

static void
test_html(void **state)
{
	char buf[256];

	(void)state;
	assert_string_equal(html("<b>A&B's \"x\"</b>", 16, buf, sizeof(buf)),
	    "&lt;b&gt;A&amp;B&#39;s &quot;x&quot;&lt;/b&gt;");
	/* TAB stays; every other control is U+FFFD, as is what is not UTF-8. */
	assert_string_equal(html("a\tb", 3, buf, sizeof(buf)), "a\tb");
	assert_string_equal(html("\n\r\x01\x7f", 4, buf, sizeof(buf)),
	    "&#xfffd;&#xfffd;&#xfffd;&#xfffd;");
	assert_string_equal(html("a\0b", 3, buf, sizeof(buf)), "a&#xfffd;b");
	assert_string_equal(html("caf\xc3\xa9", 5, buf, sizeof(buf)),
	    "caf\xc3\xa9");
	assert_string_equal(html("\xc3\xa9\xe9", 3, buf, sizeof(buf)),
	    "\xc3\xa9&#xfffd;");
	assert_string_equal(stream(enc_html_put, "<\xff>", 3, buf,
	    sizeof(buf)), "&lt;&#xfffd;&gt;");
	/* Bounds: the result and its NUL, or nothing. */
	assert_int_equal(enc_html("&", 1, buf, 6), 5);
	assert_int_equal(enc_html("&", 1, buf, 5), (size_t)-1);
	assert_string_equal(buf, "");
}

/* csv - enc_csv_put(s, n, flags) as a string, into buf. */
static const char *
csv(const char *s, size_t n, int flags, char *buf, size_t len)
{
	FILE *fp;

	memset(buf, 0, len);	/* fmemopen writes no NUL for an empty cell */
	assert_non_null(fp = fmemopen(buf, len, "w"));
	assert_int_equal(enc_csv_put(fp, s, n, flags), 0);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

static void
cell_is(const char *s, const char *want)
{
	char buf[256];

	assert_string_equal(csv(s, strlen(s), 0, buf, sizeof(buf)), want);
}

static void
test_csv(void **state)
{
	char buf[256];

	(void)state;
	cell_is("", "");
	cell_is("plain text", "plain text");
	cell_is("a,b", "\"a,b\"");
	cell_is("say \"hi\"", "\"say \"\"hi\"\"\"");
	cell_is("\"", "\"\"\"\"");
	cell_is("two\nlines", "\"two\nlines\"");
	cell_is("cr\r", "\"cr\r\"");
	cell_is("in\tside", "in\tside");
	cell_is("x=1+1", "x=1+1");
	/* What a spreadsheet would run gets a quote in front (OWASP). */
	cell_is("=HYPERLINK(\"http://x/\",\"y\")",
	    "\"'=HYPERLINK(\"\"http://x/\"\",\"\"y\"\")\"");
	cell_is("@SUM(1+1)", "\"'@SUM(1+1)\"");
	cell_is("+1", "\"'+1\"");
	cell_is("-2", "\"'-2\"");
	cell_is("\tx", "\"'\tx\"");
	cell_is("\rx", "\"'\rx\"");
	cell_is("=", "\"'=\"");
	/* So does one that looks guarded already, to read back as it was. */
	cell_is("'=x", "\"''=x\"");
	cell_is("''-x", "\"'''-x\"");
	cell_is("'x", "'x");
	cell_is("'", "'");
	cell_is(" =x", " =x");
	assert_true(enc_csv_formula("''@", 3));
	assert_false(enc_csv_formula("''", 2));
	assert_false(enc_csv_formula("", 0));
	/* Only with ENC_CSV_REPORT: controls, DEL and broken UTF-8 as \xHH. */
	assert_string_equal(csv("a\001b\177\n", 5, ENC_CSV_REPORT, buf,
	    sizeof(buf)), "\"a\\x01b\\x7f\n\"");
	assert_string_equal(csv("\0=", 2, ENC_CSV_REPORT, buf, sizeof(buf)),
	    "\\x00=");
	assert_string_equal(csv("caf\xc3\xa9", 5, ENC_CSV_REPORT, buf,
	    sizeof(buf)), "caf\xc3\xa9");
	assert_string_equal(csv("caf\xe9", 4, ENC_CSV_REPORT, buf, sizeof(buf)),
	    "caf\\xe9");
	/* Each octet on its own: the valid sequence beside it stays. */
	assert_string_equal(csv("\xc3\xa9\xe9\"", 4, ENC_CSV_REPORT, buf,
	    sizeof(buf)), "\"\xc3\xa9\\xe9\"\"\"");
	assert_string_equal(csv("a\001\xe9", 3, 0, buf, sizeof(buf)),
	    "a\001\xe9");
}

/* text - enc_text_put() into buf, and its width. */
static size_t
text(const char *s, size_t n, char *buf, size_t len)
{
	FILE *fp;
	size_t w;

	memset(buf, 0, len);
	assert_non_null(fp = fmemopen(buf, len, "w"));
	w = enc_text_put(fp, s, n);
	assert_int_equal(fclose(fp), 0);
	/* Measuring writes nothing and says the same. */
	assert_int_equal(enc_text_put(NULL, s, n), w);
	return w;
}

static void
test_text(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(text("plain", 5, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "plain");
	assert_int_equal(text("a\\b\n", 4, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "a\\x5cb\\x0a");
	assert_int_equal(text("caf\xc3\xa9", 5, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "caf\xc3\xa9");
	assert_int_equal(text("\xc3\xa9\xe9\0", 4, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "\xc3\xa9\\xe9\\x00");
	assert_int_equal(text("\x7f\t", 2, buf, sizeof(buf)), 8);
	assert_string_equal(buf, "\\x7f\\x09");
}

/*
 * What no format lets through: a raw control character (but the ones it
 * names), or an octet outside UTF-8; and the buffer and stream forms
 * agree.
 */
static void
test_hostile(void **state)
{
	char a[512], b[512];

	(void)state;
	for (size_t i = 0; i < NHOSTILE; i++) {
		const char *s = hostile[i].s;
		size_t n = hostile[i].n, len;

		len = enc_json(s, n, a, sizeof(a));
		assert_int_not_equal(len, (size_t)-1);
		assert_int_equal(strlen(a), len);
		assert_string_equal(stream(enc_json_put, s, n, b, sizeof(b)), a);
		for (size_t k = 0; k < len; k++)
			assert_true((unsigned char)a[k] >= 0x20 && a[k] != 0x7f);
		assert_int_equal(util_utf8_valid(a, len), 1);

		len = enc_html(s, n, a, sizeof(a));
		assert_int_not_equal(len, (size_t)-1);
		assert_string_equal(stream(enc_html_put, s, n, b, sizeof(b)), a);
		assert_null(strpbrk(a, "<>\"'"));
		for (size_t k = 0; k < len; k++)
			assert_true(((unsigned char)a[k] >= 0x20 || a[k] == '\t') &&
			    a[k] != 0x7f);
		assert_int_equal(util_utf8_valid(a, len), 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_bounds),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
