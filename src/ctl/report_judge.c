/*
 * report_judge.c - the audit report's join and its judgements, once
 * every line is read: deliveries of queue ids without an audit line
 * followed to the message they came from (or flagged), bulk mail
 * delivered against a deny, and how long each unsubscribe took to be
 * honoured (the last allowed bulk delivery after it, against 2 days and
 * 10 business days).
 */
#include <string.h>

#include "ctl/rep.h"

/* A message-id that pending deliveries look for, and who has it. */
struct mid {
	rstr	id;
	struct msg *cand;		/* audited messages, by same_msgid */
};

/* mid_eq - a message-id index entry matches the key. */
static int
mid_eq(const void *item, const void *key)
{
	const struct mid *x = item;
	const rstr *k = key;

	return x->id.n == k->n && memcmp(x->id.p, k->p, k->n) == 0;
}

/* An audited message looked up by its message-id, read back on a hash match. */
struct midkey {
	struct rep *R;
	struct msg *m;
	int	*err;
};

/* mid_is - a message-id index entry is the key message's; *err set on failure. */
static int
mid_is(const void *item, const void *key)
{
	const struct mid *x = item;
	const struct midkey *k = key;
	rstr id;

	if (k->m->mid_n != x->id.n)
		return 0;
	if (rep_msgid(k->R, k->m, &id) == -1) {
		*k->err = 1;
		return 0;
	}
	return memcmp(x->id.p, id.p, id.n) == 0;
}

/*
 * mids_link - the audited messages whose message-id a pending message
 * has.  Only the few pending ids are indexed; the audited messages are
 * walked once.
 */
static int
mids_link(struct rep *R, struct htab *mids)
{
	struct msg *m;
	size_t n = 0;

	for (m = R->pending; m != NULL; m = rep_x(R, m)->pend_next)
		n += m->mid_n > 0;
	if (n == 0)
		return 0;
	if (htab_init(mids, 64) == -1)
		return rep_oom(R);
	for (m = R->pending; m != NULL; m = rep_x(R, m)->pend_next) {
		struct mid *x;
		rstr id;

		if (m->mid_n == 0)
			continue;
		if (rep_msgid(R, m, &id) == -1)
			return -1;
		/* Keyed by mid_h: audited messages keep only that. */
		if (htab_find(mids, m->mid_h, mid_eq, &id) != NULL)
			continue;
		if ((x = arena_alloc(&R->a, sizeof(*x))) == NULL)
			return rep_oom(R);
		x->id = id;
		x->cand = NULL;
		if (htab_put(mids, m->mid_h, x) == -1)
			return rep_oom(R);
	}
	/* In the table's order, as the candidates always were chained. */
	for (size_t i = 0, v; (v = htab32_next(&R->msgs, &i)) != 0;) {
		struct midkey k;
		struct mid *x;
		int err = 0;

		m = rep_msg_at(R, (uint32_t)v - 1);
		if (m->ndec == 0 || m->mid_n == 0)
			continue;
		k.R = R;
		k.m = m;
		k.err = &err;
		x = htab_find(mids, m->mid_h, mid_is, &k);
		if (err)
			return -1;
		if (x != NULL) {
			if (rep_msgx(R, m) == NULL)
				return rep_oom(R);
			rep_x(R, m)->same_msgid = x->cand;
			x->cand = m;
		}
	}
	return 0;
}

/*
 * pend_join - deliver pd to the audited message cand; with bymsgid, to
 * whichever audited message with that message-id decided its recipient.
 */
static int
pend_join(struct rep *R, const struct pend *pd, struct msg *cand, int bymsgid)
{
	rstr k[2] = { pd->rcpt, pd->plain };
	uint64_t h[2];
	struct msg *c = cand;
	int nk = pd->plain.p != pd->rcpt.p ? 2 : 1, err = 0;

	h[0] = htab_hash(k[0].p, k[0].n);
	h[1] = htab_hash(k[1].p, k[1].n);
	/* Each candidate got its msgx when mids_link() chained it. */
	for (; bymsgid && rep_x(R, c)->same_msgid != NULL;
	    c = rep_x(R, c)->same_msgid) {
		if (rep_dec_find(R, c, &k[0], h[0], pd->t, &err) != NULL ||
		    (nk == 2 && rep_dec_find(R, c, &k[1], h[1], pd->t, &err) != NULL))
			break;
		if (err)
			return -1;
	}
	return report_maillog_deliver(R, c, k, h, nk, pd->rcpt.p, pd->t, pd->file, pd->line);
}

/*
 * resolve_pending - deliveries of queue ids without an audit line: follow
 * "forwarded as" to an audited parent, else the message-id to an audited
 * message (a content filter re-injects under a new queue id); else it is
 * a notice Postfix made, older than the audit, or mail the filter never saw.
 */
