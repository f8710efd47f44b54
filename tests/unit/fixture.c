/*
 * fixture.c - the unit tests' temporary LMDB store (fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fixture.h"

/* fixture_dir_make - a new /tmp/NAME.XXXXXX, mode 0750, into dir. */
void
fixture_dir_make(const char *name, char *dir, size_t dirlen)
{
	if ((size_t)snprintf(dir, dirlen, "/tmp/%s.XXXXXX", name) >= dirlen)
		fail_msg("fixture: name %s too long", name);
	if (mkdtemp(dir) == NULL)
		fail_msg("fixture: mkdtemp %s failed", dir);
	chmod(dir, 0750);
}

/* fixture_dir_remove - rm -rf dir; 0, or -1. */
int
fixture_dir_remove(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* store_fixture_make - a directory with a new store open in it. */
struct store_fixture *
store_fixture_make(const char *name, uint64_t map)
{
	struct store_fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (f == NULL)
		fail_msg("fixture: out of memory");
	fixture_dir_make(name, f->dir, sizeof(f->dir));
	if (store_open(&f->st, f->dir, STORE_CREATE, 0, map, err,
	    sizeof(err)) == -1)
		fail_msg("store_open: %s", err);
	return f;
}

/* store_fixture_free - close, remove and free f; NULL does nothing. */
int
store_fixture_free(struct store_fixture *f)
{
	int rc;

	if (f == NULL)
		return 0;
	store_close(f->st);
	rc = fixture_dir_remove(f->dir);
	free(f);
	return rc;
}
