/*
 * test_msg.c - the per-message rules: RCPT-time replies, the non-SMTP
 * path, and every end-of-message plan (remove, discard, refuse whole,
 * redirect, tag, hold, tempfail, list header removal), under Postfix's
 * removal rules unless a case says Sendmail's or an unknown MTA's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "milter/milter.h"
#include "milter/msg.h"
#include "milter/mta.h"

static struct config cf;
static struct msg_rules rules;	/* what msg.c reads of cf */

static void
load(const char *text)
{
	char err[256];

	if (config_load_string(&cf, text, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	milter_rules(&cf, &rules);
}

/* Add a recipient decided with reason (allowed if reason < PR_FIRST_DENY). */
static struct msg_rcpt *
rcpt(struct msg_state *m, const char *raw, int reason, int at_rcpt)
{
	struct msg_rcpt *r = msg_add_rcpt(m, raw);
	struct policy_facts f;
	struct decision d;

	assert_non_null(r);
	memset(&f, 0, sizeof(f));
	d.allow = reason < PR_FIRST_DENY;
	d.reason = reason;
	d.supp = -1;
	d.consent = 0;
	strcpy(r->key, raw);
	msg_decide(&rules, m, r, &f, &d, at_rcpt);
	return r;
}

static void
bulk(struct msg_state *m, const char *list)
{
	msg_init(m);
	m->mta = MTA_POSTFIX;
	m->class_ = CLASS_BULK;
	m->cls.class_ = CLASS_BULK;
	strcpy(m->cls.list, list);
	strcpy(m->queue_id, "Q1");
}

static void
test_rcpt_replies(void **state)
{
	struct msg_state m;
	struct msg_reply rep;
	struct msg_rcpt *r;

	(void)state;
	load("");
	bulk(&m, "news");
	r = rcpt(&m, "a@x", PR_CONFIRMED, 1);
	msg_rcpt_reply(&m, r, 0, &rep);
	assert_int_equal(rep.kind, MSG_CONTINUE);
	assert_int_equal(m.nbulk, 1);
	r = rcpt(&m, "b@x", PR_NO_CONSENT, 1);
	msg_rcpt_reply(&m, r, 0, &rep);
	assert_int_equal(rep.kind, MSG_REJECT);
	assert_string_equal(rep.rcode, "550");
	assert_string_equal(rep.xcode, "5.7.1");
	assert_non_null(strstr(rep.text, "list news (no_consent)"));
	assert_int_equal(r->state, RS_REJECTED);
	/* Store failure: 451 4.3.0 for this recipient. */
	r = msg_add_rcpt(&m, "c@x");
	msg_rcpt_reply(&m, r, 1, &rep);
	assert_int_equal(rep.kind, MSG_TEMPFAIL);
	assert_string_equal(rep.rcode, "451");
	assert_string_equal(rep.xcode, "4.3.0");
	/* A bad address: 550 5.1.3. */
	r = msg_add_rcpt(&m, "<<bad>>");
	r->state = RS_INVALID;
	msg_rcpt_reply(&m, r, 0, &rep);
	assert_string_equal(rep.xcode, "5.1.3");
	msg_reset(&m);
	msg_reset(NULL);
}

static void
test_limits(void **state)
{
	struct msg_state m;
	struct msg_reply rep;
	struct msg_rcpt *r;

	(void)state;
	load("milter: { one_recipient_per_message = true; max_recipients = 3; };");
	bulk(&m, "news");
	assert_int_equal(msg_rcpt_limit(&rules, &m, "<z@x>", &rep), 0);
	r = rcpt(&m, "a@x", PR_SUBSCRIBED, 1);
	msg_rcpt_reply(&m, r, 0, &rep);
	assert_int_equal(msg_rcpt_limit(&rules, &m, "<z@x>", &rep), 1);
	assert_string_equal(rep.rcode, "452");
	assert_string_equal(rep.xcode, "4.5.3");
	/* Not on the non-SMTP path, and not for transactional mail. */
	m.local = 1;
	assert_int_equal(msg_rcpt_limit(&rules, &m, "<z@x>", &rep), 0);
	m.local = 0;
	m.class_ = CLASS_TRANSACTIONAL;
	assert_int_equal(msg_rcpt_limit(&rules, &m, "<z@x>", &rep), 0);
	msg_reset(&m);
	load("milter: { max_recipients = 2; };");
	bulk(&m, "news");
	rcpt(&m, "a@x", PR_SUBSCRIBED, 1);
	assert_int_equal(msg_rcpt_limit(&rules, &m, "<z@x>", &rep), 0);
	rcpt(&m, "b@x", PR_SUBSCRIBED, 1);
	assert_int_equal(msg_rcpt_limit(&rules, &m, "<z@x>", &rep), 1);
	msg_reset(&m);
}

static void
test_local_path_never_refuses(void **state)
{
	struct msg_state m;
	struct msg_reply rep;
	struct msg_plan p;
	struct msg_rcpt *r;

	(void)state;
	load("");
	bulk(&m, "news");
	m.local = 1;
	r = rcpt(&m, "a@x", PR_UNSUBSCRIBED, 1);
	assert_int_equal(r->action, ACTION_DROP);
	msg_rcpt_reply(&m, r, 0, &rep);
	assert_int_equal(rep.kind, MSG_CONTINUE);
	r = msg_add_rcpt(&m, "b@x");
	msg_rcpt_reply(&m, r, 1, &rep);	/* store failed */
	assert_int_equal(rep.kind, MSG_CONTINUE);
	assert_int_equal(m.tempfail, 1);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_TEMPFAIL);
	assert_string_equal(p.reply.xcode, "4.3.0");
	msg_plan_free(&p);
	msg_reset(&m);
	/* Every recipient denied: discarded, never refused. */
	bulk(&m, "news");
	m.local = 1;
	rcpt(&m, "a@x", PR_NO_CONSENT, 0);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_DISCARD);
	msg_plan_free(&p);
	msg_reset(&m);
}

