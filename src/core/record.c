/*
 * record.c - the consent record codec and its merge rules.
 *
 * Value layout, format 2 (written since issue 15), fixed integers
 * big-endian, "uv" an unsigned LEB128 varint and "sv" a zigzagged one
 * (util/bin.h), strings as u8 length and octets:
 *
 *   u8 format  u8 flags (1: has suppression)  uv nlists
 *   [suppression] u8 reason u8 source u8 flags sv created sv expires
 *                 str ref str note
 *   nlists x:     str name u8 status sv changed u8 nev
 *       nev x:    u8 status u8 source u8 flags sv (time - changed)
 *                 str ip str note
 *
 * An event's time is kept as its distance from the list's: the newest
 * event is the change itself, so that takes one octet.  Format 1, still
 * read (stores made before it are never rewritten in bulk; a value
 * becomes format 2 when it is next written), has a u16 nlists and every
 * time, the event's too, as an i64.  A typical imported address took 35
 * octets in format 1 and takes 24 in format 2.
 *
 * Lists are sorted by name, strings carry no NUL, varints are in their
 * shortest form, and nothing may follow the last list: the decoder checks
 * all of it, since a value may come from a damaged or hostile file.
 * Decoding a format 2 value and encoding it again gives the same octets.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/record.h"
#include "util/bin.h"
#include "util/util.h"

#define F_HAS_SUPP	0x01

static const char *status_names[CS_MAX_] = {
	"none", "pending", "subscribed", "confirmed", "unsubscribed"
};
static const char *reason_names[SR_MAX_] = {
	"none", "unsubscribed_all", "hard_bounce", "complaint", "invalid",
	"manual", "soft_bounce"
};
static const char *source_names[SRC_MAX_] = {
	"unknown", "form", "import", "api", "one-click", "mailto", "admin",
	"bounce", "complaint", "double-opt-in"
};

static const char *
name_of(const char **names, int n, int v)
{
	return v >= 0 && v < n ? names[v] : "?";
}

static int
parse_name(const char **names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

const char *record_status_name(int v) { return name_of(status_names, CS_MAX_, v); }
const char *record_reason_name(int v) { return name_of(reason_names, SR_MAX_, v); }
const char *record_source_name(int v) { return name_of(source_names, SRC_MAX_, v); }
int record_status_parse(const char *s) { return parse_name(status_names, CS_MAX_, s); }
int record_reason_parse(const char *s) { return parse_name(reason_names, SR_MAX_, s); }
int record_source_parse(const char *s) { return parse_name(source_names, SRC_MAX_, s); }

int
record_supp_sticky(int reason)
{
	return reason == SR_HARD_BOUNCE || reason == SR_COMPLAINT ||
	    reason == SR_INVALID;
}

void
subject_init(struct subject *s)
{
	memset(s, 0, sizeof(*s));
}

void
subject_clear(struct subject *s)
{
	if (s == NULL)
		return;
	free(s->lists);
	/* What a reader looks at first; the rest is rewritten before use. */
	s->lists = NULL;
	s->nlists = 0;
	s->has_supp = 0;
	memset(&s->supp, 0, sizeof(s->supp));
}

int
record_list_check(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (n == 0) {
		snprintf(err, errlen, "list name is empty");
		return -1;
	}
	if (n > REC_LIST_MAX) {
		snprintf(err, errlen, "list name is longer than %d octets",
		    REC_LIST_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_')) {
			if (c > 0x20 && c < 0x7f)
				snprintf(err, errlen, "list name may hold only a-z, "
				    "0-9, '.', '-' and '_' (found %s'%c')",
				    c >= 'A' && c <= 'Z' ? "uppercase " : "", c);
			else
				snprintf(err, errlen, "list name may hold only a-z, "
				    "0-9, '.', '-' and '_' (found %s)", c == ' ' ?
				    "a space" : "a byte that is not ASCII text");
			return -1;
		}
	}
	return 0;
}

