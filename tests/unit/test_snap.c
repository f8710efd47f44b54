/*
 * test_snap.c - reference-counted snapshots: the finaliser runs once, when
 * the last reference goes, whether that is the slot's or a reader's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/snap.h"

static int finis;

static void
fini(void *obj)
{
	(void)obj;
	finis++;
}

static void
test_slot(void **state)
{
	struct snap_slot slot = SNAP_SLOT_INIT;
	int *a, *b, *held;

	(void)state;
	finis = 0;
	assert_null(snap_get(&slot));
	a = snap_alloc(sizeof(*a), fini);
	assert_non_null(a);
	assert_int_equal(*a, 0);	/* zeroed */
	*a = 1;
	snap_set(&slot, a);
	held = snap_get(&slot);
	assert_ptr_equal(held, a);
	b = snap_alloc(sizeof(*b), fini);
	*b = 2;
	snap_set(&slot, b);		/* a is still held by the reader */
	assert_int_equal(finis, 0);
	assert_int_equal(*held, 1);
	snap_release(held);
	assert_int_equal(finis, 1);
	held = snap_get(&slot);
	assert_int_equal(*held, 2);
	snap_release(held);
	assert_int_equal(finis, 1);
	snap_set(&slot, NULL);
	assert_int_equal(finis, 2);
	snap_release(NULL);
	/* No finaliser at all. */
	snap_release(snap_alloc(16, NULL));
	assert_null(snap_alloc((size_t)-1, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
