/*
 * msg.h - one message's consent state, and what to do with it.
 *
 * The libmilter glue feeds this module the envelope, the headers and each
 * recipient's policy decision; it answers with the reply for a recipient
 * and, at the end of the message, a plan of edits (recipients to remove,
 * a holding mailbox to add, headers to add or remove, hold, discard,
 * reject or tempfail).  No libmilter and no I/O here, so every path can be
 * tested on its own.
 */
#ifndef MSG_H
#define MSG_H

#include <stddef.h>

#include "core/classify.h"
#include "core/policy.h"

/*
 * The rules this module reads, out of the configuration: the libmilter
 * glue fills them from its snapshot (milter_rules), the tests from theirs.
 */
struct msg_rules {
	int	action[PR_MAX_];	/* ACTION_* per deny reason */
	int	max_recipients;		/* per bulk message; beyond, 452 */
	int	one_rcpt_per_msg;	/* 452 to a second bulk recipient */
	int	lu_keep_existing;	/* their List-Unsubscribe stays */
	int	strip_list_header;	/* bulk mail loses the list header */
	char	redirect_to[ADDR_MAX + 1];	/* the holding mailbox */
};

/* Recipient states */
#define RS_PENDING	0	/* not decided yet: bulk class not known */
#define RS_DECIDED	1	/* decided; action applied at end of message */
#define RS_REJECTED	2	/* refused at RCPT time (5xx): not in the message */
#define RS_TEMPFAILED	3	/* refused at RCPT time (4xx): not in the message */
#define RS_INVALID	4	/* the address did not normalise: removed */
#define RS_TRANSACTIONAL 5	/* not bulk: untouched */

/* The record a decision rests on, copied for the log and the audit trail. */
struct msg_evidence {
	int	kind;		/* 0 none, 'c' consent, 's' suppression */
	int	value;		/* consent status or suppression reason */
	int	source;
	int64_t	time;
	int64_t	expires;
	char	key[ADDR_MAX + 2];
};

struct msg_rcpt {
	char	*raw;		/* the RCPT argument verbatim */
	char	*mbox;		/* the mailbox decided on, "<local@domain>", or
				 * NULL: none the MTA is sure to deliver to */
	char	*del;		/* what smfi_delrcpt must be given, or NULL:
				 * no form the MTA is sure to match */
	char	*alt;		/* a second removal form, or NULL (msg_rcpt_witness) */
	char	key[ADDR_MAX + 1];	/* normalised, "" if invalid */
	int	state;		/* RS_* */
	int	allow;
	int	reason;		/* enum policy_reason, or -1 */
	int	action;		/* ACTION_*, for a denied recipient */
	int	at_rcpt;	/* decided at RCPT time */
	int	remove;		/* set by msg_plan: smfi_delrcpt this one */
	int	invalid;	/* the address did not normalise (kept when refused) */
	struct msg_evidence ev;
};

struct msg_state {
	int	mta;		/* MTA_* (milter/mta.h): whose removal rules apply */
	int	local;		/* Postfix's non-SMTP path (its sendmail(1)):
				 * never refuse a recipient */
	int	class_;		/* CLASS_* as known so far */
	struct classify_result cls;
	struct classify_hdrs hdrs;
	char	queue_id[32];
	char	message_id[256];
	char	sender[ADDR_MAX + 3];	/* MAIL FROM as given, for the audit trail */
	int	nlu, nlupost;	/* List-Unsubscribe(-Post) headers that came in */
	int	tempfail;	/* a bulk lookup failed: the whole message waits */
	char	tempfail_why[160];
	unsigned nbulk;		/* bulk recipients accepted so far */
	unsigned nrcpt, cap;
	struct msg_rcpt *rcpt;
};

/* Reply to one RCPT */
struct msg_reply {
	int	kind;		/* MSG_CONTINUE, MSG_REJECT, MSG_TEMPFAIL */
	char	rcode[4];
	char	xcode[8];
	char	text[200];
};
#define MSG_CONTINUE	0
#define MSG_REJECT	1
#define MSG_TEMPFAIL	2
#define MSG_DISCARD	3

struct plan_hdr {
	char	name[64];
	char	*value;		/* owned */
};

/* What to do at the end of the message. */
struct msg_plan {
	struct msg_reply reply;	/* MSG_CONTINUE, MSG_DISCARD, MSG_REJECT or MSG_TEMPFAIL */
	int	quarantine;
	char	qreason[160];
	const char *addrcpt;	/* holding mailbox (in the rules), or NULL */
	int	strip_list_hdr;	/* instances of the list header to remove */
	unsigned nhdr;
	struct plan_hdr hdr[24];
	unsigned nremove;	/* recipients marked remove */
	int	unremovable;	/* a recipient to remove that cannot be: the
				 * message is refused (index), or -1 */
	unsigned nremain;	/* recipients the message still goes to */
	int	sole;		/* the one original recipient left, or -1 */
	/* List-Unsubscribe: ours to add (owned), and theirs to delete */
	char	*lu_value;
	int	lu_post;	/* add List-Unsubscribe-Post too */
	int	lu_del, lu_post_del;
};

