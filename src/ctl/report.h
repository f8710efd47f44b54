/*
 * report.h - "consentctl audit report": the audit trail joined with the
 * Postfix mail log, read back as totals, violations and the time taken to
 * honour each unsubscribe.  The two line scanners are exported for the
 * unit tests and a fuzz target; the rest of report.c is private.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>

struct ctl;

/* A view into a line: not NUL-terminated, lives as long as the line. */
struct report_str {
	const char *p;
	size_t	n;
};

/* The fields of an audit line the report reads; absent ones are {NULL, 0}. */
struct report_audit {
	struct report_str type;		/* "open", or absent on a decision */
	struct report_str t, qid, msgid, list, class_, rcpt, verdict, reason;
	struct report_str outcome, ev_kind, ev_value, ev_source, ev_time;
};

/*
 * report_audit_parse - scan one audit line (a flat JSON object of string
 * and number values, without its newline).  Values with escapes are
 * decoded into scratch, which must hold at least len octets and be reused
 * only after the caller is done with *out; the others point into line.
 * Unknown keys are skipped.  Returns 0, or -1 with err naming the column.
 */
int	report_audit_parse(const char *line, size_t len, char *scratch,
	    size_t scratchlen, struct report_audit *out, char *err,
	    size_t errlen);

/* What a mail log line is, for the report (report_maillog.kind). */
#define REPORT_ML_OTHER		0	/* not one the report reads */
#define REPORT_ML_DELIVERY	1	/* smtp, lmtp, local, virtual, pipe */
#define REPORT_ML_CLEANUP	2	/* cleanup: message-id= */
#define REPORT_ML_NOTICE	3	/* bounce: a notice sent as newqid */

struct report_maillog {
	int	kind;
	int	classic;		/* "Nov 26 22:00:00", not RFC 3339 */
	struct report_str time, qid;
	struct report_str to, orig_to, status;	/* delivery */
	struct report_str msgid;		/* cleanup */
	struct report_str newqid;	/* a notice, or "forwarded as" */
};

/*
 * report_maillog_parse - classify one syslog line (without its newline)
 * written by Postfix, in the classic or the RFC 3339 format.  Fills *out
 * with views into line and returns its kind; REPORT_ML_OTHER for lines of
 * other programs, other Postfix lines and anything malformed.
 */
int	report_maillog_parse(const char *line, size_t len,
	    struct report_maillog *out);

/*
 * ctl_audit_report - consentctl audit report --audit FILE... [--maillog
 * FILE...] [--json | --csv | --html FILE]; argv[0] is "report".  Returns
 * CTL_OK (no violation), CTL_NO (violations or late unsubscribes) or
 * CTL_ERR (usage, unreadable or malformed input, output error).
 */
int	ctl_audit_report(struct ctl *c, int argc, char **argv);

#endif
