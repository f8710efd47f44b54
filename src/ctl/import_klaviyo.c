/*
 * import_klaviyo.c - Klaviyo's list and segment exports: the profile's
 * email marketing consent and its suppressions.
 *
 * Klaviyo: a list or segment export has "Email" and the chosen profile
 * properties, among them "Email Marketing Consent" (SUBSCRIBED,
 * UNSUBSCRIBED, NEVER_SUBSCRIBED), "Email Marketing Consent Timestamp"
 * (ISO 8601) and "Email Suppressions"; suppression reasons are
 * HARD_BOUNCE, INVALID_EMAIL, SPAM_COMPLAINT, UNSUBSCRIBE and
 * USER_SUPPRESSED, each with a time.  Consent is per account, not per
 * list, so the whole file goes to one list (--list).  No default export
 * column says double opt-in: an optional "Email Marketing Double Opt-In"
 * (true/false) or "Email Marketing Consent Method" holding DOUBLE_OPT_IN
 * marks it.  "IP Address" is the profile's last seen address, not
 * evidence of consent, and is not used.
 *   https://developers.klaviyo.com/en/docs/
 *     collect_email_and_sms_consent_via_api
 *   https://developers.klaviyo.com/en/reference/profiles_api_overview
 *   https://developers.klaviyo.com/en/reference/bulk_unsuppress_profiles
 *   https://help.klaviyo.com/hc/en-us/articles/115005078967 (CSV columns)
 *   https://help.klaviyo.com/hc/en-us/articles/360043841811 (consent)
 *   https://help.klaviyo.com/hc/en-us/articles/115005246108 (suppressions)
 */
#include <stdint.h>
#include <string.h>

#include "core/record.h"
#include "ctl/import_fmt.h"
#include "util/time.h"
#include "util/util.h"

/* The columns read; col[] holds each one's index, or -1. */
enum {
	C_EMAIL = COL_EMAIL, C_KL_CONSENT, C_KL_TIME, C_KL_SUPP, C_KL_ID,
	C_KL_SOURCE, C_KL_DOI, C_KL_METHOD, C_MAX
};
_Static_assert(C_MAX <= IMPORT_COLS_MAX, "too many columns");

static const struct import_column columns[] = {
	{ C_EMAIL,	"email address" },
	{ C_EMAIL,	"email" },
	{ C_KL_CONSENT,	"Email Marketing Consent" },
	{ C_KL_TIME,	"Email Marketing Consent Timestamp" },
	{ C_KL_SUPP,	"Email Suppressions" },
	{ C_KL_ID,	"Klaviyo ID" },
	{ C_KL_SOURCE,	"Source" },
	{ C_KL_DOI,	"Email Marketing Double Opt-In" },
	{ C_KL_METHOD,	"Email Marketing Consent Method" },
	{ 0,		NULL }
};

/* Header names that mark the export, for IMPORT_AUTO. */
static const char *const marks[] = {
	"Email Marketing Consent", "Email Marketing Consent Timestamp",
	"Klaviyo ID", "Email Suppressions", NULL
};

/* Klaviyo's suppression reasons, strongest first, and what they become. */
static const struct {
	const char *name;
	int	reason;
} kl_reasons[] = {
	{ "SPAM_COMPLAINT", SR_COMPLAINT },
	{ "HARD_BOUNCE", SR_HARD_BOUNCE },
	{ "INVALID_EMAIL", SR_INVALID },
	{ "USER_SUPPRESSED", SR_MANUAL },
	{ "UNSUBSCRIBE", SR_UNSUBSCRIBED_ALL },	/* an unsubscribe, see below */
	{ "UNSUBSCRIBED", SR_UNSUBSCRIBED_ALL },
};
#define NREASONS	(sizeof(kl_reasons) / sizeof(kl_reasons[0]))