static int
resolve_pending(struct rep *R)
{
	struct htab mids = { NULL, 0, 0 };
	int rc = -1;

	if (mids_link(R, &mids) == -1)
		goto out;
	for (struct msg *m = R->pending; m != NULL; m = rep_x(R, m)->pend_next) {
		struct msg *a = m, *cand = NULL;
		struct pend *pd;
		uint32_t n = 0;
		int notice = 0, bymsgid = 0;

		for (int depth = 0; a != NULL && a->ndec == 0 && depth <
		    PARENT_DEPTH; depth++) {
			notice |= (a->flags & M_NOTICE) != 0;
			a = rep_parent(R, a);
		}
		if (a != NULL && a->ndec > 0)
			cand = a;
		else if (m->mid_n > 0 && mids.s != NULL) {
			struct mid *x;
			rstr id;

			if (rep_msgid(R, m, &id) == -1)
				goto out;
			x = htab_find(&mids, m->mid_h, mid_eq, &id);
			cand = x != NULL ? x->cand : NULL;
			bymsgid = 1;
		}
		if (cand != NULL) {
			for (pd = rep_x(R, m)->pend; pd != NULL; pd = pd->next)
				if (pend_join(R, pd, cand, bymsgid) == -1)
					goto out;
			continue;
		}
		for (pd = rep_x(R, m)->pend; pd != NULL; pd = pd->next)
			n++;
		if (notice) {
			R->notices += n;
			continue;
		}
		if (R->audit_first >= 0 && m->recv * 1000 < R->audit_first -
		    999) {
			R->unjudged += n;
			continue;
		}
		{
			struct viol v;

			/* pend is newest first: report the first delivery. */
			for (pd = rep_x(R, m)->pend; pd->next != NULL; pd = pd->next)
				;
			memset(&v, 0, sizeof(v));
			v.kind = K_NOMSG;
			v.m = m;
			v.rcpt = pd->rcpt;
			v.t = pd->t;
			v.file = pd->file;
			v.line = pd->line;
			v.count = n;
			v.from_log = 1;
			if (rep_viol_add(R, &v) == -1)
				goto out;
		}
	}
	rc = 0;
out:
	htab_free(&mids);
	return rc;
}

/*
 * delivered - whether d's mail was delivered, and when: by the mail log
 * when it saw the message, else by the outcome the milter recorded.
 */
static int
delivered(const struct rep *R, const struct dec *d, int64_t *when,
    int *from_log)
{
	const struct msg *m = rep_dec_msg(R, d);

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
 * honour_note - an allowed bulk delivery to r at when.  After an
 * unsubscribe, an allow that rests on an older record (or none) should
 * not have happened; one that rests on a newer record is a new
 * subscription.  The latest such delivery is the one the lag runs to.
 */
static void
honour_note(struct rcpt *r, struct dec *d, int64_t when)
{
	for (struct unsub *u = r->unsubs; u != NULL; u = u->next) {
		/* Decided before the unsubscribe: right then, whenever sent. */
		if ((u->list != ALL_LISTS && u->list != d->list) ||
		    d->t_ms / 1000 <= u->when ||
		    ((d->flags & D_EV) && d->ev_time > u->when))
			continue;
		if (u->late == NULL || when > u->late_t) {
			u->late = d;
			u->late_t = when;
		}
	}
}

int
report_judge(struct rep *R)
{
	if (resolve_pending(R) == -1)
		return -1;
	for (struct decblock *b = R->blocks; b != NULL; b = b->next) {
		for (size_t i = 0; i < b->n; i++) {
			struct dec *d = &b->d[i];
			int64_t when;
			int from_log;

			if (!(d->flags & D_BULK) ||
			    !delivered(R, d, &when, &from_log))
				continue;
			if (d->verdict == V_DENY) {
				struct viol v;

				memset(&v, 0, sizeof(v));
				v.kind = K_DENIED;
				v.m = rep_dec_msg(R, d);
				v.d = d;
				if (rep_dec_text(R, d, &v.rcpt) == -1)
					return -1;
				v.t = when;
				v.from_log = from_log;
				v.file = from_log ? d->sent_file : d->file;
				v.line = from_log ? d->sent_line : d->line;
				if (rep_viol_add(R, &v) == -1)
					return -1;
				continue;
			}
			if (d->verdict == V_ALLOW && R->nunsub > 0) {
				char buf[REP_RCPT_BUF];
				rstr s = rep_dec_rcpt(d, buf);

				struct rcpt *r;

				if ((r = rep_rcpt_find(R, s, htab_hash(s.p,
				    s.n))) != NULL)
					honour_note(r, d, when);
			}
		}
	}
	for (struct unsub *u = R->unsubs; u != NULL; u = u->all_next) {
		if (u->late == NULL)
			continue;
		if (u->late_t - u->when > LATE_SECONDS)
			R->late2++;
		if (time_business_days(u->when, u->late_t) > LATE_BUSINESS)
			R->late10++;
	}
	return 0;
}