static void
test_plan_mixed(void **state)
{
	struct msg_state m;
	struct msg_plan p;

	(void)state;
	load("");
	bulk(&m, "news");
	rcpt(&m, "<A@x>", PR_CONFIRMED, 0);
	rcpt(&m, "<@relay.example:B@x>", PR_UNSUBSCRIBED, 0);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_CONTINUE);
	assert_int_equal(p.nremove, 1);
	assert_int_equal(p.unremovable, -1);
	assert_false(m.rcpt[0].remove);
	assert_true(m.rcpt[1].remove);
	/* Removal names what Postfix recorded: no route, in <>. */
	assert_string_equal(m.rcpt[1].del, "<B@x>");
	assert_int_equal(p.sole, 0);
	msg_plan_free(&p);
	msg_reset(&m);
}

/* A recipient to remove that the MTA may not match stops the whole plan. */
static void
test_plan_unremovable(void **state)
{
	struct msg_state m;
	struct msg_plan p;
	struct msg_reply rep;
	struct msg_rcpt *r;

	(void)state;
	load("actions: { default = \"redirect\"; unsubscribed = \"drop\"; "
	    "redirect_to = \"hold@example.org\"; };");
	bulk(&m, "news");
	rcpt(&m, "<a@x>", PR_CONFIRMED, 0);
	rcpt(&m, "<b (x)@x>", PR_UNSUBSCRIBED, 0);
	assert_null(m.rcpt[1].del);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_REJECT);
	assert_string_equal(p.reply.rcode, "550");
	assert_string_equal(p.reply.xcode, "5.7.1");
	assert_non_null(strstr(p.reply.text, "<b (x)@x>"));
	assert_int_equal(p.unremovable, 1);
	/* Nothing else of the plan: no token for a, no redirect. */
	assert_int_equal(p.sole, -1);
	assert_null(p.addrcpt);
	assert_int_equal(p.nhdr, 0);
	assert_string_equal(msg_rcpt_outcome(&m.rcpt[0], "rejected"),
	    "rejected");
	msg_plan_free(&p);
	msg_reset(&m);
	/* '%' never reaches a reply text (Sendmail expands it). */
	bulk(&m, "news");
	rcpt(&m, "<a@x>", PR_CONFIRMED, 0);
	rcpt(&m, "<a%b @x>", PR_UNSUBSCRIBED, 0);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_REJECT);
	assert_non_null(strstr(p.reply.text, "a?b @x"));
	assert_null(strchr(p.reply.text, '%'));
	msg_plan_free(&p);
	msg_reset(&m);
	/* At RCPT time a drop or redirect without a sure form is refused. */
	bulk(&m, "news");
	r = rcpt(&m, "<@[IPv6:::1]:b@x>", PR_UNSUBSCRIBED, 1);
	msg_rcpt_reply(&m, r, 0, &rep);
	assert_int_equal(rep.kind, MSG_REJECT);
	assert_int_equal(r->state, RS_REJECTED);
	r = rcpt(&m, "<c d@x>", PR_NO_CONSENT, 1);
	msg_rcpt_reply(&m, r, 0, &rep);
	assert_int_equal(rep.kind, MSG_REJECT);
	/* ... while one with a sure form waits for its removal. */
	r = rcpt(&m, "<@relay:b@x>", PR_UNSUBSCRIBED, 1);
	msg_rcpt_reply(&m, r, 0, &rep);
	assert_int_equal(rep.kind, MSG_CONTINUE);
	msg_reset(&m);
}

