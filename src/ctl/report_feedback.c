/*
 * report_feedback.c - bounce and complaint rates per list and day, for
 * the audit report: the "feedback" lines consentctl feedback writes
 * (feedback.audit_file) against the bulk deliveries the audit and the
 * mail log show.  A recipient counts once per list, day and kind, so a
 * bounce read both from Postfix's DSN and from its mail log is one.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl/rep.h"

/* kind_of - FE_* for a line's reason and outcome, or -1: not counted. */
static int
kind_of(const struct audit_fields *f)
{
	int applied = rep_eq(f->outcome, "applied");

	if (rep_eq(f->reason, "policy"))
		return rep_eq(f->outcome, "queued") ? -1 : FE_POLICY;
	if (!applied)
		return -1;
	if (rep_eq(f->reason, "hard"))
		return FE_HARD;
	if (rep_eq(f->reason, "soft"))
		return FE_SOFT;
	if (rep_eq(f->reason, "complaint"))
		return FE_COMPLAINT;
	return -1;
}

/* A queue id feedback lines name without a list, and its message's list. */
struct fbq {
	rstr	qid;
	uint32_t list;			/* 0: no bulk decision seen */
};

static int
fbq_eq(const void *item, const void *key)
{
	const struct fbq *q = item;
	const rstr *k = key;

	return q->qid.n == k->n && memcmp(q->qid.p, k->p, k->n) == 0;
}

/* fbq_note - qid into R->fbq once; 0 / -1 out of memory. */
static int
fbq_note(struct rep *R, rstr qid)
{
	uint64_t h = htab_hash(qid.p, qid.n);
	struct fbq *q;

	if (htab_find(&R->fbq, h, fbq_eq, &qid) != NULL)
		return 0;
	if ((q = arena_alloc(&R->a, sizeof(*q))) == NULL)
		return rep_oom(R);
	q->qid = qid;
	q->list = 0;
	return htab_put(&R->fbq, h, q) == -1 ? rep_oom(R) : 0;
}

int
report_feedback_line(struct rep *R, const struct audit_fields *f)
{
	struct fbev *e;
	int64_t t;
	int kind = kind_of(f);

	if (kind < 0)
		return 0;
	if (time_rfc3339_ms(&R->tm, f->t.p, f->t.n, &t) == -1)
		return util_fail(R->err, R->errlen, "\"t\" is not an RFC 3339 "
		    "time");
	if ((e = arena_alloc(&R->a, sizeof(*e))) == NULL)
		return rep_oom(R);
	memset(e, 0, sizeof(*e));
	e->qid = f->qid;
	e->rcpt = f->rcpt;
	if ((e->qid.n > 0 && rep_keep(R, &e->qid) == -1) ||
	    (e->rcpt.n > 0 && rep_keep(R, &e->rcpt) == -1) ||
	    rep_sym(R, f->list, &e->list) == -1)
		return -1;
	if (R->syms[e->list]->s.n == 0 && e->qid.n > 0 &&
	    fbq_note(R, e->qid) == -1)
		return -1;
	e->day = t / 86400000;
	e->kind = (uint8_t)kind;
	e->next = R->fbevs;
	R->fbevs = e;
	R->nfbev++;
	R->ncomplaint += kind == FE_COMPLAINT;
	return 0;
}

struct daykey {
	uint32_t list;
	int64_t	day;
};

static int
fbday_eq(const void *item, const void *key)
{
	const struct fbday *d = item;
	const struct daykey *k = key;

	return d->list == k->list && d->day == k->day;
}

/* day_of - the list's day in t, made on first sight; NULL out of memory. */
static struct fbday *
day_of(struct rep *R, struct htab *t, uint32_t list, int64_t day)
{
	struct daykey k = { list, day };
	uint64_t h = htab_mix((uint64_t)day * 1000003u ^ list);
	struct fbday *d = htab_find(t, h, fbday_eq, &k);

	if (d != NULL)
		return d;
	if ((d = arena_alloc(&R->a, sizeof(*d))) == NULL)
		return NULL;
	memset(d, 0, sizeof(*d));
	d->list = list;
	d->day = day;
	return htab_put(t, h, d) == -1 ? NULL : d;
}

/* list_by_qid - the list of the audited bulk message qid, or 0. */
static uint32_t
list_by_qid(const struct rep *R, rstr qid)
{
	const struct fbq *q;

	if (qid.n == 0 || (q = htab_find(&R->fbq, htab_hash(qid.p, qid.n),
	    fbq_eq, &qid)) == NULL)
		return 0;
	return q->list;
}

