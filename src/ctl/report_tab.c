/*
 * report_tab.c - the judged model as the report's tables (report_tab.h):
 * one function per table, each row filled by named columns, and the
 * summary figures.  Rows are sorted here, so every writer shows the same
 * order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/rep.h"
#include "ctl/report_tab.h"
#include "util/time.h"

_Static_assert(CT_NV == NV, "a count column per verdict");

static const char *kind_names[NKIND] = {
	[K_DENIED] = "delivered-to-denied",
	[K_NORCPT] = "no-decision-recipient",
	[K_NOMSG] = "no-decision-message",
};

static const struct col cols_input[IN_NCOL] = {
	[IN_KIND] = { "kind", "kind", C_STR, 1 },
	[IN_FILE] = { "file", "file", C_STR, 1 },
	[IN_LINES] = { "lines", "lines", C_INT, 1 },
	[IN_RECORDS] = { "records", "records", C_INT, 1 },
};
static const struct col cols_verdict[VE_NCOL] = {
	[VE_VERDICT] = { "verdict", "verdict", C_STR, 1 },
	[VE_COUNT] = { "count", "count", C_INT, 1 },
};
#define COUNTS \
	[CT_ALLOW] = { "allow", "allow", C_INT, 1 }, \
	[CT_DENY] = { "deny", "deny", C_INT, 1 }, \
	[CT_TEMPFAIL] = { "tempfail", "tempfail", C_INT, 1 }, \
	[CT_OTHER] = { "other", "other", C_INT, 1 }, \
	[CT_TOTAL] = { "total", "total", C_INT, 1 }
static const struct col cols_reason[CT_NCOL] = {
	[CT_KEY] = { "reason", "reason", C_STR, 1 }, COUNTS
};
static const struct col cols_list[CT_NCOL] = {
	[CT_KEY] = { "list", "list", C_STR, 1 }, COUNTS
};
static const struct col cols_day[CT_NCOL] = {
	[CT_KEY] = { "day", "day", C_STR, 1 }, COUNTS
};
#undef COUNTS
static const struct col cols_viol[VI_NCOL] = {
	[VI_KIND] = { "kind", "kind", C_STR, 1 },
	[VI_TIME] = { "time", "time", C_TIME, 1 },
	[VI_QID] = { "qid", "queue id", C_STR, 1 },
	[VI_RCPT] = { "rcpt", "recipient", C_STR, 1 },
	[VI_LIST] = { "list", "list", C_STR, 1 },
	[VI_VERDICT] = { "verdict", "verdict", C_STR, 1 },
	[VI_REASON] = { "reason", "reason", C_STR, 1 },
	[VI_OUTCOME] = { "outcome", "outcome", C_STR, 0 },
	[VI_MSGID] = { "msgid", "message-id", C_STR, 0 },
	[VI_RECIPIENTS] = { "recipients", "recipients", C_INT, 0 },
	[VI_BASIS] = { "basis", "judged by", C_STR, 1 },
	[VI_WHERE] = { "where", "where", C_STR, 1 },
	[VI_DECISION] = { "decision", "decision", C_STR, 0 },
};
static const struct col cols_honour[HO_NCOL] = {
	[HO_RCPT] = { "rcpt", "recipient", C_STR, 1 },
	[HO_LIST] = { "list", "list", C_STR, 1 },
	[HO_UNSUBSCRIBED] = { "unsubscribed", "unsubscribed", C_TIME, 1 },
	[HO_SOURCE] = { "source", "source", C_STR, 1 },
	[HO_LAST] = { "last_delivery", "last delivery after", C_TIME, 1 },
	[HO_QID] = { "qid", "queue id", C_STR, 1 },
	[HO_LAG] = { "lag_seconds", "lag", C_DUR, 1 },
	[HO_BDAYS] = { "business_days", "business days", C_INT, 1 },
	[HO_OVER2] = { "over_2_days", "> 2 days", C_BOOL, 1 },
	[HO_OVER10] = { "over_10_business_days", "> 10 business days", C_BOOL,
	    1 },
	[HO_EVIDENCE] = { "evidence", "evidence", C_STR, 0 },
};

static const struct col cols_feedback[FB_NCOL] = {
	[FB_LIST] = { "list", "list", C_STR, 1 },
	[FB_DAY] = { "day", "day", C_STR, 1 },
	[FB_DELIVERED] = { "delivered", "bulk delivered", C_INT, 1 },
	[FB_HARD] = { "hard_bounces", "hard", C_INT, 1 },
	[FB_SOFT] = { "soft_bounces", "soft", C_INT, 1 },
	[FB_POLICY] = { "policy_refusals", "policy", C_INT, 1 },
	[FB_COMPLAINTS] = { "complaints", "complaints", C_INT, 1 },
	[FB_BOUNCE_RATE] = { "bounce_rate", "bounce rate", C_STR, 1 },
	[FB_COMPLAINT_RATE] = { "complaint_rate", "complaint rate", C_STR, 1 },
	[FB_OVER] = { "over_complaint_limit", "> 0.3% complaints", C_BOOL, 1 },
};

#define NCOL(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const struct col *c;
	size_t	n;
	const char *name, *title;
} spec[NTAB] = {
	[T_INPUT] = { cols_input, NCOL(cols_input), "inputs", "Inputs" },
	[T_VERDICT] = { cols_verdict, NCOL(cols_verdict), "by_verdict",
	    "Decisions by verdict" },
	[T_REASON] = { cols_reason, NCOL(cols_reason), "by_reason",
	    "Decisions by reason" },
	[T_LIST] = { cols_list, NCOL(cols_list), "by_list",
	    "Decisions by list" },
	[T_DAY] = { cols_day, NCOL(cols_day), "by_day",
	    "Decisions by day (UTC)" },
	[T_VIOL] = { cols_viol, NCOL(cols_viol), "violations", "Violations" },
	[T_HONOUR] = { cols_honour, NCOL(cols_honour), "time_to_honour",
	    "Time to honour unsubscribes" },
	[T_FEEDBACK] = { cols_feedback, NCOL(cols_feedback), "feedback",
	    "Bounces and complaints per list and day (UTC)" },
};

/* tab_row - a new zeroed row of t (owned by t); NULL out of memory. */
static struct cell *
tab_row(struct rep *R, struct tab *t)
{
	struct cell *row;

	if (t->nrow == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct cell *c = realloc(t->cells, cap * t->ncol * sizeof(*c));

		if (c == NULL) {
			rep_oom(R);
			return NULL;
		}
		t->cells = c;
		t->cap = cap;
	}
	row = &t->cells[t->nrow++ * t->ncol];
	memset(row, 0, t->ncol * sizeof(*row));
	return row;
}

