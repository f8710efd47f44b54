/*
 * report_judge.c - the audit report's judgements, made as each message
 * retires (report_sweep): the deliveries of a queue id without an audit
 * line followed to the message they came from (or flagged), bulk mail
 * delivered against a deny, and how long each unsubscribe took to be
 * honoured (the last allowed bulk delivery after it, against 2 days and
 * 10 business days).  A message retires an hour of the merged clock
 * after Postfix logs it removed (six days after its last line if it
 * never is, an hour if the mail log never shows it, never while held),
 * and never while a message that came of it still waits on it.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl/rep.h"

/*
 * pend_join - deliver pd to the audited message cand; with the
 * message-id candidates of x, to whichever of them decided its
 * recipient, else the last.
 */
static int
pend_join(struct rep *R, const struct pend *pd, struct msg *cand,
    const struct msgx *x)
{
	rstr k[2] = { pd->rcpt, pd->plain };
	uint64_t h[2];
	struct msg *c = cand;
	int nk = pd->plain.p != pd->rcpt.p ? 2 : 1, err = 0;

	h[0] = htab_hash(k[0].p, k[0].n);
	h[1] = htab_hash(k[1].p, k[1].n);
	for (size_t i = 0; x != NULL && i < x->ncand; i++) {
		c = x->cands[i];
		if (rep_dec_find(R, c, &k[0], h[0], pd->t, &err) != NULL ||
		    (nk == 2 && rep_dec_find(R, c, &k[1], h[1], pd->t,
		    &err) != NULL))
			break;
		if (err)
			return -1;
	}
	return report_maillog_deliver(R, c, k, h, nk, pd->rcpt.p, pd->t,
	    pd->file, pd->line);
}

/*
 * resolve - the deliveries of m, which has no audit line: follow
 * "forwarded as" to an audited parent, else the message-id to an audited
 * message (a content filter re-injects under a new queue id); else it is
 * a notice Postfix made, older than the audit, or mail the filter never
 * saw.
 */
static int
resolve(struct rep *R, struct msg *m)
{
	struct msgx *x = rep_x(R, m);
	struct msg *a = m;
	struct pend *pd;
	uint32_t n = 0;
	int notice = 0;
	struct viol v;

	if (x == NULL || x->pend == NULL)
		return 0;
	for (int depth = 0; a != NULL && a->ndec == 0 && depth < PARENT_DEPTH;
	    depth++) {
		notice |= (a->flags & M_NOTICE) != 0;
		a = rep_parent(R, a);
	}
	if ((a != NULL && a->ndec > 0) || x->ncand > 0) {
		int by_parent = a != NULL && a->ndec > 0;

		for (pd = x->pend; pd != NULL; pd = pd->next)
			if (pend_join(R, pd, by_parent ? a : NULL,
			    by_parent ? NULL : x) == -1)
				return -1;
		return 0;
	}
	for (pd = x->pend; pd != NULL; pd = pd->next)
		n++;
	if (notice) {
		R->notices += n;
		return 0;
	}
	if (R->audit_first >= 0 && m->recv * 1000 < R->audit_first - 999) {
		R->unjudged += n;
		return 0;
	}
	/* pend is newest first: report the first delivery. */
	for (pd = x->pend; pd->next != NULL; pd = pd->next)
		;
	memset(&v, 0, sizeof(v));
	v.kind = K_NOMSG;
	if (rep_viol_msg(R, &v, m) == -1 ||
	    rep_str(R, pd->rcpt.p, &v.rcpt) == -1)
		return -1;
	v.t = pd->t;
	v.file = pd->file;
	v.line = pd->line;
	v.count = n;
	v.from_log = 1;
	return rep_viol_add(R, &v);
}

/*
 * delivered - whether d's mail was delivered, and when: by the mail log
 * when it saw the message, else by the outcome the milter recorded.
 */
static int
delivered(const struct msg *m, const struct dec *d, int64_t *when,
    int *from_log)
{
	if ((d->flags & D_LOGGED) || (m != NULL && (m->flags &
	    M_MAILLOG))) {
		*from_log = 1;
		*when = d->sent;
		return (d->flags & D_SENT) != 0;
	}
	*from_log = 0;
	*when = d->t_ms / 1000;
	return (d->flags & D_OUTDELIV) != 0;
}

/*
 * honour_note - an allowed bulk delivery of m to r at when.  After an
 * unsubscribe, an allow that rests on an older record (or none) should
 * not have happened; one that rests on a newer record is a new
 * subscription.  The latest such delivery is the one the lag runs to.
 */
static int
honour_note(struct rep *R, struct rcpt *r, const struct msg *m,
    const struct dec *d, int64_t when)
{
	for (struct unsub *u = r->unsubs; u != NULL; u = u->next) {
		/* Decided before the unsubscribe: right then, whenever sent. */
		if ((u->list != ALL_LISTS && u->list != d->list) ||
		    d->t_ms / 1000 <= u->when ||
		    ((d->flags & D_EV) && d->ev_time > u->when))
			continue;
		if (!u->has_late || when > u->late_t) {
			char *q = NULL;

			if (m != NULL) {
				rstr s = rep_qid(m);

				if ((q = rep_dup(s.p, s.n)) == NULL)
					return rep_oom(R);
			}
			free(u->late_qid);
			u->late_qid = q;
			u->has_late = 1;
			u->late_t = when;
		}
	}
	return 0;
}

