/*
 * fuzz_csv.c - libFuzzer target for the CSV reader and the import on top
 * of it.  Any bytes: every row is within the bounds, valid UTF-8 without
 * NUL, rows start on strictly increasing lines (so the reader always
 * moves on), an error always says why, and a FILE reader gives exactly
 * what a memory reader gives.  Through import_open/import_next in every
 * format: a row has a key, at most IMPORT_CHANGES_MAX changes in time
 * order with valid enums, and a bad row's message names its line.  The
 * input as one cell through enc_csv_put reads back, unguarded, as itself,
 * and never as a cell that starts a formula.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/import.h"
#include "util/csv.h"
#include "util/enc.h"
#include "util/util.h"

#define NOW	1767225600

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct res {
	int	rc;
	unsigned long line;
	size_t	n;
	uint64_t sum;		/* a digest of the fields */
};

/* one - csv_next() checked against everything it promises. */
static int
one(struct csv *c, struct res *r, unsigned long prev)
{
	char **f, err[256];
	size_t n;

	err[0] = '\0';
	r->rc = csv_next(c, &f, &n, &r->line, err, sizeof(err));
	r->n = n;
	r->sum = 0;
	if (r->rc < -2 || r->rc > 1)
		abort();
	if (r->rc < 0 && err[0] == '\0')
		abort();
	if (r->rc != 0 && r->line <= prev && prev != 0)
		abort();
	if (r->rc != 1)
		return r->rc;
	if (n < 1 || n > CSV_FIELDS_MAX || f == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(f[i]);

		if (l > CSV_FIELD_MAX || !util_utf8_valid(f[i], l))
			abort();
		for (size_t k = 0; k < l; k++)
			r->sum = r->sum * 131 + (unsigned char)f[i][k];
		r->sum = r->sum * 131 + 0x100;
	}
	return 1;
}

static void
check_csv(const uint8_t *data, size_t size, int delim)
{
	struct csv *cm, *cf = NULL;
	struct res rm, rf;
	unsigned long prev = 0, calls = 0;
	FILE *fp = NULL;

	if ((cm = csv_open_mem((const char *)data, size)) == NULL)
		return;
	csv_set_delim(cm, delim);
	/* glibc refuses a memory stream of size 0: memory alone then. */
	if (size > 0 &&
	    (fp = fmemopen((void *)(uintptr_t)data, size, "r")) != NULL) {
		if ((cf = csv_open(fp)) == NULL)
			abort();
		csv_set_delim(cf, delim);
	}
	for (;;) {
		one(cm, &rm, prev);
		if (cf != NULL) {
			one(cf, &rf, prev);
			if (rf.rc != rm.rc || rf.line != rm.line ||
			    rf.n != rm.n || rf.sum != rm.sum)
				abort();
		}
		if (rm.rc == 0 || rm.rc == -2)
			break;
		prev = rm.line;
		/* Each call moves past at least one line of input. */
		if (++calls > size + 1)
			abort();
	}
	if (rm.rc == -2)
		abort();	/* memory cannot fail to read */
	csv_free(cm);
	csv_free(cf);
	if (fp != NULL)
		fclose(fp);
}

static void
check_import(const uint8_t *data, size_t size, int format)
{
	struct import_opts o;
	struct import *im;
	struct import_row row;
	char err[512];
	FILE *fp;
	int rc;

	if (size == 0 ||
	    (fp = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		return;
	memset(&o, 0, sizeof(o));
	o.format = format;
	o.list = format == IMPORT_KLAVIYO ? "shop" : NULL;
	o.now = NOW;
	err[0] = '\0';
	if (import_open(&im, fp, &o, err, sizeof(err)) == -1) {
		if (err[0] == '\0' || im != NULL)
			abort();
		fclose(fp);
		return;
	}
	if (import_format(im) == IMPORT_AUTO ||
	    (format != IMPORT_AUTO && import_format(im) != format))
		abort();
	while ((rc = import_next(im, &row, err, sizeof(err))) != 0) {
		if (rc == -2)
			abort();
		if (rc == -1) {
			if (strncmp(err, "line ", 5) != 0)
				abort();
			continue;
		}
		if (rc != 1 || row.key[0] == '\0' || row.list[0] == '\0' ||
		    row.nch > IMPORT_CHANGES_MAX ||
		    strchr(row.key, '@') == NULL)
			abort();
		for (unsigned i = 0; i < row.nch; i++) {
			const struct import_change *ch = &row.ch[i];
			int64_t t;

			if (ch->kind == IMP_CONSENT) {
				if (ch->ev.status == CS_NONE ||
				    ch->ev.status >= CS_MAX_ ||
				    ch->ev.source >= SRC_MAX_ ||
				    strlen(ch->ev.note) > REC_NOTE_MAX ||
				    !util_utf8_valid(ch->ev.note,
				    strlen(ch->ev.note)))
					abort();
				t = ch->ev.time;
				if ((ch->ev.flags & REC_F_TIME_UNKNOWN) &&
				    t != NOW)
					abort();
			} else if (ch->kind == IMP_SUPP) {
				if (ch->supp.reason == SR_NONE ||
				    ch->supp.reason >= SR_MAX_ ||
				    strlen(ch->supp.ref) > REC_REF_MAX ||
				    !util_utf8_valid(ch->supp.ref,
				    strlen(ch->supp.ref)))
					abort();
				t = ch->supp.created;
			} else
				abort();
			if (i > 0 && t < (row.ch[i - 1].kind == IMP_CONSENT ?
			    row.ch[i - 1].ev.time : row.ch[i - 1].supp.created))
				abort();
		}
	}
	import_free(im);
	fclose(fp);
}

/* check_write - data as one cell, written and read back. */
static void
check_write(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char *buf = NULL, **f;
	size_t len = 0, n;
	unsigned long line;
	struct csv *c;
	FILE *fp;

	/* What a reader can hand out: UTF-8 without NUL, within bounds. */
	if (size > CSV_FIELD_MAX || memchr(s, '\0', size) != NULL ||
	    !util_utf8_valid(s, size))
		return;
	if ((fp = open_memstream(&buf, &len)) == NULL)
		return;
	fputs("x,", fp);	/* never a blank row, never a BOM first */
	if (enc_csv_put(fp, s, size, 0) != 0)
		abort();
	fputs("\r\n", fp);
	if (fclose(fp) != 0)
		abort();
	if ((c = csv_open_mem(buf, len)) == NULL)
		abort();
	if (csv_next(c, &f, &n, &line, NULL, 0) != 1 || n != 2 ||
	    strlen(csv_unguard(f[1])) != size ||
	    memcmp(csv_unguard(f[1]), s, size) != 0 ||
	    (f[1][0] != '\0' && strchr("=+-@\t\r", f[1][0]) != NULL) ||
	    csv_next(c, &f, &n, &line, NULL, 0) != 0)
		abort();
	csv_free(c);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_write(data, size);
	check_csv(data, size, ',');
	check_csv(data, size, CSV_DELIM_AUTO);
	check_import(data, size, IMPORT_AUTO);
	check_import(data, size, IMPORT_CSV);
	check_import(data, size, IMPORT_KLAVIYO);
	check_import(data, size, IMPORT_MAILCHIMP);
	return 0;
}
