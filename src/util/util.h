/*
 * util.h - small helpers shared by every program: time parsing and
 * formatting, durations, safe string copies, sanitising user data for logs
 * and escaping it for JSON.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * time_parse - parse an RFC 3339 time ("2024-02-01T10:00:00Z",
 * "2024-02-01T10:00:00.123+01:00"), or the export forms "2024-02-01
 * 10:00:00" (UTC) and "2024-02-01" (midnight UTC), into seconds since the
 * epoch.  Fractions are dropped.  Returns 0, or -1 if s is not such a time.
 */
int	time_parse(const char *s, int64_t *out);

/* time_format - t as "2024-02-01T10:00:00Z" into buf (at least 21 octets). */
char   *time_format(int64_t t, char *buf, size_t len);

/* time_format_ms - milliseconds as "2024-02-01T10:00:00.123Z" (25 octets). */
char   *time_format_ms(int64_t ms, char *buf, size_t len);

/* duration_parse - "30d", "12h", "90m", "45s", "2w" into seconds; 0 / -1. */
int	duration_parse(const char *s, int64_t *out);

/* util_days_from_civil - days from 1970-01-01 to y-m-d (proleptic Gregorian). */
int64_t	util_days_from_civil(int64_t y, unsigned m, unsigned d);

/* util_hexval - the value of a hex digit, or -1. */
int	util_hexval(int c);

/* util_fail - format a message into err (if any) and return -1. */
int	util_fail(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* strlcpy-like: copies at most len - 1 octets, NUL-terminates, returns strlen(src). */
size_t	util_strlcpy(char *dst, const char *src, size_t len);

/*
 * util_sanitize - copy s (n octets) into buf for a log line: control
 * characters, '%' is kept, non-ASCII and '\\' become \xHH escapes, so the
 * result is one printable line.  Truncated with "..." past len.
 */
char   *util_sanitize(const char *s, size_t n, char *buf, size_t len);

/* json_puts - write s to fp as a JSON string, quotes included. */
void	json_puts(FILE *fp, const char *s);

/* json_escape - s as a JSON string (quotes included) into buf; returns the
 * length written, or (size_t)-1 if it did not fit. */
size_t	json_escape(const char *s, char *buf, size_t len);

/* util_utf8_valid - 1 if s (n octets) is well-formed UTF-8. */
int	util_utf8_valid(const char *s, size_t n);

#endif
