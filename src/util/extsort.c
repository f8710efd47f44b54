/*
 * extsort.c - an external sort of key/value records in bounded memory.
 *
 * One block of the budget's size holds the records from its start and
 * their index (an 8-octet key prefix and the record's offset) from its
 * end; the index is sorted in place, so the block is all the sort holds.
 * When the next record does not fit, the index is sorted and the run
 * written out to the spill file.  Reading merges the runs through a
 * binary heap; ties go to the earlier run, and within a run to the
 * earlier offset, which is what makes the sort stable.
 */
#include <sys/mman.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/extsort.h"
#include "util/util.h"

#define MIN_BUDGET	(64u * 1024)
#define HDR		6		/* u16 key length, u32 value length */
#define WBUF		(1u << 20)	/* the spill file's write buffer */
#define RBUF_MIN	(16u * 1024)	/* a run's read buffer, at least */
#define RBUF_MAX	(4u << 20)	/* and at most */

struct ent {
	uint64_t pre[2];	/* the key's first 16 octets, big-endian */
	size_t	off;		/* the record's offset in the block */
};

struct run {
	uint64_t start, end;	/* where it is in the spill file */
	uint64_t pos;		/* the next octet to read */
	unsigned char *buf;
	size_t	cap, len, at;	/* buf holds [at, len) unread */
	size_t	cur;		/* octets of the current record at buf + at */
	const unsigned char *k, *v;
	size_t	kl, vl;
};

struct extsort {
	char	dir[4096];
	size_t	cap;		/* the block's size */
	unsigned char *blk;
	size_t	used;		/* octets of records from the block's start */
	size_t	n;		/* index entries at the block's end */
	int	fd;		/* the spill file, -1 before the first spill */
	unsigned char *wbuf;
	size_t	wlen;
	uint64_t wpos;		/* octets written to the spill file */
	struct run *runs;
	unsigned nruns, runcap;
	unsigned *heap;		/* run numbers, the least record first */
	unsigned nheap;
	int	popped;		/* run whose record was returned last, or -1 */
	size_t	ipos;		/* in memory: the next index entry */
	uint64_t count;
	int	finished;
};

static struct ent *
index_of(const struct extsort *x)
{
	return (struct ent *)(void *)(x->blk + x->cap) - x->n;
}

/* prefix - 8 octets of key from at as a big-endian number, zero-padded. */
static uint64_t
prefix(const unsigned char *k, size_t kl, size_t at)
{
	uint64_t p = 0;

	for (size_t i = at; i < at + 8; i++)
		p = p << 8 | (i < kl ? k[i] : 0);
	return p;
}

/* keycmp - LMDB's order: memcmp over the shorter, then the shorter first. */
static int
keycmp(const unsigned char *a, size_t al, const unsigned char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl;
}

static void
rec_parse(const unsigned char *p, const unsigned char **k, size_t *kl,
    const unsigned char **v, size_t *vl)
{
	uint16_t k16;
	uint32_t v32;

	memcpy(&k16, p, 2);
	memcpy(&v32, p + 2, 4);
	*kl = k16;
	*vl = v32;
	*k = p + HDR;
	*v = p + HDR + k16;
}

/* ent_cmp - by key, then by offset (the order added): stable. */
static inline int
ent_cmp(const struct ent *a, const struct ent *b, const unsigned char *blk)
{
	const unsigned char *ka, *kb, *va, *vb;
	size_t kla, klb, vla, vlb;
	int c;

	if (a->pre[0] != b->pre[0])
		return a->pre[0] < b->pre[0] ? -1 : 1;
	if (a->pre[1] != b->pre[1])
		return a->pre[1] < b->pre[1] ? -1 : 1;
	rec_parse(blk + a->off, &ka, &kla, &va, &vla);
	rec_parse(blk + b->off, &kb, &klb, &vb, &vlb);
	if ((c = keycmp(ka, kla, kb, klb)) != 0)
		return c;
	return a->off < b->off ? -1 : a->off > b->off;
}

static inline void
ent_swap(struct ent *a, struct ent *b)
{
	struct ent t = *a;

	*a = *b;
	*b = t;
}

/* heap_sift - a max-heap of n entries fixed from i down (heapsort). */
static void
ent_sift(struct ent *e, size_t n, size_t i, const unsigned char *blk)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < n && ent_cmp(&e[l], &e[m], blk) > 0)
			m = l;
		if (l + 1 < n && ent_cmp(&e[l + 1], &e[m], blk) > 0)
			m = l + 1;
		if (m == i)
			return;
		ent_swap(&e[i], &e[m]);
		i = m;
	}
}

