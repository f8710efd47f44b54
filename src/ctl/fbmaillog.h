/*
 * fbmaillog.h - the mail-log channel of consentctl feedback: what our own
 * Postfix was told.
 *
 * Each delivery line of the mail log (maillog_scan) with status=bounced is
 * classified by its dsn= and the remote server's words (fbclass): hard
 * and soft failures are recorded as the mail channel records them, with
 * the relay, the text, the queue id and the Message-ID (from cleanup's
 * line, when it was seen) as evidence, and the line's own time.  A line
 * is applied only with proof: qmgr's line for the same queue id names a
 * signed return path (fbtag.h) made for that recipient.  The text of the
 * log proves nothing alone: any local user can write Postfix's lines to
 * it with logger(1).  An unproven failure is counted and reported, never
 * written.  A proven status=sent line for an address with a soft count
 * clears it.
 * status=deferred is not a failure: Postfix still retries.  Changes are
 * written in batches of up to 4096, each one transaction, through
 * fb_record(), at the latest at the end of what there is to read.
 */
#ifndef FBMAILLOG_H
#define FBMAILLOG_H

#include <stdint.h>
#include <sys/types.h>

#include "ctl/fbplan.h"

struct fbml_stats {
	uint64_t lines;		/* read */
	uint64_t bounced;	/* status=bounced */
	uint64_t hard, soft, policy;	/* by class */
	uint64_t cleared;	/* soft counts cleared by a delivery */
	uint64_t changed;	/* changes that changed the store */
	uint64_t skipped;	/* lines longer than the bound, or addresses
				 * that do not normalise */
	uint64_t unproven;	/* failures without a signed return path */
};

struct fbml;

/* fbml_new - a channel writing to st with ctx (both outlive it); NULL if out of memory. */
struct fbml *fbml_new(const struct fb_ctx *ctx, struct store *st);

/* fbml_free - free m (after a last fbml_flush); NULL is a no-op. */
void	fbml_free(struct fbml *m);

/* fbml_line - one mail log line (len octets, no newline); 0, or -1 with
 * err when a batch it filled could not be written. */
int	fbml_line(struct fbml *m, const char *line, size_t len, char *err,
	    size_t errlen);

/* fbml_flush - write the changes still pending; 0 / -1 with err. */
int	fbml_flush(struct fbml *m, char *err, size_t errlen);

/*
 * fbml_read - every line of fd from its offset *off to its end, *off
 * moved past the last whole line read (and past a last line without a
 * newline, with final set).  Pending changes are flushed.  0 / -1.
 */
int	fbml_read(struct fbml *m, int fd, off_t *off, int final, char *err,
	    size_t errlen);

/*
 * fbml_follow - read path as it grows, across rotation (renamed to
 * path.1 and made anew, or truncated), saving the position (device,
 * inode, offset) in posfile after each batch, and going on from it at the
 * next start (the rest of path.1 first when path was rotated meanwhile).
 * wait(ms) sleeps up to ms and returns non-zero when it is time to stop.
 * 0 when stopped, -1 with err.
 */
int	fbml_follow(struct fbml *m, const char *path, const char *posfile,
	    int (*wait)(int ms), char *err, size_t errlen);

/* fbml_stats - the counts so far. */
const struct fbml_stats *fbml_stats(const struct fbml *m);

#endif
