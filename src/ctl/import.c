/*
 * import.c - contact exports into consent changes, row by row.
 *
 * The header settles the format and where each column is; every row is
 * then checked whole (address, times, IPs, names) and turned into at most
 * IMPORT_CHANGES_MAX changes sorted by time.  A change the export gives
 * no time for is dated now and flagged REC_F_TIME_UNKNOWN.
 *
 * What the exports hold, and the sources read for it:
 *
 * Mailchimp: an audience export is a ZIP of separate CSV files for the
 * subscribed, unsubscribed and cleaned contacts; they share "Email
 * Address", the audience's own fields and MEMBER_RATING, OPTIN_TIME,
 * OPTIN_IP, CONFIRM_TIME, CONFIRM_IP, LATITUDE .. REGION, LAST_CHANGED,
 * LEID, EUID, NOTES, TAGS; the unsubscribed file adds UNSUB_TIME,
 * UNSUB_CAMPAIGN_TITLE, UNSUB_CAMPAIGN_ID, UNSUB_REASON,
 * UNSUB_REASON_OTHER and the cleaned file CLEAN_TIME,
 * CLEAN_CAMPAIGN_TITLE, CLEAN_CAMPAIGN_ID.  Times are written
 * "YYYY-MM-DD HH:MM:SS", taken here as UTC.  OPTIN_* is the sign-up
 * (form) and CONFIRM_* the double opt-in click; a contact added by the
 * account has a CONFIRM_TIME only.  Cleaned means hard bounces (or
 * repeated soft ones).
 *   https://mailchimp.com/help/export-and-back-up-account-data/
 *   https://mailchimp.com/developer/marketing/docs/account-exports/
 *   http://kb.mailchimp.com/lists/managing-subscribers/
 *     view-unsubscribed-and-cleaned-addresses
 *   http://ginkgo.st/~ca/roadmap/mailchimp-and-civicrm-overview/
 *     notes-on-mailchimp-data-exports
 *   https://support.mailigen.com/ip-and-time-fields (the same fields)
 *   https://github.com/buttondown/roadmap/issues/2276 (a real header)
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/record.h"
#include "ctl/import.h"
#include "util/csv.h"
#include "util/time.h"
#include "util/util.h"

#define SHOW_MAX	72	/* octets of a bad value quoted in a message */

/* The columns read; col[] holds each one's index, or -1. */
enum {
	C_EMAIL,
	C_STATUS, C_LIST, C_TIME, C_SOURCE, C_IP, C_NOTE,
	C_OPTIN_TIME, C_OPTIN_IP, C_CONFIRM_TIME, C_CONFIRM_IP,
	C_LAST_CHANGED, C_LEID,
	C_UNSUB_TIME, C_UNSUB_TITLE, C_UNSUB_ID, C_UNSUB_REASON,
	C_UNSUB_OTHER,
	C_CLEAN_TIME, C_CLEAN_TITLE, C_CLEAN_ID,
	C_KL_CONSENT, C_KL_TIME, C_KL_SUPP, C_KL_ID, C_KL_SOURCE,
	C_KL_DOI, C_KL_METHOD,
	C_MAX
};

#define F_CSV	0x1
#define F_KL	0x2
#define F_MC	0x4

