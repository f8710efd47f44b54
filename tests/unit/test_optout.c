/*
 * test_optout.c - an explicit unsubscribe always ends denied: after a
 * future-dated opt-in, after a newer opt-in that overrode an earlier
 * "every list", and under a hard bounce that will expire; a repeated click
 * changes nothing.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/optout.h"
#include "fixture.h"

#define NOW	1800000000

static int
setup(void **state)
{
	*state = store_fixture_make("test_optout", 0);
	return 0;
}

static int
teardown(void **state)
{
	return store_fixture_free(*state);
}

struct put {
	const char *key, *list;
	int	status, reason;
	int64_t	t, expires;
};

static int
put_fn(struct store_txn *t, void *arg)
{
	const struct put *p = arg;
	struct subject s;

	subject_init(&s);
	if (store_txn_get(t, p->key, &s) == -1)
		return -1;
	if (p->status) {
		struct evidence ev;

		memset(&ev, 0, sizeof(ev));
		ev.status = (uint8_t)p->status;
		ev.time = p->t;
		ev.source = SRC_FORM;
		record_apply_consent(&s, p->list, &ev);
	} else {
		struct suppression sp;

		memset(&sp, 0, sizeof(sp));
		sp.reason = (uint8_t)p->reason;
		sp.created = p->t;
		sp.expires = p->expires;
		record_apply_supp(&s, &sp, p->t);
	}
	if (store_txn_put(t, p->key, &s) == -1) {
		subject_clear(&s);
		return -1;
	}
	subject_clear(&s);
	return 0;
}

static void
put(struct store *st, struct put p)
{
	char err[256];

	if (store_write(st, put_fn, &p, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* The policy's verdict for key on list at now. */
static int
allowed(struct store *st, const char *key, const char *list, int64_t now)
{
	static const struct policy_conf pc = { POLICY_OPTIN, 0 };
	struct policy_facts f;
	struct decision d;
	struct addr a;
	char err[256];

	if (addr_normalize(key, strlen(key), 0, "+", &a, err, sizeof(err)) ||
	    store_facts(st, &a, list, &f, err, sizeof(err)))
		fail_msg("%s", err);
	policy_decide(&pc, &f, now, &d);
	return d.allow;
}

static int
click(struct store *st, const char *key, const char *list, int all, int64_t now)
{
	struct token_claims c;
	struct journal j;
	char err[256];
	int rc;

	memset(&c, 0, sizeof(c));
	strcpy(c.addr, key);
	strcpy(c.list, list);
	journal_init(&j, st, NULL, 0);
	rc = optout_record(&j, &c, SRC_ONECLICK, "192.0.2.9", all, now, err,
	    sizeof(err));
	journal_fini(&j);
	if (rc == -1)
		fail_msg("%s", err);
	return rc;
}

static void
test_plain_and_repeat(void **state)
{
	struct store_fixture *f = *state;

	put(f->st, (struct put){ "a@example.com", "news", CS_SUBSCRIBED, 0, NOW - 100, 0 });
	assert_true(allowed(f->st, "a@example.com", "news", NOW));
	assert_int_equal(click(f->st, "a@example.com", "news", 0, NOW), 1);
	assert_false(allowed(f->st, "a@example.com", "news", NOW));
	/* The same click again: nothing to change, the same answer. */
	assert_int_equal(click(f->st, "a@example.com", "news", 0, NOW), 0);
	assert_int_equal(click(f->st, "a@example.com", "news", 0, NOW + 5), 0);
}

static void
test_future_dated_optin(void **state)
{
	struct store_fixture *f = *state;

	/* An opt-in dated an hour ahead (a fast clock, an import). */
	put(f->st, (struct put){ "b@example.com", "news", CS_CONFIRMED, 0, NOW + 3600, 0 });
	assert_int_equal(click(f->st, "b@example.com", "news", 0, NOW), 1);
	assert_false(allowed(f->st, "b@example.com", "news", NOW));
	assert_false(allowed(f->st, "b@example.com", "news", NOW + 7200));
}

static void
test_all_after_newer_optin(void **state)
{
	struct store_fixture *f = *state;

	put(f->st, (struct put){ "c@example.com", "news", CS_SUBSCRIBED, 0, NOW - 300, 0 });
	assert_int_equal(click(f->st, "c@example.com", "news", 1, NOW - 200), 1);
	assert_false(allowed(f->st, "c@example.com", "news", NOW));
	/* A newer opt-in overrides "every list" for news... */
	put(f->st, (struct put){ "c@example.com", "news", CS_SUBSCRIBED, 0, NOW - 100, 0 });
	assert_true(allowed(f->st, "c@example.com", "news", NOW));
	/* ...and the next "every list" click must win again. */
	assert_int_equal(click(f->st, "c@example.com", "news", 1, NOW), 1);
	assert_false(allowed(f->st, "c@example.com", "news", NOW));
	assert_int_equal(click(f->st, "c@example.com", "news", 1, NOW + 1), 0);
}

static void
test_all_under_expiring_bounce(void **state)
{
	struct store_fixture *f = *state;

	put(f->st, (struct put){ "d@example.com", "news", CS_SUBSCRIBED, 0, NOW - 300, 0 });
	put(f->st, (struct put){ "d@example.com", NULL, 0, SR_HARD_BOUNCE, NOW - 200, NOW + 86400 });
	assert_false(allowed(f->st, "d@example.com", "news", NOW));
	/* The bounce keeps its place; the lists are left one by one. */
	assert_int_equal(click(f->st, "d@example.com", "deals", 1, NOW), 1);
	assert_false(allowed(f->st, "d@example.com", "news", NOW + 2 * 86400));
	assert_false(allowed(f->st, "d@example.com", "deals", NOW + 2 * 86400));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_and_repeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_future_dated_optin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_after_newer_optin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_under_expiring_bounce, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
