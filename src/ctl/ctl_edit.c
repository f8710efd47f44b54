/*
 * ctl_edit.c - consentctl's commands that change the store: init,
 * subscribe, confirm, unsubscribe, suppress, unsuppress.  Each change is
 * one write transaction, merged with the record's safe rules.
 */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "util/time.h"
#include "util/util.h"

int
ctl_init(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	struct store *st;

	if (ctl_options(c, argc, argv, 0, 0, 0, &o) == -1)
		return CTL_ERR;
	if (ctl_open_store(c, STORE_CREATE, &st) == -1)
		return CTL_ERR;
	store_close(st);
	printf("store ready at %s\n", c->storedir);
	return CTL_OK;
}

/* One change to one key, run inside store_write(). */
struct edit {
	const char *key;
	const char *list;		/* consent changes */
	struct evidence ev;
	struct suppression supp;
	int	kind;			/* EDIT_* */
	int64_t	now;
	/* results */
	int	changed;
	int	found;
	struct subject after;
};

#define EDIT_CONSENT	1
#define EDIT_SUPP	2
#define EDIT_UNSUPP	3
#define EDIT_CONFIRM	4

static int
edit_fn(struct store_txn *t, void *arg)
{
	struct edit *e = arg;
	struct subject *s = &e->after;
	struct list_consent *lc;
	int rc;

	subject_clear(s);
	e->changed = 0;
	if ((rc = store_txn_get(t, e->key, s)) == -1)
		return -1;
	e->found = rc;
	switch (e->kind) {
	case EDIT_CONFIRM:
		lc = record_find_list(s, e->list);
		if (lc == NULL || (lc->status != CS_PENDING &&
		    lc->status != CS_SUBSCRIBED))
			return 1;	/* nothing to confirm */
		/* FALLTHROUGH */
	case EDIT_CONSENT:
		rc = record_apply_consent(s, e->list, &e->ev);
		break;
	case EDIT_SUPP:
		rc = record_apply_supp(s, &e->supp, e->now);
		break;
	case EDIT_UNSUPP:
		if (!s->has_supp)
			return 0;
		s->has_supp = 0;
		memset(&s->supp, 0, sizeof(s->supp));
		if (s->nlists == 0) {
			e->changed = 1;
			return store_txn_del(t, e->key) == -1 ? -1 : 0;
		}
		rc = 1;
		break;
	default:
		return -1;
	}
	if (rc == -1)
		return -1;
	if (rc == 1 && store_txn_put(t, e->key, s) == -1)
		return -1;
	e->changed = rc;
	return 0;
}

static int
run_edit(struct ctl *c, struct edit *e)
{
	struct store *st;
	char err[512];
	int rc;

	subject_init(&e->after);
	e->now = c->now;
	if (ctl_open_store(c, 0, &st) == -1)
		return -1;
	rc = store_write(st, edit_fn, e, err, sizeof(err));
	store_close(st);
	if (rc == -1)
		ctl_err(c, "%s", err);
	return rc;
}

/* Why a consent change was not applied, from the record as it stands. */
static void
explain_noop(FILE *fp, const struct edit *e)
{
	const struct list_consent *lc = record_find_list(&e->after, e->list);
	char tb[32];

	if (lc == NULL)
		return;
	time_format(lc->changed, tb, sizeof(tb));
	if (lc->status == e->ev.status)
		fprintf(fp, "no change: %s is already %s on list %s (since %s)\n",
		    e->key, record_status_name(lc->status), e->list, tb);
	else if (lc->status == CS_CONFIRMED)
		fprintf(fp, "no change: %s is confirmed on list %s (since %s); a "
		    "later opt-in does not downgrade it\n", e->key, e->list, tb);
	else
		fprintf(fp, "no change: a newer change is recorded for %s on list "
		    "%s: %s at %s\n", e->key, e->list,
		    record_status_name(lc->status), tb);
}

