/*
 * time.h - times and durations as consent evidence and logs write them:
 * RFC 3339 and the export forms read, RFC 3339 UTC written, durations
 * such as "30d", and for readers of millions of log lines a fast path
 * that remembers the last date and hour.  Generic: no allocation, no
 * knowledge of mail.
 */
#ifndef UTIL_TIME_H
#define UTIL_TIME_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * time_duration_parse - "30d", "12h", "90m", "45s", "2w" into seconds;
 * 0, or -1 for anything else (zero, a sign, an overflow, two units).
 */
int	time_duration_parse(const char *s, int64_t *out);

/* time_days_from_civil - days from 1970-01-01 to y-m-d (proleptic Gregorian). */
int64_t	time_days_from_civil(int64_t y, unsigned m, unsigned d);

/*
 * time_business_days - Monday-to-Friday days after a's day up to and
 * including b's (a, b in seconds, UTC); 0 when b's day is not later.
 */
int64_t	time_business_days(int64_t a, int64_t b);

/*
 * What the fast readers remember between calls: the caller's, zeroed
 * before the first call, then set by time_memo_year().  Logs are in time
 * order, so most lines repeat the last date (RFC 3339) or hour (syslog).
 */
struct time_memo {
	char	dkey[10];		/* the last RFC 3339 date read */
	int64_t	dday;			/* and its day number */
	char	skey[9];		/* the last "Mmm dd hh" read */
	int64_t	sbase;			/* and its time, seconds */
	int	sok;
	int	ref_year, ref_mon;	/* syslog times' year: near these */
};

/*
 * time_rfc3339_ms - p (n octets, not NUL-terminated) as an RFC 3339 time
 * into milliseconds since the epoch, fractions to the millisecond; what
 * time_parse() takes is taken too, to the second.  0 / -1.
 */
int	time_rfc3339_ms(struct time_memo *m, const char *p, size_t n,
	    int64_t *ms);

/*
 * time_memo_year - the local year and month that time_syslog() puts its
 * times nearest to (syslog's "Nov 26 22:00:00" has no year): those of t.
 */
void	time_memo_year(struct time_memo *m, int64_t t);

/*
 * time_syslog - the 15 octets at p, "Nov 26 22:00:00" in local time, into
 * seconds: in the year that puts the month within six months of the
 * memo's.  Each new hour costs one mktime(3).  0 / -1.
 */
int	time_syslog(struct time_memo *m, const char *p, int64_t *out);

#endif
