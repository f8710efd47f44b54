/*
 * rep.c - the audit report's model (rep.h): interning, the tables of
 * messages and recipients, the lookup of the decision a delivery rests
 * on, and the report's birth and death.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl/rep.h"

#define IDX_MIN		16	/* recipients before a message gets an index */

int
rep_oom(struct rep *R)
{
	return util_fail(R->err, R->errlen, "out of memory");
}

int
rep_read_error(struct rep *R, const struct input *in)
{
	if (errno == ENOMEM)
		return rep_oom(R);
	return util_fail(R->err, R->errlen, "%s: %s", in->path,
	    strerror(errno));
}

int
rep_eq(rstr a, const char *b)
{
	size_t n = strlen(b);

	return a.n == n && memcmp(a.p, b, n) == 0;
}

rstr
rep_trim(rstr s)
{
	while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
		s.n--;
	return s;
}

/* view_eq - the view an item starts with matches the view key. */
static int
view_eq(const void *item, const void *key)
{
	const rstr *s = item, *k = key;

	return s->n == k->n && memcmp(s->p, k->p, k->n) == 0;
}

char *
rep_dup(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		if (n > 0)
			memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

int
rep_sym(struct rep *R, rstr s, uint32_t *id)
{
	uint64_t h;
	struct sym *y;

	if (s.p == NULL)
		s.p = "";	/* an absent field */
	h = htab_hash(s.p, s.n);
	if ((y = htab_find(&R->symt, h, view_eq, &s)) != NULL) {
		*id = y->id;
		return 0;
	}
	if (R->nsyms == R->symcap) {
		size_t cap = R->symcap ? R->symcap * 2 : 64;
		struct sym **v = realloc(R->syms, cap * sizeof(*v));

		if (v == NULL)
			return rep_oom(R);
		R->syms = v;
		R->symcap = cap;
	}
	if ((y = arena_alloc(&R->a, sizeof(*y))) == NULL)
		return rep_oom(R);
	memset(y, 0, sizeof(*y));
	if ((y->s.p = arena_copy(&R->a, s.p, s.n)) == NULL)
		return rep_oom(R);
	y->s.n = s.n;
	y->id = (uint32_t)R->nsyms;
	if (htab_put(&R->symt, h, y) == -1)
		return rep_oom(R);
	R->syms[R->nsyms++] = y;
	*id = y->id;
	return 0;
}

/* tri_eq - an interned triple matches the key triple. */
static int
tri_eq(const void *item, const void *key)
{
	const struct tri *a = item, *b = key;

	return a->verdict_sym == b->verdict_sym && a->reason == b->reason &&
	    a->outcome == b->outcome;
}

int
rep_tri(struct rep *R, uint32_t v, uint32_t r, uint32_t o, uint32_t *id)
{
	struct tri k = { v, r, o, 0 }, *y = R->lasttri;
	uint64_t h;

	if (y != NULL && tri_eq(y, &k)) {
		*id = y->id;
		return 0;
	}
	h = htab_mix(((uint64_t)v << 42) ^ ((uint64_t)r << 21) ^ o);
	if ((y = htab_find(&R->trit, h, tri_eq, &k)) == NULL) {
		if (R->ntri == R->tricap) {
			size_t cap = R->tricap ? R->tricap * 2 : 16;
			struct tri **nv = realloc(R->tris, cap * sizeof(*nv));

			if (nv == NULL)
				return rep_oom(R);
			R->tris = nv;
			R->tricap = cap;
		}
		if ((y = arena_alloc(&R->a, sizeof(*y))) == NULL)
			return rep_oom(R);
		*y = k;
		y->id = (uint32_t)R->ntri;
		if (htab_put(&R->trit, h, y) == -1)
			return rep_oom(R);
		R->tris[R->ntri++] = y;
	}
	R->lasttri = y;
	*id = y->id;
	return 0;
}

/* sym_lit - rep_sym() for a C string. */
static int
sym_lit(struct rep *R, const char *s, uint32_t *id)
{
	rstr k = { s, strlen(s) };

	return rep_sym(R, k, id);
}

int
rep_keep(struct rep *R, rstr *s)
{
	if (s->p == NULL)
		return 0;
	if ((s->p = arena_copy(&R->a, s->p, s->n)) == NULL)
		return rep_oom(R);
	return 0;
}

int
rep_str(struct rep *R, const char *s, rstr *out)
{
	out->n = strlen(s);
	if ((out->p = arena_copy(&R->a, s, out->n)) == NULL)
		return rep_oom(R);
	return 0;
}

#define LOC_FILE(l)	((int)((l) >> 48))
#define LOC_OFF(l)	((off_t)((l) & ((UINT64_C(1) << 48) - 1)))

int
rep_msgid_set(struct rep *R, struct msg *m, rstr id, int file)
{
	m->mid_n = (uint32_t)id.n;
	m->mid_h = rep_msgid_hash(id);
	if (file >= 0 && R->in[file].regular &&
	    R->in[file].line_off < (UINT64_C(1) << 48) && id.n <= UINT32_MAX) {
		m->mid.loc = (uint64_t)file << 48 | R->in[file].line_off;
		m->flags |= M_MIDLOC;
		return 0;
	}
	if ((m->mid.p = rep_dup(id.p, id.n)) == NULL)
		return rep_oom(R);
	return 0;
}

/* changed - the error for an audit line that no longer reads as it did. */
static int
changed(struct rep *R, const struct input *in)
{
	return util_fail(R->err, R->errlen, "%s: changed while the report "
	    "read it", in->path);
}

/*
 * line_at - the line at off in in, into *buf (*cap octets, grown and
 * kept; the caller frees), *len long; 0 / -1 with err.  It reads 4 KiB,
 * then twice what it has, so a buffer grown once does not make every
 * later line a long read.
 */
static int
line_at(struct rep *R, const struct input *in, off_t off, char **buf,
    size_t *cap, size_t *len)
{
	size_t n = 0;

	for (;;) {
		size_t want = n < 4096 ? 4096 - n : n;
		ssize_t got;
		char *nl;

		if (*cap < n + want) {
			char *b = realloc(*buf, n + want);

			if (b == NULL)
				return rep_oom(R);
			*buf = b;
			*cap = n + want;
		}
		if ((got = pread(in->fd, *buf + n, want, off + (off_t)n)) == -1) {
			if (errno == EINTR)
				continue;
			return util_fail(R->err, R->errlen, "%s: %s", in->path,
			    strerror(errno));
		}
		if ((nl = memchr(*buf + n, '\n', (size_t)got)) != NULL) {
			*len = (size_t)(nl - *buf);
			return 0;
		}
		n += (size_t)got;
		if (got == 0) {
			*len = n;	/* the last line, without a newline */
			return 0;
		}
	}
}

int
rep_msgid(struct rep *R, struct msg *m, rstr *out)
{
	const struct input *in;
	struct audit_fields f;
	char why[256];
	size_t len = 0;
	rstr id;

	out->p = "";
	out->n = 0;
	if (m->mid_n == 0)
		return 0;
	if (!(m->flags & M_MIDLOC)) {
		out->p = m->mid.p;
		out->n = m->mid_n;
		return 0;
	}
	in = &R->in[LOC_FILE(m->mid.loc)];
	if (line_at(R, in, LOC_OFF(m->mid.loc), &R->rbuf, &R->rbufcap,
	    &len) == -1)
		return -1;
	if (len + 1 > R->rdeccap) {
		char *d = realloc(R->rdec, len + 1);

		if (d == NULL)
			return rep_oom(R);
		R->rdec = d;
		R->rdeccap = len + 1;
	}
	/* It scanned once; the same octets scan the same. */
	if (audit_scan(R->rbuf, len, R->rdec, R->rdeccap, &f, why,
	    sizeof(why)) == -1)
		return changed(R, in);
	id = rep_trim(f.msgid);
	if (id.n != m->mid_n || rep_msgid_hash(id) != m->mid_h)
		return changed(R, in);
	if ((m->mid.p = rep_dup(id.p, id.n)) == NULL)
		return rep_oom(R);
	m->flags &= (uint16_t)~M_MIDLOC;
	out->p = m->mid.p;
	out->n = id.n;
	return 0;
}

/* msg_eq - message number item has the queue id key. */
static int
msg_eq(const void *ctx, uint32_t item, const void *key)
{
	const struct msg *m = rep_msg_at(ctx, item);
	const rstr *q = key;

	rstr id = rep_qid(m);

	return id.n == q->n && memcmp(id.p, q->p, q->n) == 0;
}

struct msg *
rep_msg_find(const struct rep *R, rstr qid)
{
	uint32_t v = htab32_find(&R->msgs, htab_hash(qid.p, qid.n), msg_eq,
	    R, &qid);

	return v != 0 ? rep_msg_at(R, v - 1) : NULL;
}

int
rep_nums_push(struct nums *f, uint32_t n)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		uint32_t *v = realloc(f->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = n;
	return 0;
}

/*
 * msg_new - a message slot, a retired one's first, zeroed and numbered
 * into *num; NULL out of memory.
 */
static struct msg *
msg_new(struct rep *R, uint32_t *num)
{
	struct msg *m;

	if (R->msgfree.n > 0) {
		*num = R->msgfree.v[--R->msgfree.n];
		m = rep_msg_at(R, *num);
		memset(m, 0, sizeof(*m));
		m->num = *num;
		return m;
	}
	if (R->msgn == UINT32_MAX - 1)
		return NULL;
	if (R->msgn % MSGBLOCK == 0) {
		if (R->nmsgblk == R->msgblkcap) {
			size_t cap = R->msgblkcap ? R->msgblkcap * 2 : 64;
			struct msg **v = realloc(R->msgblk, cap * sizeof(*v));

			if (v == NULL)
				return NULL;
			R->msgblk = v;
			R->msgblkcap = cap;
		}
		if ((R->msgblk[R->nmsgblk] = arena_alloc(&R->a, MSGBLOCK *
		    sizeof(struct msg))) == NULL)
			return NULL;
		R->nmsgblk++;
	}
	*num = R->msgn++;
	m = rep_msg_at(R, *num);
	memset(m, 0, sizeof(*m));
	m->num = *num;
	return m;
}

/* msg_get - rep_msg(), its number into *num. */
static struct msg *
msg_get(struct rep *R, rstr qid, uint32_t *num)
{
	uint64_t h = htab_hash(qid.p, qid.n);
	uint32_t v = htab32_find(&R->msgs, h, msg_eq, R, &qid);
	struct msg *m;

	if (v != 0) {
		*num = v - 1;
		return rep_msg_at(R, v - 1);
	}
	if ((m = msg_new(R, num)) == NULL)
		return NULL;
	m->recv = -1;
	m->last_key = R->now;	/* idle from here, if nothing more comes */
	R->made++;
	/* Postfix's queue ids fit: no copy of their own. */
	if (qid.n <= QID_INLINE) {
		memcpy(m->q.in, qid.p, qid.n);
		m->qn = (uint8_t)qid.n;
	} else {
		m->q.ext.n = qid.n;
		m->qn = QID_EXT;
		if ((m->q.ext.p = rep_dup(qid.p, qid.n)) == NULL) {
			m->qn = 0;
			(void)rep_nums_push(&R->msgfree, *num);
			return NULL;
		}
	}
	if (htab32_put(&R->msgs, h, *num) == -1) {
		if (m->qn == QID_EXT)
			rep_text_free(m->q.ext.p);
		m->qn = 0;
		(void)rep_nums_push(&R->msgfree, *num);
		return NULL;
	}
	return m;
}

struct msg *
rep_msg(struct rep *R, rstr qid)
{
	uint32_t num;

	return msg_get(R, qid, &num);
}

struct msg *
rep_msg_of(struct rep *R, rstr qid, uint32_t *num)
{
	struct msg *m = R->lastm;
	uint32_t n;

	if (m != NULL) {
		rstr id = rep_qid(m);

		if (id.n == qid.n && memcmp(id.p, qid.p, qid.n) == 0) {
			if (num != NULL)
				*num = R->lastmn;
			return m;
		}
	}
	if ((m = msg_get(R, qid, &n)) != NULL) {
		R->lastm = m;
		R->lastmn = n;
		if (num != NULL)
			*num = n;
	}
	return m;
}

struct msgx *
rep_msgx(struct rep *R, struct msg *m)
{
	struct msgx *x;
	uint32_t n;

	if (m->x != 0)
		return rep_x(R, m);
	if (R->xfree.n > 0) {
		n = R->xfree.v[--R->xfree.n];
		x = &R->xblk[n / MSGXBLOCK][n % MSGXBLOCK];
		memset(x, 0, sizeof(*x));
		x->num = n;
		m->x = n + 1;
		return x;
	}
	if (R->xn == UINT32_MAX - 1)
		return NULL;
	if (R->xn % MSGXBLOCK == 0) {
		if (R->nxblk == R->xblkcap) {
			size_t cap = R->xblkcap ? R->xblkcap * 2 : 64;
			struct msgx **v = realloc(R->xblk, cap * sizeof(*v));

			if (v == NULL)
				return NULL;
			R->xblk = v;
			R->xblkcap = cap;
		}
		if ((R->xblk[R->nxblk] = arena_alloc(&R->a, MSGXBLOCK *
		    sizeof(struct msgx))) == NULL)
			return NULL;
		R->nxblk++;
	}
	x = &R->xblk[R->xn / MSGXBLOCK][R->xn % MSGXBLOCK];
	memset(x, 0, sizeof(*x));
	x->num = R->xn;
	m->x = ++R->xn;
	return x;
}

int
rep_pin(struct rep *R, struct msg *m)
{
	struct msgx *x = rep_msgx(R, m);

	if (x == NULL)
		return rep_oom(R);
	x->pins++;
	return 0;
}

int
rep_mid_index(struct rep *R, struct msg *m)
{
	if ((m->flags & M_MIDIDX) || m->ndec == 0 || m->mid_n == 0)
		return 0;
	if (htab32_put(&R->mids, m->mid_h, m->num) == -1)
		return rep_oom(R);
	m->flags |= M_MIDIDX;
	return 0;
}

struct dec *
rep_dec_new(struct rep *R, uint32_t *num)
{
	struct dec *d;

	if (R->decfree.n > 0)
		*num = R->decfree.v[--R->decfree.n];
	else {
		if (R->decn == UINT32_MAX - 1)
			return NULL;
		if (R->decn % DECBLOCK == 0) {
			if (R->ndecblk == R->decblkcap) {
				size_t cap = R->decblkcap ? R->decblkcap * 2 :
				    64;
				struct decblock **v = realloc(R->decblk,
				    cap * sizeof(*v));

				if (v == NULL)
					return NULL;
				R->decblk = v;
				R->decblkcap = cap;
			}
			if ((R->decblk[R->ndecblk] = arena_alloc(&R->a,
			    sizeof(struct decblock))) == NULL)
				return NULL;
			R->ndecblk++;
		}
		*num = R->decn++;
	}
	d = rep_dec_at(R, *num);
	memset(d, 0, sizeof(*d));
	return d;
}

void
rep_dec_drop(struct rep *R, struct dec *d, uint32_t num)
{
	if (!(d->flags & D_BIN))
		rep_text_free(d->rk.s.p);
	memset(d, 0, sizeof(*d));
	/* A slot that cannot be listed is only not used again. */
	(void)rep_nums_push(&R->decfree, num);
}

void
rep_msg_drop(struct rep *R, struct msg *m)
{
	struct msgx *x = rep_x(R, m);
	rstr q = rep_qid(m);

	(void)htab32_del(&R->msgs, htab_hash(q.p, q.n), m->num);
	if (m->flags & M_MIDIDX)
		(void)htab32_del(&R->mids, m->mid_h, m->num);
	if (R->lastm == m)
		R->lastm = NULL;
	if (m->qn == QID_EXT)
		rep_text_free(m->q.ext.p);
	if (m->mid_n > 0 && !(m->flags & M_MIDLOC))
		rep_text_free(m->mid.p);
	if (x != NULL) {
		struct pend *pd, *next;

		for (pd = x->pend; pd != NULL; pd = next) {
			next = pd->next;
			free(pd);
		}
		free(x->idx);
		free(x->cands);
		(void)rep_nums_push(&R->xfree, x->num);
		memset(x, 0, sizeof(*x));
	}
	(void)rep_nums_push(&R->msgfree, m->num);
	memset(m, 0, sizeof(*m));
}

int
rep_viol_msg(struct rep *R, struct viol *v, struct msg *m)
{
	rstr id;

	if (rep_msgid(R, m, &id) == -1)
		return -1;
	v->has_m = 1;
	v->m = *m;
	v->m.x = v->m.decs = 0;
	v->m.flags &= (uint16_t)~(M_MIDLOC | M_MIDIDX);
	if (m->qn == QID_EXT && rep_keep(R, &v->m.q.ext) == -1)
		return -1;
	v->m.mid.p = id.p;
	v->m.mid_n = (uint32_t)id.n;
	if (id.n > 0 && (v->m.mid.p = arena_copy(&R->a, id.p, id.n)) == NULL)
		return rep_oom(R);
	return 0;
}

struct rcpt *
rep_rcpt_find(const struct rep *R, rstr s, uint64_t h)
{
	return htab_find(&R->rcpts, h, view_eq, &s);
}

struct rcpt *
rep_rcpt(struct rep *R, rstr s, uint64_t h)
{
	struct rcpt *r = rep_rcpt_find(R, s, h);

	if (r != NULL)
		return r;
	if ((r = arena_alloc(&R->a, sizeof(*r))) == NULL)
		return NULL;
	r->s = s;
	r->unsubs = NULL;
	if (rep_keep(R, &r->s) == -1)
		return NULL;
	if (htab_put(&R->rcpts, h, r) == -1)
		return NULL;
	return r;
}


/* The value of each octet as a lowercase hex digit, or -1: a line's worth a decision. */
static const signed char lhex[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

int
rep_pseudo_bin(rstr s, unsigned char bin[16])
{
	const unsigned char *p;

	if (s.n != 34 || s.p[0] != 'h' || s.p[1] != ':')
		return 0;
	p = (const unsigned char *)s.p + 2;
	for (int i = 0; i < 16; i++) {
		int hi = lhex[p[2 * i]], lo = lhex[p[2 * i + 1]];

		if ((hi | lo) < 0)
			return 0;
		bin[i] = (unsigned char)(hi << 4 | lo);
	}
	return 1;
}

rstr
rep_dec_rcpt(const struct dec *d, char *buf)
{
	static const char digits[] = "0123456789abcdef";
	rstr s;

	if (!(d->flags & D_BIN))
		return d->rk.s;
	buf[0] = 'h';
	buf[1] = ':';
	for (int i = 0; i < 16; i++) {
		buf[2 + 2 * i] = digits[d->rk.bin[i] >> 4];
		buf[3 + 2 * i] = digits[d->rk.bin[i] & 15];
	}
	buf[34] = '\0';
	s.p = buf;
	s.n = 34;
	return s;
}

int
rep_dec_text(struct rep *R, const struct dec *d, rstr *out)
{
	char buf[REP_RCPT_BUF];

	/* The decision's own text goes with it. */
	*out = rep_dec_rcpt(d, buf);
	return rep_keep(R, out);
}

/* A recipient key as decisions hold it: octets for a pseudonym, else text. */
struct rkey {
	const rstr *s;
	int	bin;
	unsigned char b[16];
};

/* dec_is - d is about recipient k. */
static int
dec_is(const struct dec *d, const struct rkey *k)
{
	if (d->flags & D_BIN)
		return k->bin && memcmp(d->rk.bin, k->b, 16) == 0;
	return !k->bin && d->rk.s.n == k->s->n &&
	    memcmp(d->rk.s.p, k->s->p, k->s->n) == 0;
}

/* dec_hash - the hash of d's recipient text, as lookups hash their key. */
static uint64_t
dec_hash(const struct dec *d)
{
	char buf[REP_RCPT_BUF];
	rstr s = rep_dec_rcpt(d, buf);

	return htab_hash(s.p, s.n);
}

/* dec_same - a and b are about the same recipient. */
static int
dec_same(const struct dec *a, const struct dec *b)
{
	if ((a->flags ^ b->flags) & D_BIN)
		return 0;
	if (a->flags & D_BIN)
		return memcmp(a->rk.bin, b->rk.bin, 16) == 0;
	return a->rk.s.n == b->rk.s.n &&
	    memcmp(a->rk.s.p, b->rk.s.p, a->rk.s.n) == 0;
}

/* dec_later - a is the later of two decisions about one recipient. */
static int
dec_later(const struct dec *a, const struct dec *b)
{
	return b == NULL || a->t_ms > b->t_ms;
}

/*
 * msg_index - for a message with many recipients, an open-addressing
 * index of its decisions by recipient, made on first use; -1 out of memory.
 */
static int
msg_index(struct rep *R, struct msg *m)
{
	struct msgx *x = rep_msgx(R, m);
	size_t size = 32;

	if (x == NULL)
		return rep_oom(R);
	while (size < (size_t)m->ndec * 2)
		size *= 2;
	if ((x->idx = calloc(size, sizeof(*x->idx))) == NULL)
		return rep_oom(R);
	x->idxmask = size - 1;
	/* Newest first: an older duplicate only replaces on a later time. */
	for (struct dec *d = rep_decs(R, m); d != NULL;
	    d = rep_dec_next(R, d)) {
		size_t i;

		for (i = (size_t)dec_hash(d) & x->idxmask; x->idx[i] != NULL;
		    i = (i + 1) & x->idxmask)
			if (dec_same(x->idx[i], d))
				break;
		if (x->idx[i] == NULL || dec_later(d, x->idx[i]))
			x->idx[i] = d;
	}
	return 0;
}

struct dec *
rep_dec_find(struct rep *R, struct msg *m, const rstr *k, uint64_t h,
    int64_t t, int *err)
{
	struct dec *best = NULL;
	int64_t limit = t >= INT64_MAX / 1000 - JOIN_SLACK ? INT64_MAX :
	    (t + JOIN_SLACK) * 1000;
	struct rkey key;

	key.s = k;
	key.bin = rep_pseudo_bin(*k, key.b);
	if (m->ndec >= IDX_MIN) {
		struct msgx *x;

		if ((m->x == 0 || rep_x(R, m)->idx == NULL) &&
		    msg_index(R, m) == -1) {
			*err = 1;
			return NULL;
		}
		x = rep_x(R, m);
		for (size_t i = (size_t)h & x->idxmask; x->idx[i] != NULL;
		    i = (i + 1) & x->idxmask)
			if (dec_is(x->idx[i], &key)) {
				if (x->idx[i]->t_ms <= limit)
					return x->idx[i];
				break;	/* a later one: look for an earlier */
			}
	}
	for (struct dec *d = rep_decs(R, m); d != NULL; d = rep_dec_next(R, d))
		if (dec_is(d, &key) && d->t_ms <= limit && dec_later(d, best))
			best = d;
	return best;
}

int
rep_viol_add(struct rep *R, const struct viol *v)
{
	if (R->nviol == R->violcap) {
		size_t cap = R->violcap ? R->violcap * 2 : 64;
		struct viol *nv = realloc(R->viol, cap * sizeof(*nv));

		if (nv == NULL)
			return rep_oom(R);
		R->viol = nv;
		R->violcap = cap;
	}
	R->viol[R->nviol++] = *v;
	R->nkind[v->kind]++;
	return 0;
}

/* well_known - the symbols the readers compare with; 0 / -1. */
static int
well_known(struct rep *R)
{
	uint32_t empty;

	/* Id 0 is "": a field that is absent. */
	if (sym_lit(R, "", &empty) == -1 ||
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
	return 0;
}

int
rep_init(struct rep *R, struct ctl *c, char *err, size_t errlen)
{
	memset(R, 0, sizeof(*R));
	R->c = c;
	R->err = err;
	R->errlen = errlen;
	R->audit_first = -1;
	R->log_first = -1;
	if (lines_init(&R->rd, READ_CHUNK) == -1 ||
	    htab_init(&R->symt, 256) == -1 ||
	    htab32_init(&R->msgs, 1 << 14) == -1 ||
	    htab32_init(&R->mids, 1 << 12) == -1 ||
	    htab_init(&R->fbq, 64) == -1 ||
	    htab_init(&R->fbdays, 256) == -1 ||
	    htab_init(&R->rcpts, 1 << 10) == -1 ||
	    htab_init(&R->days, 64) == -1 ||
	    htab_init(&R->trit, 16) == -1)
		return rep_oom(R);
	if (well_known(R) == -1)
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

void
rep_free(struct rep *R)
{
	if (R == NULL)
		return;
	lines_free(&R->rd);
	/* A report that stopped early leaves messages alive. */
	for (size_t i = 0; R->msgs.s != NULL && i <= R->msgs.mask; i++) {
		uint32_t v = R->msgs.s[i].v;

		if (v != 0) {
			struct msg *m = rep_msg_at(R, v - 1);

			for (uint32_t n = m->decs; n != 0;) {
				struct dec *d = rep_dec_at(R, n - 1);
				uint32_t next = d->next;

				rep_dec_drop(R, d, n - 1);
				n = next;
			}
			rep_msg_drop(R, m);
			i--;	/* the deletion pulled a later slot here */
		}
	}
	for (struct unsub *u = R->unsubs; u != NULL; u = u->all_next)
		free(u->late_qid);
	htab_free(&R->symt);
	htab32_free(&R->msgs);
	htab32_free(&R->mids);
	htab_free(&R->fbq);
	htab_free(&R->fbdays);
	free(R->decfree.v);
	free(R->msgfree.v);
	free(R->xfree.v);
	free(R->due.v);
	free(R->msgblk);
	free(R->decblk);
	free(R->xblk);
	htab_free(&R->rcpts);
	htab_free(&R->days);
	htab_free(&R->trit);
	free(R->tris);
	free(R->syms);
	free(R->viol);
	free(R->rbuf);
	free(R->rdec);
	sodium_memzero(&R->hmac, sizeof(R->hmac));
	arena_free(&R->a);
}
