/*
 * milter.h - the libmilter glue: callbacks that turn verdicts into
 * replies and edits, the configuration snapshot they read, and the store
 * they ask.
 */
#ifndef MILTER_H
#define MILTER_H

#include <stddef.h>

#include "core/config.h"

struct msg_rules;

/*
 * milter_init - register the filter and its socket with libmilter, from cf
 * (copied).  Only before smfi_main.  Returns 0, or -1 with err filled.
 */
int	milter_init(const struct config *cf, char *err, size_t errlen);

/*
 * milter_store_open - open the store (read-only) if it is not open yet.
 * Returns 1 if it is open now, 0 if not (logged; bulk mail is tempfailed
 * meanwhile and the open is retried at most once a second).
 */
int	milter_store_open(void);

/*
 * milter_audit_open - open the audit trail named in cf, if any; after the
 * privilege drop.  0, or -1 with err.  milter_audit_reopen: after rotation.
 */
int	milter_audit_open(const struct config *cf, char *err, size_t errlen);
void	milter_audit_reopen(void);

/*
 * milter_reload - use cf (copied) and the unsubscribe keys it names from
 * the next message on; the store section keeps its first values (they
 * need a restart).  0, or -1 with err (the old configuration stays).
 */
int	milter_reload(const struct config *cf, char *err, size_t errlen);

/*
 * milter_metrics_start - serve the Prometheus metrics on metrics.listen,
 * if set; after the privilege drop.  0, or -1 with err.
 */
int	milter_metrics_start(const struct config *cf, char *err, size_t errlen);

/* milter_rules - fill mr with the rules msg.c reads from cf (copied). */
void	milter_rules(const struct config *cf, struct msg_rules *mr);

/* milter_sessions - connections in flight. */
unsigned milter_sessions(void);

/* milter_shutdown - log the counters, close the store; only when idle. */
void	milter_shutdown(int idle);

/* milter_ready_hook - called once when the store first opens. */
extern void (*milter_ready_hook)(void);

#endif