int
record_list_norm(const char *in, char *out, char *err, size_t errlen)
{
	size_t n = strlen(in);

	if (n > REC_LIST_MAX) {
		snprintf(err, errlen, "list name is longer than %d octets",
		    REC_LIST_MAX);
		return -1;
	}
	for (size_t i = 0; i <= n; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? in[i] - 'A' + 'a' : in[i];
	return record_list_check(out, err, errlen);
}

/* --- encoder ------------------------------------------------------------ */

/*
 * time_delta - t - base, and time_add its inverse, in wrapping 64-bit
 * arithmetic: every pair of times has a delta, even a hostile one, and
 * time_add(base, time_delta(t, base)) is t.
 */
static int64_t
time_delta(int64_t t, int64_t base)
{
	return (int64_t)((uint64_t)t - (uint64_t)base);
}

static int64_t
time_add(int64_t base, int64_t delta)
{
	return (int64_t)((uint64_t)base + (uint64_t)delta);
}

/*
 * The writer runs twice: once without a buffer, to measure, then into a
 * buffer of that size (LMDB's own, with MDB_RESERVE): no copy, no growth.
 * It writes only the newest format.
 */
int
record_encode_into(const struct subject *s, unsigned char *buf, size_t cap,
    size_t *lenp)
{
	struct bin_w w = { buf, 0, cap, 0 };

	if (s->nlists > REC_LISTS_MAX) {
		errno = E2BIG;
		return -1;
	}
	bin_put_u8(&w, REC_FORMAT);
	bin_put_u8(&w, s->has_supp ? F_HAS_SUPP : 0);
	bin_put_uvarint(&w, s->nlists);
	if (s->has_supp) {
		const struct suppression *sp = &s->supp;

		bin_put_u8(&w, sp->reason);
		bin_put_u8(&w, sp->source);
		bin_put_u8(&w, sp->flags);
		bin_put_svarint(&w, sp->created);
		bin_put_svarint(&w, sp->expires);
		bin_put_str(&w, sp->ref, REC_REF_MAX);
		bin_put_str(&w, sp->note, REC_NOTE_MAX);
	}
	for (unsigned i = 0; i < s->nlists; i++) {
		const struct list_consent *lc = &s->lists[i];

		if (lc->nev == 0 || lc->nev > REC_EVENTS_MAX)
			w.bad = 1;
		bin_put_str(&w, lc->list, REC_LIST_MAX);
		bin_put_u8(&w, lc->status);
		bin_put_svarint(&w, lc->changed);
		bin_put_u8(&w, lc->nev);
		for (unsigned k = 0; k < lc->nev && k < REC_EVENTS_MAX; k++) {
			const struct evidence *ev = &lc->ev[k];

			bin_put_u8(&w, ev->status);
			bin_put_u8(&w, ev->source);
			bin_put_u8(&w, ev->flags);
			bin_put_svarint(&w, time_delta(ev->time, lc->changed));
			bin_put_str(&w, ev->ip, REC_IP_MAX);
			bin_put_str(&w, ev->note, REC_NOTE_MAX);
		}
	}
	if (w.bad) {
		errno = EINVAL;
		return -1;
	}
	*lenp = w.len;
	return 0;
}

int
record_encode(const struct subject *s, unsigned char **bufp, size_t *lenp)
{
	size_t len;

	if (record_encode_into(s, NULL, 0, &len) == -1)
		return -1;
	if ((*bufp = malloc(len)) == NULL)
		return -1;
	if (record_encode_into(s, *bufp, len, lenp) == -1) {
		free(*bufp);
		return -1;
	}
	return 0;
}

/* --- decoder ------------------------------------------------------------ */

static void
r_enum(struct bin_r *r, uint8_t *dst, unsigned lo, unsigned max, const char *what)
{
	unsigned v = bin_u8(r, what);

	if (r->why == NULL && (v < lo || v >= max))
		r->why = what;
	*dst = (uint8_t)v;
}

/*
 * r_header - format, flags, list count; shared by decode and peek.  *fmtp
 * is the value's format, 1 or 2, for the reads that differ.
 */
static int
r_header(struct bin_r *r, unsigned *fmtp, unsigned *flags, unsigned *nlists,
    char *err, size_t errlen)
{
	unsigned fmt = bin_u8(r, "format");
	uint64_t n;

	if (r->why == NULL && (fmt == 0 || fmt > REC_FORMAT)) {
		if (fmt > REC_FORMAT)
			snprintf(err, errlen, "record format %u is newer than "
			    "this build reads (%d): upgrade consent-milter",
			    fmt, REC_FORMAT);
		else
			snprintf(err, errlen, "unknown record format %u", fmt);
		return -1;
	}
	*fmtp = fmt;
	*flags = bin_u8(r, "flags");
	n = fmt == 1 ? bin_u16(r, "list count") : bin_uvarint(r, "list count");
	if (r->why == NULL && (*flags & ~F_HAS_SUPP))
		r->why = "flags";
	if (r->why == NULL && n > REC_LISTS_MAX)
		r->why = "list count";
	if (r->why != NULL) {
		snprintf(err, errlen, "corrupt record: bad %s", r->why);
		return -1;
	}
	*nlists = (unsigned)n;
	return 0;
}

/* r_time - a time: an i64 in format 1, an svarint since. */
static int64_t
r_time(struct bin_r *r, unsigned fmt, const char *what)
{
	return fmt == 1 ? bin_i64(r, what) : bin_svarint(r, what);
}

/* r_ev_time - an event's time: format 2 keeps its distance from changed. */
static int64_t
r_ev_time(struct bin_r *r, unsigned fmt, int64_t changed, const char *what)
{
	return fmt == 1 ? bin_i64(r, what) :
	    time_add(changed, bin_svarint(r, what));
}

static void
r_supp(struct bin_r *r, unsigned fmt, struct suppression *sp)
{
	r_enum(r, &sp->reason, 1, SR_MAX_, "suppression reason");
	r_enum(r, &sp->source, 0, SRC_MAX_, "suppression source");
	sp->flags = (uint8_t)bin_u8(r, "suppression flags");
	sp->created = r_time(r, fmt, "suppression time");
	sp->expires = r_time(r, fmt, "suppression expiry");
	bin_copy(r, sp->ref, REC_REF_MAX, "suppression reference");
	bin_copy(r, sp->note, REC_NOTE_MAX, "suppression note");
}

/*
 * r_list - one list's consent into lc, checked as a whole: its name, its
 * place after prev (the list before it, NULL for the first), every enum
 * and the event count.  Shared by decode and peek, so they refuse alike.
 */
static void
r_list(struct bin_r *r, unsigned fmt, struct list_consent *lc,
    const char *prev)
{
	char lerr[128];

	bin_copy(r, lc->list, REC_LIST_MAX, "list name");
	if (r->why == NULL && record_list_check(lc->list, lerr, sizeof(lerr)))
		r->why = "list name";
	if (r->why == NULL && prev != NULL && strcmp(prev, lc->list) >= 0)
		r->why = "list order";
	r_enum(r, &lc->status, 1, CS_MAX_, "consent status");
	lc->changed = r_time(r, fmt, "consent time");
	lc->nev = bin_u8(r, "event count");
	if (r->why == NULL && (lc->nev == 0 || lc->nev > REC_EVENTS_MAX))
		r->why = "event count";
	for (unsigned k = 0; k < lc->nev && r->why == NULL; k++) {
		struct evidence *ev = &lc->ev[k];

		r_enum(r, &ev->status, 1, CS_MAX_, "event status");
		r_enum(r, &ev->source, 0, SRC_MAX_, "event source");
		ev->flags = (uint8_t)bin_u8(r, "event flags");
		ev->time = r_ev_time(r, fmt, lc->changed, "event time");
		bin_copy(r, ev->ip, REC_IP_MAX, "event ip");
		bin_copy(r, ev->note, REC_NOTE_MAX, "event note");
	}
}

int
record_decode(const void *buf, size_t len, struct subject *s, char *err,
    size_t errlen)
{
	struct bin_r r = { buf, len, 0, NULL };
	unsigned fmt = 0, flags = 0, nlists = 0;

	subject_clear(s);
	if (r_header(&r, &fmt, &flags, &nlists, err, errlen) == -1)
		return -1;
	if (flags & F_HAS_SUPP) {
		s->has_supp = 1;
		r_supp(&r, fmt, &s->supp);
	}
	if (nlists > 0 && r.why == NULL &&
	    (s->lists = calloc(nlists, sizeof(*s->lists))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < nlists && r.why == NULL; i++) {
		r_list(&r, fmt, &s->lists[i], i > 0 ? s->lists[i - 1].list : NULL);
		s->nlists = i + 1;
	}
	if (r.why == NULL && r.off != r.len)
		r.why = "trailing data";
	if (r.why != NULL) {
		snprintf(err, errlen, "corrupt record: bad %s", r.why);
		subject_clear(s);
		return -1;
	}
	return 0;
}

/*
 * record_peek reads the whole value with decode's own readers, into two
 * list buffers on the stack (the one read and the one before it, for the
 * order): a value decode refuses is refused here too, wherever the damage
 * is, so a damaged tail never reads as a consent or as no suppression.
 */
int
record_peek(const void *buf, size_t len, const char *list, int *has_supp,
    struct supp_view *sv, int *has_consent, struct consent_view *cv)
{
	struct bin_r r = { buf, len, 0, NULL };
	unsigned fmt = 0, flags = 0, nlists = 0;
	struct list_consent lc[2];
	struct suppression sp;
	char err[128];
	int found = 0;

	*has_supp = *has_consent = 0;
	if (r_header(&r, &fmt, &flags, &nlists, err, sizeof(err)) == -1)
		return -1;
	if (flags & F_HAS_SUPP) {
		r_supp(&r, fmt, &sp);
		sv->reason = sp.reason;
		sv->source = sp.source;
		sv->created = sp.created;
		sv->expires = sp.expires;
		*has_supp = r.why == NULL;
	}
	for (unsigned i = 0; i < nlists && r.why == NULL; i++) {
		struct list_consent *cur = &lc[i % 2];

		r_list(&r, fmt, cur, i > 0 ? lc[(i + 1) % 2].list : NULL);
		if (r.why == NULL && !found && strcmp(cur->list, list) == 0) {
			/* The newest event is the last one; its source is the current. */
			cv->status = cur->status;
			cv->changed = cur->changed;
			cv->source = cur->ev[cur->nev - 1].source;
			found = 1;
		}
	}
	if (r.why == NULL && r.off != r.len)
		r.why = "trailing data";
	if (r.why != NULL)
		return -1;
	*has_consent = found;
	return 0;
}

/* --- merge rules -------------------------------------------------------- */

struct list_consent *
record_find_list(const struct subject *s, const char *list)
{
	for (unsigned i = 0; i < s->nlists; i++)
		if (strcmp(s->lists[i].list, list) == 0)
			return &s->lists[i];
	return NULL;
}

/* add_list - a new, empty entry for list, in sorted position; NULL on error. */
static struct list_consent *
add_list(struct subject *s, const char *list)
{
	struct list_consent *nl;
	unsigned at = 0;

	if (s->nlists >= REC_LISTS_MAX) {
		errno = E2BIG;
		return NULL;
	}
	if ((nl = realloc(s->lists, (s->nlists + 1) * sizeof(*nl))) == NULL)
		return NULL;
	s->lists = nl;
	while (at < s->nlists && strcmp(nl[at].list, list) < 0)
		at++;
	memmove(&nl[at + 1], &nl[at], (s->nlists - at) * sizeof(*nl));
	s->nlists++;
	/* Only the header: events are written as they are pushed. */
	nl[at].status = CS_NONE;
	nl[at].changed = 0;
	nl[at].nev = 0;
	util_strlcpy(nl[at].list, list, sizeof(nl[at].list));
	return &nl[at];
}

/* push_event - the first change of a list: its origin and its status. */
static void
push_event(struct list_consent *lc, const struct evidence *ev)
{
	lc->ev[lc->nev++] = *ev;
	lc->status = ev->status;
	lc->changed = ev->time;
}

/* tie_rank - which of two changes at the same second wins: the higher. */
static int
tie_rank(int status)
{
	switch (status) {
	case CS_UNSUBSCRIBED:	return 4;
	case CS_CONFIRMED:	return 3;
	case CS_PENDING:	return 2;
	default:		return 1;
	}
}

/*
 * ev_cmp - the one order of changes, oldest first: by time, then the
 * stronger at a tie, then every other field, so that any set of changes
 * has one order whatever order it came in.  An undated opt-in counts as
 * older than every dated change (a known time beats one we never knew).
 */
static int
ev_cmp(const struct evidence *a, const struct evidence *b)
{
	int64_t ta = (a->flags & REC_F_TIME_UNKNOWN) &&
	    a->status != CS_UNSUBSCRIBED ? INT64_MIN : a->time;
	int64_t tb = (b->flags & REC_F_TIME_UNKNOWN) &&
	    b->status != CS_UNSUBSCRIBED ? INT64_MIN : b->time;
	int c;

	if (ta != tb)
		return ta < tb ? -1 : 1;
	if (tie_rank(a->status) != tie_rank(b->status))
		return tie_rank(a->status) < tie_rank(b->status) ? -1 : 1;
	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	if (a->source != b->source)
		return a->source < b->source ? -1 : 1;
	if (a->flags != b->flags)
		return a->flags < b->flags ? -1 : 1;
	if ((c = strcmp(a->ip, b->ip)) != 0)
		return c;
	return strcmp(a->note, b->note);
}

/*
 * derive - the list's status from its changes: the newest one's, but a
 * single opt-in or a new request after a confirmation (and no
 * unsubscribe since) keeps it confirmed.
 */
static void
derive(struct list_consent *lc)
{
	const struct evidence *last = &lc->ev[lc->nev - 1];
	int confirmed = 0;

	for (unsigned k = 0; k < lc->nev; k++)
		if (lc->ev[k].status == CS_CONFIRMED)
			confirmed = 1;
		else if (lc->ev[k].status == CS_UNSUBSCRIBED)
			confirmed = 0;
	lc->status = last->status;
	lc->changed = last->time;
	if (confirmed && (last->status == CS_PENDING ||
	    last->status == CS_SUBSCRIBED))
		lc->status = CS_CONFIRMED;
}

/*
 * evict - over the bound, drop the oldest change that no rule needs: the
 * origin stays (the first evidence), and so do the newest unsubscribe and
 * the newest confirmation (derive reads them) and the newest change.
 * Changes that lose their place never become needed again, so what stays
 * is the same whatever order the changes came in.
 */
static void
evict(struct evidence *v, unsigned *n)
{
	int unsub = -1, conf = -1;
	unsigned k;

	for (k = 0; k < *n; k++) {
		if (v[k].status == CS_UNSUBSCRIBED)
			unsub = (int)k;
		if (v[k].status == CS_CONFIRMED)
			conf = (int)k;
	}
	for (k = 1; k + 1 < *n; k++)
		if ((int)k != unsub && (int)k != conf)
			break;
	memmove(&v[k], &v[k + 1], (*n - k - 1) * sizeof(v[0]));
	(*n)--;
}

/*
 * insert_dated - a change (dated, or an undated unsubscribe) into the
 * list's changes, in ev_cmp's order.  The same change (time, status, source) once: of two that differ
 * only in address or note, the lower stays.  1 if anything changed.
 */
static int
insert_dated(struct list_consent *lc, const struct evidence *ev)
{
	struct evidence tmp[REC_EVENTS_MAX + 1];
	unsigned k, n = 0, skip = lc->nev;

	for (k = 0; k < lc->nev; k++) {
		const struct evidence *e = &lc->ev[k];

		if (e->time != ev->time || e->status != ev->status ||
		    e->source != ev->source || e->flags != ev->flags)
			continue;
		if (ev_cmp(ev, e) >= 0)
			return 0;
		skip = k;	/* the same change: its lower address or note */
		break;
	}
	for (k = 0; k < lc->nev && ev_cmp(&lc->ev[k], ev) < 0; k++)
		if (k != skip)
			tmp[n++] = lc->ev[k];
	tmp[n++] = *ev;
	for (; k < lc->nev; k++)
		if (k != skip)
			tmp[n++] = lc->ev[k];
	if (n > REC_EVENTS_MAX)
		evict(tmp, &n);
	/* One that the bound keeps out again changes nothing. */
	if (n == lc->nev) {
		for (k = 0; k < n && ev_cmp(&tmp[k], &lc->ev[k]) == 0; k++)
			;
		if (k == n)
			return 0;
	}
	memcpy(lc->ev, tmp, n * sizeof(tmp[0]));
	lc->nev = n;
	return 1;
}

int
record_apply_consent(struct subject *s, const char *list,
    const struct evidence *ev)
{
	struct list_consent *lc;

	if (ev->status == CS_NONE || ev->status >= CS_MAX_) {
		errno = EINVAL;
		return -1;
	}
	if ((lc = record_find_list(s, list)) == NULL) {
		if ((lc = add_list(s, list)) == NULL)
			return -1;
		push_event(lc, ev);
		return 1;
	}
	if (ev->flags & REC_F_TIME_UNKNOWN) {
		/*
		 * An undated opt-in only fills a gap; an undated unsubscribe
		 * still counts, as of when it was read (the safe way).
		 */
		if (ev->status != CS_UNSUBSCRIBED || lc->status == CS_UNSUBSCRIBED)
			return 0;
	}
	/*
	 * A dated change takes its place among the others, older ones too:
	 * the status is derived from all of them, so the same changes give
	 * the same record in any order (a fleet's replicas, imports).
	 */
	if (insert_dated(lc, ev) == 0)
		return 0;
	derive(lc);
	return 1;
}

static int
supp_same(const struct suppression *a, const struct suppression *b)
{
	return a->reason == b->reason && a->source == b->source &&
	    a->created == b->created && a->expires == b->expires &&
	    strcmp(a->ref, b->ref) == 0;
}

/* supp_end - when a suppression stops being in force; never: INT64_MAX. */
static int64_t
supp_end(const struct suppression *sp)
{
	return sp->expires == 0 ? INT64_MAX : sp->expires;
}

int
record_apply_supp(struct subject *s, const struct suppression *sp, int64_t now)
{
	const struct suppression *cur = &s->supp;
	int64_t curtime;

	if (!s->has_supp)
		goto replace;
	if (supp_same(cur, sp) || (sp->flags & REC_F_TIME_UNKNOWN))
		return 0;
	if (cur->expires != 0 && cur->expires <= now)
		goto replace;
	if (record_supp_sticky(cur->reason) != record_supp_sticky(sp->reason)) {
		if (record_supp_sticky(cur->reason))
			return 0;
		goto replace;
	}
	/* One that ends sooner never replaces one in force: an opt-out is
	 * never shortened by a later bounce or edit (unsuppress lifts it). */
	if (supp_end(sp) != supp_end(cur)) {
		if (supp_end(sp) < supp_end(cur))
			return 0;
		goto replace;
	}
	curtime = (cur->flags & REC_F_TIME_UNKNOWN) ? INT64_MIN : cur->created;
	if (sp->created <= curtime)
		return 0;
replace:
	s->has_supp = 1;
	s->supp = *sp;
	return 1;
}