/* cell_str - a string cell from a view; NULL is "". */
static void
cell_str(struct cell *c, rstr s)
{
	c->s = s.p != NULL ? s.p : "";
	c->n = s.n;
}

/* cell_cstr - a string cell from a C string; NULL is null. */
static void
cell_cstr(struct cell *c, const char *s)
{
	if (s == NULL) {
		c->null = 1;
		return;
	}
	c->s = s;
	c->n = strlen(s);
}

/* cell_where - "FILE:LINE", in the arena, as a string cell; 0 / -1. */
static int
cell_where(struct rep *R, struct cell *c, int file, uint32_t line)
{
	char buf[1100];
	rstr s;

	snprintf(buf, sizeof(buf), "%s:%" PRIu32, R->in[file].path, line);
	if (rep_str(R, buf, &s) == -1)
		return -1;
	cell_str(c, s);
	return 0;
}

/* counts - the verdict columns and their total, from n[NV]. */
static void
counts(struct cell *row, const uint64_t n[NV])
{
	uint64_t total = 0;

	for (int k = 0; k < NV; k++) {
		row[CT_ALLOW + k].v = (int64_t)n[k];
		total += n[k];
	}
	row[CT_TOTAL].v = (int64_t)total;
}

/* build_inputs - one row per file read. */
static int
build_inputs(struct rep *R, struct tab *t)
{
	struct cell *row;

	for (size_t i = 0; i < R->nin; i++) {
		if ((row = tab_row(R, t)) == NULL)
			return -1;
		cell_cstr(&row[IN_KIND], R->in[i].maillog ? "maillog" : "audit");
		cell_cstr(&row[IN_FILE], R->in[i].path);
		row[IN_LINES].v = (int64_t)R->in[i].lines;
		row[IN_RECORDS].v = (int64_t)R->in[i].records;
	}
	return 0;
}

/* sym_cmp - symbols by name, octet order (qsort). */
static int
sym_cmp(const void *a, const void *b)
{
	const struct sym *x = *(const struct sym *const *)a;
	const struct sym *y = *(const struct sym *const *)b;
	size_t n = x->s.n < y->s.n ? x->s.n : y->s.n;
	int c = memcmp(x->s.p, y->s.p, n);

	return c != 0 ? c : (x->s.n > y->s.n) - (x->s.n < y->s.n);
}

