/*
 * policy.h - the consent decision, as a pure function.
 *
 * The store gathers the facts about one recipient and one list; this module
 * turns them into a verdict and a reason.  No I/O, no clock, no libmilter:
 * the daemon and "consentctl check" call the same code.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stdint.h>

#include "core/facts.h"

#define POLICY_OPTIN	0	/* only those who opted in to the list */
#define POLICY_OPTOUT	1	/* everyone but the unsubscribed and suppressed */

struct policy_conf {
	int	model;			/* POLICY_OPTIN or POLICY_OPTOUT */
	int	require_confirmed;	/* opt-in model: double opt-in required */
};

enum policy_reason {
	/* allow */
	PR_CONFIRMED = 0,	/* double opt-in confirmed */
	PR_SUBSCRIBED,		/* single opt-in */
	PR_OPTOUT,		/* opt-out model, nothing against it */
	/* deny */
	PR_NO_CONSENT,		/* opt-in model, never opted in */
	PR_PENDING,		/* double opt-in asked, not confirmed */
	PR_UNCONFIRMED,		/* single opt-in where double opt-in is required */
	PR_UNSUBSCRIBED,	/* unsubscribed from this list */
	PR_UNSUBSCRIBED_ALL,	/* unsubscribed from all lists */
	PR_HARD_BOUNCE,
	PR_COMPLAINT,
	PR_INVALID,
	PR_MANUAL,
	PR_SOFT_BOUNCE,
	PR_UNKNOWN_LIST,	/* the message names a list we cannot store */
	PR_ERASED,		/* erased at the person's request: never again */
	PR_MAX_
};
#define PR_FIRST_DENY	PR_NO_CONSENT

struct decision {
	int	allow;		/* 1 allow, 0 deny */
	int	reason;		/* enum policy_reason */
	int	supp;		/* index into facts->supp used, or -1 */
	int	consent;	/* 1 if facts->consent was used */
};

/*
 * policy_decide - the verdict for a bulk message on one list.
 * An erasure comes first, then suppressions (expired ones, relative to
 * now, are ignored); an unsubscribe from all lists gives way only to a
 * newer opt-in to this list.  Then consent, under the configured model.
 */
void	policy_decide(const struct policy_conf *pc, const struct policy_facts *f,
	    int64_t now, struct decision *d);

const char *policy_reason_name(int reason);
int	policy_reason_parse(const char *name);	/* -1 if unknown */

#endif