static void
test_plan_all_rejected(void **state)
{
	struct msg_state m;
	struct msg_plan p;

	(void)state;
	load("");
	bulk(&m, "news");
	rcpt(&m, "a@x", PR_NO_CONSENT, 0);
	rcpt(&m, "b@x", PR_COMPLAINT, 0);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_REJECT);
	assert_string_equal(p.reply.rcode, "550");
	assert_non_null(strstr(p.reply.text, "(no_consent)"));
	msg_plan_free(&p);
	msg_reset(&m);
	/* Refused at RCPT already: those are not in the message. */
	bulk(&m, "news");
	rcpt(&m, "a@x", PR_CONFIRMED, 1);
	rcpt(&m, "b@x", PR_NO_CONSENT, 1)->state = RS_REJECTED;
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_CONTINUE);
	assert_int_equal(p.nremove, 0);
	msg_plan_free(&p);
	msg_reset(&m);
}

static void
test_plan_drop_discards(void **state)
{
	struct msg_state m;
	struct msg_plan p;

	(void)state;
	load("actions: { default = \"drop\"; };");
	bulk(&m, "news");
	rcpt(&m, "a@x", PR_NO_CONSENT, 1);
	rcpt(&m, "b@x", PR_HARD_BOUNCE, 1);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_DISCARD);
	msg_plan_free(&p);
	msg_reset(&m);
}

static void
test_plan_redirect(void **state)
{
	struct msg_state m;
	struct msg_plan p;

	(void)state;
	load("actions: { default = \"redirect\"; redirect_to = \"hold@example.com\"; };");
	bulk(&m, "news");
	rcpt(&m, "a@x", PR_NO_CONSENT, 1);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_CONTINUE);
	assert_string_equal(p.addrcpt, "hold@example.com");
	assert_true(m.rcpt[0].remove);
	assert_int_equal(p.nhdr, 1);
	assert_string_equal(p.hdr[0].name, "X-Consent-Redirected-For");
	assert_string_equal(p.hdr[0].value, "<a@x>; reason=no_consent; list=news");
	msg_plan_free(&p);
	msg_reset(&m);
	/* With someone else still receiving it, no address is named. */
	bulk(&m, "news");
	rcpt(&m, "a@x", PR_NO_CONSENT, 1);
	rcpt(&m, "b@x", PR_CONFIRMED, 1);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.nhdr, 1);
	assert_string_equal(p.hdr[0].name, "X-Consent-Redirected");
	assert_null(strstr(p.hdr[0].value, "a@x"));
	msg_plan_free(&p);
	msg_reset(&m);
}

static void
test_plan_tag_quarantine(void **state)
{
	struct msg_state m;
	struct msg_plan p;

	(void)state;
	load("actions: { default = \"tag\"; complaint = \"quarantine\"; };");
	bulk(&m, "news");
	rcpt(&m, "a@x", PR_NO_CONSENT, 1);
	rcpt(&m, "b@x", PR_NO_CONSENT, 1);
	rcpt(&m, "c@x", PR_COMPLAINT, 1);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_CONTINUE);
	assert_int_equal(p.nremove, 0);
	assert_int_equal(p.nhdr, 1);
	assert_string_equal(p.hdr[0].name, "X-Consent");
	assert_string_equal(p.hdr[0].value,
	    "deny; reason=no_consent; list=news; recipients=2");
	assert_true(p.quarantine);
	assert_non_null(strstr(p.qreason, "complaint"));
	msg_plan_free(&p);
	msg_reset(&m);
}

