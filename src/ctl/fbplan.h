/*
 * fbplan.h - from a parsed report to the changes it proves, and the one
 * function that writes them.
 *
 * A report is applied whole or not at all.  Each failure that would
 * suppress (hard, soft; an ARF "abuse" complaint) needs proof that we
 * sent that message to that recipient: a List-Unsubscribe token of ours
 * in the returned headers or message, or a signed return path
 * (fbtag.h) that the report was sent back to.  The address suppressed
 * is the one the proof names; a report that names someone else, or that
 * has a failure without proof, changes nothing and is queued for review
 * with the reason.  Policy refusals and ignored results are reported,
 * never written.  With admin set (the review queue's "apply"), the
 * report's own recipients are believed and the source is "admin".
 */
#ifndef FBPLAN_H
#define FBPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/fbclass.h"
#include "core/record.h"
#include "core/store.h"
#include "core/token.h"
#include "ctl/fbparse.h"

/* What a change does */
#define FBO_NONE	0	/* reported only: policy, ignored, not applied */
#define FBO_SUPPRESS	1	/* a hard bounce or a complaint */
#define FBO_SOFT	2	/* count a soft bounce; suppress at the threshold */
#define FBO_RESET	3	/* a delivery: forget the soft count */

/* How the recipient was proven */
#define FBP_BY_NONE	0
#define FBP_BY_TOKEN	1
#define FBP_BY_TAG	2
#define FBP_BY_ADMIN	3
#define FBP_BY_MAILLOG	4	/* our own MTA's record */

struct fb_ctx {
	const struct token_ring *ring;	/* may hold no key: nothing is proven */
	const struct fbclass_conf *rules;
	const char *delims;		/* recipient delimiters */
	int	addr_flags;
	int64_t	now;
	int64_t	rp_window;		/* of a signed return path */
	unsigned soft_threshold;
	int64_t	soft_window, soft_expires;
	const char *rcpt;		/* the envelope recipient (--rcpt), or NULL */
	const char *audit_file;		/* feedback lines (fbaudit_write), or NULL */
	const unsigned char *audit_key;	/* their pseudonym key, or NULL: plain */
	const struct sync_conf *sync;	/* the fleet, for journal_submit; NULL: local */
};

struct fb_change {
	int	op;			/* FBO_* */
	int	class_;			/* FBC_*; a complaint is FBC_HARD */
	int	by;			/* FBP_BY_* */
	char	key[ADDR_MAX + 1];	/* the store key written, or the address reported */
	char	list[REC_LIST_MAX + 1];	/* the token's list, or "" */
	char	qid[33];		/* the mail log's queue id, or "" */
	char	status[FBCLASS_STATUS_MAX];	/* the code used */
	const char *why;		/* the rule, or what happened */
	struct suppression supp;	/* FBO_SUPPRESS, and FBO_SOFT at the threshold */
	/* filled by fb_record */
	int	changed;		/* the store changed */
	unsigned soft_count;		/* FBO_SOFT: the count now */
	int	suppressed;		/* FBO_SOFT: the threshold was reached */
};

struct fb_plan {
	unsigned n;
	struct fb_change ch[FBP_RCPT_MAX];
	int	queue;			/* nothing applied: review it */
	char	why[400];		/* why it is queued */
};

/*
 * fb_plan_make - the plan for report r (see above) into p, which the
 * caller owns.  Pure but for the token and tag checks.  Returns the
 * number of changes that write (0 when there is nothing to apply, or
 * when p->queue is set).
 */
unsigned fb_plan_make(const struct fbp_report *r, const struct fb_ctx *ctx,
	    int admin, struct fb_plan *p);

/*
 * fb_record - record every one of the n changes ch that writes: the
 * suppressions through journal_submit() (all or none), then the soft
 * counts in the local store.  The one place where feedback writes.
 * Fills each change's result fields.  0, or -1 with err (the caller
 * defers: sysexits 75; a retry decides the same).
 */
int	fb_record(struct store *st, struct fb_change *ch, unsigned n,
	    const struct fb_ctx *ctx, char *err, size_t errlen);

/* fb_by_name - "token", "return-path", "admin", "maillog", "none". */
const char *fb_by_name(int by);

/*
 * fbaudit_write - one chained line of type "feedback" per change of ch
 * (n of them; queued: the report waits for review, nothing applied)
 * into ctx->audit_file (nothing when NULL), in the audit trail's format
 * and under ctx->audit_key: t (the event's time), qid, msgid, list, rcpt
 * (pseudonymised), reason (hard, soft, policy, complaint, ignore),
 * outcome (applied, queued, reported), stage (the channel), ev_value
 * (the status code).  The file is locked while it is written: pipe(8)
 * runs several of us at once.  0, or -1 with err (fbaudit.c).
 */
int	fbaudit_write(const struct fb_ctx *ctx, const struct fb_change *ch,
	    unsigned n, int queued, const char *channel, char *err,
	    size_t errlen);

#endif
