/*
 * fbaudit.c - feedback results as lines of the audit trail's format
 * (fbaudit_write in fbplan.h), for the audit report's bounce and
 * complaint rates.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/audit.h"
#include "ctl/fbplan.h"
#include "util/util.h"

/* result - what a change was: hard, soft, policy, complaint, ignore. */
static const char *
result(const struct fb_change *ch)
{
	if (ch->op == FBO_SUPPRESS && ch->supp.reason == SR_COMPLAINT)
		return "complaint";
	if (ch->op == FBO_RESET)
		return "delivered";
	return fbclass_name(ch->class_);
}

int
fbaudit_write(const struct fb_ctx *ctx, const struct fb_change *chs,
    unsigned nch, int queued, const char *channel, char *err, size_t errlen)
{
	struct audit_entry *e;
	struct audit *a;
	size_t n = 0;
	int fd, rc;

	if (ctx->audit_file == NULL || ctx->audit_file[0] == '\0' || nch == 0)
		return 0;
	if ((e = calloc(nch, sizeof(*e))) == NULL)
		return util_fail(err, errlen, "out of memory");
	for (unsigned i = 0; i < nch; i++) {
		const struct fb_change *ch = &chs[i];

		if (ch->op == FBO_RESET)
			continue;	/* not feedback about a message */
		e[n].type = "feedback";
		e[n].time_ms = (ch->supp.created ? ch->supp.created : ctx->now) *
		    1000;
		e[n].qid = ch->qid;
		e[n].msgid = ch->supp.ref;
		e[n].list = ch->list;
		e[n].rcpt = ch->key;
		e[n].reason = result(ch);
		e[n].outcome = queued ? "queued" : ch->op != FBO_NONE ?
		    "applied" : "reported";
		e[n].stage = channel;
		e[n].ev_kind = ch->status[0] ? "status" : NULL;
		e[n].ev_value = ch->status;
		n++;
	}
	if (n == 0) {
		free(e);
		return 0;
	}
	/* One writer at a time: the chain goes from the last line on disk. */
	if ((fd = open(ctx->audit_file, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0640)) == -1 || flock(fd, LOCK_EX) == -1) {
		rc = util_fail(err, errlen, "%s: %s", ctx->audit_file,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		free(e);
		return rc;
	}
	rc = audit_open(&a, ctx->audit_file, ctx->audit_key, err, errlen);
	if (rc == 0) {
		if ((rc = audit_write(a, e, n)) == -1)
			util_fail(err, errlen, "%s: %s", ctx->audit_file,
			    strerror(errno));
		audit_close(a);
	}
	close(fd);
	free(e);
	return rc;
}
