/*
 * htab.c - growing and filling the open-addressing table (htab.h); the
 * lookup is inline in the header.
 */
#include <stdlib.h>

#include "util/htab.h"

int
htab_init(struct htab *t, size_t size)
{
	if ((t->s = calloc(size, sizeof(*t->s))) == NULL)
		return -1;
	t->mask = size - 1;
	t->n = 0;
	return 0;
}

void
htab_free(struct htab *t)
{
	free(t->s);
	t->s = NULL;
	t->mask = t->n = 0;
}

/* grow - double the slots and re-place the items; 0 / -1 out of memory. */
static int
grow(struct htab *t)
{
	struct htab_slot *old = t->s;
	size_t oldsize = t->mask + 1;

	if (htab_init(t, oldsize * 2) == -1) {
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

int
htab_put(struct htab *t, uint64_t h, void *v)
{
	size_t i;

	if ((t->n + 1) * 2 > t->mask + 1 && grow(t) == -1)
		return -1;
	for (i = (size_t)h & t->mask; t->s[i].v != NULL; i = (i + 1) & t->mask)
		;
	t->s[i].h = h;
	t->s[i].v = v;
	t->n++;
	return 0;
}

void *
htab_next(const struct htab *t, size_t *i)
{
	if (t->s == NULL)
		return NULL;
	for (; *i <= t->mask; (*i)++)
		if (t->s[*i].v != NULL)
			return t->s[(*i)++].v;
	return NULL;
}

int
htab32_init(struct htab32 *t, size_t size)
{
	if (size > (size_t)UINT32_MAX || (t->s = calloc(size,
	    sizeof(*t->s))) == NULL)
		return -1;
	t->mask = size - 1;
	t->n = 0;
	return 0;
}

void
htab32_free(struct htab32 *t)
{
	free(t->s);
	t->s = NULL;
	t->mask = t->n = 0;
}

/* grow32 - grow() for a struct htab32; the slot walk is the same. */
static int
grow32(struct htab32 *t)
{
	struct htab32_slot *old = t->s;
	size_t oldsize = t->mask + 1;

	if (htab32_init(t, oldsize * 2) == -1) {
		t->s = old;
		t->mask = oldsize - 1;
		return -1;
	}
	for (size_t k = 0; k < oldsize; k++) {
		size_t i;

		if (old[k].v == 0)
			continue;
		/* The mask is under 2^32: the low half is the whole index. */
		for (i = (size_t)old[k].h & t->mask; t->s[i].v != 0;
		    i = (i + 1) & t->mask)
			;
		t->s[i] = old[k];
		t->n++;
	}
	free(old);
	return 0;
}

int
htab32_put(struct htab32 *t, uint64_t h, uint32_t item)
{
	size_t i;

	if (item == UINT32_MAX)
		return -1;
	if ((t->n + 1) * 2 > t->mask + 1 && grow32(t) == -1)
		return -1;
	for (i = (size_t)h & t->mask; t->s[i].v != 0; i = (i + 1) & t->mask)
		;
	t->s[i].h = (uint32_t)h;
	t->s[i].v = item + 1;
	t->n++;
	return 0;
}

int
htab32_del(struct htab32 *t, uint64_t h, uint32_t item)
{
	size_t i, j;

	if (t->s == NULL)
		return 0;
	for (i = (size_t)h & t->mask; t->s[i].v != item + 1;
	    i = (i + 1) & t->mask)
		if (t->s[i].v == 0)
			return 0;
	/*
	 * Close the gap: pull back each later slot of the run whose home
	 * is not between the gap and it, so every probe still finds it.
	 */
	for (j = i;;) {
		size_t k;

		j = (j + 1) & t->mask;
		if (t->s[j].v == 0)
			break;
		k = (size_t)t->s[j].h & t->mask;
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->s[i] = t->s[j];
		i = j;
	}
	t->s[i].v = 0;
	t->s[i].h = 0;
	t->n--;
	return 1;
}

uint32_t
htab32_next(const struct htab32 *t, size_t *i)
{
	if (t->s == NULL)
		return 0;
	for (; *i <= t->mask; (*i)++)
		if (t->s[*i].v != 0)
			return t->s[(*i)++].v;
	return 0;
}
