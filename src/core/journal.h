/*
 * journal.h - THE entry point for every writer of consent changes:
 * consentctl's edits and imports, consent-unsubd's one-click, consentctl
 * intake's mailto, consentctl feedback.  A writer builds struct change
 * values (core/change.h) and calls journal_submit(); it never writes the
 * store itself, so that the same code works on one host and in a fleet.
 *
 * Local mode (no sync section in the configuration): the changes are
 * merged into the local store in one write transaction, as before.
 *
 * Fleet mode (sync.conninfo set): PostgreSQL holds the record of changes
 * and the local store is a replica that consent-syncd keeps.
 *   - Opt-outs (unsubscribes, suppressions): merged into the local store
 *     AND put in the store's outbox in ONE write transaction, so this host
 *     honours them at once and they survive a crash; then sent to the
 *     database unless JOURNAL_NO_NETWORK (consent-syncd sends what is
 *     left in the outbox).  Never lost, never waiting on the network.
 *   - Anything else (opt-ins, confirmations, unsuppress): inserted into
 *     the database in one transaction, or an error when it cannot be
 *     reached.  The local store learns it from consent-syncd.  With
 *     JOURNAL_NO_NETWORK (a confirmation click at consent-unsubd) it goes
 *     into the outbox unmerged (CHANGE_F_FORWARDED): consent-syncd sends
 *     it, and it takes effect when the journal gives it back.
 *
 *   struct journal j;
 *   journal_init(&j, st, &cf->sync, 0);
 *   rc = journal_submit(&j, changes, n, &res, err, sizeof(err));
 *   journal_fini(&j);
 */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <stddef.h>

#include "core/change.h"
#include "core/config.h"
#include "core/store.h"

/* journal_init() flags */
#define JOURNAL_NO_NETWORK 0x01	/* never talk to the database (daemons) */

/* Where journal_submit() left the changes. */
#define JOURNAL_LOCAL	1	/* local mode: in the store */
#define JOURNAL_QUEUED	2	/* fleet: in the store and its outbox */
#define JOURNAL_SENT	3	/* fleet: in the database (opt-outs: also here) */

struct pgjournal;

struct journal {
	struct store *st;		/* the local store; not owned */
	const struct sync_conf *sc;	/* NULL or not enabled: local mode */
	int	flags;			/* JOURNAL_* */
	struct pgjournal *pg;		/* opened when first needed; owned */
};

struct journal_result {
	int	where;			/* JOURNAL_LOCAL, _QUEUED or _SENT */
	unsigned applied;		/* changes that changed this host's store */
	char	why[256];		/* JOURNAL_QUEUED: why it was not sent */
};

/*
 * journal_init - a journal writing through st (which stays the caller's)
 * as sc says (NULL: local mode).  Opens nothing; cannot fail.
 */
void	journal_init(struct journal *j, struct store *st,
	    const struct sync_conf *sc, int flags);

/* journal_fini - close the database connection, if one was opened. */
void	journal_fini(struct journal *j);

/* journal_fleet - 1 in fleet mode, 0 in local mode. */
int	journal_fleet(const struct journal *j);

/*
 * journal_submit - record the n changes in ch, all or none.  Fills in
 * each change's made (if 0: now), origin (the host id) and a new origin
 * id.  Returns 0 with res filled, or -1 with the reason in err: nothing
 * was recorded anywhere.
 */
int	journal_submit(struct journal *j, struct change *ch, size_t n,
	    struct journal_result *res, char *err, size_t errlen);

/*
 * journal_stream_begin, journal_stream_put, journal_stream_end - many
 * changes (an import) into the fleet journal as one transaction: all of
 * them if journal_stream_end() commits, none if it does not (commit 0)
 * or anything failed.  Fleet mode only, not with JOURNAL_NO_NETWORK;
 * nothing is merged here (consent-syncd brings the changes back).  put
 * stamps c as journal_submit() does.  Each returns 0, or -1 with err;
 * after a -1 only journal_stream_end(j, 0, ...) may follow.
 */
int	journal_stream_begin(struct journal *j, char *err, size_t errlen);
int	journal_stream_put(struct journal *j, struct change *c, char *err,
	    size_t errlen);
int	journal_stream_end(struct journal *j, int commit, char *err,
	    size_t errlen);

#endif
