/*
 * fbclass.h - what a delivery failure says about the recipient: a rule
 * table over the RFC 3463 enhanced status code and the remote MTA's
 * diagnostic.  Pure: no I/O, no allocation.
 *
 *   hard    the address is dead (5.1.1, 5.1.2, ...): suppress at once
 *   soft    it may come back (4.x.x, 5.2.2, 5.4.x): count, suppress for
 *           a while after N within D days
 *   policy  the sender's problem (5.7.x, 4.7.x: reputation,
 *           authentication, content): recorded and reported, never a
 *           suppression
 *   ignore  not a failure (delay warnings, successes)
 *
 * The operator's rules (feedback.rules) are tried first, then the
 * built-in table; the first that matches wins.
 */
#ifndef FBCLASS_H
#define FBCLASS_H

#include <stddef.h>

#define FBC_IGNORE	0
#define FBC_HARD	1
#define FBC_SOFT	2
#define FBC_POLICY	3

#define FBCLASS_RULES_MAX	64
#define FBCLASS_STATUS_MAX	16	/* "5.7.515", "5.*" */
#define FBCLASS_DIAG_MAX	128	/* a diagnostic pattern */

/*
 * One rule: status is a code ("5.1.1"), a code with its last parts
 * "*" ("5.7.*", "5.*"), or "" for any; diag is a case-insensitive
 * substring of the diagnostic, or "" for any.  Both must match.
 */
struct fbclass_rule {
	char	status[FBCLASS_STATUS_MAX];
	char	diag[FBCLASS_DIAG_MAX];
	int	class_;			/* FBC_* */
	const char *why;		/* built-in rules: what the code means */
	int	line;			/* operator rules: in the configuration */
};

struct fbclass_conf {
	unsigned nrules;
	struct fbclass_rule rules[FBCLASS_RULES_MAX];
};

/*
 * fbclass_classify - the class of one per-recipient result: action as
 * in a DSN ("failed", "delayed", ...; "" when the report does not say),
 * status an enhanced status code or "", diag the diagnostic or "".
 * cf may be NULL (built-in rules only).  *rule, when not NULL, is set to
 * the rule that matched (NULL when none did: no status, or an action
 * that is not a failure).  A status of the form X.0.0 is first replaced
 * by a more precise code of the same class found in the diagnostic
 * ("Status: 5.0.0" with "550 5.1.1 user unknown" is 5.1.1); the code
 * used goes into eff (FBCLASS_STATUS_MAX octets) when not NULL.
 */
int	fbclass_classify(const struct fbclass_conf *cf, const char *action,
	    const char *status, const char *diag, const struct fbclass_rule **rule,
	    char *eff);

/* fbclass_builtin - the built-in table, in order; its length in *n. */
const struct fbclass_rule *fbclass_builtin(size_t *n);

/* fbclass_status_check - 0 if s is a valid status pattern, else -1. */
int	fbclass_status_check(const char *s);

/* fbclass_name - "hard", "soft", "policy", "ignore"; fbclass_parse: -1 if unknown. */
const char *fbclass_name(int c);
int	fbclass_parse(const char *s);

#endif
