/*
 * report.c - consentctl audit report: what an auditor reads (report.h).
 *
 * Reads audit logs (one JSON line per recipient decision) and, when given,
 * Postfix mail logs; joins each delivery to its decision by queue id and
 * recipient pseudonym; reports totals, violations (mail delivered against
 * a deny, or with no decision at all) and how long each unsubscribe took
 * to be honoured, as text, JSON, CSV or one self-contained HTML page.
 *
 * Sized for tens of millions of lines in bounded memory: a first pass
 * over the audit logs notes the little the rest needs from all of them
 * (times, pseudonyms, unsubscribes, feedback); then every input is read
 * at once, merged in time order, the mail log a little behind the audit
 * (LOG_LAG_MS), so each delivery is judged as it is read against the
 * decisions made before it.  A message is kept only while its mail can
 * still be delivered, then judged and retired.  This file runs the
 * stages and the merge.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/rep.h"
#include "ctl/report.h"
#include "ctl/report_tab.h"
#include "util/time.h"

/* input_open - open in->path ("-": standard input) to read; 0 / -1 with err. */
static int
input_open(struct rep *R, struct input *in)
{
	struct stat sb;

	if (strcmp(in->path, "-") == 0)
		in->fd = STDIN_FILENO;
	else if ((in->fd = open(in->path, O_RDONLY | O_CLOEXEC)) == -1)
		return util_fail(R->err, R->errlen, "%s: %s", in->path,
		    strerror(errno));
	if (fstat(in->fd, &sb) == -1)
		return util_fail(R->err, R->errlen, "%s: %s", in->path,
		    strerror(errno));
	if (S_ISDIR(sb.st_mode))
		return util_fail(R->err, R->errlen, "%s: is a directory",
		    in->path);
	in->regular = S_ISREG(sb.st_mode);
	(void)posix_fadvise(in->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}

/* inputs_close - close what input_open() opened; standard input stays. */
static void
inputs_close(struct rep *R)
{
	for (size_t i = 0; R->in != NULL && i < R->nin; i++) {
		if (R->in[i].copy != NULL)
			fclose(R->in[i].copy);	/* and its descriptor */
		else if (R->in[i].fd > STDIN_FILENO)
			close(R->in[i].fd);
		R->in[i].copy = NULL;
		R->in[i].fd = -1;
		lines_free(&R->in[i].rd);
		free(R->in[i].scratch);
	}
}

/*
 * copy_open - the copy of a pipe the first pass makes: an unlinked
 * temporary file in TMPDIR (else /tmp), written through stdio; NULL with
 * err.
 */
static FILE *
copy_open(struct rep *R)
{
	const char *dir = getenv("TMPDIR");
	char path[1024];
	FILE *fp;
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((fd = util_tmpfd(dir, "consentctl-report", path,
	    sizeof(path))) == -1) {
		util_fail(R->err, R->errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((fp = fdopen(fd, "w+")) == NULL) {
		close(fd);
		rep_oom(R);
	}
	return fp;
}

void
report_order(struct rep *R, struct input *in, int64_t t)
{
	if (in->premax > 0 && t + ORDER_SLACK_MS < in->premax)
		R->whole = 1;
	if (t > in->premax)
		in->premax = t;
}

/*
 * pre - the first pass over input i (report_audit_pre, report_maillog_pre
 * for each line), a pipe copied as it is read; then its reader set to
 * read it again from where it started.  0 / -1 with err.
 */
static int
pre(struct rep *R, int i)
{
	struct input *in = &R->in[i];
	FILE *cp = NULL;
	const char *line;
	unsigned long lineno = 0;
	size_t len;
	int nl, rc;

	/* A line's place is where it is in the file: standard input may be
	 * a file opened by the shell and partly read before us. */
	in->start = 0;
	if (in->regular && (in->start = lseek(in->fd, 0, SEEK_CUR)) == -1)
		in->regular = 0;
	if (!in->regular) {
		if ((cp = copy_open(R)) == NULL)
			return -1;
		in->start = 0;
	}
	lines_reset(&R->rd, in->fd);
	while ((rc = lines_next(&R->rd, &line, &len, &nl)) == 1) {
		lineno++;
		if (cp != NULL && (fwrite(line, 1, len, cp) != len ||
		    (nl && putc('\n', cp) == EOF))) {
			rc = -2;
			break;
		}
		if ((in->maillog ? report_maillog_pre(R, i, line, len) :
		    report_audit_pre(R, i, line, len, lineno)) == -1)
			goto fail;
	}
	if (rc == -1) {
		rep_read_error(R, in);
		goto fail;
	}
	if (rc == -2 || (cp != NULL && fflush(cp) == EOF)) {
		util_fail(R->err, R->errlen, "%s: copying to a temporary "
		    "file: %s", in->path, strerror(errno));
		goto fail;
	}
	if (cp != NULL) {
		in->copy = cp;		/* standard input is not closed */
		in->fd = fileno(cp);
		in->regular = 1;
		cp = NULL;
	}
	if (lseek(in->fd, in->start, SEEK_SET) == -1)
		return util_fail(R->err, R->errlen, "%s: %s", in->path,
		    strerror(errno));
	in->next_off = (uint64_t)in->start;
	if (lines_init(&in->rd, READ_CHUNK) == -1)
		return rep_oom(R);
	lines_reset(&in->rd, in->fd);
	return 0;
fail:
	if (cp != NULL)
		fclose(cp);
	return -1;
}

/* fmt_key - a merged clock's time as text, for a message. */
static void
fmt_key(int64_t ms, char *buf, size_t len)
{
	time_format(ms / 1000, buf, len);
}

int
report_input_key(struct rep *R, struct input *in, int64_t t)
{
	int64_t key = in->maillog ? t * 1000 + 999 + LOG_LAG_MS : t;

	/* The first pass found it in order: it changed since. */
	if (!R->whole && in->maxkey > 0 && key + ORDER_SLACK_MS < in->maxkey) {
		char a[32], b[32];

		fmt_key(in->maxkey - (in->maillog ? 999 + LOG_LAG_MS : 0), a,
		    sizeof(a));
		fmt_key(key - (in->maillog ? 999 + LOG_LAG_MS : 0), b,
		    sizeof(b));
		return util_fail(R->err, R->errlen, "%s: line %lu: the time "
		    "goes back from %s to %s: the file changed while the "
		    "report read it", in->path, in->lines, a, b);
	}
	if (key > in->maxkey)
		in->maxkey = key;
	in->key = key;
	in->head = 1;
	return 1;
}

/* next - the next line of input i into its head; 1, 0 at its end, -1. */
static int
next(struct rep *R, int i)
{
	return R->in[i].maillog ? report_maillog_next(R, i) :
	    report_audit_next(R, i);
}

/*
 * merge - every input's lines in the order of the merged clock (a tie to
 * the input given first), each judged or noted, the messages that are
 * done retired as the clock passes; 0 / -1 with err.  When a file is
 * out of time order (R->whole) every audit log is read first, file by
 * file, then every mail log, and nothing retires before the end.
 */
static int
merge(struct rep *R)
{
	for (size_t i = 0; i < R->nin; i++)
		if (next(R, (int)i) == -1)
			return -1;
	for (;;) {
		struct input *in = NULL;
		int k = -1, rc;

		for (size_t i = 0; i < R->nin; i++)
			if (R->in[i].head && (in == NULL || (R->whole ?
			    in->maillog && !R->in[i].maillog :
			    R->in[i].key < in->key))) {
				in = &R->in[i];
				k = (int)i;
			}
		if (in == NULL)
			return 0;
		if (in->key > R->now)
			R->now = in->key;
		rc = in->maillog ? report_maillog_take(R, k) :
		    report_audit_take(R, k);
		if (rc == -1 || next(R, k) == -1)
			return -1;
		if (report_sweep(R, 0) == -1)
			return -1;
	}
}

/*
 * read_all - open every input; the first pass over the audit logs; then
 * the merged reading, and the last judgements.  0 / -1 with err.
 */
static int
read_all(struct rep *R)
{
	const char *w;

	for (size_t i = 0; i < R->nin; i++) {
		if (input_open(R, &R->in[i]) == -1)
			return -1;
		R->maillog |= R->in[i].maillog;
	}
	for (size_t i = 0; i < R->nin; i++)
		if (!R->in[i].maillog && pre(R, (int)i) == -1)
			return -1;
	if (report_maillog_key(R) == -1)
		return -1;
	/* Syslog times lack a year: the newest audit line's, else now. */
	time_memo_year(&R->tm, R->audit_first >= 0 ? R->audit_last / 1000 :
	    R->c->now);
	for (size_t i = 0; i < R->nin; i++)
		if (R->in[i].maillog && pre(R, (int)i) == -1)
			return -1;
	if (R->whole)
		ctl_err(R->c, "audit report: a file is not in time order: "
		    "reading every line before judging (memory grows with "
		    "the input)");
	/* The same reading on purpose: the tests compare the two. */
	else if ((w = getenv("CONSENTCTL_REPORT_WHOLE")) != NULL && *w != '\0')
		R->whole = 1;
	if (merge(R) == -1)
		return -1;
	return report_judge(R);
}

/* write_out - the report in its form; 0, or -1 with err. */
static int
write_out(struct rep *R, const struct out *o, int format, const char *html)
{
	if (format == REPORT_HTML) {
		if (report_html_file(html, o, R->err, R->errlen) == -1)
			return -1;
		printf("%s: %" PRIu64 " decisions, %" PRIu64 " violation%s, %"
		    PRIu64 " unsubscribe%s honoured late\n", html, R->ndec,
		    o->violations, o->violations == 1 ? "" : "s", o->late,
		    o->late == 1 ? "" : "s");
	} else if (format == REPORT_JSON)
		report_write_json(stdout, o);
	else if (format == REPORT_CSV)
		report_write_csv(stdout, o);
	else
		report_write_text(stdout, o);
	if (fflush(stdout) == EOF || ferror(stdout))
		return util_fail(R->err, R->errlen, "standard output: %s",
		    strerror(errno));
	return 0;
}

int
report_run(struct ctl *c, const struct report_input *in, size_t nin,
    int format, const char *html)
{
	struct rep R;
	struct out o;
	char err[1024];
	int rc = CTL_ERR;

	memset(&o, 0, sizeof(o));
	if (rep_init(&R, c, err, sizeof(err)) == -1)
		goto error;
	if (nin > UINT16_MAX) {
		util_fail(err, sizeof(err), "too many files");
		goto error;
	}
	if ((R.in = calloc(nin + 1, sizeof(*R.in))) == NULL) {
		rep_oom(&R);
		goto error;
	}
	for (size_t i = 0; i < nin; i++) {
		R.in[i].path = in[i].path;
		R.in[i].maillog = in[i].maillog;
		R.in[i].fd = -1;
	}
	R.nin = nin;
	if (read_all(&R) == -1 || report_tab_build(&R, &o) == -1)
		goto error;
	/* Every delivery of an audited message unknown: not the same key? */
	if (R.keyed && R.matched == 0 && R.nkind[K_NORCPT] > 0)
		ctl_err(c, "audit report: warning: no delivery matched a "
		    "decision: is %s the key the milter used?",
		    c->cf.audit_key_file);
	if (write_out(&R, &o, format, html) == -1)
		goto error;
	rc = o.violations > 0 || o.late > 0 ? CTL_NO : CTL_OK;
	goto done;
error:
	ctl_err(c, "audit report: %s", err);
done:
	report_tab_free(&o);
	inputs_close(&R);
	free(R.in);
	rep_free(&R);
	return rc;
}
