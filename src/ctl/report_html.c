/*
 * report_html.c - the audit report as one self-contained HTML page:
 * inline CSS and SVG, no script, nothing fetched; every user string
 * through enc_html_put (util/enc.h).  Written to a temporary file beside
 * the target and renamed into place: all or nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl/report_tab.h"
#include "util/enc.h"
#include "util/time.h"
#include "util/util.h"

/* html_str - a C string as HTML text. */
static void
html_str(FILE *fp, const char *s)
{
	enc_html_put(fp, s, strlen(s));
}

/* html_table - t as an HTML table under a heading with its row count. */
static void
html_table(FILE *fp, const struct tab *t, const char *id)
{
	char buf[64];

	fprintf(fp, "<h2 id=\"%s\">", id);
	html_str(fp, t->title);
	fprintf(fp, " <span class=\"n\">(%zu)</span></h2>\n", t->nrow);
	if (t->nrow == 0) {
		fputs("<p class=\"none\">None.</p>\n", fp);
		return;
	}
	fputs("<table>\n<thead><tr>", fp);
	for (size_t k = 0; k < t->ncol; k++) {
		fputs("<th>", fp);
		html_str(fp, t->cols[k].title);
		fputs("</th>", fp);
	}
	fputs("</tr></thead>\n<tbody>\n", fp);
	for (size_t i = 0; i < t->nrow; i++) {
		const struct cell *row = &t->cells[i * t->ncol];
		int flag = 0;

		/* A late honour row is marked; so is every violation. */
		for (size_t k = 0; k < t->ncol; k++)
			if (t->cols[k].type == C_BOOL && !row[k].null &&
			    row[k].v)
				flag = 1;
		fputs(flag ? "<tr class=\"late\">" : "<tr>", fp);
		for (size_t k = 0; k < t->ncol; k++) {
			const struct col *col = &t->cols[k];
			struct util_str s = report_tab_text(col, &row[k], buf, sizeof(buf));

			fputs(col->type == C_INT || col->type == C_DUR ?
			    "<td class=\"num\">" : "<td>", fp);
			enc_html_put(fp, s.p, s.n);
			fputs("</td>", fp);
		}
		fputs("</tr>\n", fp);
	}
	fputs("</tbody>\n</table>\n", fp);
}

/* The stacked bar chart of decisions per day by verdict, as inline SVG. */
static void
html_chart(FILE *fp, const struct tab *t)
{
	static const char *colour[CT_NV] = { "#2e7d32", "#c62828", "#f9a825",
	    "#757575" };
	static const char *label[CT_NV] = { "allow", "deny", "tempfail", "other" };
	const int H = 220, top = 16, bottom = 40, left = 56;
	int64_t max = 1;
	int bw, w, plot;

	for (size_t i = 0; i < t->nrow; i++)
		if (t->cells[i * t->ncol + CT_TOTAL].v > max)
			max = t->cells[i * t->ncol + CT_TOTAL].v;
	bw = t->nrow > 0 ? 720 / (int)t->nrow : 24;
	if (bw > 48)
		bw = 48;
	if (bw < 3)
		bw = 3;
	plot = H - top - bottom;
	w = left + bw * (int)t->nrow + 24;
	if (w < 420)
		w = 420;
	fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "aria-label=\"Decisions per day by verdict\">\n", w, H, w, H);
	fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	    "stroke=\"#999\"/>\n", left - 2, top + plot, w - 8, top + plot);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
	    "class=\"ax\">%" PRId64 "</text>\n", left - 6, top + 10, max);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
	    "class=\"ax\">0</text>\n", left - 6, top + plot);
	for (size_t i = 0; i < t->nrow; i++) {
		const struct cell *row = &t->cells[i * t->ncol];
		double y = top + plot;
		int x = left + bw * (int)i;

		fputs("<g><title>", fp);
		enc_html_put(fp, row[CT_KEY].s, row[CT_KEY].n);
		for (int k = 0; k < CT_NV; k++)
			fprintf(fp, "%s%" PRId64 " %s", k ? ", " : ": ",
			    row[CT_ALLOW + k].v, label[k]);
		fputs("</title>", fp);
		for (int k = 0; k < CT_NV; k++) {
			double h = (double)row[CT_ALLOW + k].v * plot / (double)max;

			if (row[CT_ALLOW + k].v == 0)
				continue;
			y -= h;
			fprintf(fp, "<rect x=\"%d\" y=\"%.2f\" width=\"%d\" "
			    "height=\"%.2f\" fill=\"%s\"/>", x, y,
			    bw > 4 ? bw - 2 : bw - 1, h, colour[k]);
		}
		fputs("</g>\n", fp);
	}
	if (t->nrow > 0) {
		const struct cell *first = &t->cells[CT_KEY];
		const struct cell *last = &t->cells[(t->nrow - 1) * t->ncol +
		    CT_KEY];

		fprintf(fp, "<text x=\"%d\" y=\"%d\" class=\"ax\">", left,
		    top + plot + 16);
		enc_html_put(fp, first->s, first->n);
		fputs("</text>\n", fp);
		if (t->nrow > 1) {
			fprintf(fp, "<text x=\"%d\" y=\"%d\" "
			    "text-anchor=\"end\" class=\"ax\">",
			    left + bw * (int)t->nrow, top + plot + 30);
			enc_html_put(fp, last->s, last->n);
			fputs("</text>\n", fp);
		}
	}
	for (int k = 0; k < CT_NV; k++) {
		int x = left + k * 90;

		fprintf(fp, "<rect x=\"%d\" y=\"2\" width=\"10\" "
		    "height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"11\" "
		    "class=\"ax\">%s</text>\n", x, colour[k], x + 14, label[k]);
	}
	fputs("</svg>\n", fp);
}

