/*
 * fixture.h - the unit tests' temporary LMDB store: a fresh directory
 * under /tmp with a store created in it, and its removal.  Linked into
 * every unit test (Makefile, build/tests/test_%).
 */
#ifndef FIXTURE_H
#define FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/store.h"

struct store_fixture {
	char	dir[64];	/* /tmp/NAME.XXXXXX */
	struct store *st;	/* open read-write; a test may close it and
				   set NULL, store_fixture_free then skips it */
};

/*
 * fixture_dir_make - a new directory /tmp/NAME.XXXXXX (mode 0750) into
 * dir (dirlen octets); fails the test if it cannot.
 * fixture_dir_remove - remove it and all it holds; 0, or -1.
 */
void	fixture_dir_make(const char *name, char *dir, size_t dirlen);
int	fixture_dir_remove(const char *dir);

/*
 * store_fixture_make - a new directory named after name, with a store of
 * map bytes (0 for the default) created and open in it; fails the test if
 * it cannot.  The caller frees it with store_fixture_free.
 */
struct store_fixture *store_fixture_make(const char *name, uint64_t map);

/*
 * store_fixture_free - close f's store, remove its directory, free f.
 * 0, or -1 if the directory could not be removed.  NULL does nothing.
 */
int	store_fixture_free(struct store_fixture *f);

#endif
