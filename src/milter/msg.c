/*
 * msg.c - one message's consent state and its end-of-message plan.
 *
 * Rules kept here, in one place:
 *  - a recipient refused at RCPT time is not in the message any more;
 *  - on Postfix's non-SMTP path (its sendmail(1)) no recipient is ever
 *    refused or tempfailed (Postfix treats that as a configuration error):
 *    a reject becomes a drop, a store failure tempfails the whole message;
 *    Sendmail's sendmail(1) submits over SMTP, and has no such path;
 *  - a message left with no recipient is discarded, never delivered empty,
 *    or refused whole when every recipient was to be rejected;
 *  - headers never name one recipient to the others;
 *  - a recipient is only removed in a form the MTA is sure to match, by
 *    that MTA's rule (mta.c; an MTA we do not know has none); one that
 *    has none is refused, at RCPT time when the stage allows it, else
 *    with the whole message;
 *  - a recipient is only refused at RCPT time when that keeps it out of
 *    the message: Sendmail takes a refused one out as it removes one, so
 *    one it could not remove waits for the end, like the rest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"	/* ACTION_* and their names, no struct config */
#include "milter/msg.h"
#include "milter/mta.h"
#include "util/util.h"

/* msg_init - m empty, its class not known yet; m owns nothing after. */
void
msg_init(struct msg_state *m)
{
	memset(m, 0, sizeof(*m));
	m->class_ = CLASS_UNKNOWN;
}

/* msg_reset - free what m owns and empty it; NULL does nothing. */
void
msg_reset(struct msg_state *m)
{
	if (m == NULL)
		return;
	for (unsigned i = 0; i < m->nrcpt; i++) {
		free(m->rcpt[i].raw);
		free(m->rcpt[i].mbox);
		free(m->rcpt[i].del);
		free(m->rcpt[i].alt);
	}
	free(m->rcpt);
	msg_init(m);
}

/*
 * msg_add_rcpt - append a copy of raw, its mailbox and its removable form
 * under m->mta; the recipient belongs to m (valid until the next add).
 * NULL if out of memory.
 */
struct msg_rcpt *
msg_add_rcpt(struct msg_state *m, const char *raw)
{
	struct msg_rcpt *r;
	char mbox[MTA_DELRCPT_MAX];
	const char *del = NULL;

	if (m->nrcpt == m->cap) {
		unsigned cap = m->cap ? m->cap * 2 : 4;
		struct msg_rcpt *nr = realloc(m->rcpt, cap * sizeof(*nr));

		if (nr == NULL)
			return NULL;
		m->rcpt = nr;
		m->cap = cap;
	}
	r = &m->rcpt[m->nrcpt];
	memset(r, 0, sizeof(*r));
	r->reason = -1;
	if ((r->raw = strdup(raw)) == NULL)
		return NULL;
	if (mta_delrcpt_arg(raw, mbox, sizeof(mbox)) == 1) {
		if ((r->mbox = strdup(mbox)) == NULL) {
			free(r->raw);
			return NULL;
		}
		if (m->mta == MTA_POSTFIX)
			del = mbox;	/* Postfix matches the mailbox */
	}
	/* Sendmail the argument as given, whether or not it has a mailbox. */
	if (m->mta == MTA_SENDMAIL && mta_sendmail_arg(raw))
		del = raw;
	if (del != NULL && (r->del = strdup(del)) == NULL) {
		free(r->mbox);
		free(r->raw);
		return NULL;
	}
	m->nrcpt++;
	return r;
}

/* forget - r has no sure form (del, alt) and, with mbox, no mailbox. */
static void
forget(struct msg_rcpt *r, int mbox)
{
	free(r->del);
	free(r->alt);
	r->del = r->alt = NULL;
	if (mbox) {
		free(r->mbox);
		r->mbox = NULL;
	}
}

