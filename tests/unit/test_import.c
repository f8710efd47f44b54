/*
 * test_import.c - contact exports into consent changes: the sample files
 * of tests/data (Mailchimp's three files, Klaviyo, the generic CSV) give
 * exactly the changes expected, oldest first; header and row errors name
 * the line and the reason; rows without times are flagged so that the
 * store's merge makes a re-import change nothing; an unsubscribed or
 * cleaned file never leaves anyone subscribed; the generic CSV reads
 * back export's formula guard.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/record.h"
#include "ctl/import.h"
#include "util/time.h"
#include "util/util.h"

#define NOW	1767225600	/* 2026-01-01, after every time in the files */

static struct import_opts
opts(int format, const char *list)
{
	struct import_opts o;

	memset(&o, 0, sizeof(o));
	o.format = format;
	o.list = list;
	o.delims = NULL;
	o.now = NOW;
	return o;
}

/* data_open - a file of tests/data, from the top of the tree. */
static FILE *
data_open(const char *name)
{
	const char *top = getenv("TOP");
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/tests/data/%s", top ? top : ".", name);
	fp = fopen(path, "r");
	if (fp == NULL)
		fail_msg("cannot open %s (run from the top of the tree)", path);
	return fp;
}

/* str_open - s as a FILE; the caller fcloses it. */
static FILE *
str_open(const char *s)
{
	FILE *fp = tmpfile();

	assert_non_null(fp);
	assert_int_equal(fwrite(s, 1, strlen(s), fp), strlen(s));
	rewind(fp);
	return fp;
}

static int64_t
t(const char *s)
{
	int64_t v;

	assert_int_equal(time_parse(s, &v), 0);
	return v;
}

static struct import *
must_open(FILE *fp, const struct import_opts *o)
{
	struct import *im;
	char err[256];

	if (import_open(&im, fp, o, err, sizeof(err)) != 0)
		fail_msg("import_open: %s", err);
	return im;
}

static void
next_ok(struct import *im, struct import_row *row, unsigned long line,
    const char *key, unsigned nch)
{
	char err[512];
	int rc = import_next(im, row, err, sizeof(err));

	if (rc != 1)
		fail_msg("line %lu: import_next %d: %s", line, rc, err);
	assert_int_equal(row->line, line);
	assert_string_equal(row->key, key);
	assert_int_equal(row->nch, nch);
}

