/*
 * import_csv.c - the generic CSV: an address and, all optional, a status
 * (or a suppression reason), a list, a time, a source, an IP address and
 * a note; one change per row.  The columns consentctl export writes.
 */
#include <stdint.h>
#include <string.h>

#include "core/record.h"
#include "ctl/import_fmt.h"
#include "util/util.h"

/* The columns read; col[] holds each one's index, or -1. */
enum {
	C_EMAIL = COL_EMAIL, C_STATUS, C_LIST, C_TIME, C_SOURCE, C_IP, C_NOTE,
	C_MAX
};
_Static_assert(C_MAX <= IMPORT_COLS_MAX, "too many columns");

static const struct import_column columns[] = {
	{ C_EMAIL,	"email" },
	{ C_EMAIL,	"email address" },
	{ C_EMAIL,	"e-mail" },
	{ C_EMAIL,	"e-mail address" },
	{ C_STATUS,	"status" },
	{ C_LIST,	"list" },
	{ C_TIME,	"timestamp" },
	{ C_TIME,	"time" },
	{ C_SOURCE,	"source" },
	{ C_IP,		"ip" },
	{ C_NOTE,	"note" },
	{ 0,		NULL }
};

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

/* The generic CSV: one change per row, every column optional but email. */
static int
row_csv(struct import *im, char **f, struct import_row *row, char *why,
    size_t whylen)
{
	char st[32], src[32], ip[REC_IP_MAX + 1], b[SHOW_MAX], lerr[128];
	const char *s, *note;
	int status = CS_SUBSCRIBED, reason = SR_NONE, source = SRC_IMPORT, ht;
	int64_t t = 0;

	s = import_cell(im, f, C_STATUS);
	if (*s != '\0') {
		if (ascii_lower(s, st, sizeof(st)) == -1 ||
		    ((status = record_status_parse(st)) <= CS_NONE &&
		    (reason = record_reason_parse(st)) <= SR_NONE)) {
			util_fail(why, whylen, "unknown status \"%s\" "
			    "(pending, subscribed, confirmed, unsubscribed, "
			    "or a suppression: unsubscribed_all, hard_bounce, "
			    "complaint, invalid, manual, soft_bounce)",
			    import_show(s, b, sizeof(b)));
			return -1;
		}
		if (reason > SR_NONE)
			status = CS_NONE;
	}
	s = import_cell(im, f, C_LIST);
	if (*s != '\0' && record_list_norm(s, row->list, lerr,
	    sizeof(lerr)) == -1) {
		util_fail(why, whylen, "list \"%s\": %s",
		    import_show(s, b, sizeof(b)), lerr);
		return -1;
	}
	if ((ht = import_time(import_cell(im, f, C_TIME), "timestamp", &t, why,
	    whylen)) == -1)
		return -1;
	s = import_cell(im, f, C_SOURCE);
	if (*s != '\0' && (ascii_lower(s, src, sizeof(src)) == -1 ||
	    (source = record_source_parse(src)) == -1)) {
		util_fail(why, whylen, "unknown source \"%s\" (form, import, "
		    "api, one-click, mailto, admin, bounce, complaint)",
		    import_show(s, b, sizeof(b)));
		return -1;
	}
	if (import_ip(import_cell(im, f, C_IP), "IP address", ip, why,
	    whylen) == -1)
		return -1;
	note = import_cell(im, f, C_NOTE);
	if (strlen(note) > REC_NOTE_MAX) {
		util_fail(why, whylen, "note longer than %d octets",
		    REC_NOTE_MAX);
		return -1;
	}
	if (status != CS_NONE) {
		struct evidence *ev = import_add_consent(im, row, status, ht, t,
		    source);

		memcpy(ev->ip, ip, sizeof(ev->ip));
		import_text_copy(ev->note, note, REC_NOTE_MAX);
	} else {
		struct suppression *sp = import_add_supp(im, row, reason, ht, t,
		    source);

		import_text_copy(sp->note, note, REC_NOTE_MAX);
	}
	return 0;
}

const struct import_format import_fmt_csv = {
	"csv",
	NULL,			/* no marks: what is neither of the others */
	columns,
	"email column (\"email\", \"email address\" or \"e-mail\")",
	1,			/* consentctl export guards formulas */
	NULL,
	row_csv
};