/* msg_rcpt_witness - check r against the MTA's {rcpt_addr} (see msg.h). */
int
msg_rcpt_witness(const struct msg_state *m, struct msg_rcpt *r,
    const char *rcpt_addr)
{
	char alt[MTA_DELRCPT_MAX];
	int ok;

	/* No witness (an MTA that sends none): the parse alone decides. */
	if (r == NULL || r->mbox == NULL || rcpt_addr == NULL)
		return 0;
	if (m->mta == MTA_SENDMAIL) {
		/* What its mailer delivers to: it must be whom we decide on. */
		if (!mta_sendmail_witness_ok(r->mbox, rcpt_addr)) {
			free(r->mbox);
			r->mbox = NULL;
		}
		return 0;
	}
	if (m->mta != MTA_POSTFIX || r->del == NULL)
		return 0;
	ok = mta_rcpt_witness_ok(r->del, rcpt_addr);
	if (ok == 1)
		return 0;
	/*
	 * Equal but for ASCII case: smtpd recorded ours, or (its own
	 * verification sender) the witness's spelling.  A recipient under
	 * either has r's key (unless store.case_sensitive: then one spelt in
	 * lowercase is removed too, never one kept by mistake).
	 */
	if (ok == 2 && mta_delrcpt_arg(rcpt_addr, alt, sizeof(alt)) == 1) {
		free(r->alt);
		if ((r->alt = strdup(alt)) != NULL)
			return 0;
		forget(r, 1);
		return -1;
	}
	/* smtpd recorded someone else: neither removal nor decision holds. */
	forget(r, 1);
	return 0;
}

/* msg_decide - r takes d, the action mr gives its reason, and its evidence. */
void
msg_decide(const struct msg_rules *mr, const struct msg_state *m,
    struct msg_rcpt *r, const struct policy_facts *f, const struct decision *d,
    int at_rcpt)
{
	struct msg_evidence *ev = &r->ev;

	r->state = RS_DECIDED;
	r->allow = d->allow;
	r->reason = d->reason;
	r->at_rcpt = at_rcpt;
	r->action = d->allow ? -1 : mr->action[d->reason];
	if (m->local && r->action == ACTION_REJECT)
		r->action = ACTION_DROP;
	memset(ev, 0, sizeof(*ev));
	if (d->supp >= 0) {
		const struct policy_fact_supp *s = &f->supp[d->supp];

		ev->kind = 's';
		ev->value = s->v.reason;
		ev->source = s->v.source;
		ev->time = s->v.created;
		ev->expires = s->v.expires;
		util_strlcpy(ev->key, s->key, sizeof(ev->key));
	} else if (d->consent) {
		ev->kind = 'c';
		ev->value = f->consent.status;
		ev->source = f->consent.source;
		ev->time = f->consent.changed;
	}
}

/* set_reply - fill rep; the strings are copied, cut to fit. */
static void
set_reply(struct msg_reply *rep, int kind, const char *rcode, const char *xcode,
    const char *text)
{
	rep->kind = kind;
	util_strlcpy(rep->rcode, rcode, sizeof(rep->rcode));
	util_strlcpy(rep->xcode, xcode, sizeof(rep->xcode));
	util_strlcpy(rep->text, text, sizeof(rep->text));
}

/*
 * msg_rcpt_refusable - 1 if refusing the RCPT raw keeps it out of m.
 * Postfix's smtpd never adds a refused recipient, but on its sendmail(1)
 * path no refusal is allowed.  Sendmail adds the recipient before it asks
 * the filter, and takes a refused one out again with removefromlist()
 * (srvrsmtp.c), as it does a removal: a refusal is only as sure as the
 * removal by raw, and a recipient refused otherwise is delivered all the
 * same.  For an MTA we do not know, none is sure.
 */
int
msg_rcpt_refusable(const struct msg_state *m, const char *raw)
{
	if (m->local)
		return 0;
	if (m->mta == MTA_POSTFIX)
		return 1;
	return m->mta == MTA_SENDMAIL && mta_sendmail_arg(raw);
}