/*
 * kl_supp_parse - the reasons and the first time named in an "Email
 * Suppressions" cell, whatever its punctuation ("HARD_BOUNCE",
 * "[HARD_BOUNCE, UNSUBSCRIBE]", JSON with timestamps).  *reason gets the
 * strongest suppression (SR_NONE if none), *unsub whether UNSUBSCRIBE is
 * named.  Returns 0, or -1 if the cell names no reason known.
 */
static int
kl_supp_parse(const char *s, int *reason, int *unsub, int *has_time,
    int64_t *t)
{
	size_t best = NREASONS;
	int named = 0, words = 0;

	*reason = SR_NONE;
	*unsub = *has_time = 0;
	for (const char *p = s; *p != '\0';) {
		char w[32], tb[40];
		size_t n = 0;

		if (!*has_time && p[0] >= '0' && p[0] <= '9' &&
		    strspn(p, "0123456789") == 4 && p[4] == '-') {
			/* The longest prefix of the run that is a time. */
			size_t run = strspn(p, "0123456789-:.+TtZz ");

			if (run >= sizeof(tb))
				run = sizeof(tb) - 1;
			for (; run >= 10 && !*has_time; run--) {
				memcpy(tb, p, run);
				tb[run] = '\0';
				*has_time = time_parse(tb, t) == 0;
			}
		}
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    *p == '_')) {
			p++;
			continue;
		}
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    *p == '_') {
			if (n + 1 < sizeof(w))
				w[n++] = *p;
			p++;
		}
		w[n] = '\0';
		words++;
		for (size_t k = 0; k < NREASONS; k++) {
			if (!import_caseeq(w, kl_reasons[k].name))
				continue;
			named = 1;
			if (kl_reasons[k].reason == SR_UNSUBSCRIBED_ALL)
				*unsub = 1;
			else if (k < best)
				best = k;
		}
	}
	if (best < NREASONS)
		*reason = kl_reasons[best].reason;
	if (named)
		return 0;
	/* "[]", "none", "null", "false": nothing suppressed. */
	if (words == 0 || import_caseeq(s, "none") ||
	    import_caseeq(s, "null") || import_caseeq(s, "false"))
		return 0;
	return -1;
}

/* truthy - 1 for a cell saying yes. */
static int
truthy(const char *s)
{
	return import_caseeq(s, "true") || import_caseeq(s, "yes") ||
	    import_caseeq(s, "1") || import_caseeq(s, "y");
}

/* ascii_casestr - 1 if needle occurs in s, ignoring ASCII case. */
static int
ascii_casestr(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	for (; *s != '\0'; s++) {
		size_t i;

		for (i = 0; i < n && s[i] != '\0'; i++) {
			unsigned char x = (unsigned char)s[i];
			unsigned char y = (unsigned char)needle[i];

			if (x >= 'A' && x <= 'Z')
				x += 'a' - 'A';
			if (y >= 'A' && y <= 'Z')
				y += 'a' - 'A';
			if (x != y)
				break;
		}
		if (i == n)
			return 1;
	}
	return 0;
}

/* header_klaviyo - a consent or a suppression column, or nothing to do. */
static int
header_klaviyo(struct import *im, char *err, size_t errlen)
{
	if (im->col[C_KL_CONSENT] == -1 && im->col[C_KL_SUPP] == -1) {
		util_fail(err, errlen, "line %lu: no \"Email Marketing "
		    "Consent\" or \"Email Suppressions\" column: nothing to "
		    "import", im->hline);
		return -1;
	}
	return 0;
}

/*
 * Klaviyo: the profile's email marketing consent, and its suppression.
 * NEVER_SUBSCRIBED changes nothing; an UNSUBSCRIBE suppression is an
 * unsubscribe from the list the file is imported into.
 */
