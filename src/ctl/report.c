/*
 * report.c - consentctl audit report: what an auditor reads (report.h).
 *
 * Reads audit logs (one JSON line per recipient decision) and, when given,
 * Postfix mail logs; joins each delivery to its decision by queue id and
 * recipient pseudonym; reports totals, violations (mail delivered against
 * a deny, or with no decision at all) and how long each unsubscribe took
 * to be honoured, as text, JSON, CSV or one self-contained HTML page.
 *
 * Sized for millions of lines: inputs stream through one reused buffer;
 * the few strings that outlive their line are copied into an arena, where
 * every record lives.  Audit logs are read first, so every mail log line
 * is judged as it is read; only deliveries of queue ids without an audit
 * line wait for the end.  This file runs the stages in that order.
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
		if (R->in[i].fd > STDIN_FILENO)
			close(R->in[i].fd);
		R->in[i].fd = -1;
	}
}

/*
 * read_all - open every input, then read: every decision first, so that
 * each mail log line is judged as it is read; then join and judge.  0 /
 * -1 with err.
 */
static int
read_all(struct rep *R)
{
	for (size_t i = 0; i < R->nin; i++) {
		if (input_open(R, &R->in[i]) == -1)
			return -1;
		R->maillog |= R->in[i].maillog;
	}
	for (size_t i = 0; i < R->nin; i++)
		if (!R->in[i].maillog && report_audit_load(R, (int)i) == -1)
			return -1;
	if (report_maillog_key(R) == -1)
		return -1;
	/* Syslog times lack a year: the newest audit line's, else now. */
	time_memo_year(&R->tm, R->audit_first >= 0 ? R->audit_last / 1000 :
	    R->c->now);
	for (size_t i = 0; i < R->nin; i++)
		if (R->in[i].maillog && report_maillog_load(R, (int)i) == -1)
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
