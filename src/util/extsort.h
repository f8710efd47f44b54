/*
 * extsort.h - an external sort of key/value records in bounded memory.
 *
 * Records are added in any order and read back in key order (memcmp, a
 * shorter key first when one is a prefix of the other: LMDB's order).
 * The sort is stable: records with equal keys come back in the order
 * they were added.  While the records fit in the budget they stay in
 * memory; beyond it, sorted runs are spilled to one temporary file
 * (unlinked as soon as it is made) and read back by a k-way merge.
 * Generic: it knows nothing of what the records mean.
 */
#ifndef EXTSORT_H
#define EXTSORT_H

#include <stddef.h>
#include <stdint.h>

#define EXTSORT_KEY_MAX	65535		/* octets in a key */
#define EXTSORT_VAL_MAX	(1u << 20)	/* octets in a value */

struct extsort;

/*
 * extsort_new - a sorter holding at most budget octets of records and
 * their index in memory (at least 64 KiB is used); a spill goes to a
 * temporary file made in dir.  On success *xp is the caller's, to free
 * with extsort_free().  Returns 0, or -1 with err filled.
 */
int	extsort_new(struct extsort **xp, const char *dir, size_t budget,
	    char *err, size_t errlen);

/*
 * extsort_add - copy one record in (before extsort_finish()).  Returns 0,
 * or -1 with errno: E2BIG (key or value too long), or a write error of
 * the spill file (ENOSPC, EIO).
 */
int	extsort_add(struct extsort *x, const void *key, size_t klen,
	    const void *val, size_t vlen);

/*
 * extsort_finish - no more records: sort what is in memory, and keep it
 * there if it takes at most a quarter of the budget; otherwise (runs
 * spilled already, or a big last one) spill it too and free the sort
 * buffer, so that reading holds only the merge's buffers, and the caller
 * has the memory for its own work.  Returns 0, or -1 with errno.
 */
int	extsort_finish(struct extsort *x);

/*
 * extsort_rewind - (re)start reading the records in order; after
 * extsort_finish(), as often as needed.  Returns 0, or -1 with errno.
 */
int	extsort_rewind(struct extsort *x);

/*
 * extsort_next - the next record in order: key and value point into the
 * sorter and stay valid until the next call.  Returns 1, 0 at the end,
 * or -1 with errno (a read error, or EIO for a spill file cut short).
 */
int	extsort_next(struct extsort *x, const void **key, size_t *klen,
	    const void **val, size_t *vlen);

/* extsort_count - records added; extsort_runs - runs spilled (0: in memory). */
uint64_t extsort_count(const struct extsort *x);
unsigned extsort_runs(const struct extsort *x);

/* extsort_spilled - octets written to the spill file. */
uint64_t extsort_spilled(const struct extsort *x);

/* extsort_free - free the sorter and close its file; NULL is a no-op. */
void	extsort_free(struct extsort *x);

#endif
