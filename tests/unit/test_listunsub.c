/*
 * test_listunsub.c - the List-Unsubscribe value: exact output, folding only
 * between URIs and at 78 octets, the 998-octet line limit, %t/%l/%%
 * expansion, and the template checks with the message an operator reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/listunsub.h"

#define PREFIX	(sizeof(LISTUNSUB_HEADER ": ") - 1)
#define URL	"https://u.example.com/u/%t"
#define MAILTO	"mailto:unsubscribe@example.com?subject=unsubscribe%%20%t"
#define TOKEN	"AZ3f_9-kQ2xW"

struct bad_case {
	const char *tmpl, *scheme, *err;	/* err: part of the message */
};

/* longest_line - the longest line of the header, name included. */
static size_t
longest_line(const char *v)
{
	size_t max = 0, cur = PREFIX;

	for (; *v != '\0'; v++) {
		if (*v == '\n') {
			max = cur > max ? cur : max;
			cur = 0;
		} else
			cur++;
	}
	return cur > max ? cur : max;
}

/* fill - "https://e.x/" and 'a's up to n octets, into buf. */
static const char *
fill(char *buf, const char *head, size_t n)
{
	size_t h = strlen(head);

	memcpy(buf, head, h);
	memset(buf + h, 'a', n - h);
	buf[n] = '\0';
	return buf;
}

static void
test_build_exact(void **state)
{
	char out[LISTUNSUB_VALUE_MAX + 1];
	int n;

	(void)state;
	/* Short: one line. */
	n = listunsub_build("https://e.x/%t", "mailto:u@e.x?subject=%t", "abc", "news",
	    out, sizeof(out));
	assert_string_equal(out,
	    "<https://e.x/abc>, <mailto:u@e.x?subject=abc>");
	assert_int_equal(n, (int)strlen(out));

	/* The templates: the mailto goes to a continuation line. */
	n = listunsub_build(URL, MAILTO, TOKEN, "news", out, sizeof(out));
	assert_string_equal(out, "<https://u.example.com/u/" TOKEN ">,\n"
	    "\t<mailto:unsubscribe@example.com?subject=unsubscribe%20"
	    TOKEN ">");
	assert_int_equal(n, (int)strlen(out));

	/* No mailto: the URL alone, NULL or empty alike. */
	n = listunsub_build(URL, NULL, TOKEN, "news", out, sizeof(out));
	assert_string_equal(out, "<https://u.example.com/u/" TOKEN ">");
	assert_int_equal(listunsub_build(URL, "", TOKEN, "news", out, sizeof(out)), n);

	/* %l, and a list-level URL without %t. */
	listunsub_build("https://e.x/%l/%t", "mailto:unsub-%l@e.x", "t0k",
	    "weekly.d-1", out, sizeof(out));
	assert_string_equal(out, "<https://e.x/weekly.d-1/t0k>, "
	    "<mailto:unsub-weekly.d-1@e.x>");
	listunsub_build("https://e.x/lists/%l", NULL, NULL, "news", out, sizeof(out));
	assert_string_equal(out, "<https://e.x/lists/news>");
	assert_string_equal(LISTUNSUB_POST_VALUE, "List-Unsubscribe=One-Click");
}

static void
test_fold_at_78(void **state)
{
	char url[LISTUNSUB_VALUE_MAX], out[LISTUNSUB_VALUE_MAX + 1];
	const char *m = "mailto:u@e.x";	/* "<mailto:u@e.x>" is 14 */

	(void)state;
	/* 18 + (2 + u) + 2 + 14 = 78 when u = 42. */
	listunsub_build(fill(url, "https://e.x/", 42), m, NULL, NULL, out,
	    sizeof(out));
	assert_null(strchr(out, '\n'));
	assert_int_equal(PREFIX + strlen(out), 78);
	listunsub_build(fill(url, "https://e.x/", 43), m, NULL, NULL, out,
	    sizeof(out));
	assert_non_null(strstr(out, ">,\n\t<mailto:u@e.x>"));
	assert_int_equal(longest_line(out), PREFIX + 2 + 43 + 1);

	/* A URL past 78 on its own stays whole on the first line. */
	listunsub_build(fill(url, "https://e.x/", 300), m, NULL, NULL, out,
	    sizeof(out));
	assert_int_equal(out[0], '<');
	assert_int_equal(strcspn(out, ">"), 301);
	assert_string_equal(out + 301, ">,\n\t<mailto:u@e.x>");
	assert_null(strchr(out, ' '));
}

