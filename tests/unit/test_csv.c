/*
 * test_csv.c - the CSV reader: RFC 4180 quoting, BOM and line ends,
 * delimiters given and guessed, every malformed row refused with the line
 * it starts on and the reader going on after it, the bounds, and a file
 * read in chunks giving exactly what the same bytes give from memory.
 * The formula guard undone, and every cell written by enc_csv_put (its
 * own tests are in test_enc.c) read back through csv_unguard as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/csv.h"
#include "util/enc.h"

/* A row as read: its line and its fields joined by '|', or the error. */
struct got {
	int	rc;
	unsigned long line;
	char	text[512];
};

/* next - csv_next() into g; fields joined by '|' (NUL-free inputs only). */
static int
next(struct csv *c, struct got *g)
{
	char **f, err[256];
	size_t n, o = 0;

	err[0] = '\0';
	g->rc = csv_next(c, &f, &n, &g->line, err, sizeof(err));
	g->text[0] = '\0';
	if (g->rc == 1) {
		for (size_t i = 0; i < n; i++) {
			int w = snprintf(g->text + o, sizeof(g->text) - o,
			    "%s%s", i ? "|" : "", f[i]);

			if (w < 0 || (size_t)w >= sizeof(g->text) - o)
				break;
			o += (size_t)w;
		}
	} else if (g->rc < 0)
		snprintf(g->text, sizeof(g->text), "%s", err);
	return g->rc;
}

static struct csv *
mem(const char *s)
{
	struct csv *c = csv_open_mem(s, strlen(s));

	assert_non_null(c);
	return c;
}

static void
expect_row(struct csv *c, unsigned long line, const char *text)
{
	struct got g;

	assert_int_equal(next(c, &g), 1);
	assert_int_equal(g.line, line);
	assert_string_equal(g.text, text);
}

static void
expect_err(struct csv *c, unsigned long line, const char *msg)
{
	struct got g;

	assert_int_equal(next(c, &g), -1);
	assert_int_equal(g.line, line);
	assert_string_equal(g.text, msg);
}

static void
expect_end(struct csv *c)
{
	struct got g;

	assert_int_equal(next(c, &g), 0);
	assert_int_equal(next(c, &g), 0);	/* and stays there */
}

static void
test_basic(void **state)
{
	struct csv *c = mem("a,b,c\n1,2,3\n,,\nx\n");

	(void)state;
	expect_row(c, 1, "a|b|c");
	expect_row(c, 2, "1|2|3");
	expect_row(c, 3, "||");
	expect_row(c, 4, "x");
	expect_end(c);
	csv_free(c);

	/* No newline at the end; a trailing delimiter is an empty field. */
	c = mem("a,b,\nlast,row");
	expect_row(c, 1, "a|b|");
	expect_row(c, 2, "last|row");
	expect_end(c);
	csv_free(c);

	c = mem("");
	expect_end(c);
	csv_free(c);
	csv_free(NULL);
}

static void
test_quoting(void **state)
{
	struct csv *c = mem("\"a,b\",\"he said \"\"hi\"\"\",\"\"\n"
	    "\"multi\nline\",x\n"
	    "\"crlf\r\nkept\",y\r\n"
	    "\"\"\"\",\"\"\"\"\"\"\n"
	    "after,it\n");

	(void)state;
	expect_row(c, 1, "a,b|he said \"hi\"|");
	expect_row(c, 2, "multi\nline|x");
	expect_row(c, 4, "crlf\r\nkept|y");
	expect_row(c, 6, "\"|\"\"");
	expect_row(c, 7, "after|it");
	expect_end(c);
	csv_free(c);
}

