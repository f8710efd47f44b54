/*
 * record.h - the consent record model and its on-disk codec.
 *
 * One value per store key.  An address key holds its suppression (if any)
 * and its consent for each list, with the evidence of every change; a
 * domain key holds a suppression only.  Values are versioned, big-endian
 * and decoded with length checks; the merge rules that make imports safe
 * and idempotent live here too, as pure functions.
 */
#ifndef RECORD_H
#define RECORD_H

#include <stddef.h>
#include <stdint.h>

#define REC_FORMAT	2	/* value format written by this build (1 is read too) */
#define REC_LIST_MAX	64	/* octets in a list name */
#define REC_IP_MAX	45	/* octets in an IP address as text */
#define REC_NOTE_MAX	200	/* octets in a free-text note */
#define REC_REF_MAX	250	/* octets in a suppression reference */
#define REC_EVENTS_MAX	8	/* evidence kept per list: the first and the newest */
#define REC_LISTS_MAX	256	/* lists per address */
#define REC_DEFAULT_LIST "default"

/* evidence and suppression flags */
#define REC_F_TIME_UNKNOWN 0x01	/* imported without a timestamp: fills gaps only */

enum consent_status {
	CS_NONE = 0,
	CS_PENDING,		/* double opt-in asked, not confirmed */
	CS_SUBSCRIBED,		/* single opt-in */
	CS_CONFIRMED,		/* double opt-in confirmed */
	CS_UNSUBSCRIBED,
	CS_MAX_
};

enum supp_reason {
	SR_NONE = 0,
	SR_UNSUBSCRIBED_ALL,
	SR_HARD_BOUNCE,
	SR_COMPLAINT,
	SR_INVALID,
	SR_MANUAL,
	SR_SOFT_BOUNCE,
	SR_MAX_
};

enum rec_source {
	SRC_UNKNOWN = 0,
	SRC_FORM,
	SRC_IMPORT,
	SRC_API,
	SRC_ONECLICK,
	SRC_MAILTO,
	SRC_ADMIN,
	SRC_BOUNCE,
	SRC_COMPLAINT,
	SRC_DOI,		/* the person's own click on a confirmation link */
	SRC_MAX_
};

/* One change of consent, with the evidence an auditor asks for. */
struct evidence {
	int64_t	time;			/* seconds since the epoch, UTC */
	uint8_t	status;			/* enum consent_status */
	uint8_t	source;			/* enum rec_source */
	uint8_t	flags;			/* REC_F_* */
	char	ip[REC_IP_MAX + 1];	/* "" when unknown */
	char	note[REC_NOTE_MAX + 1];	/* "" when none */
};

struct list_consent {
	char	list[REC_LIST_MAX + 1];
	uint8_t	status;			/* current status: that of the newest change */
	int64_t	changed;		/* time of the newest change */
	unsigned nev;
	struct evidence ev[REC_EVENTS_MAX];	/* oldest first */
};

struct suppression {
	uint8_t	reason;			/* enum supp_reason */
	uint8_t	source;			/* enum rec_source */
	uint8_t	flags;			/* REC_F_* */
	int64_t	created;
	int64_t	expires;		/* 0: never */
	char	ref[REC_REF_MAX + 1];	/* Message-ID, feedback id, ... */
	char	note[REC_NOTE_MAX + 1];
};

/* Everything stored under one key. */
struct subject {
	int	has_supp;
	struct suppression supp;
	unsigned nlists;
	struct list_consent *lists;	/* owned; sorted by name */
};

/* What the hot path needs of a value, without a full decode. */
struct consent_view {
	uint8_t	status;
	uint8_t	source;
	int64_t	changed;
};

struct supp_view {
	uint8_t	reason;
	uint8_t	source;
	int64_t	created;
	int64_t	expires;
};

/* subject_init - an empty subject; subject_clear frees what it owns. */
void	subject_init(struct subject *);
void	subject_clear(struct subject *);

/*
 * record_encode - serialise s, in format REC_FORMAT, into a newly
 * allocated buffer (*bufp, *lenp); the caller frees it.  Returns 0, or -1
 * (ENOMEM, or a field out of range).
 */
int	record_encode(const struct subject *s, unsigned char **bufp, size_t *lenp);

/*
 * record_encode_into - serialise s into buf (cap octets) and set *lenp;
 * with buf NULL, only measure.  Returns 0, or -1 (a field out of range, or
 * cap too small).
 */
int	record_encode_into(const struct subject *s, unsigned char *buf,
	    size_t cap, size_t *lenp);

/*
 * record_decode - parse a value of format 1 or 2 into s (initialised by
 * the caller; what it held is freed first).  Every length, enum and varint
 * is checked.  Returns 0, or -1 with the reason in err; a value of a newer
 * format says so.
 */
int	record_decode(const void *buf, size_t len, struct subject *s,
	    char *err, size_t errlen);

/*
 * record_peek - read the suppression and one list's consent from a value
 * (format 1 or 2), without allocating.  *has_supp and *has_consent tell what was found.
 * Returns 0, or -1 if the value is malformed: every value record_decode()
 * refuses, whatever list is asked for (the caller fails closed).
 */
int	record_peek(const void *buf, size_t len, const char *list,
	    int *has_supp, struct supp_view *sv,
	    int *has_consent, struct consent_view *cv);

/*
 * record_apply_consent - merge one change into s for list, the safe way:
 * the newer change wins; at equal times an unsubscribe wins; a change
 * already recorded is a no-op; a later pending or single opt-in does not
 * downgrade a confirmed subscription (a newer single opt-in renews it); an
 * opt-in flagged REC_F_TIME_UNKNOWN only fills a list that has no entry
 * yet, while such an unsubscribe applies as of its time (when it was read)
 * and holds against older dated opt-ins.  Returns 1 if s changed, 0 if not,
 * -1 on allocation failure or too many lists.
 */
int	record_apply_consent(struct subject *s, const char *list,
	    const struct evidence *ev);

/*
 * record_apply_supp - merge a suppression into s.  A hard bounce, complaint
 * or invalid suppression is never replaced by a weaker one (only an explicit
 * unsuppress clears it); between two of one kind the one in force longer
 * wins (never expiring the longest: an unsubscribe from every list is not
 * replaced by a soft bounce that ends in 30 days), then the newer; an
 * expired one (relative to now) always gives way; one flagged
 * REC_F_TIME_UNKNOWN is set only where there is none.  Returns 1 if s
 * changed, 0 if not.
 */
int	record_apply_supp(struct subject *s, const struct suppression *sp,
	    int64_t now);

/* record_find_list - the list's entry in s, or NULL. */
struct list_consent *record_find_list(const struct subject *s, const char *list);

/* record_list_check - 0 if name is a valid list name ([a-z0-9._-]{1,64}), -1 with err. */
int	record_list_check(const char *name, char *err, size_t errlen);

/* record_list_norm - lowercase in into out (REC_LIST_MAX + 1 octets) and check it. */
int	record_list_norm(const char *in, char *out, char *err, size_t errlen);

/* record_supp_sticky - 1 for reasons that only unsuppress may clear. */
int	record_supp_sticky(int reason);

/* Names <-> enums, as used on the command line, in JSON and in logs. */
const char *record_status_name(int);
const char *record_reason_name(int);
const char *record_source_name(int);
int	record_status_parse(const char *);	/* -1 if unknown */
int	record_reason_parse(const char *);
int	record_source_parse(const char *);

#endif
