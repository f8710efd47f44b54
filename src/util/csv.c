/*
 * csv.c - a streaming RFC 4180 reader: one pass over the input, no
 * allocation per row or field.  At the end, the undoing of the formula
 * guard that enc_csv_put() writes.
 *
 * Input is read in chunks into one buffer that keeps every octet of the
 * row being parsed, so a malformed row can be abandoned and parsing
 * resumed at the line after its first; the buffer is bounded because a
 * row is.  Field data goes into a second growing buffer, NUL-separated,
 * and the pointers handed out point into it.  A reader of memory parses
 * the caller's buffer in place.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"
#include "util/enc.h"
#include "util/util.h"

#define CHUNK		65536
#define IN_EOF		(-1)	/* end of input, or a failure (c->ioerr) */

struct csv {
	FILE	*fp;			/* NULL for a reader of memory */
	const unsigned char *in;	/* ibuf, or the caller's buffer */
	unsigned char *ibuf;
	size_t	icap, ilen, ipos;
	size_t	rowstart;		/* first octet of the row in progress */
	int	ioerr;			/* errno of a failed read or realloc */
	int	started;		/* BOM and delimiter handled */
	int	delim;

	char	*obuf;			/* field data, NUL after each field */
	size_t	ocap, olen;
	size_t	*off;			/* field offsets into obuf */
	char	**fv;			/* what csv_next() hands out */
	size_t	fcap;

	unsigned long line;		/* physical line of in[ipos] */
};

/* csv_new - a reader with no input yet; NULL if out of memory. */
static struct csv *
csv_new(void)
{
	struct csv *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->delim = ',';
	c->line = 1;
	return c;
}

struct csv *
csv_open(FILE *fp)
{
	struct csv *c;

	if ((c = csv_new()) == NULL)
		return NULL;
	if ((c->ibuf = malloc(CHUNK)) == NULL) {
		free(c);
		return NULL;
	}
	c->icap = CHUNK;
	c->in = c->ibuf;
	c->fp = fp;
	return c;
}

struct csv *
csv_open_mem(const char *buf, size_t len)
{
	struct csv *c;

	if ((c = csv_new()) == NULL)
		return NULL;
	c->in = (const unsigned char *)(buf != NULL ? buf : "");
	c->ilen = buf != NULL ? len : 0;
	return c;
}

void
csv_free(struct csv *c)
{
	if (c == NULL)
		return;
	free(c->ibuf);
	free(c->obuf);
	free(c->off);
	free(c->fv);
	free(c);
}

int
csv_set_delim(struct csv *c, int delim)
{
	if (delim != ',' && delim != ';' && delim != '\t' &&
	    delim != CSV_DELIM_AUTO)
		return -1;
	c->delim = delim;
	return 0;
}

int
csv_delim(const struct csv *c)
{
	return c->delim;
}

/*
 * refill - read more input behind what is buffered, keeping the row in
 * progress (from rowstart).  Returns 1, or IN_EOF at the end of input
 * and on failure (c->ioerr set: ENOMEM, or the read's errno).
 */
static int
refill(struct csv *c)
{
	size_t keep, n;

	if (c->fp == NULL || c->ioerr != 0)
		return IN_EOF;
	if (c->rowstart > 0) {
		keep = c->ilen - c->rowstart;
		memmove(c->ibuf, c->ibuf + c->rowstart, keep);
		c->ipos -= c->rowstart;
		c->ilen = keep;
		c->rowstart = 0;
	}
	if (c->icap - c->ilen < CHUNK / 2) {
		/* A long row: bounded, as rows past CSV_ROW_MAX are refused. */
		unsigned char *p = realloc(c->ibuf, c->icap * 2);

		if (p == NULL) {
			c->ioerr = ENOMEM;
			return IN_EOF;
		}
		c->ibuf = p;
		c->in = p;
		c->icap *= 2;
	}
	n = fread(c->ibuf + c->ilen, 1, c->icap - c->ilen, c->fp);
	if (n == 0) {
		if (ferror(c->fp))
			c->ioerr = errno != 0 ? errno : EIO;
		return IN_EOF;
	}
	c->ilen += n;
	return 1;
}