static void
test_bom_and_line_ends(void **state)
{
	struct csv *c = mem("\xef\xbb\xbf" "h1,h2\r\na,b\nc,d\re,f\r\n\r\n\n"
	    "\r\ng,h");

	(void)state;
	expect_row(c, 1, "h1|h2");	/* the BOM is not part of h1 */
	expect_row(c, 2, "a|b");
	expect_row(c, 3, "c|d");
	expect_row(c, 4, "e|f");
	expect_row(c, 8, "g|h");	/* empty lines skipped, still counted */
	expect_end(c);
	csv_free(c);

	/* Only a BOM; a BOM later on is data. */
	c = mem("\xef\xbb\xbf");
	expect_end(c);
	csv_free(c);
	c = mem("a\n\xef\xbb\xbfz\n");
	expect_row(c, 1, "a");
	expect_row(c, 2, "\xef\xbb\xbfz");
	expect_end(c);
	csv_free(c);
}

static void
test_delimiters(void **state)
{
	struct csv *c;

	(void)state;
	c = mem("a;b,c\n");
	assert_int_equal(csv_delim(c), ',');
	assert_int_equal(csv_set_delim(c, ';'), 0);
	expect_row(c, 1, "a|b,c");
	csv_free(c);

	c = mem("a\tb;c\n");
	assert_int_equal(csv_set_delim(c, '\t'), 0);
	expect_row(c, 1, "a|b;c");
	csv_free(c);

	c = mem("x");
	assert_int_equal(csv_set_delim(c, '|'), -1);
	assert_int_equal(csv_set_delim(c, '"'), -1);
	assert_int_equal(csv_delim(c), ',');
	csv_free(c);

	/* Guessed from line 1, outside quotes. */
	c = mem("\"E-Mail, work\";Status;List\n"
	    "anna@example.com;subscribed;news\n");
	assert_int_equal(csv_set_delim(c, CSV_DELIM_AUTO), 0);
	expect_row(c, 1, "E-Mail, work|Status|List");
	assert_int_equal(csv_delim(c), ';');
	expect_row(c, 2, "anna@example.com|subscribed|news");
	csv_free(c);

	c = mem("\xef\xbb\xbf" "email\tstatus\nb@example.com\tpending\n");
	csv_set_delim(c, CSV_DELIM_AUTO);
	expect_row(c, 1, "email|status");
	assert_int_equal(csv_delim(c), '\t');
	csv_free(c);

	/* No delimiter at all, or a tie: ','. */
	c = mem("email\nb@example.com\n");
	csv_set_delim(c, CSV_DELIM_AUTO);
	expect_row(c, 1, "email");
	assert_int_equal(csv_delim(c), ',');
	csv_free(c);
	c = mem("a,b;c\n");
	csv_set_delim(c, CSV_DELIM_AUTO);
	expect_row(c, 1, "a|b;c");
	assert_int_equal(csv_delim(c), ',');
	csv_free(c);
}

static void
test_errors_resync(void **state)
{
	struct csv *c = mem("ok,1\n"
	    "ab\"c,2\n"			/* 2: bare quote */
	    "\"x\"y,3\n"		/* 3: text after the closing quote */
	    "good,4\n"
	    "5,\"open\n"		/* 5: quote runs on ... */
	    "6,ok\n"			/* ... across this line ... */
	    "7,\"closed\"\n"		/* ... and closes here, then 'c' */
	    "last,8\n"
	    "9,\"never closed\n"
	    "10,x\n");

	(void)state;
	expect_row(c, 1, "ok|1");
	expect_err(c, 2, "field 1: bare quote in unquoted field");
	expect_err(c, 3, "field 1: text after the closing quote");
	expect_row(c, 4, "good|4");
	expect_err(c, 5, "field 2: text after the closing quote");
	/*
	 * Lines 6 and 7 are inside row 5's quoted field: resumed after the
	 * end of that row, never inside it (its text is not a row).
	 */
	expect_row(c, 8, "last|8");
	/* A quote never closed takes the rest of the file with it. */
	expect_err(c, 9, "field 2: unterminated quoted field");
	expect_end(c);
	csv_free(c);

	/* A bad row whose quoted note holds a line that looks like a row. */
	c = mem("a@x,unsubscribed,\"moved \xff\n"
	    "c@x,subscribed,\n"
	    "\"\n"
	    "d@x,subscribed,ok\n");
	expect_err(c, 1, "field 3: invalid UTF-8");
	expect_row(c, 4, "d@x|subscribed|ok");
	expect_end(c);
	csv_free(c);

	/* Errors on the last line, without a newline. */
	c = mem("a,b\nc,\"d");
	expect_row(c, 1, "a|b");
	expect_err(c, 2, "field 2: unterminated quoted field");
	expect_end(c);
	csv_free(c);
	c = mem("x\"");
	expect_err(c, 1, "field 1: bare quote in unquoted field");
	expect_end(c);
	csv_free(c);
}