/* write_html - the one self-contained page: inline CSS and SVG, no script. */
static void
page(FILE *fp, const struct out *o)
{
	char buf[64];

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n"
	    "<title>Consent audit report</title>\n<style>\n"
	    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;"
	    "margin:2em;color:#222;max-width:1400px}\n"
	    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;"
	    "border-bottom:1px solid #ccc}\n"
	    "table{border-collapse:collapse;font-size:.85em;margin:.5em 0}\n"
	    "th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;"
	    "vertical-align:top}\n"
	    "th{background:#f3f3f3}td.num{text-align:right;"
	    "font-variant-numeric:tabular-nums}\n"
	    "tr.late td,#violations+table td{background:#fdecea}\n"
	    ".ok{color:#2e7d32;font-weight:bold}.bad{color:#c62828;"
	    "font-weight:bold}\n"
	    ".n{color:#777;font-weight:normal}.none{color:#777}\n"
	    "svg .ax{font-size:11px;fill:#555}\n"
	    "dl{display:grid;grid-template-columns:max-content auto;"
	    "gap:.2em 1.5em}dt{color:#555}dd{margin:0}\n"
	    "</style>\n</head>\n<body>\n", fp);
	fprintf(fp, "<h1>Consent audit report</h1>\n<p>Generated %s. ",
	    time_format(o->generated, buf, sizeof(buf)));
	if (o->violations == 0 && o->late == 0)
		fputs("<span class=\"ok\">No violation found.</span>", fp);
	else
		fprintf(fp, "<span class=\"bad\">%" PRIu64 " violation%s, %"
		    PRIu64 " unsubscribe%s honoured late.</span>",
		    o->violations, o->violations == 1 ? "" : "s", o->late,
		    o->late == 1 ? "" : "s");
	fputs("</p>\n<h2 id=\"summary\">Summary</h2>\n<dl>\n", fp);
	for (size_t i = 0; i < o->nkv; i++) {
		report_tab_kv_text(&o->kv[i], buf, sizeof(buf));
		fputs("<dt>", fp);
		html_str(fp, o->kv[i].title);
		fputs("</dt><dd>", fp);
		html_str(fp, buf);
		fputs("</dd>\n", fp);
	}
	fputs("</dl>\n<h2 id=\"chart\">Decisions per day by verdict</h2>\n",
	    fp);
	html_chart(fp, &o->t[T_DAY]);
	html_table(fp, &o->t[T_VIOL], "violations");
	html_table(fp, &o->t[T_HONOUR], "honour");
	fputs("<p>Late: an allowed bulk delivery more than 2 days (Gmail, "
	    "Yahoo) or more than 10 business days, Monday to Friday in UTC, "
	    "no holidays (CAN-SPAM), after the unsubscribe.</p>\n", fp);
	html_table(fp, &o->t[T_FEEDBACK], "feedback");
	html_table(fp, &o->t[T_VERDICT], "by-verdict");
	html_table(fp, &o->t[T_REASON], "by-reason");
	html_table(fp, &o->t[T_LIST], "by-list");
	html_table(fp, &o->t[T_DAY], "by-day");
	html_table(fp, &o->t[T_INPUT], "inputs");
	fputs("</body>\n</html>\n", fp);
}

int
report_html_file(const char *path, const struct out *o, char *err,
    size_t errlen)
{
	char tmp[4096];
	FILE *fp;
	int fd, bad;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
	    (long)getpid()) >= sizeof(tmp))
		return util_fail(err, errlen, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return util_fail(err, errlen, "%s: %s", tmp, strerror(errno));
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		return util_fail(err, errlen, "out of memory");
	}
	page(fp, o);
	bad = ferror(fp);
	if (fflush(fp) == EOF || fsync(fd) == -1)
		bad = 1;
	if (fclose(fp) == EOF)
		bad = 1;
	if (bad) {
		int e = errno;

		unlink(tmp);
		return util_fail(err, errlen, "%s: %s", path,
		    strerror(e ? e : EIO));
	}
	if (rename(tmp, path) == -1) {
		int e = errno;

		unlink(tmp);
		return util_fail(err, errlen, "%s: %s", path, strerror(e));
	}
	return 0;
}