/* get - the next input octet, or IN_EOF. */
static inline int
get(struct csv *c)
{
	int rc;

	if (c->ipos < c->ilen)
		return c->in[c->ipos++];
	if ((rc = refill(c)) < 0)
		return rc;
	return c->in[c->ipos++];
}

/* peek - the next input octet without taking it. */
static inline int
peek(struct csv *c)
{
	int rc;

	if (c->ipos < c->ilen)
		return c->in[c->ipos];
	if ((rc = refill(c)) < 0)
		return rc;
	return c->in[c->ipos];
}

/* start - drop a UTF-8 BOM and guess the delimiter, once. */
static void
start(struct csv *c)
{
	size_t n[3] = { 0, 0, 0 };
	int q = 0;

	c->started = 1;
	while (c->fp != NULL && c->ilen < 4 && refill(c) != IN_EOF)
		;
	if (c->ilen >= 3 && memcmp(c->in, "\xef\xbb\xbf", 3) == 0)
		c->ipos = c->rowstart = 3;
	if (c->delim != CSV_DELIM_AUTO)
		return;
	/* The first line, or as much of it as the first read brought. */
	for (size_t i = c->ipos; i < c->ilen; i++) {
		unsigned char ch = c->in[i];

		if (ch == '"')
			q = !q;
		else if (q)
			continue;
		else if (ch == '\n' || ch == '\r')
			break;
		else if (ch == ',')
			n[0]++;
		else if (ch == ';')
			n[1]++;
		else if (ch == '\t')
			n[2]++;
	}
	c->delim = n[1] > n[0] && n[1] >= n[2] ? ';' :
	    n[2] > n[0] && n[2] > n[1] ? '\t' : ',';
}

/* grow_out - double the field buffer; -1 if out of memory. */
static int
grow_out(struct csv *c)
{
	size_t ncap = c->ocap ? c->ocap * 2 : 4096;
	char *p;

	if ((p = realloc(c->obuf, ncap)) == NULL)
		return -1;
	c->obuf = p;
	c->ocap = ncap;
	return 0;
}

/* grow_fields - room for more fields, up to CSV_FIELDS_MAX; -1 on ENOMEM. */
static int
grow_fields(struct csv *c)
{
	size_t ncap = c->fcap ? c->fcap * 2 : 32;
	size_t *o;
	char **v;

	if (ncap > CSV_FIELDS_MAX)
		ncap = CSV_FIELDS_MAX;
	if ((o = realloc(c->off, ncap * sizeof(*o))) == NULL)
		return -1;
	c->off = o;
	if ((v = realloc(c->fv, ncap * sizeof(*v))) == NULL)
		return -1;
	c->fv = v;
	c->fcap = ncap;
	return 0;
}

/*
 * resync - after a bad row, go on from where the error was found to the
 * end of that row: through the rest of a quoted field if the error was
 * inside one (a quoted field may hold newlines, and what follows them is
 * still this row), then to the end of the line.  Nothing already read is
 * kept, so one hostile line costs no more memory than the buffer.
 */
static void
resync(struct csv *c, int inquote)
{
	int ch;

	for (;;) {
		c->rowstart = c->ipos;
		if ((ch = get(c)) < 0)
			return;
		if (inquote) {
			if (ch == '"') {
				if (peek(c) == '"')
					c->ipos++;
				else
					inquote = 0;
			} else if (ch == '\n' || (ch == '\r' && peek(c) != '\n'))
				c->line++;
			continue;
		}
		if (ch == '\n') {
			c->line++;
			break;
		}
		if (ch == '\r') {
			if (peek(c) == '\n')
				c->ipos++;
			c->line++;
			break;
		}
	}
	c->rowstart = c->ipos;
}

