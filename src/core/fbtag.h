/*
 * fbtag.h - the signed return path (BATV-like): proof, in the address a
 * bounce comes back to, that we sent that message to that recipient.
 *
 *   LOCAL+fb-KKDDDDMMMMMMMMMMMMMMMM@DOMAIN
 *
 * KK the key id (hex), DDDD the day (days since the epoch, hex), M the
 * first 80 bits of HMAC-SHA-256 in lowercase base32, over
 *   kid(1) || day(4, big-endian) || len(1) || recipient key || sender key
 * under a key derived with crypto_kdf from the unsubscribe key of that
 * id, for this purpose only: an unsubscribe token and a return-path tag
 * can never stand for each other.  The tag is all lowercase digits and
 * letters, so an MTA that changes the case of a local part loses nothing.
 */
#ifndef FBTAG_H
#define FBTAG_H

#include <stddef.h>
#include <stdint.h>

#include "core/token.h"

#define FBTAG_MARK	"fb-"
#define FBTAG_LEN	(3 + 2 + 4 + 16)	/* "fb-", kid, day, MAC */
#define FBTAG_WINDOW_DEFAULT	(14 * 86400)

/*
 * fbtag_sign - sender (the envelope sender; normalised, case-insensitive)
 * with a tag for rcpt (a store key) at now, signed with the ring's first
 * key, as LOCAL<delim>fb-TAG@DOMAIN into out.  Returns its length, or -1
 * (no key, a sender that is empty or already tagged, a local part that
 * would pass 64 octets, out too small).
 */
int	fbtag_sign(const struct token_ring *r, const char *sender,
	    const char *rcpt, char delim, int64_t now, char *out, size_t outlen);

/*
 * fbtag_verify - 1 if addr (as it came back, any case) is a sender that
 * fbtag_sign made for rcpt (a store key) with a key of the ring, no more
 * than window seconds (plus one day of clock skew) before now; the
 * untagged sender goes into sender_out (ADDR_MAX + 1 octets) when not
 * NULL.  0 for anything else, without saying why.  Every delimiter
 * character in delims may have been used.
 */
int	fbtag_verify(const struct token_ring *r, const char *addr,
	    const char *rcpt, const char *delims, int64_t now, int64_t window,
	    char *sender_out);

#endif