static int
row_klaviyo(struct import *im, char **f, struct import_row *row, char *why,
    size_t whylen)
{
	char note[REC_NOTE_MAX + 1], b[SHOW_MAX];
	const char *s, *id, *src;
	struct evidence *ev;
	int64_t t = 0, st = 0;
	int status = CS_NONE, ht, reason, unsub, hst;

	s = import_cell(im, f, C_KL_CONSENT);
	if (import_caseeq(s, "SUBSCRIBED"))
		status = CS_SUBSCRIBED;
	else if (import_caseeq(s, "UNSUBSCRIBED"))
		status = CS_UNSUBSCRIBED;
	else if (*s != '\0' && !import_caseeq(s, "NEVER_SUBSCRIBED") &&
	    !import_caseeq(s, "NEVER SUBSCRIBED")) {
		util_fail(why, whylen, "unknown Email Marketing Consent "
		    "\"%s\" (SUBSCRIBED, UNSUBSCRIBED or NEVER_SUBSCRIBED)",
		    import_show(s, b, sizeof(b)));
		return -1;
	}
	if ((ht = import_time(import_cell(im, f, C_KL_TIME),
	    "Email Marketing Consent Timestamp", &t, why, whylen)) == -1)
		return -1;
	s = import_cell(im, f, C_KL_SUPP);
	if (kl_supp_parse(s, &reason, &unsub, &hst, &st) == -1) {
		util_fail(why, whylen, "unknown Email Suppressions \"%s\" "
		    "(HARD_BOUNCE, SPAM_COMPLAINT, INVALID_EMAIL, "
		    "USER_SUPPRESSED or UNSUBSCRIBE)",
		    import_show(s, b, sizeof(b)));
		return -1;
	}
	if (status == CS_SUBSCRIBED && (truthy(import_cell(im, f, C_KL_DOI)) ||
	    ascii_casestr(import_cell(im, f, C_KL_METHOD), "DOUBLE_OPT_IN") ||
	    ascii_casestr(import_cell(im, f, C_KL_METHOD), "double opt-in")))
		status = CS_CONFIRMED;

	id = import_cell(im, f, C_KL_ID);
	src = import_cell(im, f, C_KL_SOURCE);
	import_text_copy(note, "klaviyo", REC_NOTE_MAX);
	if (*id != '\0') {
		import_text_cat(note, " profile ", REC_NOTE_MAX);
		import_text_cat(note, id, REC_NOTE_MAX);
	}
	if (*src != '\0') {
		import_text_cat(note, ", source ", REC_NOTE_MAX);
		import_text_cat(note, src, REC_NOTE_MAX);
	}

	if (!unsub) {
		if (status != CS_NONE) {
			ev = import_add_consent(im, row, status, ht, t,
			    SRC_IMPORT);
			import_text_copy(ev->note, note, REC_NOTE_MAX);
		}
	} else {
		/*
		 * Klaviyo lifts this suppression on a new subscription, so one
		 * still there is the current state: the unsubscribe comes last,
		 * dated no earlier than the consent, and a subscription it
		 * cannot be ordered against is left out.
		 */
		int64_t ut = hst && (!ht || st > t) ? st : t;
		int hut = hst || ht;

		if (status != CS_NONE && status != CS_UNSUBSCRIBED && hut) {
			ev = import_add_consent(im, row, status, ht, t,
			    SRC_IMPORT);
			import_text_copy(ev->note, note, REC_NOTE_MAX);
		}
		ev = import_add_consent(im, row, CS_UNSUBSCRIBED, hut, ut,
		    SRC_IMPORT);
		import_text_copy(ev->note, note, REC_NOTE_MAX);
		import_text_cat(ev->note, ", suppressed: UNSUBSCRIBE",
		    REC_NOTE_MAX);
	}
	if (reason != SR_NONE) {
		struct suppression *sp = import_add_supp(im, row, reason, hst,
		    st, SRC_IMPORT);

		import_text_copy(sp->note, note, REC_NOTE_MAX);
	}
	return 0;
}

const struct import_format import_fmt_klaviyo = {
	"klaviyo",
	marks,
	columns,
	"\"Email\" column",
	0,
	header_klaviyo,
	row_klaviyo
};
