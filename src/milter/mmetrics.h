/*
 * mmetrics.h - consent-milter's Prometheus metrics: decisions by
 * verdict, reason and list (lists past metrics.max_lists counted as
 * "other"), messages by class, tempfails by cause, store open failures,
 * decision latency, the store's size and the age of its last change,
 * audit lines and write failures.  Every call is a no-op until
 * mmetrics_start has made the registry.
 */
#ifndef MMETRICS_H
#define MMETRICS_H

#include <stddef.h>
#include <stdint.h>

/* What the gauges read at each scrape; each returns -1 if unknown. */
struct mmetrics_source {
	int	(*store)(uint64_t *bytes, int64_t *changed);
	unsigned (*sessions)(void);
};

/*
 * mmetrics_start - make the registry and serve it on listen ("": none,
 * nothing is counted); at most max_lists list labels.  0, or -1 with err.
 */
int	mmetrics_start(const char *listen, int max_lists,
	    const struct mmetrics_source *src, char *err, size_t errlen);

/* mmetrics_stop - stop serving and free the registry. */
void	mmetrics_stop(void);

/* mmetrics_decision - one recipient decided (names as in the log line). */
void	mmetrics_decision(const char *verdict, const char *reason,
	    const char *list);

/* mmetrics_message - one message ended: class "bulk" or "transactional". */
void	mmetrics_message(const char *class_);

/* mmetrics_tempfail - mail tempfailed: cause "store", "audit", "edit",
 * "memory", "state" or "sync". */
void	mmetrics_tempfail(const char *cause);

/* mmetrics_store_failure - an attempt to open the store failed. */
void	mmetrics_store_failure(void);

/* mmetrics_latency - seconds one bulk decision took (lookup and policy). */
void	mmetrics_latency(double seconds);

/* mmetrics_audit - audit lines written, or (failed) lost. */
void	mmetrics_audit(size_t lines, int failed);

#endif