/* hold - the whole message waits (a 451 at its end), for why. */
static void
hold(struct msg_state *m, const char *why)
{
	if (m->tempfail)
		return;		/* the first reason stays */
	m->tempfail = 1;
	util_strlcpy(m->tempfail_why, why, sizeof(m->tempfail_why));
}

/*
 * msg_rcpt_limit - 1 with a 452 4.5.3 in rep past mr's recipient limits
 * for the next RCPT, raw.  One that cannot be refused for sure holds the
 * whole message instead (0).
 */
int
msg_rcpt_limit(const struct msg_rules *mr, struct msg_state *m,
    const char *raw, struct msg_reply *rep)
{
	const char *why;

	if (m->local || m->class_ != CLASS_BULK)
		return 0;
	if (m->nrcpt >= (unsigned)mr->max_recipients)
		why = "Too many recipients for one bulk message";
	else if (mr->one_rcpt_per_msg && m->nbulk >= 1)
		why = "One recipient per bulk message, please: each carries "
		    "its own unsubscribe link";
	else
		return 0;
	if (!msg_rcpt_refusable(m, raw)) {
		hold(m, why);
		return 0;
	}
	set_reply(rep, MSG_TEMPFAIL, "452", "4.5.3", why);
	return 1;
}

/* removable - 1 if the MTA is sure to match r's removal. */
static int
removable(const struct msg_state *m, const struct msg_rcpt *r)
{
	/*
	 * del is NULL for an MTA we do not know.  On its sendmail(1) path
	 * Postfix shows the filter each recipient as rewritten (@myorigin
	 * appended, canonical maps) but removes by the original: no form
	 * there is sure.
	 */
	return r->del != NULL && !m->local;
}

/* msg_rcpt_reply - the RCPT-time answer for r; r->state and m follow it. */
void
msg_rcpt_reply(struct msg_state *m, struct msg_rcpt *r, int store_failed,
    struct msg_reply *rep)
{
	char text[200];
	int refuse;

	set_reply(rep, MSG_CONTINUE, "", "", "");
	refuse = msg_rcpt_refusable(m, r->raw);
	if (store_failed) {
		r->state = RS_TEMPFAILED;	/* logged either way */
		if (!refuse) {
			/* Cannot refuse one recipient here: hold the message. */
			hold(m, "Consent store unavailable");
			return;
		}
		set_reply(rep, MSG_TEMPFAIL, "451", "4.3.0", "Consent store "
		    "unavailable, try again later");
		return;
	}
	if (r->state == RS_INVALID) {
		if (!refuse) {
			/* Removed at the end, or the message refused then. */
			r->action = ACTION_DROP;
			r->reason = -1;
			return;
		}
		r->state = RS_REJECTED;
		r->invalid = 1;
		set_reply(rep, MSG_REJECT, "550", "5.1.3", "Bad recipient "
		    "address syntax for bulk mail");
		return;
	}
	if (r->state != RS_DECIDED)
		return;
	/*
	 * Refused now: a reject, and a drop or redirect that would need a
	 * removal the MTA may not match (its action stays, for the log).
	 * One that cannot be refused for sure waits for the end of the
	 * message, which it then refuses whole unless it can be removed.
	 */
	if (refuse && !r->allow && (r->action == ACTION_REJECT ||
	    (!removable(m, r) && (r->action == ACTION_DROP ||
	    r->action == ACTION_REDIRECT)))) {
		r->state = RS_REJECTED;
		snprintf(text, sizeof(text), "Recipient may not receive bulk "
		    "mail on list %s (%s)", m->cls.list[0] ? m->cls.list :
		    "(invalid)", policy_reason_name(r->reason));
		set_reply(rep, MSG_REJECT, "550", "5.7.1", text);
		return;
	}
	m->nbulk++;
}

/* add_hdr - add a copy of value to p; past the bound, nothing.  0 or -1. */
static int
add_hdr(struct msg_plan *p, const char *name, const char *value)
{
	struct plan_hdr *h;

	if (p->nhdr >= sizeof(p->hdr) / sizeof(p->hdr[0]))
		return 0;	/* bounded: the log has every decision */
	h = &p->hdr[p->nhdr];
	if ((h->value = strdup(value)) == NULL)
		return -1;
	util_strlcpy(h->name, name, sizeof(h->name));
	p->nhdr++;
	return 0;
}

