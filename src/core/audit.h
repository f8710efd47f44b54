/*
 * audit.h - the audit trail: one JSON line per recipient decision,
 * appended whole, chained by hash so that a deleted, edited or reordered
 * line is detected, with recipients pseudonymised by a keyed HMAC.
 *
 * Line i carries "chain": hex SHA-256 of (chain of line i-1 || the line's
 * text up to ',"chain"').  A file opens with a line of type "open" that
 * names the chain value it continues from, so a rotated file verifies on
 * its own and a series verifies across files.
 *
 * A write that fails (a full disk) is cut back to where it began, so the
 * file keeps whole lines only and the chain goes on from the last line on
 * disk; the next line written is then a "gap" line, chained like any
 * other, that names what is missing: the decision lines not written, and
 * any torn bytes found after the last whole line (a crash mid-write) and
 * cut off.  Where the file cannot be cut (append-only), torn bytes stay,
 * each torn line ended with "~" so that it never passes for a whole one,
 * and the gap line that follows them gives their length and SHA-256.
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
	const char *type;	/* NULL for a decision; "feedback" (consentctl) */
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
 * chain value of its last whole line; torn bytes after it (a crash
 * mid-write) are cut off and named by a gap line.  key is the pseudonym
 * key (NULL writes plain addresses).  On success *ap owns the log.  0, or
 * -1 with err.
 */
int	audit_open(struct audit **ap, const char *path,
	    const unsigned char *key, char *err, size_t errlen);

/*
 * audit_reopen - after rotation: reopen the path, the chain continues.
 * -1 with err if the new file's first lines cannot be written yet: they
 * are written before the next decision.
 */
int	audit_reopen(struct audit *a, char *err, size_t errlen);

/*
 * audit_write - append the entries as lines, each with one write(2) under
 * the log's lock (a gap line first, after a failure).  A line that cannot
 * be written whole is cut off.  Returns 0, or -1 (errno set) if any line
 * failed: the caller decides whether that tempfails the message.
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

/* What audit_chain_line found: a decision, an "open" or a "gap" line. */
#define AUDIT_LINE_DECISION	0
#define AUDIT_LINE_OPEN		1
#define AUDIT_LINE_GAP		2

/*
 * audit_chain_line - check one line against the previous chain value.
 * On success copies its chain value into next and returns 0; -1 if the
 * line is not whole, has no chain, or its chain does not follow prev.
 * An "open" or "gap" line names prev itself (copied into openprev when
 * not NULL) and may start a file; *kind tells which line it was.
 */
int	audit_chain_line(const char *line, size_t len, const char *prev,
	    char next[AUDIT_HASH_HEX], int *kind, char *openprev);

/* What one gap line says, for audit_verify's caller. */
struct audit_gap {
	unsigned long line;		/* the gap line */
	unsigned long long offset;	/* where it starts in the file */
	unsigned long lost;		/* decision lines not written */
	char	since[32], until[32];	/* their times, when lost */
	char	error[128];		/* why, as strerror(3) put it */
	int	crash;			/* the log ended torn when opened */
	int	torn;			/* torn bytes followed the last line */
	unsigned long long at;		/* where they began */
	unsigned long long removed;	/* how many were cut off */
	unsigned long long kept;	/* how many are still there */
	unsigned long torn_first, torn_last;	/* the kept torn lines */
};

typedef void audit_gap_fn(void *arg, const struct audit_gap *g);

/*
 * audit_verify - check every line of fp.  chain/have_chain carry the
 * chain across the files of a rotated series (start with have_chain 0).
 * Each gap line is passed to gapfn (unless NULL) once its chain and the
 * torn lines it names check out.  Returns 0, or -1 with *bad the first
 * broken line and err saying why.
 */
int	audit_verify(FILE *fp, char chain[AUDIT_HASH_HEX], int *have_chain,
	    unsigned long *nlines, unsigned long *bad, audit_gap_fn *gapfn,
	    void *arg, char *err, size_t errlen);

#endif