static const struct column {
	int	col;
	int	formats;
	const char *name;	/* as in the header, any case */
} columns[] = {
	{ C_EMAIL,	F_CSV | F_MC,	"email" },
	{ C_EMAIL,	F_CSV | F_KL | F_MC, "email address" },
	{ C_EMAIL,	F_CSV,		"e-mail" },
	{ C_EMAIL,	F_CSV,		"e-mail address" },
	{ C_EMAIL,	F_KL,		"email" },
	{ C_STATUS,	F_CSV,		"status" },
	{ C_LIST,	F_CSV,		"list" },
	{ C_TIME,	F_CSV,		"timestamp" },
	{ C_TIME,	F_CSV,		"time" },
	{ C_SOURCE,	F_CSV,		"source" },
	{ C_IP,		F_CSV,		"ip" },
	{ C_NOTE,	F_CSV,		"note" },
	{ C_OPTIN_TIME,	F_MC,		"OPTIN_TIME" },
	{ C_OPTIN_IP,	F_MC,		"OPTIN_IP" },
	{ C_CONFIRM_TIME, F_MC,		"CONFIRM_TIME" },
	{ C_CONFIRM_IP,	F_MC,		"CONFIRM_IP" },
	{ C_LAST_CHANGED, F_MC,		"LAST_CHANGED" },
	{ C_LEID,	F_MC,		"LEID" },
	{ C_UNSUB_TIME,	F_MC,		"UNSUB_TIME" },
	{ C_UNSUB_TITLE, F_MC,		"UNSUB_CAMPAIGN_TITLE" },
	{ C_UNSUB_ID,	F_MC,		"UNSUB_CAMPAIGN_ID" },
	{ C_UNSUB_REASON, F_MC,		"UNSUB_REASON" },
	{ C_UNSUB_OTHER, F_MC,		"UNSUB_REASON_OTHER" },
	{ C_CLEAN_TIME,	F_MC,		"CLEAN_TIME" },
	{ C_CLEAN_TITLE, F_MC,		"CLEAN_CAMPAIGN_TITLE" },
	{ C_CLEAN_ID,	F_MC,		"CLEAN_CAMPAIGN_ID" },
	{ C_KL_CONSENT,	F_KL,		"Email Marketing Consent" },
	{ C_KL_TIME,	F_KL,		"Email Marketing Consent Timestamp" },
	{ C_KL_SUPP,	F_KL,		"Email Suppressions" },
	{ C_KL_ID,	F_KL,		"Klaviyo ID" },
	{ C_KL_SOURCE,	F_KL,		"Source" },
	{ C_KL_DOI,	F_KL,		"Email Marketing Double Opt-In" },
	{ C_KL_METHOD,	F_KL,		"Email Marketing Consent Method" },
};

/* Header names that mark an export, for IMPORT_AUTO. */
static const char *klaviyo_marks[] = {
	"Email Marketing Consent", "Email Marketing Consent Timestamp",
	"Klaviyo ID", "Email Suppressions"
};
static const char *mailchimp_marks[] = {
	"MEMBER_RATING", "OPTIN_TIME", "CONFIRM_TIME", "LAST_CHANGED",
	"LEID", "EUID", "UNSUB_TIME", "CLEAN_TIME"
};

/* Which Mailchimp file. */
enum { MC_SUBSCRIBED, MC_UNSUBSCRIBED, MC_CLEANED };

struct import {
	struct csv *csv;
	int	format;
	int	mc_file;		/* MC_*, for IMPORT_MAILCHIMP */
	size_t	ncols;			/* fields in the header */
	unsigned long hline;		/* the header's line */
	int	col[C_MAX];
	char	list[REC_LIST_MAX + 1];	/* for rows without a list */
	int	addr_flags;
	int	has_delims;
	char	delims[16];
	int64_t	now;
};

static const char *format_names[] = { "auto", "csv", "klaviyo", "mailchimp" };

/* Locale-free, like every name comparison here. */
static int
ascii_caseeq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
	}
	return *a == *b;
}

/* ascii_lower - s lowercased into buf (len octets); -1 if it does not fit. */
static int
ascii_lower(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i + 1 >= len)
			return -1;
		buf[i] = s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i];
	}
	buf[i] = '\0';
	return 0;
}

/* trim - strip blanks around s in place. */
static char *
trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* show - a user value for a message: one printable line, cut short. */
static const char *
show(const char *s, char *buf, size_t len)
{
	return util_sanitize(s, strlen(s), buf, len);
}

/*
 * text_copy - src into dst (max octets + NUL), cut at a character
 * boundary, with control characters as spaces so a note stays one line.
 */
static void
text_copy(char *dst, const char *src, size_t max)
{
	size_t n = strlen(src);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	dst[n] = '\0';
}

/* text_cat - append src to dst (max octets + NUL), as text_copy. */
static void
text_cat(char *dst, const char *src, size_t max)
{
	size_t n = strlen(dst);

	if (n < max)
		text_copy(dst + n, src, max - n);
}

const char *
import_format_name(int f)
{
	return f >= 0 && f < (int)(sizeof(format_names) /
	    sizeof(format_names[0])) ? format_names[f] : "?";
}

