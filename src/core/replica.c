/*
 * replica.c - a store kept as a replica of the fleet journal (see
 * replica.h).
 *
 * One catch-up round: read a batch of rows after the cursor (below the
 * horizon), then the outbox, then - for keys whose opt-out the batch gives
 * back - those keys' whole history up to the batch's last row; then one
 * store transaction applies the rows, folds those keys again, drops the
 * outbox entries given back and moves the cursor.  The outbox is read
 * after the rows: a writer commits its outbox entry before it inserts the
 * row, so every row of ours in the batch finds its entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/replica.h"
#include "util/util.h"

#define SEND_CHUNK	100	/* outbox changes per INSERT */

struct row {
	struct change c;
	struct pgj_pos pos;
};

/* An outbox entry, decoded. */
struct obx {
	uint64_t seq;
	struct change c;
	int	echoed;		/* the batch gives it back */
};

/* A key to fold again, and its rows up to the batch's end. */
struct hist {
	char	key[CHANGE_KEY_MAX + 1];
	struct change *ch;
	size_t	n, cap;
};

struct replica {
	struct store *st;
	struct sync_conf sc;
	int	addr_flags;
	struct pgjournal *rd;	/* reads: sync.conninfo */
	struct pgjournal *wr;	/* the outbox: sync.writer_conninfo */
	struct row *rows;
	size_t	nrows, rowcap;
	struct obx *ob;
	size_t	nob, obcap;
	struct hist *h;
	size_t	nh, hcap;
	uint64_t *sent;		/* outbox seqs this process sent */
	size_t	nsent, sentcap;
	/* the batch in hand, for batch_fn */
	int	complete;
	int64_t	t0;
	long	refolded;
	char	err[512];
};

/* grow - make room for one more element in *v (n used, *cap). */
static int
grow(void *vp, size_t n, size_t *cap, size_t size)
{
	void **v = vp, *nv;
	size_t nc;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 64;
	if ((nv = realloc(*v, nc * size)) == NULL)
		return -1;
	*v = nv;
	*cap = nc;
	return 0;
}

struct replica *
replica_new(struct store *st, const struct sync_conf *sc, int addr_flags)
{
	struct replica *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->st = st;
	r->sc = *sc;
	r->addr_flags = addr_flags;
	return r;
}

static void
hist_clear(struct replica *r)
{
	for (size_t i = 0; i < r->nh; i++)
		free(r->h[i].ch);
	r->nh = 0;
}

void
replica_free(struct replica *r)
{
	if (r == NULL)
		return;
	pgj_close(r->rd);
	pgj_close(r->wr);
	hist_clear(r);
	free(r->h);
	free(r->rows);
	free(r->ob);
	free(r->sent);
	free(r);
}

void
replica_settings(struct replica *r, const struct sync_conf *sc)
{
	if (strcmp(sc->conninfo, r->sc.conninfo) != 0) {
		pgj_close(r->rd);
		r->rd = NULL;
	}
	if (strcmp(sc->writer_conninfo, r->sc.writer_conninfo) != 0 ||
	    strcmp(sc->conninfo, r->sc.conninfo) != 0) {
		pgj_close(r->wr);
		r->wr = NULL;
	}
	r->sc = *sc;
}

int
replica_connect(struct replica *r, char *err, size_t errlen)
{
	if (r->rd != NULL && pgj_broken(r->rd)) {
		pgj_close(r->rd);
		r->rd = NULL;
	}
	if (r->rd != NULL)
		return 0;
	if (pgj_connect(&r->rd, r->sc.conninfo, "consent-syncd", err,
	    errlen) == -1)
		return -1;
	if (pgj_fleet_check(r->rd, r->addr_flags, err, errlen) == -1 ||
	    pgj_listen(r->rd, err, errlen) == -1) {
		pgj_close(r->rd);
		r->rd = NULL;
		return -1;
	}
	return 0;
}

int
replica_socket(const struct replica *r)
{
	return r->rd != NULL ? pgj_socket(r->rd) : -1;
}

int
replica_notified(struct replica *r, char *err, size_t errlen)
{
	if (r->rd == NULL)
		return 0;
	return pgj_notified(r->rd, err, errlen);
}

/* --- the batch ------------------------------------------------------------ */