static void
warn_suppressed(FILE *fp, const struct edit *e)
{
	const struct suppression *sp = &e->after.supp;
	char tb[32];

	if (!e->after.has_supp || (sp->expires != 0 && sp->expires <= e->now))
		return;
	if (sp->reason == SR_UNSUBSCRIBED_ALL)
		fprintf(fp, "note: %s left every list at %s; a newer opt-in counts "
		    "for its own list only\n", e->key,
		    time_format(sp->created, tb, sizeof(tb)));
	else
		fprintf(fp, "note: %s is suppressed (%s): mail stays blocked until "
		    "'consentctl unsuppress'%s\n", e->key,
		    record_reason_name(sp->reason), sp->expires ?
		    " or the suppression expires" : "");
}

/*
 * consent_change - record a consent change for addrarg with o's evidence;
 * messages to fp.  *after (if not NULL) gets the list's status as it now
 * stands and key the address's store key.  A CTL_* exit code.
 */
static int
consent_change(struct ctl *c, const struct ctl_opts *o, const char *addrarg,
    int status, int kind, int default_source, FILE *fp, int *after,
    char *key)
{
	const struct list_consent *lc;
	struct addr a;
	struct edit e;
	int rc;

	if (ctl_addr(c, addrarg, &a) == -1)
		return CTL_ERR;
	memset(&e, 0, sizeof(e));
	e.key = a.key;
	e.list = o->list;
	e.kind = kind;
	e.ev.time = o->at;
	e.ev.status = (uint8_t)status;
	e.ev.source = (uint8_t)(o->source > 0 ? o->source : default_source);
	util_strlcpy(e.ev.ip, o->ip, sizeof(e.ev.ip));
	util_strlcpy(e.ev.note, o->note, sizeof(e.ev.note));
	if ((rc = run_edit(c, &e)) == -1)
		return CTL_ERR;
	if (rc == 1) {
		ctl_err(c, "no pending subscription for %s on list %s to "
		    "confirm", a.key, e.list);
		subject_clear(&e.after);
		return CTL_ERR;
	}
	if (e.changed)
		fprintf(fp, "%s %s on list %s\n", a.key,
		    record_status_name(status), e.list);
	else
		explain_noop(fp, &e);
	warn_suppressed(fp, &e);
	if (after != NULL)
		*after = (lc = record_find_list(&e.after, e.list)) != NULL ?
		    lc->status : CS_NONE;
	if (key != NULL)
		util_strlcpy(key, a.key, ADDR_MAX + 1);
	subject_clear(&e.after);
	return CTL_OK;
}

int
ctl_record_pending(struct ctl *c, const struct ctl_opts *o, FILE *fp,
    char key[ADDR_MAX + 1], int *status)
{
	return consent_change(c, o, o->arg, CS_PENDING, EDIT_CONSENT, SRC_FORM,
	    fp, status, key);
}

int
ctl_subscribe(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	int status;

	if (ctl_options(c, argc, argv, O_LIST | O_PENDING | O_CONFIRMED |
	    O_SOURCE | O_IP | O_AT | O_NOTE, 1, 1, &o) == -1)
		return CTL_ERR;
	status = o.pending ? CS_PENDING : o.confirmed ? CS_CONFIRMED :
	    CS_SUBSCRIBED;
	return consent_change(c, &o, o.arg, status, EDIT_CONSENT, SRC_ADMIN,
	    stdout, NULL, NULL);
}

int
ctl_confirm(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;

	if (ctl_options(c, argc, argv, O_LIST | O_SOURCE | O_IP | O_AT | O_NOTE,
	    1, 1, &o) == -1)
		return CTL_ERR;
	return consent_change(c, &o, o.arg, CS_CONFIRMED, EDIT_CONFIRM,
	    SRC_ADMIN, stdout, NULL, NULL);
}

