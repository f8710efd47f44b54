/*
 * util.c - time parsing and formatting, durations, string copies, log
 * sanitising and JSON escaping.  No allocation anywhere in this file.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/util.h"

int64_t
util_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
month_days(int y, int m)
{
	static const int md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return md[m - 1];
}

int
time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, se = 0, oh, om, sign;
	int64_t t;
	const char *p;

	if (s == NULL || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
		return -1;
	p = s + 10;
	if (*p == '\0')
		goto done;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (digits(p, 2, &h) || p[2] != ':' || digits(p + 3, 2, &mi))
		return -1;
	p += 5;
	if (*p == ':') {
		if (digits(p + 1, 2, &se))
			return -1;
		p += 3;
	}
	if (h > 23 || mi > 59 || se > 60)
		return -1;
	if (se == 60)
		se = 59;	/* a leap second: close enough for consent evidence */
	if (*p == '.' || *p == ',') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	t = util_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + se;
	if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0')) {
		*out = t;
		return 0;
	}
	if (*p == ' ' && strcmp(p, " UTC") == 0) {
		*out = t;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p == '-' ? -1 : 1;
	p++;
	if (digits(p, 2, &oh))
		return -1;
	p += 2;
	if (*p == ':')
		p++;
	if (digits(p, 2, &om) || p[2] != '\0' || oh > 23 || om > 59)
		return -1;
	*out = t - sign * (oh * 3600 + om * 60);
	return 0;
done:
	*out = util_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400;
	return 0;
}

char *
time_format(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		util_strlcpy(buf, "?", len);
	return buf;
}

char *
time_format_ms(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)(ms / 1000);
	char tmp[32];

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		util_strlcpy(buf, "?", len);
	else
		snprintf(buf, len, "%s.%03dZ", tmp, (int)(ms % 1000));
	return buf;
}

int
duration_parse(const char *s, int64_t *out)
{
	int64_t v = 0, unit;
	const char *p = s;

	if (s == NULL || !isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		if (v > INT64_MAX / 10 - 10)
			return -1;
		v = v * 10 + (*p++ - '0');
	}
	switch (*p) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return -1;
	}
	if (p[1] != '\0' || v == 0 || v > INT64_MAX / unit)
		return -1;
	*out = v * unit;
	return 0;
}

int
util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
util_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

size_t
util_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n = strlen(src);

	if (len > 0) {
		size_t c = n < len - 1 ? n : len - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

char *
util_sanitize(const char *s, size_t n, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (len == 0)
		return buf;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int esc = c < 0x20 || c >= 0x7f || c == '\\';

		if (o + (esc ? 4 : 1) + 4 > len) {
			if (o + 4 <= len) {
				memcpy(buf + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (esc) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

size_t
json_escape(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

#define PUT(ch) do { if (o + 1 >= len) return (size_t)-1; buf[o++] = (ch); } while (0)
	PUT('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			PUT('\\');
			PUT((char)c);
		} else if (c == '\n') {
			PUT('\\');
			PUT('n');
		} else if (c == '\r') {
			PUT('\\');
			PUT('r');
		} else if (c == '\t') {
			PUT('\\');
			PUT('t');
		} else if (c < 0x20 || c == 0x7f) {
			PUT('\\');
			PUT('u');
			PUT('0');
			PUT('0');
			PUT(hex[c >> 4]);
			PUT(hex[c & 15]);
		} else
			PUT((char)c);
	}
	PUT('"');
#undef PUT
	buf[o] = '\0';
	return o;
}

void
json_puts(FILE *fp, const char *s)
{
	char buf[1024];
	size_t n = json_escape(s, buf, sizeof(buf));

	if (n != (size_t)-1) {
		fwrite(buf, 1, n, fp);
		return;
	}
	/* Long strings: escape piecewise, dropping the inner quotes. */
	fputc('"', fp);
	while (*s) {
		char piece[256];
		size_t k = 0;

		while (s[k] && k < sizeof(piece) - 1) {
			piece[k] = s[k];
			k++;
		}
		piece[k] = '\0';
		n = json_escape(piece, buf, sizeof(buf));
		fwrite(buf + 1, 1, n - 2, fp);
		s += k;
	}
	fputc('"', fp);
}

int
util_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t need;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (i + need >= n)
			return 0;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += need + 1;
	}
	return 1;
}
