/*
 * optin.h - the double opt-in confirmation: the person's own click on a
 * confirmation link becomes "confirmed", with its time and address, one
 * change handed to journal_submit() (in a fleet, from consent-unsubd:
 * forwarded through the outbox, in force once the journal has it).
 * consent-unsubd calls it; consentctl optin makes the links.
 */
#ifndef OPTIN_H
#define OPTIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/journal.h"
#include "core/token.h"

#define OPTIN_CONFIRMED	1	/* the store changed: confirmed now */
#define OPTIN_ALREADY	0	/* confirmed before (a replay): no change */
#define OPTIN_REFUSED	2	/* nothing to confirm, or they left since */

/*
 * optin_confirm - confirm the token's recipient on its list: allowed
 * only when the list is pending or subscribed (a single opt-in upgraded)
 * and no unsubscribe from every list came after the link was made (an
 * unsubscribe from the list itself shows as its status).  Evidence:
 * source double-opt-in, now, ip ("" if unknown); the checks read j's
 * store.  Returns OPTIN_*, or -1 with err (nothing recorded).
 */
int	optin_confirm(struct journal *j, const struct token_claims *c,
	    const char *ip, int64_t now, char *err, size_t errlen);

#endif