/*
 * ent_sort - introsort in place: no buffer beside the index, and since
 * the offset breaks every tie no two entries compare equal, so the
 * result is the stable order whatever the algorithm.
 */
static void
ent_sort(struct ent *e, size_t n, unsigned depth, const unsigned char *blk)
{
	while (n > 16) {
		size_t i, j, mid = n / 2;

		if (depth-- == 0) {
			for (i = n / 2; i-- > 0;)
				ent_sift(e, n, i, blk);
			for (i = n - 1; i > 0; i--) {
				ent_swap(&e[0], &e[i]);
				ent_sift(e, i, 0, blk);
			}
			return;
		}
		/* Median of three into e[0]; e[n - 1] is then >= it. */
		if (ent_cmp(&e[mid], &e[0], blk) < 0)
			ent_swap(&e[mid], &e[0]);
		if (ent_cmp(&e[n - 1], &e[0], blk) < 0)
			ent_swap(&e[n - 1], &e[0]);
		if (ent_cmp(&e[n - 1], &e[mid], blk) < 0)
			ent_swap(&e[n - 1], &e[mid]);
		ent_swap(&e[0], &e[mid]);
		for (i = 0, j = n;;) {
			while (ent_cmp(&e[++i], &e[0], blk) < 0)
				;
			while (ent_cmp(&e[0], &e[--j], blk) < 0)
				;
			if (i >= j)
				break;
			ent_swap(&e[i], &e[j]);
		}
		ent_swap(&e[0], &e[j]);
		/* The smaller side by recursion, the larger by the loop. */
		if (j < n - j - 1) {
			ent_sort(e, j, depth, blk);
			e += j + 1;
			n -= j + 1;
		} else {
			ent_sort(e + j + 1, n - j - 1, depth, blk);
			n = j;
		}
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && ent_cmp(&e[j], &e[j - 1], blk) < 0;
		    j--)
			ent_swap(&e[j], &e[j - 1]);
}

static void
sort_index(struct extsort *x)
{
	unsigned depth = 0;

	for (size_t n = x->n; n > 0; n >>= 1)
		depth += 2;
	ent_sort(index_of(x), x->n, depth, x->blk);
}

/* extsort_new - an empty sorter (extsort.h); the caller frees it. */
int
extsort_new(struct extsort **xp, const char *dir, size_t budget, char *err,
    size_t errlen)
{
	struct extsort *x;

	*xp = NULL;
	if (strlen(dir) >= sizeof(x->dir))
		return util_fail(err, errlen, "%s: directory name too long", dir);
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return util_fail(err, errlen, "out of memory");
	util_strlcpy(x->dir, dir, sizeof(x->dir));
	x->cap = budget < MIN_BUDGET ? MIN_BUDGET : budget;
	x->cap -= x->cap % sizeof(struct ent);
	/* Untouched pages cost nothing: a small file stays small. */
	if ((x->blk = malloc(x->cap)) == NULL) {
		free(x);
		return util_fail(err, errlen, "out of memory (a sort buffer of "
		    "%zu MB)", budget >> 20);
	}
	/* The sort reads it at random: huge pages spare the TLB. */
	{
		uintptr_t a = ((uintptr_t)x->blk + 4095) & ~(uintptr_t)4095;
		size_t n = (x->cap - (a - (uintptr_t)x->blk)) & ~(size_t)4095;

		(void)madvise((void *)a, n, MADV_HUGEPAGE);
	}
	x->fd = -1;
	x->popped = -1;
	*xp = x;
	return 0;
}