static void
test_plan_strip_and_log(void **state)
{
	struct msg_state m;
	struct msg_plan p;
	char line[512];

	(void)state;
	load("");
	bulk(&m, "news");
	m.hdrs.nlist_hdr = 2;
	rcpt(&m, "a@x", PR_CONFIRMED, 0);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.strip_list_hdr, 2);
	msg_plan_free(&p);
	msg_format_decision(&m, &m.rcpt[0], NULL, line, sizeof(line));
	assert_string_equal(line, "Q1: list=news rcpt=<a@x> verdict=allow "
	    "reason=confirmed action=none stage=eom outcome=accepted");
	/* User data is sanitised: no raw control characters in a log line. */
	strcpy(m.rcpt[0].key, "");
	m.rcpt[0].state = RS_INVALID;
	free(m.rcpt[0].raw);
	m.rcpt[0].raw = strdup("a\r\nb@x");
	msg_format_decision(&m, &m.rcpt[0], "aborted", line, sizeof(line));
	assert_non_null(strstr(line, "rcpt=<a\\x0d\\x0ab@x> verdict=deny "
	    "reason=invalid_address"));
	assert_non_null(strstr(line, "outcome=aborted"));
	msg_reset(&m);
}

/* Sendmail: removed by the RCPT argument as given, decided on its mailbox. */
static void
test_sendmail(void **state)
{
	struct msg_state m;
	struct msg_plan p;
	struct msg_reply rep;
	struct msg_rcpt *r;

	(void)state;
	load("");
	bulk(&m, "news");
	m.mta = MTA_SENDMAIL;
	rcpt(&m, "<a@x>", PR_CONFIRMED, 0);
	r = rcpt(&m, "<@relay.example:B@x>", PR_UNSUBSCRIBED, 0);
	assert_string_equal(r->mbox, "<B@x>");
	assert_string_equal(r->del, "<@relay.example:B@x>");
	r = rcpt(&m, "c@x", PR_NO_CONSENT, 0);
	assert_string_equal(r->mbox, "<c@x>");
	assert_string_equal(r->del, "c@x");
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_CONTINUE);
	assert_int_equal(p.nremove, 2);
	msg_plan_free(&p);
	msg_reset(&m);
	/* Its {rcpt_addr} is what it delivers to: the mailbox, or nobody. */
	bulk(&m, "news");
	m.mta = MTA_SENDMAIL;
	r = msg_add_rcpt(&m, "<@relay.example:\"b\"@X.example>");
	assert_int_equal(msg_rcpt_witness(&m, r, "\"b\"@x.example"), 0);
	assert_string_equal(r->mbox, "<\"b\"@X.example>");
	r = msg_add_rcpt(&m, "<b%y@x>");
	assert_int_equal(msg_rcpt_witness(&m, r, "b@y"), 0);
	assert_null(r->mbox);	/* rewritten: not whom we would decide on */
	assert_string_equal(r->del, "<b%y@x>");	/* still removable */
	msg_reset(&m);
	/* A comma or an 8-bit octet could be read otherwise: refused. */
	bulk(&m, "news");
	m.mta = MTA_SENDMAIL;
	rcpt(&m, "<a@x>", PR_CONFIRMED, 0);
	r = rcpt(&m, "<\"b\xc3\xa9\"@x>", PR_UNSUBSCRIBED, 0);
	assert_non_null(r->mbox);
	assert_null(r->del);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_REJECT);
	assert_int_equal(p.unremovable, 1);
	assert_non_null(strstr(p.reply.text, "without a source route"));
	msg_plan_free(&p);
	msg_reset(&m);
	/* Sendmail's localhost is an SMTP client like any: refused at RCPT. */
	bulk(&m, "news");
	m.mta = MTA_SENDMAIL;
	r = rcpt(&m, "<b@x>", PR_UNSUBSCRIBED, 1);
	msg_rcpt_reply(&m, r, 0, &rep);
	assert_int_equal(rep.kind, MSG_REJECT);
	/* Without a mailbox, but removable: refused at RCPT all the same. */
	r = msg_add_rcpt(&m, "<@[IPv6:::1]:b@x>");
	assert_null(r->mbox);
	assert_string_equal(r->del, "<@[IPv6:::1]:b@x>");
	r->state = RS_INVALID;
	msg_rcpt_reply(&m, r, 0, &rep);
	assert_string_equal(rep.xcode, "5.1.3");
	msg_reset(&m);
	/*
	 * Sendmail takes a refused RCPT out with removefromlist, as it
	 * removes one: what it could not remove, it cannot refuse either.
	 * Such a recipient waits for the end, and stops the message there.
	 */
	load("milter: { max_recipients = 2; };");
	bulk(&m, "news");
	m.mta = MTA_SENDMAIL;
	assert_int_equal(msg_rcpt_refusable(&m, "<b@x>"), 1);
	assert_int_equal(msg_rcpt_refusable(&m, "@a,@b:b@x"), 0);
	rcpt(&m, "<a@x>", PR_CONFIRMED, 1);
	r = rcpt(&m, "@a,@b:b@x", PR_NO_CONSENT, 1);
	assert_null(r->del);
	msg_rcpt_reply(&m, r, 0, &rep);
	assert_int_equal(rep.kind, MSG_CONTINUE);	/* a reject, not refused */
	assert_int_equal(r->state, RS_DECIDED);
	assert_int_equal(msg_rcpt_limit(&rules, &m, "@c,@d:c@x", &rep), 0);
	assert_int_equal(m.tempfail, 1);	/* past the limit: held */
	assert_non_null(strstr(m.tempfail_why, "Too many"));
	assert_int_equal(msg_rcpt_limit(&rules, &m, "<c@x>", &rep), 1);
	m.tempfail = 0;
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_REJECT);	/* whole */
	assert_int_equal(p.unremovable, 1);
	msg_plan_free(&p);
	r = msg_add_rcpt(&m, "@e,@f:e@x");
	msg_rcpt_reply(&m, r, 1, &rep);	/* store failed */
	assert_int_equal(rep.kind, MSG_CONTINUE);
	assert_int_equal(m.tempfail, 1);
	assert_non_null(strstr(m.tempfail_why, "Consent store"));
	msg_reset(&m);
}

