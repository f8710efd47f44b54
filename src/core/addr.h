/*
 * addr.h - the one address normaliser.
 *
 * Every address that reaches the store goes through addr_normalize(): the
 * milter's RCPT arguments, consentctl's command line, import rows, tokens.
 * The daemon and the tool therefore can never disagree on a key.
 */
#ifndef ADDR_H
#define ADDR_H

#include <stddef.h>

#define ADDR_MAX	254	/* octets in a normalised address (RFC 5321 4.5.3.1.3) */
#define ADDR_LOCAL_MAX	64	/* octets in a local part */
#define ADDR_DOMAIN_MAX	253	/* octets in a domain name, without the root dot */
#define ADDR_KEYS_MAX	130	/* domain keys: exact, dotted forms of it and its parents */

/* addr_normalize() flags */
#define ADDR_CASE_SENSITIVE	0x01	/* keep the local part's case */

struct addr {
	char	key[ADDR_MAX + 1];	/* local@domain, normalised */
	char	base[ADDR_MAX + 1];	/* key without its +tag; equals key if untagged */
	size_t	local_len;		/* octets of the local part in key */
	const char *domain;		/* points into key, after the '@' */
	int	literal;		/* domain is an address literal [..] */
};

/*
 * addr_normalize - turn a mailbox as written (RCPT argument, CSV cell,
 * command-line word) into its store key.
 *
 * Strips surrounding blanks and <>, drops a source route, lowercases the
 * domain and converts an IDN domain to its A-label, lowercases the local
 * part unless ADDR_CASE_SENSITIVE, unquotes a quoted local part that needs
 * no quotes.  "delims" lists the recipient delimiter characters ("+" when
 * NULL; "" for none); the first one found in the local part starts the tag.
 * Returns 0, or -1 with a precise message in err.
 */
int	addr_normalize(const char *in, size_t inlen, int flags, const char *delims,
	    struct addr *out, char *err, size_t errlen);

/*
 * addr_domain_normalize - normalise a domain argument ("example.com", or
 * ".example.com" meaning the domain and all its subdomains) into out
 * (at least ADDR_DOMAIN_MAX + 2 octets).  Returns 0, or -1 with err.
 */
int	addr_domain_normalize(const char *in, size_t inlen, char *out,
	    size_t outlen, char *err, size_t errlen);

/*
 * addr_domain_keys - the domain suppression keys that apply to an address,
 * in lookup order: "sub.example.com", ".sub.example.com", ".example.com",
 * ".com".  The first key points into a->key, the others into buf (at least
 * ADDR_DOMAIN_MAX + 2 octets), so both must outlive keys[].  Returns the
 * number of keys (at most maxkeys).  An address literal yields only itself.
 */
size_t	addr_domain_keys(const struct addr *a, char *buf, size_t buflen,
	    const char *keys[], size_t maxkeys);

/* addr_atext - 1 if c may be in an atom: RFC 5322 atext, widened to the
 * UTF-8 octets of RFC 6531.  The one definition, for every parser. */
int	addr_atext(unsigned char c);

/* addr_is_domain - 1 if a command-line argument names a domain (no '@'). */
int	addr_is_domain(const char *in);

#endif
