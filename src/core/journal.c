/*
 * journal.c - the writers' entry point (see journal.h): changes into the
 * local store, or into the fleet journal with opt-outs through the
 * store's outbox.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/journal.h"
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
	unsigned applied;
	char	err[256];
};

/* apply_fn - every change into the store, in one transaction. */
static int
apply_fn(struct store_txn *t, void *arg)
{
	struct apply_arg *a = arg;
	int rc;

	a->applied = 0;
	for (size_t i = 0; i < a->n; i++) {
		if ((rc = change_apply(t, &a->ch[i], a->err, sizeof(a->err))) == -1)
			return 2;
		a->applied += (unsigned)rc;
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

/* submit_local - local mode: the changes into the store, all or none. */
static int
submit_local(struct journal *j, const struct change *ch, size_t n,
    struct journal_result *res, char *err, size_t errlen)
{
	struct apply_arg a = { ch, n, 0, "" };
	int rc;

	rc = store_write(j->st, apply_fn, &a, err, errlen);
	if (rc == 2)
		return util_fail(err, errlen, "%s", a.err);
	if (rc != 0)
		return -1;
	res->where = JOURNAL_LOCAL;
	res->applied = a.applied;
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
	if (j->sc == NULL)
		return submit_local(j, ch, n, res, err, errlen);
	return util_fail(err, errlen, "fleet mode is not available in this "
	    "build");
}
