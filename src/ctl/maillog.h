/*
 * maillog.h - reading the lines Postfix writes to syslog, as the audit
 * report and consentctl feedback need them: deliveries (with their relay,
 * DSN code and the remote server's words), cleanup's message-id, qmgr's
 * envelope sender, bounce's notices.
 * One line at a time, views into the line, nothing allocated.
 */
#ifndef MAILLOG_H
#define MAILLOG_H

#include <stddef.h>

#include "util/util.h"

/* What a mail log line is (maillog_line.kind). */
#define MAILLOG_OTHER		0	/* not one the report reads */
#define MAILLOG_DELIVERY	1	/* smtp, lmtp, local, virtual, pipe */
#define MAILLOG_CLEANUP		2	/* cleanup: message-id= */
#define MAILLOG_NOTICE		3	/* bounce: a notice sent as newqid */
#define MAILLOG_QMGR		4	/* qmgr: from=<sender> (queue active) */
#define MAILLOG_REMOVED		5	/* qmgr: removed; cleanup: a milter's
					   reject or discard at the end of
					   the message; postsuper: removed
					   (the message is done) */
#define MAILLOG_HOLD		6	/* cleanup: put on hold (a milter's
					   quarantine, a hold action) */

/* One line's fields; views into the line, absent ones {NULL, 0}. */
struct maillog_line {
	int	kind;
	int	classic;		/* "Nov 26 22:00:00", not RFC 3339 */
	struct util_str time, qid;
	struct util_str to, orig_to, status;	/* a delivery */
	struct util_str relay;		/* its host, without [address]:port */
	struct util_str dsn;		/* "5.1.1", as written */
	struct util_str detail;		/* inside the "(...)" after status */
	struct util_str msgid;			/* cleanup */
	struct util_str from;			/* qmgr: the envelope sender */
	struct util_str newqid;		/* a notice, or "forwarded as" */
};

/*
 * maillog_scan - classify one syslog line (without its newline) written
 * by Postfix, in the classic or the RFC 3339 format, multi-instance
 * names (postfix-out/smtp) included.  Fills *out with views into line
 * and returns its kind: MAILLOG_OTHER for lines of other programs, other
 * Postfix lines and anything malformed.
 */
int	maillog_scan(const char *line, size_t len, struct maillog_line *out);

#endif
