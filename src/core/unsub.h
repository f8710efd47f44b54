/*
 * unsub.h - the unsubscribe loop's shared pieces: the key ring from the
 * configuration, a list's templates, the List-Unsubscribe value for one
 * recipient (or for a whole list), and recording an unsubscribe.  Used by
 * consent-milter, consent-unsubd and consentctl alike.
 */
#ifndef UNSUB_H
#define UNSUB_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/journal.h"
#include "core/store.h"
#include "core/token.h"

/* unsub_ring_load - the keys named in cf, the first to sign.  0 / -1 + err. */
int	unsub_ring_load(const struct config *cf, struct token_ring *r,
	    char *err, size_t errlen);

/* unsub_templates - list's templates: its own where set, else the defaults. */
void	unsub_templates(const struct config *cf, const char *list,
	    struct lu_templates *t);

/*
 * unsub_header - the List-Unsubscribe value into out: with a token for
 * addr (a store key) on list, or, with addr NULL, the list-level link
 * (no token, not one-click).  *one_click says whether the
 * List-Unsubscribe-Post header belongs with it.  Returns the length,
 * 0 when nothing is configured for this case, -1 on error (err).
 */
int	unsub_header(const struct config *cf, const struct token_ring *r,
	    const char *addr, const char *list, int64_t now, char *out,
	    size_t outlen, int *one_click, char *err, size_t errlen);

/*
 * unsub_record - record an unsubscribe of the token's recipient from its
 * list (or, with all, from every list), with source, the client's ip (""
 * if unknown) and now as evidence: the changes its record in j's store
 * calls for, handed to journal_submit() together.  Returns 1 if they were
 * recorded, 0 if the recipient was unsubscribed already (a repeated click
 * changes nothing), -1 with err (nothing recorded).
 */
int	unsub_record(struct journal *j, const struct token_claims *c,
	    int source, const char *ip, int all, int64_t now, char *err,
	    size_t errlen);

#endif
