/*
 * test_fbplan.c - from a report to the changes it proves: a token or a
 * signed return path proves its own recipient only; a report naming
 * someone else, or without proof, is queued whole; redacted complaints
 * take the token's recipient; other feedback types, policy refusals and
 * delays change nothing; admin believes the report; one change per
 * recipient; the evidence in note and ref.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/fbtag.h"
#include "ctl/fbplan.h"

#define NOW	INT64_C(1764583200)

static struct token_ring ring;
static struct fbp_report rep;
static struct fb_plan plan;
static struct fb_ctx ctx;

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(token_init(), 0);
	memset(&ring, 0, sizeof(ring));
	ring.nkeys = 1;
	ring.keys[0].id = 1;
	for (int i = 0; i < TOKEN_KEY_BYTES; i++)
		ring.keys[0].key[i] = (unsigned char)(i * 11 + 3);
	memset(&ctx, 0, sizeof(ctx));
	ctx.ring = &ring;
	ctx.delims = "+";
	ctx.now = NOW;
	ctx.rp_window = 14 * 86400;
	ctx.soft_threshold = 3;
	ctx.soft_window = 7 * 86400;
	ctx.soft_expires = 30 * 86400;
	return 0;
}

/* dsn - a one-group DSN for final, with status and a token for tokfor. */
static void
dsn(const char *final, const char *status, const char *tokfor)
{
	memset(&rep, 0, sizeof(rep));
	rep.kind = FBP_DSN;
	strcpy(rep.reporting_mta, "mta.example.org");
	strcpy(rep.msgid, "<m1@example.org>");
	rep.nrcpt = 1;
	strcpy(rep.rcpt[0].final, final);
	strcpy(rep.rcpt[0].action, "failed");
	strcpy(rep.rcpt[0].status, status);
	strcpy(rep.rcpt[0].remote_mta, "mx.example.net");
	strcpy(rep.rcpt[0].diag, "550 5.1.1 user unknown");
	if (tokfor != NULL) {
		assert_true(token_make(&ring, tokfor, "news", NOW - 3600,
		    rep.tok[0], sizeof(rep.tok[0])) > 0);
		rep.ntok = 1;
	}
}

static void
test_token_proves(void **state)
{
	(void)state;
	dsn("Ann@Example.net", "5.1.1", "ann@example.net");
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 1);
	assert_false(plan.queue);
	assert_int_equal(plan.ch[0].op, FBO_SUPPRESS);
	assert_int_equal(plan.ch[0].by, FBP_BY_TOKEN);
	assert_string_equal(plan.ch[0].key, "ann@example.net");
	assert_string_equal(plan.ch[0].list, "news");
	assert_int_equal(plan.ch[0].supp.reason, SR_HARD_BOUNCE);
	assert_int_equal(plan.ch[0].supp.source, SRC_BOUNCE);
	assert_string_equal(plan.ch[0].supp.ref, "<m1@example.org>");
	assert_string_equal(plan.ch[0].supp.note, "5.1.1 by mx.example.net "
	    "(reported by mta.example.org): 550 5.1.1 user unknown");
	assert_true(plan.ch[0].supp.created == NOW);
}

static void
test_someone_else(void **state)
{
	(void)state;
	/* A real token, but for another recipient than the report names. */
	dsn("victim@example.net", "5.1.1", "ann@example.net");
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 0);
	assert_true(plan.queue);
	assert_non_null(strstr(plan.why, "the token names ann@example.net but "
	    "the report names victim@example.net"));
	/* No proof at all; a token under another key is none. */
	dsn("victim@example.net", "5.1.1", NULL);
	strcpy(rep.tok[0], "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	rep.ntok = 1;
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 0);
	assert_true(plan.queue);
	assert_non_null(strstr(plan.why, "tokens found, none valid"));
	/* Without keys nothing can be proven. */
	dsn("ann@example.net", "5.1.1", "ann@example.net");
	ctx.ring = NULL;
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 0);
	assert_true(plan.queue);
	ctx.ring = &ring;
}

static void
test_all_or_nothing(void **state)
{
	(void)state;
	/* Two failures, one proven: nothing applied. */
	dsn("ann@example.net", "5.1.1", "ann@example.net");
	rep.nrcpt = 2;
	rep.rcpt[1] = rep.rcpt[0];
	strcpy(rep.rcpt[1].final, "bob@example.net");
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 0);
	assert_true(plan.queue);
	/* A policy refusal of the other needs no proof: it writes nothing. */
	strcpy(rep.rcpt[1].status, "5.7.1");
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 1);
	assert_int_equal(plan.ch[1].class_, FBC_POLICY);
	assert_int_equal(plan.ch[1].op, FBO_NONE);
	/* A delay warning neither. */
	strcpy(rep.rcpt[1].status, "4.4.1");
	strcpy(rep.rcpt[1].action, "delayed");
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 1);
	assert_int_equal(plan.ch[1].op, FBO_NONE);
}

