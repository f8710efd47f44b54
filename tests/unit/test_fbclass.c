/*
 * test_fbclass.c - the classifier's rule table: every built-in class, the
 * X.0.0 refinement, actions that are not failures, the operator's rules
 * first (status, diagnostic, both), status patterns, and the
 * configuration section that holds them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/fbclass.h"

static int
cls(const struct fbclass_conf *cf, const char *action, const char *status,
    const char *diag)
{
	return fbclass_classify(cf, action, status, diag, NULL, NULL);
}

static void
test_builtin(void **state)
{
	static const struct { const char *status, *diag; int want; } cases[] = {
		{ "5.1.1", "550 5.1.1 user unknown", FBC_HARD },
		{ "5.1.2", "", FBC_HARD },
		{ "5.1.3", "", FBC_HARD },
		{ "5.1.6", "", FBC_HARD },
		{ "5.1.10", "RESOLVER.ADR.RecipientNotFound", FBC_HARD },
		{ "5.2.1", "", FBC_HARD },
		{ "5.2.2", "mailbox full", FBC_SOFT },
		{ "4.2.2", "over quota", FBC_SOFT },
		{ "4.4.7", "delivery time expired", FBC_SOFT },
		{ "5.4.4", "unable to route", FBC_SOFT },
		{ "5.4.1", "", FBC_SOFT },
		{ "5.3.2", "", FBC_SOFT },
		{ "5.7.1", "relaying denied", FBC_POLICY },
		{ "5.7.26", "unauthenticated email is not accepted", FBC_POLICY },
		{ "5.7.515", "Access denied, sending domain", FBC_POLICY },
		{ "4.7.28", "rate limited", FBC_POLICY },
		{ "4.7.0", "greylisted", FBC_POLICY },
		{ "5.1.7", "", FBC_POLICY },
		{ "5.1.8", "", FBC_POLICY },
		{ "5.2.3", "", FBC_POLICY },
		{ "5.6.0", "", FBC_POLICY },
		{ "2.0.0", "", FBC_IGNORE },
		/* Generic codes: the text decides, or it is merely soft. */
		{ "5.0.0", "Sorry, no such user here", FBC_HARD },
		{ "5.5.0", "Requested action not taken: mailbox unavailable", FBC_HARD },
		{ "5.0.0", "something went wrong", FBC_SOFT },
		/* Not a code: nothing can be said. */
		{ "", "550 5.1.1", FBC_IGNORE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = cls(NULL, "failed", cases[i].status, cases[i].diag);

		if (got != cases[i].want)
			fail_msg("%s \"%s\": %s, expected %s", cases[i].status,
			    cases[i].diag, fbclass_name(got),
			    fbclass_name(cases[i].want));
	}
}

static void
test_refine(void **state)
{
	const struct fbclass_rule *r;
	char eff[FBCLASS_STATUS_MAX];

	(void)state;
	/* Exim: Status 5.0.0, the real code in the diagnostic. */
	assert_int_equal(fbclass_classify(NULL, "failed", "5.0.0",
	    "550 5.1.1 <gone@example.com>: Recipient address rejected", &r, eff),
	    FBC_HARD);
	assert_string_equal(eff, "5.1.1");
	assert_non_null(r);
	assert_string_equal(r->status, "5.1.1");
	/* Only a code of the same class, never an IP address. */
	assert_int_equal(fbclass_classify(NULL, "failed", "5.0.0",
	    "host 10.5.1.1 said 4.2.2 full", NULL, eff), FBC_SOFT);
	assert_string_equal(eff, "5.0.0");
	assert_int_equal(fbclass_classify(NULL, "failed", "4.0.0",
	    "451 4.7.1 try later", NULL, eff), FBC_POLICY);
	assert_string_equal(eff, "4.7.1");
	/* A precise status is never changed. */
	assert_int_equal(fbclass_classify(NULL, "failed", "5.7.1",
	    "550 5.1.1 user unknown", NULL, eff), FBC_POLICY);
	assert_string_equal(eff, "5.7.1");
}

static void
test_actions(void **state)
{
	(void)state;
	assert_int_equal(cls(NULL, "failed", "5.1.1", ""), FBC_HARD);
	assert_int_equal(cls(NULL, "", "5.1.1", ""), FBC_HARD);
	assert_int_equal(cls(NULL, NULL, "5.1.1", ""), FBC_HARD);
	/* A delay warning: the MTA still retries.  A success is not a failure. */
	assert_int_equal(cls(NULL, "delayed", "4.4.1", ""), FBC_IGNORE);
	assert_int_equal(cls(NULL, "delivered", "2.0.0", ""), FBC_IGNORE);
	assert_int_equal(cls(NULL, "relayed", "5.1.1", ""), FBC_IGNORE);
}

