/*
 * report.c - consentctl audit report: what an auditor reads.
 *
 * Reads audit logs (one JSON line per recipient decision) and, when given,
 * Postfix mail logs; joins each delivery to its decision by queue id and
 * recipient pseudonym; reports totals, violations (mail delivered against
 * a deny, or with no decision at all) and how long each unsubscribe took
 * to be honoured, as text, JSON, CSV or one self-contained HTML page.
 *
 * Sized for millions of lines: inputs stream through one reused buffer;
 * the few strings that outlive their line are copied into an arena, where
 * every record lives; decisions hang off their message, found through an
 * open-addressing table keyed by queue id.  Audit logs are
 * read first, so every mail log line is judged as it is read; only
 * deliveries of queue ids without an audit line wait for the end (their
 * message-id, a "forwarded as" or a bounce line may come later).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/addr.h"
#include "core/audit.h"
#include "ctl/ctl.h"
#include "ctl/report.h"
#include "util/csv.h"
#include "util/enc.h"
#include "util/time.h"
#include "util/util.h"

#define ARENA_CHUNK	(8u << 20)
#define READ_CHUNK	(512u << 10)
#define DECBLOCK	8192
#define ALL_LISTS	UINT32_MAX	/* an unsubscribe from every list */
#define LATE_SECONDS	(2 * 86400)	/* Gmail and Yahoo: two days */
#define LATE_BUSINESS	10		/* CAN-SPAM: ten business days */
#define PARENT_DEPTH	16		/* "forwarded as" hops followed */

/* Verdict columns of the tallies. */
#define V_ALLOW		0
#define V_DENY		1
#define V_TEMPFAIL	2
#define V_OTHER		3
#define NV		4

/* dec.flags */
#define D_BULK		0x01
#define D_OUTDELIV	0x02	/* outcome says delivered: accepted or tagged */
#define D_EV		0x04	/* rests on a record, ev_time set */
#define D_SENT		0x08	/* the mail log shows status=sent */
#define D_LOGGED	0x10	/* a mail log line was joined to it */

/* msg.flags */
#define M_AUDIT		0x01
#define M_MAILLOG	0x02
#define M_CLEANUP	0x04
#define M_NOTICE	0x08	/* a bounce or delay notice Postfix made */
#define M_REDIRECT	0x10	/* a recipient was redirected: see hold */

/* Violation kinds, in report order. */
#define K_DENIED	0	/* delivered against a deny */
#define K_NORCPT	1	/* delivered to an undecided recipient */
#define K_NOMSG		2	/* delivered, no audit line for the queue id */

static const char *kind_names[] = {
	"delivered-to-denied", "no-decision-recipient", "no-decision-message"
};

typedef struct report_str rstr;

/* ---- memory ---- */

struct chunk {
	struct chunk *next;
	size_t	used, cap, size;	/* size: of the mapping */
};

struct arena {
	struct chunk *head;
};

/*
 * arena_alloc - n octets, 8-aligned, owned by the arena; NULL if out of
 * memory.
 */
static void *
arena_alloc(struct arena *a, size_t n)
{
	struct chunk *ch = a->head;
	char *p;

	n = (n + 7) & ~(size_t)7;
	if (ch == NULL || ch->cap - ch->used < n) {
		size_t size = n + sizeof(*ch) > ARENA_CHUNK ?
		    (n + sizeof(*ch) + 4095) & ~(size_t)4095 : ARENA_CHUNK;
		void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			return NULL;
		ch = m;
		ch->used = 0;
		ch->size = size;
		ch->cap = size - sizeof(*ch);
		ch->next = a->head;
		a->head = ch;
	}
	p = (char *)(ch + 1) + ch->used;
	ch->used += n;
	return p;
}

/* arena_free - unmap every chunk: everything the arena handed out goes. */
static void
arena_free(struct arena *a)
{
	struct chunk *ch, *next;

	for (ch = a->head; ch != NULL; ch = next) {
		next = ch->next;
		munmap(ch, ch->size);
	}
	a->head = NULL;
}

/* ---- hashing and open-addressing tables ---- */

static uint64_t
hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* hash_bytes - a 64-bit hash of n octets, a word at a time. */
static uint64_t
hash_bytes(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;

	while (n >= 8) {
		memcpy(&w, p, 8);
		h ^= w * 0x87c37b91114253d5ULL;
		h = ((h << 31) | (h >> 33)) * 0x4cf5ad432745937fULL;
		p += 8;
		n -= 8;
	}
	if (n > 0) {
		w = 0;
		memcpy(&w, p, n);
		h ^= w * 0x87c37b91114253d5ULL;
		h = ((h << 31) | (h >> 33)) * 0x4cf5ad432745937fULL;
	}
	return hash_mix(h);
}

struct slot {
	uint64_t h;
	void	*v;
};

/* Linear probing, at most half full; items are never removed. */
struct table {
	struct slot *s;
	size_t	mask, n;
};

typedef int (*eq_fn)(const void *item, const void *key);

/* table_init - size slots (a power of two), all empty; 0 / -1 out of memory. */
static int
table_init(struct table *t, size_t size)
{
	if ((t->s = calloc(size, sizeof(*t->s))) == NULL)
		return -1;
	t->mask = size - 1;
	t->n = 0;
	return 0;
}

/* table_free - the slots only: the items belong to the arena. */
static void
table_free(struct table *t)
{
	free(t->s);
	t->s = NULL;
}

/* table_find - the item with hash h that eq() matches to key, or NULL. */
static void *
table_find(const struct table *t, uint64_t h, eq_fn eq, const void *key)
{
	size_t i = (size_t)h & t->mask;

	for (;;) {
		const struct slot *s = &t->s[i];

		if (s->v == NULL)
			return NULL;
		if (s->h == h && eq(s->v, key))
			return s->v;
		i = (i + 1) & t->mask;
	}
}

/*
 * table_grow - double the slots and re-place the items; 0 / -1 out of
 * memory.
 */
static int
table_grow(struct table *t)
{
	struct slot *old = t->s;
	size_t oldsize = t->mask + 1;

	if (table_init(t, oldsize * 2) == -1) {
		t->s = old;
		t->mask = oldsize - 1;
		return -1;
	}
	for (size_t k = 0; k < oldsize; k++) {
		size_t i;

		if (old[k].v == NULL)
			continue;
		for (i = (size_t)old[k].h & t->mask; t->s[i].v != NULL;
		    i = (i + 1) & t->mask)
			;
		t->s[i] = old[k];
		t->n++;
	}
	free(old);
	return 0;
}

/* table_put - add v, known to be absent; 0 / -1 out of memory. */
static int
table_put(struct table *t, uint64_t h, void *v)
{
	size_t i;

	if ((t->n + 1) * 2 > t->mask + 1 && table_grow(t) == -1)
		return -1;
	for (i = (size_t)h & t->mask; t->s[i].v != NULL; i = (i + 1) & t->mask)
		;
	t->s[i].h = h;
	t->s[i].v = v;
	t->n++;
	return 0;
}

/* ---- the model ---- */

/* An interned short string: verdict, reason, list, outcome, source... */
struct sym {
	rstr	s;
	uint32_t id;
	uint64_t as_verdict;		/* decisions with this verdict */
	uint64_t as_reason[NV];		/* with this reason, by verdict */
	uint64_t as_list[NV];		/* on this list, by verdict */
};

struct unsub;

/* A recipient who unsubscribed, as the audit names them. */
struct rcpt {
	rstr	s;			/* pseudonym or address */
	struct unsub *unsubs;
};

struct dec;

struct pend;

/* One queue id, from the audit, the mail log or both. */
struct msg {
	rstr	qid, msgid;
	struct msg *parent;		/* "forwarded as": where it came from */
	struct msg *same_msgid;		/* next audited one with this msgid */
	struct dec *decs;		/* its decisions, newest first */
	struct dec **idx;		/* for many recipients: by recipient */
	size_t	idxmask;
	struct pend *pend;		/* deliveries waiting for the end */
	struct msg *pend_next;
	int64_t	recv;			/* cleanup time, else first log time */
	uint32_t ndec;
	uint32_t flags;
};

struct dec {
	struct msg *m;			/* NULL for NOQUEUE */
	struct dec *next;		/* the message's others */
	rstr	rcpt;			/* as the audit has it */
	uint64_t rh;			/* hash of rcpt */
	int64_t	t_ms;
	int64_t	ev_time;		/* seconds; with D_EV */
	int64_t	sent;			/* last status=sent (s); with D_SENT */
	uint32_t verdict_sym, reason, list, outcome;
	uint32_t line, sent_line;
	uint16_t file, sent_file;
	uint8_t	verdict, flags;
};

struct decblock {
	struct decblock *next;
	size_t	n;
	struct dec d[DECBLOCK];
};

struct unsub {
	struct unsub *next;		/* the recipient's others */
	struct unsub *all_next;
	struct rcpt *r;
	struct dec *ev;			/* the first decision that showed it */
	struct dec *late;		/* the last bulk delivery after it */
	int64_t	when, late_t;
	uint32_t list, source;
};

/* A delivery of a queue id without an audit line, judged at the end. */
struct pend {
	struct pend *next;
	rstr	rcpt;			/* as shown: the pseudonym when keyed */
	rstr	plain;			/* the normalised address */
	int64_t	t;
	uint32_t line;
	uint16_t file;
};

struct viol {
	int	kind;
	struct msg *m;
	struct dec *d;
	rstr	rcpt;
	int64_t	t;			/* seconds */
	uint32_t line, count;
	uint16_t file;
	int	from_log;		/* by the mail log, not the outcome */
};

struct day {
	int64_t	day;			/* days since the epoch, UTC */
	uint64_t n[NV];
};

struct input {
	const char *path;
	int	fd, maillog;
	unsigned long lines, records;
};

/* The line reader: one buffer for every file, refilled by read(2). */
struct reader {
	char	*buf;
	size_t	cap, start, end;
	int	eof;
};

struct rep {
	struct ctl *c;
	char	*err;
	size_t	errlen;
	struct arena a;
	struct table symt, msgs, rcpts, days;
	struct sym **syms;
	size_t	nsyms, symcap;
	struct decblock *blocks;
	struct input *in;
	size_t	nin;
	struct msg *pending;
	struct unsub *unsubs;
	size_t	nunsub;
	struct viol *viol;
	size_t	nviol, violcap;
	char	*scratch;
	size_t	scratchcap;
	struct reader rd;
	struct msg *lastm;		/* the last queue id seen */
	struct day *lastday;
	struct symcache { uint32_t id; } sc[7];	/* per field: the last value */

	/* The reading. */
	int64_t	audit_first, audit_last;	/* ms; audit_first < 0: none */
	int64_t	log_first, log_last;	/* seconds; log_first < 0: none */
	uint64_t ndec, nmsg, noqueue, torn, skipped;
	uint64_t sent, bounced, deferred, other, matched;
	uint64_t notices, unjudged, held, late2, late10;
	uint64_t nkind[3];
	int	maillog, have_pseudo, keyed;
	crypto_auth_hmacsha256_state hmac;
	char	hold[ADDR_MAX + 1];	/* actions.redirect_to, normalised */

	/* Well-known symbols. */
	uint32_t s_allow, s_deny, s_tempfail, s_bulk, s_accepted, s_tagged;
	uint32_t s_consent, s_suppression, s_unsub, s_unsub_all, s_open;
	uint32_t s_redirected;

	/* Caches for the time parsers: logs are in time order. */
	char	dkey[10];
	int64_t	dday;
	char	skey[9];
	int64_t	sbase;
	int	sok;
	int	ref_year, ref_mon;
};

/* oom - the error for a failed allocation; always -1. */
static int
oom(struct rep *R)
{
	return util_fail(R->err, R->errlen, "out of memory");
}

/* str_eq - a view equals a C string. */
static int
str_eq(rstr a, const char *b)
{
	size_t n = strlen(b);

	return a.n == n && memcmp(a.p, b, n) == 0;
}

static int
sym_eq(const void *item, const void *key)
{
	const struct sym *s = item;
	const rstr *k = key;

	return s->s.n == k->n && memcmp(s->s.p, k->p, k->n) == 0;
}

/* sym_get - the id of s, interning a copy of it; -1 out of memory. */
static int
sym_get(struct rep *R, rstr s, uint32_t *id)
{
	uint64_t h;
	struct sym *y;
	char *copy;

	if (s.p == NULL)
		s.p = "";	/* an absent field */
	h = hash_bytes(s.p, s.n);
	if ((y = table_find(&R->symt, h, sym_eq, &s)) != NULL) {
		*id = y->id;
		return 0;
	}

	if (R->nsyms == R->symcap) {
		size_t cap = R->symcap ? R->symcap * 2 : 64;
		struct sym **v = realloc(R->syms, cap * sizeof(*v));

		if (v == NULL)
			return oom(R);
		R->syms = v;
		R->symcap = cap;
	}
	if ((y = arena_alloc(&R->a, sizeof(*y))) == NULL ||
	    (copy = arena_alloc(&R->a, s.n + 1)) == NULL)
		return oom(R);
	memset(y, 0, sizeof(*y));
	memcpy(copy, s.p, s.n);
	copy[s.n] = '\0';
	y->s.p = copy;
	y->s.n = s.n;
	y->id = (uint32_t)R->nsyms;
	if (table_put(&R->symt, h, y) == -1)
		return oom(R);
	R->syms[R->nsyms++] = y;
	*id = y->id;
	return 0;
}

