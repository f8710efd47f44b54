/*
 * change.h - one change to the consent record: a consent change for one
 * list, a confirmation, a suppression or its removal, with its evidence
 * and where it was made.  It is the unit every writer records and every
 * store applies.
 *
 * change_merge() is THE merge, built on record.c's rules: consentctl's
 * edits and imports, the one-click endpoint, mailto intake, feedback,
 * consent-syncd's replay of the fleet journal and its outbox all apply
 * changes through it, so no two of them can merge differently.  Its only
 * clock is the change's own (made): a change merges the same on every
 * host, whenever it is applied.
 *
 * record.c's rules are idempotent (a change merged twice changes nothing
 * the second time) but not commutative: "a later pending never downgrades
 * a confirmed one" depends on which came first.  So stores agree by
 * applying changes in one order: the fleet journal's (see README,
 * "Fleet").
 *
 * Writers do not apply changes themselves: they hand them to
 * journal_submit() (core/journal.h), which writes the local store or the
 * fleet database as the configuration says.
 */
#ifndef CHANGE_H
#define CHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/record.h"
#include "core/store.h"

#define CHANGE_KEY_MAX	ADDR_MAX	/* octets in a key: address or domain */
#define CHANGE_HOST_MAX	64		/* octets in a host id */
#define CHANGE_ID_LEN	16		/* octets in an origin id (a UUID) */
#define CHANGE_ID_TEXT	37		/* a UUID as text, with its NUL */
#define CHANGE_ENC_MAX	1200		/* octets change_encode() may need */

enum change_kind {
	CHANGE_NONE = 0,
	CHANGE_CONSENT,		/* ev for list: subscribe, unsubscribe, ... */
	CHANGE_CONFIRM,		/* ev (confirmed) for list, if pending or subscribed */
	CHANGE_SUPPRESS,	/* supp for the key, every list */
	CHANGE_UNSUPPRESS,	/* clear the key's suppression */
	CHANGE_MAX_
};

/* change flags: this host's own, never sent to the journal */
#define CHANGE_F_FORWARDED 0x01	/* in the outbox, not merged here: it takes
				   effect when the journal gives it back */

struct change {
	int	kind;				/* enum change_kind */
	int	flags;				/* CHANGE_F_* */
	char	key[CHANGE_KEY_MAX + 1];	/* address key, or domain key */
	char	list[REC_LIST_MAX + 1];		/* consent and confirm; else "" */
	struct evidence ev;			/* consent and confirm */
	struct suppression supp;		/* suppress */
	int64_t	made;				/* the writer's clock when made */
	char	origin[CHANGE_HOST_MAX + 1];	/* host id of the writer */
	unsigned char id[CHANGE_ID_LEN];	/* unique per origin */
};

/* change_init - an empty change of kind for key (copied), made at made. */
void	change_init(struct change *c, int kind, const char *key, int64_t made);

/*
 * change_check - 0 if every field of c is in range and fits the record
 * (kind, key, list, enums, flags, lengths, origin), -1 with the reason in
 * err.  Decoders run it on everything they read.
 */
int	change_check(const struct change *c, char *err, size_t errlen);

/* change_is_optout - 1 for an unsubscribe or a suppression: it may never
 * wait on the network, nor be lost (journal.h). */
int	change_is_optout(const struct change *c);

/*
 * change_merge - merge c into s (the subject stored under c->key) with
 * record.c's rules, as of c->made.  A confirmation finding nothing
 * pending or subscribed changes nothing.  Returns 1 if s changed, 0 if
 * not, -1 with errno (EINVAL: a bad change; E2BIG: too many lists).
 */
int	change_merge(struct subject *s, const struct change *c);

/*
 * change_apply - change_merge() on the value under c->key inside a
 * store_write() transaction, and write it back (a key left with nothing
 * is deleted).  Returns 1 if the store changed, 0 if not, -1 with the
 * reason in err (a store error, or what change_merge refused).
 */
int	change_apply(struct store_txn *t, const struct change *c, char *err,
	    size_t errlen);

/*
 * change_encode - c in the outbox's binary form into buf (cap octets;
 * CHANGE_ENC_MAX is always enough), its length in *lenp.  0, or -1 if c
 * does not pass change_check() or buf is too small.
 */
int	change_encode(const struct change *c, unsigned char *buf, size_t cap,
	    size_t *lenp);

/*
 * change_decode - a change from its binary form (change_encode), every
 * length and field checked.  0, or -1 with the reason in err.
 */
int	change_decode(const void *buf, size_t len, struct change *c, char *err,
	    size_t errlen);

/* change_new_id - a fresh random origin id (a version 4 UUID) into c. */
void	change_new_id(struct change *c);

/* change_id_format - id as a UUID ("xxxxxxxx-xxxx-...") into buf. */
char   *change_id_format(const unsigned char id[CHANGE_ID_LEN],
	    char buf[CHANGE_ID_TEXT]);

/* change_id_parse - a UUID's text (36 characters) into id; 0 / -1. */
int	change_id_parse(const char *s, size_t n, unsigned char id[CHANGE_ID_LEN]);

/* change_host_check - 0 if s is a valid host id ([A-Za-z0-9._-]{1,64}). */
int	change_host_check(const char *s);

/* Kind names as in the fleet journal: "consent", "confirm", "suppress",
 * "unsuppress"; parse returns -1 for anything else. */
const char *change_kind_name(int kind);
int	change_kind_parse(const char *s);

#endif
