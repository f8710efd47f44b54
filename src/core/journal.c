/*
 * journal.c - the writers' entry point (see journal.h): changes into the
 * local store, or into the fleet journal with opt-outs through the
 * store's outbox.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/journal.h"
#include "core/pgjournal.h"
#include "util/util.h"

void
journal_init(struct journal *j, struct store *st, const struct sync_conf *sc,
    int flags)
{
	memset(j, 0, sizeof(*j));
	j->st = st;
	j->sc = sc != NULL && sc->enabled ? sc : NULL;
	j->flags = flags;
}

void
journal_fini(struct journal *j)
{
	if (j == NULL)
		return;
	pgj_close(j->pg);
	j->pg = NULL;
}

int
journal_fleet(const struct journal *j)
{
	return j->sc != NULL;
}

/* What a store write of the changes needs, and what it found. */
struct apply_arg {
	const struct change *ch;
	size_t	n;
	int	outbox;		/* also into the outbox */
	int	fleet;		/* the store must be a replica (else must not) */
	unsigned applied;
	char	err[256];
};

/*
 * apply_fn - every change into the store, in one transaction; with
 * outbox, each also into the outbox.  A replica takes changes only from
 * the journal: local mode refuses one, fleet mode needs one.
 */
static int
apply_fn(struct store_txn *t, void *arg)
{
	struct apply_arg *a = arg;
	struct store_sync ss;
	unsigned char buf[CHANGE_ENC_MAX];
	size_t len;
	int rc;

	a->applied = 0;
	if ((rc = store_txn_sync_get(t, &ss)) == -1)
		return -1;
	if (rc != a->fleet) {
		util_fail(a->err, sizeof(a->err), rc ? "this store is a replica "
		    "of the fleet journal: change it through the fleet (the "
		    "configuration has no sync section)" : "this store is not a "
		    "replica of the fleet journal yet: run 'consentctl sync "
		    "bootstrap'");
		return 2;
	}
	for (size_t i = 0; i < a->n; i++) {
		if (a->ch[i].flags & CHANGE_F_FORWARDED)
			rc = 0;		/* merged when the journal has it */
		else if ((rc = change_apply(t, &a->ch[i], a->err,
		    sizeof(a->err))) == -1)
			return 2;
		a->applied += (unsigned)rc;
		if (!a->outbox)
			continue;
		if (change_encode(&a->ch[i], buf, sizeof(buf), &len) == -1) {
			util_fail(a->err, sizeof(a->err), "outbox: cannot encode "
			    "the change to %s", a->ch[i].key);
			return 2;
		}
		if (store_txn_outbox_put(t, buf, len, NULL) == -1)
			return -1;
	}
	return 0;
}

/* stamp - made, origin and a fresh id on each change; check each. */
static int
stamp(const struct journal *j, struct change *ch, size_t n, char *err,
    size_t errlen)
{
	int64_t now = (int64_t)time(NULL);
	char why[200];

	for (size_t i = 0; i < n; i++) {
		if (ch[i].made == 0)
			ch[i].made = now;
		util_strlcpy(ch[i].origin, j->sc != NULL ? j->sc->host_id : "",
		    sizeof(ch[i].origin));
		change_new_id(&ch[i]);
		if (change_check(&ch[i], why, sizeof(why)) == -1)
			return util_fail(err, errlen, "change %zu (%s %s): %s",
			    i + 1, change_kind_name(ch[i].kind), ch[i].key, why);
	}
	return 0;
}

/* write_store - the changes into the store (and outbox), all or none. */
static int
write_store(struct journal *j, const struct change *ch, size_t n, int outbox,
    unsigned *applied, char *err, size_t errlen)
{
	struct apply_arg a = { ch, n, outbox, j->sc != NULL, 0, "" };
	int rc;

	rc = store_write(j->st, apply_fn, &a, err, errlen);
	if (rc == 2)
		return util_fail(err, errlen, "%s", a.err);
	if (rc != 0)
		return -1;
	*applied = a.applied;
	return 0;
}