static void
next_bad(struct import *im, const char *msg)
{
	struct import_row row;
	char err[512];

	assert_int_equal(import_next(im, &row, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
}

static void
next_end(struct import *im)
{
	struct import_row row;
	char err[128];

	assert_int_equal(import_next(im, &row, err, sizeof(err)), 0);
}

static void
consent_is(const struct import_change *ch, int status, int64_t when,
    int flags, const char *ip)
{
	assert_int_equal(ch->kind, IMP_CONSENT);
	assert_int_equal(ch->ev.status, status);
	assert_int_equal(ch->ev.time, when);
	assert_int_equal(ch->ev.flags, flags);
	assert_string_equal(ch->ev.ip, ip);
}

static void
supp_is(const struct import_change *ch, int reason, int64_t when, int flags)
{
	assert_int_equal(ch->kind, IMP_SUPP);
	assert_int_equal(ch->supp.reason, reason);
	assert_int_equal(ch->supp.created, when);
	assert_int_equal(ch->supp.flags, flags);
	assert_int_equal(ch->supp.expires, 0);
}

static void
test_format_names(void **state)
{
	(void)state;
	assert_int_equal(import_format_parse("auto"), IMPORT_AUTO);
	assert_int_equal(import_format_parse("csv"), IMPORT_CSV);
	assert_int_equal(import_format_parse("Klaviyo"), IMPORT_KLAVIYO);
	assert_int_equal(import_format_parse("MAILCHIMP"), IMPORT_MAILCHIMP);
	assert_int_equal(import_format_parse("mailchimp2"), -1);
	assert_int_equal(import_format_parse(""), -1);
	assert_int_equal(import_format_parse(NULL), -1);
	assert_string_equal(import_format_name(IMPORT_CSV), "csv");
	assert_string_equal(import_format_name(IMPORT_KLAVIYO), "klaviyo");
	assert_string_equal(import_format_name(IMPORT_MAILCHIMP), "mailchimp");
	assert_string_equal(import_format_name(IMPORT_AUTO), "auto");
	assert_string_equal(import_format_name(9), "?");
	assert_string_equal(import_format_name(-1), "?");
	import_free(NULL);
}

static void
test_mailchimp_subscribed(void **state)
{
	struct import_opts o = opts(IMPORT_AUTO, "news");
	FILE *fp = data_open("mailchimp_subscribed.csv");
	struct import *im = must_open(fp, &o);
	struct import_row r;

	(void)state;
	assert_int_equal(import_format(im), IMPORT_MAILCHIMP);
	/* Double opt-in: asked at OPTIN_TIME, confirmed at CONFIRM_TIME. */
	next_ok(im, &r, 2, "alice@example.com", 2);
	assert_string_equal(r.list, "news");
	consent_is(&r.ch[0], CS_PENDING, t("2023-03-14 09:26:53"), 0,
	    "198.51.100.23");
	consent_is(&r.ch[1], CS_CONFIRMED, t("2023-03-14 09:31:07"), 0,
	    "198.51.100.23");
	assert_int_equal(r.ch[0].ev.source, SRC_IMPORT);
	assert_string_equal(r.ch[0].ev.note, "mailchimp LEID 112233441");
	/* Same times, no confirmation IP: single opt-in. */
	next_ok(im, &r, 3, "bob.baker@example.com", 1);
	consent_is(&r.ch[0], CS_SUBSCRIBED, t("2022-11-02 17:04:11"), 0,
	    "2001:db8::17");
	/* Added by the account: CONFIRM_TIME only. */
	next_ok(im, &r, 4, "carol@example.org", 1);
	consent_is(&r.ch[0], CS_SUBSCRIBED, t("2021-06-30 08:00:00"), 0, "");
	assert_string_equal(r.ch[0].ev.note,
	    "mailchimp LEID 112233443, added by the account");
	/* No time at all: dated now, of unknown time. */
	next_ok(im, &r, 5, "dave+news@example.net", 1);
	consent_is(&r.ch[0], CS_SUBSCRIBED, NOW, REC_F_TIME_UNKNOWN, "");
	next_ok(im, &r, 6, "erin@example.com", 2);
	consent_is(&r.ch[0], CS_PENDING, t("2024-02-29 23:59:59"), 0,
	    "203.0.113.9");
	consent_is(&r.ch[1], CS_CONFIRMED, t("2024-03-01 00:02:10"), 0,
	    "203.0.113.77");
	next_end(im);
	import_free(im);
	fclose(fp);
}

static void
test_mailchimp_unsubscribed(void **state)
{
	struct import_opts o = opts(IMPORT_MAILCHIMP, NULL);
	FILE *fp = data_open("mailchimp_unsubscribed.csv");
	struct import *im = must_open(fp, &o);
	struct import_row r;

	(void)state;
	next_ok(im, &r, 2, "frank@example.com", 3);
	assert_string_equal(r.list, "default");
	consent_is(&r.ch[0], CS_PENDING, t("2022-05-01 10:00:00"), 0,
	    "192.0.2.10");
	consent_is(&r.ch[1], CS_CONFIRMED, t("2022-05-01 10:03:30"), 0,
	    "192.0.2.10");
	consent_is(&r.ch[2], CS_UNSUBSCRIBED, t("2023-08-17 14:22:05"), 0, "");
	assert_string_equal(r.ch[2].ev.note, "mailchimp LEID 223344551: I no "
	    "longer want to receive these emails, campaign \"August news, "
	    "part 1\"");
	/* A reason on two lines stays on one. */
	next_ok(im, &r, 3, "grace@example.org", 2);
	consent_is(&r.ch[0], CS_SUBSCRIBED, t("2020-01-15 09:00:00"), 0, "");
	consent_is(&r.ch[1], CS_UNSUBSCRIBED, t("2021-02-01 07:45:00"), 0, "");
	assert_string_equal(r.ch[1].ev.note, "mailchimp LEID 223344552: Other "
	    "(Too many emails please stop), campaign \"Winter sale\"");
	/* No UNSUB_TIME: dated at the opt-in, where the unsubscribe wins. */
	next_ok(im, &r, 5, "heidi@example.net", 2);
	consent_is(&r.ch[0], CS_SUBSCRIBED, t("2023-09-09 09:09:09"), 0,
	    "198.51.100.99");
	consent_is(&r.ch[1], CS_UNSUBSCRIBED, t("2023-09-09 09:09:09"), 0, "");
	assert_string_equal(r.ch[1].ev.note, "mailchimp LEID 223344553: N/A "
	    "(Unsubscribed by an admin), time from the opt-in");
	/* Nothing dated at all. */
	next_ok(im, &r, 6, "ivan@example.com", 1);
	consent_is(&r.ch[0], CS_UNSUBSCRIBED, NOW, REC_F_TIME_UNKNOWN, "");
	next_end(im);
	import_free(im);
	fclose(fp);
}

static void
test_mailchimp_cleaned(void **state)
{
	struct import_opts o = opts(IMPORT_AUTO, "news");
	FILE *fp = data_open("mailchimp_cleaned.csv");
	struct import *im = must_open(fp, &o);
	struct import_row r;

	(void)state;
	next_ok(im, &r, 2, "judy@example.com", 3);
	consent_is(&r.ch[0], CS_PENDING, t("2021-04-04 12:00:00"), 0,
	    "192.0.2.44");
	consent_is(&r.ch[1], CS_CONFIRMED, t("2021-04-04 12:05:00"), 0,
	    "192.0.2.44");
	supp_is(&r.ch[2], SR_HARD_BOUNCE, t("2023-10-10 06:30:00"), 0);
	assert_int_equal(r.ch[2].supp.source, SRC_IMPORT);
	assert_string_equal(r.ch[2].supp.ref,
	    "mailchimp campaign \"October news\" (c3d4e5f6a7)");
	next_ok(im, &r, 3, "mallory@example.org", 2);
	consent_is(&r.ch[0], CS_SUBSCRIBED, t("2019-12-01"), 0, "");
	supp_is(&r.ch[1], SR_HARD_BOUNCE, t("2019-12-01"), 0);
	assert_string_equal(r.ch[1].supp.ref, "");
	assert_string_equal(r.ch[1].supp.note,
	    "mailchimp LEID 334455662, cleaned, time from the opt-in");
	next_end(im);
	import_free(im);
	fclose(fp);
}

/* The end of a Mailchimp row: LAST_CHANGED, and clamping to the opt-in. */
static void
test_mailchimp_end_time(void **state)
{
	struct import_opts o = opts(IMPORT_AUTO, NULL);
	FILE *fp = str_open("Email Address,OPTIN_TIME,CONFIRM_TIME,"
	    "CONFIRM_IP,UNSUB_TIME,LAST_CHANGED\n"
	    "a@example.com,2024-01-01 10:00:00,,,,2024-02-02 00:00:00\n"
	    "b@example.com,2024-01-01 10:00:00,2024-01-01 10:05:00,"
	    "192.0.2.1,2023-12-31 00:00:00,\n"
	    "c@example.com,,,,2024-03-03 03:03:03,\n");
	struct import *im = must_open(fp, &o);
	struct import_row r;

	(void)state;
	next_ok(im, &r, 2, "a@example.com", 2);
	consent_is(&r.ch[1], CS_UNSUBSCRIBED, t("2024-02-02"), 0, "");
	assert_string_equal(r.ch[1].ev.note,
	    "mailchimp, time from LAST_CHANGED");
	/* An UNSUB_TIME before the confirmation is moved up to it. */
	next_ok(im, &r, 3, "b@example.com", 3);
	consent_is(&r.ch[2], CS_UNSUBSCRIBED, t("2024-01-01 10:05:00"), 0, "");
	assert_string_equal(r.ch[2].ev.note,
	    "mailchimp, time moved up to the opt-in");
	next_ok(im, &r, 4, "c@example.com", 1);
	consent_is(&r.ch[0], CS_UNSUBSCRIBED, t("2024-03-03 03:03:03"), 0, "");
	next_end(im);
	import_free(im);
	fclose(fp);
}

static void
test_klaviyo(void **state)
{
	struct import_opts o = opts(IMPORT_AUTO, "Shop");
	FILE *fp = data_open("klaviyo_profiles.csv");
	struct import *im = must_open(fp, &o);
	struct import_row r;

	(void)state;
	assert_int_equal(import_format(im), IMPORT_KLAVIYO);
	next_ok(im, &r, 2, "niaj@example.com", 1);
	assert_string_equal(r.list, "shop");
	consent_is(&r.ch[0], CS_SUBSCRIBED, t("2024-01-05T14:03:22Z"), 0, "");
	assert_string_equal(r.ch[0].ev.note, "klaviyo profile "
	    "01HQ3Z6Y8N5E2XKQ7D4C9B1A0F, source Klaviyo Form");
	next_ok(im, &r, 3, "olivia@example.com", 1);
	consent_is(&r.ch[0], CS_UNSUBSCRIBED, t("2024-04-10T09:00:00Z"), 0, "");
	/* NEVER_SUBSCRIBED: nothing to change, and no error. */
	next_ok(im, &r, 4, "peggy@example.org", 0);
	next_ok(im, &r, 5, "rupert@example.net", 1);
	supp_is(&r.ch[0], SR_HARD_BOUNCE, t("2023-05-06T07:08:09Z"), 0);
	next_ok(im, &r, 6, "sybil@example.com", 2);
	consent_is(&r.ch[0], CS_SUBSCRIBED, t("2023-07-07 07:07:07"), 0, "");
	supp_is(&r.ch[1], SR_COMPLAINT, t("2024-02-02T02:02:02Z"), 0);
	next_ok(im, &r, 7, "trent@example.com", 1);
	consent_is(&r.ch[0], CS_SUBSCRIBED, NOW, REC_F_TIME_UNKNOWN, "");
	next_end(im);
	import_free(im);
	fclose(fp);
}

/* Suppression cells in any punctuation; double opt-in; time order. */
static void
test_klaviyo_cells(void **state)
{
	struct import_opts o = opts(IMPORT_KLAVIYO, NULL);
	FILE *fp = str_open("Email,Email Marketing Consent,"
	    "Email Marketing Consent Timestamp,Email Suppressions,"
	    "Email Marketing Double Opt-In\n"
	    "a@example.com,subscribed,2024-05-01T00:00:00Z,"
	    "\"[HARD_BOUNCE, UNSUBSCRIBE] 2024-01-01T00:00:00Z\",\n"
	    "b@example.com,SUBSCRIBED,2024-05-01,USER_SUPPRESSED,true\n"
	    "c@example.com,NEVER SUBSCRIBED,,[],\n"
	    "d@example.com,UNSUBSCRIBED,,UNSUBSCRIBE,\n"
	    "d2@example.com,SUBSCRIBED,,UNSUBSCRIBE,\n"
	    "d3@example.com,UNSUBSCRIBED,,UNSUBSCRIBE 2024-06-06,\n"
	    "e@example.com,MAYBE,,,\n"
	    "f@example.com,SUBSCRIBED,,BOUNCED_TWICE,\n"
	    "g@example.com,SUBSCRIBED,yesterday,,\n"
	    "h@example.com,,,\"[{\"\"reason\"\": \"\"INVALID_EMAIL\"\", "
	    "\"\"timestamp\"\": \"\"2022-02-02 02:02:02\"\"}]\",\n");
	struct import *im = must_open(fp, &o);
	struct import_row r;

	(void)state;
	/*
	 * Bounced in January; the UNSUBSCRIBE suppression still there is the
	 * current state, so it is dated no earlier than the May consent.
	 */
	next_ok(im, &r, 2, "a@example.com", 3);
	supp_is(&r.ch[0], SR_HARD_BOUNCE, t("2024-01-01"), 0);
	consent_is(&r.ch[1], CS_SUBSCRIBED, t("2024-05-01"), 0, "");
	consent_is(&r.ch[2], CS_UNSUBSCRIBED, t("2024-05-01"), 0, "");
	assert_string_equal(r.ch[2].ev.note,
	    "klaviyo, suppressed: UNSUBSCRIBE");
	next_ok(im, &r, 3, "b@example.com", 2);
	consent_is(&r.ch[0], CS_CONFIRMED, t("2024-05-01"), 0, "");
	supp_is(&r.ch[1], SR_MANUAL, NOW, REC_F_TIME_UNKNOWN);
	next_ok(im, &r, 4, "c@example.com", 0);
	next_ok(im, &r, 5, "d@example.com", 1);
	consent_is(&r.ch[0], CS_UNSUBSCRIBED, NOW, REC_F_TIME_UNKNOWN, "");
	/* Subscribed, but suppressed for unsubscribing: no time to order by. */
	next_ok(im, &r, 6, "d2@example.com", 1);
	consent_is(&r.ch[0], CS_UNSUBSCRIBED, NOW, REC_F_TIME_UNKNOWN, "");
	/* Unsubscribed without a time; the suppression has one. */
	next_ok(im, &r, 7, "d3@example.com", 1);
	consent_is(&r.ch[0], CS_UNSUBSCRIBED, t("2024-06-06"), 0, "");
	next_bad(im, "line 8: unknown Email Marketing Consent \"MAYBE\" "
	    "(SUBSCRIBED, UNSUBSCRIBED or NEVER_SUBSCRIBED)");
	next_bad(im, "line 9: unknown Email Suppressions \"BOUNCED_TWICE\" "
	    "(HARD_BOUNCE, SPAM_COMPLAINT, INVALID_EMAIL, USER_SUPPRESSED or "
	    "UNSUBSCRIBE)");
	next_bad(im, "line 10: bad Email Marketing Consent Timestamp "
	    "\"yesterday\" (expected YYYY-MM-DD, \"YYYY-MM-DD HH:MM:SS\" or "
	    "RFC 3339)");
	next_ok(im, &r, 11, "h@example.com", 1);
	supp_is(&r.ch[0], SR_INVALID, t("2022-02-02 02:02:02"), 0);
	next_end(im);
	import_free(im);
	fclose(fp);
}

static void
test_generic(void **state)
{
	struct import_opts o = opts(IMPORT_AUTO, "news");
	FILE *fp = data_open("generic.csv");
	struct import *im = must_open(fp, &o);
	struct import_row r;

	(void)state;
	assert_int_equal(import_format(im), IMPORT_CSV);
	next_ok(im, &r, 2, "ursula@example.com", 1);
	assert_string_equal(r.list, "newsletter");
	consent_is(&r.ch[0], CS_CONFIRMED, t("2024-01-10T08:00:00Z"), 0,
	    "192.0.2.1");
	assert_int_equal(r.ch[0].ev.source, SRC_FORM);
	assert_string_equal(r.ch[0].ev.note, "signed up at the booth");
	next_ok(im, &r, 3, "victor@example.org", 1);
	consent_is(&r.ch[0], CS_PENDING, t("2024-01-11 09:30:00"), 0,
	    "2001:db8::2");
	next_ok(im, &r, 4, "walter@example.net", 1);
	assert_string_equal(r.list, "offers");
	consent_is(&r.ch[0], CS_UNSUBSCRIBED, t("2024-02-01"), 0, "");
	assert_int_equal(r.ch[0].ev.source, SRC_ONECLICK);
	next_ok(im, &r, 5, "xavier@example.com", 1);
	assert_string_equal(r.list, "news");
	supp_is(&r.ch[0], SR_HARD_BOUNCE, t("2024-03-03T02:03:03Z"), 0);
	assert_int_equal(r.ch[0].supp.source, SRC_BOUNCE);
	assert_string_equal(r.ch[0].supp.note, "550 5.1.1 user unknown");
	/* Only the address: subscribed, of unknown time, from an import. */
	next_ok(im, &r, 6, "yvonne@example.com", 1);
	consent_is(&r.ch[0], CS_SUBSCRIBED, NOW, REC_F_TIME_UNKNOWN, "");
	assert_int_equal(r.ch[0].ev.source, SRC_IMPORT);
	/* Case folded in status and list; quotes in the note. */
	next_ok(im, &r, 7, "zoe@example.com", 1);
	assert_string_equal(r.list, "news.letter");
	assert_string_equal(r.ch[0].ev.note, "imported from the \"old\" CRM");
	next_end(im);
	import_free(im);
	fclose(fp);
}

static void
test_broken_rows(void **state)
{
	struct import_opts o = opts(IMPORT_AUTO, NULL);
	FILE *fp = data_open("broken_rows.csv");
	struct import *im = must_open(fp, &o);
	struct import_row r;

	(void)state;
	next_ok(im, &r, 2, "good1@example.com", 1);
	next_bad(im, "line 3: invalid address \"x@\": empty domain");
	next_bad(im, "line 4: unknown status \"maybe\" (pending, subscribed, "
	    "confirmed, unsubscribed, or a suppression: unsubscribed_all, "
	    "hard_bounce, complaint, invalid, manual, soft_bounce)");
	next_bad(im, "line 5: bad timestamp \"2024-13-45\" (expected "
	    "YYYY-MM-DD, \"YYYY-MM-DD HH:MM:SS\" or RFC 3339)");
	next_bad(im, "line 6: bad IP address \"300.1.2.3\" (not an IPv4 or "
	    "IPv6 address)");
	next_bad(im, "line 7: unknown source \"carrier-pigeon\" (form, import, "
	    "api, one-click, mailto, admin, bounce, complaint)");
	next_bad(im, "line 8: list \"news letter\": list name may hold only "
	    "a-z, 0-9, '.', '-' and '_' (found a space)");
	next_bad(im, "line 9: note longer than 200 octets");
	next_bad(im, "line 10: 2 fields, but the header has 7");
	next_bad(im, "line 11: field 1: bare quote in unquoted field");
	next_ok(im, &r, 12, "good2@example.com", 1);
	next_bad(im, "line 13: field 7: invalid UTF-8");
	next_bad(im, "line 14: field 7: unterminated quoted field");
	next_end(im);
	import_free(im);
	fclose(fp);
}

static void
test_bom_crlf(void **state)
{
	struct import_opts o = opts(IMPORT_AUTO, NULL);
	FILE *fp = data_open("bom_crlf.csv");
	struct import *im = must_open(fp, &o);
	struct import_row r;

	(void)state;
	assert_int_equal(import_format(im), IMPORT_CSV);
	next_ok(im, &r, 2, "carla@example.com", 1);
	assert_string_equal(r.list, "news");
	/* Line breaks inside the note become spaces. */
	assert_string_equal(r.ch[0].ev.note,
	    "likes commas, quotes \"like this\" and  line breaks");
	next_ok(im, &r, 4, "dirk@example.org", 1);
	consent_is(&r.ch[0], CS_CONFIRMED, NOW, REC_F_TIME_UNKNOWN, "");
	next_ok(im, &r, 7, "eve@example.net", 1);
	consent_is(&r.ch[0], CS_UNSUBSCRIBED, NOW, REC_F_TIME_UNKNOWN, "");
	next_end(im);
	import_free(im);
	fclose(fp);

	fp = data_open("generic_semicolon.csv");
	im = must_open(fp, &o);
	next_ok(im, &r, 2, "anna@example.com", 1);
	assert_string_equal(r.list, "newsletter");
	next_ok(im, &r, 3, "bert@example.org", 1);
	consent_is(&r.ch[0], CS_UNSUBSCRIBED, NOW, REC_F_TIME_UNKNOWN, "");
	next_end(im);
	import_free(im);
	fclose(fp);
}

static void
open_fails(const char *text, int format, const char *list, const char *msg)
{
	struct import_opts o = opts(format, list);
	struct import *im = (struct import *)&o;	/* must be reset */
	char err[256];
	FILE *fp = str_open(text);

	assert_int_equal(import_open(&im, fp, &o, err, sizeof(err)), -1);
	assert_null(im);
	assert_string_equal(err, msg);
	fclose(fp);
}

static void
test_header_errors(void **state)
{
	(void)state;
	open_fails("", IMPORT_AUTO, NULL, "empty file: no header line");
	open_fails("\n\r\n", IMPORT_AUTO, NULL, "empty file: no header line");
	open_fails("name,phone\nx,y\n", IMPORT_AUTO, NULL, "line 1: no email "
	    "column (\"email\", \"email address\" or \"e-mail\")");
	open_fails("Email,E-Mail\n", IMPORT_AUTO, NULL, "line 1: columns 1 "
	    "(\"Email\") and 2 (\"E-Mail\") say the same thing");
	open_fails("\n\r\nEmail,E-Mail\n", IMPORT_AUTO, NULL, "line 3: columns "
	    "1 (\"Email\") and 2 (\"E-Mail\") say the same thing");
	open_fails("email,time,timestamp\n", IMPORT_CSV, NULL, "line 1: "
	    "columns 2 (\"time\") and 3 (\"timestamp\") say the same thing");
	open_fails("First Name,OPTIN_TIME\n", IMPORT_AUTO, NULL,
	    "line 1: no \"Email Address\" column");
	open_fails("Email Address,UNSUB_TIME,CLEAN_TIME\n", IMPORT_AUTO, NULL,
	    "line 1: both UNSUB_TIME and CLEAN_TIME: not one of Mailchimp's "
	    "export files");
	open_fails("Email,First Name\n", IMPORT_KLAVIYO, NULL, "line 1: no "
	    "\"Email Marketing Consent\" or \"Email Suppressions\" column: "
	    "nothing to import");
	open_fails("Klaviyo ID,Email Marketing Consent\n", IMPORT_AUTO, NULL,
	    "line 1: no \"Email\" column");
	open_fails("email\n", IMPORT_AUTO, "Bad List!", "list \"Bad List!\": "
	    "list name may hold only a-z, 0-9, '.', '-' and '_' (found a space)");
	open_fails("email,\"note\n", IMPORT_AUTO, NULL,
	    "line 1: header: field 2: unterminated quoted field");
	open_fails("email\n", 7, NULL, "unknown format 7");
}

/* A format asked for wins over the header's look. */
static void
test_forced_format(void **state)
{
	struct import_opts o = opts(IMPORT_CSV, NULL);
	FILE *fp = data_open("mailchimp_unsubscribed.csv");
	struct import *im = must_open(fp, &o);
	struct import_row r;

	(void)state;
	assert_int_equal(import_format(im), IMPORT_CSV);
	next_ok(im, &r, 2, "frank@example.com", 1);
	consent_is(&r.ch[0], CS_SUBSCRIBED, NOW, REC_F_TIME_UNKNOWN, "");
	import_free(im);
	fclose(fp);
}

/* Address options pass through; empty rows are skipped. */
static void
test_rows_misc(void **state)
{
	struct import_opts o = opts(IMPORT_AUTO, NULL);
	FILE *fp = str_open("email,status\n"
	    "Bob.Baker+Tag@Example.COM,subscribed\n"
	    ",\n"
	    " , \n"
	    ",subscribed\n"
	    "<c@example.com>,none\n"
	    "d@example.com,Unsubscribed_All\n");
	struct import *im;
	struct import_row r;

	(void)state;
	o.addr_flags = ADDR_CASE_SENSITIVE;
	o.delims = "";
	im = must_open(fp, &o);
	next_ok(im, &r, 2, "Bob.Baker+Tag@example.com", 1);
	next_bad(im, "line 5: no address");
	next_bad(im, "line 6: unknown status \"none\" (pending, subscribed, "
	    "confirmed, unsubscribed, or a suppression: unsubscribed_all, "
	    "hard_bounce, complaint, invalid, manual, soft_bounce)");
	next_ok(im, &r, 7, "d@example.com", 1);
	supp_is(&r.ch[0], SR_UNSUBSCRIBED_ALL, NOW, REC_F_TIME_UNKNOWN);
	next_end(im);
	import_free(im);
	fclose(fp);

	/* Case folded by default. */
	fp = str_open("email\nBob.Baker@Example.COM\n");
	o = opts(IMPORT_AUTO, NULL);
	im = must_open(fp, &o);
	next_ok(im, &r, 2, "bob.baker@example.com", 1);
	next_end(im);
	import_free(im);
	fclose(fp);

	/* A bad Mailchimp IP, named by its column. */
	fp = str_open("Email Address,OPTIN_TIME,OPTIN_IP\n"
	    "a@example.com,2024-01-01 00:00:00,192.0.2.1.5\n");
	im = must_open(fp, &o);
	next_bad(im, "line 2: bad OPTIN_IP \"192.0.2.1.5\" (not an IPv4 or "
	    "IPv6 address)");
	next_end(im);
	import_free(im);
	fclose(fp);
}

/* Only the generic CSV drops the quote export puts before a formula. */
static void
test_formula_guard(void **state)
{
	struct import_opts o = opts(IMPORT_AUTO, NULL);
	FILE *fp = str_open("email,list,status,note\n"
	    "\"'=a@example.com\",\"'-news\",subscribed,\"'=HYPERLINK(\"\"x\"\")\"\n"
	    "b@example.com,news,subscribed,'@SUM(1+1)\n"
	    "c@example.com,news,subscribed,''+1\n"
	    "d@example.com,news,subscribed,'quoted'\n"
	    "e@example.com,news,subscribed,' -2\n");
	struct import *im = must_open(fp, &o);
	struct import_row r;

	(void)state;
	next_ok(im, &r, 2, "=a@example.com", 1);
	assert_string_equal(r.list, "-news");
	assert_string_equal(r.ch[0].ev.note, "=HYPERLINK(\"x\")");
	next_ok(im, &r, 3, "b@example.com", 1);
	assert_string_equal(r.ch[0].ev.note, "@SUM(1+1)");
	next_ok(im, &r, 4, "c@example.com", 1);
	assert_string_equal(r.ch[0].ev.note, "'+1");
	next_ok(im, &r, 5, "d@example.com", 1);
	assert_string_equal(r.ch[0].ev.note, "'quoted'");
	next_ok(im, &r, 6, "e@example.com", 1);
	assert_string_equal(r.ch[0].ev.note, "' -2");
	next_end(im);
	import_free(im);
	fclose(fp);

	/* Mailchimp's cells are its own: a leading quote stays. */
	fp = str_open("Email Address,OPTIN_TIME,LEID\n"
	    "a@example.com,2024-01-01 00:00:00,'=1\n");
	im = must_open(fp, &o);
	next_ok(im, &r, 2, "a@example.com", 1);
	assert_string_equal(r.ch[0].ev.note, "mailchimp LEID '=1");
	next_end(im);
	import_free(im);
	fclose(fp);
}

/* A read error part way is -2, once the rows before it are out. */
static ssize_t
failing_read(void *cookie, char *buf, size_t size)
{
	const char *data = "email\na@example.com\n";
	size_t *pos = cookie, n = strlen(data);

	if (*pos >= n)
		return -1;
	if (size > n - *pos)
		size = n - *pos;
	memcpy(buf, data + *pos, size);
	*pos += size;
	return (ssize_t)size;
}

static void
test_read_error(void **state)
{
	cookie_io_functions_t io = { failing_read, NULL, NULL, NULL };
	struct import_opts o = opts(IMPORT_AUTO, NULL);
	struct import *im;
	struct import_row r;
	size_t pos = 0;
	char err[256];
	FILE *fp = fopencookie(&pos, "r", io);

	(void)state;
	assert_non_null(fp);
	setvbuf(fp, NULL, _IONBF, 0);
	im = must_open(fp, &o);
	next_ok(im, &r, 2, "a@example.com", 1);
	assert_int_equal(import_next(im, &r, err, sizeof(err)), -2);
	assert_non_null(strstr(err, "read error"));
	import_free(im);
	fclose(fp);
}

/*
 * Through the store's merge rules: an unsubscribed file leaves every row
 * unsubscribed, a cleaned one suppressed, and a second import of a file
 * without times changes nothing.
 */
static void
apply_file(const char *name, const char *text, int expect_status,
    int expect_reason)
{
	struct import_opts o = opts(IMPORT_AUTO, NULL);
	FILE *fp = name != NULL ? data_open(name) : str_open(text);
	struct import *im = must_open(fp, &o);
	struct import_row r;
	char err[256];
	int rc;

	while ((rc = import_next(im, &r, err, sizeof(err))) != 0) {
		struct subject s;
		const struct list_consent *lc;

		assert_int_equal(rc, 1);
		subject_init(&s);
		for (int pass = 0; pass < 2; pass++) {
			int changed = 0;

			for (unsigned i = 0; i < r.nch; i++)
				changed |= r.ch[i].kind == IMP_CONSENT ?
				    record_apply_consent(&s, r.list,
				    &r.ch[i].ev) :
				    record_apply_supp(&s, &r.ch[i].supp, NOW);
			/* The second time round nothing changes. */
			assert_int_equal(changed, pass == 0 && r.nch > 0);
		}
		lc = record_find_list(&s, r.list);
		if (expect_status != CS_NONE) {
			assert_non_null(lc);
			assert_int_equal(lc->status, expect_status);
		}
		if (expect_reason != SR_NONE) {
			assert_true(s.has_supp);
			assert_int_equal(s.supp.reason, expect_reason);
		}
		subject_clear(&s);
	}
	import_free(im);
	fclose(fp);
}

static void
test_through_merge(void **state)
{
	(void)state;
	apply_file("mailchimp_unsubscribed.csv", NULL, CS_UNSUBSCRIBED,
	    SR_NONE);
	apply_file("mailchimp_cleaned.csv", NULL, CS_NONE, SR_HARD_BOUNCE);
	apply_file(NULL, "email\na@example.com\nb@example.com\n",
	    CS_SUBSCRIBED, SR_NONE);

	/* An unknown-time row never undoes a dated unsubscribe. */
	{
		struct import_opts o = opts(IMPORT_AUTO, NULL);
		FILE *fp = str_open("email,status\na@example.com,subscribed\n");
		struct import *im = must_open(fp, &o);
		struct import_row r;
		struct evidence ev;
		struct subject s;
		char err[128];

		subject_init(&s);
		memset(&ev, 0, sizeof(ev));
		ev.status = CS_UNSUBSCRIBED;
		ev.time = NOW - 86400;
		ev.source = SRC_ONECLICK;
		assert_int_equal(record_apply_consent(&s, "default", &ev), 1);
		assert_int_equal(import_next(im, &r, err, sizeof(err)), 1);
		assert_int_equal(record_apply_consent(&s, r.list, &r.ch[0].ev),
		    0);
		assert_int_equal(record_find_list(&s, "default")->status,
		    CS_UNSUBSCRIBED);
		subject_clear(&s);
		import_free(im);
		fclose(fp);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_mailchimp_subscribed),
		cmocka_unit_test(test_mailchimp_unsubscribed),
		cmocka_unit_test(test_mailchimp_cleaned),
		cmocka_unit_test(test_mailchimp_end_time),
		cmocka_unit_test(test_klaviyo),
		cmocka_unit_test(test_klaviyo_cells),
		cmocka_unit_test(test_generic),
		cmocka_unit_test(test_broken_rows),
		cmocka_unit_test(test_bom_crlf),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_forced_format),
		cmocka_unit_test(test_rows_misc),
		cmocka_unit_test(test_formula_guard),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_through_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
