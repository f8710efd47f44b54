/*
 * seal.h - sealed audit checkpoints: a forward-secure MAC chain.
 *
 * Time is cut into epochs of a fixed interval from t0.  The host holds
 * one key, K_e, for the epoch e it seals next; it seals an epoch once the
 * epoch is over, with a MAC under K_e of a checkpoint (the file, the
 * epoch, its start and end, the line count and the chain head), then
 * evolves the key, K_e+1 = KDF(K_e), and erases K_e.  Whoever takes the
 * host later holds a later key only, and cannot compute an earlier one:
 * yesterday's checkpoints cannot be made again.  The verifier holds K_0
 * (printed once, at keygen) and derives every K_e from it.
 *
 *   K_e+1     = crypto_kdf_derive_from_key(id 1, ctx "cmseal01", K_e)
 *   mackey_e  = crypto_kdf_derive_from_key(id 2, ctx "cmseal01", K_e)
 *   mac       = BLAKE2b-256(key mackey_e, seal_text(checkpoint))
 *
 * A checkpoint may cover a range of epochs (epoch..through): a filter
 * that was down seals the epochs it missed in one late checkpoint, under
 * the key of the first, and evolves past them all.
 *
 * The key file keeps the key in one of two slots (offsets 0 and 4096),
 * each with its own checksum.  Evolving writes the other slot, syncs, then
 * overwrites the old slot with zeros and syncs: the old key is erased in
 * place (a rename would leave it in the blocks of an unlinked inode), a
 * crash in between leaves one good slot, and no directory write is
 * needed, so the filter keeps the descriptor it opened as root.
 *
 * Pure functions (evolve, mac, text, format, parse, check) do no I/O.
 */
#ifndef SEAL_H
#define SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_BYTES		32
#define SEAL_MAC_BYTES		32
#define SEAL_HEX		65	/* 64 hex digits and a NUL */
#define SEAL_FILE_MAX		128	/* octets of a checkpoint's file name */
#define SEAL_LINE_MAX		768	/* a checkpoint as one JSON line */
#define SEAL_VERIFIER_MAX	96	/* "cmseal1:t0:interval:base64url(K0)" */
#define SEAL_INTERVAL_MIN	2	/* seconds: tests use a few */
#define SEAL_INTERVAL_MAX	86400
#define SEAL_INTERVAL_DEFAULT	900	/* 15 minutes, like journald's FSS */
#define SEAL_SEARCH_MAX		1000000	/* later keys tried to name a re-seal */

/* What the auditor keeps: K_0 and the epochs' clock. */
struct seal_verifier {
	int64_t	t0;			/* start of epoch 0, seconds */
	int64_t	interval;		/* seconds */
	unsigned char k0[SEAL_KEY_BYTES];
};

/* The host's key: the epoch it seals next, and that epoch's key. */
struct seal_key {
	int64_t	t0;
	int64_t	interval;
	uint64_t epoch;
	unsigned char key[SEAL_KEY_BYTES];
};

/* One checkpoint. */
struct seal_point {
	char	file[SEAL_FILE_MAX];	/* the log's name (its basename) */
	uint64_t epoch;			/* the first epoch covered, its key's */
	uint64_t through;		/* the last (== epoch but when late) */
	int64_t	start, end;		/* of epoch .. through, seconds */
	int64_t	sealed_ms;		/* when it was made */
	unsigned long long lines;	/* lines in the file before it */
	char	head[SEAL_HEX];		/* the chain value of the last of them */
	int	late;			/* not made at its end: the filter was
					   down, or could not write */
};

struct seal_keyfile;

/* seal_evolve - out = the key of the next epoch after in's (in == out allowed). */
void	seal_evolve(const unsigned char in[SEAL_KEY_BYTES],
	    unsigned char out[SEAL_KEY_BYTES]);

/*
 * A verifier's place in the chain of keys: the last key it derived, so
 * that a log's seals, in epoch order, cost one evolution each.
 */
struct seal_cursor {
	uint64_t epoch;
	unsigned char key[SEAL_KEY_BYTES];
};

/* seal_cursor_init - a cursor at K_0 of v. */
void	seal_cursor_init(struct seal_cursor *c, const struct seal_verifier *v);

/*
 * seal_key_at - K_epoch into out, from c onward (from v's K_0 when the
 * epoch is before c's); c moves to epoch.  c NULL: from K_0.
 */