static void
test_operator_rules(void **state)
{
	struct fbclass_conf cf;
	const struct fbclass_rule *r;

	(void)state;
	memset(&cf, 0, sizeof(cf));
	/* Microsoft's edge blocking: 5.4.1 "Access denied" is user unknown. */
	strcpy(cf.rules[0].status, "5.4.1");
	strcpy(cf.rules[0].diag, "recipient address rejected: access denied");
	cf.rules[0].class_ = FBC_HARD;
	cf.rules[0].line = 12;
	/* A pattern alone, any code. */
	strcpy(cf.rules[1].diag, "spamhaus");
	cf.rules[1].class_ = FBC_POLICY;
	/* A whole class. */
	strcpy(cf.rules[2].status, "4.*");
	cf.rules[2].class_ = FBC_IGNORE;
	cf.nrules = 3;
	assert_int_equal(fbclass_classify(&cf, "failed", "5.4.1",
	    "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
	    &r, NULL), FBC_HARD);
	assert_int_equal(r->line, 12);
	assert_int_equal(cls(&cf, "failed", "5.4.1", "no route"), FBC_SOFT);
	assert_int_equal(cls(&cf, "failed", "5.1.1", "blocked using SPAMHAUS zen"),
	    FBC_POLICY);
	assert_int_equal(cls(&cf, "failed", "4.2.2", "full"), FBC_IGNORE);
	assert_int_equal(cls(&cf, "failed", "5.1.1", "user unknown"), FBC_HARD);
}

static void
test_patterns(void **state)
{
	static const char *const good[] = { "", "5.1.1", "5.7.515", "5.7.*",
	    "5.*", "4.*", "2.0.0", "5.1.10" };
	static const char *const bad[] = { "5", "6.1.1", "5.1", "5.1.1.1",
	    "5.*.1", "5.1.1234", "*", "5.x.1", "5.1.*x", " 5.1.1" };
	size_t n;
	const struct fbclass_rule *b = fbclass_builtin(&n);

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (fbclass_status_check(good[i]) != 0)
			fail_msg("\"%s\" refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (fbclass_status_check(bad[i]) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
	/* The built-in table is itself well-formed and says why. */
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(fbclass_status_check(b[i].status), 0);
		assert_non_null(b[i].why);
	}
	assert_int_equal(fbclass_parse("hard"), FBC_HARD);
	assert_int_equal(fbclass_parse("policy"), FBC_POLICY);
	assert_int_equal(fbclass_parse("HARD"), -1);
	assert_string_equal(fbclass_name(FBC_SOFT), "soft");
}

static void
test_config(void **state)
{
	struct config c;
	char err[512];
	static const struct { const char *text, *want; } bad[] = {
		{ "feedback: { rules = ( { status = \"5.9\"; class = \"hard\"; } ); };",
		  "feedback.rules[0].status: \"5.9\" is not a status code" },
		{ "feedback: { rules = ( { status = \"5.1.1\"; class = \"dead\"; } ); };",
		  "unknown class \"dead\"" },
		{ "feedback: { rules = ( { status = \"5.1.1\"; } ); };", "has no class" },
		{ "feedback: { rules = ( { class = \"hard\"; } ); };", "matches everything" },
		{ "feedback: { rules = ( { code = \"5.1.1\"; class = \"hard\"; } ); };",
		  "feedback.rules[0].code: unknown key" },
		{ "feedback: { soft_window = \"week\"; };", "feedback.soft_window: not a duration" },
		{ "feedback: { soft_threshold = 0; };", "feedback.soft_threshold: 0 is out of range" },
		{ "feedback: { return_path_window = \"90d\"; };", "feedback.return_path_window: must be" },
		{ "feedback: { queue_dir = \"\"; };", "feedback.queue_dir: must not be empty" },
		{ "feedback: { sign_return_path = true; };", "sign_return_path needs unsubscribe.keys" },
	};

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.fb_soft_threshold, 3);
	assert_int_equal(c.fb_soft_window, 7 * 86400);
	assert_int_equal(c.fb_soft_expires, 30 * 86400);
	assert_int_equal(c.fb_rp_window, 14 * 86400);
	assert_int_equal(c.fb_sign_return_path, 0);
	assert_int_equal(c.fb_rules.nrules, 0);
	if (config_load_string(&c, "feedback: {\n soft_threshold = 7;\n"
	    " soft_window = \"30d\";\n rules = (\n  { status = \"5.4.1\"; "
	    "diagnostic = \"access denied\"; class = \"hard\"; },\n"
	    "  { diagnostic = \"spamhaus\"; class = \"policy\"; }\n );\n};\n",
	    err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(c.fb_soft_threshold, 7);
	assert_int_equal(c.fb_soft_window, 30 * 86400);
	assert_int_equal(c.fb_rules.nrules, 2);
	assert_string_equal(c.fb_rules.rules[0].status, "5.4.1");
	assert_int_equal(c.fb_rules.rules[0].line, 5);
	assert_int_equal(c.fb_rules.rules[1].class_, FBC_POLICY);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(config_load_string(&c, bad[i].text, err,
		    sizeof(err)), -1);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", err, bad[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin),
		cmocka_unit_test(test_refine),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_operator_rules),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
