/*
 * report_audit.c - the audit report's reading of audit logs.  A first
 * pass notes what the merged reading needs before its first line (the
 * audit's times, pseudonyms, every unsubscribe a decision shows, the
 * feedback lines); the second takes each decision into the model (rep.h)
 * in time order with the mail log, tallied by verdict, reason, list and
 * day as it is read.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/audit_scan.h"
#include "ctl/rep.h"

/* Fields that go through sym_field(), each with a one-entry cache. */
#define SF_VERDICT	0
#define SF_REASON	1
#define SF_LIST		2
#define SF_OUTCOME	3
#define SF_EVKIND	4
#define SF_EVVALUE	5
#define SF_EVSOURCE	6

#define IS_WS(c) ((c) == ' ' || (c) == '\t' || (c) == '\r')

/* verdict_col - the tally column of verdict symbol v. */
static int
verdict_col(struct rep *R, uint32_t v)
{
	if (v == R->s_allow)
		return V_ALLOW;
	if (v == R->s_deny)
		return V_DENY;
	if (v == R->s_tempfail)
		return V_TEMPFAIL;
	return V_OTHER;
}

/* day_eq - a day of the tally matches the day number key. */
static int
day_eq(const void *item, const void *key)
{
	return ((const struct day *)item)->day == *(const int64_t *)key;
}

/* tally_day - count a decision on its UTC day; 0 / -1 out of memory. */
static int
tally_day(struct rep *R, int64_t t_ms, int col)
{
	int64_t day = t_ms / 86400000;
	uint64_t h;
	struct day *d = R->lastday;

	if (d != NULL && d->day == day) {
		d->n[col]++;
		return 0;
	}
	h = htab_mix((uint64_t)day);
	if ((d = htab_find(&R->days, h, day_eq, &day)) == NULL) {
		if ((d = arena_alloc(&R->a, sizeof(*d))) == NULL)
			return rep_oom(R);
		memset(d, 0, sizeof(*d));
		d->day = day;
		if (htab_put(&R->days, h, d) == -1)
			return rep_oom(R);
	}
	R->lastday = d;
	d->n[col]++;
	return 0;
}

/*
 * unsub_add - note an unsubscribe at when shown as evidence by the line
 * at file and line, once per recipient, list and time.
 */
static int
unsub_add(struct rep *R, int file, unsigned long line, int64_t when,
    rstr rcpt, uint32_t list, uint32_t source)
{
	struct rcpt *r = rep_rcpt(R, rcpt, htab_hash(rcpt.p, rcpt.n));
	struct unsub *u;

	if (r == NULL)
		return rep_oom(R);
	for (u = r->unsubs; u != NULL; u = u->next)
		if (u->list == list && u->when == when)
			return 0;
	if ((u = arena_alloc(&R->a, sizeof(*u))) == NULL)
		return rep_oom(R);
	memset(u, 0, sizeof(*u));
	u->r = r;
	u->ev_file = (uint16_t)file;
	u->ev_line = (uint32_t)line;
	u->when = when;
	u->list = list;
	u->source = source;
	u->next = r->unsubs;
	r->unsubs = u;
	u->all_next = R->unsubs;
	R->unsubs = u;
	R->nunsub++;
	return 0;
}

/* is_pseudonym - "h:" and 32 hex digits, as audit_pseudonym() writes. */
static int
is_pseudonym(rstr s)
{
	if (s.n != 34 || s.p[0] != 'h' || s.p[1] != ':')
		return 0;
	for (size_t i = 2; i < 34; i++)
		if (util_hexval(s.p[i]) < 0)
			return 0;
	return 1;
}

/* sym_field - rep_sym(), short-cut when the field repeats the last line's value. */
static int
sym_field(struct rep *R, int field, rstr s, uint32_t *id)
{
	const struct sym *y = R->syms[R->sc[field].id];

	if (y->s.n == s.n && (s.n == 0 || memcmp(y->s.p, s.p, s.n) == 0)) {
		*id = y->id;
		return 0;
	}
	if (rep_sym(R, s, id) == -1)
		return -1;
	R->sc[field].id = *id;
	return 0;
}

/*
 * tally - d's symbols, flags and counts from the line's fields; 0, or -1
 * out of memory.
 */