/*
 * build_syms - by verdict, by reason and by list: every symbol that
 * counted as one, in name order.
 */
static int
build_syms(struct rep *R, struct out *o)
{
	struct sym **sorted;
	struct cell *row;
	int rc = -1;

	if ((sorted = malloc((R->nsyms + 1) * sizeof(*sorted))) == NULL)
		return rep_oom(R);
	memcpy(sorted, R->syms, R->nsyms * sizeof(*sorted));
	qsort(sorted, R->nsyms, sizeof(*sorted), sym_cmp);
	for (size_t i = 0; i < R->nsyms; i++) {
		struct sym *y = sorted[i];
		uint64_t nr = 0, nl = 0;

		for (int k = 0; k < NV; k++) {
			nr += y->as_reason[k];
			nl += y->as_list[k];
		}
		if (y->as_verdict > 0) {
			if ((row = tab_row(R, &o->t[T_VERDICT])) == NULL)
				goto out;
			cell_str(&row[VE_VERDICT], y->s);
			row[VE_COUNT].v = (int64_t)y->as_verdict;
		}
		if (nr > 0) {
			if ((row = tab_row(R, &o->t[T_REASON])) == NULL)
				goto out;
			cell_str(&row[CT_KEY], y->s);
			counts(row, y->as_reason);
		}
		if (nl > 0) {
			if ((row = tab_row(R, &o->t[T_LIST])) == NULL)
				goto out;
			cell_str(&row[CT_KEY], y->s);
			counts(row, y->as_list);
		}
	}
	rc = 0;
out:
	free(sorted);
	return rc;
}

/* day_cmp - days in time order (qsort). */
static int
day_cmp(const void *a, const void *b)
{
	const struct day *x = *(const struct day *const *)a;
	const struct day *y = *(const struct day *const *)b;

	return (x->day > y->day) - (x->day < y->day);
}

/* build_days - by day, in time order, each day as "2026-11-26". */
static int
build_days(struct rep *R, struct tab *t)
{
	struct day **days, *d;
	struct cell *row;
	size_t nd = 0;
	int rc = -1;

	if ((days = malloc((R->days.n + 1) * sizeof(*days))) == NULL)
		return rep_oom(R);
	for (size_t i = 0; (d = htab_next(&R->days, &i)) != NULL;)
		days[nd++] = d;
	qsort(days, nd, sizeof(*days), day_cmp);
	for (size_t i = 0; i < nd; i++) {
		char buf[32];
		rstr s;

		time_format(days[i]->day * 86400, buf, sizeof(buf));
		buf[10] = '\0';
		if ((row = tab_row(R, t)) == NULL || rep_str(R, buf, &s) == -1)
			goto out;
		cell_str(&row[CT_KEY], s);
		counts(row, days[i]->n);
	}
	rc = 0;
out:
	free(days);
	return rc;
}

/* viol_cmp - violations by time, kind, queue id, line (qsort). */
static int
viol_cmp(const void *a, const void *b)
{
	const struct viol *x = a, *y = b;
	size_t n;
	int c;

	if (x->t != y->t)
		return (x->t > y->t) - (x->t < y->t);
	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->has_m && y->has_m) {
		rstr qa = rep_qid(&x->m), qb = rep_qid(&y->m);

		n = qa.n < qb.n ? qa.n : qb.n;
		if (n && (c = memcmp(qa.p, qb.p, n)) != 0)
			return c;
	}
	if (x->line != y->line)
		return (x->line > y->line) - (x->line < y->line);
	/* Ties last by file: the order never rests on the reading's. */
	return (x->file > y->file) - (x->file < y->file);
}

