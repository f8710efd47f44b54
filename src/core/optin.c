/*
 * optin.c - the confirmation click, as a change handed to the journal.
 * The merge rules of record.c decide as everywhere; the checks here only
 * say when a click may not confirm: nothing pending, or the person left
 * since.
 */
#include <string.h>

#include "core/change.h"
#include "core/optin.h"
#include "core/record.h"
#include "util/util.h"

/*
 * confirm_plan - the confirmation of c from s, the record as this host's
 * store has it, into ch.  OPTIN_CONFIRMED when there is one to make, else
 * OPTIN_ALREADY or OPTIN_REFUSED.
 */
static int
confirm_plan(const struct subject *s, const struct token_claims *c,
    const char *ip, int64_t now, struct change *ch)
{
	const struct list_consent *lc = record_find_list(s, c->list);

	if (lc != NULL && lc->status == CS_CONFIRMED)
		return OPTIN_ALREADY;
	/* Left every list after the link was made: that stands. */
	if (lc == NULL || (lc->status != CS_PENDING &&
	    lc->status != CS_SUBSCRIBED) || (s->has_supp &&
	    s->supp.reason == SR_UNSUBSCRIBED_ALL &&
	    s->supp.created >= c->issued &&
	    (s->supp.expires == 0 || s->supp.expires > now)))
		return OPTIN_REFUSED;
	/* Left this list after the link was made, even if pending again
	 * since: the link is dead; only the new signup's own link confirms. */
	for (unsigned i = 0; i < lc->nev; i++)
		if (lc->ev[i].status == CS_UNSUBSCRIBED &&
		    lc->ev[i].time >= c->issued)
			return OPTIN_REFUSED;
	change_init(ch, CHANGE_CONFIRM, c->addr, now);
	util_strlcpy(ch->list, c->list, sizeof(ch->list));
	ch->ev.status = CS_CONFIRMED;
	ch->ev.source = SRC_DOI;
	/* Never before the signup it confirms. */
	ch->ev.time = now > lc->changed ? now : lc->changed;
	util_strlcpy(ch->ev.ip, ip, sizeof(ch->ev.ip));
	util_strlcpy(ch->ev.note, "confirmation link", sizeof(ch->ev.note));
	return OPTIN_CONFIRMED;
}

int
optin_confirm(struct journal *j, const struct token_claims *c,
    const char *ip, int64_t now, char *err, size_t errlen)
{
	struct journal_result res;
	struct subject s;
	struct change ch;
	int rc;

	subject_init(&s);
	if (store_get(j->st, c->addr, &s, err, errlen) == -1)
		return -1;
	rc = confirm_plan(&s, c, ip ? ip : "", now, &ch);
	subject_clear(&s);
	if (rc != OPTIN_CONFIRMED)
		return rc;
	if (journal_submit(j, &ch, 1, &res, err, errlen) == -1)
		return -1;
	/* Here, the record must take it (a fleet takes it when its journal has it). */
	if (res.where == JOURNAL_LOCAL && res.applied == 0)
		return util_fail(err, errlen, "the record of %s refused the "
		    "confirmation", c->addr);
	return OPTIN_CONFIRMED;
}
