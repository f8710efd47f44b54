/*
 * import.c - contact exports into consent changes, row by row.
 *
 * The header settles the format and where each column is; every row is
 * then checked whole (address, times, IPs, names) and turned into at most
 * IMPORT_CHANGES_MAX changes sorted by time.  A change the export gives
 * no time for is dated now and flagged REC_F_TIME_UNKNOWN.
 *
 * Each format is an entry in formats[] (import_fmt.h): its marks, its
 * columns, its row function.  The exports themselves are described in
 * import_csv.c, import_klaviyo.c and import_mailchimp.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/record.h"
#include "ctl/import.h"
#include "ctl/import_fmt.h"
#include "util/bin.h"
#include "util/csv.h"
#include "util/time.h"
#include "util/util.h"

/* The formats by IMPORT_* - IMPORT_CSV; IMPORT_AUTO tries them in turn. */
static const struct import_format *const formats[] = {
	&import_fmt_csv, &import_fmt_klaviyo, &import_fmt_mailchimp
};
#define NFORMATS	(sizeof(formats) / sizeof(formats[0]))

/* import_caseeq - a and b alike but for ASCII case; no locale, as every
 * name comparison here. */
int
import_caseeq(const char *a, const char *b)
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

/* import_show - a user value for a message: one printable line, cut short. */
const char *
import_show(const char *s, char *buf, size_t len)
{
	return util_sanitize(s, strlen(s), buf, len);
}

/*
 * import_text_copy - src into dst (max octets + NUL), cut at a character
 * boundary, with control characters as spaces so a note stays one line.
 */
void
import_text_copy(char *dst, const char *src, size_t max)
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

/* import_text_cat - append src to dst (max octets + NUL), as text_copy. */
void
import_text_cat(char *dst, const char *src, size_t max)
{
	size_t n = strlen(dst);

	if (n < max)
		import_text_copy(dst + n, src, max - n);
}

/* import_format_name - the name of format f (IMPORT_*), or "?". */
const char *
import_format_name(int f)
{
	if (f == IMPORT_AUTO)
		return "auto";
	return f >= IMPORT_CSV && f < IMPORT_CSV + (int)NFORMATS ?
	    formats[f - IMPORT_CSV]->name : "?";
}

/* import_format_parse - the IMPORT_* named s, in any case, or -1. */
int
import_format_parse(const char *s)
{
	if (s == NULL)
		return -1;
	if (import_caseeq(s, "auto"))
		return IMPORT_AUTO;
	for (size_t i = 0; i < NFORMATS; i++)
		if (import_caseeq(s, formats[i]->name))
			return IMPORT_CSV + (int)i;
	return -1;
}

/* import_format - the format im reads. */
int
import_format(const struct import *im)
{
	return im->format;
}

/* import_free - free im and its CSV reader, not the FILE; NULL is a no-op. */
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
		if (import_caseeq(h[i], name))
			return 1;
	return 0;
}

/* has_any - 1 if the header has one of names (NULL-terminated). */
static int
has_any(char **h, size_t n, const char *const *names)
{
	for (size_t i = 0; names[i] != NULL; i++)
		if (has_column(h, n, names[i]))
			return 1;
	return 0;
}

/* map_columns - where each column the format reads is; -1 on a duplicate. */
static int
map_columns(struct import *im, char **h, size_t n, char *err, size_t errlen)
{
	char b1[SHOW_MAX], b2[SHOW_MAX];

	for (int k = 0; k < IMPORT_COLS_MAX; k++)
		im->col[k] = -1;
	for (size_t i = 0; i < n; i++) {
		for (const struct import_column *c = im->fmt->columns;
		    c->name != NULL; c++) {
			if (!import_caseeq(h[i], c->name))
				continue;
			if (im->col[c->col] != -1) {
				util_fail(err, errlen, "line %lu: columns %zu "
				    "(\"%s\") and %zu (\"%s\") say the same "
				    "thing", im->hline,
				    (size_t)im->col[c->col] + 1,
				    import_show(h[im->col[c->col]], b1,
				    sizeof(b1)), i + 1,
				    import_show(h[i], b2, sizeof(b2)));
				return -1;
			}
			im->col[c->col] = (int)i;
			break;
		}
	}
	return 0;
}

