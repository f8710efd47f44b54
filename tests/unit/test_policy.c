/*
 * test_policy.c - the consent decision: every status under both models,
 * with and without double opt-in, suppressions first, expiry, and the
 * unsubscribe-from-all that gives way only to a newer opt-in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/policy.h"

static const struct policy_conf optin = { POLICY_OPTIN, 0 };
static const struct policy_conf optin_doi = { POLICY_OPTIN, 1 };
static const struct policy_conf optout = { POLICY_OPTOUT, 0 };

static struct policy_facts
consent(int status, int64_t changed)
{
	struct policy_facts f;

	memset(&f, 0, sizeof(f));
	f.has_consent = status != CS_NONE;
	f.consent.status = (uint8_t)status;
	f.consent.changed = changed;
	return f;
}

static void
add_supp(struct policy_facts *f, int reason, int64_t created, int64_t expires,
    int where)
{
	struct policy_fact_supp *s = &f->supp[f->nsupp++];

	s->v.reason = (uint8_t)reason;
	s->v.created = created;
	s->v.expires = expires;
	s->where = where;
	strcpy(s->key, where == FACT_DOMAIN ? ".example.com" : "a@example.com");
}

static void
expect(const struct policy_conf *pc, const struct policy_facts *f,
    int64_t now, int allow, int reason)
{
	struct decision d;

	policy_decide(pc, f, now, &d);
	assert_int_equal(d.allow, allow);
	assert_string_equal(policy_reason_name(d.reason),
	    policy_reason_name(reason));
}

static void
test_status_matrix(void **state)
{
	static const struct {
		int status;
		int optin_allow, optin_reason;
		int doi_allow, doi_reason;
		int optout_allow, optout_reason;
	} rows[] = {
		{ CS_NONE, 0, PR_NO_CONSENT, 0, PR_NO_CONSENT, 1, PR_OPTOUT },
		{ CS_PENDING, 0, PR_PENDING, 0, PR_PENDING, 1, PR_OPTOUT },
		{ CS_SUBSCRIBED, 1, PR_SUBSCRIBED, 0, PR_UNCONFIRMED, 1, PR_SUBSCRIBED },
		{ CS_CONFIRMED, 1, PR_CONFIRMED, 1, PR_CONFIRMED, 1, PR_CONFIRMED },
		{ CS_UNSUBSCRIBED, 0, PR_UNSUBSCRIBED, 0, PR_UNSUBSCRIBED, 0, PR_UNSUBSCRIBED },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct policy_facts f = consent(rows[i].status, 100);

		expect(&optin, &f, 1000, rows[i].optin_allow, rows[i].optin_reason);
		expect(&optin_doi, &f, 1000, rows[i].doi_allow, rows[i].doi_reason);
		expect(&optout, &f, 1000, rows[i].optout_allow,
		    rows[i].optout_reason);
	}
}

static void
test_suppression_first(void **state)
{
	static const struct { int sr, pr; } map[] = {
		{ SR_HARD_BOUNCE, PR_HARD_BOUNCE }, { SR_COMPLAINT, PR_COMPLAINT },
		{ SR_INVALID, PR_INVALID }, { SR_MANUAL, PR_MANUAL },
		{ SR_SOFT_BOUNCE, PR_SOFT_BOUNCE },
		{ SR_UNSUBSCRIBED_ALL, PR_UNSUBSCRIBED_ALL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		struct policy_facts f = consent(CS_CONFIRMED, 50);
		struct decision d;

		add_supp(&f, map[i].sr, 100, 0, FACT_EXACT);
		expect(&optin, &f, 1000, 0, map[i].pr);
		expect(&optout, &f, 1000, 0, map[i].pr);
		policy_decide(&optin, &f, 1000, &d);
		assert_int_equal(d.supp, 0);
		assert_int_equal(d.consent, 0);
	}
}

static void
test_expired_ignored(void **state)
{
	struct policy_facts f = consent(CS_SUBSCRIBED, 50);

	(void)state;
	add_supp(&f, SR_SOFT_BOUNCE, 100, 200, FACT_EXACT);
	expect(&optin, &f, 199, 0, PR_SOFT_BOUNCE);
	expect(&optin, &f, 200, 1, PR_SUBSCRIBED);
	/* A later live one still applies. */
	add_supp(&f, SR_MANUAL, 100, 0, FACT_DOMAIN);
	expect(&optin, &f, 300, 0, PR_MANUAL);
}

static void
test_unsubscribed_all(void **state)
{
	struct policy_facts f;

	(void)state;
	/* Opt-in older than leaving every list: denied. */
	f = consent(CS_CONFIRMED, 100);
	add_supp(&f, SR_UNSUBSCRIBED_ALL, 200, 0, FACT_EXACT);
	expect(&optin, &f, 1000, 0, PR_UNSUBSCRIBED_ALL);
	/* A newer opt-in to this list: allowed on this list. */
	f = consent(CS_CONFIRMED, 300);
	add_supp(&f, SR_UNSUBSCRIBED_ALL, 200, 0, FACT_EXACT);
	expect(&optin, &f, 1000, 1, PR_CONFIRMED);
	/* A newer pending one is not an opt-in. */
	f = consent(CS_PENDING, 300);
	add_supp(&f, SR_UNSUBSCRIBED_ALL, 200, 0, FACT_EXACT);
	expect(&optin, &f, 1000, 0, PR_UNSUBSCRIBED_ALL);
	/* Opt-out model with no list record: denied. */
	f = consent(CS_NONE, 0);
	add_supp(&f, SR_UNSUBSCRIBED_ALL, 200, 0, FACT_EXACT);
	expect(&optout, &f, 1000, 0, PR_UNSUBSCRIBED_ALL);
	/* Other suppressions never give way to an opt-in. */
	f = consent(CS_CONFIRMED, 300);
	add_supp(&f, SR_COMPLAINT, 200, 0, FACT_EXACT);
	expect(&optin, &f, 1000, 0, PR_COMPLAINT);
}

/* Erased comes before everything, whatever else is known. */
static void
test_erased_first(void **state)
{
	struct policy_facts f = consent(CS_CONFIRMED, 50);
	struct decision d;

	(void)state;
	f.erased = 1;
	f.erased_at = 40;
	expect(&optin, &f, 100, 0, PR_ERASED);
	expect(&optout, &f, 100, 0, PR_ERASED);
	add_supp(&f, SR_HARD_BOUNCE, 10, 0, FACT_EXACT);
	policy_decide(&optin, &f, 100, &d);
	assert_int_equal(d.reason, PR_ERASED);
	assert_int_equal(d.supp, -1);
	assert_int_equal(d.consent, 0);
	assert_string_equal(policy_reason_name(PR_ERASED), "erased");
}

static void
test_reason_names(void **state)
{
	(void)state;
	for (int i = 0; i < PR_MAX_; i++)
		assert_int_equal(policy_reason_parse(policy_reason_name(i)), i);
	assert_int_equal(policy_reason_parse("nope"), -1);
	assert_string_equal(policy_reason_name(-1), "?");
	assert_true(PR_FIRST_DENY == PR_NO_CONSENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_matrix),
		cmocka_unit_test(test_suppression_first),
		cmocka_unit_test(test_expired_ignored),
		cmocka_unit_test(test_unsubscribed_all),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_erased_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