int
import_format_parse(const char *s)
{
	if (s == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]);
	    i++)
		if (ascii_caseeq(s, format_names[i]))
			return (int)i;
	return -1;
}

int
import_format(const struct import *im)
{
	return im->format;
}

void
import_free(struct import *im)
{
	if (im == NULL)
		return;
	csv_free(im->csv);
	free(im);
}

/* has_column - 1 if the header has name, in any case. */
static int
has_column(char **h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_caseeq(h[i], name))
			return 1;
	return 0;
}

/* has_any - 1 if the header has one of names. */
static int
has_any(char **h, size_t n, const char **names, size_t nn)
{
	for (size_t i = 0; i < nn; i++)
		if (has_column(h, n, names[i]))
			return 1;
	return 0;
}

/* map_columns - where each column the format reads is; -1 on a duplicate. */
static int
map_columns(struct import *im, char **h, size_t n, char *err, size_t errlen)
{
	int fbit = im->format == IMPORT_CSV ? F_CSV :
	    im->format == IMPORT_KLAVIYO ? F_KL : F_MC;
	char b1[SHOW_MAX], b2[SHOW_MAX];

	for (int k = 0; k < C_MAX; k++)
		im->col[k] = -1;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof(columns) / sizeof(columns[0]);
		    k++) {
			const struct column *c = &columns[k];

			if (!(c->formats & fbit) ||
			    !ascii_caseeq(h[i], c->name))
				continue;
			if (im->col[c->col] != -1) {
				util_fail(err, errlen, "line %lu: columns %zu "
				    "(\"%s\") and %zu (\"%s\") say the same "
				    "thing", im->hline,
				    (size_t)im->col[c->col] + 1,
				    show(h[im->col[c->col]], b1, sizeof(b1)),
				    i + 1, show(h[i], b2, sizeof(b2)));
				return -1;
			}
			im->col[c->col] = (int)i;
			break;
		}
	}
	return 0;
}

/* check_header - the columns each format cannot do without. */
static int
check_header(struct import *im, char *err, size_t errlen)
{
	if (im->col[C_EMAIL] == -1) {
		util_fail(err, errlen, "line %lu: no %s", im->hline,
		    im->format == IMPORT_CSV ?
		    "email column (\"email\", \"email address\" or "
		    "\"e-mail\")" : im->format == IMPORT_KLAVIYO ?
		    "\"Email\" column" : "\"Email Address\" column");
		return -1;
	}
	if (im->format == IMPORT_KLAVIYO && im->col[C_KL_CONSENT] == -1 &&
	    im->col[C_KL_SUPP] == -1) {
		util_fail(err, errlen, "line %lu: no \"Email Marketing Consent\" "
		    "or \"Email Suppressions\" column: nothing to import",
		    im->hline);
		return -1;
	}
	if (im->format == IMPORT_MAILCHIMP) {
		int unsub = im->col[C_UNSUB_TIME] != -1;
		int clean = im->col[C_CLEAN_TIME] != -1;

		if (unsub && clean) {
			util_fail(err, errlen, "line %lu: both UNSUB_TIME and "
			    "CLEAN_TIME: not one of Mailchimp's export files",
			    im->hline);
			return -1;
		}
		/* Without any of its times, a file is no Mailchimp export. */
		if (!unsub && !clean && im->col[C_OPTIN_TIME] == -1 &&
		    im->col[C_CONFIRM_TIME] == -1) {
			util_fail(err, errlen, "line %lu: no OPTIN_TIME, CONFIRM_TIME, "
			    "UNSUB_TIME or CLEAN_TIME column: not a Mailchimp "
			    "export", im->hline);
			return -1;
		}
		im->mc_file = unsub ? MC_UNSUBSCRIBED :
		    clean ? MC_CLEANED : MC_SUBSCRIBED;
	}
	return 0;
}