/* check_header - the address column, and what else the format needs. */
static int
check_header(struct import *im, char *err, size_t errlen)
{
	if (im->col[COL_EMAIL] == -1) {
		util_fail(err, errlen, "line %lu: no %s", im->hline,
		    im->fmt->no_email);
		return -1;
	}
	return im->fmt->header != NULL ? im->fmt->header(im, err, errlen) : 0;
}

/* settle_format - the format asked for, or the first whose marks h has. */
static void
settle_format(struct import *im, int asked, char **h, size_t n)
{
	im->format = asked;
	if (im->format == IMPORT_AUTO) {
		im->format = IMPORT_CSV;
		for (size_t i = 0; i < NFORMATS; i++)
			if (formats[i]->marks != NULL &&
			    has_any(h, n, formats[i]->marks)) {
				im->format = IMPORT_CSV + (int)i;
				break;
			}
	}
	im->fmt = formats[im->format - IMPORT_CSV];
}

/* import_open - a reader of fp whose header is read and checked (import.h). */
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
		util_fail(err, errlen, "list \"%s\": %s",
		    import_show(o->list != NULL ? o->list : REC_DEFAULT_LIST, b,
		    sizeof(b)), why);
		goto fail;
	}
	im->addr_flags = o->addr_flags;
	if (o->delims != NULL) {
		if (strlen(o->delims) >= sizeof(im->delims)) {
			util_fail(err, errlen, "too many recipient "
			    "delimiters");
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
	settle_format(im, o->format, h, n);
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
 * import_cell - the trimmed value of column k in this row, "" if there is none.
 * In the generic CSV, without the '\'' that export puts before a formula
 * (csv_unguard), so that export and import give back the same store.
 */
const char *
import_cell(const struct import *im, char **f, int k)
{
	const char *s;

	if (im->col[k] == -1)
		return "";
	s = trim(f[im->col[k]]);
	return im->fmt->unguard ? csv_unguard(s) : s;
}

/* import_time - 1 and *t if s is a time, 0 if empty, -1 (why) otherwise. */
int
import_time(const char *s, const char *what, int64_t *t, char *why,
    size_t whylen)
{
	char b[SHOW_MAX];

	if (*s == '\0')
		return 0;
	if (time_parse(s, t) == -1) {
		util_fail(why, whylen, "bad %s \"%s\" (expected YYYY-MM-DD, "
		    "\"YYYY-MM-DD HH:MM:SS\" or RFC 3339)", what,
		    import_show(s, b, sizeof(b)));
		return -1;
	}
	return 1;
}

/* import_ip - s in its canonical text form into out ("" if s is empty). */
int
import_ip(const char *s, const char *what, char out[REC_IP_MAX + 1], char *why,
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
		util_fail(why, whylen, "bad %s \"%s\" (not an IPv4 or IPv6 "
		    "address)", what, import_show(s, b, sizeof(b)));
		return -1;
	}
	return 0;
}

/*
 * import_add_consent - append a consent change; has_time 0 dates it now,
 * flagged as of unknown time.  Returns the evidence for the caller to
 * finish.
 */
struct evidence *
import_add_consent(const struct import *im, struct import_row *row, int status,
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

/* add_supp - append a suppression, as import_add_consent(). */
struct suppression *
import_add_supp(const struct import *im, struct import_row *row, int reason,
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

/* import_next - the next row with an address, as changes (import.h). */
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
		util_fail(why, sizeof(why), "%zu fields, but the header has "
		    "%zu", n, im->ncols);
		goto bad;
	}
	email = import_cell(im, f, COL_EMAIL);
	if (*email == '\0') {
		util_fail(why, sizeof(why), "no address");
		goto bad;
	}
	if (addr_normalize(email, strlen(email), im->addr_flags,
	    im->has_delims ? im->delims : NULL, &a, aerr, sizeof(aerr)) == -1) {
		util_fail(why, sizeof(why), "invalid address \"%s\": %s",
		    import_show(email, b, sizeof(b)), aerr);
		goto bad;
	}
	memcpy(row->key, a.key, sizeof(row->key));
	memcpy(row->list, im->list, sizeof(row->list));
	rc = im->fmt->row(im, f, row, why, sizeof(why));
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

/* --- a row in binary form, for the sort ---------------------------------- */

/* import_row_encode - row's line, list and changes into buf (import.h). */
int
import_row_encode(const struct import_row *row, unsigned char *buf, size_t cap,
    size_t *lenp)
{
	struct bin_w w = { buf, 0, cap, 0 };

	bin_put_i64(&w, (int64_t)row->line);
	bin_put_str(&w, row->list, REC_LIST_MAX);
	bin_put_u8(&w, row->nch);
	for (unsigned i = 0; i < row->nch && i < IMPORT_CHANGES_MAX; i++) {
		const struct import_change *ch = &row->ch[i];

		bin_put_u8(&w, (unsigned)ch->kind);
		if (ch->kind == IMP_CONSENT) {
			bin_put_i64(&w, ch->ev.time);
			bin_put_u8(&w, ch->ev.status);
			bin_put_u8(&w, ch->ev.source);
			bin_put_u8(&w, ch->ev.flags);
			bin_put_str(&w, ch->ev.ip, REC_IP_MAX);
			bin_put_str(&w, ch->ev.note, REC_NOTE_MAX);
		} else {
			bin_put_u8(&w, ch->supp.reason);
			bin_put_u8(&w, ch->supp.source);
			bin_put_u8(&w, ch->supp.flags);
			bin_put_i64(&w, ch->supp.created);
			bin_put_i64(&w, ch->supp.expires);
			bin_put_str(&w, ch->supp.ref, REC_REF_MAX);
			bin_put_str(&w, ch->supp.note, REC_NOTE_MAX);
		}
	}
	if (w.bad || row->nch > IMPORT_CHANGES_MAX)
		return -1;
	*lenp = w.len;
	return 0;
}

/* import_row_decode - the row import_row_encode() wrote (import.h). */
int
import_row_decode(const void *buf, size_t len, struct import_row *row)
{
	struct bin_r r = { buf, len, 0, NULL };
	unsigned nch;

	row->line = (unsigned long)bin_i64(&r, "line");
	bin_copy(&r, row->list, REC_LIST_MAX, "list");
	nch = bin_u8(&r, "changes");
	if (nch > IMPORT_CHANGES_MAX)
		return -1;
	row->nch = nch;
	for (unsigned i = 0; i < nch; i++) {
		struct import_change *ch = &row->ch[i];

		memset(ch, 0, sizeof(*ch));
		ch->kind = (int)bin_u8(&r, "kind");
		if (ch->kind == IMP_CONSENT) {
			ch->ev.time = bin_i64(&r, "time");
			ch->ev.status = (uint8_t)bin_u8(&r, "status");
			ch->ev.source = (uint8_t)bin_u8(&r, "source");
			ch->ev.flags = (uint8_t)bin_u8(&r, "flags");
			bin_copy(&r, ch->ev.ip, REC_IP_MAX, "ip");
			bin_copy(&r, ch->ev.note, REC_NOTE_MAX, "note");
		} else if (ch->kind == IMP_SUPP) {
			ch->supp.reason = (uint8_t)bin_u8(&r, "reason");
			ch->supp.source = (uint8_t)bin_u8(&r, "source");
			ch->supp.flags = (uint8_t)bin_u8(&r, "flags");
			ch->supp.created = bin_i64(&r, "created");
			ch->supp.expires = bin_i64(&r, "expires");
			bin_copy(&r, ch->supp.ref, REC_REF_MAX, "ref");
			bin_copy(&r, ch->supp.note, REC_NOTE_MAX, "note");
		} else
			return -1;
	}
	return r.why != NULL || r.off != len ? -1 : 0;
}
