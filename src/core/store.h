/*
 * store.h - the LMDB consent store.
 *
 * Hides every LMDB detail: callers see subjects (record.h), the facts
 * about a recipient (facts.h) and 1 / 0 / -1 results.  Readers never hold a transaction
 * across calls, so a change committed by consentctl or consent-unsubd is
 * seen by the next lookup, without a reload.  Writers run a callback in one
 * write transaction: all of it commits or none of it does, and a full map
 * is grown and the callback run again, in this one place.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/facts.h"
#include "core/record.h"

#define STORE_FORMAT	1	/* store layout written by this build */

/* store_open() flags */
#define STORE_RDONLY	0x01	/* the milter: never writes */
#define STORE_CREATE	0x02	/* consentctl init: create the directory and files */

struct store;
struct store_txn;

struct store_stats {
	uint64_t addresses;	/* address keys */
	uint64_t domains;	/* domain suppression keys */
	uint64_t consents[CS_MAX_];	/* list entries by status */
	uint64_t supps[SR_MAX_];	/* suppressions by reason (address and domain) */
	uint64_t expired;	/* suppressions past their expiry */
	uint64_t erased;	/* addresses erased, kept as keyed hashes */
	uint64_t map_size;	/* bytes */
	uint64_t map_used;	/* bytes in use */
	int	addr_flags;	/* ADDR_* flags the store was created with */
};

/*
 * store_open - open the store in directory dir.  addr_flags are the
 * normaliser flags the caller uses; the store refuses to open if it was
 * created with others (its keys would not match).  mapsize is the initial
 * map size in bytes for a new store (0: default).  On success *sp owns the
 * store; free it with store_close().  Returns 0, or -1 with err filled.
 * Never call after fork() on a store opened before it.
 */
int	store_open(struct store **sp, const char *dir, int flags, int addr_flags,
	    uint64_t mapsize, char *err, size_t errlen);

/* store_close - close the store; NULL is a no-op. */
void	store_close(struct store *st);

/*
 * store_facts - gather, in one read transaction, what policy_decide()
 * needs about address a and list.  Returns 0, or -1 with err filled (the
 * caller must fail closed).  Safe to call from many threads at once.
 */
int	store_facts(struct store *st, const struct addr *a, const char *list,
	    struct policy_facts *f, char *err, size_t errlen);

/*
 * store_get - the subject stored under key (an address key from
 * addr_normalize, or a domain key from addr_domain_normalize) into s
 * (initialised by the caller, which clears it).  Returns 1 found,
 * 0 not found, -1 error with err filled.
 */
int	store_get(struct store *st, const char *key, struct subject *s,
	    char *err, size_t errlen);

/*
 * store_write - run fn(txn, arg) in one write transaction, and commit if
 * it returns 0.  A non-zero return from fn aborts and is returned.  If the
 * map fills up, the transaction is aborted, the map grown and fn run again
 * from the start: fn must not keep state between runs.  Returns 0, fn's
 * non-zero value, or -1 with err filled.
 */
int	store_write(struct store *st, int (*fn)(struct store_txn *, void *),
	    void *arg, char *err, size_t errlen);

/* Inside store_write(): 1 / 0 / -1 as store_get; 0 / -1 for changes. */
int	store_txn_get(struct store_txn *t, const char *key, struct subject *s);
int	store_txn_put(struct store_txn *t, const char *key, const struct subject *s);
int	store_txn_del(struct store_txn *t, const char *key);	/* 1 deleted, 0 absent */
const char *store_txn_error(struct store_txn *t);	/* after a -1 */

/*
 * A walk: writes of address keys in ascending order inside store_write(),
 * the way a big import goes.  Each key is looked up with store_walk_get()
 * and, if it changed, written back with store_walk_put() before the next
 * key; past the last key in the store every write is an append, which
 * fills pages whole.  Pages the walk has read are given back to the
 * kernel as it goes, so a walk over a big store does not hold them all.
 */
struct store_walk;

/*
 * store_walk_open - a walk over the address keys in t; *wp is the
 * caller's, to end with store_walk_close() before t ends.  0, or -1 with
 * store_txn_error(t).
 */
int	store_walk_open(struct store_txn *t, struct store_walk **wp);

/*
 * store_walk_get - the subject under key (an address key, not below the
 * last key walked) into s, as store_txn_get: 1 found, 0 not, -1 (a key
 * out of order is EINVAL, with store_txn_error()).
 */
int	store_walk_get(struct store_walk *w, const char *key, struct subject *s);

/* store_walk_put - write s under the key of the last store_walk_get(); 0 / -1. */
int	store_walk_put(struct store_walk *w, const char *key,
	    const struct subject *s);