int
import_open(struct import **ip, FILE *fp, const struct import_opts *o,
    char *err, size_t errlen)
{
	struct import *im;
	char **h, why[256], b[SHOW_MAX];
	size_t n;
	int rc;

	*ip = NULL;
	if (o->format < IMPORT_AUTO || o->format > IMPORT_MAILCHIMP) {
		util_fail(err, errlen, "unknown format %d", o->format);
		return -1;
	}
	if ((im = calloc(1, sizeof(*im))) == NULL) {
		util_fail(err, errlen, "out of memory");
		return -1;
	}
	if (record_list_norm(o->list != NULL ? o->list : REC_DEFAULT_LIST,
	    im->list, why, sizeof(why)) == -1) {
		util_fail(err, errlen, "list \"%s\": %s", show(o->list != NULL ?
		    o->list : REC_DEFAULT_LIST, b, sizeof(b)), why);
		goto fail;
	}
	im->addr_flags = o->addr_flags;
	if (o->delims != NULL) {
		if (strlen(o->delims) >= sizeof(im->delims)) {
			util_fail(err, errlen, "too many recipient delimiters");
			goto fail;
		}
		im->has_delims = 1;
		util_strlcpy(im->delims, o->delims, sizeof(im->delims));
	}
	im->now = o->now;
	if ((im->csv = csv_open(fp)) == NULL) {
		util_fail(err, errlen, "out of memory");
		goto fail;
	}
	csv_set_delim(im->csv, CSV_DELIM_AUTO);
	rc = csv_next(im->csv, &h, &n, &im->hline, why, sizeof(why));
	if (rc == 0) {
		util_fail(err, errlen, "empty file: no header line");
		goto fail;
	}
	if (rc == -1) {
		util_fail(err, errlen, "line %lu: header: %s", im->hline, why);
		goto fail;
	}
	if (rc == -2) {
		util_fail(err, errlen, "%s", why);
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		h[i] = trim(h[i]);
	im->ncols = n;
	im->format = o->format;
	if (im->format == IMPORT_AUTO) {
		if (has_any(h, n, klaviyo_marks, sizeof(klaviyo_marks) /
		    sizeof(klaviyo_marks[0])))
			im->format = IMPORT_KLAVIYO;
		else if (has_any(h, n, mailchimp_marks,
		    sizeof(mailchimp_marks) / sizeof(mailchimp_marks[0])))
			im->format = IMPORT_MAILCHIMP;
		else
			im->format = IMPORT_CSV;
	}
	if (map_columns(im, h, n, err, errlen) == -1 ||
	    check_header(im, err, errlen) == -1)
		goto fail;
	*ip = im;
	return 0;
fail:
	import_free(im);
	return -1;
}

/* --- one row ------------------------------------------------------------ */

/*
 * cell - the trimmed value of column k in this row, "" if there is none.
 * In the generic CSV, without the '\'' that export puts before a formula
 * (csv_unguard), so that export and import give back the same store.
 */
static const char *
cell(const struct import *im, char **f, int k)
{
	const char *s;

	if (im->col[k] == -1)
		return "";
	s = trim(f[im->col[k]]);
	return im->format == IMPORT_CSV ? csv_unguard(s) : s;
}

/* get_time - 1 and *t if s is a time, 0 if empty, -1 (why) otherwise. */
static int
get_time(const char *s, const char *what, int64_t *t, char *why,
    size_t whylen)
{
	char b[SHOW_MAX];

	if (*s == '\0')
		return 0;
	if (time_parse(s, t) == -1) {
		util_fail(why, whylen, "bad %s \"%s\" (expected YYYY-MM-DD, "
		    "\"YYYY-MM-DD HH:MM:SS\" or RFC 3339)", what,
		    show(s, b, sizeof(b)));
		return -1;
	}
	return 1;
}

/* get_ip - s in its canonical text form into out ("" if s is empty). */
static int
get_ip(const char *s, const char *what, char out[REC_IP_MAX + 1], char *why,
    size_t whylen)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char b[SHOW_MAX];
	int af;

	out[0] = '\0';
	if (*s == '\0')
		return 0;
	af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	if (strlen(s) > REC_IP_MAX || inet_pton(af, s, bin) != 1 ||
	    inet_ntop(af, bin, out, REC_IP_MAX + 1) == NULL) {
		out[0] = '\0';
		util_fail(why, whylen, "bad %s \"%s\" (not an IPv4 or IPv6 address)",
		    what, show(s, b, sizeof(b)));
		return -1;
	}
	return 0;
}

/*
 * add_consent - append a consent change; has_time 0 dates it now, flagged
 * as of unknown time.  Returns the evidence for the caller to finish.
 */