int
report_retire_dec(struct rep *R, struct msg *m, struct dec *d, uint32_t num)
{
	int64_t when;
	int from_log, rc = 0;

	if ((d->flags & D_BULK) && delivered(m, d, &when, &from_log)) {
		if (d->verdict == V_DENY) {
			struct viol v;

			memset(&v, 0, sizeof(v));
			v.kind = K_DENIED;
			v.has_d = 1;
			v.d_list = d->list;
			v.d_tri = d->tri;
			v.d_file = d->file;
			v.d_line = d->line;
			v.t = when;
			v.from_log = from_log;
			v.file = from_log ? d->sent_file : d->file;
			v.line = from_log ? d->sent_line : d->line;
			if ((m != NULL && rep_viol_msg(R, &v, m) == -1) ||
			    rep_dec_text(R, d, &v.rcpt) == -1 ||
			    rep_viol_add(R, &v) == -1)
				rc = -1;
		} else if (d->verdict == V_ALLOW && R->nunsub > 0) {
			char buf[REP_RCPT_BUF];
			rstr s = rep_dec_rcpt(d, buf);
			struct rcpt *r = rep_rcpt_find(R, s, htab_hash(s.p, s.n));

			if (r != NULL)
				rc = honour_note(R, r, m, d, when);
		}
	}
	if (rc == 0)
		rc = report_feedback_dec(R, d);
	rep_dec_drop(R, d, num);
	return rc;
}

/*
 * own_pending - deliveries of m read before its first decision (the
 * clocks and the order allow a little of that): joined to m's own.
 */
static int
own_pending(struct rep *R, struct msg *m)
{
	struct msgx *x = rep_x(R, m);

	for (struct pend *pd = x != NULL ? x->pend : NULL; pd != NULL;
	    pd = pd->next)
		if (pend_join(R, pd, m, NULL) == -1)
			return -1;
	return 0;
}

/* unpin - one pin less on m, which another message waited on. */
static void
unpin(struct rep *R, struct msg *m)
{
	struct msgx *x = rep_x(R, m);

	if (x != NULL && x->pins > 0)
		x->pins--;
}

/* retire - judge m and everything it holds, then free it; 0 / -1 with err. */
static int
retire(struct rep *R, struct msg *m)
{
	struct msgx *x;
	int rc = 0;

	if ((m->ndec == 0 ? resolve(R, m) : own_pending(R, m)) == -1)
		rc = -1;
	if (rc == 0 && report_feedback_msg(R, m) == -1)
		rc = -1;
	for (uint32_t n = m->decs; n != 0;) {
		struct dec *d = rep_dec_at(R, n - 1);
		uint32_t next = d->next;

		if (rc == -1)
			rep_dec_drop(R, d, n - 1);
		else if (report_retire_dec(R, m, d, n - 1) == -1)
			rc = -1;
		n = next;
	}
	m->decs = 0;
	if ((x = rep_x(R, m)) != NULL) {
		if (x->parent != NULL)
			unpin(R, x->parent);
		for (size_t i = 0; i < x->ncand; i++)
			unpin(R, x->cands[i]);
	}
	rep_msg_drop(R, m);
	return rc;
}

/* due - m is done by the merged clock (final: the input has ended). */
static int
due(const struct rep *R, const struct msg *m, int final)
{
	const struct msgx *x = rep_x(R, m);

	if (x != NULL && x->pins > 0)
		return 0;
	if (final)
		return 1;
	if ((m->flags & M_REMOVED) && R->now - m->removed_key > RETIRE_MS)
		return 1;
	/* Held mail waits for whoever releases or deletes it. */
	if (m->flags & M_HELD)
		return 0;
	/* Queued mail logs at least every retry; mail the log never showed
	 * (itself, or as another's notice or copy) in an hour is not in it. */
	return R->now - m->last_key > ((m->flags & (M_MAILLOG | M_NOTICE)) ||
	    rep_parent(R, m) != NULL ? IDLE_MS : RETIRE_MS);
}

int
report_live(struct rep *R, struct msg **mp)
{
	if (R->whole || !due(R, *mp, 0))
		return 0;
	if (retire(R, *mp) == -1)
		return -1;
	*mp = NULL;
	return 0;
}

int
report_sweep(struct rep *R, int final)
{
	/* A sweep walks the table: not before it has seen an eighth of it
	 * made again, so that walking costs a few slots a message. */
	if (!final && (R->whole || R->now < R->next_sweep ||
	    R->made < (R->msgs.mask + 1) / 8))
		return 0;
	R->next_sweep = R->now + SWEEP_MS;
	R->made = 0;
	for (;;) {
		R->due.n = 0;
		for (size_t i = 0, v; (v = htab32_next(&R->msgs, &i)) != 0;)
			if (due(R, rep_msg_at(R, (uint32_t)v - 1), final) &&
			    rep_nums_push(&R->due, (uint32_t)v - 1) == -1)
				return rep_oom(R);
		/* Only a loop of "forwarded as" pins them all: break it. */
		if (final && R->due.n == 0 && R->msgs.n > 0)
			for (size_t i = 0, v; (v = htab32_next(&R->msgs, &i)) !=
			    0;)
				if (rep_nums_push(&R->due, (uint32_t)v - 1) ==
				    -1)
					return rep_oom(R);
		/* Retiring one frees no other's slot: the numbers hold. */
		for (size_t i = 0; i < R->due.n; i++)
			if (retire(R, rep_msg_at(R, R->due.v[i])) == -1)
				return -1;
		if (!final || R->msgs.n == 0)
			return 0;
	}
}

int
report_judge(struct rep *R)
{
	if (report_sweep(R, 1) == -1)
		return -1;
	for (struct unsub *u = R->unsubs; u != NULL; u = u->all_next) {
		if (!u->has_late)
			continue;
		if (u->late_t - u->when > LATE_SECONDS)
			R->late2++;
		if (time_business_days(u->when, u->late_t) > LATE_BUSINESS)
			R->late10++;
	}
	return 0;
}