/* viol_row - one violation's row; 0 / -1 out of memory. */
static int
viol_row(struct rep *R, struct cell *row, const struct viol *v)
{
	cell_cstr(&row[VI_KIND], kind_names[v->kind]);
	row[VI_TIME].v = v->t;
	if (v->has_m) {
		cell_str(&row[VI_QID], rep_qid(&v->m));
		/* rep_viol_msg() made it text. */
		if (v->m.mid_n > 0) {
			rstr id = { v->m.mid.p, v->m.mid_n };

			cell_str(&row[VI_MSGID], id);
		} else
			row[VI_MSGID].null = 1;
	} else {
		cell_cstr(&row[VI_QID], "NOQUEUE");
		row[VI_MSGID].null = 1;
	}
	cell_str(&row[VI_RCPT], v->rcpt);
	if (v->has_d) {
		cell_str(&row[VI_LIST], R->syms[v->d_list]->s);
		const struct tri *y = R->tris[v->d_tri];

		cell_str(&row[VI_VERDICT], R->syms[y->verdict_sym]->s);
		cell_str(&row[VI_REASON], R->syms[y->reason]->s);
		cell_str(&row[VI_OUTCOME], R->syms[y->outcome]->s);
		if (cell_where(R, &row[VI_DECISION], v->d_file, v->d_line) ==
		    -1)
			return -1;
	} else {
		row[VI_LIST].null = row[VI_VERDICT].null = 1;
		row[VI_REASON].null = row[VI_OUTCOME].null = 1;
		row[VI_DECISION].null = 1;
	}
	row[VI_RECIPIENTS].v = v->kind == K_NOMSG ? v->count : 1;
	cell_cstr(&row[VI_BASIS], v->from_log ? "maillog" : "audit");
	return cell_where(R, &row[VI_WHERE], v->file, v->line);
}

/* build_viol - the violations, in time order. */
static int
build_viol(struct rep *R, struct tab *t)
{
	struct cell *row;

	if (R->nviol > 0)
		qsort(R->viol, R->nviol, sizeof(*R->viol), viol_cmp);
	for (size_t i = 0; i < R->nviol; i++)
		if ((row = tab_row(R, t)) == NULL ||
		    viol_row(R, row, &R->viol[i]) == -1)
			return -1;
	return 0;
}

struct hrow {
	const struct unsub *u;
	int64_t	lag, bd;
	int	over2, over10;
};

/*
 * hrow_cmp - the worst first: over 10 business days, over 2 days, longest
 * lag (qsort).
 */
static int
hrow_cmp(const void *a, const void *b)
{
	const struct hrow *x = a, *y = b;

	if (x->over10 != y->over10)
		return y->over10 - x->over10;
	if (x->over2 != y->over2)
		return y->over2 - x->over2;
	if (x->lag != y->lag)
		return (y->lag > x->lag) - (y->lag < x->lag);
	if (x->u->when != y->u->when)
		return (x->u->when > y->u->when) - (x->u->when < y->u->when);
	return memcmp(x->u->r->s.p, y->u->r->s.p, x->u->r->s.n <
	    y->u->r->s.n ? x->u->r->s.n : y->u->r->s.n);
}

/* honour_row - one unsubscribe's row; 0 / -1 out of memory. */
static int
honour_row(struct rep *R, struct cell *row, const struct hrow *h)
{
	const struct unsub *u = h->u;

	cell_str(&row[HO_RCPT], u->r->s);
	/* "*" is every list. */
	cell_cstr(&row[HO_LIST], u->list == ALL_LISTS ? "*" :
	    R->syms[u->list]->s.p);
	row[HO_UNSUBSCRIBED].v = u->when;
	cell_str(&row[HO_SOURCE], R->syms[u->source]->s);
	if (u->has_late) {
		row[HO_LAST].v = u->late_t;
		cell_cstr(&row[HO_QID], u->late_qid != NULL ? u->late_qid :
		    "NOQUEUE");
	} else
		row[HO_LAST].null = row[HO_QID].null = 1;
	row[HO_LAG].v = h->lag;
	row[HO_BDAYS].v = h->bd;
	row[HO_OVER2].v = h->over2;
	row[HO_OVER10].v = h->over10;
	return cell_where(R, &row[HO_EVIDENCE], u->ev_file, u->ev_line);
}

/* build_honour - the time to honour each unsubscribe, the worst first. */
static int
build_honour(struct rep *R, struct tab *t)
{
	struct hrow *hr;
	struct cell *row;
	size_t nh = 0;
	int rc = -1;

	if ((hr = malloc((R->nunsub + 1) * sizeof(*hr))) == NULL)
		return rep_oom(R);
	for (const struct unsub *u = R->unsubs; u != NULL; u = u->all_next) {
		struct hrow *h = &hr[nh++];

		h->u = u;
		h->lag = u->has_late ? u->late_t - u->when : 0;
		h->bd = u->has_late ? time_business_days(u->when, u->late_t) : 0;
		h->over2 = h->lag > LATE_SECONDS;
		h->over10 = h->bd > LATE_BUSINESS;
	}
	qsort(hr, nh, sizeof(*hr), hrow_cmp);
	for (size_t i = 0; i < nh; i++)
		if ((row = tab_row(R, t)) == NULL ||
		    honour_row(R, row, &hr[i]) == -1)
			goto out;
	rc = 0;
out:
	free(hr);
	return rc;
}