static void
test_line_limit(void **state)
{
	char url[LISTUNSUB_VALUE_MAX], mt[LISTUNSUB_VALUE_MAX], out[LISTUNSUB_VALUE_MAX + 1];
	size_t u;

	(void)state;
	/* Alone: 18 + 1 + u + 1 < 998. */
	u = LISTUNSUB_LINE_MAX - 1 - PREFIX - 2;
	assert_true(listunsub_build(fill(url, "https://e.x/", u), NULL, NULL, NULL,
	    out, sizeof(out)) > 0);
	assert_int_equal(longest_line(out), LISTUNSUB_LINE_MAX - 1);
	assert_int_equal(listunsub_build(fill(url, "https://e.x/", u + 1), NULL, NULL,
	    NULL, out, sizeof(out)), -1);
	/* With a mailto, the comma counts too. */
	assert_int_equal(listunsub_build(fill(url, "https://e.x/", u), "mailto:u@e.x",
	    NULL, NULL, out, sizeof(out)), -1);
	assert_true(listunsub_build(fill(url, "https://e.x/", u - 1), "mailto:u@e.x",
	    NULL, NULL, out, sizeof(out)) > 0);
	assert_int_equal(longest_line(out), LISTUNSUB_LINE_MAX - 1);

	/* The continuation: 1 + 1 + m + 1 < 998. */
	fill(mt, "mailto:u@e.x?subject=", LISTUNSUB_LINE_MAX - 4);
	assert_true(listunsub_build("https://e.x/", mt, NULL, NULL, out,
	    sizeof(out)) > 0);
	assert_int_equal(longest_line(out), LISTUNSUB_LINE_MAX - 1);
	fill(mt, "mailto:u@e.x?subject=", LISTUNSUB_LINE_MAX - 3);
	assert_int_equal(listunsub_build("https://e.x/", mt, NULL, NULL, out,
	    sizeof(out)), -1);

	/* A token can push a URI over, as a template can. */
	memset(mt, 'A', 990);
	mt[990] = '\0';
	assert_int_equal(listunsub_build("https://e.x/%t", NULL, mt, NULL, out,
	    sizeof(out)), -1);
}

static void
test_outlen(void **state)
{
	char out[64];
	int n;

	(void)state;
	n = listunsub_build("https://e.x/%t", "mailto:u@e.x", "abc", NULL, out,
	    sizeof(out));
	assert_true(n > 0);
	assert_int_equal(listunsub_build("https://e.x/%t", "mailto:u@e.x", "abc",
	    NULL, out, (size_t)n + 1), n);
	assert_int_equal(listunsub_build("https://e.x/%t", "mailto:u@e.x", "abc",
	    NULL, out, (size_t)n), -1);
	assert_int_equal(listunsub_build("https://e.x/%t", NULL, "abc", NULL, NULL,
	    64), -1);
}

static void
test_build_refuses(void **state)
{
	static const char *bad_token[] = {
		"a b", "a>b", "a,b", "a\nb", "a\r", "a<", "a%b", "a+b", "a/b",
		"a=", "\xdf",
	};
	static const char *bad_list[] = { "News", "a b", "a>", "a,b", "a\n" };
	char out[LISTUNSUB_VALUE_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_token) / sizeof(bad_token[0]); i++)
		if (listunsub_build(URL, MAILTO, bad_token[i], "news", out,
		    sizeof(out)) != -1)
			fail_msg("token \"%s\" accepted", bad_token[i]);
	for (size_t i = 0; i < sizeof(bad_list) / sizeof(bad_list[0]); i++)
		if (listunsub_build("https://e.x/%l", NULL, TOKEN, bad_list[i], out,
		    sizeof(out)) != -1)
			fail_msg("list \"%s\" accepted", bad_list[i]);
	/* The templates are checked again. */
	assert_int_equal(listunsub_build("http://e.x/%t", NULL, TOKEN, "news", out,
	    sizeof(out)), -1);
	assert_int_equal(listunsub_build(URL, "https://e.x/", TOKEN, "news", out,
	    sizeof(out)), -1);
	assert_int_equal(listunsub_build(URL, "mailto:u@e.x?s=a b", TOKEN, "news",
	    out, sizeof(out)), -1);
	assert_int_equal(listunsub_build(NULL, MAILTO, TOKEN, "news", out,
	    sizeof(out)), -1);
	assert_int_equal(listunsub_build("", MAILTO, TOKEN, "news", out,
	    sizeof(out)), -1);
	/* A value the template needs is missing. */
	assert_int_equal(listunsub_build(URL, NULL, NULL, "news", out, sizeof(out)),
	    -1);
	assert_int_equal(listunsub_build("https://e.x/%l", NULL, TOKEN, NULL, out,
	    sizeof(out)), -1);
}

