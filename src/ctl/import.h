/*
 * import.h - contact exports (a generic CSV, Klaviyo's profile export,
 * Mailchimp's subscribed, unsubscribed and cleaned files) read row by row
 * into consent changes for the store.
 *
 * Each row's address goes through addr_normalize(); each row yields up to
 * IMPORT_CHANGES_MAX changes, oldest first, every field checked.  A change
 * whose time the export does not give carries REC_F_TIME_UNKNOWN, so the
 * store uses it only to fill a gap: importing the same file twice changes
 * nothing, and never undoes a newer unsubscribe.
 */
#ifndef IMPORT_H
#define IMPORT_H

#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"
#include "core/record.h"

enum { IMPORT_AUTO, IMPORT_CSV, IMPORT_KLAVIYO, IMPORT_MAILCHIMP };

#define IMPORT_CHANGES_MAX 4
#define IMP_CONSENT	1	/* ev applies to row.list */
#define IMP_SUPP	2	/* supp applies to the address, all lists */

struct import_change {
	int	kind;			/* IMP_CONSENT or IMP_SUPP */
	struct evidence ev;
	struct suppression supp;
};

struct import_row {
	unsigned long line;		/* physical line the row starts on */
	char	key[ADDR_MAX + 1];	/* the normalised address */
	char	list[REC_LIST_MAX + 1];
	unsigned nch;			/* 0 is fine: nothing to change */
	struct import_change ch[IMPORT_CHANGES_MAX];	/* oldest first */
};

struct import_opts {
	int	format;			/* IMPORT_* */
	const char *list;		/* for rows without a list column;
					   NULL for "default" */
	int	addr_flags;		/* ADDR_* for addr_normalize() */
	const char *delims;		/* as for addr_normalize() */
	int64_t	now;			/* the time of undated changes */
};

struct import;

/*
 * import_open - read and check the header of fp (which stays the
 * caller's) and settle the format: the one asked for, or the one the
 * header names.  The delimiter (',', ';' or tab) is guessed from the
 * header.  On success *ip is a new reader for import_free(); o need not
 * outlive the call.  Returns 0, or -1 with the reason in err.
 */
int	import_open(struct import **ip, FILE *fp, const struct import_opts *o,
	    char *err, size_t errlen);

/*
 * import_next - the next row's changes into *row.  Returns 1, 0 at the
 * end, -1 for a bad row (err: "line N: reason"; the reader goes on with
 * the next row), or -2 for a read error (err says so; the reader is done).
 */
int	import_next(struct import *, struct import_row *row, char *err,
	    size_t errlen);

/*
 * A row in binary form, to be sorted by its key (which it does not hold)
 * and merged later: its line, list and changes.  IMPORT_ROW_ENC_MAX
 * octets always hold one.
 */
#define IMPORT_ROW_ENC_MAX	2048

/* import_row_encode - row (but its key) into buf (cap octets), its length
 * in *lenp; 0, or -1 if it does not fit. */
int	import_row_encode(const struct import_row *row, unsigned char *buf,
	    size_t cap, size_t *lenp);

/* import_row_decode - a row from import_row_encode()'s form into *row,
 * every length checked (the key is left as it was); 0, or -1. */
int	import_row_decode(const void *buf, size_t len, struct import_row *row);

/* import_format - the format settled by import_open(), never IMPORT_AUTO. */
int	import_format(const struct import *);

/* import_format_name - "auto", "csv", "klaviyo", "mailchimp", or "?". */
const char *import_format_name(int);

/* import_format_parse - the IMPORT_* a name stands for (any case), or -1. */
int	import_format_parse(const char *);

/* import_free - free the reader (not its FILE); NULL is a no-op. */
void	import_free(struct import *);

#endif
