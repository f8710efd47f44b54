/*
 * classify.h - is a message bulk, and on which list?  Pure functions over
 * the envelope (sender, SASL login, receiving service) and the headers
 * (a list header, List-Id, Precedence), driven by the configuration.
 */
#ifndef CLASSIFY_H
#define CLASSIFY_H

#include "core/addr.h"
#include "core/record.h"

#define CLASS_UNKNOWN		0	/* the envelope did not say: ask the headers */
#define CLASS_BULK		1
#define CLASS_TRANSACTIONAL	2

#define CLASSIFY_RULES_MAX	128
#define CLASSIFY_NAME_MAX	128	/* SASL login, daemon name, header name */

/* One envelope rule: every field that is set must match; first match wins. */
struct classify_rule {
	char	sender[ADDR_MAX + 1];		/* normalised address, or "" */
	char	sender_domain[ADDR_DOMAIN_MAX + 2];	/* "x.example" or ".x.example" */
	char	sasl_login[CLASSIFY_NAME_MAX];
	char	daemon_name[CLASSIFY_NAME_MAX];
	int	class_;				/* CLASS_BULK or CLASS_TRANSACTIONAL */
	char	list[REC_LIST_MAX + 1];		/* "" for the default list */
	int	line;				/* in the configuration file */
};

struct classify_conf {
	int	use_list_id;			/* List-Id makes a message bulk */
	int	use_precedence;			/* Precedence: bulk|list does */
	char	list_header[CLASSIFY_NAME_MAX];	/* e.g. X-Consent-List, or "" */
	int	strip_list_header;		/* remove it before delivery */
	char	default_list[REC_LIST_MAX + 1];
	int	addr_flags;
	unsigned nrules;
	struct classify_rule rules[CLASSIFY_RULES_MAX];
};

struct classify_env {
	const char *sender;		/* MAIL FROM argument as given, or NULL */
	const char *sasl_login;		/* {auth_authen}, or NULL */
	const char *daemon_name;	/* {daemon_name}, or NULL */
};

/* What the headers said, accumulated header by header. */
struct classify_hdrs {
	char	list_id[REC_LIST_MAX + 1];
	int	has_list_id;
	int	list_id_bad;
	char	list_hdr[REC_LIST_MAX + 1];
	int	has_list_hdr;
	int	list_hdr_bad;
	int	nlist_hdr;		/* how many list headers (to strip) */
	int	precedence_bulk;
	int	precedence_bad;	/* a Precedence we could not read */
};

struct classify_result {
	int	class_;
	char	list[REC_LIST_MAX + 1];	/* "" if the message named an invalid list */
	char	why[CLASSIFY_NAME_MAX + 32];	/* "rule 2", "List-Id", ... */
};

/* classify_envelope - the first matching rule, or CLASS_UNKNOWN. */
void	classify_envelope(const struct classify_conf *cc,
	    const struct classify_env *env, struct classify_result *r);

/* classify_header - note what one header says (any header may be passed). */
void	classify_header(const struct classify_conf *cc, struct classify_hdrs *h,
	    const char *name, const char *value);

/* classify_headers - the verdict of the headers: bulk on a list, or not. */
void	classify_headers(const struct classify_conf *cc,
	    const struct classify_hdrs *h, struct classify_result *r);

/*
 * classify_list_id - the list of a List-Id value (RFC 2919: an optional
 * phrase, then "<list-id>"; a bare id is taken too) into out, at least
 * REC_LIST_MAX + 1 octets.  Returns 0, or -1 if the value names no list
 * we can store (unreadable, two ids, a bad or long name).
 */
int	classify_list_id(const char *value, char *out);

/*
 * classify_cfws - a header value without its RFC 5322 CFWS, into out
 * (outlen octets): every comment (nested, with quoted pairs) and every run
 * of white space or folding becomes one space between words and nothing
 * at either end; quoted strings are kept as they are, quotes included.
 * Returns 0, or -1 for an unbalanced comment, an unterminated quoted
 * string, or a result that does not fit.
 */
int	classify_cfws(const char *value, char *out, size_t outlen);

#endif