static int
collect_fn(const struct change *c, const struct pgj_pos *pos, void *arg)
{
	struct replica *r = arg;

	if (grow(&r->rows, r->nrows, &r->rowcap, sizeof(*r->rows)) == -1)
		return util_fail(r->err, sizeof(r->err), "out of memory");
	r->rows[r->nrows].c = *c;
	r->rows[r->nrows].pos = *pos;
	r->nrows++;
	return 0;
}

static int
outbox_fn(uint64_t seq, const void *rec, size_t len, void *arg)
{
	struct replica *r = arg;
	char why[256];

	if (grow(&r->ob, r->nob, &r->obcap, sizeof(*r->ob)) == -1)
		return util_fail(r->err, sizeof(r->err), "out of memory");
	if (change_decode(rec, len, &r->ob[r->nob].c, why, sizeof(why)) == -1)
		return util_fail(r->err, sizeof(r->err), "outbox entry %llu: %s",
		    (unsigned long long)seq, why);
	r->ob[r->nob].seq = seq;
	r->ob[r->nob].echoed = 0;
	r->nob++;
	return 0;
}

/* load_outbox - the outbox, decoded, oldest first.  0 / -1 (err). */
static int
load_outbox(struct replica *r, char *err, size_t errlen)
{
	int rc;

	r->nob = 0;
	r->err[0] = '\0';
	rc = store_outbox_foreach(r->st, outbox_fn, r, err, errlen);
	if (rc != 0)
		return util_fail(err, errlen, "%s", r->err[0] ? r->err : err);
	return 0;
}

/* by_id - order of outbox entries by origin host and id, for bsearch. */
static int
by_id(const void *a, const void *b)
{
	const struct change *x = &(*(const struct obx *const *)a)->c;
	const struct change *y = &(*(const struct obx *const *)b)->c;
	int c = memcmp(x->id, y->id, CHANGE_ID_LEN);

	return c != 0 ? c : strcmp(x->origin, y->origin);
}

/* add_hist - key among those to fold again (once).  0 / -1. */
static int
add_hist(struct replica *r, const char *key)
{
	for (size_t i = 0; i < r->nh; i++)
		if (strcmp(r->h[i].key, key) == 0)
			return 0;
	if (grow(&r->h, r->nh, &r->hcap, sizeof(*r->h)) == -1)
		return -1;
	memset(&r->h[r->nh], 0, sizeof(r->h[0]));
	util_strlcpy(r->h[r->nh].key, key, sizeof(r->h[0].key));
	r->nh++;
	return 0;
}

/* mark_echoes - the outbox entries the batch gives back, and their keys. */
static int
mark_echoes(struct replica *r, char *err, size_t errlen)
{
	struct obx **idx, key, *kp = &key, **hit;

	hist_clear(r);
	if (r->nob == 0)
		return 0;
	if ((idx = malloc(r->nob * sizeof(*idx))) == NULL)
		return util_fail(err, errlen, "out of memory");
	for (size_t i = 0; i < r->nob; i++)
		idx[i] = &r->ob[i];
	qsort(idx, r->nob, sizeof(*idx), by_id);
	for (size_t i = 0; i < r->nrows; i++) {
		key.c = r->rows[i].c;
		hit = bsearch(&kp, idx, r->nob, sizeof(*idx), by_id);
		if (hit == NULL)
			continue;
		(*hit)->echoed = 1;
		if (add_hist(r, (*hit)->c.key) == -1) {
			free(idx);
			return util_fail(err, errlen, "out of memory");
		}
	}
	free(idx);
	return 0;
}

static int
hist_fn(const struct change *c, const struct pgj_pos *pos, void *arg)
{
	struct hist *h = arg;

	(void)pos;
	if (grow(&h->ch, h->n, &h->cap, sizeof(*h->ch)) == -1)
		return 1;
	h->ch[h->n++] = *c;
	return 0;
}

/* fetch_history - the rows of each key to fold again, up to upto. */
static int
fetch_history(struct replica *r, const struct pgj_pos *upto, char *err,
    size_t errlen)
{
	for (size_t i = 0; i < r->nh; i++)
		if (pgj_history(r->rd, r->h[i].key, upto, hist_fn, &r->h[i], err,
		    errlen) == -1)
			return -1;
	return 0;
}

