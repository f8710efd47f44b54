/*
 * fbparse.h - delivery reports and complaints, read with GMime.
 *
 * One message in, one report out: its kind (an RFC 3464 / RFC 6533
 * delivery status notification, an RFC 5965 ARF feedback report, or a
 * plain-text bounce that names an RFC 3463 enhanced status code), every
 * per-recipient group it holds, the reporting MTA, the returned message's
 * Message-ID, and the proofs it may carry: List-Unsubscribe tokens found
 * in the returned headers or message, and addresses that may be a signed
 * return path.  Nothing here is trusted or verified: that is the
 * caller's job.  Every GMime call of the project is in this module.
 * Sizes are bounded; every string in a report is NUL-terminated UTF-8
 * without control characters.
 */
#ifndef FBPARSE_H
#define FBPARSE_H

#include <stddef.h>

#include "core/addr.h"
#include "core/record.h"
#include "core/token.h"

#define FBP_MSG_MAX	(8 * 1024 * 1024)	/* octets of a message read */
#define FBP_RCPT_MAX	64	/* per-recipient groups kept; more is malformed */
#define FBP_TOKENS_MAX	8	/* token candidates kept */
#define FBP_TAGS_MAX	8	/* return-path candidates kept */
#define FBP_DIAG_MAX	400	/* octets of a diagnostic kept */
#define FBP_HOST_MAX	255
#define FBP_TEXT_MAX	200	/* a Subject, a From, a feedback User-Agent */
#define FBP_TOKEN_MIN	64	/* shorter base64url is not a token */

/* Report kinds */
#define FBP_DSN		1	/* multipart/report; report-type=delivery-status */
#define FBP_ARF		2	/* multipart/report; report-type=feedback-report */
#define FBP_PLAIN	3	/* a bounce without a report part */

struct fbp_rcpt {
	char	final[ADDR_MAX + 1];	/* Final-Recipient's address, or "" */
	char	original[ADDR_MAX + 1];	/* Original-Recipient's, or "" */
	char	action[16];		/* failed, delayed, ...; lowercased; "" in ARF */
	char	status[16];		/* "5.1.1", or "" */
	char	remote_mta[FBP_HOST_MAX + 1];
	char	diag[FBP_DIAG_MAX + 1];	/* Diagnostic-Code without its type */
};

struct fbp_report {
	int	kind;			/* FBP_* */
	char	reporting_mta[FBP_HOST_MAX + 1];
	char	msgid[REC_REF_MAX + 1];	/* "<id>" of the returned message, or "" */
	char	feedback_type[32];	/* ARF: lowercased, e.g. "abuse" */
	char	user_agent[FBP_TEXT_MAX + 1];	/* ARF */
	char	from[FBP_TEXT_MAX + 1];	/* the report's From, for review */
	char	subject[FBP_TEXT_MAX + 1];
	int	returned;		/* headers or a message came back */
	int	truncated;		/* the input was longer than FBP_MSG_MAX */
	unsigned nrcpt;
	struct fbp_rcpt rcpt[FBP_RCPT_MAX];
	unsigned ntok;			/* base64url runs that may be tokens */
	char	tok[FBP_TOKENS_MAX][TOKEN_MAX];
	unsigned ntag;			/* addresses with "fb-" in the local part */
	char	tag[FBP_TAGS_MAX][ADDR_MAX + 1];
};

/* fbparse_init - initialise GMime; once, before any other call. */
void	fbparse_init(void);

/*
 * fbparse_message - read the message buf (len octets; only the first
 * FBP_MSG_MAX are looked at) into r, which the caller owns; nothing is
 * allocated that outlives the call.  Returns the report's kind, or -1
 * with a precise reason in err when the message is not a report or is
 * malformed (sysexits 65 for the caller).  A plain-text bounce without an
 * enhanced status code is FBP_PLAIN with no status in its groups.
 */
int	fbparse_message(const char *buf, size_t len, struct fbp_report *r,
	    char *err, size_t errlen);

/* fbparse_status_ok - 1 if s is an enhanced status code "C.S.D" (RFC 3463). */
int	fbparse_status_ok(const char *s);

#endif