/* store_walk_close - end the walk (not the transaction); NULL is a no-op. */
void	store_walk_close(struct store_walk *w);

/*
 * store_reserve - grow the map, if needed, so that bytes more than the
 * store uses fit in it: a big write then does not fill the map and run
 * again.  Outside store_write().  0, or -1 with err filled.
 */
int	store_reserve(struct store *st, uint64_t bytes, char *err, size_t errlen);

/*
 * Soft-bounce counts, per address key, in their own database: how many
 * soft bounces since first, and the last one, and which messages they
 * were: one message counts once, however often its bounce comes back
 * (a resend, a replay, the DSN and the mail log's line of one failure).
 * Kept apart from the record, so that the record's format does not
 * change.
 */
#define STORE_SOFT_REFS	8	/* messages remembered per count */

struct store_soft {
	unsigned count;
	int64_t	first;
	int64_t	last;
	uint64_t refs[STORE_SOFT_REFS];	/* store_soft_ref()s counted, newest
					 * first; 0 empty */
};

/* store_soft_ref - the hash a message's identity (its Message-ID, or a
 * queue id) is remembered by; 0 for NULL or "": not remembered. */
uint64_t store_soft_ref(const char *ident);

/* store_soft_seen - 1 if ref (not 0) is one of the messages ss counted. */
int	store_soft_seen(const struct store_soft *ss, uint64_t ref);

/* store_soft_note - remember ref (not 0) in ss as the newest counted. */
void	store_soft_note(struct store_soft *ss, uint64_t ref);

/* store_soft_get - the count under key into ss; 1 found, 0 none, -1 with err. */
int	store_soft_get(struct store *st, const char *key, struct store_soft *ss,
	    char *err, size_t errlen);

/*
 * Inside store_write(): store_txn_soft_add counts one soft bounce of key
 * at now for the message ident (its Message-ID or queue id; NULL or "":
 * unknown, always counted), starting again when the first counted is
 * more than window seconds before now, and leaves the count in *ss.
 * 1 counted; 0 not: that message was counted already in this window, or
 * the address was erased (*ss zero: nothing of it is kept); -1.
 * store_txn_soft_reset forgets key's count: 1 forgotten, 0 none, -1.
 */
int	store_txn_soft_add(struct store_txn *t, const char *key, int64_t now,
	    int64_t window, const char *ident, struct store_soft *ss);
int	store_txn_soft_reset(struct store_txn *t, const char *key);

/*
 * store_foreach - call fn for every key in key order (addresses, then
 * domains), in one read transaction.  s is valid only during the call.
 * Stops and returns fn's value when it is non-zero.  Returns 0, fn's
 * value, or -1 with err filled.
 */
int	store_foreach(struct store *st,
	    int (*fn)(const char *key, const struct subject *s, void *arg),
	    void *arg, char *err, size_t errlen);

/* store_stats - counts and sizes; returns 0, or -1 with err filled. */
int	store_stats(struct store *st, int64_t now, struct store_stats *ss,
	    char *err, size_t errlen);

/*
 * store_info - the data file's size and the time of its last change
 * (its mtime: every commit writes it), cheaply, for metrics.  0, or -1.
 */
int	store_info(struct store *st, uint64_t *bytes, int64_t *changed);

/* store_stale_cleared - reader slots of dead processes store_open cleared. */
unsigned store_stale_cleared(const struct store *st);

/*
 * Erasures (GDPR Art. 17): an erased address is kept only as a keyed hash
 * (SipHash-2-4-128 under a random key in the store's meta database, which no
 * export writes), with the time of its erasure, so that the person stays
 * unmailable and nothing that names them is kept.  store_facts() sets
 * f->erased for such an address (or its untagged form).
 */
#define STORE_ERASE_KEY_BYTES	16	/* crypto_shorthash_siphashx24_KEYBYTES */

/* store_erased - 1 and *when if key was erased, 0 if not, -1 with err. */
int	store_erased(struct store *st, const char *key, int64_t *when,
	    char *err, size_t errlen);

/* store_erased_count - how many addresses were erased; 0, or -1 with err. */
int	store_erased_count(struct store *st, uint64_t *n, char *err,
	    size_t errlen);

/*
 * Inside store_write(): store_txn_erased is store_erased (1 / 0 / -1);
 * store_txn_erase_mark keeps key's hash as erased at when (an earlier
 * erasure stands), 0 / -1; store_txn_erase_unmark forgets it (the person
 * signed up again, deliberately), 1 forgotten, 0 none, -1.
 */