static int
tally(struct rep *R, struct dec *d, const struct audit_fields *f)
{
	uint32_t verdict, reason, outcome;
	int col;

	if (sym_field(R, SF_VERDICT, f->verdict, &verdict) == -1 ||
	    sym_field(R, SF_REASON, f->reason, &reason) == -1 ||
	    sym_field(R, SF_LIST, f->list, &d->list) == -1 ||
	    sym_field(R, SF_OUTCOME, f->outcome, &outcome) == -1 ||
	    rep_tri(R, verdict, reason, outcome, &d->tri) == -1)
		return -1;
	col = verdict_col(R, verdict);
	d->verdict = (uint8_t)col;
	if ((f->class_.n == 4 && memcmp(f->class_.p, "bulk", 4) == 0) ||
	    (f->class_.n == 0 && f->list.n > 0))
		d->flags |= D_BULK;
	if (outcome == R->s_accepted || outcome == R->s_tagged)
		d->flags |= D_OUTDELIV;
	R->syms[verdict]->as_verdict++;
	R->syms[reason]->as_reason[col]++;
	R->syms[d->list]->as_list[col]++;
	if (tally_day(R, d->t_ms, col) == -1)
		return -1;
	R->ndec++;
	return 0;
}

/*
 * attach - d (number num, made at t ms) to its message; NOQUEUE has
 * none (0, *m NULL).  0 / -1 out of memory.
 */
static int
attach(struct rep *R, struct dec *d, uint32_t num,
    const struct audit_fields *f, int file, struct msg **mp)
{
	struct msg *m;
	uint32_t mn;

	*mp = NULL;
	if (f->qid.n == 7 && memcmp(f->qid.p, "NOQUEUE", 7) == 0) {
		R->noqueue++;
		return 0;
	}
	if ((m = rep_msg_of(R, f->qid, &mn)) == NULL)
		return rep_oom(R);
	if (report_live(R, &m) == -1)
		return -1;
	if (m == NULL && (m = rep_msg_of(R, f->qid, &mn)) == NULL)
		return rep_oom(R);
	*mp = m;
	if (m->ndec++ == 0) {
		R->nmsg++;
		m->flags |= M_AUDIT;
	}
	if (m->mid_n == 0 && f->msgid.n > 0) {
		rstr id = rep_trim(f->msgid);

		if (id.n > 0 && rep_msgid_set(R, m, id, file) == -1)
			return -1;
	}
	d->mi = mn + 1;
	d->next = m->decs;
	m->decs = num + 1;
	if (R->tris[d->tri]->outcome == R->s_redirected)
		m->flags |= M_REDIRECT;
	/* Long after its removal: Postfix gave the queue id to new mail. */
	if ((m->flags & M_REMOVED) && d->t_ms > (m->removed_t + JOIN_SLACK) *
	    1000)
		m->flags &= (uint16_t)~M_REMOVED;
	if (d->t_ms > m->last_key)
		m->last_key = d->t_ms;
	/* An index made before this decision no longer holds them all. */
	if (m->x != 0 && rep_x(R, m)->idx != NULL) {
		free(rep_x(R, m)->idx);
		rep_x(R, m)->idx = NULL;
	}
	return rep_mid_index(R, m);
}

/* ev_time - the record a decision rests on: its time into d; 0 / -1 with err. */
static int
ev_time(struct rep *R, struct dec *d, const struct audit_fields *f)
{
	int64_t ev;

	if (f->ev_kind.n == 0 || f->ev_time.n == 0)
		return 0;
	if (time_rfc3339_ms(&R->tm, f->ev_time.p, f->ev_time.n, &ev) == -1)
		return util_fail(R->err, R->errlen,
		    "\"ev_time\" is not an RFC 3339 time");
	d->ev_time = ev / 1000;
	d->flags |= D_EV;
	return 0;
}

/*
 * decision - take one scanned line made at t (ms); 0, or -1 with err
 * (the caller adds where).
 */