/* sym_lit - sym_get() for a C string. */
static int
sym_lit(struct rep *R, const char *s, uint32_t *id)
{
	rstr k = { s, strlen(s) };

	return sym_get(R, k, id);
}

/* keep - copy s into the arena: the line it points into is about to go. */
static int
keep(struct rep *R, rstr *s)
{
	char *copy;

	if (s->p == NULL)
		return 0;
	if ((copy = arena_alloc(&R->a, s->n + 1)) == NULL)
		return oom(R);
	memcpy(copy, s->p, s->n);
	copy[s->n] = '\0';
	s->p = copy;
	return 0;
}

static int
msg_eq(const void *item, const void *key)
{
	const struct msg *m = item;
	const rstr *k = key;

	return m->qid.n == k->n && memcmp(m->qid.p, k->p, k->n) == 0;
}

/*
 * msg_get - the message of a queue id, made on first sight; NULL out of
 * memory.
 */
static struct msg *
msg_get(struct rep *R, rstr qid)
{
	uint64_t h = hash_bytes(qid.p, qid.n);
	struct msg *m = table_find(&R->msgs, h, msg_eq, &qid);

	if (m != NULL)
		return m;
	if ((m = arena_alloc(&R->a, sizeof(*m))) == NULL)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->qid = qid;
	m->recv = -1;
	if (keep(R, &m->qid) == -1)
		return NULL;
	if (table_put(&R->msgs, h, m) == -1)
		return NULL;
	return m;
}

static int
rcpt_eq(const void *item, const void *key)
{
	const struct rcpt *r = item;
	const rstr *k = key;

	return r->s.n == k->n && memcmp(r->s.p, k->p, k->n) == 0;
}

/*
 * rcpt_get - the unsubscribed recipient s (hash h), made on first sight;
 * NULL out of memory.
 */
static struct rcpt *
rcpt_get(struct rep *R, rstr s, uint64_t h)
{
	struct rcpt *r = table_find(&R->rcpts, h, rcpt_eq, &s);

	if (r != NULL)
		return r;
	if ((r = arena_alloc(&R->a, sizeof(*r))) == NULL)
		return NULL;
	r->s = s;
	r->unsubs = NULL;
	if (table_put(&R->rcpts, h, r) == -1)
		return NULL;
	return r;
}

static int
dec_is(const struct dec *d, const rstr *k, uint64_t h)
{
	return d->rh == h && d->rcpt.n == k->n &&
	    memcmp(d->rcpt.p, k->p, k->n) == 0;
}

/* The later of two decisions about one recipient of one message. */
static int
dec_later(const struct dec *a, const struct dec *b)
{
	return b == NULL || a->t_ms > b->t_ms;
}

#define IDX_MIN		16	/* recipients before a message gets an index */

/*
 * msg_index - for a message with many recipients, an open-addressing
 * index of its decisions by recipient, made on first use; -1 out of memory.
 */
static int
msg_index(struct rep *R, struct msg *m)
{
	size_t size = 32;

	while (size < (size_t)m->ndec * 2)
		size *= 2;
	if ((m->idx = arena_alloc(&R->a, size * sizeof(*m->idx))) == NULL)
		return oom(R);
	memset(m->idx, 0, size * sizeof(*m->idx));
	m->idxmask = size - 1;
	/* Newest first: an older duplicate only replaces on a later time. */
	for (struct dec *d = m->decs; d != NULL; d = d->next) {
		size_t i;

		for (i = (size_t)d->rh & m->idxmask; m->idx[i] != NULL;
		    i = (i + 1) & m->idxmask)
			if (dec_is(m->idx[i], &d->rcpt, d->rh))
				break;
		if (m->idx[i] == NULL || dec_later(d, m->idx[i]))
			m->idx[i] = d;
	}
	return 0;
}

/* Clocks of the filter and the MTA may differ this much (seconds). */
#define JOIN_SLACK	300

/*
 * dec_find - m's decision about recipient k (hash h) that a delivery at t
 * (seconds; INT64_MAX for any time) can rest on: the latest made before
 * it.  Postfix reuses queue ids, so a decision made after the delivery
 * belongs to another message.  NULL if none; *err set if out of memory.
 */
static struct dec *
dec_find(struct rep *R, struct msg *m, const rstr *k, uint64_t h, int64_t t,
    int *err)
{
	struct dec *best = NULL;
	int64_t limit = t >= INT64_MAX / 1000 - JOIN_SLACK ? INT64_MAX :
	    (t + JOIN_SLACK) * 1000;

	if (m->ndec >= IDX_MIN) {
		if (m->idx == NULL && msg_index(R, m) == -1) {
			*err = 1;
			return NULL;
		}
		for (size_t i = (size_t)h & m->idxmask; m->idx[i] != NULL;
		    i = (i + 1) & m->idxmask)
			if (dec_is(m->idx[i], k, h)) {
				if (m->idx[i]->t_ms <= limit)
					return m->idx[i];
				break;	/* a later one: look for an earlier */
			}
	}
	for (struct dec *d = m->decs; d != NULL; d = d->next)
		if (dec_is(d, k, h) && d->t_ms <= limit && dec_later(d, best))
			best = d;
	return best;
}

/* day_eq - table callbacks above: the item matches the key. */
static int
day_eq(const void *item, const void *key)
{
	return ((const struct day *)item)->day == *(const int64_t *)key;
}

/* ---- time ---- */

/* d2 - two decimal digits, or -1. */
static int
d2(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* mdays - days in month m (1-12) of year y. */
static int
mdays(int y, int m)
{
	static const int md[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return md[m - 1];
}

/* The slow path: anything util's time_parse takes, to the second. */
static int
time_slow(const char *p, size_t n, int64_t *ms)
{
	char buf[64];
	int64_t s;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (time_parse(buf, &s) == -1)
		return -1;
	*ms = s * 1000;
	return 0;
}

/*
 * rfc3339_ms - "2026-11-26T22:00:00.123Z" or "...123456+01:00" into
 * milliseconds since the epoch; the date's day number is cached.
 */
static int
rfc3339_ms(struct rep *R, const char *p, size_t n, int64_t *out)
{
	const char *q, *end = p + n;
	int64_t day, ms;
	int hh, mi, ss = 0, frac = 0, scale = 100;

	if (n < 16 || p[4] != '-' || p[7] != '-' ||
	    (p[10] != 'T' && p[10] != 't' && p[10] != ' '))
		return time_slow(p, n, out);
	if (memcmp(p, R->dkey, 10) == 0)
		day = R->dday;
	else {
		int y1 = d2(p), y2 = d2(p + 2), mo = d2(p + 5), d = d2(p + 8);

		if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 ||
		    y1 * 100 + y2 < 1970 || d > mdays(y1 * 100 + y2, mo))
			return -1;
		day = time_days_from_civil(y1 * 100 + y2, (unsigned)mo, (unsigned)d);
		memcpy(R->dkey, p, 10);
		R->dday = day;
	}
	hh = d2(p + 11);
	mi = d2(p + 14);
	if (hh < 0 || hh > 23 || p[13] != ':' || mi < 0 || mi > 59)
		return -1;
	q = p + 16;
	if (q < end && *q == ':') {
		if (end - q < 3 || (ss = d2(q + 1)) < 0 || ss > 60)
			return -1;
		if (ss == 60)
			ss = 59;	/* a leap second */
		q += 3;
	}
	if (q < end && (*q == '.' || *q == ',')) {
		q++;
		if (q == end || *q < '0' || *q > '9')
			return -1;
		for (; q < end && *q >= '0' && *q <= '9'; q++) {
			frac += (*q - '0') * scale;
			scale /= 10;
		}
	}
	ms = (day * 86400 + hh * 3600 + mi * 60 + ss) * 1000 + frac;
	if (q == end || ((*q == 'Z' || *q == 'z') && q + 1 == end)) {
		*out = ms;
		return 0;
	}
	if (*q == '+' || *q == '-') {
		int sign = *q == '-' ? -1 : 1, oh, om;

		q++;
		if (end - q < 4 || (oh = d2(q)) < 0 || oh > 23)
			return -1;
		q += 2;
		if (*q == ':')
			q++;
		if (end - q != 2 || (om = d2(q)) < 0 || om > 59)
			return -1;
		*out = ms - (int64_t)sign * (oh * 3600 + om * 60) * 1000;
		return 0;
	}
	return time_slow(p, n, out);
}

/*
 * syslog_time - "Nov 26 22:00:00", local time without a year, into
 * seconds.  The year is the one that puts the month nearest the newest
 * audit line; each hour goes through mktime() once.
 */
static int
syslog_time(struct rep *R, const char *p, int64_t *out)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int mi = d2(p + 10), ss = d2(p + 13);

	if (!R->sok || memcmp(p, R->skey, 9) != 0) {
		const char *m = NULL;
		struct tm tm;
		int mon, day, hh, y, diff;
		time_t t;

		for (int k = 0; k < 12; k++)
			if (memcmp(months + 3 * k, p, 3) == 0)
				m = months + 3 * k;
		if (m == NULL || p[3] != ' ')
			return -1;
		mon = (int)(m - months) / 3;
		if (p[4] == ' ')
			day = p[5] >= '1' && p[5] <= '9' ? p[5] - '0' : -1;
		else
			day = d2(p + 4);
		hh = d2(p + 7);
		if (day < 1 || day > 31 || hh < 0 || hh > 23 || p[6] != ' ')
			return -1;
		y = R->ref_year;
		diff = mon - R->ref_mon;
		if (diff > 6)
			y--;
		else if (diff < -6)
			y++;
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = mon;
		tm.tm_mday = day;
		tm.tm_hour = hh;
		tm.tm_isdst = -1;
		if ((t = mktime(&tm)) == (time_t)-1)
			return -1;
		memcpy(R->skey, p, 9);
		R->sbase = (int64_t)t;
		R->sok = 1;
	}
	if (p[9] != ':' || p[12] != ':' || mi < 0 || mi > 59 || ss < 0 ||
	    ss > 60)
		return -1;
	*out = R->sbase + mi * 60 + ss;
	return 0;
}

/* Mon-Fri days from the Monday 1969-12-29 up to and including day d. */
static int64_t
weekdays_through(int64_t d)
{
	int64_t x = d + 3, w, r;

	if (x < 0)
		return 0;
	w = x / 7;
	r = x % 7;
	return w * 5 + (r + 1 < 5 ? r + 1 : 5);
}

/* business_days - Mon-Fri days after a's day up to and including b's (UTC). */
static int64_t
business_days(int64_t a, int64_t b)
{
	int64_t da = a / 86400, db = b / 86400;

	return db <= da ? 0 : weekdays_through(db) - weekdays_through(da);
}

/* ---- the audit line scanner ---- */

static int
scan_fail(char *err, size_t errlen, const char *line, const char *at,
    const char *why)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "column %zu: %s", (size_t)(at - line) + 1,
		    why);
	return -1;
}

/* hexval - a hex digit's value, or -1. */
/* hex4 - four hex digits at p (before end) into *v; 0 / -1. */
static int
hex4(const char *p, const char *end, unsigned *v)
{
	int a, b, c, d;

	if (end - p < 4 || (a = util_hexval(p[0])) < 0 || (b = util_hexval(p[1])) < 0 ||
	    (c = util_hexval(p[2])) < 0 || (d = util_hexval(p[3])) < 0)
		return -1;
	*v = (unsigned)(a << 12 | b << 8 | c << 4 | d);
	return 0;
}

