/*
 * replica.h - a store kept as a replica of the fleet journal, for
 * consent-syncd and consentctl sync bootstrap.
 *
 *   - Rows are applied in the journal's order with change_apply(); the
 *     cursor (the last row's xid and id) is written in the same store
 *     transaction as the rows it covers: a crash re-reads from the cursor,
 *     so no row is lost and none applied twice.
 *   - This host's opt-outs were merged here before the journal had them
 *     (journal.h: the outbox).  When the journal gives one back, its key
 *     is folded again from the journal's rows, in the journal's order, with
 *     the opt-outs still waiting on top: the store ends as every other
 *     replica's.  The outbox entry goes in that transaction.
 *   - A row that cannot be applied stops the replica where it is, with the
 *     reason in the sync state (consentctl sync status); it is never
 *     skipped.  The milter tempfails bulk mail once the replica is older
 *     than sync.max_lag.
 */
#ifndef REPLICA_H
#define REPLICA_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/pgjournal.h"
#include "core/store.h"

struct replica;

/* What one catch-up did. */
struct replica_stats {
	long	rows;		/* journal rows applied */
	long	refolded;	/* keys folded again for this host's opt-outs */
	long	sent;		/* outbox changes sent */
	int	complete;	/* every row below the horizon is here now */
};

/*
 * replica_new - a replica of the journal in st (which stays the caller's;
 * it must be a replica: store_sync_get() 1, or bootstrap's fresh store),
 * reading with sc's settings (copied).  NULL if out of memory.
 */
struct replica *replica_new(struct store *st, const struct sync_conf *sc,
	    int addr_flags);

/* replica_free - close its connections and free it; NULL is a no-op. */
void	replica_free(struct replica *r);

/* replica_settings - new settings (a reload); a new conninfo reconnects. */
void	replica_settings(struct replica *r, const struct sync_conf *sc);

/*
 * replica_connect - (re)connect the reader if it is not connected: the
 * fleet's settings checked, LISTEN for wake-ups.  0, or -1 with err.
 */
int	replica_connect(struct replica *r, char *err, size_t errlen);

/* replica_socket - the reader's descriptor to poll, or -1 when down. */
int	replica_socket(const struct replica *r);

/* replica_notified - consume wake-ups: 1 some, 0 none, -1 lost (err). */
int	replica_notified(struct replica *r, char *err, size_t errlen);

/*
 * replica_catch_up - apply what the journal has after the cursor, in
 * batches of sc->batch rows, until it has no more below the horizon; then
 * record the sync as complete as of now (taken before the last read).
 * Returns 0 (st filled), or -1 with err (what was applied stays applied).
 */
int	replica_catch_up(struct replica *r, struct replica_stats *rs,
	    char *err, size_t errlen);

/*
 * replica_send_outbox - insert the outbox's changes this process has not
 * sent yet into the journal (with the writer's conninfo); they stay in
 * the outbox until the journal gives them back.  Sent count, or -1.
 */
long	replica_send_outbox(struct replica *r, char *err, size_t errlen);

/* replica_outbox_waiting - changes in the outbox not sent by us yet. */
long	replica_outbox_waiting(struct replica *r, char *err, size_t errlen);

/*
 * replica_record_error - msg as the replica's last error, at now, in the
 * store (the cursor stays).  0, or -1 with err.
 */
int	replica_record_error(struct replica *r, int64_t now, const char *msg,
	    char *err, size_t errlen);

/*
 * replica_bootstrap - every row of the journal below the horizon into st,
 * a fresh store (nothing in it yet), in one read: batches of sc->batch
 * rows per transaction, the last with the cursor and the sync state.
 * Rows applied, or -1 with err.
 */
long	replica_bootstrap(struct replica *r, char *err, size_t errlen);

#endif