static int
decision(struct rep *R, struct audit_fields *f, int64_t t, int file,
    unsigned long lineno)
{
	struct dec *d;
	struct msg *m;
	uint32_t num;

	if (f->type.p != NULL)
		return 0;	/* "open", feedback (the first pass's), others */
	if (f->qid.n == 0)
		return util_fail(R->err, R->errlen, "no \"qid\"");
	if (f->rcpt.n == 0)
		return util_fail(R->err, R->errlen, "no \"rcpt\"");
	if (f->verdict.n == 0)
		return util_fail(R->err, R->errlen, "no \"verdict\"");
	if ((d = rep_dec_new(R, &num)) == NULL)
		return rep_oom(R);
	d->t_ms = t;
	d->file = (uint16_t)file;
	d->line = (uint32_t)lineno;
	/* A pseudonym in 16 octets rather than 34 and a pointer. */
	if (rep_pseudo_bin(f->rcpt, d->rk.bin))
		d->flags |= D_BIN;
	else if ((d->rk.s.p = rep_dup(f->rcpt.p, f->rcpt.n)) == NULL) {
		rep_dec_drop(R, d, num);
		return rep_oom(R);
	} else
		d->rk.s.n = f->rcpt.n;
	if (tally(R, d, f) == -1 || attach(R, d, num, f, file, &m) == -1 ||
	    ev_time(R, d, f) == -1) {
		if (d->mi == 0)
			rep_dec_drop(R, d, num);	/* else m's, freed with it */
		return -1;
	}
	/* Before queueing: no delivery can join to it. */
	return m == NULL ? report_retire_dec(R, NULL, d, num) : 0;
}

/*
 * scratch_need - in's scratch buffer for decoded strings, at least n
 * octets; 0 / -1.
 */
static int
scratch_need(struct rep *R, struct input *in, size_t n)
{
	char *s;

	if (n <= in->scratchcap)
		return 0;
	n = n < 65536 ? 65536 : n * 2;
	/* Nothing in the scratch outlives its line. */
	if ((s = malloc(n)) == NULL)
		return rep_oom(R);
	free(in->scratch);
	in->scratch = s;
	in->scratchcap = n;
	return 0;
}

/*
 * refused - a line the scanner refused: a torn line is said and skipped
 * (1), anything else is an error (-1 with err).
 */
static int
refused(struct rep *R, struct input *in, const char *line, size_t len,
    int nl, const char *why)
{
	if (!nl) {
		/* Cut short by a crash: never written so. */
		R->torn++;
		ctl_err(R->c, "audit report: %s: line %lu: torn last line "
		    "ignored", in->path, in->lines);
		return 1;
	}
	if (line[len - 1] == '~') {
		/* Torn, kept where the file could not be cut. */
		R->torn++;
		ctl_err(R->c, "audit report: %s: line %lu: torn line ignored "
		    "(audit verify checks it)", in->path, in->lines);
		return 1;
	}
	return util_fail(R->err, R->errlen, "%s: line %lu: malformed audit "
	    "line: %s", in->path, in->lines, why);
}

/*
 * pre_line - what the first pass notes of one scanned line; 0, or -1
 * with err (out of memory).  Lines the second pass will refuse are
 * passed over.
 */
static int
pre_line(struct rep *R, const struct audit_fields *f, int file,
    unsigned long lineno)
{
	uint32_t evk, evv, src, list;
	int64_t t, ev;

	if (f->t.p == NULL || time_rfc3339_ms(&R->tm, f->t.p, f->t.n, &t) == -1)
		return 0;
	report_order(R, &R->in[file], t);
	if (R->audit_first < 0 || t < R->audit_first)
		R->audit_first = t;
	if (t > R->audit_last)
		R->audit_last = t;
	if (rep_eq(f->type, "feedback"))
		return report_feedback_line(R, f);	/* consentctl feedback */
	if (f->type.p != NULL || f->qid.n == 0 || f->rcpt.n == 0 ||
	    f->verdict.n == 0)
		return 0;
	if (!R->have_pseudo && is_pseudonym(f->rcpt))
		R->have_pseudo = 1;
	if (f->ev_kind.n == 0 || f->ev_time.n == 0 ||
	    time_rfc3339_ms(&R->tm, f->ev_time.p, f->ev_time.n, &ev) == -1)
		return 0;
	if (sym_field(R, SF_EVKIND, f->ev_kind, &evk) == -1 ||
	    sym_field(R, SF_EVVALUE, f->ev_value, &evv) == -1 ||
	    sym_field(R, SF_EVSOURCE, f->ev_source, &src) == -1 ||
	    sym_field(R, SF_LIST, f->list, &list) == -1)
		return -1;
	if (evk == R->s_consent && evv == R->s_unsub)
		return unsub_add(R, file, lineno, ev / 1000, f->rcpt, list, src);
	if (evk == R->s_suppression && evv == R->s_unsub_all)
		return unsub_add(R, file, lineno, ev / 1000, f->rcpt, ALL_LISTS,
		    src);
	return 0;
}