/* refold - key h from nothing: its journal rows, then our opt-outs waiting. */
static int
refold(struct store_txn *t, struct replica *r, const struct hist *h)
{
	struct subject s;
	int rc = 0;

	subject_init(&s);
	for (size_t i = 0; i < h->n && rc != -1; i++)
		rc = change_merge(&s, &h->ch[i]);
	for (size_t i = 0; i < r->nob && rc != -1; i++)
		if (!r->ob[i].echoed && !(r->ob[i].c.flags & CHANGE_F_FORWARDED) &&
		    strcmp(r->ob[i].c.key, h->key) == 0)
			rc = change_merge(&s, &r->ob[i].c);
	if (rc == -1)
		util_fail(r->err, sizeof(r->err), "%s: its history does not merge",
		    h->key);
	else if (!s.has_supp && s.nlists == 0)
		rc = store_txn_del(t, h->key) == -1 ? -1 : 0;
	else
		rc = store_txn_put(t, h->key, &s);
	if (rc == -1 && r->err[0] == '\0')
		util_fail(r->err, sizeof(r->err), "%s", store_txn_error(t));
	subject_clear(&s);
	return rc;
}

/* batch_fn - the batch, the folds, the outbox and the cursor: one txn. */
static int
batch_fn(struct store_txn *t, void *arg)
{
	struct replica *r = arg;
	struct store_sync ss;
	char why[256];

	r->err[0] = '\0';
	for (size_t i = 0; i < r->nrows; i++)
		if (change_apply(t, &r->rows[i].c, why, sizeof(why)) == -1) {
			util_fail(r->err, sizeof(r->err), "journal row %lld "
			    "(xid %llu) cannot be applied: %s",
			    (long long)r->rows[i].pos.id,
			    (unsigned long long)r->rows[i].pos.xid, why);
			return 2;
		}
	for (size_t i = 0; i < r->nh; i++)
		if (refold(t, r, &r->h[i]) == -1)
			return 2;
	for (size_t i = 0; i < r->nob; i++)
		if (r->ob[i].echoed && store_txn_outbox_del(t, r->ob[i].seq) == -1)
			return -1;
	if (store_txn_sync_get(t, &ss) == -1)
		return -1;
	if (r->nrows > 0) {
		ss.xid = r->rows[r->nrows - 1].pos.xid;
		ss.id = r->rows[r->nrows - 1].pos.id;
		memcpy(ss.origin_id, r->rows[r->nrows - 1].c.id,
		    sizeof(ss.origin_id));
	}
	ss.attempt = (int64_t)time(NULL);
	if (r->complete) {
		ss.synced = r->t0;
		ss.error[0] = '\0';
		ss.error_time = 0;
	}
	return store_txn_sync_put(t, &ss);
}

/* forget_sent - drop the seqs of outbox entries given back from sent. */
static void
forget_sent(struct replica *r)
{
	size_t k = 0;

	for (size_t i = 0; i < r->nsent; i++) {
		int gone = 0;

		for (size_t j = 0; j < r->nob && !gone; j++)
			gone = r->ob[j].echoed && r->ob[j].seq == r->sent[i];
		if (!gone)
			r->sent[k++] = r->sent[i];
	}
	r->nsent = k;
}

/* apply_batch - the rows in hand into the store (see batch_fn). */
static int
apply_batch(struct replica *r, char *err, size_t errlen)
{
	int rc = store_write(r->st, batch_fn, r, err, errlen);

	if (rc == 2)
		return util_fail(err, errlen, "%s", r->err);
	if (rc != 0)
		return -1;
	forget_sent(r);
	r->refolded += (long)r->nh;
	return 0;
}

/* lost_fn - a replica that cannot follow its journal: stale at once. */
static int
lost_fn(struct store_txn *t, void *arg)
{
	struct replica *r = arg;
	struct store_sync ss;
	int rc;

	if ((rc = store_txn_sync_get(t, &ss)) != 1)
		return rc;
	ss.synced = 0;
	ss.attempt = ss.error_time = (int64_t)time(NULL);
	util_strlcpy(ss.error, r->err, sizeof(ss.error));
	return store_txn_sync_put(t, &ss);
}

/*
 * cursor_check - 0 if the journal still holds the row at this replica's
 * cursor (the same row: its origin id, when known), -1 with err if not,
 * or on error.  A journal restored to an earlier point hands out the
 * xids after it again, below the cursor: read from the cursor on, the
 * replica would pass over every later change, opt-outs included, and
 * call itself complete.  So it is made stale at once instead, and stays
 * so: only a bootstrap starts it again.
 */