static void
test_nul_and_utf8(void **state)
{
	static const char nul[] = "a,b\x00" "c,d\ne,f\n\"q\x00\",g\nh,i\n";
	struct csv *c;

	(void)state;
	c = csv_open_mem(nul, sizeof(nul) - 1);
	assert_non_null(c);
	expect_err(c, 1, "field 2: NUL byte in field");
	expect_row(c, 2, "e|f");
	expect_err(c, 3, "field 1: NUL byte in field");
	expect_row(c, 4, "h|i");
	expect_end(c);
	csv_free(c);

	c = mem("caf\xc3\xa9,\xe2\x82\xac,\xf0\x9f\x93\xa7\n"
	    "ok,caf\xe9\n"			/* Latin-1 */
	    "\xc3,x\n"				/* cut sequence */
	    "\xed\xa0\x80\n"			/* a surrogate */
	    "\xc0\xaf\n"			/* overlong */
	    "\"\xf4\x90\x80\x80\"\n"		/* past U+10FFFF */
	    "end\n");
	expect_row(c, 1, "caf\xc3\xa9|\xe2\x82\xac|\xf0\x9f\x93\xa7");
	expect_err(c, 2, "field 2: invalid UTF-8");
	expect_err(c, 3, "field 1: invalid UTF-8");
	expect_err(c, 4, "field 1: invalid UTF-8");
	expect_err(c, 5, "field 1: invalid UTF-8");
	expect_err(c, 6, "field 1: invalid UTF-8");
	expect_row(c, 7, "end");
	expect_end(c);
	csv_free(c);
}

/* build - "PREFIX" + n times ch + "SUFFIX", malloc'd. */
static char *
build(const char *prefix, size_t n, int ch, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *s = malloc(pl + n + sl + 1);

	assert_non_null(s);
	memcpy(s, prefix, pl);
	memset(s + pl, ch, n);
	memcpy(s + pl + n, suffix, sl + 1);
	return s;
}

static void
test_bounds(void **state)
{
	char **f, err[128], *s;
	size_t n;
	unsigned long line;
	struct csv *c;

	(void)state;
	/* A field of exactly CSV_FIELD_MAX octets, quoted or not. */
	s = build("a,", CSV_FIELD_MAX, 'x', ",b\n");
	c = mem(s);
	assert_int_equal(csv_next(c, &f, &n, &line, err, sizeof(err)), 1);
	assert_int_equal(n, 3);
	assert_int_equal(strlen(f[1]), CSV_FIELD_MAX);
	csv_free(c);
	free(s);
	s = build("\"", CSV_FIELD_MAX, 'x', "\"\nnext\n");
	c = mem(s);
	assert_int_equal(csv_next(c, &f, &n, &line, err, sizeof(err)), 1);
	assert_int_equal(strlen(f[0]), CSV_FIELD_MAX);
	expect_row(c, 2, "next");
	csv_free(c);
	free(s);

	/* One octet more is refused, and the next line still read. */
	s = build("a,", CSV_FIELD_MAX + 1, 'x', "\nnext\n");
	c = mem(s);
	expect_err(c, 1, "field 2: field longer than 65536 octets");
	expect_row(c, 2, "next");
	expect_end(c);
	csv_free(c);
	free(s);
	s = build("\"", CSV_FIELD_MAX + 1, 'x', "\"\nnext\n");
	c = mem(s);
	expect_err(c, 1, "field 1: field longer than 65536 octets");
	expect_row(c, 2, "next");
	csv_free(c);
	free(s);

	/* CSV_FIELDS_MAX fields, then one more. */
	s = build("", CSV_FIELDS_MAX - 1, ',', "\n");
	c = mem(s);
	assert_int_equal(csv_next(c, &f, &n, &line, err, sizeof(err)), 1);
	assert_int_equal(n, CSV_FIELDS_MAX);
	csv_free(c);
	free(s);
	s = build("", CSV_FIELDS_MAX, ',', "\nok\n");
	c = mem(s);
	expect_err(c, 1, "more than 1024 fields");
	expect_row(c, 2, "ok");
	csv_free(c);
	free(s);

	/* A row past CSV_ROW_MAX octets, each field within bounds. */
	{
		size_t nf = CSV_ROW_MAX / 60000 + 1, o = 0;

		s = malloc(nf * 60001 + 16);
		assert_non_null(s);
		for (size_t i = 0; i < nf; i++) {
			memset(s + o, 'y', 60000);
			o += 60000;
			s[o++] = i + 1 < nf ? ',' : '\n';
		}
		strcpy(s + o, "z\n");
		c = mem(s);
		expect_err(c, 1, "row longer than 1048576 octets");
		expect_row(c, 2, "z");
		csv_free(c);
		free(s);
	}
}

