/*
 * htab.h - an open-addressing hash table of pointers, for records that
 * live elsewhere (an arena, say): linear probing, at most half full,
 * items never removed.  The caller hashes and compares; the table keeps
 * the hash beside the item, so most probes never touch the item.
 * Generic.
 */
#ifndef UTIL_HTAB_H
#define UTIL_HTAB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct htab_slot {
	uint64_t h;
	void	*v;			/* NULL: empty */
};

struct htab {
	struct htab_slot *s;
	size_t	mask, n;		/* slots - 1; items */
};

/* The item matches the key; both are the caller's. */
typedef int (*htab_eq_fn)(const void *item, const void *key);

/* htab_mix - a 64-bit finaliser: every bit of h moves every bit out. */
static inline uint64_t
htab_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* htab_hash - a 64-bit hash of n octets at p, a word at a time. */
static inline uint64_t
htab_hash(const char *p, size_t n)
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
	return htab_mix(h);
}

/*
 * htab_init - size slots (a power of two), all empty; 0, or -1 out of
 * memory.  The slots are the table's; the items stay the caller's.
 */
int	htab_init(struct htab *t, size_t size);

/* htab_free - the slots only; a zeroed or freed table is a no-op. */
void	htab_free(struct htab *t);

/*
 * htab_find - the item with hash h that eq() matches to key, or NULL.
 * Inline: the callers' eq is known where they call it, and this is the
 * report's inner loop.
 */
static inline void *
htab_find(const struct htab *t, uint64_t h, htab_eq_fn eq, const void *key)
{
	size_t i = (size_t)h & t->mask;

	for (;;) {
		const struct htab_slot *s = &t->s[i];

		if (s->v == NULL)
			return NULL;
		if (s->h == h && eq(s->v, key))
			return s->v;
		i = (i + 1) & t->mask;
	}
}

/* htab_put - add v (not NULL), known to be absent; 0 / -1 out of memory. */
int	htab_put(struct htab *t, uint64_t h, void *v);

/*
 * htab_next - the next item from slot *i on, in no order, with *i moved
 * past it; NULL when there are no more.  Start with *i = 0.
 */
void	*htab_next(const struct htab *t, size_t *i);

/*
 * The same table for items the caller numbers (0 .. 2^32-2), in half the
 * room: a slot is 32 bits of the hash and the item's number plus one.
 * Items land in the slots a struct htab would put them in, so the two
 * walk alike; only tables under 2^32 slots.
 */
struct htab32_slot {
	uint32_t h;			/* the low half of the hash */
	uint32_t v;			/* item + 1; 0: empty */
};

struct htab32 {
	struct htab32_slot *s;
	size_t	mask, n;		/* slots - 1; items */
};

/* The item numbered item matches the key; ctx, item and key are the caller's. */
typedef int (*htab32_eq_fn)(const void *ctx, uint32_t item, const void *key);

/*
 * htab32_init - an empty table of size slots (a power of 2); 0 / -1 out
 * of memory.  htab32_free() frees it; a zeroed table is freed too.
 */
int	htab32_init(struct htab32 *t, size_t size);

/* htab32_free - what htab32_init() and htab32_put() allocated. */
void	htab32_free(struct htab32 *t);

/* htab32_put - add item (hash h), doubling the table when half full; 0 / -1. */
int	htab32_put(struct htab32 *t, uint64_t h, uint32_t item);

/*
 * htab32_del - remove item (added with hash h), keeping every other
 * findable; 1, or 0 when it is not there.
 */
int	htab32_del(struct htab32 *t, uint64_t h, uint32_t item);

/*
 * htab32_next - the item after slot *i as 1 + its number, 0 at the end;
 * start with *i = 0.
 */
uint32_t htab32_next(const struct htab32 *t, size_t *i);

/* htab32_find - the item matching key (hash h) as 1 + its number, or 0. */
static inline uint32_t
htab32_find(const struct htab32 *t, uint64_t h, htab32_eq_fn eq,
    const void *ctx, const void *key)
{
	size_t i = (size_t)h & t->mask;

	for (;;) {
		const struct htab32_slot *s = &t->s[i];

		if (s->v == 0)
			return 0;
		if (s->h == (uint32_t)h && eq(ctx, s->v - 1, key))
			return s->v;
		i = (i + 1) & t->mask;
	}
}

#endif