/* Which parse error, for the message; E_NOMEM is none but ends the row. */
enum perr {
	E_NONE, E_UNTERMINATED, E_BARE_QUOTE, E_AFTER_QUOTE, E_FIELD_LONG,
	E_ROW_LONG, E_FIELDS, E_NUL, E_UTF8, E_NOMEM
};

/*
 * put - append the octet ch to the field that starts at fstart in the
 * field data, its high bit to *hi.  E_NONE, the error that refuses it (a
 * NUL, a field or a row too long), or E_NOMEM.
 */
static enum perr
put(struct csv *c, int ch, size_t fstart, unsigned *hi)
{
	if (ch == '\0')
		return E_NUL;
	if (c->olen - fstart >= CSV_FIELD_MAX)
		return E_FIELD_LONG;
	if (c->olen >= CSV_ROW_MAX)
		return E_ROW_LONG;
	if (c->olen + 1 >= c->ocap && grow_out(c) == -1)
		return E_NOMEM;
	c->obuf[c->olen++] = (char)ch;
	*hi |= (unsigned)ch;
	return E_NONE;
}

/*
 * field_quoted - the rest of a quoted field whose opening quote is taken:
 * a doubled quote is one, a line break inside counts a line.  *ch is left
 * as what follows the closing quote; *inq is 1 while inside the quotes,
 * so it is still 1 after an error there.  E_NONE, an error, or E_NOMEM.
 */
static enum perr
field_quoted(struct csv *c, size_t fstart, unsigned *hi, int *ch, int *inq)
{
	enum perr pe;
	int x;

	*inq = 1;
	for (;;) {
		if ((x = get(c)) < 0)
			return E_UNTERMINATED;
		if (x == '"') {
			if (peek(c) != '"') {
				*ch = get(c);
				*inq = 0;
				break;
			}
			c->ipos++;
		} else if (x == '\n' || (x == '\r' && peek(c) != '\n'))
			c->line++;
		if ((pe = put(c, x, fstart, hi)) != E_NONE)
			return pe;
	}
	if (*ch >= 0 && *ch != c->delim && *ch != '\n' && *ch != '\r')
		return E_AFTER_QUOTE;
	return E_NONE;
}

/*
 * field_plain - an unquoted field from its first octet, *ch, to the
 * delimiter, the line end or the end of input, left in *ch.  E_NONE, an
 * error, or E_NOMEM.
 */
static enum perr
field_plain(struct csv *c, size_t fstart, unsigned *hi, int *ch)
{
	enum perr pe;

	while (*ch >= 0 && *ch != c->delim && *ch != '\n' && *ch != '\r') {
		if (*ch == '"')
			return E_BARE_QUOTE;
		if ((pe = put(c, *ch, fstart, hi)) != E_NONE)
			return pe;
		*ch = get(c);
	}
	return E_NONE;
}

/* bad_utf8 - the number, from 1, of the first field that is not UTF-8. */
static size_t
bad_utf8(const struct csv *c)
{
	size_t nf;

	for (nf = 0; util_utf8_valid(c->obuf + c->off[nf],
	    strlen(c->obuf + c->off[nf])); nf++)
		;
	return nf + 1;
}

/* perr_message - why row field nf (from 1) was refused, into err. */
static void
perr_message(enum perr pe, size_t nf, char *err, size_t errlen)
{
	switch (pe) {
	case E_UNTERMINATED:
		util_fail(err, errlen, "field %zu: unterminated quoted field", nf);
		break;
	case E_BARE_QUOTE:
		util_fail(err, errlen, "field %zu: bare quote in unquoted field",
		    nf);
		break;
	case E_AFTER_QUOTE:
		util_fail(err, errlen, "field %zu: text after the closing quote",
		    nf);
		break;
	case E_FIELD_LONG:
		util_fail(err, errlen, "field %zu: field longer than %d octets",
		    nf, CSV_FIELD_MAX);
		break;
	case E_ROW_LONG:
		util_fail(err, errlen, "row longer than %d octets", CSV_ROW_MAX);
		break;
	case E_FIELDS:
		util_fail(err, errlen, "more than %d fields", CSV_FIELDS_MAX);
		break;
	case E_NUL:
		util_fail(err, errlen, "field %zu: NUL byte in field", nf);
		break;
	case E_UTF8:
		util_fail(err, errlen, "field %zu: invalid UTF-8", nf);
		break;
	case E_NONE:
	case E_NOMEM:
		break;
	}
}