/* msg_plan_free - free p's headers and List-Unsubscribe value. */
void
msg_plan_free(struct msg_plan *p)
{
	if (p == NULL)
		return;
	for (unsigned i = 0; i < p->nhdr; i++)
		free(p->hdr[i].value);
	p->nhdr = 0;
	free(p->lu_value);
	p->lu_value = NULL;
}

/* msg_plan_unsub - p adds a copy of value, and deletes what came in. */
int
msg_plan_unsub(const struct msg_rules *mr, const struct msg_state *m,
    struct msg_plan *p, const char *value, int one_click)
{
	if (mr->lu_keep_existing && m->nlu > 0)
		return 0;	/* theirs stays, and ours is not added */
	if ((p->lu_value = strdup(value)) == NULL)
		return -1;
	p->lu_post = one_click;
	/* Exactly one of each afterwards, whatever came in. */
	p->lu_del = m->nlu;
	p->lu_post_del = m->nlupost;
	return 0;
}

/*
 * plan_unremovable - if a recipient marked for removal cannot be removed
 * with certainty, make p refuse the whole message (550 5.7.1, naming
 * it) and return 1; else 0.
 */
static int
plan_unremovable(const struct msg_state *m, struct msg_plan *p)
{
	const char *raw;
	char safe[64], text[sizeof(p->reply.text) + 64];

	for (unsigned i = 0; i < m->nrcpt && p->unremovable < 0; i++)
		if (m->rcpt[i].remove && !removable(m, &m->rcpt[i]))
			p->unremovable = (int)i;
	if (p->unremovable < 0)
		return 0;
	raw = m->rcpt[p->unremovable].raw;
	util_sanitize(raw, strlen(raw), safe, sizeof(safe));
	for (char *q = safe; *q != '\0'; q++)
		if (*q == '%')
			*q = '?';	/* Sendmail reads '%' in replies */
	if (m->local)
		snprintf(text, sizeof(text), "Bulk mail from sendmail(1) to some "
		    "who may not receive it: send one message per recipient "
		    "(%s cannot be removed with certainty)", safe);
	else if (m->mta == MTA_UNKNOWN)
		snprintf(text, sizeof(text), "Recipient %s cannot be removed "
		    "from this bulk message with certainty (the filter does not "
		    "know this MTA's rules)", safe);
	else
		snprintf(text, sizeof(text), "Recipient %s cannot be removed "
		    "from this bulk message with certainty; send it without a "
		    "source route or unusual quoting", safe);
	set_reply(&p->reply, MSG_REJECT, "550", "5.7.1", text);
	p->sole = -1;
	return 1;
}

/* What the recipients come to: filled by plan_rcpts, read by the rest. */
struct plan_tally {
	unsigned remain;	/* recipients the message still goes to */
	unsigned rejects, redirects;
	unsigned tagged[PR_MAX_];	/* tagged recipients per deny reason */
	int	qreason;	/* the first reason to hold, or -1 */
	int	first_reject;	/* the first reason to reject, or -1 */
};

/*
 * plan_rcpts - mark the recipients of m to remove, count them in p, and
 * tally what the others come to in t.
 */