/*
 * pre_plain - the first pass's short cut for the common line: a decision
 * as the milter writes it ({"v":1,"t":"...), without an escape (which
 * could hide anything), an unsubscribe or, until one is seen, what may be
 * a pseudonym: only its time matters, noted; 1.  0: scan it whole.
 */
static int
pre_plain(struct rep *R, struct input *in, const char *line, size_t len)
{
	static const char head[] = "{\"v\":1,\"t\":\"";
	const size_t hn = sizeof(head) - 1;
	const char *q, *r;
	int64_t t;

	if (len < hn + 2 || memcmp(line, head, hn) != 0 ||
	    memchr(line, '\\', len) != NULL ||
	    (!R->have_pseudo && ((r = memmem(line, len, "\"rcpt\":\"", 8)) ==
	    NULL || r + 8 == line + len || r[8] == 'h')) ||
	    memmem(line, len, "unsubscribed", 12) != NULL ||
	    (q = memchr(line + hn, '"', len - hn)) == NULL ||
	    time_rfc3339_ms(&R->tm, line + hn, (size_t)(q - line - hn),
	    &t) == -1)
		return 0;
	report_order(R, in, t);
	if (R->audit_first < 0 || t < R->audit_first)
		R->audit_first = t;
	if (t > R->audit_last)
		R->audit_last = t;
	return 1;
}

int
report_audit_pre(struct rep *R, int file, const char *line, size_t len,
    unsigned long lineno)
{
	struct input *in = &R->in[file];
	struct audit_fields f;
	char why[256];

	if (pre_plain(R, in, line, len))
		return 0;
	if (scratch_need(R, in, len) == -1)
		return -1;
	if (audit_scan(line, len, in->scratch, in->scratchcap, &f, why,
	    sizeof(why)) == -1)
		return 0;
	if (pre_line(R, &f, file, lineno) == -1) {
		char e2[512];

		util_strlcpy(e2, R->err, sizeof(e2));
		return util_fail(R->err, R->errlen, "%s: line %lu: %s",
		    in->path, lineno, e2);
	}
	return 0;
}

int
report_audit_next(struct rep *R, int file)
{
	struct input *in = &R->in[file];
	const char *line, *b;
	char why[256];
	size_t len;
	int nl, rc;
	int64_t t;

	in->head = 0;
	while ((rc = lines_next(&in->rd, &line, &len, &nl)) == 1) {
		in->lines++;
		in->line_off = in->next_off;
		in->next_off += len + (nl != 0);
		for (b = line; b < line + len && (IS_WS(*b)); b++)
			;
		if (b == line + len)
			continue;	/* a blank line: nothing to say */
		if (scratch_need(R, in, len) == -1)
			return -1;
		if (audit_scan(line, len, in->scratch, in->scratchcap, &in->af,
		    why, sizeof(why)) == -1) {
			if (refused(R, in, line, len, nl, why) == -1)
				return -1;
			if (!nl)
				return 0;
			continue;
		}
		if (in->af.type.n == 3 && memcmp(in->af.type.p, "gap", 3) == 0)
			ctl_err(R->c, "audit report: %s: line %lu: a gap: "
			    "decisions are missing here (audit verify says "
			    "which)", in->path, in->lines);
		if (in->af.t.p == NULL)
			return util_fail(R->err, R->errlen, "%s: line %lu: no "
			    "\"t\"", in->path, in->lines);
		if (time_rfc3339_ms(&R->tm, in->af.t.p, in->af.t.n, &t) == -1)
			return util_fail(R->err, R->errlen, "%s: line %lu: \"t\" "
			    "is not an RFC 3339 time", in->path, in->lines);
		in->t = t;
		return report_input_key(R, in, t);
	}
	if (rc == -1)
		return rep_read_error(R, in);
	return 0;
}

int
report_audit_take(struct rep *R, int file)
{
	struct input *in = &R->in[file];

	if (decision(R, &in->af, in->t, file, in->lines) == -1) {
		char e2[512];

		util_strlcpy(e2, R->err, sizeof(e2));
		return util_fail(R->err, R->errlen, "%s: line %lu: %s",
		    in->path, in->lines, e2);
	}
	in->records++;
	return 0;
}
