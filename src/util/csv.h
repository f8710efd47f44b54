/*
 * csv.h - a streaming RFC 4180 reader for contact exports.
 *
 * Reads UTF-8 (a leading BOM is dropped) with CRLF, LF or CR line ends in
 * any mix, quoted fields holding delimiters, doubled quotes and line
 * breaks, and a ',', ';' or tab delimiter, given or guessed from the
 * first line.  Every row is bounded (field size, fields per row, row
 * size), so hostile input cannot exhaust memory, and a malformed row is
 * reported with the physical line it starts on; the reader then goes on
 * from the next line, so every bad row of a file can be reported in one
 * pass.  The cell writer, with its formula guard, is enc_csv_put() in
 * util/enc.h; the reader undoes that guard (csv_unguard).  Generic: knows
 * nothing of addresses or consent.
 */
#ifndef CSV_H
#define CSV_H

#include <stddef.h>
#include <stdio.h>

#define CSV_FIELD_MAX	65536		/* octets in one field, unquoted */
#define CSV_FIELDS_MAX	1024		/* fields in one row */
#define CSV_ROW_MAX	(1024 * 1024)	/* octets of field data in one row */

#define CSV_DELIM_AUTO	0		/* csv_set_delim(): guess from line 1 */

struct csv;

/*
 * csv_open - a reader of fp, which stays the caller's: csv_free() does not
 * close it.  csv_open_mem - a reader of buf (len octets, NUL bytes
 * allowed), which is not copied and must outlive the reader.  Both return
 * NULL if out of memory.  The delimiter is ',' until csv_set_delim().
 */
struct csv *csv_open(FILE *fp);
struct csv *csv_open_mem(const char *buf, size_t len);

/*
 * csv_set_delim - use ',', ';' or '\t', or CSV_DELIM_AUTO to pick the one
 * most frequent outside quotes on the first line (',' on a tie).  Call it
 * before the first csv_next().  Returns 0, or -1 for another character.
 */
int	csv_set_delim(struct csv *, int delim);

/* csv_delim - the delimiter in use (the guess, once the first row is read). */
int	csv_delim(const struct csv *);

/*
 * csv_next - read the next row.  Returns 1 with the row in *fields
 * (*nfields NUL-terminated strings, owned by the reader and valid until
 * the next call), 0 at the end of input, -1 for a malformed row (err says
 * why; reading on resumes at the line after the one the row starts on),
 * or -2 for a read error or lack of memory (err says which; the reader is
 * done).  *line is the physical line, from 1, that the row starts on; it
 * is set for -1 too.  Lines holding nothing are skipped; a line of
 * delimiters is a row of empty fields.
 */
int	csv_next(struct csv *, char ***fields, size_t *nfields,
	    unsigned long *line, char *err, size_t errlen);

/* csv_free - free the reader and its buffers; NULL is a no-op. */
void	csv_free(struct csv *);

/*
 * csv_unguard - s (a field as read) without the '\'' enc_csv_put() put in
 * front: one is dropped when s is one or more '\'' and then '=', '+', '-',
 * '@', tab or CR.  Any other s comes back as it is.  Returns a pointer
 * into s.
 */
const char *csv_unguard(const char *s);

#endif
