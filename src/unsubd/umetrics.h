/*
 * umetrics.h - consent-unsubd's Prometheus metrics: requests by method
 * and outcome, connections refused and cut, store open failures.  Every
 * call is a no-op until umetrics_start has made the registry.
 */
#ifndef UMETRICS_H
#define UMETRICS_H

#include <stddef.h>

/*
 * umetrics_start - make the registry and serve it on listen ("" for
 * none: then nothing is counted).  0, or -1 with err.
 */
int	umetrics_start(const char *listen, char *err, size_t errlen);

/* umetrics_stop - stop serving and free the registry. */
void	umetrics_stop(void);

/* umetrics_request - one request answered: method, enum unsubd_page, and
 * for a one-click POST whether the store changed. */
void	umetrics_request(int method, int page, int changed);

/* umetrics_refused, umetrics_cut - connections refused (per-client cap)
 * and cut (whole-request deadline). */
void	umetrics_refused(unsigned long n);
void	umetrics_cut(unsigned long n);

/* umetrics_store_failure - an attempt to open the store failed. */
void	umetrics_store_failure(void);

#endif
