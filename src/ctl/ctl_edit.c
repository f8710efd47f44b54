/*
 * ctl_edit.c - consentctl's commands that change the record: init,
 * subscribe, confirm, unsubscribe, suppress, unsuppress.  Each is one
 * change handed to journal_submit(): one write transaction of the local
 * store, or the fleet database (README, "Fleet").
 */
#include <stdio.h>
#include <string.h>

#include "core/journal.h"
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

/* One change to one key, through the journal; the record after it. */
struct edit {
	struct change ch;
	/* results */
	int	changed;		/* this host's store changed */
	int	where;			/* JOURNAL_* */
	int	found;			/* the key had a record before */
	struct subject before, after;	/* as this host's store has it */
};

static void
edit_clear(struct edit *e)
{
	subject_clear(&e->before);
	subject_clear(&e->after);
}

/*
 * run_edit - submit e->ch, with the key's record before and after.  With
 * confirm, a list neither pending nor subscribed is refused (returns 1)
 * before anything is sent.  In a fleet an opt-in needs no local store
 * (it goes to the database): then nothing is read here.  0 or 1 (the
 * caller edit_clear()s e), or -1 (printed, e cleared).
 */
static int
run_edit(struct ctl *c, struct edit *e, int confirm)
{
	struct journal_result res;
	struct journal j;
	struct store *st = NULL;
	const struct list_consent *lc;
	char err[512];
	int rc;

	subject_init(&e->before);
	subject_init(&e->after);
	if (store_open(&st, c->storedir, 0, c->cf.addr_flags, c->cf.map_size,
	    err, sizeof(err)) == -1) {
		if (!c->cf.sync.enabled || change_is_optout(&e->ch)) {
			ctl_err(c, "%s", err);
			return -1;
		}
		st = NULL;
	}
	if (st != NULL && (rc = store_get(st, e->ch.key, &e->before, err,
	    sizeof(err))) == -1)
		goto bad;
	e->found = st != NULL && rc == 1;
	lc = record_find_list(&e->before, e->ch.list);
	if (confirm && st != NULL && (lc == NULL || (lc->status != CS_PENDING &&
	    lc->status != CS_SUBSCRIBED))) {
		store_close(st);
		return 1;	/* nothing to confirm */
	}
	journal_init(&j, st, &c->cf.sync, 0);
	rc = journal_submit(&j, &e->ch, 1, &res, err, sizeof(err));
	journal_fini(&j);
	if (rc == -1)
		goto bad;
	e->changed = res.applied > 0;
	e->where = res.where;
	if (res.where == JOURNAL_QUEUED)
		fprintf(stderr, "%s: in force on this host; queued for the fleet "
		    "database (%s): consent-syncd sends it\n", c->prog, res.why);
	if (res.where == JOURNAL_SENT && res.applied == 0) {
		/* Not here yet: the record as it will be when it comes back. */
		e->after = e->before;
		subject_init(&e->before);
		(void)change_merge(&e->after, &e->ch);
	} else if (st != NULL && store_get(st, e->ch.key, &e->after, err,
	    sizeof(err)) == -1)
		goto bad;
	store_close(st);
	return 0;
bad:
	store_close(st);
	ctl_err(c, "%s", err);
	edit_clear(e);
	return -1;
}

/* Why a consent change was not applied, from the record as it stands. */
static void
explain_noop(FILE *fp, const struct edit *e)
{
	const struct list_consent *lc = record_find_list(&e->after, e->ch.list);
	const char *key = e->ch.key, *list = e->ch.list;
	char tb[32];

	if (lc == NULL)
		return;
	time_format(lc->changed, tb, sizeof(tb));
	if (lc->status == e->ch.ev.status)
		fprintf(fp, "no change: %s is already %s on list %s (since %s)\n",
		    key, record_status_name(lc->status), list, tb);
	else if (lc->status == CS_CONFIRMED)
		fprintf(fp, "no change: %s is confirmed on list %s (since %s); a "
		    "later opt-in does not downgrade it\n", key, list, tb);
	else
		fprintf(fp, "no change: a newer change is recorded for %s on list "
		    "%s: %s at %s\n", key, list,
		    record_status_name(lc->status), tb);
}

static void
warn_suppressed(FILE *fp, const struct edit *e)
{
	const struct suppression *sp = &e->after.supp;
	char tb[32];

	if (!e->after.has_supp || (sp->expires != 0 && sp->expires <= e->ch.made))
		return;
	if (sp->reason == SR_UNSUBSCRIBED_ALL)
		fprintf(fp, "note: %s left every list at %s; a newer opt-in counts "
		    "for its own list only\n", e->ch.key,
		    time_format(sp->created, tb, sizeof(tb)));
	else
		fprintf(fp, "note: %s is suppressed (%s): mail stays blocked until "
		    "'consentctl unsuppress'%s\n", e->ch.key,
		    record_reason_name(sp->reason), sp->expires ?
		    " or the suppression expires" : "");
}

