/*
 * snap.h - reference-counted snapshots, swapped whole: a daemon's
 * configuration and the keys it names.  A reader holds a reference for
 * one request or message, so a reload never frees what it is reading.
 */
#ifndef SNAP_H
#define SNAP_H

#include <pthread.h>
#include <stddef.h>

/* The current snapshot; initialise with SNAP_SLOT_INIT. */
struct snap_slot {
	pthread_mutex_t lock;
	void	*cur;
};
#define SNAP_SLOT_INIT	{ PTHREAD_MUTEX_INITIALIZER, NULL }

/*
 * snap_alloc - a zeroed object of size octets with one reference, owned by
 * the caller; fini (may be NULL) runs on it before the last reference
 * frees it.  NULL if out of memory.
 */
void	*snap_alloc(size_t size, void (*fini)(void *));

/* snap_release - drop a reference; the last one frees.  NULL is a no-op. */
void	snap_release(void *obj);

/* snap_get - the slot's current object with a reference for the caller
 * (snap_release it), or NULL if the slot is empty. */
void	*snap_get(struct snap_slot *slot);

/*
 * snap_set - make obj (the caller's reference passes to the slot; may be
 * NULL) current, and drop the slot's reference to the one before.
 */
void	snap_set(struct snap_slot *slot, void *obj);

#endif
