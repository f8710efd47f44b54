/*
 * arena.h - memory for many small records that all die together: handed
 * out 8-aligned from chunks mapped 8 MiB at a time, never freed one by
 * one, all unmapped at once.  Generic.
 */
#ifndef UTIL_ARENA_H
#define UTIL_ARENA_H

#include <stddef.h>

struct arena_chunk;

/* An arena; zeroed ({ NULL }) it is empty and ready. */
struct arena {
	struct arena_chunk *head;
};

/*
 * arena_alloc - n octets, 8-aligned, not zeroed, owned by the arena until
 * arena_free(); NULL if out of memory.
 */
void	*arena_alloc(struct arena *a, size_t n);

/*
 * arena_copy - an arena-owned copy of s (n octets) with a NUL after it;
 * NULL if out of memory.
 */
char	*arena_copy(struct arena *a, const char *s, size_t n);

/* arena_free - unmap every chunk: everything the arena handed out goes. */
void	arena_free(struct arena *a);

#endif
