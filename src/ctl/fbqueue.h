/*
 * fbqueue.h - the review queue: reports that could not be applied, kept
 * for a person to look at.
 *
 * A directory with two files per report: ID.eml (the raw report, at most
 * FBQ_RAW_MAX octets) and ID.meta (when it came, why it waits, what it
 * says, and when it was first shown).  Both are written to a temporary
 * name, synced and renamed, the raw file first: a report is in the queue
 * once its meta file is.  At most a configured number are kept; a report
 * is removed by retention only after it was shown, and otherwise only by
 * an explicit request: never unread.
 */
#ifndef FBQUEUE_H
#define FBQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "ctl/fbparse.h"

#define FBQ_ID_LEN	25	/* 20261201T100005Z-0a1b2c3d */
#define FBQ_RAW_MAX	(1024 * 1024)

struct fbq_meta {
	char	id[FBQ_ID_LEN + 1];
	int64_t	time;		/* when it came */
	int64_t	seen;		/* when first shown; 0: never */
	char	kind[8];	/* dsn, arf, plain */
	size_t	size;		/* octets of the report as it came */
	int	truncated;	/* the raw file keeps only FBQ_RAW_MAX */
	char	from[FBP_TEXT_MAX + 1];
	char	subject[FBP_TEXT_MAX + 1];
	char	rcpts[512];	/* the recipients it names, comma-separated */
	char	reason[400];	/* why it waits */
};

/*
 * fbq_add - keep raw (len octets of a report of size octets: the raw
 * file keeps at most FBQ_RAW_MAX) with m (its id, time and size are set
 * here) in dir, made if missing (0750).  When the
 * queue holds max reports, those shown and older than retention go
 * first; if it is still full, nothing is kept.  0, or -1 with err.
 */
int	fbq_add(const char *dir, unsigned max, int64_t retention, int64_t now,
	    const char *raw, size_t len, size_t size, struct fbq_meta *m,
	    char *err, size_t errlen);

/*
 * fbq_list - fn for every report of dir, oldest first; stops at fn's
 * non-zero value and returns it.  0 (an absent dir is empty), or -1.
 */
int	fbq_list(const char *dir, int (*fn)(const struct fbq_meta *, void *),
	    void *arg, char *err, size_t errlen);

/*
 * fbq_get - the report id of dir: its meta into m and, with rawp not
 * NULL, its raw text into a buffer the caller frees.  1 found, 0 no
 * such report (or a malformed id), -1 with err.
 */
int	fbq_get(const char *dir, const char *id, struct fbq_meta *m,
	    char **rawp, size_t *lenp, char *err, size_t errlen);

/* fbq_seen - note that report id was shown at now (kept if already). 0 / -1. */
int	fbq_seen(const char *dir, const char *id, int64_t now, char *err,
	    size_t errlen);

/* fbq_remove - remove report id: 1 removed, 0 none such, -1 with err. */
int	fbq_remove(const char *dir, const char *id, char *err, size_t errlen);

/*
 * fbq_naming - fn(id, fnarg) for every report of dir, read or not, for
 * which names says 1 of its raw text or its meta file (each file passed
 * whole, with its length), the temporary and half-written files of a
 * report cut off by a crash included; stops at fn's non-zero value and
 * returns it.  0 (an absent dir names nobody), or -1 with err.
 */
int	fbq_naming(const char *dir, int (*names)(const char *, size_t, void *),
	    void *arg, int (*fn)(const char *, void *), void *fnarg, char *err,
	    size_t errlen);

/*
 * fbq_purge - remove every report fbq_naming() finds: an erasure
 * (consentctl subject erase) leaves no report that names the person.  *removed counts the reports.  0, or -1
 * with err (then some may be left: run it again).
 */
int	fbq_purge(const char *dir, int (*names)(const char *, size_t, void *),
	    void *arg, unsigned *removed, char *err, size_t errlen);

/*
 * fbq_sweep - remove the reports shown and older than retention at now;
 * *removed counts them.  Never one that was not shown.  0 / -1.
 */
int	fbq_sweep(const char *dir, int64_t now, int64_t retention,
	    unsigned *removed, char *err, size_t errlen);

#endif
