/*
 * optin.c - the confirmation click, as a store write.  The merge rules of
 * record.c decide as everywhere; the checks here only say when a click
 * may not confirm: nothing pending, or the person left since.
 */
#include <string.h>

#include "core/optin.h"
#include "core/record.h"
#include "util/util.h"

struct confirm_arg {
	const struct token_claims *c;
	const char *ip;
	int64_t	now;
	int	result;
};

/* confirm_fn - inside store_write: check, then apply the confirmation. */
static int
confirm_fn(struct store_txn *t, void *arg)
{
	struct confirm_arg *a = arg;
	struct list_consent *lc;
	struct subject s;
	struct evidence ev;
	int rc;

	subject_init(&s);
	a->result = OPTIN_REFUSED;
	if ((rc = store_txn_get(t, a->c->addr, &s)) == -1)
		return -1;
	lc = rc == 1 ? record_find_list(&s, a->c->list) : NULL;
	if (lc != NULL && lc->status == CS_CONFIRMED)
		a->result = OPTIN_ALREADY;
	/* Left every list after the link was made: that stands. */
	if (lc == NULL || (lc->status != CS_PENDING &&
	    lc->status != CS_SUBSCRIBED) || (s.has_supp &&
	    s.supp.reason == SR_UNSUBSCRIBED_ALL &&
	    s.supp.created >= a->c->issued &&
	    (s.supp.expires == 0 || s.supp.expires > a->now))) {
		subject_clear(&s);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.status = CS_CONFIRMED;
	ev.source = SRC_DOI;
	/* Never before the signup it confirms. */
	ev.time = a->now > lc->changed ? a->now : lc->changed;
	util_strlcpy(ev.ip, a->ip, sizeof(ev.ip));
	util_strlcpy(ev.note, "confirmation link", sizeof(ev.note));
	rc = record_apply_consent(&s, a->c->list, &ev);
	if (rc == 1 && store_txn_put(t, a->c->addr, &s) == -1) {
		subject_clear(&s);
		return -1;
	}
	subject_clear(&s);
	if (rc != 1)
		return 2;	/* the record refused it: cannot happen */
	a->result = OPTIN_CONFIRMED;
	return 0;
}

int
optin_confirm(struct store *st, const struct token_claims *c, const char *ip,
    int64_t now, char *err, size_t errlen)
{
	struct confirm_arg a = { c, ip ? ip : "", now, OPTIN_REFUSED };
	int rc;

	if ((rc = store_write(st, confirm_fn, &a, err, errlen)) == 2)
		return util_fail(err, errlen, "the record of %s refused the "
		    "confirmation", c->addr);
	if (rc != 0)
		return -1;
	return a.result;
}
