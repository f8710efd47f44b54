/*
 * ctl_import.c - consentctl import: a contact export into the store, in
 * one write transaction (in a fleet: into the fleet journal, in one
 * COPY).  A file with any bad row changes nothing unless --skip-bad;
 * --dry-run runs everything and commits nothing.
 *
 * Into the local store an import goes in two phases.  The file is read,
 * every row checked and encoded, and the rows sorted by their store key
 * in bounded memory (util/extsort.c: runs spilled next to the store, in
 * an unlinked file).  Then, in one write transaction, the rows are merged
 * in key order, each address's rows in the order of the file, with the
 * record already stored: a cursor walk, appends past the store's last
 * key (store_walk_*).  LMDB writes in key order fill whole pages and
 * touch each page once.  A crash leaves the store at its last commit; a
 * map that fills up is grown and the merge run again.
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/change.h"
#include "core/journal.h"
#include "ctl/ctl.h"
#include "ctl/import.h"
#include "util/extsort.h"
#include "util/util.h"

#define MAX_REPORTED	20

struct imp {
	struct ctl *c;
	FILE	*fp;
	const char *fname;
	struct import_opts io;
	int	format;		/* as detected, for the report */
	int	skip_bad, dry_run;
	int	progress;	/* stderr is a terminal */
	off_t	size;
	/* Counters, reset at each run of the transaction. */
	unsigned long rows, bad, changed, unchanged, consent, supp;
	unsigned long erased;	/* rows of erased addresses, not imported */
	unsigned long erased_line;	/* the first of them */
	char	errs[MAX_REPORTED][320];
	char	fatal[320];
	struct change ch;	/* the one being merged */
	/* The sorted import. */
	struct extsort *xs;
	unsigned long bad_read;	/* bad rows found while reading */
	struct subject s;	/* the subject being merged */
	unsigned char *snap;	/* s before the row being merged */
	size_t	snaplen, snapcap;
};