static int
cursor_check(struct replica *r, char *err, size_t errlen)
{
	static const unsigned char unknown[STORE_SYNC_ORIGIN_LEN];
	struct store_sync ss;
	struct pgj_pos pos;
	char e[256];
	int rc, known;

	if ((rc = store_sync_get(r->st, &ss, err, errlen)) != 1)
		return rc == 0 ? 0 : -1;	/* not a replica: said later */
	if (ss.xid == 0 && ss.id == 0)
		return 0;
	pos.xid = ss.xid;
	pos.id = ss.id;
	known = memcmp(ss.origin_id, unknown, sizeof(unknown)) != 0;
	if ((rc = pgj_row_is(r->rd, &pos, known ? ss.origin_id : NULL, err,
	    errlen)) != 0)
		return rc == 1 ? 0 : -1;
	util_fail(r->err, sizeof(r->err), "the fleet journal no longer holds "
	    "this replica's last row (xid %llu, id %lld): the database was "
	    "restored to an earlier point or replaced, and this replica cannot "
	    "follow it; bulk mail is tempfailed until it is bootstrapped again",
	    (unsigned long long)ss.xid, (long long)ss.id);
	/* What this host sent may have gone with the restore: send it all
	 * again (ON CONFLICT DO NOTHING), so that a bootstrap finds it. */
	if (ss.synced != 0)
		r->nsent = 0;
	if (store_write(r->st, lost_fn, r, e, sizeof(e)) != 0)
		return util_fail(err, errlen, "%s (and not recorded: %s)", r->err,
		    e);
	return util_fail(err, errlen, "%s", r->err);
}

int
replica_catch_up(struct replica *r, struct replica_stats *rs, char *err,
    size_t errlen)
{
	struct store_sync ss;
	struct pgj_pos pos;
	long n, batch = r->sc.batch > 0 ? r->sc.batch : 10000;
	int rc;

	memset(rs, 0, sizeof(*rs));
	if (replica_connect(r, err, errlen) == -1 ||
	    cursor_check(r, err, errlen) == -1)
		return -1;
	do {
		r->t0 = (int64_t)time(NULL);
		r->nrows = 0;
		r->nob = 0;
		r->refolded = 0;
		hist_clear(r);
		if ((rc = store_sync_get(r->st, &ss, err, errlen)) != 1)
			return rc == 0 ? util_fail(err, errlen, "the store is not a "
			    "replica: run 'consentctl sync bootstrap'") : -1;
		pos.xid = ss.xid;
		pos.id = ss.id;
		r->err[0] = '\0';
		if ((n = pgj_fetch(r->rd, &pos, batch, collect_fn, r, err,
		    errlen)) == -1)
			return -1;
		r->complete = n < batch;
		if (n > 0 && (load_outbox(r, err, errlen) == -1 ||
		    mark_echoes(r, err, errlen) == -1 || fetch_history(r,
		    &r->rows[r->nrows - 1].pos, err, errlen) == -1))
			return -1;
		if (apply_batch(r, err, errlen) == -1)
			return -1;
		rs->rows += n;
		rs->refolded += r->refolded;
	} while (!r->complete);
	rs->complete = 1;
	return 0;
}

struct error_arg {
	int64_t	now;
	const char *msg;
};

/* error_fn - the last error into the sync state of a replica (only). */
static int
error_fn(struct store_txn *t, void *arg)
{
	const struct error_arg *a = arg;
	struct store_sync ss;
	int rc;

	if ((rc = store_txn_sync_get(t, &ss)) != 1)
		return rc;	/* not a replica: nothing to say it in */
	util_strlcpy(ss.error, a->msg, sizeof(ss.error));
	ss.error_time = a->now;
	ss.attempt = a->now;
	return store_txn_sync_put(t, &ss);
}

int
replica_record_error(struct replica *r, int64_t now, const char *msg,
    char *err, size_t errlen)
{
	struct error_arg a = { now, msg };

	return store_write(r->st, error_fn, &a, err, errlen) == 0 ? 0 : -1;
}

/* --- the outbox --------------------------------------------------------- */

