/*
 * report_audit.c - the audit report's first stage: every decision of the
 * audit logs into the model (rep.h), tallied by verdict, reason, list and
 * day as it is read, and every unsubscribe a decision rests on noted for
 * the time to honour.  Audit logs are read before any mail log, so that
 * each mail log line can be judged as it is read.
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

/*
 * dec_new - a fresh decision from the current block (arena-owned),
 * numbered R->decn - 1; NULL out of memory (or past 2^32 - 2 of them).
 */
static struct dec *
dec_new(struct rep *R)
{
	struct decblock *b = R->blocks;

	if (R->decn == UINT32_MAX - 1)
		return NULL;
	if (b == NULL || b->n == DECBLOCK) {
		if (R->ndecblk == R->decblkcap) {
			size_t cap = R->decblkcap ? R->decblkcap * 2 : 64;
			struct decblock **v = realloc(R->decblk,
			    cap * sizeof(*v));

			if (v == NULL)
				return NULL;
			R->decblk = v;
			R->decblkcap = cap;
		}
		if ((b = arena_alloc(&R->a, sizeof(*b))) == NULL)
			return NULL;
		b->n = 0;
		b->next = R->blocks;
		R->blocks = b;
		R->decblk[R->ndecblk++] = b;
	}
	R->decn++;
	return &b->d[b->n++];
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
 * unsub_add - note an unsubscribe shown as evidence, once per recipient,
 * list and time.
 */
static int
unsub_add(struct rep *R, struct dec *d, rstr rcpt, uint32_t list,
    uint32_t source)
{
	struct rcpt *r = rep_rcpt(R, rcpt, htab_hash(rcpt.p, rcpt.n));
	struct unsub *u;

	if (r == NULL)
		return rep_oom(R);
	for (u = r->unsubs; u != NULL; u = u->next)
		if (u->list == list && u->when == d->ev_time)
			return 0;
	if ((u = arena_alloc(&R->a, sizeof(*u))) == NULL)
		return rep_oom(R);
	memset(u, 0, sizeof(*u));
	u->r = r;
	u->ev = d;
	u->when = d->ev_time;
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

/* attach - d to its message (none for NOQUEUE); 0 / -1 out of memory. */
static int
attach(struct rep *R, struct dec *d, const struct audit_fields *f, int file)
{
	struct msg *m;
	uint32_t mn;

	if (f->qid.n == 7 && memcmp(f->qid.p, "NOQUEUE", 7) == 0) {
		R->noqueue++;
		return 0;
	}
	if ((m = rep_msg_of(R, f->qid, &mn)) == NULL)
		return rep_oom(R);
	if (m->ndec++ == 0) {
		R->nmsg++;
		m->flags |= M_AUDIT;
	}
	if (m->mid_n == 0 && f->msgid.n > 0) {
		rstr id = rep_trim(f->msgid);

		if (id.n > 0 && rep_msgid_set(R, m, id, file) == -1)
			return -1;
	}
	/* d is the newest decision: numbered R->decn - 1. */
	d->mi = mn + 1;
	d->next = m->decs;
	m->decs = R->decn;
	if (R->tris[d->tri]->outcome == R->s_redirected)
		m->flags |= M_REDIRECT;
	return 0;
}

/*
 * evidence - the record d rests on: its time, and an unsubscribe noted
 * for the time to honour; 0, or -1 with err.
 */
static int
evidence(struct rep *R, struct dec *d, const struct audit_fields *f)
{
	uint32_t src = 0, evk, evv;

	if (f->ev_kind.n == 0)
		return 0;
	if (f->ev_time.n > 0) {
		int64_t ev;

		if (time_rfc3339_ms(&R->tm, f->ev_time.p, f->ev_time.n,
		    &ev) == -1)
			return util_fail(R->err, R->errlen,
			    "\"ev_time\" is not an RFC 3339 time");
		d->ev_time = ev / 1000;
		d->flags |= D_EV;
	}
	if (sym_field(R, SF_EVKIND, f->ev_kind, &evk) == -1 ||
	    sym_field(R, SF_EVVALUE, f->ev_value, &evv) == -1 ||
	    sym_field(R, SF_EVSOURCE, f->ev_source, &src) == -1)
		return -1;
	if (!(d->flags & D_EV))
		return 0;
	if (evk == R->s_consent && evv == R->s_unsub)
		return unsub_add(R, d, f->rcpt, d->list, src);
	if (evk == R->s_suppression && evv == R->s_unsub_all)
		return unsub_add(R, d, f->rcpt, ALL_LISTS, src);
	return 0;
}

/*
 * decision - take one scanned line; 0, or -1 with err (the caller adds
 * where).
 */
static int
decision(struct rep *R, struct audit_fields *f, int file, unsigned long lineno)
{
	struct dec *d;
	int64_t t;

	if (f->t.p == NULL)
		return util_fail(R->err, R->errlen, "no \"t\"");
	if (time_rfc3339_ms(&R->tm, f->t.p, f->t.n, &t) == -1)
		return util_fail(R->err, R->errlen,
		    "\"t\" is not an RFC 3339 time");
	if (R->audit_first < 0 || t < R->audit_first)
		R->audit_first = t;
	if (t > R->audit_last)
		R->audit_last = t;
	if (rep_eq(f->type, "feedback"))
		return report_feedback_line(R, f);	/* consentctl feedback */
	if (f->type.p != NULL)
		return 0;	/* "open", or a kind of line not reported on */
	if (f->qid.n == 0)
		return util_fail(R->err, R->errlen, "no \"qid\"");
	if (f->rcpt.n == 0)
		return util_fail(R->err, R->errlen, "no \"rcpt\"");
	if (f->verdict.n == 0)
		return util_fail(R->err, R->errlen, "no \"verdict\"");
	if ((d = dec_new(R)) == NULL)
		return rep_oom(R);
	memset(d, 0, sizeof(*d));
	d->t_ms = t;
	d->file = (uint16_t)file;
	d->line = (uint32_t)lineno;
	if (tally(R, d, f) == -1)
		return -1;
	/* A pseudonym in 16 octets rather than 34 and a pointer. */
	if (rep_pseudo_bin(f->rcpt, d->rk.bin))
		d->flags |= D_BIN;
	else {
		d->rk.s = f->rcpt;
		if (rep_keep(R, &d->rk.s) == -1)
			return -1;
	}
	if (!R->have_pseudo && is_pseudonym(f->rcpt))
		R->have_pseudo = 1;
	if (attach(R, d, f, file) == -1)
		return -1;
	return evidence(R, d, f);
}

/*
 * scratch_need - a scratch buffer of at least n octets for decoded strings;
 * 0 / -1.
 */
static int
scratch_need(struct rep *R, size_t n)
{
	char *s;

	if (n <= R->scratchcap)
		return 0;
	n = n < 65536 ? 65536 : n * 2;
	/* Strings in the scratch were copied out by rep_keep(). */
	if ((s = malloc(n)) == NULL)
		return rep_oom(R);
	free(R->scratch);
	R->scratch = s;
	R->scratchcap = n;
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

int
report_audit_load(struct rep *R, int file)
{
	struct input *in = &R->in[file];
	struct audit_fields f;
	const char *line, *b;
	char why[256];
	size_t len;
	int nl, rc;
	off_t start = 0;
	uint64_t off;

	/* A line's place is where it is in the file: standard input may be
	 * a file opened by the shell and partly read before us. */
	if (in->regular && (start = lseek(in->fd, 0, SEEK_CUR)) == -1) {
		in->regular = 0;
		start = 0;
	}
	off = (uint64_t)start;
	lines_reset(&R->rd, in->fd);
	while ((rc = lines_next(&R->rd, &line, &len, &nl)) == 1) {
		in->lines++;
		in->line_off = off;
		off += len + (nl != 0);
		for (b = line; b < line + len && (IS_WS(*b)); b++)
			;
		if (b == line + len)
			continue;	/* a blank line: nothing to say */
		if (scratch_need(R, len) == -1)
			return -1;
		if (audit_scan(line, len, R->scratch, R->scratchcap, &f, why,
		    sizeof(why)) == -1) {
			if (refused(R, in, line, len, nl, why) == -1)
				return -1;
			if (!nl)
				return 0;
			continue;
		}
		if (f.type.n == 3 && memcmp(f.type.p, "gap", 3) == 0)
			ctl_err(R->c, "audit report: %s: line %lu: a gap: "
			    "decisions are missing here (audit verify says "
			    "which)", in->path, in->lines);
		if (decision(R, &f, file, in->lines) == -1) {
			char e2[512];

			util_strlcpy(e2, R->err, sizeof(e2));
			return util_fail(R->err, R->errlen, "%s: line %lu: %s",
			    in->path, in->lines, e2);
		}
		in->records++;
	}
	if (rc == -1)
		return rep_read_error(R, in);
	return 0;
}
