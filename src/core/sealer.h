/*
 * sealer.h - the host's side of sealed checkpoints: at the end of each
 * epoch, a checkpoint of the audit log is written into the log itself
 * (a chained "seal" line), to the witness file and to syslog, and the
 * sealing key evolves past the epoch.  An epoch without lines is sealed
 * too; epochs missed while the filter was down are sealed, late, in one
 * checkpoint that names them.
 *
 * The order is what makes a crash safe: the seal line is on disk
 * (fdatasync) before the key that made it is erased; the key is evolved
 * before the next epoch can be sealed.  A crash between the two leaves
 * the old key with its seal already in the log: at open the last seal
 * in the log's tail is checked, and if the key made it, the key evolves
 * past it rather than sealing the epoch twice.
 *
 * Driven from one thread (the filter's main loop); it shares the log
 * with the decision writers through the audit writer's lock only.
 */
#ifndef SEALER_H
#define SEALER_H

#include <stddef.h>
#include <stdint.h>

#include "core/audit.h"
#include "core/seal.h"

struct sealer;

/*
 * sealer_open - seal the log a (its path: logpath, whose basename the
 * checkpoints name) with the key file kf, copying each checkpoint to
 * the witness file (appended, synced; NULL or "" for none).  The sealer
 * owns kf from here on, even on failure.  0, or -1 with err.
 */
int	sealer_open(struct sealer **sp, struct seal_keyfile *kf, struct audit *a,
	    const char *logpath, const char *witness, char *err, size_t errlen);

/*
 * sealer_tick - seal every epoch over by now_ms (milliseconds since the
 * epoch).  1 a checkpoint was written, 0 none was due, -1 with err (the
 * log could not take it: tried again at the next tick, and then names
 * every epoch it covers, late).  A witness or key file that cannot be
 * written is logged, not an error: the checkpoint is in the log.
 */
int	sealer_tick(struct sealer *s, int64_t now_ms, char *err, size_t errlen);

/* sealer_reopen - reopen the witness file (after it was rotated). */
void	sealer_reopen(struct sealer *s);

/* sealer_epoch - the epoch the sealer seals next. */
uint64_t sealer_epoch(const struct sealer *s);

/* sealer_close - wipe the key, close the files; NULL is a no-op. */
void	sealer_close(struct sealer *s);

#endif