static struct evidence *
add_consent(const struct import *im, struct import_row *row, int status,
    int has_time, int64_t t, int source)
{
	struct import_change *ch = &row->ch[row->nch++];

	memset(ch, 0, sizeof(*ch));
	ch->kind = IMP_CONSENT;
	ch->ev.status = (uint8_t)status;
	ch->ev.source = (uint8_t)source;
	ch->ev.time = has_time ? t : im->now;
	ch->ev.flags = has_time ? 0 : REC_F_TIME_UNKNOWN;
	return &ch->ev;
}

/* add_supp - append a suppression, as add_consent(). */
static struct suppression *
add_supp(const struct import *im, struct import_row *row, int reason,
    int has_time, int64_t t, int source)
{
	struct import_change *ch = &row->ch[row->nch++];

	memset(ch, 0, sizeof(*ch));
	ch->kind = IMP_SUPP;
	ch->supp.reason = (uint8_t)reason;
	ch->supp.source = (uint8_t)source;
	ch->supp.created = has_time ? t : im->now;
	ch->supp.flags = has_time ? 0 : REC_F_TIME_UNKNOWN;
	return &ch->supp;
}

/* change_time - when a change happened, whichever kind it is. */
static int64_t
change_time(const struct import_change *ch)
{
	return ch->kind == IMP_CONSENT ? ch->ev.time : ch->supp.created;
}

/* sort_changes - oldest first; equal times keep the order they were made in. */
static void
sort_changes(struct import_row *row)
{
	for (unsigned i = 1; i < row->nch; i++) {
		struct import_change tmp = row->ch[i];
		unsigned j = i;

		while (j > 0 &&
		    change_time(&row->ch[j - 1]) > change_time(&tmp)) {
			row->ch[j] = row->ch[j - 1];
			j--;
		}
		if (j != i)
			row->ch[j] = tmp;
	}
}

/* The generic CSV: one change per row, every column optional but email. */
static int
row_csv(struct import *im, char **f, struct import_row *row, char *why,
    size_t whylen)
{
	char st[32], src[32], ip[REC_IP_MAX + 1], b[SHOW_MAX], lerr[128];
	const char *s, *note;
	int status = CS_SUBSCRIBED, reason = SR_NONE, source = SRC_IMPORT, ht;
	int64_t t = 0;

	s = cell(im, f, C_STATUS);
	if (*s != '\0') {
		if (ascii_lower(s, st, sizeof(st)) == -1 ||
		    ((status = record_status_parse(st)) <= CS_NONE &&
		    (reason = record_reason_parse(st)) <= SR_NONE)) {
			util_fail(why, whylen, "unknown status \"%s\" (pending, "
			    "subscribed, confirmed, unsubscribed, or a "
			    "suppression: unsubscribed_all, hard_bounce, "
			    "complaint, invalid, manual, soft_bounce)",
			    show(s, b, sizeof(b)));
			return -1;
		}
		if (reason > SR_NONE)
			status = CS_NONE;
	}
	s = cell(im, f, C_LIST);
	if (*s != '\0' && record_list_norm(s, row->list, lerr,
	    sizeof(lerr)) == -1) {
		util_fail(why, whylen, "list \"%s\": %s", show(s, b, sizeof(b)),
		    lerr);
		return -1;
	}
	if ((ht = get_time(cell(im, f, C_TIME), "timestamp", &t, why,
	    whylen)) == -1)
		return -1;
	s = cell(im, f, C_SOURCE);
	if (*s != '\0' && (ascii_lower(s, src, sizeof(src)) == -1 ||
	    (source = record_source_parse(src)) == -1)) {
		util_fail(why, whylen, "unknown source \"%s\" (form, import, api, "
		    "one-click, mailto, admin, bounce, complaint)",
		    show(s, b, sizeof(b)));
		return -1;
	}
	if (get_ip(cell(im, f, C_IP), "IP address", ip, why, whylen) == -1)
		return -1;
	note = cell(im, f, C_NOTE);
	if (strlen(note) > REC_NOTE_MAX) {
		util_fail(why, whylen, "note longer than %d octets", REC_NOTE_MAX);
		return -1;
	}
	if (status != CS_NONE) {
		struct evidence *ev = add_consent(im, row, status, ht, t,
		    source);

		memcpy(ev->ip, ip, sizeof(ev->ip));
		text_copy(ev->note, note, REC_NOTE_MAX);
	} else {
		struct suppression *sp = add_supp(im, row, reason, ht, t,
		    source);

		text_copy(sp->note, note, REC_NOTE_MAX);
	}
	return 0;
}