int	store_txn_erased(struct store_txn *t, const char *key, int64_t *when);
int	store_txn_erase_mark(struct store_txn *t, const char *key, int64_t when);
int	store_txn_erase_unmark(struct store_txn *t, const char *key);

/*
 * store_txn_keys_from - fn for each address key that starts with prefix,
 * in key order, until it returns non-zero (returned).  0, fn's value, or
 * -1.  fn must not change the store: collect the keys, then change them.
 */
int	store_txn_keys_from(struct store_txn *t, const char *prefix,
	    int (*fn)(const char *key, void *arg), void *arg);

/* store_is_domain_key - 1 if key names a domain (no '@'). */
int	store_is_domain_key(const char *key);

/*
 * --- a replica of the fleet journal -------------------------------------
 *
 * A store that consent-syncd keeps holds its sync state in the meta
 * database: the cursor (the last journal row applied), written in the
 * same transaction as the rows it covers, and when the replica last held
 * every row the database could give.  Its outbox holds the opt-outs made
 * here that the journal has not given back yet (core/journal.h); its
 * records are opaque octets to the store (core/change.h encodes them).
 */
#define STORE_SYNC_ERR_MAX	256

#define STORE_SYNC_ORIGIN_LEN	16	/* CHANGE_ID_LEN */

struct store_sync {
	uint64_t xid;		/* cursor: transaction id of the last row applied */
	int64_t	id;		/* and its row id; 0, 0 before the first */
	int64_t	synced;		/* last time every row below the horizon was here */
	int64_t	attempt;	/* last time consent-syncd tried */
	int64_t	error_time;	/* when error was set */
	char	error[STORE_SYNC_ERR_MAX];	/* the last failure, "" after a success */
	unsigned char origin_id[STORE_SYNC_ORIGIN_LEN];	/* the cursor row's
				 * origin id (change.h's id); all zero: not known */
};

/*
 * store_sync_get - the replica's sync state into ss.  Returns 1 if the
 * store is a replica, 0 if not (ss zeroed), -1 with err.
 */
int	store_sync_get(struct store *st, struct store_sync *ss, char *err,
	    size_t errlen);

/*
 * store_synced - only the time of the last complete sync: what the milter
 * asks before it decides.  1 (with *synced), 0 not a replica, -1 with err.
 */
int	store_synced(struct store *st, int64_t *synced, char *err, size_t errlen);

/*
 * store_replaced - 1 if the data file at st's path is no longer the one st
 * has open (moved away, removed, another renamed into place: a bootstrap
 * or a restore while the daemon ran), so that st is a store no other
 * program writes to any more; 0 if it is the same; -1 with err.  One
 * stat(2): a daemon asks it now and then.
 */
int	store_replaced(struct store *st, char *err, size_t errlen);

#define STORE_SYNC_SKEW	60	/* seconds a last sync may seem ahead of now */

/*
 * store_sync_fresh - 1 if a replica last complete at synced (0: never) is
 * fresh at now under max_lag, 0 if stale.  A last sync ahead of now by
 * more than STORE_SYNC_SKEW means the clock went back since: its age is
 * unknown, so it is stale (else a clock stepped back a day would keep a
 * dead replica fresh for a day).  Pure: the milter and sync status agree.
 */
int	store_sync_fresh(int64_t synced, int64_t now, int64_t max_lag);

/* Inside store_write(): the sync state (1 / 0 / -1; 0 / -1). */
int	store_txn_sync_get(struct store_txn *t, struct store_sync *ss);
int	store_txn_sync_put(struct store_txn *t, const struct store_sync *ss);

/* store_txn_outbox_put - add a record (1 to 2048 octets) at the outbox's
 * end; *seqp (may be NULL) is its place.  0 / -1. */
int	store_txn_outbox_put(struct store_txn *t, const void *rec, size_t len,
	    uint64_t *seqp);

/* store_txn_outbox_del - remove the record at seq: 1 removed, 0 absent, -1. */
int	store_txn_outbox_del(struct store_txn *t, uint64_t seq);

/*
 * store_outbox_foreach - fn for every outbox record, oldest first, in one
 * read transaction; rec is valid only during the call.  Stops at fn's
 * non-zero value and returns it.  0, fn's value, or -1 with err.
 */
int	store_outbox_foreach(struct store *st, int (*fn)(uint64_t seq,
	    const void *rec, size_t len, void *arg), void *arg, char *err,
	    size_t errlen);

/* store_outbox_count - records in the outbox into *n; 0, or -1 with err. */
int	store_outbox_count(struct store *st, uint64_t *n, char *err,
	    size_t errlen);

#endif