/* fleet_connect - the writer's connection to the fleet database, once. */
static int
fleet_connect(struct journal *j, char *err, size_t errlen)
{
	const char *ci = j->sc->writer_conninfo[0] ? j->sc->writer_conninfo :
	    j->sc->conninfo;

	if (j->pg != NULL && pgj_broken(j->pg)) {
		pgj_close(j->pg);
		j->pg = NULL;
	}
	if (j->pg != NULL)
		return 0;
	return pgj_connect(&j->pg, ci, "consentctl", err, errlen);
}

/* fleet_send - the changes into the fleet journal, in one statement. */
static int
fleet_send(struct journal *j, const struct change *ch, size_t n, char *err,
    size_t errlen)
{
	if (fleet_connect(j, err, errlen) == -1)
		return -1;
	return pgj_insert(j->pg, ch, n, err, errlen) == -1 ? -1 : 0;
}

/*
 * submit_fleet - opt-outs into the store and its outbox at once, then to
 * the database if we may; anything else to the database or nowhere.
 */
static int
submit_fleet(struct journal *j, struct change *ch, size_t n,
    struct journal_result *res, char *err, size_t errlen)
{
	char why[512];
	int optout = 1;

	for (size_t i = 0; i < n; i++)
		optout &= change_is_optout(&ch[i]);
	if (optout) {
		if (write_store(j, ch, n, 1, &res->applied, err, errlen) == -1)
			return -1;
		res->where = JOURNAL_QUEUED;
		if (j->flags & JOURNAL_NO_NETWORK)
			util_strlcpy(res->why, "consent-syncd sends it",
			    sizeof(res->why));
		else if (fleet_send(j, ch, n, res->why, sizeof(res->why)) == 0)
			res->where = JOURNAL_SENT;
		return 0;
	}
	if (j->flags & JOURNAL_NO_NETWORK) {
		/*
		 * A daemon that never waits on the network (a confirmation
		 * click): consent-syncd forwards it, and it takes effect here
		 * and everywhere once the journal, the record, has it.
		 */
		for (size_t i = 0; i < n; i++)
			ch[i].flags |= CHANGE_F_FORWARDED;
		if (write_store(j, ch, n, 1, &res->applied, err, errlen) == -1)
			return -1;
		res->where = JOURNAL_QUEUED;
		util_strlcpy(res->why, "an opt-in takes effect once the fleet "
		    "journal has it; consent-syncd sends it", sizeof(res->why));
		return 0;
	}
	if (fleet_send(j, ch, n, why, sizeof(why)) == -1)
		return util_fail(err, errlen, "not recorded (an opt-in needs the "
		    "fleet database): %s", why);
	res->where = JOURNAL_SENT;
	return 0;
}

int
journal_submit(struct journal *j, struct change *ch, size_t n,
    struct journal_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof(*res));
	if (n == 0) {
		res->where = j->sc != NULL ? JOURNAL_SENT : JOURNAL_LOCAL;
		return 0;
	}
	if (stamp(j, ch, n, err, errlen) == -1)
		return -1;
	if (j->sc == NULL) {
		res->where = JOURNAL_LOCAL;
		return write_store(j, ch, n, 0, &res->applied, err, errlen);
	}
	return submit_fleet(j, ch, n, res, err, errlen);
}

int
journal_stream_begin(struct journal *j, char *err, size_t errlen)
{
	if (j->sc == NULL)
		return util_fail(err, errlen, "a stream of changes goes to the "
		    "fleet journal only");
	if (j->flags & JOURNAL_NO_NETWORK)
		return util_fail(err, errlen, "a stream needs the fleet database");
	if (fleet_connect(j, err, errlen) == -1)
		return -1;
	return pgj_copy_begin(j->pg, err, errlen);
}

int
journal_stream_put(struct journal *j, struct change *c, char *err,
    size_t errlen)
{
	if (stamp(j, c, 1, err, errlen) == -1)
		return -1;
	return pgj_copy_put(j->pg, c, err, errlen);
}

int
journal_stream_end(struct journal *j, int commit, char *err, size_t errlen)
{
	return pgj_copy_end(j->pg, commit, err, errlen);
}
