/*
 * policy.c - the consent decision for one recipient and one list.
 * Pure: everything it knows comes in through its arguments.
 */
#include <string.h>

#include "core/policy.h"

static const char *reason_names[PR_MAX_] = {
	"confirmed", "subscribed", "opt_out", "no_consent", "pending",
	"unconfirmed",
	"unsubscribed", "unsubscribed_all", "hard_bounce", "complaint",
	"invalid", "manual", "soft_bounce", "unknown_list", "erased"
};

const char *
policy_reason_name(int r)
{
	return r >= 0 && r < PR_MAX_ ? reason_names[r] : "?";
}

int
policy_reason_parse(const char *name)
{
	for (int i = 0; i < PR_MAX_; i++)
		if (strcmp(reason_names[i], name) == 0)
			return i;
	return -1;
}

static int
supp_reason(int sr)
{
	switch (sr) {
	case SR_UNSUBSCRIBED_ALL:	return PR_UNSUBSCRIBED_ALL;
	case SR_HARD_BOUNCE:		return PR_HARD_BOUNCE;
	case SR_COMPLAINT:		return PR_COMPLAINT;
	case SR_INVALID:		return PR_INVALID;
	case SR_SOFT_BOUNCE:		return PR_SOFT_BOUNCE;
	default:			return PR_MANUAL;
	}
}

static int
opted_in(int status)
{
	return status == CS_SUBSCRIBED || status == CS_CONFIRMED;
}

void
policy_decide(const struct policy_conf *pc, const struct policy_facts *f,
    int64_t now, struct decision *d)
{
	const struct consent_view *c = f->has_consent ? &f->consent : NULL;

	d->supp = -1;
	d->consent = 0;
	/* Erased: nothing of the person is left to weigh, and none may be. */
	if (f->erased) {
		d->allow = 0;
		d->reason = PR_ERASED;
		return;
	}
	for (unsigned i = 0; i < f->nsupp && i < POLICY_SUPP_MAX; i++) {
		const struct supp_view *s = &f->supp[i].v;

		if (s->expires != 0 && s->expires <= now)
			continue;
		/* Leaving every list gives way to a later opt-in to this one. */
		if (s->reason == SR_UNSUBSCRIBED_ALL && c != NULL &&
		    opted_in(c->status) && c->changed > s->created)
			continue;
		d->allow = 0;
		d->reason = supp_reason(s->reason);
		d->supp = (int)i;
		return;
	}
	if (c != NULL) {
		d->consent = 1;
		switch (c->status) {
		case CS_UNSUBSCRIBED:
			d->allow = 0;
			d->reason = PR_UNSUBSCRIBED;
			return;
		case CS_CONFIRMED:
			d->allow = 1;
			d->reason = PR_CONFIRMED;
			return;
		case CS_SUBSCRIBED:
			d->allow = pc->model == POLICY_OPTOUT ||
			    !pc->require_confirmed;
			d->reason = d->allow ? PR_SUBSCRIBED : PR_UNCONFIRMED;
			return;
		case CS_PENDING:
			d->allow = pc->model == POLICY_OPTOUT;
			d->reason = d->allow ? PR_OPTOUT : PR_PENDING;
			return;
		default:
			break;
		}
	}
	d->allow = pc->model == POLICY_OPTOUT;
	d->reason = d->allow ? PR_OPTOUT : PR_NO_CONSENT;
}