/*
 * Mailchimp: the opt-in evidence every file carries, then what the file
 * says happened last: nothing more (subscribed), an unsubscribe from this
 * audience, or a bounce that cleaned the address.
 */
static int
row_mailchimp(struct import *im, char **f, struct import_row *row, char *why,
    size_t whylen)
{
	char optip[REC_IP_MAX + 1], confip[REC_IP_MAX + 1];
	char note[REC_NOTE_MAX + 1];
	const char *leid = cell(im, f, C_LEID), *s;
	struct evidence *ev;
	int64_t topt = 0, tconf = 0, tlast = 0, tend = 0, latest = 0;
	int hopt, hconf, hlast, hend, known;
	const char *dated = "";	/* where the end's time came from */

	if ((hopt = get_time(cell(im, f, C_OPTIN_TIME), "OPTIN_TIME", &topt,
	    why, whylen)) == -1 ||
	    (hconf = get_time(cell(im, f, C_CONFIRM_TIME), "CONFIRM_TIME",
	    &tconf, why, whylen)) == -1 ||
	    (hlast = get_time(cell(im, f, C_LAST_CHANGED), "LAST_CHANGED",
	    &tlast, why, whylen)) == -1 ||
	    get_ip(cell(im, f, C_OPTIN_IP), "OPTIN_IP", optip, why,
	    whylen) == -1 ||
	    get_ip(cell(im, f, C_CONFIRM_IP), "CONFIRM_IP", confip, why,
	    whylen) == -1)
		return -1;
	text_copy(note, "mailchimp", REC_NOTE_MAX);
	if (*leid != '\0') {
		text_cat(note, " LEID ", REC_NOTE_MAX);
		text_cat(note, leid, REC_NOTE_MAX);
	}

	/*
	 * A confirmation click leaves an IP; a contact the account added has
	 * a CONFIRM_TIME and nothing else.
	 */
	if (hopt && hconf && tconf > topt && confip[0] != '\0') {
		ev = add_consent(im, row, CS_PENDING, 1, topt, SRC_IMPORT);
		memcpy(ev->ip, optip, sizeof(ev->ip));
		text_copy(ev->note, note, REC_NOTE_MAX);
		ev = add_consent(im, row, CS_CONFIRMED, 1, tconf, SRC_IMPORT);
		memcpy(ev->ip, confip, sizeof(ev->ip));
		text_copy(ev->note, note, REC_NOTE_MAX);
	} else if (hopt || hconf) {
		ev = add_consent(im, row, CS_SUBSCRIBED, 1, hopt ? topt : tconf,
		    SRC_IMPORT);
		memcpy(ev->ip, hopt && optip[0] != '\0' ? optip : confip,
		    sizeof(ev->ip));
		text_copy(ev->note, note, REC_NOTE_MAX);
		if (!hopt)
			text_cat(ev->note, ", added by the account",
			    REC_NOTE_MAX);
	}
	known = hopt || hconf;
	latest = hconf && (!hopt || tconf > topt) ? tconf : topt;

	if (im->mc_file == MC_SUBSCRIBED) {
		if (!known) {
			ev = add_consent(im, row, CS_SUBSCRIBED, 0, 0,
			    SRC_IMPORT);
			text_copy(ev->note, note, REC_NOTE_MAX);
		}
		return 0;
	}
	if ((hend = get_time(cell(im, f, im->mc_file == MC_UNSUBSCRIBED ?
	    C_UNSUB_TIME : C_CLEAN_TIME), im->mc_file == MC_UNSUBSCRIBED ?
	    "UNSUB_TIME" : "CLEAN_TIME", &tend, why, whylen)) == -1)
		return -1;
	/*
	 * Without its own time the end is dated no earlier than what the row
	 * knows, so it still comes after the opt-in: an unsubscribed or
	 * cleaned file never leaves anyone subscribed.
	 */
	if (!hend && hlast) {
		tend = tlast;
		hend = 1;
		dated = ", time from LAST_CHANGED";
	}
	if (!hend && known) {
		tend = latest;
		hend = 1;
		dated = ", time from the opt-in";
	}
	if (known && tend < latest) {
		tend = latest;
		dated = ", time moved up to the opt-in";
	}

	if (im->mc_file == MC_UNSUBSCRIBED) {
		const char *reason = cell(im, f, C_UNSUB_REASON);
		const char *other = cell(im, f, C_UNSUB_OTHER);

		ev = add_consent(im, row, CS_UNSUBSCRIBED, hend, tend,
		    SRC_IMPORT);
		text_copy(ev->note, note, REC_NOTE_MAX);
		if (*reason != '\0') {
			text_cat(ev->note, ": ", REC_NOTE_MAX);
			text_cat(ev->note, reason, REC_NOTE_MAX);
		}
		if (*other != '\0') {
			text_cat(ev->note, " (", REC_NOTE_MAX);
			text_cat(ev->note, other, REC_NOTE_MAX);
			text_cat(ev->note, ")", REC_NOTE_MAX);
		}
		if (*(s = cell(im, f, C_UNSUB_TITLE)) != '\0') {
			text_cat(ev->note, ", campaign \"", REC_NOTE_MAX);
			text_cat(ev->note, s, REC_NOTE_MAX);
			text_cat(ev->note, "\"", REC_NOTE_MAX);
		}
		text_cat(ev->note, dated, REC_NOTE_MAX);
	} else {
		struct suppression *sp = add_supp(im, row, SR_HARD_BOUNCE, hend,
		    tend, SRC_IMPORT);
		const char *title = cell(im, f, C_CLEAN_TITLE);
		const char *id = cell(im, f, C_CLEAN_ID);

		text_copy(sp->note, note, REC_NOTE_MAX);
		text_cat(sp->note, ", cleaned", REC_NOTE_MAX);
		text_cat(sp->note, dated, REC_NOTE_MAX);
		if (*title != '\0' || *id != '\0') {
			text_copy(sp->ref, "mailchimp campaign", REC_REF_MAX);
			if (*title != '\0') {
				text_cat(sp->ref, " \"", REC_REF_MAX);
				text_cat(sp->ref, title, REC_REF_MAX);
				text_cat(sp->ref, "\"", REC_REF_MAX);
			}
			if (*id != '\0') {
				text_cat(sp->ref, " (", REC_REF_MAX);
				text_cat(sp->ref, id, REC_REF_MAX);
				text_cat(sp->ref, ")", REC_REF_MAX);
			}
		}
	}
	return 0;
}

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
			if (!ascii_caseeq(w, kl_reasons[k].name))
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
	if (words == 0 || ascii_caseeq(s, "none") || ascii_caseeq(s, "null") ||
	    ascii_caseeq(s, "false"))
		return 0;
	return -1;
}

