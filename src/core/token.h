/*
 * token.h - the signed per-recipient unsubscribe token.
 *
 * A token seals the recipient's store key, the list, the issue time and
 * the key id with XChaCha20-Poly1305 (libsodium): the URL carries no
 * readable address, and only holders of a key can make or read one.
 *
 *   token = base64url(kid || nonce[24] || AEAD(plaintext, ad = kid))
 *   plaintext = version(1) || issued(8, big-endian seconds) ||
 *               listlen(1) || list || address
 *
 * A token has a purpose, sealed into the associated data (ad = kid ||
 * tag): unsubscribe (no tag, as before purposes existed) or confirm (a
 * double opt-in link).  A token of one purpose never verifies as another.
 *
 * Keys rotate: a keyring holds several keys by id; the first signs, all
 * verify.  Verification runs in constant time for a given length and
 * reveals nothing about why a token failed.
 */
#ifndef TOKEN_H
#define TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/record.h"

#define TOKEN_KEY_BYTES	32
#define TOKEN_KEYS_MAX	16
#define TOKEN_MAX	700	/* octets of a token as text, with its NUL */
#define TOKEN_LIFETIME_DEFAULT	(90 * 86400)	/* for a lifetime <= 0 */
#define TOKEN_LIFETIME_MIN	(60 * 86400)	/* the least config allows */
#define TOKEN_SKEW	300	/* seconds of clock skew: issued "later" */

/* Purposes */
#define TOKEN_UNSUBSCRIBE	0	/* List-Unsubscribe, one-click, mailto */
#define TOKEN_CONFIRM		1	/* a double opt-in confirmation link */
#define TOKEN_PURPOSES		2

struct token_key {
	unsigned	id;			/* 1..255 */
	unsigned char	key[TOKEN_KEY_BYTES];
};

struct token_ring {
	unsigned	nkeys;
	struct token_key keys[TOKEN_KEYS_MAX];	/* keys[0] signs */
	int64_t		lifetime;		/* seconds; <= 0: default */
};

struct token_claims {
	char	addr[ADDR_MAX + 1];		/* the recipient's store key */
	char	list[REC_LIST_MAX + 1];
	int64_t	issued;
	unsigned kid;
};

/* token_init - initialise libsodium; 0 / -1.  Call once, before threads. */
int	token_init(void);

/*
 * token_key_load - read a key file made by token_key_write (the key in
 * base64, one line) into k with the given id.  Refuses a file that others
 * may read, or the group may write (the group may read: the milter and
 * consent-unsubd share the keys through it).  0, or -1 with err.
 */
int	token_key_load(const char *path, unsigned id, struct token_key *k,
	    char *err, size_t errlen);

/* token_key_write - a new random key into path, mode 0600, not overwriting. */
int	token_key_write(const char *path, char *err, size_t errlen);

/*
 * token_make - a token for (addr, list) issued at now, signed with the
 * ring's first key, into out (TOKEN_MAX octets).  Returns its length, or
 * -1 (no key, a key id outside 1..255, now < 0, out too small, or an
 * addr that is not a store key or a list that fails record_list_check:
 * a token that could never verify is not made).
 */
int	token_make(const struct token_ring *r, const char *addr, const char *list,
	    int64_t now, char *out, size_t outlen);

/*
 * token_verify - check tok (len octets) against every key of the ring
 * and its lifetime at now; fill c on success.  Valid from TOKEN_SKEW
 * seconds before it was issued until lifetime seconds after, both ends
 * included.  Returns 0, or -1 for any invalid, forged, expired or
 * unknown-key token, without saying which; c is zeroed on failure.
 */
int	token_verify(const struct token_ring *r, const char *tok, size_t len,
	    int64_t now, struct token_claims *c);

/*
 * token_make_for, token_verify_for - the same for a purpose
 * (TOKEN_UNSUBSCRIBE, TOKEN_CONFIRM); token_verify_for checks the given
 * lifetime in seconds (> 0) instead of the ring's.  token_make and
 * token_verify are the unsubscribe purpose with the ring's lifetime.
 */
int	token_make_for(const struct token_ring *r, int purpose, const char *addr,
	    const char *list, int64_t now, char *out, size_t outlen);
int	token_verify_for(const struct token_ring *r, int purpose,
	    int64_t lifetime, const char *tok, size_t len, int64_t now,
	    struct token_claims *c);

/* token_wipe - clear the ring (keys, count, lifetime) from memory. */
void	token_wipe(struct token_ring *r);

#endif
