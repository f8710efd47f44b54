/*
 * test_time.c - util/time.c on hostile input: RFC 3339 and the export
 * forms read or refused (impossible dates, leap seconds, offsets, cut
 * short, trailing bytes), times written, durations with overflow, zero
 * and bad units, business days across weekends, and the fast readers
 * agreeing with time_parse() to the second, with and without their
 * memory, and putting syslog's yearless times in the right year.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util/time.h"

#define T2024	1706781600	/* 2024-02-01T10:00:00Z */

static int64_t
parse(const char *s)
{
	int64_t t = -42;

	assert_int_equal(time_parse(s, &t), 0);
	return t;
}

/* refuses - fn takes none of bad[0..n), and leaves its output alone. */
static void
refuses(int (*fn)(const char *, int64_t *), const char *const *bad, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t t = -42;

		if (fn(bad[i], &t) != -1 || t != -42)
			fail_msg("\"%s\" taken", bad[i]);
		assert_int_equal(fn(NULL, &t), -1);
	}
}

static void
test_parse(void **state)
{
	static const char *bad[] = {
		"", "2024", "2024-02", "2024-02-30", "2023-02-29", "1969-12-31",
		"2024-13-01", "2024-00-10", "2024-02-01T", "2024-02-01T10",
		"2024-02-01T24:00:00Z", "2024-02-01T10:60:00Z",
		"2024-02-01T10:00:61Z", "2024-02-01T10:00:00.Z",
		"2024-02-01T10:00:00ZZ", "2024-02-01T10:00:00+1",
		"2024-02-01T10:00:00+24:00", "2024-02-01T10:00:00+01:60",
		"2024-02-01T10:00:00+01:00x", "2024-02-01x10:00:00",
		"2024-02-01T10:00:00 GMT", " 2024-02-01", "2024-02-01 ",
		"+024-02-01", "2024-2-01", "2024-02-01T1:00:00Z",
	};

	(void)state;
	assert_int_equal(parse("2024-02-01T10:00:00Z"), T2024);
	assert_int_equal(parse("2024-02-01t10:00:00z"), T2024);
	assert_int_equal(parse("2024-02-01 10:00:00"), T2024);
	assert_int_equal(parse("2024-02-01 10:00:00 UTC"), T2024);
	assert_int_equal(parse("2024-02-01T10:00Z"), T2024);
	assert_int_equal(parse("2024-02-01T10:00:00.999999Z"), T2024);
	assert_int_equal(parse("2024-02-01T10:00:00,5Z"), T2024);
	assert_int_equal(parse("2024-02-01T11:30:00+01:30"), T2024);
	assert_int_equal(parse("2024-02-01T08:00:00-0200"), T2024);
	assert_int_equal(parse("2024-02-01"), T2024 - 10 * 3600);
	assert_int_equal(parse("2024-02-29"), 1709164800);
	assert_int_equal(parse("1970-01-01T00:00:00Z"), 0);
	/* A leap second counts as the second before it. */
	assert_int_equal(parse("2016-12-31T23:59:60Z"),
	    parse("2016-12-31T23:59:59Z"));
	refuses(time_parse, bad, sizeof(bad) / sizeof(bad[0]));
}

static void
test_format(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(time_format(T2024, buf, sizeof(buf)),
	    "2024-02-01T10:00:00Z");
	assert_string_equal(time_format_ms(T2024 * 1000LL + 7, buf,
	    sizeof(buf)), "2024-02-01T10:00:00.007Z");
	assert_int_equal(parse(time_format(1893456000, buf, sizeof(buf))),
	    1893456000);
	/* Too small a buffer: "?", never a cut time. */
	assert_string_equal(time_format(T2024, buf, 10), "?");
	assert_string_equal(time_format(INT64_MAX, buf, sizeof(buf)), "?");
	assert_true(strlen(time_format_ms(INT64_MAX, buf, sizeof(buf))) < sizeof(buf));
}

static void
test_duration(void **state)
{
	static const char *bad[] = {
		"", "d", "0s", "0d", "-1d", "+1d", "1", "1x", "1dd", "1d ",
		" 1d", "1.5h", "99999999999999999999s", "9223372036854775807w",
	};
	int64_t d;

	(void)state;
	assert_int_equal(time_duration_parse("45s", &d), 0);
	assert_int_equal(d, 45);
	assert_int_equal(time_duration_parse("90m", &d), 0);
	assert_int_equal(d, 5400);
	assert_int_equal(time_duration_parse("12h", &d), 0);
	assert_int_equal(d, 43200);
	assert_int_equal(time_duration_parse("30d", &d), 0);
	assert_int_equal(d, 30 * 86400);
	assert_int_equal(time_duration_parse("2w", &d), 0);
	assert_int_equal(d, 14 * 86400);
	refuses(time_duration_parse, bad, sizeof(bad) / sizeof(bad[0]));
}