static int
was_sent(const struct replica *r, uint64_t seq)
{
	for (size_t i = 0; i < r->nsent; i++)
		if (r->sent[i] == seq)
			return 1;
	return 0;
}

static int
mark_sent(struct replica *r, uint64_t seq)
{
	if (grow(&r->sent, r->nsent, &r->sentcap, sizeof(*r->sent)) == -1)
		return -1;
	r->sent[r->nsent++] = seq;
	return 0;
}

/* send_some - n waiting entries (idx into ob) in one INSERT; or one by
 * one if that fails, so that one bad entry does not hold up the rest. */
static long
send_some(struct replica *r, const size_t *idx, size_t n, char *err,
    size_t errlen)
{
	struct change *ch = malloc(n * sizeof(*ch));
	long sent = 0;
	int bad = 0;

	if (ch == NULL)
		return util_fail(err, errlen, "out of memory");
	for (size_t i = 0; i < n; i++)
		ch[i] = r->ob[idx[i]].c;
	if (pgj_insert(r->wr, ch, n, err, errlen) != -1) {
		for (size_t i = 0; i < n; i++)
			(void)mark_sent(r, r->ob[idx[i]].seq);
		free(ch);
		return (long)n;
	}
	for (size_t i = 0; n > 1 && i < n && !pgj_broken(r->wr); i++) {
		if (pgj_insert(r->wr, &ch[i], 1, err, errlen) == -1) {
			bad = 1;
			continue;
		}
		(void)mark_sent(r, r->ob[idx[i]].seq);
		sent++;
	}
	free(ch);
	return bad || n == 1 || sent == 0 ? -1 : sent;
}

long
replica_send_outbox(struct replica *r, char *err, size_t errlen)
{
	const char *ci = r->sc.writer_conninfo[0] ? r->sc.writer_conninfo :
	    r->sc.conninfo;
	size_t idx[SEND_CHUNK], k = 0;
	long sent = 0, rc;

	if (load_outbox(r, err, errlen) == -1)
		return -1;
	if (r->wr != NULL && pgj_broken(r->wr)) {
		pgj_close(r->wr);
		r->wr = NULL;
	}
	for (size_t i = 0; i <= r->nob; i++) {
		if (i < r->nob && was_sent(r, r->ob[i].seq))
			continue;
		if (i < r->nob)
			idx[k++] = i;
		if (k == 0 || (k < SEND_CHUNK && i < r->nob))
			continue;
		if (r->wr == NULL && pgj_connect(&r->wr, ci, "consent-syncd",
		    err, errlen) == -1)
			return -1;
		if ((rc = send_some(r, idx, k, err, errlen)) == -1)
			return -1;
		sent += rc;
		k = 0;
	}
	return sent;
}

long
replica_outbox_waiting(struct replica *r, char *err, size_t errlen)
{
	uint64_t n;

	if (store_outbox_count(r->st, &n, err, errlen) == -1)
		return -1;
	return n > r->nsent ? (long)(n - r->nsent) : 0;
}

/* --- bootstrap ---------------------------------------------------------- */

static int
boot_fn(const struct change *c, const struct pgj_pos *pos, void *arg)
{
	struct replica *r = arg;
	char err[512];

	if (collect_fn(c, pos, r) != 0)
		return 1;
	if (r->nrows < (size_t)(r->sc.batch > 0 ? r->sc.batch : 10000))
		return 0;
	if (apply_batch(r, err, sizeof(err)) == -1) {
		util_strlcpy(r->err, err, sizeof(r->err));
		return 1;
	}
	r->nrows = 0;
	return 0;
}

long
replica_bootstrap(struct replica *r, char *err, size_t errlen)
{
	struct pgj_pos start = { 0, 0 };
	long n;

	if (replica_connect(r, err, errlen) == -1)
		return -1;
	r->t0 = (int64_t)time(NULL);
	r->nrows = r->nob = 0;
	r->complete = 0;
	hist_clear(r);
	r->err[0] = '\0';
	if ((n = pgj_fetch(r->rd, &start, 0, boot_fn, r, err, errlen)) == -1) {
		if (r->err[0] != '\0')
			util_fail(err, errlen, "%s", r->err);
		return -1;
	}
	r->complete = 1;
	if (apply_batch(r, err, errlen) == -1)
		return -1;
	return n;
}