static int
supp_change(struct ctl *c, const struct ctl_opts *o, const char *arg,
    const struct suppression *sp)
{
	struct addr a;
	char dom[ADDR_DOMAIN_MAX + 2], err[256], tb[32];
	struct edit e;
	const char *key;

	if (addr_is_domain(arg)) {
		if (addr_domain_normalize(arg, strlen(arg), dom, sizeof(dom),
		    err, sizeof(err)) == -1) {
			ctl_err(c, "invalid domain \"%s\": %s", arg, err);
			return CTL_ERR;
		}
		key = dom;
	} else {
		if (ctl_addr(c, arg, &a) == -1)
			return CTL_ERR;
		key = a.key;
	}
	(void)o;
	memset(&e, 0, sizeof(e));
	e.key = key;
	e.kind = sp != NULL ? EDIT_SUPP : EDIT_UNSUPP;
	if (sp != NULL)
		e.supp = *sp;
	if (run_edit(c, &e) == -1)
		return CTL_ERR;
	if (sp == NULL) {
		if (e.changed)
			printf("%s: suppression removed\n", key);
		else
			printf("%s: no suppression to remove\n", key);
		subject_clear(&e.after);
		return e.changed ? CTL_OK : CTL_NO;
	}
	if (e.changed)
		printf("%s suppressed: %s%s%s\n", key,
		    record_reason_name(sp->reason),
		    sp->expires ? ", until " : "",
		    sp->expires ? time_format(sp->expires, tb, sizeof(tb)) : "");
	else
		printf("no change: %s is already suppressed (%s since %s)%s\n",
		    key, record_reason_name(e.after.supp.reason),
		    time_format(e.after.supp.created, tb, sizeof(tb)),
		    record_supp_sticky(e.after.supp.reason) ?
		    "; only 'consentctl unsuppress' clears it" : "");
	subject_clear(&e.after);
	return CTL_OK;
}

int
ctl_unsubscribe(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	struct suppression sp;

	if (ctl_options(c, argc, argv, O_LIST | O_ALL | O_SOURCE | O_IP | O_AT |
	    O_NOTE, 1, 1, &o) == -1)
		return CTL_ERR;
	if (!o.all)
		return consent_change(c, &o, o.arg, CS_UNSUBSCRIBED,
		    EDIT_CONSENT, SRC_ADMIN, stdout, NULL, NULL);
	if (addr_is_domain(o.arg)) {
		ctl_err(c, "unsubscribe takes an address; to block a domain use "
		    "'consentctl suppress DOMAIN --reason manual'");
		return CTL_ERR;
	}
	memset(&sp, 0, sizeof(sp));
	sp.reason = SR_UNSUBSCRIBED_ALL;
	sp.source = (uint8_t)(o.source > 0 ? o.source : SRC_ADMIN);
	sp.created = o.at;
	util_strlcpy(sp.note, o.note, sizeof(sp.note));
	if (o.ip[0] != '\0' && sp.note[0] == '\0')
		snprintf(sp.note, sizeof(sp.note), "ip %s", o.ip);
	return supp_change(c, &o, o.arg, &sp);
}

int
ctl_suppress(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	struct suppression sp;

	if (ctl_options(c, argc, argv, O_REASON | O_EXPIRES | O_SOURCE | O_REF |
	    O_NOTE | O_AT, 1, 1, &o) == -1)
		return CTL_ERR;
	if (o.reason <= 0) {
		ctl_err(c, "suppress: --reason is required");
		return CTL_ERR;
	}
	memset(&sp, 0, sizeof(sp));
	sp.reason = (uint8_t)o.reason;
	sp.source = (uint8_t)(o.source > 0 ? o.source : SRC_ADMIN);
	sp.created = o.at;
	sp.expires = o.expires;
	util_strlcpy(sp.ref, o.ref, sizeof(sp.ref));
	util_strlcpy(sp.note, o.note, sizeof(sp.note));
	return supp_change(c, &o, o.arg, &sp);
}

int
ctl_unsuppress(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;

	if (ctl_options(c, argc, argv, 0, 1, 1, &o) == -1)
		return CTL_ERR;
	return supp_change(c, &o, o.arg, NULL);
}
