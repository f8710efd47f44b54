/*
 * metrics.h - Prometheus metrics: a registry of counters, gauges and
 * histograms with labels, its text exposition (format 0.0.4), and a
 * loopback HTTP listener that serves it at /metrics.
 *
 * Updates are safe from any thread.  A metric's series are bounded: past
 * its limit a new label combination is counted under "other" in every
 * label, so no hostile input can grow the registry.  Names follow the
 * Prometheus conventions (base units, _total for counters); the caller
 * picks them.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

#define METRICS_LABELS_MAX	4	/* labels per metric */
#define METRICS_OTHER		"other"	/* the label of series past the limit */

struct metrics;
struct metric;

/* metrics_new - an empty registry (metrics_free it); NULL if out of memory. */
struct metrics *metrics_new(void);

/* metrics_free - stop its listener, free it and every metric; NULL: no-op. */
void	metrics_free(struct metrics *m);

/*
 * metrics_counter, metrics_gauge - a metric in m, owned by m.  labels is a
 * comma-separated list of label names ("verdict,reason") or NULL; at most
 * max_series label combinations are kept (0: 1000).  NULL if out of
 * memory or the names are not valid Prometheus names.
 */
struct metric *metrics_counter(struct metrics *m, const char *name,
	    const char *help, const char *labels, size_t max_series);
struct metric *metrics_gauge(struct metrics *m, const char *name,
	    const char *help, const char *labels, size_t max_series);

/*
 * metrics_histogram - a histogram with the upper bounds bounds[0..n-1]
 * (increasing; +Inf is added), no labels.
 */
struct metric *metrics_histogram(struct metrics *m, const char *name,
	    const char *help, const double *bounds, size_t n);

/*
 * metrics_gauge_fn - a gauge read at each scrape: fn(arg) gives its
 * value, or a NaN to leave it out of that scrape.
 */
struct metric *metrics_gauge_fn(struct metrics *m, const char *name,
	    const char *help, double (*fn)(void *), void *arg);

/*
 * metric_add - add v to the series named by the label values (as many as
 * the metric has labels; NULL when it has none).  metric_set sets a
 * gauge's series; metric_observe adds an observation to a histogram.  A
 * NULL metric is a no-op, so that a registry that could not be made
 * never stops the caller.
 */
void	metric_add(struct metric *x, const char *const *values, double v);
void	metric_set(struct metric *x, const char *const *values, double v);
void	metric_observe(struct metric *x, double v);

/*
 * metrics_write - the text exposition of every metric, into a new buffer
 * (*bufp, *lenp) the caller frees.  0, or -1 if out of memory.
 */
int	metrics_write(struct metrics *m, char **bufp, size_t *lenp);

/*
 * metrics_listen - serve GET /metrics on spec ("127.0.0.1:9109",
 * "[::1]:9109") from a thread of its own until metrics_free.  0, or -1
 * with err.
 */
int	metrics_listen(struct metrics *m, const char *spec, char *err,
	    size_t errlen);

/* metrics_listen_check - 0 if spec is a host:port metrics_listen takes. */
int	metrics_listen_check(const char *spec, char *err, size_t errlen);

#endif