/* Decode the JSON string body [p, end) into out; returns octets, or -1. */
static long
unescape(const char *p, const char *end, char *out)
{
	char *o = out;
	unsigned cp, lo;

	while (p < end) {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		if (++p == end)
			return -1;
		switch (*p++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (hex4(p, end, &cp) == -1 || cp == 0)
				return -1;
			p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (end - p < 6 || p[0] != '\\' ||
				    p[1] != 'u' ||
				    hex4(p + 2, end, &lo) == -1 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -1;
				p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			if (cp < 0x80)
				*o++ = (char)cp;
			else if (cp < 0x800) {
				*o++ = (char)(0xc0 | cp >> 6);
				*o++ = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				*o++ = (char)(0xe0 | cp >> 12);
				*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
				*o++ = (char)(0x80 | (cp & 0x3f));
			} else {
				*o++ = (char)(0xf0 | cp >> 18);
				*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
				*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
				*o++ = (char)(0x80 | (cp & 0x3f));
			}
			break;
		default:
			return -1;
		}
	}
	return (long)(o - out);
}

/* The field a key fills, or NULL for keys the report does not read. */
static struct report_str *
audit_slot(struct report_audit *f, const char *k, size_t n)
{
#define K(name, field) if (memcmp(k, name, n) == 0) return &f->field
	switch (n) {
	case 1: K("t", t); break;
	case 3: K("qid", qid); break;
	case 4: K("rcpt", rcpt); K("list", list); K("type", type); break;
	case 5: K("class", class_); K("msgid", msgid); break;
	case 6: K("reason", reason); break;
	case 7: K("verdict", verdict); K("outcome", outcome);
		K("ev_kind", ev_kind); K("ev_time", ev_time); break;
	case 8: K("ev_value", ev_value); break;
	case 9: K("ev_source", ev_source); break;
	}
#undef K
	return NULL;
}

#define IS_WS(c) ((c) == ' ' || (c) == '\t' || (c) == '\r')

/* The closing quote of the string whose body starts at p, or NULL. */
static const char *
string_end(const char *p, const char *end)
{
	const char *start = p, *q;

	while ((q = memchr(p, '"', (size_t)(end - p))) != NULL) {
		size_t bs = 0;

		for (const char *b = q - 1; b >= start && *b == '\\'; b--)
			bs++;
		if (bs % 2 == 0)
			return q;
		p = q + 1;
	}
	return NULL;
}

int
report_audit_parse(const char *line, size_t len, char *scratch,
    size_t scratchlen, struct report_audit *out, char *err, size_t errlen)
{
	const char *p = line, *end = line + len, *k, *q, *v;
	struct report_str *slot;
	size_t used = 0;
	long dn;

	memset(out, 0, sizeof(*out));
	while (p < end && IS_WS(*p))
		p++;
	while (end > p && IS_WS(end[-1]))
		end--;
	if (p == end || *p != '{')
		return scan_fail(err, errlen, line, p, "not a JSON object");
	p++;
	while (p < end && IS_WS(*p))
		p++;
	if (p < end && *p == '}')
		return scan_fail(err, errlen, line, p, "empty object");
	for (;;) {
		while (p < end && IS_WS(*p))
			p++;
		if (p == end || *p != '"')
			return scan_fail(err, errlen, line, p,
			    "expected a key");
		k = ++p;
		if ((q = string_end(p, end)) == NULL)
			return scan_fail(err, errlen, line, k - 1,
			    "unterminated key");
		/* Keys are plain words: one with an escape is not ours. */
		slot = memchr(k, '\\', (size_t)(q - k)) != NULL ? NULL :
		    audit_slot(out, k, (size_t)(q - k));
		p = q + 1;
		while (p < end && IS_WS(*p))
			p++;
		if (p == end || *p != ':')
			return scan_fail(err, errlen, line, p, "expected ':'");
		p++;
		while (p < end && IS_WS(*p))
			p++;
		if (p == end)
			return scan_fail(err, errlen, line, p,
			    "expected a value");
		if (*p == '"') {
			v = ++p;
			if ((q = string_end(p, end)) == NULL)
				return scan_fail(err, errlen, line, v - 1,
				    "unterminated string");
			if (slot != NULL && memchr(v, '\\', (size_t)(q - v)) ==
			    NULL) {
				slot->p = v;
				slot->n = (size_t)(q - v);
			} else if (slot != NULL) {
				if (scratchlen - used < (size_t)(q - v))
					return scan_fail(err, errlen, line, v,
					    "scratch buffer too small");
				if ((dn = unescape(v, q, scratch + used)) < 0)
					return scan_fail(err, errlen, line, v,
					    "bad escape in string");
				slot->p = scratch + used;
				slot->n = (size_t)dn;
				used += (size_t)dn;
			}
			p = q + 1;
		} else {
			v = p;
			/* A number, true, false or null. */
			while (p < end && ((*p >= '0' && *p <= '9') ||
			    (*p >= 'a' && *p <= 'z') || *p == '-' ||
			    *p == '+' || *p == '.' || *p == 'E'))
				p++;
			if (p == v)
				return scan_fail(err, errlen, line, p,
				    "expected a string or a number");
			if (slot != NULL)
				return scan_fail(err, errlen, line, v,
				    "expected a string");
		}
		while (p < end && IS_WS(*p))
			p++;
		if (p == end)
			return scan_fail(err, errlen, line, p,
			    "unterminated object");
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '}')
			return scan_fail(err, errlen, line, p,
			    "expected ',' or '}'");
		p++;
		break;
	}
	if (p != end)
		return scan_fail(err, errlen, line, p, "data after the object");
	return 0;
}

/* ---- the mail log scanner ---- */

static int
is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

/* The queue id at p: alphanumerics; its length, or 0. */
static size_t
qid_len(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && is_alnum(*q))
		q++;
	return q - p >= 5 && q - p <= 32 ? (size_t)(q - p) : 0;
}

/* "<addr>," at p (just after "to="): the address inside; -1 if not. */
static int
angle_value(const char **pp, const char *end, struct report_str *v)
{
	const char *p = *pp, *q;

	if (p == end || *p != '<')
		return -1;
	for (q = p + 1; (q = memchr(q, '>', (size_t)(end - q))) != NULL; q++)
		if (q + 1 == end || q[1] == ',')
			break;
	if (q == NULL)
		return -1;
	v->p = p + 1;
	v->n = (size_t)(q - p - 1);
	*pp = q + 1;
	return 0;
}

int
report_maillog_parse(const char *line, size_t len, struct report_maillog *out)
{
	const char *p = line, *end = line + len, *q, *prog, *name;
	size_t n;

	memset(out, 0, sizeof(*out));
	while (end > p && (end[-1] == '\r' || end[-1] == ' '))
		end--;
	/* Shorter than a time, a host and a program: nothing for us. */
	if (end - p < 24)
		return REPORT_ML_OTHER;
	if (*p >= '0' && *p <= '9') {
		/* 2026-11-26T22:00:00.123456+00:00 host prog[pid]: */
		if ((q = memchr(p, ' ', (size_t)(end - p))) == NULL ||
		    q - p < 19 || p[10] != 'T')
			return REPORT_ML_OTHER;
		out->time.p = p;
		out->time.n = (size_t)(q - p);
		p = q + 1;
	} else {
		/* Nov 26 22:00:00 host prog[pid]: */
		if (p[3] != ' ' || p[6] != ' ' || p[9] != ':' || p[12] != ':' ||
		    p[15] != ' ')
			return REPORT_ML_OTHER;
		out->classic = 1;
		out->time.p = p;
		out->time.n = 15;
		p += 16;
	}
	if ((q = memchr(p, ' ', (size_t)(end - p))) == NULL)
		return REPORT_ML_OTHER;
	prog = p = q + 1;
	while (p < end && *p != '[' && *p != ':' && *p != ' ')
		p++;
	if (p == end)
		return REPORT_ML_OTHER;
	/* postfix/smtp, postfix-out/smtp (multi-instance), ... */
	for (name = p; name > prog && name[-1] != '/'; name--)
		;
	if (name == prog)
		return REPORT_ML_OTHER;
	n = (size_t)(p - name);
	if (*p == '[' && (p = memchr(p, ']', (size_t)(end - p))) != NULL)
		p++;
	if (p == NULL || end - p < 2 || p[0] != ':' || p[1] != ' ')
		return REPORT_ML_OTHER;
	p += 2;
	if (n == 0 || (out->qid.n = qid_len(p, end)) == 0 ||
	    end - p < (ptrdiff_t)out->qid.n + 2 || p[out->qid.n] != ':' ||
	    p[out->qid.n + 1] != ' ')
		return REPORT_ML_OTHER;
	out->qid.p = p;
	p += out->qid.n + 2;

	if ((n == 4 && (memcmp(name, "smtp", 4) == 0 ||
	    memcmp(name, "lmtp", 4) == 0 || memcmp(name, "pipe", 4) == 0)) ||
	    (n == 5 && memcmp(name, "local", 5) == 0) ||
	    (n == 7 && memcmp(name, "virtual", 7) == 0)) {
		if (end - p < 4 || memcmp(p, "to=", 3) != 0)
			return REPORT_ML_OTHER;
		p += 3;
		if (angle_value(&p, end, &out->to) == -1)
			return REPORT_ML_OTHER;
		if (end - p > 10 && memcmp(p, ", orig_to=", 10) == 0) {
			p += 10;
			if (angle_value(&p, end, &out->orig_to) == -1)
				return REPORT_ML_OTHER;
		}
		if ((q = memmem(p, (size_t)(end - p), ", status=", 9)) == NULL)
			return REPORT_ML_OTHER;
		p = q + 9;
		for (q = p; q < end && *q != ' ' && *q != ','; q++)
			;
		out->status.p = p;
		out->status.n = (size_t)(q - p);
		/* local(8) forwarding: the copy goes on as a new queue id. */
		if ((p = memmem(q, (size_t)(end - q), "forwarded as ", 13)) !=
		    NULL && (n = qid_len(p + 13, end)) > 0) {
			out->newqid.p = p + 13;
			out->newqid.n = n;
		}
		return out->kind = REPORT_ML_DELIVERY;
	}
	if (n == 7 && memcmp(name, "cleanup", 7) == 0) {
		if (end - p < 11 || memcmp(p, "message-id=", 11) != 0)
			return REPORT_ML_OTHER;
		p += 11;
		while (p < end && *p == ' ')
			p++;
		out->msgid.p = p;
		out->msgid.n = (size_t)(end - p);
		return out->kind = REPORT_ML_CLEANUP;
	}
	if (n == 6 && memcmp(name, "bounce", 6) == 0) {
		if ((q = memmem(p, (size_t)(end - p), "notification: ", 14)) ==
		    NULL || (n = qid_len(q + 14, end)) == 0)
			return REPORT_ML_OTHER;
		out->newqid.p = q + 14;
		out->newqid.n = n;
		return out->kind = REPORT_ML_NOTICE;
	}
	return REPORT_ML_OTHER;
}

/* ---- input ---- */

/* input_open - open path ("-": standard input) for reading; 0 / -1 with err. */
static int
input_open(struct rep *R, struct input *in)
{
	struct stat sb;

	if (strcmp(in->path, "-") == 0)
		in->fd = STDIN_FILENO;
	else if ((in->fd = open(in->path, O_RDONLY | O_CLOEXEC)) == -1)
		return util_fail(R->err, R->errlen, "%s: %s", in->path, strerror(errno));
	if (fstat(in->fd, &sb) == -1)
		return util_fail(R->err, R->errlen, "%s: %s", in->path, strerror(errno));
	if (S_ISDIR(sb.st_mode))
		return util_fail(R->err, R->errlen, "%s: is a directory", in->path);
	(void)posix_fadvise(in->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}

/* input_close - close what input_open() opened; standard input stays. */
static void
input_close(struct input *in)
{
	if (in->fd > STDIN_FILENO)
		close(in->fd);
	in->fd = -1;
}

/*
 * reader_next - the next line of in, without its newline, valid until the
 * next call.  *nl is 0 for a last line without one.  1, 0 at the end, or
 * -1 with err.
 */
static int
reader_next(struct rep *R, struct input *in, const char **line, size_t *len,
    int *nl)
{
	struct reader *rd = &R->rd;

	for (;;) {
		char *p = rd->buf + rd->start, *q;
		size_t avail = rd->end - rd->start;
		ssize_t r;

		if (avail > 0 && (q = memchr(p, '\n', avail)) != NULL) {
			*line = p;
			*len = (size_t)(q - p);
			*nl = 1;
			rd->start += *len + 1;
			return 1;
		}
		if (rd->eof) {
			if (avail == 0)
				return 0;
			*line = p;
			*len = avail;
			*nl = 0;
			rd->start = rd->end;
			return 1;
		}
		/* Keep the partial line; grow for a line longer than that. */
		if (rd->start > 0) {
			memmove(rd->buf, p, avail);
			rd->start = 0;
			rd->end = avail;
		}
		if (rd->end == rd->cap) {
			size_t cap = rd->cap * 2;
			char *nb = realloc(rd->buf, cap);

			if (nb == NULL)
				return oom(R);
			rd->buf = nb;
			rd->cap = cap;
		}
		r = read(in->fd, rd->buf + rd->end, rd->cap - rd->end);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return util_fail(R->err, R->errlen, "%s: %s", in->path, strerror(errno));
		}
		if (r == 0)
			rd->eof = 1;
		rd->end += (size_t)r;
	}
}

/* reader_reset - empty the reader for the next file; the buffer stays. */
static void
reader_reset(struct rep *R)
{
	R->rd.start = R->rd.end = 0;
	R->rd.eof = 0;
}

/* ---- reading the audit log ---- */

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
 * dec_new - a fresh decision from the current block (arena-owned); NULL out
 * of memory.
 */
