/*
 * report.h - "consentctl audit report": the audit trail joined with the
 * Postfix mail log, read back as totals, violations and the time taken to
 * honour each unsubscribe.  ctl_audit.c parses the command line; this is
 * the run.  The stages behind it: report_audit.c and report_maillog.c
 * read, report_judge.c joins and judges, report_tab.c makes the tables,
 * report_write.c and report_html.c write them; rep.h is their model.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>

struct ctl;

/* The forms of the report. */
#define REPORT_TEXT	0
#define REPORT_JSON	1
#define REPORT_CSV	2
#define REPORT_HTML	3

/* One file to read: an audit log, or a mail log; "-" is standard input. */
struct report_input {
	const char *path;
	int	maillog;
};

/*
 * report_run - read the nin inputs (audit logs first, whatever their
 * order), join and judge them, and write the report in format: to
 * standard output, or for REPORT_HTML to the file html (a line saying
 * what it holds goes to standard output).  Errors go to standard error.
 * Returns CTL_OK (no violation), CTL_NO (violations or late
 * unsubscribes) or CTL_ERR (unreadable or malformed input, output error).
 */
int	report_run(struct ctl *c, const struct report_input *in, size_t nin,
	    int format, const char *html);

#endif