/* rate - n of d as a percentage with three decimals, in the arena; 0 / -1. */
static int
rate(struct rep *R, struct cell *c, uint64_t n, uint64_t d)
{
	char buf[32];
	rstr s;

	if (d == 0) {
		c->null = 1;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%.3f%%", 100.0 * (double)n / (double)d);
	if (rep_str(R, buf, &s) == -1)
		return -1;
	cell_str(c, s);
	return 0;
}

/*
 * build_feedback - per list and day: bulk deliveries, recipients who
 * bounced (hard, soft, policy) or complained, the rates over the
 * deliveries, and the complaint rate flagged at 0.3% (Gmail and Yahoo's
 * limit for bulk senders).  *over counts the flagged days.
 */
static int
build_feedback(struct rep *R, struct tab *t, uint64_t *over)
{
	struct fbday **days;
	struct cell *row;
	size_t nd;
	int rc = -1;

	*over = 0;
	if (report_feedback_days(R, &days, &nd) == -1)
		return -1;
	for (size_t i = 0; i < nd; i++) {
		const struct fbday *d = days[i];
		char buf[32];
		rstr s;
		int flag;

		time_format(d->day * 86400, buf, sizeof(buf));
		buf[10] = '\0';
		if ((row = tab_row(R, t)) == NULL || rep_str(R, buf, &s) == -1)
			goto out;
		cell_str(&row[FB_LIST], R->syms[d->list]->s);
		cell_str(&row[FB_DAY], s);
		row[FB_DELIVERED].v = (int64_t)d->delivered;
		row[FB_HARD].v = (int64_t)d->n[FE_HARD];
		row[FB_SOFT].v = (int64_t)d->n[FE_SOFT];
		row[FB_POLICY].v = (int64_t)d->n[FE_POLICY];
		row[FB_COMPLAINTS].v = (int64_t)d->n[FE_COMPLAINT];
		if (rate(R, &row[FB_BOUNCE_RATE], d->n[FE_HARD] + d->n[FE_SOFT] +
		    d->n[FE_POLICY], d->delivered) == -1 ||
		    rate(R, &row[FB_COMPLAINT_RATE], d->n[FE_COMPLAINT],
		    d->delivered) == -1)
			goto out;
		flag = d->n[FE_COMPLAINT] > 0 && d->n[FE_COMPLAINT] * 1000000 >=
		    d->delivered * FB_COMPLAINT_LIMIT_PPM;
		row[FB_OVER].v = flag;
		*over += (uint64_t)flag;
	}
	rc = 0;
out:
	free(days);
	return rc;
}

/* kv_add - one summary figure; past NKV they are dropped (a bug, not input). */
static void
kv_add(struct out *o, const char *name, const char *title, int type,
    int64_t v, int null)
{
	if (o->nkv < NKV) {
		o->kv[o->nkv].name = name;
		o->kv[o->nkv].title = title;
		o->kv[o->nkv].type = type;
		o->kv[o->nkv].v = v;
		o->kv[o->nkv].null = null;
		o->nkv++;
	}
}

/* A summary figure that is a count: name, title, where it is in struct rep. */
#define COUNT(name, title, field) \
	kv_add(o, name, title, C_INT, (int64_t)R->field, 0)

/* build_summary - the figures, in the order every form shows them. */
static void
build_summary(struct rep *R, struct out *o)
{
	o->violations = R->nviol;
	o->late = R->late2;
	COUNT("decisions", "decisions", ndec);
	COUNT("messages", "messages (queue ids)", nmsg);
	COUNT("noqueue", "decisions before queueing (NOQUEUE)", noqueue);
	COUNT("torn_lines", "torn lines ignored", torn);
	kv_add(o, "audit_first", "audit from", C_TIMEMS, R->audit_first,
	    R->audit_first < 0);
	kv_add(o, "audit_last", "audit to", C_TIMEMS, R->audit_last,
	    R->audit_first < 0);
	kv_add(o, "maillog", "mail log read", C_BOOL, R->maillog, 0);
	kv_add(o, "maillog_first", "mail log from", C_TIME, R->log_first,
	    R->log_first < 0);
	kv_add(o, "maillog_last", "mail log to", C_TIME, R->log_last,
	    R->log_first < 0);
	COUNT("sent", "deliveries (status=sent)", sent);
	COUNT("bounced", "bounced", bounced);
	COUNT("deferred", "deferred", deferred);
	COUNT("sent_matched", "deliveries joined to a decision", matched);
	COUNT("notices", "deliveries of Postfix's own notices (not judged)",
	    notices);
	COUNT("before_audit", "deliveries of mail received before the audit "
	    "(not judged)", unjudged);
	COUNT("held", "deliveries to the holding mailbox of a redirect", held);
	COUNT("unsubscribes", "unsubscribes seen as evidence", nunsub);
	COUNT("late_2_days", "unsubscribes honoured after 2 days", late2);
	COUNT("late_10_business_days", "unsubscribes honoured after 10 "
	    "business days", late10);
	COUNT("delivered_to_denied", "violations: delivered to denied",
	    nkind[K_DENIED]);
	COUNT("no_decision_recipient", "violations: recipient without "
	    "decision", nkind[K_NORCPT]);
	COUNT("no_decision_message", "violations: message without decision",
	    nkind[K_NOMSG]);
	COUNT("violations", "violations", nviol);
	kv_add(o, "compliant", "compliant", C_BOOL, R->nviol == 0 &&
	    R->late2 == 0, 0);
	COUNT("feedback_lines", "feedback lines counted (consentctl feedback)",
	    nfbev);
	COUNT("complaints", "complaints (ARF abuse, applied)", ncomplaint);
	kv_add(o, "complaint_days_over", "list-days with complaints at 0.3% "
	    "or more", C_INT, (int64_t)o->complaint_over, 0);
}

#undef COUNT

int
report_tab_build(struct rep *R, struct out *o)
{
	memset(o, 0, sizeof(*o));
	o->generated = R->c->now;
	for (int i = 0; i < NTAB; i++) {
		o->t[i].cols = spec[i].c;
		o->t[i].ncol = spec[i].n;
		o->t[i].name = spec[i].name;
		o->t[i].title = spec[i].title;
	}
	if (build_inputs(R, &o->t[T_INPUT]) == -1 || build_syms(R, o) == -1 ||
	    build_days(R, &o->t[T_DAY]) == -1 ||
	    build_viol(R, &o->t[T_VIOL]) == -1 ||
	    build_honour(R, &o->t[T_HONOUR]) == -1 ||
	    build_feedback(R, &o->t[T_FEEDBACK], &o->complaint_over) == -1)
		return -1;
	build_summary(R, o);
	return 0;
}

void
report_tab_free(struct out *o)
{
	if (o == NULL)
		return;
	for (int i = 0; i < NTAB; i++) {
		free(o->t[i].cells);
		o->t[i].cells = NULL;
	}
}

/* fmt_dur - seconds as "3d 02h 00m" into buf. */
static char *
fmt_dur(int64_t s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%" PRId64 "d %02" PRId64 "h %02" PRId64 "m",
		    s / 86400, s % 86400 / 3600, s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRId64 "h %02" PRId64 "m", s / 3600,
		    s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRId64 "m %02" PRId64 "s", s / 60,
		    s % 60);
	return buf;
}