/* An MTA we do not know: nothing removed or refused but whole messages. */
static void
test_unknown_mta(void **state)
{
	struct msg_state m;
	struct msg_plan p;
	struct msg_reply rep;
	struct msg_rcpt *r;

	(void)state;
	load("actions: { default = \"drop\"; };");
	bulk(&m, "news");
	m.mta = MTA_UNKNOWN;
	r = rcpt(&m, "<a@x>", PR_CONFIRMED, 1);
	assert_non_null(r->mbox);
	assert_null(r->del);
	msg_rcpt_reply(&m, r, 0, &rep);
	assert_int_equal(rep.kind, MSG_CONTINUE);
	/* No refusal at RCPT is sure either: all waits for the end. */
	assert_int_equal(msg_rcpt_refusable(&m, "<b@x>"), 0);
	r = rcpt(&m, "<b@x>", PR_NO_CONSENT, 1);
	msg_rcpt_reply(&m, r, 0, &rep);
	assert_int_equal(rep.kind, MSG_CONTINUE);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_REJECT);
	assert_int_equal(p.nremove, 1);
	assert_int_equal(p.unremovable, 1);
	msg_plan_free(&p);
	msg_reset(&m);
	/* Decided at the end: the message goes whole to the allowed, or not. */
	bulk(&m, "news");
	m.mta = MTA_UNKNOWN;
	rcpt(&m, "<a@x>", PR_CONFIRMED, 0);
	rcpt(&m, "<b@x>", PR_NO_CONSENT, 0);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_REJECT);
	assert_non_null(strstr(p.reply.text, "does not know this MTA"));
	msg_plan_free(&p);
	msg_reset(&m);
	/* Nobody left: discarded, which needs no removal. */
	bulk(&m, "news");
	m.mta = MTA_UNKNOWN;
	rcpt(&m, "<b@x>", PR_NO_CONSENT, 0);
	assert_int_equal(msg_plan(&rules, &m, &p), 0);
	assert_int_equal(p.reply.kind, MSG_DISCARD);
	msg_plan_free(&p);
	msg_reset(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rcpt_replies),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_local_path_never_refuses),
		cmocka_unit_test(test_plan_mixed),
		cmocka_unit_test(test_plan_unremovable),
		cmocka_unit_test(test_plan_all_rejected),
		cmocka_unit_test(test_plan_drop_discards),
		cmocka_unit_test(test_plan_redirect),
		cmocka_unit_test(test_plan_tag_quarantine),
		cmocka_unit_test(test_plan_strip_and_log),
		cmocka_unit_test(test_sendmail),
		cmocka_unit_test(test_unknown_mta),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