int
report_feedback_msg(struct rep *R, const struct msg *m)
{
	rstr qid = rep_qid(m);
	struct fbq *q;

	if (R->fbq.n == 0 || (q = htab_find(&R->fbq, htab_hash(qid.p, qid.n),
	    fbq_eq, &qid)) == NULL)
		return 0;
	/* The newest bulk decision's, as with every queue id used again. */
	for (const struct dec *d = rep_decs(R, m); d != NULL;
	    d = rep_dec_next(R, d))
		if (d->flags & D_BULK) {
			q->list = d->list;
			break;
		}
	return 0;
}

int
report_feedback_dec(struct rep *R, const struct dec *d)
{
	struct fbday *fd;
	int64_t day;

	if (R->nfbev == 0 || !(d->flags & D_BULK))
		return 0;
	/* With a mail log, what it shows sent; else the outcome. */
	if (R->maillog ? !(d->flags & D_SENT) : !(d->flags & D_OUTDELIV))
		return 0;
	day = (d->flags & D_SENT) ? d->sent / 86400 : d->t_ms / 86400000;
	if ((fd = day_of(R, &R->fbdays, d->list, day)) == NULL)
		return rep_oom(R);
	fd->delivered++;
	return 0;
}

struct seenkey {
	uint32_t list;
	int64_t	day;
	uint8_t	kind;
	rstr	rcpt;
};

static int
seen_eq(const void *item, const void *key)
{
	const struct seenkey *a = item, *b = key;

	return a->list == b->list && a->day == b->day && a->kind == b->kind &&
	    a->rcpt.n == b->rcpt.n && (b->rcpt.n == 0 ||
	    memcmp(a->rcpt.p, b->rcpt.p, b->rcpt.n) == 0);
}

/* events - each feedback line on its list's day, once per recipient. */
static int
events(struct rep *R, struct htab *t, struct htab *seen)
{
	for (struct fbev *e = R->fbevs; e != NULL; e = e->next) {
		struct seenkey k = { e->list, e->day, e->kind, e->rcpt }, *s;
		struct fbday *fd;
		uint64_t h;

		if (R->syms[k.list]->s.n == 0)
			k.list = list_by_qid(R, e->qid);
		h = htab_mix(htab_hash(e->rcpt.p, e->rcpt.n) ^
		    ((uint64_t)k.day << 8) ^ ((uint64_t)k.list << 40) ^ k.kind);
		if (htab_find(seen, h, seen_eq, &k) != NULL)
			continue;
		if ((s = arena_alloc(&R->a, sizeof(*s))) == NULL ||
		    htab_put(seen, h, memcpy(s, &k, sizeof(k))) == -1 ||
		    (fd = day_of(R, t, k.list, k.day)) == NULL)
			return rep_oom(R);
		fd->n[e->kind]++;
	}
	return 0;
}

static const struct rep *sort_rep;

/* fbday_cmp - by list name, then day (qsort). */
static int
fbday_cmp(const void *a, const void *b)
{
	const struct fbday *x = *(const struct fbday *const *)a;
	const struct fbday *y = *(const struct fbday *const *)b;
	rstr lx = sort_rep->syms[x->list]->s, ly = sort_rep->syms[y->list]->s;
	size_t n = lx.n < ly.n ? lx.n : ly.n;
	int c = n ? memcmp(lx.p, ly.p, n) : 0;

	if (c == 0 && lx.n != ly.n)
		c = lx.n < ly.n ? -1 : 1;
	return c != 0 ? c : (x->day > y->day) - (x->day < y->day);
}

int
report_feedback_days(struct rep *R, struct fbday ***days, size_t *n)
{
	struct htab *t = &R->fbdays, seen;
	struct fbday *d;
	int rc = -1;

	*days = NULL;
	*n = 0;
	if (R->nfbev == 0)
		return 0;
	memset(&seen, 0, sizeof(seen));
	if (htab_init(&seen, 1024) == -1) {
		rep_oom(R);
		goto out;
	}
	if (events(R, t, &seen) == -1)
		goto out;
	if ((*days = malloc((t->n + 1) * sizeof(**days))) == NULL) {
		rep_oom(R);
		goto out;
	}
	for (size_t i = 0; (d = htab_next(t, &i)) != NULL;)
		(*days)[(*n)++] = d;
	sort_rep = R;
	qsort(*days, *n, sizeof(**days), fbday_cmp);
	rc = 0;
out:
	htab_free(&seen);
	return rc;
}