/*
 * A large input with rows across the 64 KiB read chunks, long quoted
 * fields, bad rows to resync from and all line ends: read from a FILE it
 * gives exactly what it gives from memory.
 */
static void
test_file_equals_mem(void **state)
{
	size_t cap = 3 * 1024 * 1024, len = 0;
	char *buf = malloc(cap);
	struct csv *cm, *cf;
	struct got gm, gf;
	unsigned long rows = 0, bad = 0;
	FILE *fp;

	(void)state;
	assert_non_null(buf);
	memcpy(buf, "\xef\xbb\xbf", 3);
	len = 3;
	srand(7);
	for (int i = 0; len + 100000 < cap; i++) {
		int k = rand() % 10;

		if (k == 0) {
			/* A long quoted field with doubled quotes and lines. */
			size_t n = (size_t)(rand() % 90000);

			buf[len++] = '"';
			for (size_t j = 0; j < n; j++) {
				int r = rand() % 200;

				if (r == 0) {
					buf[len++] = '"';
					buf[len++] = '"';
				} else if (r == 1)
					buf[len++] = '\n';
				else
					buf[len++] = (char)('a' + r % 26);
			}
			len += (size_t)sprintf(buf + len, "\",%d\r\n", i);
		} else if (k == 1)
			len += (size_t)sprintf(buf + len, "bad\"%d,x\n", i);
		else if (k == 2)
			len += (size_t)sprintf(buf + len, "\"open %d\n", i);
		else if (k == 3)
			len += (size_t)sprintf(buf + len, "\r\n\n");
		else
			len += (size_t)sprintf(buf + len,
			    "user%d@example.com,\"Name, %d\",%d\r", i, i, k);
	}
	fp = fmemopen(buf, len, "r");
	assert_non_null(fp);
	cm = csv_open_mem(buf, len);
	cf = csv_open(fp);
	assert_non_null(cm);
	assert_non_null(cf);
	for (;;) {
		next(cm, &gm);
		next(cf, &gf);
		assert_int_equal(gm.rc, gf.rc);
		assert_int_equal(gm.line, gf.line);
		assert_string_equal(gm.text, gf.text);
		if (gm.rc == 0)
			break;
		rows += gm.rc == 1;
		bad += gm.rc == -1;
	}
	assert_true(rows > 1000);
	assert_true(bad > 100);
	csv_free(cm);
	csv_free(cf);
	fclose(fp);
	free(buf);
}

static void
test_read_error(void **state)
{
	char **f, err[128];
	size_t n;
	unsigned long line;
	FILE *fp = fopen("/dev/null", "w");	/* reading it fails */
	struct csv *c;

	(void)state;
	assert_non_null(fp);
	c = csv_open(fp);
	assert_non_null(c);
	assert_int_equal(csv_next(c, &f, &n, &line, err, sizeof(err)), -2);
	assert_non_null(strstr(err, "read error"));
	assert_int_equal(csv_next(c, &f, &n, &line, err, sizeof(err)), -2);
	csv_free(c);
	fclose(fp);
}

