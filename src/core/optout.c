/*
 * optout.c - recording an unsubscribe that a token proves: a one-click
 * POST, a mailto unsubscribe.  The changes the record calls for go to
 * journal_submit() together.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/optout.h"
#include "util/util.h"

struct rec_arg {
	const struct token_claims *c;
	int	source, all;
	const char *ip;
	int64_t	now;
};

/* plan_add - the next change of a plan, for key, made now. */
static struct change *
plan_add(struct change *plan, size_t *np, int kind, const struct rec_arg *a)
{
	struct change *ch = &plan[(*np)++];

	change_init(ch, kind, a->c->addr, a->now);
	return ch;
}

/*
 * Unsubscribe s from one list, whatever its record says: dated now, or at
 * its newest change if that is later (an equal time goes to the
 * unsubscribe).  Adds the change to the plan and merges it into s.  1 if
 * it changed s, 0 if it was unsubscribed already, -1 if the record
 * refused it (cannot happen; fail rather than pretend).
 */
static int
unsub_list(struct subject *s, const char *list, const struct rec_arg *a,
    struct change *plan, size_t *np)
{
	struct list_consent *lc = record_find_list(s, list);
	struct change *ch;

	if (lc != NULL && lc->status == CS_UNSUBSCRIBED)
		return 0;
	ch = plan_add(plan, np, CHANGE_CONSENT, a);
	util_strlcpy(ch->list, list, sizeof(ch->list));
	ch->ev.status = CS_UNSUBSCRIBED;
	ch->ev.source = (uint8_t)a->source;
	ch->ev.time = a->now;
	if (lc != NULL && lc->changed > ch->ev.time)
		ch->ev.time = lc->changed;
	util_strlcpy(ch->ev.ip, a->ip, sizeof(ch->ev.ip));
	return change_merge(s, ch) == 1 ? 1 : -1;
}

/*
 * unsub_all - leave every list: an unsubscribed_all suppression newer
 * than every opt-in it faces, unless one is in force already.  A
 * stronger suppression (a hard bounce, say) keeps its place and may
 * expire: then every known list is left one by one.
 */
static int
unsub_all(struct subject *s, const struct rec_arg *a, struct change *plan,
    size_t *np)
{
	struct change *ch;
	int64_t newest = a->now;
	int in_force, rc, r2;

	/* In force: unexpired and newer than every opt-in it faces. */
	for (unsigned i = 0; i < s->nlists; i++)
		if (s->lists[i].changed > newest)
			newest = s->lists[i].changed;
	in_force = s->has_supp && s->supp.reason == SR_UNSUBSCRIBED_ALL &&
	    (s->supp.expires == 0 || s->supp.expires > a->now);
	for (unsigned i = 0; in_force && i < s->nlists; i++)
		if (s->lists[i].status != CS_UNSUBSCRIBED &&
		    s->lists[i].changed >= s->supp.created)
			in_force = 0;
	if (in_force)
		return 0;
	ch = plan_add(plan, np, CHANGE_SUPPRESS, a);
	ch->supp.reason = SR_UNSUBSCRIBED_ALL;
	ch->supp.source = (uint8_t)a->source;
	ch->supp.created = newest + (newest > a->now);
	snprintf(ch->supp.note, sizeof(ch->supp.note), "list %s%s%s",
	    a->c->list, a->ip[0] ? ", ip " : "", a->ip);
	if ((rc = change_merge(s, ch)) != 0)
		return rc;
	(*np)--;	/* it changes nothing: the lists, one by one */
	rc = unsub_list(s, a->c->list, a, plan, np);
	for (unsigned i = 0; rc != -1 && i < s->nlists; i++) {
		r2 = unsub_list(s, s->lists[i].list, a, plan, np);
		rc = r2 == -1 ? -1 : (rc | r2);
	}
	return rc;
}

int
optout_record(struct journal *j, const struct token_claims *c, int source,
    const char *ip, int all, int64_t now, char *err, size_t errlen)
{
	struct rec_arg a = { c, source, all, ip ? ip : "", now };
	struct journal_result res;
	struct change *plan;
	struct subject s;
	size_t n = 0;
	int rc;

	/* An explicit unsubscribe always ends denied: a click that changes
	 * nothing must be one that finds the person unsubscribed already. */
	subject_init(&s);
	if (store_get(j->st, c->addr, &s, err, errlen) == -1)
		return -1;
	if ((plan = calloc(REC_LISTS_MAX + 2, sizeof(*plan))) == NULL) {
		subject_clear(&s);
		return util_fail(err, errlen, "out of memory");
	}
	rc = all ? unsub_all(&s, &a, plan, &n) : unsub_list(&s, c->list, &a,
	    plan, &n);
	subject_clear(&s);
	if (rc == -1) {
		free(plan);
		return util_fail(err, errlen, "the record of %s refused the "
		    "unsubscribe", c->addr);
	}
	if (rc == 1)
		rc = journal_submit(j, plan, n, &res, err, errlen) == -1 ? -1 : 1;
	free(plan);
	return rc;
}
