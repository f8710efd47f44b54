/*
 * import_mailchimp.c - Mailchimp's audience export: the subscribed,
 * unsubscribed and cleaned files, each with the opt-in evidence and the
 * last thing that happened.
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
 */
#include <stdint.h>
#include <string.h>

#include "core/record.h"
#include "ctl/import_fmt.h"
#include "util/util.h"

/* The columns read; col[] holds each one's index, or -1. */
enum {
	C_EMAIL = COL_EMAIL,
	C_OPTIN_TIME, C_OPTIN_IP, C_CONFIRM_TIME, C_CONFIRM_IP,
	C_LAST_CHANGED, C_LEID,
	C_UNSUB_TIME, C_UNSUB_TITLE, C_UNSUB_ID, C_UNSUB_REASON,
	C_UNSUB_OTHER,
	C_CLEAN_TIME, C_CLEAN_TITLE, C_CLEAN_ID,
	C_MAX
};
_Static_assert(C_MAX <= IMPORT_COLS_MAX, "too many columns");

static const struct import_column columns[] = {
	{ C_EMAIL,	"email" },
	{ C_EMAIL,	"email address" },
	{ C_OPTIN_TIME,	"OPTIN_TIME" },
	{ C_OPTIN_IP,	"OPTIN_IP" },
	{ C_CONFIRM_TIME, "CONFIRM_TIME" },
	{ C_CONFIRM_IP,	"CONFIRM_IP" },
	{ C_LAST_CHANGED, "LAST_CHANGED" },
	{ C_LEID,	"LEID" },
	{ C_UNSUB_TIME,	"UNSUB_TIME" },
	{ C_UNSUB_TITLE, "UNSUB_CAMPAIGN_TITLE" },
	{ C_UNSUB_ID,	"UNSUB_CAMPAIGN_ID" },
	{ C_UNSUB_REASON, "UNSUB_REASON" },
	{ C_UNSUB_OTHER, "UNSUB_REASON_OTHER" },
	{ C_CLEAN_TIME,	"CLEAN_TIME" },
	{ C_CLEAN_TITLE, "CLEAN_CAMPAIGN_TITLE" },
	{ C_CLEAN_ID,	"CLEAN_CAMPAIGN_ID" },
	{ 0,		NULL }
};

/* Header names that mark the export, for IMPORT_AUTO. */
static const char *const marks[] = {
	"MEMBER_RATING", "OPTIN_TIME", "CONFIRM_TIME", "LAST_CHANGED",
	"LEID", "EUID", "UNSUB_TIME", "CLEAN_TIME", NULL
};

/* Which Mailchimp file (im->file). */
enum { MC_SUBSCRIBED, MC_UNSUBSCRIBED, MC_CLEANED };

/* header_mailchimp - which of the three files this is, by its times. */
static int
header_mailchimp(struct import *im, char *err, size_t errlen)
{
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
		util_fail(err, errlen, "line %lu: no OPTIN_TIME, "
		    "CONFIRM_TIME, UNSUB_TIME or CLEAN_TIME column: not a "
		    "Mailchimp export", im->hline);
		return -1;
	}
	im->file = unsub ? MC_UNSUBSCRIBED : clean ? MC_CLEANED : MC_SUBSCRIBED;
	return 0;
}

/* What a row says of the opt-in, which every file carries. */
struct optin {
	int64_t	topt, tconf, tlast;
	int	hopt, hconf, hlast;	/* 1 if the time is there */
	char	optip[REC_IP_MAX + 1], confip[REC_IP_MAX + 1];
	char	note[REC_NOTE_MAX + 1];	/* "mailchimp LEID ..." */
};

/* optin_read - the opt-in columns of row f into o; 0, or -1 (why). */
static int
optin_read(struct import *im, char **f, struct optin *o, char *why,
    size_t whylen)
{
	const char *leid = import_cell(im, f, C_LEID);

	if ((o->hopt = import_time(import_cell(im, f, C_OPTIN_TIME),
	    "OPTIN_TIME", &o->topt, why, whylen)) == -1 ||
	    (o->hconf = import_time(import_cell(im, f, C_CONFIRM_TIME),
	    "CONFIRM_TIME", &o->tconf, why, whylen)) == -1 ||
	    (o->hlast = import_time(import_cell(im, f, C_LAST_CHANGED),
	    "LAST_CHANGED", &o->tlast, why, whylen)) == -1 ||
	    import_ip(import_cell(im, f, C_OPTIN_IP), "OPTIN_IP", o->optip,
	    why, whylen) == -1 ||
	    import_ip(import_cell(im, f, C_CONFIRM_IP), "CONFIRM_IP",
	    o->confip, why, whylen) == -1)
		return -1;
	import_text_copy(o->note, "mailchimp", REC_NOTE_MAX);
	if (*leid != '\0') {
		import_text_cat(o->note, " LEID ", REC_NOTE_MAX);
		import_text_cat(o->note, leid, REC_NOTE_MAX);
	}
	return 0;
}

/*
 * optin_add - the opt-in changes of o into row.  A confirmation click
 * leaves an IP; a contact the account added has a CONFIRM_TIME and
 * nothing else.
 */