/* truthy - 1 for a cell saying yes. */
static int
truthy(const char *s)
{
	return ascii_caseeq(s, "true") || ascii_caseeq(s, "yes") ||
	    ascii_caseeq(s, "1") || ascii_caseeq(s, "y");
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

	s = cell(im, f, C_KL_CONSENT);
	if (ascii_caseeq(s, "SUBSCRIBED"))
		status = CS_SUBSCRIBED;
	else if (ascii_caseeq(s, "UNSUBSCRIBED"))
		status = CS_UNSUBSCRIBED;
	else if (*s != '\0' && !ascii_caseeq(s, "NEVER_SUBSCRIBED") &&
	    !ascii_caseeq(s, "NEVER SUBSCRIBED")) {
		util_fail(why, whylen, "unknown Email Marketing Consent \"%s\" "
		    "(SUBSCRIBED, UNSUBSCRIBED or NEVER_SUBSCRIBED)",
		    show(s, b, sizeof(b)));
		return -1;
	}
	if ((ht = get_time(cell(im, f, C_KL_TIME),
	    "Email Marketing Consent Timestamp", &t, why, whylen)) == -1)
		return -1;
	s = cell(im, f, C_KL_SUPP);
	if (kl_supp_parse(s, &reason, &unsub, &hst, &st) == -1) {
		util_fail(why, whylen, "unknown Email Suppressions \"%s\" "
		    "(HARD_BOUNCE, SPAM_COMPLAINT, INVALID_EMAIL, "
		    "USER_SUPPRESSED or UNSUBSCRIBE)", show(s, b, sizeof(b)));
		return -1;
	}
	if (status == CS_SUBSCRIBED && (truthy(cell(im, f, C_KL_DOI)) ||
	    ascii_casestr(cell(im, f, C_KL_METHOD), "DOUBLE_OPT_IN") ||
	    ascii_casestr(cell(im, f, C_KL_METHOD), "double opt-in")))
		status = CS_CONFIRMED;

	id = cell(im, f, C_KL_ID);
	src = cell(im, f, C_KL_SOURCE);
	text_copy(note, "klaviyo", REC_NOTE_MAX);
	if (*id != '\0') {
		text_cat(note, " profile ", REC_NOTE_MAX);
		text_cat(note, id, REC_NOTE_MAX);
	}
	if (*src != '\0') {
		text_cat(note, ", source ", REC_NOTE_MAX);
		text_cat(note, src, REC_NOTE_MAX);
	}

	if (!unsub) {
		if (status != CS_NONE) {
			ev = add_consent(im, row, status, ht, t, SRC_IMPORT);
			text_copy(ev->note, note, REC_NOTE_MAX);
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
			ev = add_consent(im, row, status, ht, t, SRC_IMPORT);
			text_copy(ev->note, note, REC_NOTE_MAX);
		}
		ev = add_consent(im, row, CS_UNSUBSCRIBED, hut, ut, SRC_IMPORT);
		text_copy(ev->note, note, REC_NOTE_MAX);
		text_cat(ev->note, ", suppressed: UNSUBSCRIBE", REC_NOTE_MAX);
	}
	if (reason != SR_NONE) {
		struct suppression *sp = add_supp(im, row, reason, hst, st,
		    SRC_IMPORT);

		text_copy(sp->note, note, REC_NOTE_MAX);
	}
	return 0;
}