void	seal_key_at(const struct seal_verifier *v, struct seal_cursor *c,
	    uint64_t epoch, unsigned char out[SEAL_KEY_BYTES]);

/* seal_epoch_start - when epoch e starts (t0 + e * interval). */
int64_t	seal_epoch_start(int64_t t0, int64_t interval, uint64_t e);

/* seal_epoch_at - the epoch time t falls in; 0 before t0. */
uint64_t seal_epoch_at(int64_t t0, int64_t interval, int64_t t);

/* seal_grace - how late a seal may come before an epoch counts as missing. */
int64_t	seal_grace(int64_t interval);

/*
 * seal_text - the canonical text a checkpoint's MAC covers, into buf;
 * its length, or 0 if it does not fit.
 */
size_t	seal_text(const struct seal_point *p, char *buf, size_t cap);

/* seal_mac - the MAC of p under the epoch key k. */
void	seal_mac(const unsigned char k[SEAL_KEY_BYTES], const struct seal_point *p,
	    unsigned char mac[SEAL_MAC_BYTES]);

/*
 * seal_format - p and its MAC as a JSON object without its closing brace
 * ({"v":1,"type":"seal",...,"mac":"..."), as the audit writer chains it;
 * the witness file and syslog add the brace.  Its length, or 0 if it does
 * not fit.
 */
size_t	seal_format(const struct seal_point *p,
	    const unsigned char mac[SEAL_MAC_BYTES], char *buf, size_t cap);

/*
 * seal_parse - a line that seal_format made (with or without a "chain"
 * field and the brace after it) back into p and mac.  0, or -1 if it is
 * not one (every field in its place, every value checked).
 */
int	seal_parse(const char *line, size_t len, struct seal_point *p,
	    unsigned char mac[SEAL_MAC_BYTES]);

/*
 * seal_check - whether mac is p's under the key of p's epoch: 1 it is;
 * 0 it is not, but is under a later epoch's key (*by that epoch: sealed
 * again by whoever held that later key), searching up to upto (at most
 * SEAL_SEARCH_MAX keys on); -1 it is under no key tried.  c as for
 * seal_key_at.
 */
int	seal_check(const struct seal_verifier *v, struct seal_cursor *c,
	    const struct seal_point *p, const unsigned char mac[SEAL_MAC_BYTES],
	    uint64_t upto, uint64_t *by);

/* seal_verifier_format - "cmseal1:<t0>:<interval>:<base64url K0>"; 0 / -1. */
int	seal_verifier_format(const struct seal_verifier *v, char *buf,
	    size_t cap);

/*
 * seal_verifier_parse - that string, or a file whose first line it is
 * (so that the secret need not be on a command line); 0, or -1 with err.
 */
int	seal_verifier_parse(const char *arg, struct seal_verifier *v, char *err,
	    size_t errlen);

/*
 * seal_key_create - a new key file at path (mode 0600, never over an
 * existing file): a random K_0 for epochs of interval seconds from now
 * rounded down to the interval.  *v is what the auditor keeps.  0, or -1
 * with err.
 */
int	seal_key_create(const char *path, int64_t now, int64_t interval,
	    struct seal_verifier *v, char *err, size_t errlen);

/*
 * seal_key_open - open the key file for reading and writing; it must be
 * readable by its owner only.  The slot with the newest epoch wins; a
 * second good slot (a crash mid-evolve) is erased.  On success *kp owns
 * it (seal_key_close).  0, or -1 with err.
 */
int	seal_key_open(struct seal_keyfile **kp, const char *path, char *err,
	    size_t errlen);

/* seal_keyfile_key - the key as it stands (owned by kf). */
const struct seal_key *seal_keyfile_key(const struct seal_keyfile *kf);

/*
 * seal_key_advance - evolve the key to epoch to (> its epoch), write it
 * to the free slot, sync, erase the old slot, sync.  The old keys are
 * gone from memory either way.  0, or -1 with err (the file may still
 * hold the old key; the key in memory is the new one).
 */
int	seal_key_advance(struct seal_keyfile *kf, uint64_t to, char *err,
	    size_t errlen);

/* seal_key_close - wipe and close; NULL is a no-op. */
void	seal_key_close(struct seal_keyfile *kf);

#endif
