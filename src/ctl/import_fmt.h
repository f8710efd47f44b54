/*
 * import_fmt.h - what import.c shares with its formats (import_csv.c,
 * import_klaviyo.c, import_mailchimp.c), in the manner of OpenSMTPD's
 * table backends: each format is one table entry that says how its header
 * is told apart, which columns it reads and how a row becomes changes;
 * import.c does the rest.  For those files only: callers use import.h.
 */
#ifndef IMPORT_FMT_H
#define IMPORT_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "core/record.h"
#include "ctl/import.h"

#define SHOW_MAX	72	/* octets of a bad value quoted in a message */
#define COL_EMAIL	0	/* every format's first column: the address */
#define IMPORT_COLS_MAX	16	/* columns one format reads, at most */

/* A column a format reads: its index in col[], its header name (any case). */
struct import_column {
	int	col;
	const char *name;
};

struct import_format {
	const char *name;		/* as import_format_name() gives it */
	const char *const *marks;	/* header names that mark it for
					   IMPORT_AUTO, NULL-terminated; NULL
					   for the format of the rest */
	const struct import_column *columns;	/* up to a NULL name */
	const char *no_email;		/* the address column, for the message
					   that says it is missing */
	int	unguard;		/* cells may carry the formula guard */
	/* header - more checks of the mapped header: 0, or -1 with err. */
	int	(*header)(struct import *, char *err, size_t errlen);
	/* row - the changes of one row with its address: 0, or -1 with why. */
	int	(*row)(struct import *, char **f, struct import_row *,
		    char *why, size_t whylen);
};

extern const struct import_format import_fmt_csv, import_fmt_klaviyo,
	    import_fmt_mailchimp;

struct import {
	struct csv *csv;
	const struct import_format *fmt;
	int	format;			/* IMPORT_*, never IMPORT_AUTO */
	int	file;			/* which of the format's files */
	size_t	ncols;			/* fields in the header */
	unsigned long hline;		/* the header's line */
	int	col[IMPORT_COLS_MAX];	/* each column's index, or -1 */
	char	list[REC_LIST_MAX + 1];	/* for rows without a list */
	int	addr_flags;
	int	has_delims;
	char	delims[16];
	int64_t	now;
};

/* import_caseeq - 1 if a and b are equal but for ASCII case (no locale). */
int	import_caseeq(const char *a, const char *b);

/* import_show - s for a message, in buf: one printable line, cut short. */
const char *import_show(const char *s, char *buf, size_t len);

/*
 * import_text_copy - src into dst (max octets + NUL), cut at a character
 * boundary, with control characters as spaces so a note stays one line.
 * import_text_cat - the same after what dst holds.
 */
void	import_text_copy(char *dst, const char *src, size_t max);
void	import_text_cat(char *dst, const char *src, size_t max);

/*
 * import_cell - the trimmed value of column k in the row f, "" if the
 * header has none; points into f.
 */
const char *import_cell(const struct import *im, char **f, int k);

/* import_time - 1 and *t if s is a time, 0 if empty, -1 (why) otherwise. */
int	import_time(const char *s, const char *what, int64_t *t, char *why,
	    size_t whylen);

/* import_ip - s canonical into out ("" if s is empty); 0, or -1 (why). */
int	import_ip(const char *s, const char *what, char out[REC_IP_MAX + 1],
	    char *why, size_t whylen);

/*
 * import_add_consent, import_add_supp - append a change to row; has_time
 * 0 dates it now, flagged as of unknown time.  Return the change's record
 * (in row) for the caller to finish.
 */
struct evidence *import_add_consent(const struct import *im,
	    struct import_row *row, int status, int has_time, int64_t t,
	    int source);
struct suppression *import_add_supp(const struct import *im,
	    struct import_row *row, int reason, int has_time, int64_t t,
	    int source);

#endif