static void
test_soft_and_dedupe(void **state)
{
	(void)state;
	dsn("ann@example.net", "5.2.2", "ann@example.net");
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 1);
	assert_int_equal(plan.ch[0].op, FBO_SOFT);
	assert_int_equal(plan.ch[0].supp.reason, SR_SOFT_BOUNCE);
	assert_true(plan.ch[0].supp.expires == NOW + 30 * 86400);
	/* The same recipient twice: one change, the stronger. */
	rep.nrcpt = 2;
	rep.rcpt[1] = rep.rcpt[0];
	strcpy(rep.rcpt[1].status, "5.1.1");
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 1);
	assert_int_equal(plan.ch[0].op, FBO_NONE);
	assert_int_equal(plan.ch[1].op, FBO_SUPPRESS);
}

static void
test_return_path(void **state)
{
	char rp[300];

	(void)state;
	assert_true(fbtag_sign(&ring, "bounces@example.org", "ann@example.net",
	    '+', NOW - 86400, rp, sizeof(rp)) > 0);
	dsn("ann@example.net", "5.1.1", NULL);
	strcpy(rep.tag[0], rp);
	rep.ntag = 1;
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 1);
	assert_int_equal(plan.ch[0].by, FBP_BY_TAG);
	/* Named by the envelope recipient alone. */
	rep.ntag = 0;
	ctx.rcpt = rp;
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 1);
	/* The tag signs ann, not bob. */
	strcpy(rep.rcpt[0].final, "bob@example.net");
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 0);
	assert_true(plan.queue);
	ctx.rcpt = NULL;
}

/* arf - a complaint of type for final ("" for none), token for tokfor. */
static void
arf(const char *type, const char *final, const char *tokfor)
{
	dsn(final, "", tokfor);
	rep.kind = FBP_ARF;
	rep.nrcpt = final[0] ? 1 : 0;
	memset(&rep.rcpt[0].action, 0, sizeof(rep.rcpt[0].action));
	strcpy(rep.feedback_type, type);
	strcpy(rep.user_agent, "FBL/1");
}

static void
test_complaints(void **state)
{
	(void)state;
	arf("abuse", "redacted@isp.example", "ann@isp.example");
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 1);
	assert_string_equal(plan.ch[0].key, "ann@isp.example");
	assert_int_equal(plan.ch[0].supp.reason, SR_COMPLAINT);
	assert_int_equal(plan.ch[0].supp.source, SRC_COMPLAINT);
	assert_non_null(strstr(plan.ch[0].supp.note, "Feedback-Type abuse"));
	arf("abuse", "xxxxxx@isp.example", "ann@isp.example");
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 1);
	arf("abuse", "", "ann@isp.example");
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 1);
	/* A named recipient who is not the token's: queued. */
	arf("abuse", "bob@isp.example", "ann@isp.example");
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 0);
	assert_true(plan.queue);
	arf("abuse", "", NULL);
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 0);
	assert_non_null(strstr(plan.why, "names no recipient"));
	/* Another type: reported, never queued, never applied. */
	arf("not-spam", "", NULL);
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 0);
	assert_false(plan.queue);
	assert_int_equal(plan.ch[0].op, FBO_NONE);
}

static void
test_admin_and_plain(void **state)
{
	(void)state;
	dsn("victim@example.net", "5.1.1", NULL);
	assert_int_equal(fb_plan_make(&rep, &ctx, 1, &plan), 1);
	assert_int_equal(plan.ch[0].by, FBP_BY_ADMIN);
	assert_int_equal(plan.ch[0].supp.source, SRC_ADMIN);
	assert_int_equal(strncmp(plan.ch[0].supp.note, "by admin from the "
	    "review queue: ", 32), 0);
	/* A plain bounce naming no one: the one token does. */
	dsn("", "5.1.1", "ann@example.net");
	rep.kind = FBP_PLAIN;
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 1);
	assert_string_equal(plan.ch[0].key, "ann@example.net");
	/* No code in it: not guessed. */
	dsn("ann@example.net", "", "ann@example.net");
	rep.kind = FBP_PLAIN;
	assert_int_equal(fb_plan_make(&rep, &ctx, 0, &plan), 0);
	assert_non_null(strstr(plan.why, "not guessed"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_proves),
		cmocka_unit_test(test_someone_else),
		cmocka_unit_test(test_all_or_nothing),
		cmocka_unit_test(test_soft_and_dedupe),
		cmocka_unit_test(test_return_path),
		cmocka_unit_test(test_complaints),
		cmocka_unit_test(test_admin_and_plain),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