/* Fields stay put until the next call, and NULL err is allowed. */
static void
test_fields_stable(void **state)
{
	char **f;
	size_t n;
	unsigned long line;
	struct csv *c = mem("first,second\n\"x\nx\"y\nthird\n");

	(void)state;
	assert_int_equal(csv_next(c, &f, &n, &line, NULL, 0), 1);
	assert_string_equal(f[0], "first");
	assert_string_equal(f[1], "second");
	assert_int_equal(csv_next(c, &f, &n, &line, NULL, 0), -1);
	assert_null(f);
	assert_int_equal(n, 0);
	assert_int_equal(line, 2);
	/* The bad row ran on to line 3: the next one is line 4. */
	assert_int_equal(csv_next(c, &f, &n, &line, NULL, 0), 1);
	assert_string_equal(f[0], "third");
	assert_int_equal(line, 4);
	csv_free(c);
}

static void
test_unguard(void **state)
{
	(void)state;
	assert_string_equal(csv_unguard("'=x"), "=x");
	assert_string_equal(csv_unguard("'+1"), "+1");
	assert_string_equal(csv_unguard("'-2"), "-2");
	assert_string_equal(csv_unguard("'@x"), "@x");
	assert_string_equal(csv_unguard("'\tx"), "\tx");
	assert_string_equal(csv_unguard("'\rx"), "\rx");
	assert_string_equal(csv_unguard("''=x"), "'=x");
	/* Anything else is text as it is. */
	assert_string_equal(csv_unguard("'x'"), "'x'");
	assert_string_equal(csv_unguard("'"), "'");
	assert_string_equal(csv_unguard("''"), "''");
	assert_string_equal(csv_unguard("=x"), "=x");
	assert_string_equal(csv_unguard("' =x"), "' =x");
	assert_string_equal(csv_unguard(""), "");
}

/* Written with enc_csv_put, read with csv_next, unguarded: the same text. */
static void
test_put_read_back(void **state)
{
	static const char *cells[] = {
		"", "plain", "a,b", "q\"q", "\"", "l\nf", "c\r\nr", "\r", "\t",
		"=1+1", "+", "-2", "@", "'", "'=", "''+x", "'x", "=\"a,\nb\"",
		" lead", "trail ", "caf\xc3\xa9", "; semi",
	};
	char buf[4096], **f;
	size_t n, ncells = sizeof(cells) / sizeof(cells[0]);
	unsigned long line;
	struct csv *c;
	FILE *fp;

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_non_null(fp = fmemopen(buf, sizeof(buf), "w"));
	/* One cell per row after a fixed one: no row is blank. */
	for (size_t i = 0; i < ncells; i++) {
		fputs("x,", fp);
		assert_int_equal(enc_csv_put(fp, cells[i], strlen(cells[i]), 0),
		    0);
		fputs("\r\n", fp);
	}
	assert_int_equal(fclose(fp), 0);
	c = mem(buf);
	for (size_t i = 0; i < ncells; i++) {
		assert_int_equal(csv_next(c, &f, &n, &line, NULL, 0), 1);
		assert_int_equal(n, 2);
		assert_string_equal(csv_unguard(f[1]), cells[i]);
		/* What a spreadsheet sees never starts a formula. */
		assert_true(f[1][0] == '\0' || strchr("=+-@\t\r", f[1][0]) == NULL);
	}
	assert_int_equal(csv_next(c, &f, &n, &line, NULL, 0), 0);
	csv_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_bom_and_line_ends),
		cmocka_unit_test(test_delimiters),
		cmocka_unit_test(test_errors_resync),
		cmocka_unit_test(test_nul_and_utf8),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_file_equals_mem),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_fields_stable),
		cmocka_unit_test(test_unguard),
		cmocka_unit_test(test_put_read_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