static void
optin_add(const struct import *im, struct import_row *row,
    const struct optin *o)
{
	struct evidence *ev;

	if (o->hopt && o->hconf && o->tconf > o->topt && o->confip[0] != '\0') {
		ev = import_add_consent(im, row, CS_PENDING, 1, o->topt,
		    SRC_IMPORT);
		memcpy(ev->ip, o->optip, sizeof(ev->ip));
		import_text_copy(ev->note, o->note, REC_NOTE_MAX);
		ev = import_add_consent(im, row, CS_CONFIRMED, 1, o->tconf,
		    SRC_IMPORT);
		memcpy(ev->ip, o->confip, sizeof(ev->ip));
		import_text_copy(ev->note, o->note, REC_NOTE_MAX);
	} else if (o->hopt || o->hconf) {
		ev = import_add_consent(im, row, CS_SUBSCRIBED, 1, o->hopt ?
		    o->topt : o->tconf, SRC_IMPORT);
		memcpy(ev->ip, o->hopt && o->optip[0] != '\0' ? o->optip :
		    o->confip, sizeof(ev->ip));
		import_text_copy(ev->note, o->note, REC_NOTE_MAX);
		if (!o->hopt)
			import_text_cat(ev->note, ", added by the account",
			    REC_NOTE_MAX);
	}
}

/* unsub_add - the unsubscribe of the unsubscribed file, with its why. */
static void
unsub_add(const struct import *im, char **f, struct import_row *row,
    const char *note, int hend, int64_t tend, const char *dated)
{
	const char *reason = import_cell(im, f, C_UNSUB_REASON);
	const char *other = import_cell(im, f, C_UNSUB_OTHER);
	const char *s;
	struct evidence *ev;

	ev = import_add_consent(im, row, CS_UNSUBSCRIBED, hend, tend,
	    SRC_IMPORT);
	import_text_copy(ev->note, note, REC_NOTE_MAX);
	if (*reason != '\0') {
		import_text_cat(ev->note, ": ", REC_NOTE_MAX);
		import_text_cat(ev->note, reason, REC_NOTE_MAX);
	}
	if (*other != '\0') {
		import_text_cat(ev->note, " (", REC_NOTE_MAX);
		import_text_cat(ev->note, other, REC_NOTE_MAX);
		import_text_cat(ev->note, ")", REC_NOTE_MAX);
	}
	if (*(s = import_cell(im, f, C_UNSUB_TITLE)) != '\0') {
		import_text_cat(ev->note, ", campaign \"", REC_NOTE_MAX);
		import_text_cat(ev->note, s, REC_NOTE_MAX);
		import_text_cat(ev->note, "\"", REC_NOTE_MAX);
	}
	import_text_cat(ev->note, dated, REC_NOTE_MAX);
}

/* clean_add - the hard bounce of the cleaned file, with its campaign. */
static void
clean_add(const struct import *im, char **f, struct import_row *row,
    const char *note, int hend, int64_t tend, const char *dated)
{
	struct suppression *sp = import_add_supp(im, row, SR_HARD_BOUNCE,
	    hend, tend, SRC_IMPORT);
	const char *title = import_cell(im, f, C_CLEAN_TITLE);
	const char *id = import_cell(im, f, C_CLEAN_ID);

	import_text_copy(sp->note, note, REC_NOTE_MAX);
	import_text_cat(sp->note, ", cleaned", REC_NOTE_MAX);
	import_text_cat(sp->note, dated, REC_NOTE_MAX);
	if (*title == '\0' && *id == '\0')
		return;
	import_text_copy(sp->ref, "mailchimp campaign", REC_REF_MAX);
	if (*title != '\0') {
		import_text_cat(sp->ref, " \"", REC_REF_MAX);
		import_text_cat(sp->ref, title, REC_REF_MAX);
		import_text_cat(sp->ref, "\"", REC_REF_MAX);
	}
	if (*id != '\0') {
		import_text_cat(sp->ref, " (", REC_REF_MAX);
		import_text_cat(sp->ref, id, REC_REF_MAX);
		import_text_cat(sp->ref, ")", REC_REF_MAX);
	}
}

/*
 * row_mailchimp - the opt-in evidence every file carries, then what the
 * file says happened last: nothing more (subscribed), an unsubscribe from
 * this audience, or a bounce that cleaned the address.
 */
static int
row_mailchimp(struct import *im, char **f, struct import_row *row, char *why,
    size_t whylen)
{
	struct optin o;
	int64_t tend = 0, latest;
	int hend, known;
	const char *dated = "";	/* where the end's time came from */

	memset(&o, 0, sizeof(o));
	if (optin_read(im, f, &o, why, whylen) == -1)
		return -1;
	optin_add(im, row, &o);
	known = o.hopt || o.hconf;
	latest = o.hconf && (!o.hopt || o.tconf > o.topt) ? o.tconf : o.topt;

	if (im->file == MC_SUBSCRIBED) {
		if (!known) {
			struct evidence *ev = import_add_consent(im, row,
			    CS_SUBSCRIBED, 0, 0, SRC_IMPORT);

			import_text_copy(ev->note, o.note, REC_NOTE_MAX);
		}
		return 0;
	}
	if ((hend = import_time(import_cell(im, f, im->file == MC_UNSUBSCRIBED ?
	    C_UNSUB_TIME : C_CLEAN_TIME), im->file == MC_UNSUBSCRIBED ?
	    "UNSUB_TIME" : "CLEAN_TIME", &tend, why, whylen)) == -1)
		return -1;
	/*
	 * Without its own time the end is dated no earlier than what the row
	 * knows, so it still comes after the opt-in: an unsubscribed or
	 * cleaned file never leaves anyone subscribed.
	 */
	if (!hend && o.hlast) {
		tend = o.tlast;
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
	if (im->file == MC_UNSUBSCRIBED)
		unsub_add(im, f, row, o.note, hend, tend, dated);
	else
		clean_add(im, f, row, o.note, hend, tend, dated);
	return 0;
}

const struct import_format import_fmt_mailchimp = {
	"mailchimp",
	marks,
	columns,
	"\"Email Address\" column",
	0,
	header_mailchimp,
	row_mailchimp
};