static void
test_civil_business(void **state)
{
	int64_t mon = parse("2026-11-02T10:00:00Z");	/* a Monday */

	(void)state;
	assert_int_equal(time_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(time_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(time_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(time_business_days(mon, mon + 3600), 0);
	assert_int_equal(time_business_days(mon, mon + 86400), 1);
	assert_int_equal(time_business_days(mon, mon + 4 * 86400), 4);
	/* Friday to Monday is one business day; Saturday and Sunday none. */
	assert_int_equal(time_business_days(mon + 4 * 86400, mon + 7 * 86400),
	    1);
	assert_int_equal(time_business_days(mon + 4 * 86400, mon + 6 * 86400),
	    0);
	assert_int_equal(time_business_days(mon, mon + 14 * 86400), 10);
	assert_int_equal(time_business_days(mon, mon - 86400), 0);
}

/* The fast reader takes what time_parse takes, and to the millisecond. */
static void
test_rfc3339_ms(void **state)
{
	static const char *good[] = {
		"2026-11-26T22:00:00.123Z", "2026-11-26T22:00:00Z",
		"2026-11-26T22:00Z", "2026-11-26 22:00:00",
		"2026-11-26T23:30:00.5+01:30", "2026-11-26T20:00:00-0200",
		"2026-11-26", "2026-11-26 22:00:00 UTC",
		"2016-12-31T23:59:60.250Z", "2026-11-26t22:00:00.123456z",
	};
	static const char *bad[] = {
		"2026-11-31T22:00:00Z", "2026-11-26T22:00:00.Z",
		"2026-11-26T2:00:00Z", "2026-11-26T22:00:00+0", "x026-11-26",
		"2026-11-26T22:00:00+01:00:00", "2026-11-26T22:00:00Zjunk",
		"1969-11-26T22:00:00Z",
	};
	struct time_memo m;
	int64_t ms, s;

	(void)state;
	memset(&m, 0, sizeof(m));
	for (int pass = 0; pass < 2; pass++)	/* the second from memory */
		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			assert_int_equal(time_rfc3339_ms(&m, good[i],
			    strlen(good[i]), &ms), 0);
			s = parse(good[i]);
			if (ms / 1000 != s)
				fail_msg("\"%s\": %lld, time_parse %lld", good[i],
				    (long long)ms, (long long)s);
		}
	assert_int_equal(time_rfc3339_ms(&m, "2026-11-26T22:00:00.123Z", 24,
	    &ms), 0);
	assert_int_equal(ms % 1000, 123);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (time_rfc3339_ms(&m, bad[i], strlen(bad[i]), &ms) != -1)
			fail_msg("\"%s\" taken", bad[i]);
	/* A view: the octets after n are not read. */
	assert_int_equal(time_rfc3339_ms(&m, "2026-11-26T22:00:00Zjunk", 20,
	    &ms), 0);
	assert_int_equal(ms, parse("2026-11-26T22:00:00Z") * 1000);
}

static void
test_syslog(void **state)
{
	struct time_memo m;
	int64_t t;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	memset(&m, 0, sizeof(m));
	time_memo_year(&m, parse("2026-11-27T08:00:00Z"));
	assert_int_equal(time_syslog(&m, "Nov 26 22:00:01", &t), 0);
	assert_int_equal(t, parse("2026-11-26T22:00:01Z"));
	assert_int_equal(time_syslog(&m, "Nov 26 22:59:59", &t), 0);
	assert_int_equal(t, parse("2026-11-26T22:59:59Z"));
	assert_int_equal(time_syslog(&m, "Nov  6 01:02:03", &t), 0);
	assert_int_equal(t, parse("2026-11-06T01:02:03Z"));
	/* Months more than six away belong to the year next to it. */
	assert_int_equal(time_syslog(&m, "Jan  2 00:00:00", &t), 0);
	assert_int_equal(t, parse("2027-01-02T00:00:00Z"));
	time_memo_year(&m, parse("2027-01-03T00:00:00Z"));
	assert_int_equal(time_syslog(&m, "Dec 31 23:00:00", &t), 0);
	assert_int_equal(t, parse("2026-12-31T23:00:00Z"));
	assert_int_equal(time_syslog(&m, "Foo 31 23:00:00", &t), -1);
	assert_int_equal(time_syslog(&m, "Dec 32 23:00:00", &t), -1);
	assert_int_equal(time_syslog(&m, "Dec  0 23:00:00", &t), -1);
	assert_int_equal(time_syslog(&m, "Dec 31 24:00:00", &t), -1);
	assert_int_equal(time_syslog(&m, "Dec 31 23:60:00", &t), -1);
	assert_int_equal(time_syslog(&m, "Dec 31 23:00:61", &t), -1);
	assert_int_equal(time_syslog(&m, "Dec 31 23-00-00", &t), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_civil_business),
		cmocka_unit_test(test_rfc3339_ms),
		cmocka_unit_test(test_syslog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