/* input_end - 0 at the end of input, or -2 with err after a failure. */
static int
input_end(struct csv *c, char *err, size_t errlen)
{
	c->rowstart = c->ipos;
	if (c->ioerr == ENOMEM) {
		util_fail(err, errlen, "out of memory");
		return -2;
	}
	if (c->ioerr != 0) {
		util_fail(err, errlen, "read error: %s", strerror(c->ioerr));
		return -2;
	}
	return 0;
}

/* csv_next - the next row into *fields, owned by c (see csv.h). */
int
csv_next(struct csv *c, char ***fields, size_t *nfields, unsigned long *line,
    char *err, size_t errlen)
{
	size_t nf, fstart;
	unsigned hi;
	int ch, inq = 0;
	enum perr pe = E_NONE;

	*fields = NULL;
	*nfields = 0;
	if (!c->started)
		start(c);
again:
	c->rowstart = c->ipos;
	*line = c->line;
	if ((ch = get(c)) == IN_EOF)
		return input_end(c, err, errlen);
	if (ch == '\n' || ch == '\r') {
		/* A line holding nothing is no row. */
		if (ch == '\r' && peek(c) == '\n')
			c->ipos++;
		c->line++;
		goto again;
	}
	c->ipos--;

	nf = 0;
	c->olen = 0;
	hi = 0;
	for (;;) {
		/* One field per turn; ch ends up as what ended it. */
		if (nf == CSV_FIELDS_MAX) {
			pe = E_FIELDS;
			goto bad;
		}
		if (nf == c->fcap && grow_fields(c) == -1)
			goto nomem;
		c->off[nf++] = fstart = c->olen;
		if ((ch = get(c)) == '"')
			pe = field_quoted(c, fstart, &hi, &ch, &inq);
		else
			pe = field_plain(c, fstart, &hi, &ch);
		if (pe == E_NOMEM)
			goto nomem;
		if (pe != E_NONE)
			goto bad;
		if (c->olen + 1 > c->ocap && grow_out(c) == -1)
			goto nomem;
		c->obuf[c->olen++] = '\0';
		if (ch == c->delim)
			continue;
		if (ch == '\r' && peek(c) == '\n')
			c->ipos++;
		if (ch == '\n' || ch == '\r')
			c->line++;
		break;
	}
	if (ch == IN_EOF && c->ioerr != 0)
		return input_end(c, err, errlen);
	/* Fields are NUL-separated: no sequence can span two. */
	if ((hi & 0x80) && !util_utf8_valid(c->obuf, c->olen)) {
		nf = bad_utf8(c);
		pe = E_UTF8;
		goto bad;
	}
	for (size_t i = 0; i < nf; i++)
		c->fv[i] = c->obuf + c->off[i];
	c->rowstart = c->ipos;
	*fields = c->fv;
	*nfields = nf;
	return 1;

bad:
	if (c->ioerr != 0)
		return input_end(c, err, errlen);
	perr_message(pe, nf, err, errlen);
	/* A whole row that failed a later check ends where it ended. */
	if (pe != E_UTF8)
		resync(c, inq);
	else
		c->rowstart = c->ipos;
	if (c->ioerr != 0)
		return input_end(c, err, errlen);
	return -1;

nomem:
	util_fail(err, errlen, "out of memory");
	c->ioerr = ENOMEM;
	return -2;
}

/* csv_unguard - a field without its formula guard (csv.h). */
const char *
csv_unguard(const char *s)
{
	return s[0] == '\'' && enc_csv_formula(s, strlen(s)) ? s + 1 : s;
}
