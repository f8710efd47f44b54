/*
 * optout.h - an unsubscribe proven by a token (one-click, mailto), as
 * changes to the record.  Its twin for opt-ins is optin.h.
 */
#ifndef OPTOUT_H
#define OPTOUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/journal.h"
#include "core/token.h"

/*
 * optout_record - record an unsubscribe of the token's recipient from its
 * list (or, with all, from every list), with source, the client's ip (""
 * if unknown) and now as evidence: the changes its record in j's store
 * calls for, handed to journal_submit() together.  Returns 1 if they were
 * recorded, 0 if the recipient was unsubscribed already (a repeated click
 * changes nothing), -1 with err (nothing recorded).
 */
int	optout_record(struct journal *j, const struct token_claims *c,
	    int source, const char *ip, int all, int64_t now, char *err,
	    size_t errlen);

#endif