static void
plan_rcpts(struct msg_state *m, struct msg_plan *p, struct plan_tally *t)
{
	memset(t, 0, sizeof(*t));
	t->qreason = -1;
	t->first_reject = -1;
	for (unsigned i = 0; i < m->nrcpt; i++) {
		struct msg_rcpt *r = &m->rcpt[i];

		if (r->state == RS_REJECTED || r->state == RS_TEMPFAILED)
			continue;
		if (r->state == RS_INVALID || (r->state == RS_DECIDED &&
		    !r->allow && r->action == ACTION_DROP)) {
			r->remove = 1;
			continue;
		}
		if (r->state != RS_DECIDED || r->allow) {
			t->remain++;
			p->sole = (int)i;
			continue;
		}
		switch (r->action) {
		case ACTION_REJECT:
			r->remove = 1;
			t->rejects++;
			if (t->first_reject < 0)
				t->first_reject = r->reason;
			break;
		case ACTION_REDIRECT:
			r->remove = 1;
			t->redirects++;
			break;
		case ACTION_TAG:
			t->tagged[r->reason]++;
			t->remain++;
			p->sole = (int)i;
			break;
		case ACTION_QUARANTINE:
			if (t->qreason < 0)
				t->qreason = r->reason;
			t->remain++;
			p->sole = (int)i;
			break;
		}
	}
	for (unsigned i = 0; i < m->nrcpt; i++)
		p->nremove += m->rcpt[i].remove;
}

/*
 * plan_redirect - for t's redirected recipients, add mr's holding mailbox
 * to p (it counts as one more in t) and a header that says for whom.
 * 0, or -1 if out of memory.
 */
static int
plan_redirect(const struct msg_rules *mr, const struct msg_state *m,
    struct msg_plan *p, struct plan_tally *t)
{
	char buf[400];

	if (t->redirects == 0)
		return 0;
	p->addrcpt = mr->redirect_to;
	t->remain++;
	p->sole = -1;	/* never a token for the holding mailbox */
	/* Name the original recipients only when nobody else sees it. */
	if (t->remain != 1) {
		snprintf(buf, sizeof(buf), "%u recipients; see the log for "
		    "queue id %s", t->redirects, m->queue_id[0] ? m->queue_id :
		    "NOQUEUE");
		return add_hdr(p, "X-Consent-Redirected", buf);
	}
	for (unsigned i = 0; i < m->nrcpt; i++) {
		const struct msg_rcpt *r = &m->rcpt[i];

		if (!r->remove || r->action != ACTION_REDIRECT ||
		    r->state != RS_DECIDED)
			continue;
		snprintf(buf, sizeof(buf), "<%s>; reason=%s; list=%s",
		    r->key, policy_reason_name(r->reason), m->cls.list);
		if (add_hdr(p, "X-Consent-Redirected-For", buf) == -1)
			return -1;
	}
	return 0;
}

/*
 * plan_tags - one X-Consent header per reason t tagged recipients for,
 * and the hold for the first reason to hold.  0, or -1 if out of memory.
 */
static int
plan_tags(const struct msg_state *m, struct msg_plan *p,
    const struct plan_tally *t)
{
	char buf[400];

	for (int i = 0; i < PR_MAX_; i++) {
		if (t->tagged[i] == 0)
			continue;
		snprintf(buf, sizeof(buf), "deny; reason=%s; list=%s; recipients=%u",
		    policy_reason_name(i), m->cls.list, t->tagged[i]);
		if (add_hdr(p, "X-Consent", buf) == -1)
			return -1;
	}
	if (t->qreason >= 0) {
		p->quarantine = 1;
		snprintf(p->qreason, sizeof(p->qreason), "consent-milter: %s on "
		    "list %s", policy_reason_name(t->qreason), m->cls.list);
	}
	return 0;
}