static void
test_template_check(void **state)
{
	static const char *good[][2] = {
		{ "https://u.example.com/u/%t", "https" },
		{ "HTTPS://u.example.com/u/%t", "https" },
		{ "https://u.example.com/u?t=%t&l=%l", "https" },
		{ "https://l.example/lists/%l", "https" },	/* no %t */
		{ "https://u.example.com/%%7e/%t", "https" },
		{ "https://[2001:db8::1]:8443/u/%t", "https" },
		{ "mailto:unsubscribe@example.com", "mailto" },
		{ "mailto:unsubscribe@example.com?subject=unsubscribe%%20%t",
		    "mailto" },
		{ "mailto:unsub-%l@example.com", "mailto" },
		{ "MAILTO:u@e.x?subject=%t&body=%l", "mailto" },
	};
	static const struct bad_case bad[] = {
		{ "http://u.example.com/u/%t", "https",
		    "one-click unsubscribe (RFC 8058) needs https://" },
		{ "HTTP://u.example.com/u/%t", "https", "needs https://" },
		{ "ftp://u.example.com/%t", "https",
		    "does not start with https://" },
		{ "u.example.com/%t", "https", "does not start with https://" },
		{ "https://", "https", "no host" },
		{ "https:///u/%t", "https", "no host" },
		{ "https://?t=%t", "https", "no host" },
		{ "https://e.x/u/%t\r\n", "https", "contains CR or LF" },
		{ "https://e.x/u/%t\nBcc: x@y", "https", "contains CR or LF" },
		{ "https://e.x/u/ %t", "https",
		    "contains a blank (write %%20)" },
		{ "https://e.x/u/\t%t", "https", "contains a blank" },
		{ "https://e.x/u/%t>", "https", "contains '>'" },
		{ "https://e.x/<u>/%t", "https", "contains '<'" },
		{ "https://e.x/u,%t", "https",
		    "contains ',', which ends a URI in the header "
		    "(write %%2C)" },
		{ "https://e.x/\x7f/%t", "https", "octet 0x7f" },
		{ "https://e.x/\xc3\xa9/%t", "https",
		    "octet 0xc3: percent-encode it (%%C3)" },
		{ "https://e.x/u/%x", "https", "unknown escape '%x'" },
		{ "https://e.x/u/%T", "https", "unknown escape '%T'" },
		{ "https://e.x/u/%20%t", "https", "unknown escape '%2'" },
		{ "https://e.x/u/%t%", "https", "ends with a lone '%'" },
		{ "", "https", "URL template is empty" },
		{ "mailto:", "mailto", "has no address" },
		{ "mailto:?subject=%t", "mailto", "has no address" },
		{ "mailto:unsubscribe", "mailto", "no address local@domain" },
		{ "mailto:@example.com", "mailto", "no address local@domain" },
		{ "mailto:u@?subject=x", "mailto", "no address local@domain" },
		{ "mailto:u@e.x?subject=un subscribe", "mailto", "a blank" },
		{ "https://e.x/u/%t", "mailto", "does not start with mailto:" },
		{ "mailto:u@e.x", "https", "does not start with https://" },
		{ "mailto:u@e.x", "http", "unknown scheme \"http\"" },
	};
	char err[256], big[LISTUNSUB_VALUE_MAX + 16];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (listunsub_template_check(good[i][0], good[i][1], err,
		    sizeof(err)) != 0)
			fail_msg("\"%s\" refused: %s", good[i][0], err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (listunsub_template_check(bad[i].tmpl, bad[i].scheme, err,
		    sizeof(err)) != -1)
			fail_msg("\"%s\" accepted", bad[i].tmpl);
		if (strstr(err, bad[i].err) == NULL)
			fail_msg("\"%s\": \"%s\" does not say \"%s\"",
			    bad[i].tmpl, err, bad[i].err);
	}
	assert_int_equal(listunsub_template_check(NULL, "https", err, sizeof(err)),
	    -1);
	assert_int_equal(listunsub_template_check(URL, NULL, err, sizeof(err)), -1);
	assert_int_equal(listunsub_template_check("http://e.x/", "https", NULL, 0),
	    -1);
	fill(big, "https://e.x/", LISTUNSUB_VALUE_MAX + 1);
	assert_int_equal(listunsub_template_check(big, "https", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than 2048"));
}

static void
test_expand(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(listunsub_expand("a%tb%lc%%d", "T", "L", out, sizeof(out)),
	    7);
	assert_string_equal(out, "aTbLc%d");
	assert_int_equal(listunsub_expand("%t%t", "xy", NULL, out, sizeof(out)), 4);
	assert_string_equal(out, "xyxy");
	assert_int_equal(listunsub_expand("", "T", "L", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* Unknown or cut escapes, and values the template needs. */
	assert_int_equal(listunsub_expand("%x", "T", "L", out, sizeof(out)), -1);
	assert_int_equal(listunsub_expand("ab%", "T", "L", out, sizeof(out)), -1);
	assert_int_equal(listunsub_expand("%t", NULL, "L", out, sizeof(out)), -1);
	assert_int_equal(listunsub_expand("%l", "T", NULL, out, sizeof(out)), -1);
	assert_int_equal(listunsub_expand("%%", NULL, NULL, out, sizeof(out)), 1);
	/* Room: the NUL counts. */
	assert_int_equal(listunsub_expand("ab%t", "cd", NULL, out, 5), 4);
	assert_int_equal(listunsub_expand("ab%t", "cd", NULL, out, 4), -1);
	assert_int_equal(listunsub_expand("abcd", NULL, NULL, out, 4), -1);
	assert_int_equal(listunsub_expand("a", NULL, NULL, out, 0), -1);
	assert_int_equal(listunsub_expand(NULL, NULL, NULL, out, sizeof(out)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_exact),
		cmocka_unit_test(test_fold_at_78),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_outlen),
		cmocka_unit_test(test_build_refuses),
		cmocka_unit_test(test_template_check),
		cmocka_unit_test(test_expand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