static double
now_s(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Keep the first MAX_REPORTED reasons, count the rest. */
static void
bad_row(struct imp *m, const char *why)
{
	if (m->bad < MAX_REPORTED)
		snprintf(m->errs[m->bad], sizeof(m->errs[0]), "%s: %s",
		    m->fname, why);
	m->bad++;
}

/* show_progress - the reading phase on a terminal: rows, rate, ETA. */
static void
show_progress(struct imp *m, double t0, int last)
{
	double el = now_s() - t0, rate = el > 0 ? m->rows / el : 0;
	off_t pos = ftello(m->fp);

	fprintf(stderr, "\r%s%lu rows, %.0f rows/s", m->xs != NULL ?
	    "read and sort: " : "", m->rows, rate);
	if (!last && m->size > 0 && pos > 0 && pos < m->size)
		fprintf(stderr, ", ETA %.0fs   ",
		    el * (double)(m->size - pos) / (double)pos);
	else
		fprintf(stderr, "          ");
	if (last)
		fputc('\n', stderr);
}

/*
 * import_change_of - row's change i as a struct change into ch (reused:
 * only the fields change_merge reads are set), made at now.
 */
static void
import_change_of(const struct import_row *row, unsigned i, int64_t now,
    struct change *ch)
{
	const struct import_change *ic = &row->ch[i];

	ch->made = now;
	if (ic->kind == IMP_CONSENT) {
		ch->kind = CHANGE_CONSENT;
		util_strlcpy(ch->list, row->list, sizeof(ch->list));
		ch->ev = ic->ev;
	} else {
		ch->kind = CHANGE_SUPPRESS;
		ch->list[0] = '\0';
		ch->supp = ic->supp;
	}
}

/* Apply one row's changes to its subject; -1 on a store error. */
static int
apply_row(struct store_txn *t, struct imp *m, const struct import_row *row)
{
	struct subject s;
	int rc, changed = 0;

	/* Erased: nothing of it comes back, whatever the row says. */
	if ((rc = store_txn_erased(t, row->key, NULL)) != 0) {
		if (rc == 1 && m->erased++ == 0)
			m->erased_line = row->line;
		return rc == 1 ? 0 : -1;
	}
	subject_init(&s);
	if (store_txn_get(t, row->key, &s) == -1)
		return -1;
	for (unsigned i = 0; i < row->nch; i++) {
		import_change_of(row, i, m->io.now, &m->ch);
		rc = change_merge(&s, &m->ch);
		if (row->ch[i].kind == IMP_CONSENT)
			m->consent += rc == 1;
		else
			m->supp += rc == 1;
		if (rc == -1) {
			char why[128];

			snprintf(why, sizeof(why), "line %lu: %s", row->line,
			    errno == E2BIG ? "too many lists for one address" :
			    strerror(errno));
			subject_clear(&s);
			bad_row(m, why);
			return 0;
		}
		changed |= rc;
	}
	rc = changed ? store_txn_put(t, row->key, &s) : 0;
	subject_clear(&s);
	if (changed)
		m->changed++;
	else
		m->unchanged++;
	return rc;
}

/* Refuse times far ahead of the clock: they would outrank every real change. */
static int
row_in_future(const struct imp *m, const struct import_row *row)
{
	for (unsigned i = 0; i < row->nch; i++) {
		int64_t t = row->ch[i].kind == IMP_CONSENT ?
		    row->ch[i].ev.time : row->ch[i].supp.created;

		if (t > m->io.now + CTL_FUTURE_SLACK)
			return 1;
	}
	return 0;
}

#define IMP_ABORT_BAD	2	/* bad rows: change nothing */
#define IMP_ABORT_DRY	3	/* dry run: change nothing */
#define IMP_ABORT_FATAL	4	/* unreadable file */

/*
 * read_rows - read the file from its start, row_fn for each good row; bad
 * rows counted and kept for the report.  0 (or IMP_ABORT_BAD,
 * IMP_ABORT_DRY as the options say), IMP_ABORT_FATAL with m->fatal, or
 * -1 when row_fn failed.
 */
static int
read_rows(struct imp *m, int (*row_fn)(struct imp *, const struct import_row *,
    void *), void *arg)
{
	struct import *im;
	struct import_row row;
	char err[300];
	double t0 = now_s(), last = t0;
	int rc;

	m->rows = m->bad = m->changed = m->unchanged = m->consent = m->supp = 0;
	m->erased = m->erased_line = 0;
	m->fatal[0] = '\0';
	if (fseeko(m->fp, 0, SEEK_SET) == -1) {
		snprintf(m->fatal, sizeof(m->fatal), "%s: cannot rewind: %s",
		    m->fname, strerror(errno));
		return IMP_ABORT_FATAL;
	}
	clearerr(m->fp);
	if (import_open(&im, m->fp, &m->io, err, sizeof(err)) == -1) {
		snprintf(m->fatal, sizeof(m->fatal), "%s: %s", m->fname, err);
		return IMP_ABORT_FATAL;
	}
	m->format = import_format(im);
	while ((rc = import_next(im, &row, err, sizeof(err))) != 0) {
		if (rc == -2) {
			snprintf(m->fatal, sizeof(m->fatal), "%s: %s", m->fname,
			    err);
			import_free(im);
			return IMP_ABORT_FATAL;
		}
		m->rows++;
		if (rc == -1) {
			bad_row(m, err);
			continue;
		}
		if (row_in_future(m, &row)) {
			snprintf(err, sizeof(err), "line %lu: timestamp is in "
			    "the future", row.line);
			bad_row(m, err);
			continue;
		}
		if (row_fn(m, &row, arg) == -1) {
			import_free(im);
			return -1;
		}
		if (m->progress && (m->rows & 4095) == 0 && now_s() - last > 0.5) {
			last = now_s();
			show_progress(m, t0, 0);
		}
	}
	import_free(im);
	if (m->progress && m->rows > 4096)
		show_progress(m, t0, 1);
	if (m->bad > 0 && !m->skip_bad)
		return IMP_ABORT_BAD;
	return m->dry_run ? IMP_ABORT_DRY : 0;
}

static int
apply_cb(struct imp *m, const struct import_row *row, void *arg)
{
	return apply_row(arg, m, row);
}

static int
import_fn(struct store_txn *t, void *arg)
{
	return read_rows(arg, apply_cb, t);
}

/* --- the sorted import ------------------------------------------------- */

/* sort_cb - a good row, encoded, into the sorter under its key. */
static int
sort_cb(struct imp *m, const struct import_row *row, void *arg)
{
	unsigned char buf[IMPORT_ROW_ENC_MAX];
	size_t len;

	(void)arg;
	if (import_row_encode(row, buf, sizeof(buf), &len) == -1) {
		snprintf(m->fatal, sizeof(m->fatal), "%s: line %lu: cannot "
		    "encode the row", m->fname, row->line);
		return -1;
	}
	if (extsort_add(m->xs, row->key, strlen(row->key), buf, len) == -1) {
		snprintf(m->fatal, sizeof(m->fatal), "sorting the rows (in "
		    "%s): %s", m->c->storedir, strerror(errno));
		return -1;
	}
	return 0;
}

/* show_merge - the writing phase on a terminal: rows, rate, ETA. */
static void
show_merge(uint64_t done, uint64_t total, double t0, int last)
{
	double el = now_s() - t0, rate = el > 0 ? (double)done / el : 0;

	fprintf(stderr, "\rmerge and write: %llu of %llu rows, %.0f rows/s",
	    (unsigned long long)done, (unsigned long long)total, rate);
	if (!last && rate > 0 && done < total)
		fprintf(stderr, ", ETA %.0fs   ", (double)(total - done) / rate);
	else
		fprintf(stderr, "          ");
	if (last)
		fputc('\n', stderr);
}

/* snap_take - m->s as it stands, encoded, for a row that fails to undo. */
static int
snap_take(struct imp *m)
{
	size_t len;

	if (record_encode_into(&m->s, NULL, 0, &len) == -1)
		return -1;
	if (len > m->snapcap) {
		unsigned char *nb = realloc(m->snap, len);

		if (nb == NULL)
			return -1;
		m->snap = nb;
		m->snapcap = len;
	}
	m->snaplen = len;
	return record_encode_into(&m->s, m->snap, len, &len);
}

/*
 * One address's rows, in the order of the file: what apply_row() does
 * for each row, on a subject kept across them, written once at the end.
 */
struct group {
	char	key[ADDR_MAX + 1];
	int	active, erased, changed;
	unsigned rows;		/* rows merged so far */
};

/* group_begin - the stored subject of key into m->s, or its erasure. */
static int
group_begin(struct imp *m, struct store_txn *t, struct store_walk *w,
    struct group *g, const char *key)
{
	int rc;

	util_strlcpy(g->key, key, sizeof(g->key));
	g->active = 1;
	g->changed = 0;
	g->rows = 0;
	subject_clear(&m->s);
	subject_init(&m->s);
	if ((rc = store_txn_erased(t, key, NULL)) == -1)
		return -1;
	g->erased = rc;
	return g->erased ? 0 : store_walk_get(w, key, &m->s) == -1 ? -1 : 0;
}

/* group_row - merge one row into m->s; a row that fails is undone. */
static int
group_row(struct imp *m, struct store_walk *w, struct group *g,
    const struct import_row *row)
{
	int rc, changed = 0;

	/* Erased: nothing of it comes back, whatever the row says. */
	if (g->erased) {
		if (m->erased++ == 0 || row->line < m->erased_line)
			m->erased_line = row->line;
		return 0;
	}
	if (g->rows++ > 0 && snap_take(m) == -1) {
		snprintf(m->fatal, sizeof(m->fatal), "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < row->nch; i++) {
		import_change_of(row, i, m->io.now, &m->ch);
		rc = change_merge(&m->s, &m->ch);
		if (row->ch[i].kind == IMP_CONSENT)
			m->consent += rc == 1;
		else
			m->supp += rc == 1;
		if (rc == -1) {
			char why[128], err[256];

			snprintf(why, sizeof(why), "line %lu: %s", row->line,
			    errno == E2BIG ? "too many lists for one address" :
			    strerror(errno));
			bad_row(m, why);
			/* Back to the subject before this row, as if it had
			   not been read. */
			subject_clear(&m->s);
			subject_init(&m->s);
			if (g->rows == 1)
				return store_walk_get(w, g->key, &m->s) == -1 ?
				    -1 : 0;
			return record_decode(m->snap, m->snaplen, &m->s, err,
			    sizeof(err));
		}
		changed |= rc;
	}
	if (changed) {
		g->changed = 1;
		m->changed++;
	} else
		m->unchanged++;
	return 0;
}

/* group_end - write the address's subject back if its rows changed it. */
static int
group_end(struct imp *m, struct store_walk *w, struct group *g)
{
	int rc = 0;

	if (g->active && !g->erased && g->changed)
		rc = store_walk_put(w, g->key, &m->s);
	g->active = 0;
	return rc;
}

/*
 * merge_fn - the sorted rows into the store in one transaction, from the
 * start each time store_write() runs it (a map grown).  0, IMP_ABORT_BAD,
 * IMP_ABORT_DRY as read_rows(), or -1.
 */
static int
merge_fn(struct store_txn *t, void *arg)
{
	struct imp *m = arg;
	struct store_walk *w = NULL;
	struct import_row row;
	struct group g;
	const void *k, *v;
	size_t kl, vl;
	uint64_t done = 0, total = extsort_count(m->xs);
	double t0 = now_s(), last = t0;
	int rc;

	m->bad = m->bad_read;
	m->fatal[0] = '\0';
	m->changed = m->unchanged = m->consent = m->supp = 0;
	m->erased = m->erased_line = 0;
	memset(&g, 0, sizeof(g));
	if (extsort_rewind(m->xs) == -1) {
		snprintf(m->fatal, sizeof(m->fatal), "reading the sorted rows: "
		    "%s", strerror(errno));
		return -1;
	}
	if (store_walk_open(t, &w) == -1)
		return -1;
	while ((rc = extsort_next(m->xs, &k, &kl, &v, &vl)) == 1) {
		if (kl == 0 || kl > ADDR_MAX ||
		    import_row_decode(v, vl, &row) == -1) {
			snprintf(m->fatal, sizeof(m->fatal), "the sorted rows "
			    "(in %s) are corrupt", m->c->storedir);
			rc = -1;
			break;
		}
		memcpy(row.key, k, kl);
		row.key[kl] = '\0';
		if (!g.active || strcmp(row.key, g.key) != 0) {
			if (group_end(m, w, &g) == -1 ||
			    group_begin(m, t, w, &g, row.key) == -1) {
				rc = -1;
				break;
			}
		}
		if (group_row(m, w, &g, &row) == -1) {
			rc = -1;
			break;
		}
		if (m->progress && (++done & 65535) == 0 && now_s() - last > 0.5) {
			last = now_s();
			show_merge(done, total, t0, 0);
		}
	}
	if (rc == -1 && m->fatal[0] == '\0' && errno != 0 &&
	    store_txn_error(t)[0] == '\0')
		snprintf(m->fatal, sizeof(m->fatal), "reading the sorted rows: "
		    "%s", strerror(errno));
	if (rc == 0)
		rc = group_end(m, w, &g);
	store_walk_close(w);
	subject_clear(&m->s);
	subject_init(&m->s);
	if (rc == -1)
		return -1;
	if (m->progress && total > 4096)
		show_merge(total, total, t0, 1);
	if (m->bad > 0 && !m->skip_bad)
		return IMP_ABORT_BAD;
	return m->dry_run ? IMP_ABORT_DRY : 0;
}

/*
 * import_sorted - read and sort the file, then merge it into st in one
 * transaction.  The read happens before the write lock is taken: a file
 * with bad rows never takes it.  rc as read_rows(), or -1 (printed).
 */
static int
import_sorted(struct ctl *c, struct imp *m, struct store *st, size_t budget)
{
	char err[512];
	int rc;

	if (extsort_new(&m->xs, c->storedir, budget, err, sizeof(err)) == -1) {
		ctl_err(c, "import: nothing imported: %s", err);
		return -1;
	}
	rc = read_rows(m, sort_cb, NULL);
	m->bad_read = m->bad;
	if (rc == -1 || rc == IMP_ABORT_FATAL || rc == IMP_ABORT_BAD) {
		if (rc == -1)
			rc = IMP_ABORT_FATAL;
		goto out;
	}
	if (extsort_finish(m->xs) == -1) {
		snprintf(m->fatal, sizeof(m->fatal), "sorting the rows (in %s): "
		    "%s", c->storedir, strerror(errno));
		rc = IMP_ABORT_FATAL;
		goto out;
	}
	/* Room for every row twice over (new pages and the copies of
	   the old ones a transaction writes), so the merge runs once. */
	if (store_reserve(st, 2 * (extsort_spilled(m->xs) +
	    extsort_count(m->xs) * 64), err, sizeof(err)) == -1) {
		ctl_err(c, "import: nothing imported: %s", err);
		rc = -1;
		goto out;
	}
	rc = store_write(st, merge_fn, m, err, sizeof(err));
	if (rc == -1) {
		if (m->fatal[0] != '\0')
			ctl_err(c, "import: nothing imported: %s: %s", err,
			    m->fatal);
		else
			ctl_err(c, "import: nothing imported: %s", err);
	}
out:
	extsort_free(m->xs);
	m->xs = NULL;
	free(m->snap);
	m->snap = NULL;
	return rc;
}

/* What a fleet import streams through. */
struct fleet {
	struct journal *j;
	char	err[512];
};

/* stream_cb - a row's changes into the journal's COPY (not on a dry run). */
static int
stream_cb(struct imp *m, const struct import_row *row, void *arg)
{
	struct fleet *f = arg;
	struct change *ch = &m->ch;

	for (unsigned i = 0; i < row->nch; i++) {
		change_init(ch, 0, row->key, m->io.now);
		import_change_of(row, i, m->io.now, ch);
		if (row->ch[i].kind == IMP_CONSENT)
			m->consent++;
		else
			m->supp++;
		if (!m->dry_run && journal_stream_put(f->j, ch, f->err,
		    sizeof(f->err)) == -1)
			return -1;
	}
	m->changed++;
	return 0;
}

/*
 * import_fleet - the file into the fleet journal as one COPY: committed
 * only if the whole file is good (or --skip-bad) and not a dry run.
 * The store is not touched: consent-syncd brings the rows back.
 */
static int
import_fleet(struct ctl *c, struct imp *m)
{
	struct journal j;
	struct fleet f;
	int rc, commit;

	journal_init(&j, NULL, &c->cf.sync, 0);
	f.j = &j;
	f.err[0] = '\0';
	if (!m->dry_run && journal_stream_begin(&j, f.err, sizeof(f.err)) == -1) {
		ctl_err(c, "import: nothing imported: %s", f.err);
		journal_fini(&j);
		return -1;
	}
	rc = read_rows(m, stream_cb, &f);
	commit = rc == 0;
	if (!m->dry_run && journal_stream_end(&j, commit, f.err,
	    sizeof(f.err)) == -1 && commit) {
		ctl_err(c, "import: nothing imported: %s", f.err);
		rc = -1;
	} else if (rc == -1)
		ctl_err(c, "import: nothing imported: %s", f.err);
	journal_fini(&j);
	return rc;
}

/* Standard input cannot be read twice: spool it to an unlinked file. */
static FILE *
spool_stdin(struct ctl *c)
{
	FILE *fp = tmpfile();
	char buf[65536];
	size_t n;

	if (fp == NULL) {
		ctl_err(c, "import: temporary file: %s", strerror(errno));
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		if (fwrite(buf, 1, n, fp) != n)
			break;
	if (ferror(stdin) || ferror(fp) || fflush(fp) != 0) {
		ctl_err(c, "import: spooling standard input: %s",
		    strerror(errno));
		fclose(fp);
		return NULL;
	}
	return fp;
}

/* import_report - the outcome of an import (rc from read_rows); exit code. */
static int
import_report(struct ctl *c, struct imp *m, int rc, int fleet)
{
	fclose(m->fp);
	if (rc == -1)
		return CTL_ERR;
	if (rc == IMP_ABORT_FATAL) {
		ctl_err(c, "import: nothing imported: %s", m->fatal);
		return CTL_ERR;
	}
	for (unsigned long i = 0; i < m->bad && i < MAX_REPORTED; i++)
		fprintf(stderr, "%s\n", m->errs[i]);
	if (m->bad > MAX_REPORTED)
		fprintf(stderr, "%s: ... and %lu more bad rows\n", m->fname,
		    m->bad - MAX_REPORTED);
	if (rc == IMP_ABORT_BAD) {
		ctl_err(c, "import: nothing imported: %lu of %lu rows are bad "
		    "(fix them, or use --skip-bad to import the good rows)",
		    m->bad, m->rows);
		return CTL_ERR;
	}
	if (fleet)
		printf("%s%s (%s): %lu rows, %lu consent changes, %lu "
		    "suppressions%s%s", rc == IMP_ABORT_DRY ? "dry run, nothing "
		    "sent: " : "sent to the fleet journal: ", m->fname,
		    import_format_name(m->format), m->rows - m->bad, m->consent,
		    m->supp, rc == IMP_ABORT_DRY ? "" : "; each host applies them "
		    "as it syncs", m->bad ? "" : "\n");
	else
		printf("%s%s (%s): %lu rows, %lu addresses %s, %lu unchanged, "
		    "%lu consent changes, %lu suppressions%s",
		    rc == IMP_ABORT_DRY ? "dry run, nothing written: " :
		    "imported ", m->fname, import_format_name(m->format),
		    m->rows - m->bad, m->changed, rc == IMP_ABORT_DRY ?
		    "would change" : "changed", m->unchanged, m->consent,
		    m->supp, m->bad ? "" : "\n");
	if (m->bad)
		printf(", %lu bad rows skipped\n", m->bad);
	if (m->erased)
		fprintf(stderr, "%s: %lu row%s (the first on line %lu) of "
		    "addresses erased at the person's request: not imported, "
		    "they stay unmailable (a person who signed up again: "
		    "consentctl subscribe --after-erasure)\n", m->fname,
		    m->erased, m->erased == 1 ? "" : "s", m->erased_line);
	return m->bad ? CTL_PARTIAL : CTL_OK;
}

int
ctl_import(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	struct imp m;
	struct store *st;
	struct stat sb;
	char err[512];
	int rc;

	if (ctl_options(c, argc, argv, O_FORMAT | O_LIST | O_DRYRUN | O_SKIPBAD |
	    O_MEMORY, 1, 1, &o) == -1)
		return CTL_ERR;
	memset(&m, 0, sizeof(m));
	m.c = c;
	m.skip_bad = o.skip_bad;
	m.dry_run = o.dry_run;
	m.io.format = IMPORT_AUTO;
	if (o.format != NULL &&
	    (m.io.format = import_format_parse(o.format)) == -1) {
		ctl_err(c, "import: unknown format \"%s\" (auto, csv, klaviyo, "
		    "mailchimp)", o.format);
		return CTL_ERR;
	}
	m.io.list = o.list_set ? o.list : c->cf.default_list;
	m.io.addr_flags = c->cf.addr_flags;
	m.io.delims = c->cf.delims;
	m.io.now = c->now;
	if (strcmp(o.arg, "-") == 0) {
		m.fname = "(stdin)";
		if ((m.fp = spool_stdin(c)) == NULL)
			return CTL_ERR;
	} else {
		m.fname = o.arg;
		if ((m.fp = fopen(o.arg, "r")) == NULL) {
			ctl_err(c, "import: %s: %s", o.arg, strerror(errno));
			return CTL_ERR;
		}
	}
	if (fstat(fileno(m.fp), &sb) == 0)
		m.size = sb.st_size;
	m.progress = isatty(STDERR_FILENO);
	if (c->cf.sync.enabled)
		return import_report(c, &m, import_fleet(c, &m), 1);
	if (ctl_open_store(c, 0, &st) == -1) {
		fclose(m.fp);
		return CTL_ERR;
	}
	/* The row-by-row path, kept only for the tests to compare with. */
	if (getenv("CONSENTCTL_IMPORT_ROWWISE") != NULL) {
		rc = store_write(st, import_fn, &m, err, sizeof(err));
		if (rc == -1)
			ctl_err(c, "import: nothing imported: %s", err);
	} else {
		subject_init(&m.s);
		rc = import_sorted(c, &m, st, (size_t)(o.memory_mb ?
		    o.memory_mb : c->cf.import_memory_mb) << 20);
	}
	store_close(st);
	if (rc == -1) {
		fclose(m.fp);
		return CTL_ERR;
	}
	return import_report(c, &m, rc, 0);
}
