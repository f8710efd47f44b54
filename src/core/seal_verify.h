/*
 * seal_verify.h - the auditor's side of sealed checkpoints: given K_0
 * (the verifier key), follow an audit log's lines and checkpoints, file
 * after file of a rotated series, and name what the chain alone cannot:
 *
 *   forged        a checkpoint that verifies under no key of this verifier
 *   resealed      one made with a later epoch's key than its own: whoever
 *                 held the host's key then made it again
 *   rewritten     a genuine checkpoint whose head or line count is not
 *                 the file's: lines before it changed, and the chain was
 *                 recomputed (a file rewritten whole with a fresh chain)
 *   missing       epochs without a checkpoint between two that have one
 *   cut           lines past the end of an epoch that has no checkpoint,
 *                 or a witness checkpoint newer than the log's last: the
 *                 log was cut, and maybe continued
 *   witness       a witness checkpoint whose epoch the log seals otherwise
 *
 * and notes what is honest but worth saying: epochs sealed late (the
 * filter was down), an epoch sealed twice by its own key (a restart
 * between sealing and evolving the key), a last checkpoint long ago.
 * Used as audit_verify_lines' line callback (audit.h).
 */
#ifndef SEAL_VERIFY_H
#define SEAL_VERIFY_H

#include <stdint.h>
#include <stdio.h>

#include "core/seal.h"

#define SEAL_FAIL	2	/* evidence of tampering */
#define SEAL_WARN	1	/* worth a look, not proof of anything */
#define SEAL_NOTE	0	/* honest, and said */

struct seal_finding {
	int	level;			/* SEAL_FAIL, SEAL_WARN, SEAL_NOTE */
	const char *what;		/* "forged", "resealed", "rewritten", ... */
	const char *file;		/* the log or witness file */
	unsigned long line;		/* 0: the file as a whole */
	char	text[640];
};

typedef void seal_finding_fn(void *arg, const struct seal_finding *f);

/* What the run found, for the last line of the report. */
struct seal_summary {
	unsigned long seals;		/* checkpoints in the logs */
	unsigned long genuine;		/* of which made by their epoch's key */
	unsigned long late;		/* of which late */
	uint64_t first, last;		/* epochs covered, when seals > 0 */
	int64_t	last_end;		/* the end of the last epoch covered */
	unsigned long witnessed;	/* witness checkpoints matched */
	unsigned long failures, warnings;
};

struct seal_verify;

/*
 * seal_verify_new - a run for verifier v at now (seconds), reporting
 * each finding to fn.  *sp owns the run (seal_verify_free).  0 / -1
 * (out of memory).
 */
int	seal_verify_new(struct seal_verify **sp, const struct seal_verifier *v,
	    int64_t now, seal_finding_fn *fn, void *arg);

/* seal_verify_file - the lines that follow are those of file name. */
void	seal_verify_file(struct seal_verify *sv, const char *name);

/* seal_verify_line - an audit_line_fn: arg is the run. */
void	seal_verify_line(void *arg, unsigned long ln, int kind, const char *line,
	    size_t len, const char *prev);

/*
 * seal_verify_witness - read a witness file (one checkpoint a line, as
 * the filter appends them) to compare at the end; 0, or -1 (read error,
 * out of memory: said through fn).
 */
int	seal_verify_witness(struct seal_verify *sv, FILE *fp, const char *name);

/* seal_verify_end - the checks of the series as a whole, and the summary. */
void	seal_verify_end(struct seal_verify *sv, struct seal_summary *sum);

/* seal_verify_free - NULL is a no-op. */
void	seal_verify_free(struct seal_verify *sv);

#endif
