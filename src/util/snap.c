/*
 * snap.c - reference-counted snapshots: a header before each object holds
 * its count and finaliser; the slot's lock makes taking a reference and
 * swapping the current object one step each.
 */
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include "util/snap.h"

struct snap_hdr {
	atomic_int refs;
	void	(*fini)(void *);
	alignas(max_align_t) unsigned char obj[];
};

/* hdr_of - the header of an object snap_alloc made. */
static struct snap_hdr *
hdr_of(void *obj)
{
	return (struct snap_hdr *)(void *)((unsigned char *)obj -
	    offsetof(struct snap_hdr, obj));
}

void *
snap_alloc(size_t size, void (*fini)(void *))
{
	struct snap_hdr *h;

	if (size > (size_t)-1 - sizeof(*h) ||
	    (h = calloc(1, sizeof(*h) + size)) == NULL)
		return NULL;
	atomic_init(&h->refs, 1);
	h->fini = fini;
	return h->obj;
}

void
snap_release(void *obj)
{
	struct snap_hdr *h;

	if (obj == NULL)
		return;
	h = hdr_of(obj);
	if (atomic_fetch_sub(&h->refs, 1) == 1) {
		if (h->fini != NULL)
			h->fini(obj);
		free(h);
	}
}

void *
snap_get(struct snap_slot *slot)
{
	void *obj;

	pthread_mutex_lock(&slot->lock);
	if ((obj = slot->cur) != NULL)
		atomic_fetch_add(&hdr_of(obj)->refs, 1);
	pthread_mutex_unlock(&slot->lock);
	return obj;
}

void
snap_set(struct snap_slot *slot, void *obj)
{
	void *old;

	pthread_mutex_lock(&slot->lock);
	old = slot->cur;
	slot->cur = obj;
	pthread_mutex_unlock(&slot->lock);
	snap_release(old);
}
