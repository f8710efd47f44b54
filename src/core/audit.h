/*
 * audit.h - the audit trail: one JSON line per recipient decision,
 * appended whole, chained by hash so that a deleted, edited or reordered
 * line is detected, with recipients pseudonymised by a keyed HMAC.
 *
 * Line i carries "chain": hex SHA-256 of (chain of line i-1 || the line's
 * text up to ',"chain"').  A file opens with a line of type "open" that
 * names the chain value it continues from, so a rotated file verifies on
 * its own and a series verifies across files.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define AUDIT_KEY_BYTES		32
#define AUDIT_HASH_HEX		65	/* 64 hex digits and a NUL */
#define AUDIT_PSEUDO_MAX	72	/* "h:" and 32 hex digits, or an address */
#define AUDIT_LINE_MAX		4096

struct audit;

/* What one decision line says; NULL or "" fields are left out. */
struct audit_entry {
	int64_t	time_ms;
	const char *qid;
	const char *msgid;
	const char *sender;
	const char *list;
	const char *class_;	/* "bulk" or "transactional" */
	const char *rcpt;	/* the store key; pseudonymised unless plain */
	const char *verdict;	/* allow, deny, tempfail */
	const char *reason;
	const char *action;
	const char *stage;	/* rcpt, eom */
	const char *outcome;	/* delivered, removed, rejected, discarded, ... */
	/* The record the decision rests on. */
	const char *ev_kind;	/* consent, suppression, or NULL */
	const char *ev_value;	/* status or reason */
	const char *ev_source;
	int64_t	ev_time;
	const char *ev_key;	/* where a suppression was found (domain keys) */
};

/*
 * audit_open - open (creating, mode 0640) path for appending and find the
 * chain value of its last whole line.  key is the pseudonym key (NULL
 * writes plain addresses).  On success *ap owns the log.  0, or -1 with err.
 */
int	audit_open(struct audit **ap, const char *path,
	    const unsigned char *key, char *err, size_t errlen);

/* audit_reopen - after rotation: reopen the path, the chain continues. */
int	audit_reopen(struct audit *a, char *err, size_t errlen);

/*
 * audit_write - append the entries as lines, each with one write(2) under
 * the log's lock.  Returns 0, or -1 (errno set) if any line failed: the
 * caller decides whether that tempfails the message.
 */
int	audit_write(struct audit *a, const struct audit_entry *e, size_t n);

/* audit_close - close; NULL is a no-op. */
void	audit_close(struct audit *a);

/* audit_pseudonym - "h:" + the first 32 hex digits of HMAC-SHA-256(key, addr). */
void	audit_pseudonym(const unsigned char *key, const char *addr,
	    char out[AUDIT_PSEUDO_MAX]);

/* audit_key_load - a key file as made by token_key_write; 0 / -1 with err. */
int	audit_key_load(const char *path, unsigned char key[AUDIT_KEY_BYTES],
	    char *err, size_t errlen);

/*
 * audit_chain_line - check one line against the previous chain value.
 * On success copies its chain value into next and returns 0; -1 if the
 * line is not whole, has no chain, or its chain does not follow prev.
 * An "open" line may name prev itself; *is_open tells.
 */
int	audit_chain_line(const char *line, size_t len, const char *prev,
	    char next[AUDIT_HASH_HEX], int *is_open, char *openprev);

/*
 * audit_verify - check every line of fp.  chain/have_chain carry the
 * chain across the files of a rotated series (start with have_chain 0).
 * Returns 0, or -1 with *bad the first broken line and err saying why.
 */
int	audit_verify(FILE *fp, char chain[AUDIT_HASH_HEX], int *have_chain,
	    unsigned long *nlines, unsigned long *bad, char *err, size_t errlen);

#endif