static struct dec *
dec_new(struct rep *R)
{
	struct decblock *b = R->blocks;

	if (b == NULL || b->n == DECBLOCK) {
		if ((b = arena_alloc(&R->a, sizeof(*b))) == NULL)
			return NULL;
		b->n = 0;
		b->next = R->blocks;
		R->blocks = b;
	}
	return &b->d[b->n++];
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
	h = hash_mix((uint64_t)day);
	if ((d = table_find(&R->days, h, day_eq, &day)) == NULL) {
		if ((d = arena_alloc(&R->a, sizeof(*d))) == NULL)
			return oom(R);
		memset(d, 0, sizeof(*d));
		d->day = day;
		if (table_put(&R->days, h, d) == -1)
			return oom(R);
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
unsub_add(struct rep *R, struct dec *d, uint32_t list, uint32_t source)
{
	struct rcpt *r = rcpt_get(R, d->rcpt, d->rh);
	struct unsub *u;

	if (r == NULL)
		return oom(R);
	for (u = r->unsubs; u != NULL; u = u->next)
		if (u->list == list && u->when == d->ev_time)
			return 0;
	if ((u = arena_alloc(&R->a, sizeof(*u))) == NULL)
		return oom(R);
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

/* Fields that go through sym_field(), each with a one-entry cache. */
#define SF_VERDICT	0
#define SF_REASON	1
#define SF_LIST		2
#define SF_OUTCOME	3
#define SF_EVKIND	4
#define SF_EVVALUE	5
#define SF_EVSOURCE	6

/*
 * sym_field - sym_get, short-cut when the field repeats the last line's
 * value.
 */
static int
sym_field(struct rep *R, int field, rstr s, uint32_t *id)
{
	const struct sym *y = R->syms[R->sc[field].id];

	if (y->s.n == s.n && (s.n == 0 || memcmp(y->s.p, s.p, s.n) == 0)) {
		*id = y->id;
		return 0;
	}
	if (sym_get(R, s, id) == -1)
		return -1;
	R->sc[field].id = *id;
	return 0;
}

/* trim - s without surrounding blanks (a view into the same octets). */
static rstr
trim(rstr s)
{
	while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
		s.n--;
	return s;
}

/* msg_of - msg_get, short-cut when the queue id is the last one's. */
static struct msg *
msg_of(struct rep *R, rstr qid)
{
	struct msg *m = R->lastm;

	if (m != NULL && m->qid.n == qid.n && memcmp(m->qid.p, qid.p,
	    qid.n) == 0)
		return m;
	if ((m = msg_get(R, qid)) != NULL)
		R->lastm = m;
	return m;
}

/*
 * audit_decision - take one parsed line; 0, or -1 with err (the caller adds
 * where).
 */
static int
audit_decision(struct rep *R, struct report_audit *f, int file,
    unsigned long lineno)
{
	struct dec *d;
	uint32_t src = 0, evk, evv;
	int64_t t;
	int col;

	if (f->t.p == NULL)
		return util_fail(R->err, R->errlen, "no \"t\"");
	if (rfc3339_ms(R, f->t.p, f->t.n, &t) == -1)
		return util_fail(R->err, R->errlen, "\"t\" is not an RFC 3339 time");
	if (R->audit_first < 0 || t < R->audit_first)
		R->audit_first = t;
	if (t > R->audit_last)
		R->audit_last = t;
	if (f->type.p != NULL)
		return 0;	/* "open", or a kind of line not reported on */
	if (f->qid.n == 0)
		return util_fail(R->err, R->errlen, "no \"qid\"");
	if (f->rcpt.n == 0)
		return util_fail(R->err, R->errlen, "no \"rcpt\"");
	if (f->verdict.n == 0)
		return util_fail(R->err, R->errlen, "no \"verdict\"");
	if ((d = dec_new(R)) == NULL)
		return oom(R);
	memset(d, 0, sizeof(*d));
	d->t_ms = t;
	d->file = (uint16_t)file;
	d->line = (uint32_t)lineno;
	if (sym_field(R, SF_VERDICT, f->verdict, &d->verdict_sym) == -1 ||
	    sym_field(R, SF_REASON, f->reason, &d->reason) == -1 ||
	    sym_field(R, SF_LIST, f->list, &d->list) == -1 ||
	    sym_field(R, SF_OUTCOME, f->outcome, &d->outcome) == -1)
		return -1;
	col = verdict_col(R, d->verdict_sym);
	d->verdict = (uint8_t)col;
	if ((f->class_.n == 4 && memcmp(f->class_.p, "bulk", 4) == 0) ||
	    (f->class_.n == 0 && f->list.n > 0))
		d->flags |= D_BULK;
	if (d->outcome == R->s_accepted || d->outcome == R->s_tagged)
		d->flags |= D_OUTDELIV;
	R->syms[d->verdict_sym]->as_verdict++;
	R->syms[d->reason]->as_reason[col]++;
	R->syms[d->list]->as_list[col]++;
	if (tally_day(R, t, col) == -1)
		return -1;
	R->ndec++;

	if (keep(R, &f->rcpt) == -1)
		return -1;
	d->rcpt = f->rcpt;
	d->rh = hash_bytes(f->rcpt.p, f->rcpt.n);
	if (!R->have_pseudo && is_pseudonym(f->rcpt))
		R->have_pseudo = 1;
	if (f->qid.n == 7 && memcmp(f->qid.p, "NOQUEUE", 7) == 0)
		R->noqueue++;
	else {
		struct msg *m;

		if ((m = msg_of(R, f->qid)) == NULL)
			return oom(R);
		if (m->ndec++ == 0) {
			R->nmsg++;
			m->flags |= M_AUDIT;
		}
		if (m->msgid.n == 0 && f->msgid.n > 0) {
			m->msgid = trim(f->msgid);
			if (keep(R, &m->msgid) == -1)
				return -1;
		}
		d->m = m;
		d->next = m->decs;
		m->decs = d;
		if (d->outcome == R->s_redirected)
			m->flags |= M_REDIRECT;
	}
	if (f->ev_kind.n == 0)
		return 0;
	if (f->ev_time.n > 0) {
		int64_t ev;

		if (rfc3339_ms(R, f->ev_time.p, f->ev_time.n, &ev) == -1)
			return util_fail(R->err, R->errlen, "\"ev_time\" is not an RFC 3339 time");
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
		return unsub_add(R, d, d->list, src);
	if (evk == R->s_suppression && evv == R->s_unsub_all)
		return unsub_add(R, d, ALL_LISTS, src);
	return 0;
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
	/* Strings in the scratch were copied out by keep(). */
	if ((s = malloc(n)) == NULL)
		return oom(R);
	free(R->scratch);
	R->scratch = s;
	R->scratchcap = n;
	return 0;
}

/*
 * audit_load - every decision of one audit file; 0, or -1 with err naming
 * file and line.
 */
static int
audit_load(struct rep *R, int file)
{
	struct input *in = &R->in[file];
	struct report_audit f;
	const char *line;
	char why[256];
	size_t len;
	int nl, rc;

	reader_reset(R);
	while ((rc = reader_next(R, in, &line, &len, &nl)) == 1) {
		const char *b;

		in->lines++;
		for (b = line; b < line + len && (IS_WS(*b)); b++)
			;
		if (b == line + len)
			continue;	/* a blank line: nothing to say */
		if (scratch_need(R, len) == -1)
			return -1;
		if (report_audit_parse(line, len, R->scratch, R->scratchcap, &f,
		    why, sizeof(why)) == -1) {
			if (!nl) {
				/* Cut short by a crash: never written so. */
				R->torn++;
				ctl_err(R->c, "audit report: %s: line %lu: "
				    "torn last line ignored", in->path,
				    in->lines);
				rc = 0;
				break;
			}
			if (line[len - 1] == '~') {
				/* Torn, kept where the file could not be cut. */
				R->torn++;
				ctl_err(R->c, "audit report: %s: line %lu: "
				    "torn line ignored (audit verify checks it)",
				    in->path, in->lines);
				continue;
			}
			return util_fail(R->err, R->errlen, "%s: line %lu: malformed audit line: %s",
			    in->path, in->lines, why);
		}
		if (f.type.n == 3 && memcmp(f.type.p, "gap", 3) == 0)
			ctl_err(R->c, "audit report: %s: line %lu: a gap: "
			    "decisions are missing here (audit verify says "
			    "which)", in->path, in->lines);
		if (audit_decision(R, &f, file, in->lines) == -1) {
			char e2[512];

			util_strlcpy(e2, R->err, sizeof(e2));
			return util_fail(R->err, R->errlen, "%s: line %lu: %s", in->path, in->lines,
			    e2);
		}
		in->records++;
	}
	return rc;
}

/* ---- reading the mail log ---- */

/*
 * The recipient of a delivery as the audit may name it: the pseudonym of
 * the normalised address when keyed, and the address itself (a log
 * written before pseudonymisation was turned on).
 */
struct who {
	char	pseudo[AUDIT_PSEUDO_MAX];
	struct addr a;
	rstr	k[2];
	uint64_t h[2];
	int	nk;
};

/*
 * who_of - the keys the audit may use for a delivered address (pseudonym
 * first).
 */
static void
who_of(struct rep *R, rstr addr, struct who *w)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	static const char digits[] = "0123456789abcdef";
	char err[256];

	if (addr_normalize(addr.p, addr.n, R->c->cf.addr_flags,
	    R->c->cf.delims, &w->a, err, sizeof(err)) == -1) {
		/* The milter keys an address it cannot parse as written. */
		size_t n = addr.n < ADDR_MAX ? addr.n : ADDR_MAX;

		memcpy(w->a.key, addr.p, n);
		w->a.key[n] = '\0';
	}
	w->nk = 0;
	if (R->keyed) {
		crypto_auth_hmacsha256_state st = R->hmac;

		crypto_auth_hmacsha256_update(&st,
		    (const unsigned char *)w->a.key, strlen(w->a.key));
		crypto_auth_hmacsha256_final(&st, mac);
		w->pseudo[0] = 'h';
		w->pseudo[1] = ':';
		for (int i = 0; i < 16; i++) {
			w->pseudo[2 + 2 * i] = digits[mac[i] >> 4];
			w->pseudo[3 + 2 * i] = digits[mac[i] & 15];
		}
		w->pseudo[34] = '\0';
		w->k[0].p = w->pseudo;
		w->k[0].n = 34;
		w->nk = 1;
	}
	w->k[w->nk].p = w->a.key;
	w->k[w->nk].n = strlen(w->a.key);
	w->nk++;
	for (int i = 0; i < w->nk; i++)
		w->h[i] = hash_bytes(w->k[i].p, w->k[i].n);
}

/* viol_add - append a copy of v to the violations; 0 / -1 out of memory. */
static int
viol_add(struct rep *R, const struct viol *v)
{
	if (R->nviol == R->violcap) {
		size_t cap = R->violcap ? R->violcap * 2 : 64;
		struct viol *nv = realloc(R->viol, cap * sizeof(*nv));

		if (nv == NULL)
			return oom(R);
		R->viol = nv;
		R->violcap = cap;
	}
	R->viol[R->nviol++] = *v;
	R->nkind[v->kind]++;
	return 0;
}

/* arena_str - an arena-owned copy of s into *out; 0 / -1 out of memory. */
static int
arena_str(struct rep *R, const char *s, rstr *out)
{
	size_t n = strlen(s);
	char *c = arena_alloc(&R->a, n + 1);

	if (c == NULL)
		return oom(R);
	memcpy(c, s, n + 1);
	out->p = c;
	out->n = n;
	return 0;
}

/*
 * deliver - a status=sent of audited message m to a recipient known by
 * the keys k[0..nk) (hashes h): mark its decision delivered, or flag it.
 * shown names the recipient in the violation.
 */
static int
deliver(struct rep *R, struct msg *m, const rstr *k, const uint64_t *h,
    int nk, const char *shown, int64_t t, int file, uint32_t lineno)
{
	struct dec *d = NULL;
	struct viol v;
	int err = 0;

	for (int i = 0; i < nk && d == NULL; i++)
		d = dec_find(R, m, &k[i], h[i], t, &err);
	if (err)
		return -1;
	if (d != NULL) {
		R->matched++;
		d->flags |= D_LOGGED;
		if (!(d->flags & D_SENT) || t >= d->sent) {
			d->flags |= D_SENT;
			d->sent = t;
			d->sent_file = (uint16_t)file;
			d->sent_line = lineno;
		}
		return 0;
	}
	/* The milter added the holding mailbox for a redirect. */
	if ((m->flags & M_REDIRECT) && R->hold[0] != '\0' &&
	    k[nk - 1].n == strlen(R->hold) &&
	    memcmp(k[nk - 1].p, R->hold, k[nk - 1].n) == 0) {
		R->held++;
		return 0;
	}
	memset(&v, 0, sizeof(v));
	v.kind = K_NORCPT;
	v.m = m;
	v.t = t;
	v.file = (uint16_t)file;
	v.line = lineno;
	v.from_log = 1;
	if (arena_str(R, shown, &v.rcpt) == -1)
		return -1;
	return viol_add(R, &v);
}

/* maillog_line - judge or note one mail log line; 0, or -1 out of memory. */
static int
maillog_line(struct rep *R, const char *line, size_t len, int file,
    uint32_t lineno)
{
	struct report_maillog f;
	struct msg *m;
	int64_t t;

	if (report_maillog_parse(line, len, &f) == REPORT_ML_OTHER)
		return 0;
	if (f.classic) {
		if (syslog_time(R, f.time.p, &t) == -1) {
			R->skipped++;
			return 0;
		}
	} else {
		if (rfc3339_ms(R, f.time.p, f.time.n, &t) == -1) {
			R->skipped++;
			return 0;
		}
		t /= 1000;
	}
	if (R->log_first < 0 || t < R->log_first)
		R->log_first = t;
	if (t > R->log_last)
		R->log_last = t;
	if ((m = msg_of(R, f.qid)) == NULL)
		return oom(R);
	m->flags |= M_MAILLOG;
	if (m->recv < 0)
		m->recv = t;
	R->in[file].records++;

	if (f.kind == REPORT_ML_CLEANUP) {
		if (!(m->flags & M_CLEANUP)) {
			m->recv = t;	/* received: cleanup logs first */
			m->flags |= M_CLEANUP;
		}
		if (m->msgid.n == 0) {
			m->msgid = trim(f.msgid);
			if (keep(R, &m->msgid) == -1)
				return -1;
		}
		return 0;
	}
	if (f.kind == REPORT_ML_NOTICE) {
		struct msg *n = msg_get(R, f.newqid);

		if (n == NULL)
			return oom(R);
		n->flags |= M_NOTICE;
		return 0;
	}
	/* A delivery. */
	if (f.newqid.n > 0) {
		struct msg *n = msg_get(R, f.newqid);

		if (n == NULL)
			return oom(R);
		if (n != m)
			n->parent = m;
	}
	if (!str_eq(f.status, "sent")) {
		if (str_eq(f.status, "bounced"))
			R->bounced++;
		else if (str_eq(f.status, "deferred"))
			R->deferred++;
		else
			R->other++;
		return 0;
	}
	R->sent++;
	{
		struct who w;
		struct pend *pd;

		/* Aliases expand after the filter: orig_to is what it saw. */
		who_of(R, f.orig_to.n > 0 ? f.orig_to : f.to, &w);
		if (m->ndec > 0)
			return deliver(R, m, w.k, w.h, w.nk, w.k[0].p, t, file,
			    lineno);
		if ((pd = arena_alloc(&R->a, sizeof(*pd))) == NULL ||
		    arena_str(R, w.k[0].p, &pd->rcpt) == -1)
			return oom(R);
		if (w.nk == 1)
			pd->plain = pd->rcpt;
		else if (arena_str(R, w.k[1].p, &pd->plain) == -1)
			return -1;
		pd->t = t;
		pd->file = (uint16_t)file;
		pd->line = lineno;
		if (m->pend == NULL) {
			m->pend_next = R->pending;
			R->pending = m;
		}
		pd->next = m->pend;
		m->pend = pd;
	}
	return 0;
}

/* maillog_load - every line of one mail log file; 0 / -1 with err. */
static int
maillog_load(struct rep *R, int file)
{
	struct input *in = &R->in[file];
	const char *line;
	size_t len;
	int nl, rc;

	reader_reset(R);
	while ((rc = reader_next(R, in, &line, &len, &nl)) == 1) {
		in->lines++;
		if (in->lines > UINT32_MAX)
			return util_fail(R->err, R->errlen, "%s: more than %u lines", in->path,
			    UINT32_MAX);
		if (maillog_line(R, line, len, file, (uint32_t)in->lines) == -1)
			return -1;
	}
	return rc;
}

/* ---- judging ---- */

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

/*
 * mids_link - the audited messages whose message-id a pending message
 * has.  Only the few pending ids are indexed; the audited messages are
 * walked once.
 */
static int
mids_link(struct rep *R, struct table *mids)
{
	size_t n = 0;

	for (struct msg *m = R->pending; m != NULL; m = m->pend_next)
		n += m->msgid.n > 0;
	if (n == 0)
		return 0;
	if (table_init(mids, 64) == -1)
		return oom(R);
	for (struct msg *m = R->pending; m != NULL; m = m->pend_next) {
		uint64_t h;
		struct mid *x;

		if (m->msgid.n == 0)
			continue;
		h = hash_bytes(m->msgid.p, m->msgid.n);
		if (table_find(mids, h, mid_eq, &m->msgid) != NULL)
			continue;
		if ((x = arena_alloc(&R->a, sizeof(*x))) == NULL)
			return oom(R);
		x->id = m->msgid;
		x->cand = NULL;
		if (table_put(mids, h, x) == -1)
			return oom(R);
	}
	for (size_t i = 0; i <= R->msgs.mask; i++) {
		struct msg *m = R->msgs.s[i].v;
		struct mid *x;

		if (m == NULL || m->ndec == 0 || m->msgid.n == 0)
			continue;
		if ((x = table_find(mids, hash_bytes(m->msgid.p, m->msgid.n),
		    mid_eq, &m->msgid)) != NULL) {
			m->same_msgid = x->cand;
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

	h[0] = hash_bytes(k[0].p, k[0].n);
	h[1] = hash_bytes(k[1].p, k[1].n);
	for (; bymsgid && c->same_msgid != NULL; c = c->same_msgid) {
		if (dec_find(R, c, &k[0], h[0], pd->t, &err) != NULL ||
		    (nk == 2 && dec_find(R, c, &k[1], h[1], pd->t, &err) != NULL))
			break;
		if (err)
			return -1;
	}
	return deliver(R, c, k, h, nk, pd->rcpt.p, pd->t, pd->file, pd->line);
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
	struct table mids = { NULL, 0, 0 };
	int rc = -1;

	if (mids_link(R, &mids) == -1)
		goto out;
	for (struct msg *m = R->pending; m != NULL; m = m->pend_next) {
		struct msg *a = m, *cand = NULL;
		struct pend *pd;
		uint32_t n = 0;
		int notice = 0, bymsgid = 0;

		for (int depth = 0; a != NULL && a->ndec == 0 && depth <
		    PARENT_DEPTH; depth++) {
			notice |= (a->flags & M_NOTICE) != 0;
			a = a->parent;
		}
		if (a != NULL && a->ndec > 0)
			cand = a;
		else if (m->msgid.n > 0 && mids.s != NULL) {
			struct mid *x = table_find(&mids, hash_bytes(m->msgid.p,
			    m->msgid.n), mid_eq, &m->msgid);

			cand = x != NULL ? x->cand : NULL;
			bymsgid = 1;
		}
		if (cand != NULL) {
			for (pd = m->pend; pd != NULL; pd = pd->next)
				if (pend_join(R, pd, cand, bymsgid) == -1)
					goto out;
			continue;
		}
		for (pd = m->pend; pd != NULL; pd = pd->next)
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
			for (pd = m->pend; pd->next != NULL; pd = pd->next)
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
			if (viol_add(R, &v) == -1)
				goto out;
		}
	}
	rc = 0;
out:
	table_free(&mids);
	return rc;
}

/*
 * delivered - whether d's mail was delivered, and when: by the mail log
 * when it saw the message, else by the outcome the milter recorded.
 */
static int
delivered(const struct dec *d, int64_t *when, int *from_log)
{
	if ((d->flags & D_LOGGED) || (d->m != NULL && (d->m->flags &
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

/* judge - the violations and the time to honour each unsubscribe; 0 / -1. */
static int
judge(struct rep *R)
{
	if (resolve_pending(R) == -1)
		return -1;
	for (struct decblock *b = R->blocks; b != NULL; b = b->next) {
		for (size_t i = 0; i < b->n; i++) {
			struct dec *d = &b->d[i];
			struct rcpt *r;
			int64_t when;
			int from_log;

			if (!(d->flags & D_BULK) ||
			    !delivered(d, &when, &from_log))
				continue;
			if (d->verdict == V_DENY) {
				struct viol v;

				memset(&v, 0, sizeof(v));
				v.kind = K_DENIED;
				v.m = d->m;
				v.d = d;
				v.rcpt = d->rcpt;
				v.t = when;
				v.from_log = from_log;
				v.file = from_log ? d->sent_file : d->file;
				v.line = from_log ? d->sent_line : d->line;
				if (viol_add(R, &v) == -1)
					return -1;
				continue;
			}
			if (d->verdict == V_ALLOW && R->nunsub > 0 &&
			    (r = table_find(&R->rcpts, d->rh, rcpt_eq,
			    &d->rcpt)) != NULL)
				honour_note(r, d, when);
		}
	}
	for (struct unsub *u = R->unsubs; u != NULL; u = u->all_next) {
		if (u->late == NULL)
			continue;
		if (u->late_t - u->when > LATE_SECONDS)
			R->late2++;
		if (business_days(u->when, u->late_t) > LATE_BUSINESS)
			R->late10++;
	}
	return 0;
}

/* ---- tables for output ---- */

#define C_STR		0
#define C_INT		1
#define C_BOOL		2
#define C_TIME		3	/* seconds */
#define C_TIMEMS	4
#define C_DUR		5	/* seconds */

struct col {
	const char *name;	/* JSON key, CSV header */
	const char *title;	/* text and HTML header */
	int	type;
	int	brief;		/* shown in the text table */
};

struct cell {
	const char *s;		/* C_STR; NULL is null */
	size_t	n;
	int64_t	v;
	int	null;
};

struct tab {
	const char *name, *title;
	const struct col *cols;
	size_t	ncol, nrow, cap;
	struct cell *cells;
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
			oom(R);
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

/* "FILE:LINE" in the arena. */
static const char *
where(struct rep *R, int file, uint32_t line)
{
	char buf[1100];
	rstr s = { NULL, 0 };

	snprintf(buf, sizeof(buf), "%s:%" PRIu32, R->in[file].path, line);
	if (arena_str(R, buf, &s) == -1)
		return NULL;
	return s.p;
}

static const struct col cols_verdict[] = {
	{ "verdict", "verdict", C_STR, 1 }, { "count", "count", C_INT, 1 },
};
static const struct col cols_reason[] = {
	{ "reason", "reason", C_STR, 1 }, { "allow", "allow", C_INT, 1 },
	{ "deny", "deny", C_INT, 1 }, { "tempfail", "tempfail", C_INT, 1 },
	{ "other", "other", C_INT, 1 }, { "total", "total", C_INT, 1 },
};
static const struct col cols_list[] = {
	{ "list", "list", C_STR, 1 }, { "allow", "allow", C_INT, 1 },
	{ "deny", "deny", C_INT, 1 }, { "tempfail", "tempfail", C_INT, 1 },
	{ "other", "other", C_INT, 1 }, { "total", "total", C_INT, 1 },
};
static const struct col cols_day[] = {
	{ "day", "day", C_STR, 1 }, { "allow", "allow", C_INT, 1 },
	{ "deny", "deny", C_INT, 1 }, { "tempfail", "tempfail", C_INT, 1 },
	{ "other", "other", C_INT, 1 }, { "total", "total", C_INT, 1 },
};
static const struct col cols_viol[] = {
	{ "kind", "kind", C_STR, 1 },
	{ "time", "time", C_TIME, 1 },
	{ "qid", "queue id", C_STR, 1 },
	{ "rcpt", "recipient", C_STR, 1 },
	{ "list", "list", C_STR, 1 },
	{ "verdict", "verdict", C_STR, 1 },
	{ "reason", "reason", C_STR, 1 },
	{ "outcome", "outcome", C_STR, 0 },
	{ "msgid", "message-id", C_STR, 0 },
	{ "recipients", "recipients", C_INT, 0 },
	{ "basis", "judged by", C_STR, 1 },
	{ "where", "where", C_STR, 1 },
	{ "decision", "decision", C_STR, 0 },
};
static const struct col cols_honour[] = {
	{ "rcpt", "recipient", C_STR, 1 },
	{ "list", "list", C_STR, 1 },
	{ "unsubscribed", "unsubscribed", C_TIME, 1 },
	{ "source", "source", C_STR, 1 },
	{ "last_delivery", "last delivery after", C_TIME, 1 },
	{ "qid", "queue id", C_STR, 1 },
	{ "lag_seconds", "lag", C_DUR, 1 },
	{ "business_days", "business days", C_INT, 1 },
	{ "over_2_days", "> 2 days", C_BOOL, 1 },
	{ "over_10_business_days", "> 10 business days", C_BOOL, 1 },
	{ "evidence", "evidence", C_STR, 0 },
};
static const struct col cols_input[] = {
	{ "kind", "kind", C_STR, 1 }, { "file", "file", C_STR, 1 },
	{ "lines", "lines", C_INT, 1 }, { "records", "records", C_INT, 1 },
};

#define NCOL(a)	(sizeof(a) / sizeof((a)[0]))

enum { T_INPUT, T_VERDICT, T_REASON, T_LIST, T_DAY, T_VIOL, T_HONOUR, NTAB };

/* One summary figure. */
struct kv {
	const char *name, *title;
	int	type;		/* C_INT, C_BOOL, C_TIMEMS, C_TIME */
	int64_t	v;
	int	null;
};

#define NKV	28

struct out {
	struct tab t[NTAB];
	struct kv kv[NKV];
	size_t	nkv;
	int64_t	generated;
	uint64_t violations, late;
};

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

/* day_cmp - days in time order (qsort). */
static int
day_cmp(const void *a, const void *b)
{
	const struct day *x = *(const struct day *const *)a;
	const struct day *y = *(const struct day *const *)b;

	return (x->day > y->day) - (x->day < y->day);
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
	n = x->m && y->m ? (x->m->qid.n < y->m->qid.n ? x->m->qid.n :
	    y->m->qid.n) : 0;
	if (n && (c = memcmp(x->m->qid.p, y->m->qid.p, n)) != 0)
		return c;
	return (x->line > y->line) - (x->line < y->line);
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

/*
 * verdict_cells - the four verdict columns and their total, after the key
 * column.
 */
static void
verdict_cells(struct cell *row, const uint64_t n[NV])
{
	uint64_t total = 0;

	for (int k = 0; k < NV; k++) {
		row[1 + k].v = (int64_t)n[k];
		total += n[k];
	}
	row[1 + NV].v = (int64_t)total;
}

/* list_name - a list as shown: "*" is every list. */
static const char *
list_name(struct rep *R, uint32_t list)
{
	return list == ALL_LISTS ? "*" : R->syms[list]->s.p;
}

/* build - the report's tables and figures from the judged model. */
static int
build(struct rep *R, struct out *o)
{
	static const struct { const struct col *c; size_t n; const char *name,
	    *title; } spec[NTAB] = {
		{ cols_input, NCOL(cols_input), "inputs", "Inputs" },
		{ cols_verdict, NCOL(cols_verdict), "by_verdict",
		    "Decisions by verdict" },
		{ cols_reason, NCOL(cols_reason), "by_reason",
		    "Decisions by reason" },
		{ cols_list, NCOL(cols_list), "by_list", "Decisions by list" },
		{ cols_day, NCOL(cols_day), "by_day",
		    "Decisions by day (UTC)" },
		{ cols_viol, NCOL(cols_viol), "violations", "Violations" },
		{ cols_honour, NCOL(cols_honour), "time_to_honour",
		    "Time to honour unsubscribes" },
	};
	struct sym **sorted = NULL;
	struct day **days = NULL;
	struct hrow *hr = NULL;
	struct cell *row;
	size_t nd = 0, nh = 0;
	int rc = -1;

	memset(o, 0, sizeof(*o));
	o->generated = R->c->now;
	for (int i = 0; i < NTAB; i++) {
		o->t[i].cols = spec[i].c;
		o->t[i].ncol = spec[i].n;
		o->t[i].name = spec[i].name;
		o->t[i].title = spec[i].title;
	}
	for (size_t i = 0; i < R->nin; i++) {
		if ((row = tab_row(R, &o->t[T_INPUT])) == NULL)
			goto out;
		cell_cstr(&row[0], R->in[i].maillog ? "maillog" : "audit");
		cell_cstr(&row[1], R->in[i].path);
		row[2].v = (int64_t)R->in[i].lines;
		row[3].v = (int64_t)R->in[i].records;
	}
	if ((sorted = malloc((R->nsyms + 1) * sizeof(*sorted))) == NULL) {
		oom(R);
		goto out;
	}
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
			cell_str(&row[0], y->s);
			row[1].v = (int64_t)y->as_verdict;
		}
		if (nr > 0) {
			if ((row = tab_row(R, &o->t[T_REASON])) == NULL)
				goto out;
			cell_str(&row[0], y->s);
			verdict_cells(row, y->as_reason);
		}
		if (nl > 0) {
			if ((row = tab_row(R, &o->t[T_LIST])) == NULL)
				goto out;
			cell_str(&row[0], y->s);
			verdict_cells(row, y->as_list);
		}
	}
	if ((days = malloc((R->days.n + 1) * sizeof(*days))) == NULL) {
		oom(R);
		goto out;
	}
	for (size_t i = 0; i <= R->days.mask; i++)
		if (R->days.s[i].v != NULL)
			days[nd++] = R->days.s[i].v;
	qsort(days, nd, sizeof(*days), day_cmp);
	for (size_t i = 0; i < nd; i++) {
		char buf[32];
		rstr s = { NULL, 0 };

		time_format(days[i]->day * 86400, buf, sizeof(buf));
		buf[10] = '\0';
		if ((row = tab_row(R, &o->t[T_DAY])) == NULL ||
		    arena_str(R, buf, &s) == -1)
			goto out;
		cell_str(&row[0], s);
		verdict_cells(row, days[i]->n);
	}

	if (R->nviol > 0)
		qsort(R->viol, R->nviol, sizeof(*R->viol), viol_cmp);
	for (size_t i = 0; i < R->nviol; i++) {
		const struct viol *v = &R->viol[i];

		if ((row = tab_row(R, &o->t[T_VIOL])) == NULL)
			goto out;
		cell_cstr(&row[0], kind_names[v->kind]);
		row[1].v = v->t;
		if (v->m != NULL) {
			cell_str(&row[2], v->m->qid);
			if (v->m->msgid.n > 0)
				cell_str(&row[8], trim(v->m->msgid));
			else
				row[8].null = 1;
		} else {
			cell_cstr(&row[2], "NOQUEUE");
			row[8].null = 1;
		}
		cell_str(&row[3], v->rcpt);
		if (v->d != NULL) {
			cell_str(&row[4], R->syms[v->d->list]->s);
			cell_str(&row[5], R->syms[v->d->verdict_sym]->s);
			cell_str(&row[6], R->syms[v->d->reason]->s);
			cell_str(&row[7], R->syms[v->d->outcome]->s);
			row[12].s = where(R, v->d->file, v->d->line);
			if (row[12].s == NULL)
				goto out;
			row[12].n = strlen(row[12].s);
		} else {
			row[4].null = row[5].null = row[6].null = 1;
			row[7].null = row[12].null = 1;
		}
		if (v->kind == K_NOMSG)
			row[9].v = v->count;
		else
			row[9].v = 1;
		cell_cstr(&row[10], v->from_log ? "maillog" : "audit");
		if ((row[11].s = where(R, v->file, v->line)) == NULL)
			goto out;
		row[11].n = strlen(row[11].s);
	}

	if ((hr = malloc((R->nunsub + 1) * sizeof(*hr))) == NULL) {
		oom(R);
		goto out;
	}
	for (const struct unsub *u = R->unsubs; u != NULL; u = u->all_next) {
		struct hrow *h = &hr[nh++];

		h->u = u;
		h->lag = u->late ? u->late_t - u->when : 0;
		h->bd = u->late ? business_days(u->when, u->late_t) : 0;
		h->over2 = h->lag > LATE_SECONDS;
		h->over10 = h->bd > LATE_BUSINESS;
	}
	qsort(hr, nh, sizeof(*hr), hrow_cmp);
	for (size_t i = 0; i < nh; i++) {
		const struct unsub *u = hr[i].u;

		if ((row = tab_row(R, &o->t[T_HONOUR])) == NULL)
			goto out;
		cell_str(&row[0], u->r->s);
		cell_cstr(&row[1], list_name(R, u->list));
		row[2].v = u->when;
		cell_str(&row[3], R->syms[u->source]->s);
		if (u->late != NULL) {
			row[4].v = u->late_t;
			if (u->late->m != NULL)
				cell_str(&row[5], u->late->m->qid);
			else
				cell_cstr(&row[5], "NOQUEUE");
		} else
			row[4].null = row[5].null = 1;
		row[6].v = hr[i].lag;
		row[7].v = hr[i].bd;
		row[8].v = hr[i].over2;
		row[9].v = hr[i].over10;
		if ((row[10].s = where(R, u->ev->file, u->ev->line)) == NULL)
			goto out;
		row[10].n = strlen(row[10].s);
	}

	o->violations = R->nviol;
	o->late = R->late2;
	kv_add(o, "decisions", "decisions", C_INT, (int64_t)R->ndec, 0);
	kv_add(o, "messages", "messages (queue ids)", C_INT, (int64_t)R->nmsg,
	    0);
	kv_add(o, "noqueue", "decisions before queueing (NOQUEUE)", C_INT,
	    (int64_t)R->noqueue, 0);
	kv_add(o, "torn_lines", "torn lines ignored", C_INT,
	    (int64_t)R->torn, 0);
	kv_add(o, "audit_first", "audit from", C_TIMEMS, R->audit_first,
	    R->audit_first < 0);
	kv_add(o, "audit_last", "audit to", C_TIMEMS, R->audit_last,
	    R->audit_first < 0);
	kv_add(o, "maillog", "mail log read", C_BOOL, R->maillog, 0);
	kv_add(o, "maillog_first", "mail log from", C_TIME, R->log_first,
	    R->log_first < 0);
	kv_add(o, "maillog_last", "mail log to", C_TIME, R->log_last,
	    R->log_first < 0);
	kv_add(o, "sent", "deliveries (status=sent)", C_INT, (int64_t)R->sent,
	    0);
	kv_add(o, "bounced", "bounced", C_INT, (int64_t)R->bounced, 0);
	kv_add(o, "deferred", "deferred", C_INT, (int64_t)R->deferred, 0);
	kv_add(o, "sent_matched", "deliveries joined to a decision", C_INT,
	    (int64_t)R->matched, 0);
	kv_add(o, "notices", "deliveries of Postfix's own notices (not judged)",
	    C_INT, (int64_t)R->notices, 0);
	kv_add(o, "before_audit", "deliveries of mail received before the "
	    "audit (not judged)", C_INT, (int64_t)R->unjudged, 0);
	kv_add(o, "held", "deliveries to the holding mailbox of a redirect",
	    C_INT, (int64_t)R->held, 0);
	kv_add(o, "unsubscribes", "unsubscribes seen as evidence", C_INT,
	    (int64_t)R->nunsub, 0);
	kv_add(o, "late_2_days", "unsubscribes honoured after 2 days", C_INT,
	    (int64_t)R->late2, 0);
	kv_add(o, "late_10_business_days", "unsubscribes honoured after 10 "
	    "business days", C_INT, (int64_t)R->late10, 0);
	kv_add(o, "delivered_to_denied", "violations: delivered to denied",
	    C_INT, (int64_t)R->nkind[K_DENIED], 0);
	kv_add(o, "no_decision_recipient", "violations: recipient without "
	    "decision", C_INT, (int64_t)R->nkind[K_NORCPT], 0);
	kv_add(o, "no_decision_message", "violations: message without "
	    "decision", C_INT, (int64_t)R->nkind[K_NOMSG], 0);
	kv_add(o, "violations", "violations", C_INT, (int64_t)R->nviol, 0);
	kv_add(o, "compliant", "compliant", C_BOOL, R->nviol == 0 &&
	    R->late2 == 0, 0);
	rc = 0;
out:
	free(sorted);
	free(days);
	free(hr);
	return rc;
}

/* out_free - the tables' rows; NULL is a no-op. */
static void
out_free(struct out *o)
{
	if (o == NULL)
		return;
	for (int i = 0; i < NTAB; i++) {
		free(o->t[i].cells);
		o->t[i].cells = NULL;
	}
}

/* ---- writing ---- */

static char *
fmt_time(int64_t t, char *buf, size_t len)
{
	return time_format(t, buf, len);
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

/*
 * cell_text - a cell as the text and HTML forms show it: into buf for
 * numbers and times; strings as they are (the writer escapes them).
 */
static rstr
cell_text(const struct col *col, const struct cell *c, char *buf, size_t len)
{
	rstr r = { buf, 0 };

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
		fmt_time(c->v, buf, len);
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

/* text_table - t as aligned columns (the brief ones), or ": none". */
static void
text_table(FILE *fp, const struct tab *t)
{
	size_t width[16], last = 0;
	char buf[64];

	fprintf(fp, "\n%s", t->title);
	if (t->nrow == 0) {
		fprintf(fp, ": none\n");
		return;
	}
	fputc('\n', fp);
	for (size_t k = 0; k < t->ncol && k < 16; k++)
		width[k] = strlen(t->cols[k].title);
	for (size_t i = 0; i < t->nrow; i++)
		for (size_t k = 0; k < t->ncol && k < 16; k++) {
			rstr s = cell_text(&t->cols[k],
			    &t->cells[i * t->ncol + k], buf, sizeof(buf));
			size_t w = enc_text_put(NULL, s.p, s.n);

			if (w > width[k])
				width[k] = w;
		}
	for (size_t k = 0; k < t->ncol && k < 16; k++)
		if (t->cols[k].brief)
			last = k;
	fputs(" ", fp);
	for (size_t k = 0; k <= last; k++) {
		if (!t->cols[k].brief)
			continue;
		fprintf(fp, " %-*s", k == last ? 0 : (int)width[k],
		    t->cols[k].title);
	}
	fputc('\n', fp);
	for (size_t i = 0; i < t->nrow; i++) {
		fputs(" ", fp);
		for (size_t k = 0; k <= last; k++) {
			const struct col *col = &t->cols[k];
			rstr s;
			size_t w;

			if (!col->brief)
				continue;
			s = cell_text(col, &t->cells[i * t->ncol + k], buf,
			    sizeof(buf));
			fputc(' ', fp);
			if (col->type == C_INT) {
				fprintf(fp, "%*.*s", (int)width[k], (int)s.n,
				    s.p);
				continue;
			}
			w = enc_text_put(fp, s.p, s.n);
			for (; k < last && w < width[k]; w++)
				fputc(' ', fp);
		}
		fputc('\n', fp);
	}
}

/* kv_text - a summary figure as text into buf. */
static void
kv_text(const struct kv *kv, char *buf, size_t len)
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
		fmt_time(kv->v, buf, len);
}

/* write_text - the default report: summary, tables, a legend, the result. */
static void
write_text(FILE *fp, const struct out *o)
{
	char buf[64];

	fprintf(fp, "consent audit report, %s\n", fmt_time(o->generated, buf,
	    sizeof(buf)));
	text_table(fp, &o->t[T_INPUT]);
	fprintf(fp, "\nSummary\n");
	for (size_t i = 0; i < o->nkv; i++) {
		kv_text(&o->kv[i], buf, sizeof(buf));
		fprintf(fp, "  %-60s %s\n", o->kv[i].title, buf);
	}
	for (int i = T_VERDICT; i < NTAB; i++)
		text_table(fp, &o->t[i]);
	if (o->t[T_VIOL].nrow > 0)
		fprintf(fp, "\n  delivered-to-denied: bulk mail delivered to a "
		    "recipient whose decision was deny\n"
		    "  no-decision-recipient: delivered to a recipient the "
		    "filter never saw (always_bcc, a BCC map,\n"
		    "    alias expansion without orig_to)\n"
		    "  no-decision-message: delivered from a queue id without "
		    "any audit line (the filter was skipped)\n");
	fprintf(fp, "\nresult: %" PRIu64 " violation%s, %" PRIu64
	    " unsubscribe%s honoured late\n", o->violations,
	    o->violations == 1 ? "" : "s", o->late, o->late == 1 ? "" : "s");
}

/* json_cell - a cell as a JSON value. */
static void
json_cell(FILE *fp, const struct col *col, const struct cell *c)
{
	char buf[64];

	if (c->null) {
		fputs("null", fp);
		return;
	}
	switch (col->type) {
	case C_STR:
		enc_json_put(fp, c->s, c->n);
		break;
	case C_INT:
	case C_DUR:
		fprintf(fp, "%" PRId64, c->v);
		break;
	case C_BOOL:
		fputs(c->v ? "true" : "false", fp);
		break;
	case C_TIME:
		fprintf(fp, "\"%s\"", fmt_time(c->v, buf, sizeof(buf)));
		break;
	case C_TIMEMS:
		fprintf(fp, "\"%s\"", time_format_ms(c->v, buf, sizeof(buf)));
		break;
	}
}

/*
 * The JSON document, one object:
 *
 *   { "report": "consent-milter audit report", "version": 1,
 *     "generated": "2026-11-27T08:00:00Z",
 *     "summary": { "decisions": N, "messages": N, "noqueue": N,
 *        "torn_lines": N, "audit_first": TIME|null, "audit_last": TIME|null,
 *        "maillog": BOOL, "maillog_first": TIME|null, "maillog_last": ...,
 *        "sent": N, "bounced": N, "deferred": N, "sent_matched": N,
 *        "notices": N, "before_audit": N, "held": N, "unsubscribes": N,
 *        "late_2_days": N, "late_10_business_days": N,
 *        "delivered_to_denied": N, "no_decision_recipient": N,
 *        "no_decision_message": N, "violations": N, "compliant": BOOL },
 *     "inputs": [ {"kind": "audit"|"maillog", "file", "lines", "records"} ],
 *     "by_verdict": [ {"verdict", "count"} ],
 *     "by_reason": [ {"reason", "allow", "deny", "tempfail", "other",
 *        "total"} ],
 *     "by_list": [ {"list", ...the same counts} ],		("" is no list)
 *     "by_day": [ {"day": "2026-11-26", ...the same counts} ],
 *     "violations": [ {"kind": "delivered-to-denied" | "no-decision-recipient"
 *        | "no-decision-message", "time", "qid", "rcpt", "list", "verdict",
 *        "reason", "outcome", "msgid", "recipients", "basis": "maillog" |
 *        "audit", "where": "FILE:LINE" (the delivery, or the decision when
 *        judged by the audit alone), "decision": "FILE:LINE" | null} ],
 *     "time_to_honour": [ {"rcpt", "list" ("*": every list), "unsubscribed",
 *        "source", "last_delivery": TIME|null, "qid": ...|null,
 *        "lag_seconds", "business_days", "over_2_days",
 *        "over_10_business_days", "evidence": "FILE:LINE"} ] }
 *
 * Times are RFC 3339 UTC strings; "rcpt" is the audit's pseudonym.
 */
static void
write_json(FILE *fp, const struct out *o)
{
	static const int order[] = { T_INPUT, T_VERDICT, T_REASON, T_LIST,
	    T_DAY, T_VIOL, T_HONOUR };
	char buf[64];

	fprintf(fp, "{\"report\":\"consent-milter audit report\",\"version\":1,"
	    "\"generated\":\"%s\",\n\"summary\":{", fmt_time(o->generated, buf,
	    sizeof(buf)));
	for (size_t i = 0; i < o->nkv; i++) {
		const struct kv *kv = &o->kv[i];

		fprintf(fp, "%s\"%s\":", i ? "," : "", kv->name);
		if (kv->null)
			fputs("null", fp);
		else if (kv->type == C_INT)
			fprintf(fp, "%" PRId64, kv->v);
		else if (kv->type == C_BOOL)
			fputs(kv->v ? "true" : "false", fp);
		else {
			kv_text(kv, buf, sizeof(buf));
			fprintf(fp, "\"%s\"", buf);
		}
	}
	fputs("}", fp);
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		const struct tab *t = &o->t[order[k]];

		fprintf(fp, ",\n\"%s\":[", t->name);
		for (size_t i = 0; i < t->nrow; i++) {
			fputs(i ? ",\n {" : "\n {", fp);
			for (size_t c = 0; c < t->ncol; c++) {
				fprintf(fp, "%s\"%s\":", c ? "," : "",
				    t->cols[c].name);
				json_cell(fp, &t->cols[c],
				    &t->cells[i * t->ncol + c]);
			}
			fputc('}', fp);
		}
		fputc(']', fp);
	}
	fputs("}\n", fp);
}

/*
 * CSV (RFC 4180): one section per table, each with its own header row;
 * every row starts with its section name; sections are separated by an
 * empty line.  Text cells go through enc_csv_put: formulas guarded,
 * controls and broken UTF-8 escaped.
 */

/* csv_cell - a cell as a CSV field; null is empty. */
static void
csv_cell(FILE *fp, const struct col *col, const struct cell *c)
{
	char buf[64];

	if (c->null)
		return;
	switch (col->type) {
	case C_STR:
		enc_csv_put(fp, c->s, c->n, ENC_CSV_REPORT);
		break;
	case C_INT:
	case C_DUR:
		fprintf(fp, "%" PRId64, c->v);
		break;
	case C_BOOL:
		fputs(c->v ? "true" : "false", fp);
		break;
	case C_TIME:
		fputs(fmt_time(c->v, buf, sizeof(buf)), fp);
		break;
	case C_TIMEMS:
		fputs(time_format_ms(c->v, buf, sizeof(buf)), fp);
		break;
	}
}

static void
write_csv(FILE *fp, const struct out *o)
{
	char buf[64];

	fputs("section,key,value\r\n", fp);
	fprintf(fp, "summary,generated,%s\r\n", fmt_time(o->generated, buf,
	    sizeof(buf)));
	for (size_t i = 0; i < o->nkv; i++) {
		const struct kv *kv = &o->kv[i];

		if (kv->null)
			fprintf(fp, "summary,%s,\r\n", kv->name);
		else if (kv->type == C_BOOL)
			fprintf(fp, "summary,%s,%s\r\n", kv->name,
			    kv->v ? "true" : "false");
		else {
			kv_text(kv, buf, sizeof(buf));
			fprintf(fp, "summary,%s,%s\r\n", kv->name, buf);
		}
	}
	for (int k = 0; k < NTAB; k++) {
		const struct tab *t = &o->t[k];

		fputs("\r\nsection", fp);
		for (size_t c = 0; c < t->ncol; c++)
			fprintf(fp, ",%s", t->cols[c].name);
		fputs("\r\n", fp);
		for (size_t i = 0; i < t->nrow; i++) {
			fputs(t->name, fp);
			for (size_t c = 0; c < t->ncol; c++) {
				fputc(',', fp);
				csv_cell(fp, &t->cols[c],
				    &t->cells[i * t->ncol + c]);
			}
			fputs("\r\n", fp);
		}
	}
}

/* html_str - a C string as HTML text. */
static void
html_str(FILE *fp, const char *s)
{
	enc_html_put(fp, s, strlen(s));
}

/* html_table - t as an HTML table under a heading with its row count. */
static void
html_table(FILE *fp, const struct tab *t, const char *id)
{
	char buf[64];

	fprintf(fp, "<h2 id=\"%s\">", id);
	html_str(fp, t->title);
	fprintf(fp, " <span class=\"n\">(%zu)</span></h2>\n", t->nrow);
	if (t->nrow == 0) {
		fputs("<p class=\"none\">None.</p>\n", fp);
		return;
	}
	fputs("<table>\n<thead><tr>", fp);
	for (size_t k = 0; k < t->ncol; k++) {
		fputs("<th>", fp);
		html_str(fp, t->cols[k].title);
		fputs("</th>", fp);
	}
	fputs("</tr></thead>\n<tbody>\n", fp);
	for (size_t i = 0; i < t->nrow; i++) {
		const struct cell *row = &t->cells[i * t->ncol];
		int flag = 0;

		/* A late honour row is marked; so is every violation. */
		for (size_t k = 0; k < t->ncol; k++)
			if (t->cols[k].type == C_BOOL && !row[k].null &&
			    row[k].v)
				flag = 1;
		fputs(flag ? "<tr class=\"late\">" : "<tr>", fp);
		for (size_t k = 0; k < t->ncol; k++) {
			const struct col *col = &t->cols[k];
			rstr s = cell_text(col, &row[k], buf, sizeof(buf));

			fputs(col->type == C_INT || col->type == C_DUR ?
			    "<td class=\"num\">" : "<td>", fp);
			enc_html_put(fp, s.p, s.n);
			fputs("</td>", fp);
		}
		fputs("</tr>\n", fp);
	}
	fputs("</tbody>\n</table>\n", fp);
}

/* The stacked bar chart of decisions per day by verdict, as inline SVG. */
static void
html_chart(FILE *fp, const struct tab *t)
{
	static const char *colour[NV] = { "#2e7d32", "#c62828", "#f9a825",
	    "#757575" };
	static const char *label[NV] = { "allow", "deny", "tempfail", "other" };
	const int H = 220, top = 16, bottom = 40, left = 56;
	int64_t max = 1;
	int bw, w, plot;

	for (size_t i = 0; i < t->nrow; i++)
		if (t->cells[i * t->ncol + 5].v > max)
			max = t->cells[i * t->ncol + 5].v;
	bw = t->nrow > 0 ? 720 / (int)t->nrow : 24;
	if (bw > 48)
		bw = 48;
	if (bw < 3)
		bw = 3;
	plot = H - top - bottom;
	w = left + bw * (int)t->nrow + 24;
	if (w < 420)
		w = 420;
	fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "aria-label=\"Decisions per day by verdict\">\n", w, H, w, H);
	fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	    "stroke=\"#999\"/>\n", left - 2, top + plot, w - 8, top + plot);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
	    "class=\"ax\">%" PRId64 "</text>\n", left - 6, top + 10, max);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
	    "class=\"ax\">0</text>\n", left - 6, top + plot);
	for (size_t i = 0; i < t->nrow; i++) {
		const struct cell *row = &t->cells[i * t->ncol];
		double y = top + plot;
		int x = left + bw * (int)i;

		fputs("<g><title>", fp);
		enc_html_put(fp, row[0].s, row[0].n);
		for (int k = 0; k < NV; k++)
			fprintf(fp, "%s%" PRId64 " %s", k ? ", " : ": ",
			    row[1 + k].v, label[k]);
		fputs("</title>", fp);
		for (int k = 0; k < NV; k++) {
			double h = (double)row[1 + k].v * plot / (double)max;

			if (row[1 + k].v == 0)
				continue;
			y -= h;
			fprintf(fp, "<rect x=\"%d\" y=\"%.2f\" width=\"%d\" "
			    "height=\"%.2f\" fill=\"%s\"/>", x, y,
			    bw > 4 ? bw - 2 : bw - 1, h, colour[k]);
		}
		fputs("</g>\n", fp);
	}
	if (t->nrow > 0) {
		const struct cell *first = &t->cells[0];
		const struct cell *last = &t->cells[(t->nrow - 1) * t->ncol];

		fprintf(fp, "<text x=\"%d\" y=\"%d\" class=\"ax\">", left,
		    top + plot + 16);
		enc_html_put(fp, first->s, first->n);
		fputs("</text>\n", fp);
		if (t->nrow > 1) {
			fprintf(fp, "<text x=\"%d\" y=\"%d\" "
			    "text-anchor=\"end\" class=\"ax\">",
			    left + bw * (int)t->nrow, top + plot + 30);
			enc_html_put(fp, last->s, last->n);
			fputs("</text>\n", fp);
		}
	}
	for (int k = 0; k < NV; k++) {
		int x = left + k * 90;

		fprintf(fp, "<rect x=\"%d\" y=\"2\" width=\"10\" "
		    "height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"11\" "
		    "class=\"ax\">%s</text>\n", x, colour[k], x + 14, label[k]);
	}
	fputs("</svg>\n", fp);
}

/* write_html - the one self-contained page: inline CSS and SVG, no script. */
static void
write_html(FILE *fp, const struct out *o)
{
	char buf[64];

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n"
	    "<title>Consent audit report</title>\n<style>\n"
	    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;"
	    "margin:2em;color:#222;max-width:1400px}\n"
	    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;"
	    "border-bottom:1px solid #ccc}\n"
	    "table{border-collapse:collapse;font-size:.85em;margin:.5em 0}\n"
	    "th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;"
	    "vertical-align:top}\n"
	    "th{background:#f3f3f3}td.num{text-align:right;"
	    "font-variant-numeric:tabular-nums}\n"
	    "tr.late td,#violations+table td{background:#fdecea}\n"
	    ".ok{color:#2e7d32;font-weight:bold}.bad{color:#c62828;"
	    "font-weight:bold}\n"
	    ".n{color:#777;font-weight:normal}.none{color:#777}\n"
	    "svg .ax{font-size:11px;fill:#555}\n"
	    "dl{display:grid;grid-template-columns:max-content auto;"
	    "gap:.2em 1.5em}dt{color:#555}dd{margin:0}\n"
	    "</style>\n</head>\n<body>\n", fp);
	fprintf(fp, "<h1>Consent audit report</h1>\n<p>Generated %s. ",
	    fmt_time(o->generated, buf, sizeof(buf)));
	if (o->violations == 0 && o->late == 0)
		fputs("<span class=\"ok\">No violation found.</span>", fp);
	else
		fprintf(fp, "<span class=\"bad\">%" PRIu64 " violation%s, %"
		    PRIu64 " unsubscribe%s honoured late.</span>",
		    o->violations, o->violations == 1 ? "" : "s", o->late,
		    o->late == 1 ? "" : "s");
	fputs("</p>\n<h2 id=\"summary\">Summary</h2>\n<dl>\n", fp);
	for (size_t i = 0; i < o->nkv; i++) {
		kv_text(&o->kv[i], buf, sizeof(buf));
		fputs("<dt>", fp);
		html_str(fp, o->kv[i].title);
		fputs("</dt><dd>", fp);
		html_str(fp, buf);
		fputs("</dd>\n", fp);
	}
	fputs("</dl>\n<h2 id=\"chart\">Decisions per day by verdict</h2>\n",
	    fp);
	html_chart(fp, &o->t[T_DAY]);
	html_table(fp, &o->t[T_VIOL], "violations");
	html_table(fp, &o->t[T_HONOUR], "honour");
	fputs("<p>Late: an allowed bulk delivery more than 2 days (Gmail, "
	    "Yahoo) or more than 10 business days, Monday to Friday in UTC, "
	    "no holidays (CAN-SPAM), after the unsubscribe.</p>\n", fp);
	html_table(fp, &o->t[T_VERDICT], "by-verdict");
	html_table(fp, &o->t[T_REASON], "by-reason");
	html_table(fp, &o->t[T_LIST], "by-list");
	html_table(fp, &o->t[T_DAY], "by-day");
	html_table(fp, &o->t[T_INPUT], "inputs");
	fputs("</body>\n</html>\n", fp);
}

/* ---- the command ---- */

#define F_TEXT	0
#define F_JSON	1
#define F_CSV	2
#define F_HTML	3

/* report_usage - print the usage; always CTL_ERR. */
static int
report_usage(struct ctl *c)
{
	ctl_err(c, "usage: consentctl audit report --audit FILE... "
	    "[--maillog FILE...] [--json | --csv | --html FILE]");
	return CTL_ERR;
}

/*
 * Load the pseudonym key when the audit holds pseudonyms and a mail log
 * needs joining.
 */
static int
key_setup(struct rep *R)
{
	unsigned char key[AUDIT_KEY_BYTES];
	char err[512];

	if (!R->maillog || !R->have_pseudo)
		return 0;
	if (R->c->cf.audit_key_file[0] == '\0')
		return util_fail(R->err, R->errlen, "the audit log holds pseudonyms: joining it "
		    "with the mail log needs the key (audit.key_file)");
	if (sodium_init() < 0)
		return util_fail(R->err, R->errlen, "libsodium failed to initialise");
	if (audit_key_load(R->c->cf.audit_key_file, key, err,
	    sizeof(err)) == -1)
		return util_fail(R->err, R->errlen, "%s", err);
	crypto_auth_hmacsha256_init(&R->hmac, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	R->keyed = 1;
	return 0;
}

/* rep_init - an empty report with the well-known symbols; 0 / -1 with err. */
static int
rep_init(struct rep *R, struct ctl *c, char *err, size_t errlen)
{
	memset(R, 0, sizeof(*R));
	R->c = c;
	R->err = err;
	R->errlen = errlen;
	R->audit_first = -1;
	R->log_first = -1;
	if ((R->rd.buf = malloc(READ_CHUNK)) == NULL)
		return oom(R);
	R->rd.cap = READ_CHUNK;
	if (table_init(&R->symt, 256) == -1 ||
	    table_init(&R->msgs, 1 << 14) == -1 ||
	    table_init(&R->rcpts, 1 << 10) == -1 ||
	    table_init(&R->days, 64) == -1)
		return oom(R);
	/* Id 0 is "": a field that is absent. */
	if (sym_lit(R, "", &R->s_open) == -1 ||
	    sym_lit(R, "open", &R->s_open) == -1 ||
	    sym_lit(R, "allow", &R->s_allow) == -1 ||
	    sym_lit(R, "deny", &R->s_deny) == -1 ||
	    sym_lit(R, "tempfail", &R->s_tempfail) == -1 ||
	    sym_lit(R, "bulk", &R->s_bulk) == -1 ||
	    sym_lit(R, "accepted", &R->s_accepted) == -1 ||
	    sym_lit(R, "tagged", &R->s_tagged) == -1 ||
	    sym_lit(R, "consent", &R->s_consent) == -1 ||
	    sym_lit(R, "suppression", &R->s_suppression) == -1 ||
	    sym_lit(R, "unsubscribed", &R->s_unsub) == -1 ||
	    sym_lit(R, "unsubscribed_all", &R->s_unsub_all) == -1 ||
	    sym_lit(R, "redirected", &R->s_redirected) == -1)
		return -1;
	/* The holding mailbox the milter itself adds for a redirect. */
	if (c->cf.redirect_to[0] != '\0') {
		struct addr a;
		char e[256];

		if (addr_normalize(c->cf.redirect_to, strlen(c->cf.redirect_to),
		    c->cf.addr_flags, c->cf.delims, &a, e, sizeof(e)) == 0)
			util_strlcpy(R->hold, a.key, sizeof(R->hold));
	}
	return 0;
}

/* rep_free - everything rep_init() and the reading made; NULL is a no-op. */
static void
rep_free(struct rep *R)
{
	if (R == NULL)
		return;
	for (size_t i = 0; R->in != NULL && i < R->nin; i++)
		input_close(&R->in[i]);
	free(R->rd.buf);
	free(R->in);
	table_free(&R->symt);
	table_free(&R->msgs);
	table_free(&R->rcpts);
	table_free(&R->days);
	free(R->syms);
	free(R->viol);
	free(R->scratch);
	sodium_memzero(&R->hmac, sizeof(R->hmac));
	arena_free(&R->a);
}

/*
 * The year and month of the newest audit line, for syslog times without a
 * year.
 */
static void
ref_time(struct rep *R)
{
	time_t t = R->audit_first >= 0 ? (time_t)(R->audit_last / 1000) :
	    (time_t)R->c->now;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL) {
		R->ref_year = 1970;
		R->ref_mon = 0;
		return;
	}
	R->ref_year = tm.tm_year + 1900;
	R->ref_mon = tm.tm_mon;
}

/* Write to a temporary file beside path, then rename: all or nothing. */
static int
write_html_file(struct rep *R, const char *path, const struct out *o)
{
	char tmp[4096];
	FILE *fp;
	int fd, bad;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
	    (long)getpid()) >= sizeof(tmp))
		return util_fail(R->err, R->errlen, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return util_fail(R->err, R->errlen, "%s: %s", tmp, strerror(errno));
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		return oom(R);
	}
	write_html(fp, o);
	bad = ferror(fp);
	if (fflush(fp) == EOF || fsync(fd) == -1)
		bad = 1;
	if (fclose(fp) == EOF)
		bad = 1;
	if (bad) {
		int e = errno;

		unlink(tmp);
		return util_fail(R->err, R->errlen, "%s: %s", path, strerror(e ? e : EIO));
	}
	if (rename(tmp, path) == -1) {
		int e = errno;

		unlink(tmp);
		return util_fail(R->err, R->errlen, "%s: %s", path, strerror(e));
	}
	return 0;
}

int
ctl_audit_report(struct ctl *c, int argc, char **argv)
{
	struct rep R;
	struct out o;
	char err[1024];
	const char *html = NULL;
	int format = F_TEXT, mode = 0, rc = CTL_ERR;
	size_t naudit = 0;

	memset(&o, 0, sizeof(o));
	if (rep_init(&R, c, err, sizeof(err)) == -1) {
		ctl_err(c, "audit report: %s", err);
		rep_free(&R);
		return CTL_ERR;
	}
	if ((R.in = calloc((size_t)argc + 1, sizeof(*R.in))) == NULL) {
		ctl_err(c, "audit report: out of memory");
		goto done;
	}
	/* --audit and --maillog each take the files that follow them. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int fmt = -1;

		if (strcmp(a, "--audit") == 0 || strcmp(a, "--maillog") == 0) {
			mode = a[2] == 'a' ? 1 : 2;
			if (i + 1 >= argc || (argv[i + 1][0] == '-' &&
			    argv[i + 1][1] == '-')) {
				ctl_err(c, "audit report: %s needs a FILE", a);
				goto usage;
			}
			continue;
		}
		if (strncmp(a, "--audit=", 8) == 0 ||
		    strncmp(a, "--maillog=", 10) == 0) {
			int ml = a[2] == 'm';

			R.in[R.nin].path = strchr(a, '=') + 1;
			R.in[R.nin++].maillog = ml;
			naudit += !ml;
			mode = 0;
			continue;
		}
		if (strcmp(a, "--json") == 0)
			fmt = F_JSON;
		else if (strcmp(a, "--csv") == 0)
			fmt = F_CSV;
		else if (strcmp(a, "--html") == 0) {
			if (i + 1 >= argc) {
				ctl_err(c, "audit report: --html needs a FILE");
				goto usage;
			}
			html = argv[++i];
			fmt = F_HTML;
		} else if (strncmp(a, "--html=", 7) == 0) {
			html = a + 7;
			fmt = F_HTML;
		} else if (a[0] == '-' && a[1] != '\0') {
			ctl_err(c, "audit report: unknown option %s", a);
			goto usage;
		} else if (mode == 0) {
			ctl_err(c, "audit report: %s: a file, but of what? "
			    "(--audit or --maillog first)", a);
			goto usage;
		} else {
			R.in[R.nin].path = a;
			R.in[R.nin++].maillog = mode == 2;
			naudit += mode == 1;
			continue;
		}
		mode = 0;
		if (format != F_TEXT && format != fmt) {
			ctl_err(c, "audit report: --json, --csv and --html "
			    "exclude each other");
			goto usage;
		}
		format = fmt;
	}
	if (naudit == 0) {
		if (c->cf.audit_file[0] == '\0') {
			ctl_err(c, "audit report: no --audit FILE and no "
			    "audit.file in the configuration");
			goto usage;
		}
		/* The configured log goes first: audit files are read first. */
		memmove(&R.in[1], &R.in[0], R.nin * sizeof(*R.in));
		memset(&R.in[0], 0, sizeof(R.in[0]));
		R.in[0].path = c->cf.audit_file;
		R.nin++;
	}
	if (R.nin > UINT16_MAX) {
		ctl_err(c, "audit report: too many files");
		goto done;
	}
	for (size_t i = 0; i < R.nin; i++) {
		if (input_open(&R, &R.in[i]) == -1)
			goto error;
		R.maillog |= R.in[i].maillog;
	}
	/* Every decision first: then each mail log line is judged as read. */
	for (size_t i = 0; i < R.nin; i++)
		if (!R.in[i].maillog && audit_load(&R, (int)i) == -1)
			goto error;
	if (key_setup(&R) == -1)
		goto error;
	ref_time(&R);
	for (size_t i = 0; i < R.nin; i++)
		if (R.in[i].maillog && maillog_load(&R, (int)i) == -1)
			goto error;
	if (judge(&R) == -1 || build(&R, &o) == -1)
		goto error;
	/* Every delivery of an audited message unknown: not the same key? */
	if (R.keyed && R.matched == 0 && R.nkind[K_NORCPT] > 0)
		ctl_err(c, "audit report: warning: no delivery matched a "
		    "decision: is %s the key the milter used?",
		    c->cf.audit_key_file);

	if (format == F_HTML) {
		if (write_html_file(&R, html, &o) == -1)
			goto error;
		printf("%s: %" PRIu64 " decisions, %" PRIu64 " violation%s, %"
		    PRIu64 " unsubscribe%s honoured late\n", html, R.ndec,
		    o.violations, o.violations == 1 ? "" : "s", o.late,
		    o.late == 1 ? "" : "s");
	} else {
		if (format == F_JSON)
			write_json(stdout, &o);
		else if (format == F_CSV)
			write_csv(stdout, &o);
		else
			write_text(stdout, &o);
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		ctl_err(c, "audit report: standard output: %s",
		    strerror(errno));
		goto done;
	}
	rc = o.violations > 0 || o.late > 0 ? CTL_NO : CTL_OK;
	goto done;
error:
	ctl_err(c, "audit report: %s", err);
	goto done;
usage:
	report_usage(c);
done:
	out_free(&o);
	rep_free(&R);
	return rc;
}