/* msg_init - an empty message; msg_reset empties it for the next one and
 * frees what it holds; msg_reset(NULL) is a no-op. */
void	msg_init(struct msg_state *m);
void	msg_reset(struct msg_state *m);

/*
 * msg_add_rcpt - append a recipient; raw is copied, and the mailbox to
 * decide on and the form in which m->mta can remove it are worked out
 * (set m->mta first).  NULL if out of memory.
 */
struct msg_rcpt *msg_add_rcpt(struct msg_state *m, const char *raw);

/*
 * msg_rcpt_witness - check r against the MTA's own {rcpt_addr} for it
 * (NULL: none sent, the parse alone decides).  Postfix: {rcpt_addr} is
 * what smtpd recorded; if it names another recipient than r's removal
 * form, r has no sure form and no mailbox; if they differ in ASCII case
 * only, r is removed by both forms (alt).  Sendmail: {rcpt_addr} is what
 * its mailer delivers to; if it is not r's mailbox, r has no mailbox (its
 * removal, by the RCPT argument, stays sure).  Unknown MTA: nothing.
 * Returns -1 when out of memory (then r has no sure form), else 0.
 */
int	msg_rcpt_witness(const struct msg_state *m, struct msg_rcpt *r,
	    const char *rcpt_addr);

/*
 * msg_decide - record the policy decision for r and the action the
 * configuration gives its reason.  On the non-SMTP path a reject becomes a
 * drop.
 */
void	msg_decide(const struct msg_rules *mr, const struct msg_state *m,
	    struct msg_rcpt *r, const struct policy_facts *f,
	    const struct decision *d, int at_rcpt);

/*
 * msg_rcpt_reply - the RCPT-time answer for r once decided (or marked
 * invalid / failed): 550 5.7.1 for a rejected recipient, 451 4.3.0 when the
 * store failed, 452 4.5.3 past the recipient limits; never a refusal on
 * the non-SMTP path.  A denied recipient that would be removed at the
 * end, but has no form the MTA is sure to match, is refused here instead.
 * One that cannot be refused for sure (msg_rcpt_refusable) is left to the
 * end of the message, and a store failure for it holds the whole message.
 * Updates r->state and m's counters.
 */
void	msg_rcpt_reply(struct msg_state *m, struct msg_rcpt *r,
	    int store_failed, struct msg_reply *rep);

/*
 * msg_rcpt_refusable - 1 if refusing the RCPT raw at RCPT time is sure to
 * keep it out of the message under m->mta (Sendmail: as sure as its
 * removal by raw; never on Postfix's sendmail(1) path, or for an MTA we
 * do not know).
 */
int	msg_rcpt_refusable(const struct msg_state *m, const char *raw);

/*
 * msg_rcpt_limit - 1 if the next bulk recipient, raw, must get 452 4.5.3
 * (too many); one that cannot be refused for sure holds the whole message
 * instead (m->tempfail), and 0.
 */
int	msg_rcpt_limit(const struct msg_rules *mr, struct msg_state *m,
	    const char *raw, struct msg_reply *rep);

/*
 * msg_plan - the end-of-message plan.  Marks recipients to remove; fills p
 * (free its headers with msg_plan_free).  A recipient to remove that the
 * MTA cannot be sure to match refuses the whole message (550 5.7.1): a
 * removal that cannot be confirmed must not be assumed.  p->addrcpt
 * points into mr.  Returns 0, or -1 if out of memory (the caller
 * tempfails).
 */
int	msg_plan(const struct msg_rules *mr, struct msg_state *m,
	    struct msg_plan *p);

/*
 * msg_plan_unsub - put the List-Unsubscribe value (copied) into the plan:
 * existing headers are deleted first unless unsubscribe.existing is
 * "keep" and the message has its own.  0, or -1 if out of memory.
 */
int	msg_plan_unsub(const struct msg_rules *mr, const struct msg_state *m,
	    struct msg_plan *p, const char *value, int one_click);

/* msg_plan_free - free what p owns (its headers); NULL does nothing. */
void	msg_plan_free(struct msg_plan *p);

/*
 * msg_rcpt_outcome - what became of r: accepted, rejected, tempfailed,
 * removed, redirected, tagged, held; or msg_outcome (discarded, rejected,
 * tempfailed, aborted) when the whole message was stopped.
 */
const char *msg_rcpt_outcome(const struct msg_rcpt *r,
	    const char *msg_outcome);

/* msg_rcpt_verdict - r's verdict, reason and action as names. */
void	msg_rcpt_verdict(const struct msg_rcpt *r, const char **verdict,
	    const char **reason, const char **action);

/* msg_format_decision - one log line for r (user data sanitised). */
void	msg_format_decision(const struct msg_state *m,
	    const struct msg_rcpt *r, const char *msg_outcome, char *buf,
	    size_t len);

#endif
