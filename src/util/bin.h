/*
 * bin.h - the one big-endian writer and reader for the project's binary
 * forms (the store's record, the fleet's change), and their varints
 * (LEB128, for the record's times and counts).  Both keep a sticky
 * failure, so an encoder or decoder runs straight through and checks once
 * at the end; the reader names the first field that was wrong.
 *
 * Inline: the record reader sits under every lookup the filter makes.
 */
#ifndef UTIL_BIN_H
#define UTIL_BIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A writer into p[0..cap); p NULL only measures (len grows, nothing written). */
struct bin_w {
	unsigned char *p;
	size_t	len, cap;
	int	bad;		/* set once something did not fit */
};

/* A reader over p[0..len). */
struct bin_r {
	const unsigned char *p;
	size_t	len, off;
	const char *why;	/* the first field found wrong, or NULL */
};

/* bin_put - n octets of src, or w->bad when they do not fit. */
static inline void
bin_put(struct bin_w *w, const void *src, size_t n)
{
	if (w->p != NULL) {
		if (w->bad || n > w->cap - w->len) {
			w->bad = 1;
			return;
		}
		memcpy(w->p + w->len, src, n);
	}
	w->len += n;
}

/* bin_put_u8 - one octet. */
static inline void
bin_put_u8(struct bin_w *w, unsigned v)
{
	unsigned char b = (unsigned char)v;

	bin_put(w, &b, 1);
}

/* bin_put_u16 - two octets, high first. */
static inline void
bin_put_u16(struct bin_w *w, unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	bin_put(w, b, 2);
}

/* bin_put_i64 - eight octets, high first, two's complement. */
static inline void
bin_put_i64(struct bin_w *w, int64_t v)
{
	uint64_t u = (uint64_t)v;
	unsigned char b[8];

	for (int i = 7; i >= 0; i--, u >>= 8)
		b[i] = (unsigned char)u;
	bin_put(w, b, 8);
}

/*
 * bin_put_uvarint - v as an unsigned LEB128 varint: seven bits an octet,
 * the lowest first, the high bit set on every octet but the last (1 to 10
 * octets; a time of today takes 5).
 */
static inline void
bin_put_uvarint(struct bin_w *w, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;

	while (v >= 0x80) {
		b[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (unsigned char)v;
	bin_put(w, b, n);
}

/* bin_zigzag - v with its sign in the low bit (0, -1, 1, -2 as 0, 1, 2, 3). */
static inline uint64_t
bin_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
}

/* bin_put_svarint - a signed v, zigzagged, as a uvarint. */
static inline void
bin_put_svarint(struct bin_w *w, int64_t v)
{
	bin_put_uvarint(w, bin_zigzag(v));
}

/* bin_put_str - a length octet and s; longer than max (or 255) is bad. */
static inline void
bin_put_str(struct bin_w *w, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max || n > 255) {
		w->bad = 1;
		return;
	}
	bin_put_u8(w, (unsigned)n);
	bin_put(w, s, n);
}

/* bin_need - 0 if n more octets are there, else -1 and what is to blame. */
static inline int
bin_need(struct bin_r *r, size_t n, const char *what)
{
	if (r->why != NULL)
		return -1;
	if (r->len - r->off < n) {
		r->why = what;
		return -1;
	}
	return 0;
}

/* bin_u8 - one octet, 0 once the reader has failed. */
static inline unsigned
bin_u8(struct bin_r *r, const char *what)
{
	if (bin_need(r, 1, what))
		return 0;
	return r->p[r->off++];
}

/* bin_u16 - two octets, high first. */
static inline unsigned
bin_u16(struct bin_r *r, const char *what)
{
	unsigned v;

	if (bin_need(r, 2, what))
		return 0;
	v = (unsigned)r->p[r->off] << 8 | r->p[r->off + 1];
	r->off += 2;
	return v;
}

/* bin_i64 - eight octets, high first. */
static inline int64_t
bin_i64(struct bin_r *r, const char *what)
{
	uint64_t u = 0;

	if (bin_need(r, 8, what))
		return 0;
	for (int i = 0; i < 8; i++)
		u = u << 8 | r->p[r->off + i];
	r->off += 8;
	return (int64_t)u;
}

/*
 * bin_uvarint - a varint written by bin_put_uvarint.  Only its shortest
 * form is read (a last octet of 0 after the first is overlong) and no more
 * than 64 bits, so that every value has one encoding and a decoded record
 * encodes back to the same octets; an overlong, overflowing or cut-short
 * varint fails the reader on what.
 */
static inline uint64_t
bin_uvarint(struct bin_r *r, const char *what)
{
	uint64_t v = 0;

	if (r->why != NULL)
		return 0;
	for (unsigned i = 0;; i++) {
		unsigned b;

		if (i >= r->len - r->off)
			break;		/* cut short */
		b = r->p[r->off + i];
		if (i == 9 && b > 1)
			break;		/* past 64 bits */
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (b & 0x80)
			continue;
		if (b == 0 && i > 0)
			break;		/* overlong */
		r->off += i + 1;
		return v;
	}
	r->why = what;
	return 0;
}

/* bin_svarint - a varint written by bin_put_svarint, checked as bin_uvarint. */
static inline int64_t
bin_svarint(struct bin_r *r, const char *what)
{
	uint64_t u = bin_uvarint(r, what);

	return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

/* bin_take - n octets into dst (zeroed once the reader has failed). */
static inline void
bin_take(struct bin_r *r, void *dst, size_t n, const char *what)
{
	if (bin_need(r, n, what)) {
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, r->p + r->off, n);
	r->off += n;
}

/*
 * bin_str - a string written by bin_put_str: a pointer into the buffer
 * (not terminated) and its length in *np, or NULL when it is longer than
 * max, cut short or holds a NUL.
 */
static inline const char *
bin_str(struct bin_r *r, size_t max, size_t *np, const char *what)
{
	size_t n = bin_u8(r, what);
	const char *s;

	if (r->why != NULL)
		return NULL;
	if (n > max) {
		r->why = what;
		return NULL;
	}
	if (bin_need(r, n, what))
		return NULL;
	s = (const char *)r->p + r->off;
	if (memchr(s, '\0', n) != NULL) {
		r->why = what;
		return NULL;
	}
	r->off += n;
	*np = n;
	return s;
}

/* bin_copy - a string into dst, which holds max octets and the NUL. */
static inline void
bin_copy(struct bin_r *r, char *dst, size_t max, const char *what)
{
	size_t n = 0;
	const char *s = bin_str(r, max, &n, what);

	if (s != NULL)
		memcpy(dst, s, n);
	dst[s != NULL ? n : 0] = '\0';
}

#endif
