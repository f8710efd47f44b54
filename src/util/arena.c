/*
 * arena.c - chunks from mmap(2), handed out front to back (see arena.h).
 * A request larger than a chunk gets a chunk of its own.
 */
#include <sys/mman.h>

#include <string.h>

#include "util/arena.h"

#define ARENA_CHUNK	(8u << 20)

struct arena_chunk {
	struct arena_chunk *next;
	size_t	used, cap, size;	/* size: of the mapping */
};

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *ch = a->head;
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

char *
arena_copy(struct arena *a, const char *s, size_t n)
{
	char *c = arena_alloc(a, n + 1);

	if (c == NULL)
		return NULL;
	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

void
arena_free(struct arena *a)
{
	struct arena_chunk *ch, *next;

	for (ch = a->head; ch != NULL; ch = next) {
		next = ch->next;
		munmap(ch, ch->size);
	}
	a->head = NULL;
}
