/*
 * keyring.c - the token keys the configuration names, loaded into a ring:
 * the first signs, all verify.  Every program that makes or checks
 * tokens loads them here.
 */
#include <stdio.h>
#include <string.h>

#include "core/keyring.h"

/* keyring_load - the keys named in cf into r (keyring.h). */
int
keyring_load(const struct config *cf, struct token_ring *r, char *err,
    size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (token_init() == -1) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	for (unsigned i = 0; i < cf->lu_nkeys && i < TOKEN_KEYS_MAX; i++) {
		if (token_key_load(cf->lu_keys[i].file, cf->lu_keys[i].id,
		    &r->keys[i], err, errlen) == -1) {
			token_wipe(r);
			return -1;
		}
		r->nkeys++;
	}
	r->lifetime = cf->lu_lifetime;
	return 0;
}

