/*
 * pgjournal.h - the fleet journal in PostgreSQL: the append-only table of
 * changes (consent.change), its roles, and the reads and writes replicas
 * and writers make.  Hides every libpq detail, as store.h hides LMDB's:
 * callers see struct change, a cursor, and 0 / -1 with a message.
 *
 * Rows are read in the order of the transaction that wrote them: by
 * (xid, id), only below pg_snapshot_xmin(pg_current_snapshot()), the
 * oldest transaction still running.  Ids are handed out at insert but
 * transactions commit in any order, so "id > last" would pass over a row
 * committed late; nothing below the horizon can still appear.  LISTEN
 * consent_change only wakes a reader up (a trigger notifies at each
 * insert statement); a reader that missed it finds the rows at its next
 * poll.
 */
#ifndef PGJOURNAL_H
#define PGJOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/change.h"

#define PGJ_FORMAT	1	/* the journal's table layout */
#define PGJ_ROLE_MAX	63	/* octets in a role name */
#define PGJ_ROW_MAX	4096	/* octets in a row as COPY text, escaped */

struct pgjournal;

/* A place in the journal: the row (xid, id); 0, 0 is before the first. */
struct pgj_pos {
	uint64_t xid;
	int64_t	id;
};

/*
 * pgj_connect - connect with a libpq connection string or service
 * ("service=consent"); appname names us in pg_stat_activity.  Connect
 * timeout 10 s and TCP keepalives unless conninfo says otherwise.  On
 * success *pp owns the connection (pgj_close).  0, or -1 with err.
 */
int	pgj_connect(struct pgjournal **pp, const char *conninfo,
	    const char *appname, char *err, size_t errlen);

/* pgj_close - close the connection; NULL is a no-op. */
void	pgj_close(struct pgjournal *pg);

/* pgj_broken - 1 once the connection is lost: close it and connect again. */
int	pgj_broken(const struct pgjournal *pg);

/*
 * pgj_init - create (or bring up to date) the schema consent, its table
 * of changes, the triggers that refuse UPDATE, DELETE and TRUNCATE, and
 * the roles: replica_role may only read, writer_role only insert.  The
 * fleet's address rules (ADDR_CASE_SENSITIVE in addr_flags) are recorded
 * once; a fleet made with others is refused.  Needs a role that may
 * create roles and schemas.  0, or -1 with err.
 */
int	pgj_init(struct pgjournal *pg, const char *replica_role,
	    const char *writer_role, int addr_flags, char *err, size_t errlen);

/*
 * pgj_fleet_check - 0 if the journal exists, has our layout and the
 * fleet's address rules are addr_flags; -1 with err saying what differs.
 */
int	pgj_fleet_check(struct pgjournal *pg, int addr_flags, char *err,
	    size_t errlen);

/*
 * pgj_insert - insert n changes in one statement, all or none; a change
 * already there (the same origin host and id: an outbox sent twice) is
 * passed over.  Returns the rows inserted, or -1 with err.
 */
long	pgj_insert(struct pgjournal *pg, const struct change *ch, size_t n,
	    char *err, size_t errlen);

/*
 * pgj_copy_begin, pgj_copy_put, pgj_copy_end - many changes (an import)
 * in one COPY: all of them when pgj_copy_end() commits, none if it does
 * not (commit 0) or anything failed.  Each returns 0, or -1 with err;
 * after a -1 only pgj_copy_end(pg, 0, ...) may follow.
 */
int	pgj_copy_begin(struct pgjournal *pg, char *err, size_t errlen);
int	pgj_copy_put(struct pgjournal *pg, const struct change *c, char *err,
	    size_t errlen);
int	pgj_copy_end(struct pgjournal *pg, int commit, char *err, size_t errlen);

/* pgj_listen - LISTEN for the trigger's wake-ups.  0, or -1 with err. */
int	pgj_listen(struct pgjournal *pg, char *err, size_t errlen);

/* pgj_socket - the connection's descriptor, to poll for wake-ups. */
int	pgj_socket(const struct pgjournal *pg);

/* pgj_notified - read what arrived: 1 a wake-up, 0 none, -1 lost (err). */
int	pgj_notified(struct pgjournal *pg, char *err, size_t errlen);

/*
 * pgj_fetch - the rows after *after and below the horizon, in journal
 * order, at most limit of them (0: all), each to fn with its place.
 * fn's non-zero return stops the read: pgj_fetch then returns -1 with
 * "stopped" in err unless fn wrote its own.  Returns the number of rows,
 * or -1 with err (a row that does not decode is an error, never skipped).
 */
long	pgj_fetch(struct pgjournal *pg, const struct pgj_pos *after, long limit,
	    int (*fn)(const struct change *, const struct pgj_pos *, void *),
	    void *arg, char *err, size_t errlen);

/*
 * pgj_history - every row of key up to and including *upto, in journal
 * order, each to fn (as pgj_fetch).  Rows, or -1 with err.
 */
long	pgj_history(struct pgjournal *pg, const char *key,
	    const struct pgj_pos *upto,
	    int (*fn)(const struct change *, const struct pgj_pos *, void *),
	    void *arg, char *err, size_t errlen);

/*
 * pgj_row_is - whether the journal holds the row at *pos and, with
 * origin_id not NULL (CHANGE_ID_LEN octets), that it is the row of that
 * origin id: 1 yes; 0 no (absent, or another row there: the journal was
 * restored to an earlier point or replaced since it gave us that row);
 * -1 with err.
 */
int	pgj_row_is(struct pgjournal *pg, const struct pgj_pos *pos,
	    const unsigned char *origin_id, char *err, size_t errlen);

/* pgj_behind - rows after *after (committed, any horizon) into *rows. */
int	pgj_behind(struct pgjournal *pg, const struct pgj_pos *after,
	    int64_t *rows, char *err, size_t errlen);

/*
 * pgj_row_decode - one row of the journal as COPY's text form gives it
 * (tab-separated, backslash escapes, no newline) into c and pos, every
 * field checked (change_check).  0, or -1 with err.  Pure: the fuzz
 * target's.
 */
int	pgj_row_decode(const char *line, size_t len, struct change *c,
	    struct pgj_pos *pos, char *err, size_t errlen);

/*
 * pgj_row_encode - c at pos as pgj_row_decode() reads it, into buf
 * (PGJ_ROW_MAX octets), NUL-terminated; returns its length.  c must pass
 * change_check().
 */
size_t	pgj_row_encode(const struct change *c, const struct pgj_pos *pos,
	    char *buf);

/* pgj_pos_cmp - <0, 0, >0 as a comes before, at, or after b. */
int	pgj_pos_cmp(const struct pgj_pos *a, const struct pgj_pos *b);

#endif