/* row_empty - 1 if every field is blank. */
static int
row_empty(char **f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (const char *p = f[i]; *p != '\0'; p++)
			if (*p != ' ' && *p != '\t')
				return 0;
	return 1;
}

int
import_next(struct import *im, struct import_row *row, char *err,
    size_t errlen)
{
	struct addr a;
	char **f, why[384], b[SHOW_MAX], aerr[200];
	const char *email;
	size_t n;
	int rc;

	for (;;) {
		row->nch = 0;
		row->key[0] = '\0';
		rc = csv_next(im->csv, &f, &n, &row->line, why, sizeof(why));
		if (rc == 0)
			return 0;
		if (rc == -2) {
			util_fail(err, errlen, "%s", why);
			return -2;
		}
		if (rc == -1)
			goto bad;
		/* Spreadsheets leave rows of empty cells behind. */
		if (!row_empty(f, n))
			break;
	}
	if (n != im->ncols) {
		util_fail(why, sizeof(why), "%zu fields, but the header has %zu", n,
		    im->ncols);
		goto bad;
	}
	email = cell(im, f, C_EMAIL);
	if (*email == '\0') {
		util_fail(why, sizeof(why), "no address");
		goto bad;
	}
	if (addr_normalize(email, strlen(email), im->addr_flags,
	    im->has_delims ? im->delims : NULL, &a, aerr, sizeof(aerr)) == -1) {
		util_fail(why, sizeof(why), "invalid address \"%s\": %s",
		    show(email, b, sizeof(b)), aerr);
		goto bad;
	}
	memcpy(row->key, a.key, sizeof(row->key));
	memcpy(row->list, im->list, sizeof(row->list));
	switch (im->format) {
	case IMPORT_KLAVIYO:
		rc = row_klaviyo(im, f, row, why, sizeof(why));
		break;
	case IMPORT_MAILCHIMP:
		rc = row_mailchimp(im, f, row, why, sizeof(why));
		break;
	default:
		rc = row_csv(im, f, row, why, sizeof(why));
		break;
	}
	if (rc == -1) {
		row->nch = 0;
		goto bad;
	}
	sort_changes(row);
	return 1;
bad:
	util_fail(err, errlen, "line %lu: %s", row->line, why);
	return -1;
}