/* write_all - n octets at the spill file's end. */
static int
write_all(struct extsort *x, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(x->fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
wflush(struct extsort *x)
{
	int rc = write_all(x, x->wbuf, x->wlen);

	x->wlen = 0;
	return rc;
}

/* open_spill - the spill file in dir, unlinked at once: a crash leaves nothing. */
static int
open_spill(struct extsort *x)
{
	char path[4200];

	if ((x->fd = util_tmpfd(x->dir, ".extsort", path, sizeof(path))) == -1)
		return -1;
	if ((x->wbuf = malloc(WBUF)) == NULL)
		return -1;
	return 0;
}

/* spill - sort what is in memory and write it out as one more run. */
static int
spill(struct extsort *x)
{
	struct ent *ix;
	struct run *r;

	if (x->fd == -1 && open_spill(x) == -1)
		return -1;
	if (x->nruns == x->runcap) {
		unsigned nc = x->runcap ? x->runcap * 2 : 16;

		if ((r = realloc(x->runs, nc * sizeof(*r))) == NULL)
			return -1;
		x->runs = r;
		x->runcap = nc;
	}
	sort_index(x);
	ix = index_of(x);
	r = &x->runs[x->nruns];
	memset(r, 0, sizeof(*r));
	r->start = x->wpos;
	for (size_t i = 0; i < x->n; i++) {
		const unsigned char *p = x->blk + ix[i].off, *k, *v;
		size_t kl, vl, len;

		rec_parse(p, &k, &kl, &v, &vl);
		len = HDR + kl + vl;
		if (x->wlen + len > WBUF && wflush(x) == -1)
			return -1;
		if (len > WBUF) {
			if (write_all(x, p, len) == -1)
				return -1;
		} else {
			memcpy(x->wbuf + x->wlen, p, len);
			x->wlen += len;
		}
		x->wpos += len;
	}
	if (wflush(x) == -1)
		return -1;
	r->end = x->wpos;
	x->nruns++;
	x->used = 0;
	x->n = 0;
	return 0;
}

/* fits - room for a record of len octets and its index entry. */
static int
fits(const struct extsort *x, size_t len)
{
	size_t need = x->used + len + (x->n + 1) * sizeof(struct ent);

	return need >= x->used && need <= x->cap;
}

/* extsort_add - one record into the sorter (extsort.h). */
int
extsort_add(struct extsort *x, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	size_t len = HDR + klen + vlen;
	uint16_t k16 = (uint16_t)klen;
	uint32_t v32 = (uint32_t)vlen;
	unsigned char *p;
	struct ent *e;

	if (x->finished) {
		errno = EINVAL;
		return -1;
	}
	if (klen > EXTSORT_KEY_MAX || vlen > EXTSORT_VAL_MAX ||
	    len + sizeof(struct ent) > x->cap) {
		errno = E2BIG;
		return -1;
	}
	if (!fits(x, len) && spill(x) == -1)
		return -1;
	p = x->blk + x->used;
	memcpy(p, &k16, 2);
	memcpy(p + 2, &v32, 4);
	memcpy(p + HDR, key, klen);
	if (vlen > 0)
		memcpy(p + HDR + klen, val, vlen);
	x->n++;
	e = index_of(x);
	e->pre[0] = prefix(key, klen, 0);
	e->pre[1] = prefix(key, klen, 8);
	e->off = x->used;
	x->used += len;
	x->count++;
	return 0;
}

/* run_next - the run's next record as its current one: 1, 0 at its end, -1. */
static int
run_next(struct run *r, int fd)
{
	size_t kl, vl, need;

	r->at += r->cur;
	r->cur = 0;
	for (need = HDR;;) {
		if (r->len - r->at >= need) {
			if (need > HDR)
				break;
			rec_parse(r->buf + r->at, &r->k, &kl, &r->v, &vl);
			need = HDR + kl + vl;
			continue;
		}
		if (r->at == r->len && r->pos == r->end)
			return 0;
		if (r->pos == r->end) {
			errno = EIO;	/* a record cut short */
			return -1;
		}
		memmove(r->buf, r->buf + r->at, r->len - r->at);
		r->len -= r->at;
		r->at = 0;
		if (need > r->cap) {
			unsigned char *nb = realloc(r->buf, need);

			if (nb == NULL)
				return -1;
			r->buf = nb;
			r->cap = need;
		}
		{
			size_t want = r->cap - r->len;
			ssize_t got;

			if (want > r->end - r->pos)
				want = (size_t)(r->end - r->pos);
			got = pread(fd, r->buf + r->len, want, (off_t)r->pos);
			if (got < 0) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			if (got == 0) {
				errno = EIO;
				return -1;
			}
			r->len += (size_t)got;
			r->pos += (uint64_t)got;
		}
	}
	rec_parse(r->buf + r->at, &r->k, &r->kl, &r->v, &r->vl);
	r->cur = need;
	return 1;
}

/* run_less - run a's record before run b's (b's number breaks a tie). */
static int
run_less(const struct extsort *x, unsigned a, unsigned b)
{
	const struct run *ra = &x->runs[a], *rb = &x->runs[b];
	int c = keycmp(ra->k, ra->kl, rb->k, rb->kl);

	return c < 0 || (c == 0 && a < b);
}

static void
heap_down(struct extsort *x, unsigned i)
{
	for (;;) {
		unsigned l = 2 * i + 1, m = i, t;

		if (l < x->nheap && run_less(x, x->heap[l], x->heap[m]))
			m = l;
		if (l + 1 < x->nheap && run_less(x, x->heap[l + 1], x->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		t = x->heap[i];
		x->heap[i] = x->heap[m];
		x->heap[m] = t;
		i = m;
	}
}

/* extsort_finish - sort, or spill the last run and make ready to merge. */
int
extsort_finish(struct extsort *x)
{
	size_t rb;

	if (x->finished)
		return 0;
	x->finished = 1;
	/* Small enough to keep, beside whatever the reader does next. */
	if (x->nruns == 0 && x->used + x->n * sizeof(struct ent) <= x->cap / 4) {
		sort_index(x);
		return 0;
	}
	if (x->n > 0 && spill(x) == -1)
		return -1;
	/* The merge needs none of it: give the memory back. */
	free(x->blk);
	x->blk = NULL;
	free(x->wbuf);
	x->wbuf = NULL;
	rb = x->cap / (2 * (size_t)x->nruns);
	rb = rb < RBUF_MIN ? RBUF_MIN : rb > RBUF_MAX ? RBUF_MAX : rb;
	for (unsigned i = 0; i < x->nruns; i++) {
		if ((x->runs[i].buf = malloc(rb)) == NULL)
			return -1;
		x->runs[i].cap = rb;
	}
	if ((x->heap = calloc(x->nruns, sizeof(*x->heap))) == NULL)
		return -1;
	return 0;
}

/* extsort_rewind - back to the first record in order (extsort.h). */
int
extsort_rewind(struct extsort *x)
{
	if (!x->finished) {
		errno = EINVAL;
		return -1;
	}
	x->ipos = 0;
	x->popped = -1;
	x->nheap = 0;
	for (unsigned i = 0; i < x->nruns; i++) {
		struct run *r = &x->runs[i];
		int rc;

		r->pos = r->start;
		r->len = r->at = r->cur = 0;
		if ((rc = run_next(r, x->fd)) == -1)
			return -1;
		if (rc == 1)
			x->heap[x->nheap++] = i;
	}
	for (unsigned i = x->nheap / 2; i-- > 0;)
		heap_down(x, i);
	return 0;
}

/* extsort_next - the next record in key order (extsort.h). */
int
extsort_next(struct extsort *x, const void **key, size_t *klen,
    const void **val, size_t *vlen)
{
	const struct run *r;

	if (!x->finished) {
		errno = EINVAL;
		return -1;
	}
	if (x->nruns == 0) {
		const unsigned char *k, *v;

		if (x->ipos == x->n)
			return 0;
		rec_parse(x->blk + index_of(x)[x->ipos++].off, &k, klen, &v,
		    vlen);
		*key = k;
		*val = v;
		return 1;
	}
	if (x->popped != -1) {
		int rc = run_next(&x->runs[x->popped], x->fd);

		if (rc == -1)
			return -1;
		if (rc == 0)
			x->heap[0] = x->heap[--x->nheap];
		x->popped = -1;
		heap_down(x, 0);
	}
	if (x->nheap == 0)
		return 0;
	x->popped = (int)x->heap[0];
	r = &x->runs[x->popped];
	*key = r->k;
	*klen = r->kl;
	*val = r->v;
	*vlen = r->vl;
	return 1;
}

uint64_t
extsort_count(const struct extsort *x)
{
	return x->count;
}

unsigned
extsort_runs(const struct extsort *x)
{
	return x->nruns;
}

uint64_t
extsort_spilled(const struct extsort *x)
{
	return x->wpos;
}

/* extsort_free - the sorter, its buffers and its file; NULL is a no-op. */
void
extsort_free(struct extsort *x)
{
	if (x == NULL)
		return;
	if (x->fd != -1)
		close(x->fd);
	for (unsigned i = 0; i < x->nruns; i++)
		free(x->runs[i].buf);
	free(x->runs);
	free(x->heap);
	free(x->wbuf);
	free(x->blk);
	free(x);
}
