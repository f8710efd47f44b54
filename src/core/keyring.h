/*
 * keyring.h - the token keys named in the configuration (unsubscribe.keys),
 * as a ring for token.c.
 */
#ifndef KEYRING_H
#define KEYRING_H

#include <stddef.h>

#include "core/config.h"
#include "core/token.h"

/*
 * keyring_load - the keys named in cf into r, the first to sign, with the
 * unsubscribe lifetime.  0, or -1 with err (r is wiped).
 */
int	keyring_load(const struct config *cf, struct token_ring *r, char *err,
	    size_t errlen);

#endif