struct util_str
report_tab_text(const struct col *col, const struct cell *c, char *buf,
    size_t len)
{
	struct util_str r = { buf, 0 };

	if (c->null) {
		r.p = "-";
		r.n = 1;
		return r;
	}
	switch (col->type) {
	case C_STR:
		r.p = c->n > 0 ? c->s : "-";
		r.n = c->n > 0 ? c->n : 1;
		return r;
	case C_INT:
		snprintf(buf, len, "%" PRId64, c->v);
		break;
	case C_BOOL:
		snprintf(buf, len, "%s", c->v ? "YES" : "no");
		break;
	case C_TIME:
		time_format(c->v, buf, len);
		break;
	case C_TIMEMS:
		time_format_ms(c->v, buf, len);
		break;
	case C_DUR:
		if (c->v == 0)
			snprintf(buf, len, "0");
		else
			fmt_dur(c->v, buf, len);
		break;
	}
	r.n = strlen(buf);
	return r;
}

void
report_tab_kv_text(const struct kv *kv, char *buf, size_t len)
{
	if (kv->null)
		snprintf(buf, len, "-");
	else if (kv->type == C_INT)
		snprintf(buf, len, "%" PRId64, kv->v);
	else if (kv->type == C_BOOL)
		snprintf(buf, len, "%s", kv->v ? "yes" : "no");
	else if (kv->type == C_TIMEMS)
		time_format_ms(kv->v, buf, len);
	else
		time_format(kv->v, buf, len);
}