/* sent - what the journal did with an opt-in in a fleet: say so. */
static int
sent(FILE *fp, const struct edit *e)
{
	if (e->where != JOURNAL_SENT || e->changed)
		return 0;
	fprintf(fp, "%s %s%s%s: recorded in the fleet database; each host "
	    "applies it as it syncs\n", e->ch.key, change_kind_name(e->ch.kind),
	    e->ch.list[0] ? " on list " : "", e->ch.list);
	return 1;
}

/*
 * consent_change - record a consent change for addrarg with o's evidence;
 * messages to fp.  *after (if not NULL) gets the list's status as this
 * host's store now has it and key the address's store key.  A CTL_* exit
 * code.
 */
static int
consent_change(struct ctl *c, const struct ctl_opts *o, const char *addrarg,
    int status, int kind, int default_source, FILE *fp, int *after,
    char *key)
{
	const struct list_consent *lc;
	struct addr a;
	struct edit e;
	char tb[32];
	int rc;

	if (ctl_addr(c, addrarg, &a) == -1)
		return CTL_ERR;
	memset(&e, 0, sizeof(e));
	change_init(&e.ch, kind, a.key, c->now);
	util_strlcpy(e.ch.list, o->list, sizeof(e.ch.list));
	e.ch.ev.time = o->at;
	e.ch.ev.status = (uint8_t)status;
	e.ch.ev.source = (uint8_t)(o->source > 0 ? o->source : default_source);
	util_strlcpy(e.ch.ev.ip, o->ip, sizeof(e.ch.ev.ip));
	util_strlcpy(e.ch.ev.note, o->note, sizeof(e.ch.ev.note));
	if ((rc = run_edit(c, &e, kind == CHANGE_CONFIRM)) == -1)
		return CTL_ERR;
	if (rc == 1) {
		ctl_err(c, "no pending subscription for %s on list %s to "
		    "confirm", a.key, e.ch.list);
		edit_clear(&e);
		return CTL_ERR;
	}
	lc = record_find_list(&e.after, e.ch.list);
	if (sent(fp, &e))
		;
	else if (e.changed && (lc == NULL || lc->status == status))
		fprintf(fp, "%s %s on list %s\n", a.key,
		    record_status_name(status), e.ch.list);
	else if (e.changed)
		/* An older change: part of the record, not its status. */
		fprintf(fp, "%s: kept as evidence; still %s on list %s (since "
		    "%s)\n", a.key, record_status_name(lc->status), e.ch.list,
		    time_format(lc->changed, tb, sizeof(tb)));
	else
		explain_noop(fp, &e);
	warn_suppressed(fp, &e);
	if (after != NULL)
		*after = lc != NULL ? lc->status : CS_NONE;
	if (key != NULL)
		util_strlcpy(key, a.key, ADDR_MAX + 1);
	edit_clear(&e);
	return CTL_OK;
}

int
ctl_record_pending(struct ctl *c, const struct ctl_opts *o, FILE *fp,
    char key[ADDR_MAX + 1], int *status)
{
	return consent_change(c, o, o->arg, CS_PENDING, CHANGE_CONSENT,
	    SRC_FORM, fp, status, key);
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
	return consent_change(c, &o, o.arg, status, CHANGE_CONSENT, SRC_ADMIN,
	    stdout, NULL, NULL);
}

int
ctl_confirm(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;

	if (ctl_options(c, argc, argv, O_LIST | O_SOURCE | O_IP | O_AT | O_NOTE,
	    1, 1, &o) == -1)
		return CTL_ERR;
	return consent_change(c, &o, o.arg, CS_CONFIRMED, CHANGE_CONFIRM,
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
	change_init(&e.ch, sp != NULL ? CHANGE_SUPPRESS : CHANGE_UNSUPPRESS, key,
	    c->now);
	if (sp != NULL)
		e.ch.supp = *sp;
	if (run_edit(c, &e, 0) == -1)
		return CTL_ERR;
	if (sp == NULL) {
		if (e.where == JOURNAL_SENT && !e.changed) {
			printf("%s: suppression removal recorded in the fleet "
			    "database%s\n", key, e.before.has_supp ? "" :
			    " (this host's replica has none)");
			edit_clear(&e);
			return e.before.has_supp ? CTL_OK : CTL_NO;
		}
		if (e.changed)
			printf("%s: suppression removed\n", key);
		else
			printf("%s: no suppression to remove\n", key);
		edit_clear(&e);
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
	edit_clear(&e);
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
		    CHANGE_CONSENT, SRC_ADMIN, stdout, NULL, NULL);
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