/* msg_plan - the end-of-message plan for m under mr, into p (see msg.h). */
int
msg_plan(const struct msg_rules *mr, struct msg_state *m, struct msg_plan *p)
{
	struct plan_tally t;
	char buf[400];

	memset(p, 0, sizeof(*p));
	p->sole = -1;
	p->unremovable = -1;
	set_reply(&p->reply, MSG_CONTINUE, "", "", "");
	if (m->class_ == CLASS_BULK && mr->strip_list_header)
		p->strip_list_hdr = m->hdrs.nlist_hdr;
	if (m->tempfail) {
		snprintf(buf, sizeof(buf), "%s, try again later",
		    m->tempfail_why);
		set_reply(&p->reply, MSG_TEMPFAIL, "451", "4.3.0", buf);
		return 0;
	}
	plan_rcpts(m, p, &t);
	/* Removals matter only when the message goes on to someone. */
	if (p->nremove > 0 && t.remain + t.redirects > 0 &&
	    plan_unremovable(m, p) == 1)
		return 0;
	if (plan_redirect(mr, m, p, &t) == -1 || plan_tags(m, p, &t) == -1)
		return -1;
	p->nremain = t.remain;
	if (t.remain != 1)
		p->sole = -1;
	if (t.remain == 0 && p->nremove > 0) {
		/* Nobody left: never deliver an empty message. */
		if (t.rejects > 0 && !m->local) {
			snprintf(buf, sizeof(buf), "No recipient may receive bulk "
			    "mail on list %s (%s)", m->cls.list[0] ? m->cls.list :
			    "(invalid)", policy_reason_name(t.first_reject));
			set_reply(&p->reply, MSG_REJECT, "550", "5.7.1", buf);
		} else
			set_reply(&p->reply, MSG_DISCARD, "", "", "");
	}
	return 0;
}

/* msg_rcpt_outcome - what became of r, as a static name. */
const char *
msg_rcpt_outcome(const struct msg_rcpt *r, const char *msg_outcome)
{
	if (r->state == RS_REJECTED)
		return "rejected";
	if (r->state == RS_TEMPFAILED)
		return "tempfailed";
	if (msg_outcome != NULL)
		return msg_outcome;	/* the whole message was stopped */
	if (r->state == RS_INVALID)
		return "removed";
	if (r->state == RS_TRANSACTIONAL || r->allow)
		return "accepted";
	switch (r->action) {
	case ACTION_REDIRECT:	return "redirected";
	case ACTION_TAG:	return "tagged";
	case ACTION_QUARANTINE:	return "held";
	default:		return "removed";
	}
}

/* msg_rcpt_verdict - r's verdict, reason and action, as static names. */
void
msg_rcpt_verdict(const struct msg_rcpt *r, const char **verdict,
    const char **reason, const char **action)
{
	if (r->invalid || r->state == RS_INVALID) {
		*verdict = "deny";
		*reason = "invalid_address";
		*action = r->state == RS_REJECTED ? "reject" : "drop";
		return;
	}
	switch (r->state) {
	case RS_TEMPFAILED:
		*verdict = "tempfail";
		*reason = "store_error";
		*action = "tempfail";
		break;
	case RS_TRANSACTIONAL:
		*verdict = "allow";
		*reason = "transactional";
		*action = "none";
		break;
	default:
		*verdict = r->allow ? "allow" : "deny";
		*reason = r->reason >= 0 ? policy_reason_name(r->reason) : "?";
		*action = r->allow ? "none" : config_action_name(r->action);
		break;
	}
}

/* msg_format_decision - r's log line into buf (len octets), sanitised. */
void
msg_format_decision(const struct msg_state *m, const struct msg_rcpt *r,
    const char *msg_outcome, char *buf, size_t len)
{
	char rcpt[300], list[80];
	const char *verdict, *reason, *action;

	if (r->key[0] != '\0')
		util_sanitize(r->key, strlen(r->key), rcpt, sizeof(rcpt));
	else {
		/* As given, less the brackets the line adds back. */
		const char *p = r->raw;
		size_t n;

		while (*p == ' ' || *p == '<')
			p++;
		n = strlen(p);
		while (n > 0 && (p[n - 1] == '>' || p[n - 1] == ' '))
			n--;
		util_sanitize(p, n, rcpt, sizeof(rcpt));
	}
	util_sanitize(m->cls.list, strlen(m->cls.list), list, sizeof(list));
	msg_rcpt_verdict(r, &verdict, &reason, &action);
	snprintf(buf, len, "%s: list=%s rcpt=<%s> verdict=%s reason=%s "
	    "action=%s stage=%s outcome=%s", m->queue_id[0] ? m->queue_id :
	    "NOQUEUE", list[0] ? list : "-", rcpt, verdict, reason, action,
	    r->at_rcpt ? "rcpt" : "eom", msg_rcpt_outcome(r, msg_outcome));
}
