/*
 * util.h - small helpers shared by every program: the error message a
 * loader leaves in its caller's buffer, safe string copies, hex digits,
 * UTF-8 checks and sanitising user data for logs.  Times are in
 * util/time.h, the output encoders (JSON, HTML, CSV, text) in util/enc.h.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A view into octets someone else owns: not NUL-terminated. */
struct util_str {
	const char *p;
	size_t	n;
};

/*
 * util_fail - format a message into err (when err is not NULL and errlen
 * is not 0) and return -1: the one way a function fills its caller's
 * err buffer.  Callers that return something else ignore the -1.
 */
int	util_fail(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* util_hexval - the value of a hex digit, or -1. */
int	util_hexval(int c);

/* strlcpy-like: copies at most len - 1 octets, NUL-terminates, returns strlen(src). */
size_t	util_strlcpy(char *dst, const char *src, size_t len);

/*
 * util_tmpfd - a temporary file in dir named stem.XXXXXX, opened to read
 * and write (close-on-exec) and unlinked at once, so nothing is left
 * however the program ends; the path tried into path (len octets) for a
 * message.  The descriptor, or -1 with errno.
 */
int	util_tmpfd(const char *dir, const char *stem, char *path, size_t len);

/*
 * util_sanitize - copy s (n octets) into buf for a log line: control
 * characters, non-ASCII and '\\' become \xHH escapes ('%' is kept), so the
 * result is one printable ASCII line.  Truncated with "..." past len.
 */
char   *util_sanitize(const char *s, size_t n, char *buf, size_t len);

/*
 * util_utf8_seq - the length (1 to 4) of the well-formed UTF-8 sequence
 * that starts s (n octets, n > 0), or 0 if the octet at s starts none:
 * a stray continuation octet, an overlong form, a surrogate, a code point
 * past U+10FFFF, or a sequence cut short.
 */
size_t	util_utf8_seq(const char *s, size_t n);

/* util_utf8_valid - 1 if s (n octets) is well-formed UTF-8. */
int	util_utf8_valid(const char *s, size_t n);

#endif
