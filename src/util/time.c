/*
 * time.c - reading and writing times and durations (see time.h).  No
 * allocation; the fast readers keep what they remember in the caller's
 * struct time_memo.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/time.h"
#include "util/util.h"

int64_t
time_days_from_civil(int64_t y, unsigned m, unsigned d)
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

/* digits - n decimal digits at s into *out; -1 at the first non-digit. */
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

/* d2 - the two decimal digits at p, or -1. */
static int
d2(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* month_days - days in month m (1-12) of year y. */
static int
month_days(int y, int m)
{
	static const int md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return md[m - 1];
}

/* offset - "+01:00", "-0130" at p, ending the string: seconds east; 0 / -1. */
static int
offset(const char *p, int64_t *east)
{
	int sign = *p == '-' ? -1 : 1, oh, om;

	p++;
	if (digits(p, 2, &oh))
		return -1;
	p += 2;
	if (*p == ':')
		p++;
	if (digits(p, 2, &om) || p[2] != '\0' || oh > 23 || om > 59)
		return -1;
	*east = sign * (oh * 3600 + om * 60);
	return 0;
}

int
time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, se = 0;
	int64_t t, east;
	const char *p;

	if (s == NULL || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
		return -1;
	t = time_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400;
	p = s + 10;
	if (*p == '\0') {
		*out = t;	/* a date alone: midnight UTC */
		return 0;
	}
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
	t += h * 3600 + mi * 60 + se;
	if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0') ||
	    strcmp(p, " UTC") == 0) {
		*out = t;
		return 0;
	}
	if ((*p != '+' && *p != '-') || offset(p, &east) == -1)
		return -1;
	*out = t - east;
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
time_duration_parse(const char *s, int64_t *out)
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

/* weekdays_through - Mon-Fri days from Monday 1969-12-29 through day d. */
static int64_t
weekdays_through(int64_t d)
{
	int64_t x = d + 3, w, r;

	if (x < 0)
		return 0;
	w = x / 7;
	r = x % 7;
	return w * 5 + (r + 1 < 5 ? r + 1 : 5);
}

int64_t
time_business_days(int64_t a, int64_t b)
{
	int64_t da = a / 86400, db = b / 86400;

	return db <= da ? 0 : weekdays_through(db) - weekdays_through(da);
}

/* slow - what time_parse() takes, from a view, to the millisecond's second. */
static int
slow(const char *p, size_t n, int64_t *ms)
{
	char buf[64];
	int64_t s;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (time_parse(buf, &s) == -1)
		return -1;
	*ms = s * 1000;
	return 0;
}

/* memo_day - the day number of the date at p, remembered; -1 if none. */
static int64_t
memo_day(struct time_memo *m, const char *p)
{
	int y1, y2, mo, d, y;

	if (memcmp(p, m->dkey, 10) == 0)
		return m->dday;
	y1 = d2(p);
	y2 = d2(p + 2);
	mo = d2(p + 5);
	d = d2(p + 8);
	y = y1 * 100 + y2;
	if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || y < 1970 ||
	    d > month_days(y, mo))
		return -1;
	memcpy(m->dkey, p, 10);
	m->dday = time_days_from_civil(y, (unsigned)mo, (unsigned)d);
	return m->dday;
}

/*
 * time_rfc3339_ms - the fast path reads "2026-11-26T22:00:00.123Z" or
 * "...123456+01:00" with the date's day number remembered; other forms
 * go to time_parse().
 */
int
time_rfc3339_ms(struct time_memo *m, const char *p, size_t n, int64_t *out)
{
	const char *q, *end = p + n;
	int64_t day, ms;
	int hh, mi, ss = 0, frac = 0, scale = 100;

	if (n < 16 || p[4] != '-' || p[7] != '-' ||
	    (p[10] != 'T' && p[10] != 't' && p[10] != ' '))
		return slow(p, n, out);
	if ((day = memo_day(m, p)) < 0)
		return -1;
	hh = d2(p + 11);
	mi = d2(p + 14);
	if (hh < 0 || hh > 23 || p[13] != ':' || mi < 0 || mi > 59)
		return -1;
	q = p + 16;
	if (q < end && *q == ':') {
		if (end - q < 3 || (ss = d2(q + 1)) < 0 || ss > 60)
			return -1;
		if (ss == 60)
			ss = 59;	/* a leap second */
		q += 3;
	}
	if (q < end && (*q == '.' || *q == ',')) {
		q++;
		if (q == end || *q < '0' || *q > '9')
			return -1;
		for (; q < end && *q >= '0' && *q <= '9'; q++) {
			frac += (*q - '0') * scale;
			scale /= 10;
		}
	}
	ms = (day * 86400 + hh * 3600 + mi * 60 + ss) * 1000 + frac;
	if (q == end || ((*q == 'Z' || *q == 'z') && q + 1 == end)) {
		*out = ms;
		return 0;
	}
	if (*q == '+' || *q == '-') {
		int sign = *q == '-' ? -1 : 1, oh, om;

		q++;
		if (end - q < 4 || (oh = d2(q)) < 0 || oh > 23)
			return -1;
		q += 2;
		if (*q == ':')
			q++;
		if (end - q != 2 || (om = d2(q)) < 0 || om > 59)
			return -1;
		*out = ms - (int64_t)sign * (oh * 3600 + om * 60) * 1000;
		return 0;
	}
	return slow(p, n, out);
}

void
time_memo_year(struct time_memo *m, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL) {
		m->ref_year = 1970;
		m->ref_mon = 0;
	} else {
		m->ref_year = tm.tm_year + 1900;
		m->ref_mon = tm.tm_mon;
	}
	m->sok = 0;
}

/* memo_hour - the time of "Mmm dd hh" at p, remembered; 0 / -1. */
static int
memo_hour(struct time_memo *m, const char *p)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *mp = NULL;
	struct tm tm;
	int mon, day, hh, y, diff;
	time_t t;

	if (m->sok && memcmp(p, m->skey, 9) == 0)
		return 0;
	for (int k = 0; k < 12; k++)
		if (memcmp(months + 3 * k, p, 3) == 0)
			mp = months + 3 * k;
	if (mp == NULL || p[3] != ' ')
		return -1;
	mon = (int)(mp - months) / 3;
	if (p[4] == ' ')
		day = p[5] >= '1' && p[5] <= '9' ? p[5] - '0' : -1;
	else
		day = d2(p + 4);
	hh = d2(p + 7);
	if (day < 1 || day > 31 || hh < 0 || hh > 23 || p[6] != ' ')
		return -1;
	y = m->ref_year;
	diff = mon - m->ref_mon;
	if (diff > 6)
		y--;
	else if (diff < -6)
		y++;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return -1;
	memcpy(m->skey, p, 9);
	m->sbase = (int64_t)t;
	m->sok = 1;
	return 0;
}

int
time_syslog(struct time_memo *m, const char *p, int64_t *out)
{
	int mi = d2(p + 10), ss = d2(p + 13);

	if (memo_hour(m, p) == -1)
		return -1;
	if (p[9] != ':' || p[12] != ':' || mi < 0 || mi > 59 || ss < 0 ||
	    ss > 60)
		return -1;
	*out = m->sbase + mi * 60 + ss;
	return 0;
}
