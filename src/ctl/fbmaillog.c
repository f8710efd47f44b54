/*
 * fbmaillog.c - the mail-log channel (see fbmaillog.h).  The lines are
 * read by maillog_scan, the one scanner the audit report uses too.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/fbtag.h"
#include "ctl/fbmaillog.h"
#include "ctl/maillog.h"
#include "util/time.h"
#include "util/util.h"

#define CACHE_SLOTS	8192		/* queue id -> Message-ID, direct-mapped */
#define SENDER_SETS	16384		/* queue id -> signed sender: 4-way sets */
#define SENDER_WAYS	4
#define SENDER_MAX	127		/* octets of a sender kept; longer: none */
#define LINE_MAX_LEN	(64 * 1024)	/* longer lines are skipped */
#define READ_CHUNK	(256 * 1024)
#define BATCH		4096		/* changes per transaction */
#define SOFTSET		(2 * BATCH)	/* hashes of keys counted in the batch */

struct msgid_slot {
	char	qid[33];
	char	msgid[REC_REF_MAX + 1];	/* cleanup's, or "" */
};

/*
 * The signed senders of the messages in flight, from qmgr's from= line to
 * its "removed": the proof of a bounce line, which may come minutes after
 * (a slow server).  Set-associative with the oldest of a set replaced, and
 * emptied at "removed", so that a busy log (Postfix keeps up to 20,000
 * messages active) loses almost none; one lost is only a bounce reported,
 * not applied.
 */
struct sender_slot {
	char	qid[33];		/* "" empty */
	char	sender[SENDER_MAX + 1];
	uint64_t seen;			/* the line count when stored */
};

struct fbml {
	const struct fb_ctx *ctx;
	struct store *st;
	struct fb_change *batch;	/* BATCH changes, one transaction */
	unsigned nbatch;
	uint64_t *softset;		/* SOFTSET slots, 0 empty: soft in batch */
	struct fbml_stats stats;
	struct time_memo memo;
	struct msgid_slot *cache;
	struct sender_slot *senders;	/* SENDER_SETS * SENDER_WAYS */
	char	*buf;			/* READ_CHUNK + LINE_MAX_LEN */
	size_t	carry;			/* octets of a line begun in buf */
	int	skipping;		/* inside a line over the bound */
};

struct fbml *
fbml_new(const struct fb_ctx *ctx, struct store *st)
{
	struct fbml *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->cache = calloc(CACHE_SLOTS, sizeof(*m->cache));
	m->senders = calloc((size_t)SENDER_SETS * SENDER_WAYS,
	    sizeof(*m->senders));
	m->buf = malloc(READ_CHUNK + LINE_MAX_LEN);
	m->batch = calloc(BATCH, sizeof(*m->batch));
	m->softset = calloc(SOFTSET, sizeof(*m->softset));
	if (m->cache == NULL || m->senders == NULL || m->buf == NULL ||
	    m->batch == NULL || m->softset == NULL) {
		fbml_free(m);
		return NULL;
	}
	m->ctx = ctx;
	m->st = st;
	time_memo_year(&m->memo, ctx->now);
	return m;
}

void
fbml_free(struct fbml *m)
{
	if (m == NULL)
		return;
	free(m->cache);
	free(m->senders);
	free(m->buf);
	free(m->batch);
	free(m->softset);
	free(m);
}

const struct fbml_stats *
fbml_stats(const struct fbml *m)
{
	return &m->stats;
}

/* qid_hash - FNV-1a of a queue id. */
static uint32_t
qid_hash(struct util_str qid)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < qid.n; i++)
		h = (h ^ (unsigned char)qid.p[i]) * 16777619u;
	return h;
}

/* slot - the Message-ID cache slot of a queue id. */
static struct msgid_slot *
slot(struct fbml *m, struct util_str qid)
{
	return &m->cache[qid_hash(qid) % CACHE_SLOTS];
}

/* copy - a view into a NUL-terminated buffer, cut to fit. */
static void
copy(struct util_str v, char *out, size_t outlen)
{
	size_t n = v.n < outlen - 1 ? v.n : outlen - 1;

	memcpy(out, v.p != NULL ? v.p : "", n);
	out[n] = '\0';
}

/* line_time - the line's time, or now if it cannot be read. */
static int64_t
line_time(struct fbml *m, const struct maillog_line *l)
{
	int64_t t;

	if (l->classic ? time_syslog(&m->memo, l->time.p, &t) == 0 :
	    time_rfc3339_ms(&m->memo, l->time.p, l->time.n, &t) == 0 &&
	    (t /= 1000, 1))
		return t <= m->ctx->now ? t : m->ctx->now;
	return m->ctx->now;
}

/* key_hash - a key's hash for the soft set, never 0. */
static uint64_t
key_hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return h | 1;
}

/*
 * pending_soft - 1 if the batch may count a soft bounce of key (a false
 * yes only costs a reset that changes nothing); with add, note that it
 * does.
 */
static int
pending_soft(struct fbml *m, const char *key, int add)
{
	uint64_t h = key_hash(key);
	size_t i = (size_t)h & (SOFTSET - 1);

	while (m->softset[i] != 0 && m->softset[i] != h)
		i = (i + 1) & (SOFTSET - 1);
	if (add)
		m->softset[i] = h;
	return m->softset[i] == h;
}

/* evidence - the bounce's evidence into ch. */
static void
evidence(struct fbml *m, struct fb_change *ch, const struct maillog_line *l,
    int64_t t)
{
	char relay[FBP_HOST_MAX + 1], qid[33], raw[FBP_DIAG_MAX + 1];
	char detail[FBP_DIAG_MAX + 1], text[REC_NOTE_MAX + FBP_DIAG_MAX + 400];
	const struct msgid_slot *s = slot(m, l->qid);
	size_t n;

	copy(l->relay, relay, sizeof(relay));
	copy(l->qid, qid, sizeof(qid));
	util_strlcpy(ch->qid, qid, sizeof(ch->qid));
	copy(l->detail, raw, sizeof(raw));
	util_sanitize(raw, strlen(raw), detail, sizeof(detail));
	ch->supp.reason = ch->op == FBO_SOFT ? SR_SOFT_BOUNCE : SR_HARD_BOUNCE;
	ch->supp.source = SRC_BOUNCE;
	ch->supp.created = t;
	if (ch->op == FBO_SOFT)
		ch->supp.expires = t + m->ctx->soft_expires;
	if (strcmp(s->qid, qid) == 0)
		util_strlcpy(ch->supp.ref, s->msgid, sizeof(ch->supp.ref));
	snprintf(text, sizeof(text), "%s by %s (our Postfix, queue id %s): %s",
	    ch->status, relay[0] ? relay : "?", qid, detail);
	n = strlen(text);
	if (n > REC_NOTE_MAX) {
		n = REC_NOTE_MAX;
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(ch->supp.note, text, n);
	ch->supp.note[n] = '\0';
}

/* add - one change for key to the batch; flushes a full one first. */
static struct fb_change *
add(struct fbml *m, const char *key, int op, char *err, size_t errlen,
    int *rc)
{
	struct fb_change *ch;

	*rc = 0;
	if (m->nbatch == BATCH && (*rc = fbml_flush(m, err, errlen)) == -1)
		return NULL;
	ch = &m->batch[m->nbatch++];
	memset(ch, 0, sizeof(*ch));
	ch->op = op;
	ch->by = FBP_BY_MAILLOG;
	util_strlcpy(ch->key, key, sizeof(ch->key));
	return ch;
}

/* sender_find - the slot of queue id v in its set, or NULL. */
static struct sender_slot *
sender_find(struct fbml *m, struct util_str v)
{
	struct sender_slot *set = m->senders + (size_t)(qid_hash(v) %
	    SENDER_SETS) * SENDER_WAYS;
	char qid[33];

	copy(v, qid, sizeof(qid));
	for (int i = 0; i < SENDER_WAYS; i++)
		if (set[i].qid[0] != '\0' && strcmp(set[i].qid, qid) == 0)
			return &set[i];
	return NULL;
}

/* sender_drop - qmgr removed queue id v: its slot is free again. */
static void
sender_drop(struct fbml *m, struct util_str v)
{
	struct sender_slot *s = sender_find(m, v);

	if (s != NULL)
		s->qid[0] = '\0';
}

/* sender_keep - qmgr's sender of queue id v, if it may be a signed one. */
static void
sender_keep(struct fbml *m, struct util_str v, struct util_str from)
{
	struct sender_slot *s, *set;

	/* Only a sender that can carry a tag, and fits, is worth a slot. */
	if (from.n > SENDER_MAX || from.p == NULL || memmem(from.p, from.n,
	    FBTAG_MARK, strlen(FBTAG_MARK)) == NULL) {
		sender_drop(m, v);
		return;
	}
	if ((s = sender_find(m, v)) == NULL) {
		set = m->senders + (size_t)(qid_hash(v) % SENDER_SETS) *
		    SENDER_WAYS;
		s = &set[0];
		for (int i = 0; i < SENDER_WAYS; i++) {
			if (set[i].qid[0] == '\0') {
				s = &set[i];
				break;
			}
			if (set[i].seen < s->seen)
				s = &set[i];	/* the oldest goes */
		}
	}
	copy(v, s->qid, sizeof(s->qid));
	copy(from, s->sender, sizeof(s->sender));
	s->seen = m->stats.lines;
}

/*
 * proven - 1 if qmgr's line for the queue id of l gave a sender that
 * fbtag_sign made for key: a line in the mail log proves nothing by
 * itself, since any local user can write one (logger -p mail.info -t
 * postfix/smtp), but only the milter, with our key, can make the tag.
 */
static int
proven(struct fbml *m, const struct maillog_line *l, const char *key)
{
	const struct sender_slot *s;

	if (m->ctx->ring == NULL || m->ctx->ring->nkeys == 0 ||
	    (s = sender_find(m, l->qid)) == NULL)
		return 0;
	return fbtag_verify(m->ctx->ring, s->sender, key, m->ctx->delims,
	    m->ctx->now, m->ctx->rp_window, NULL);
}

/* delivery - a bounced or sent line's change, if any. */
static int
delivery(struct fbml *m, const struct maillog_line *l, char *err,
    size_t errlen)
{
	const struct fbclass_rule *rule;
	struct fb_change *ch;
	struct store_soft ss;
	struct util_str who = l->orig_to.p != NULL ? l->orig_to : l->to;
	char status[16], diag[FBP_DIAG_MAX + 1], eff[FBCLASS_STATUS_MAX], e[128];
	struct addr a;
	int cls, rc, ok, sent = l->status.n == 4 &&
	    memcmp(l->status.p, "sent", 4) == 0;

	if (!sent && !(l->status.n == 7 && memcmp(l->status.p, "bounced", 7) == 0))
		return 0;
	if (addr_normalize(who.p, who.n, m->ctx->addr_flags, m->ctx->delims, &a,
	    e, sizeof(e)) == -1) {
		m->stats.skipped++;
		return 0;
	}
	if (sent) {
		if (!pending_soft(m, a.key, 0) && store_soft_get(m->st, a.key, &ss,
		    e, sizeof(e)) != 1)
			return 0;
		if (!proven(m, l, a.key))
			return 0;
		if ((ch = add(m, a.key, FBO_RESET, err, errlen, &rc)) == NULL)
			return rc;
		ch->why = "delivered";
		m->stats.cleared++;
		return 0;
	}
	m->stats.bounced++;
	copy(l->dsn, status, sizeof(status));
	copy(l->detail, diag, sizeof(diag));
	cls = fbclass_classify(m->ctx->rules, "failed", status, diag, &rule, eff);
	if (cls != FBC_HARD && cls != FBC_SOFT && cls != FBC_POLICY)
		return 0;
	m->stats.hard += cls == FBC_HARD;
	m->stats.soft += cls == FBC_SOFT;
	m->stats.policy += cls == FBC_POLICY;
	ok = cls == FBC_POLICY || proven(m, l, a.key);
	m->stats.unproven += !ok;
	/* A policy refusal, or a failure without proof, writes nothing, but
	 * its feedback line is kept. */
	if ((ch = add(m, a.key, !ok ? FBO_NONE : cls == FBC_HARD ? FBO_SUPPRESS :
	    cls == FBC_SOFT ? FBO_SOFT : FBO_NONE, err, errlen, &rc)) == NULL)
		return rc;
	ch->class_ = cls;
	if (ok && cls == FBC_SOFT)
		(void)pending_soft(m, a.key, 1);
	util_strlcpy(ch->status, eff, sizeof(ch->status));
	ch->why = !ok ? "no signed return path for this recipient in qmgr's "
	    "line: not applied" : rule != NULL && rule->why != NULL ?
	    rule->why : "feedback.rules";
	if (!ok)
		ch->by = FBP_BY_NONE;
	evidence(m, ch, l, line_time(m, l));
	return 0;
}

int
fbml_line(struct fbml *m, const char *line, size_t len, char *err,
    size_t errlen)
{
	struct maillog_line l;
	struct msgid_slot *s;

	m->stats.lines++;
	switch (maillog_scan(line, len, &l)) {
	case MAILLOG_CLEANUP:
		s = slot(m, l.qid);
		copy(l.qid, s->qid, sizeof(s->qid));
		copy(l.msgid, s->msgid, sizeof(s->msgid));
		return 0;
	case MAILLOG_QMGR:
		sender_keep(m, l.qid, l.from);
		return 0;
	case MAILLOG_REMOVED:
		sender_drop(m, l.qid);
		return 0;
	case MAILLOG_DELIVERY:
		return delivery(m, &l, err, errlen);
	default:
		return 0;
	}
}

int
fbml_flush(struct fbml *m, char *err, size_t errlen)
{
	if (m->nbatch == 0)
		return 0;
	/* --follow keeps the store for days: never write into one moved away. */
	if (store_replaced(m->st, err, errlen) != 0)
		return util_fail(err, errlen, "the store is not the one at its "
		    "path any more (replaced or moved since it was opened): "
		    "restart to open the new one");
	if (fb_record(m->st, m->batch, m->nbatch, m->ctx, err, errlen) == -1)
		return -1;
	for (unsigned i = 0; i < m->nbatch; i++)
		m->stats.changed += m->batch[i].changed != 0;
	/* The store holds the evidence: a line not written is said, no more. */
	if (fbaudit_write(m->ctx, m->batch, m->nbatch, 0, "maillog", err,
	    errlen) == -1)
		fprintf(stderr, "consentctl: feedback: no feedback line "
		    "written: %s\n", err);
	m->nbatch = 0;
	memset(m->softset, 0, SOFTSET * sizeof(*m->softset));
	return 0;
}

/* lines - every whole line of buf[0..n): processed; the rest carried. */
static int
lines(struct fbml *m, size_t n, int final, char *err, size_t errlen)
{
	char *p = m->buf, *end = m->buf + n, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (!m->skipping && fbml_line(m, p, (size_t)(nl - p), err,
		    errlen) == -1)
			return -1;
		m->skipping = 0;
		p = nl + 1;
	}
	m->carry = (size_t)(end - p);
	if (final && m->carry > 0 && !m->skipping) {
		if (fbml_line(m, p, m->carry, err, errlen) == -1)
			return -1;
		m->carry = 0;
	} else if (m->carry >= LINE_MAX_LEN) {
		/* A line over the bound: skipped to its end. */
		m->stats.skipped += !m->skipping;
		m->skipping = 1;
		m->carry = 0;
	} else
		memmove(m->buf, p, m->carry);
	return 0;
}

int
fbml_read(struct fbml *m, int fd, off_t *off, int final, char *err,
    size_t errlen)
{
	ssize_t r;

	m->carry = 0;
	m->skipping = 0;
	if (lseek(fd, *off, SEEK_SET) == -1)
		return util_fail(err, errlen, "seek: %s", strerror(errno));
	for (;;) {
		r = read(fd, m->buf + m->carry, READ_CHUNK);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return util_fail(err, errlen, "read: %s", strerror(errno));
		if (r == 0)
			break;
		*off += r;
		if (lines(m, m->carry + (size_t)r, 0, err, errlen) == -1)
			return -1;
	}
	/* What is carried is not read yet, unless it is the end. */
	if (final && lines(m, m->carry, 1, err, errlen) == -1)
		return -1;
	*off -= (off_t)m->carry;
	return fbml_flush(m, err, errlen);
}

/* --- following the file -------------------------------------------------- */

struct pos {
	unsigned long long dev, ino;
	long long off;
};

/* pos_load - the position saved in path: 1, 0 if none, -1 if unreadable. */
static int
pos_load(const char *path, struct pos *p)
{
	FILE *fp = fopen(path, "r");
	int n;

	memset(p, 0, sizeof(*p));
	if (fp == NULL)
		return errno == ENOENT ? 0 : -1;
	n = fscanf(fp, "v1 %llu %llu %lld", &p->dev, &p->ino, &p->off);
	fclose(fp);
	return n == 3 && p->off >= 0 ? 1 : 0;
}

/* pos_save - p into path, through a temporary file renamed: all or nothing. */
static int
pos_save(const char *path, const struct pos *p, char *err, size_t errlen)
{
	char tmp[4200];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL)
		return util_fail(err, errlen, "%s: %s", tmp, strerror(errno));
	fprintf(fp, "v1 %llu %llu %lld\n", p->dev, p->ino, p->off);
	if (fflush(fp) != 0 || fsync(fileno(fp)) == -1) {
		fclose(fp);
		unlink(tmp);
		return util_fail(err, errlen, "%s: %s", tmp, strerror(errno));
	}
	if (fclose(fp) != 0 || rename(tmp, path) == -1) {
		unlink(tmp);
		return util_fail(err, errlen, "%s: %s", path, strerror(errno));
	}
	return 0;
}

/* open_at - open path; its identity into p (offset 0). -1 with err. */
static int
open_at(const char *path, struct pos *p, char *err, size_t errlen)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1 || fstat(fd, &sb) == -1) {
		util_fail(err, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	p->dev = (unsigned long long)sb.st_dev;
	p->ino = (unsigned long long)sb.st_ino;
	p->off = 0;
	return fd;
}

/*
 * resume - where to go on in path from the saved position: the same file
 * at its offset; else, when path.1 is the file it was, the rest of that
 * first, then path from its start.
 */
static int
resume(struct fbml *m, const char *path, const char *posfile, struct pos *cur,
    int fd, char *err, size_t errlen)
{
	struct pos saved, old;
	struct stat sb;
	char rotated[4200];
	off_t off;
	int ofd;

	if (pos_load(posfile, &saved) != 1)
		return 0;
	if (saved.dev == cur->dev && saved.ino == cur->ino) {
		if (fstat(fd, &sb) == 0 && saved.off <= (long long)sb.st_size)
			cur->off = saved.off;
		return 0;
	}
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	if (stat(rotated, &sb) == -1 || (unsigned long long)sb.st_ino != saved.ino ||
	    (unsigned long long)sb.st_dev != saved.dev ||
	    (ofd = open_at(rotated, &old, err, errlen)) == -1)
		return 0;
	off = (off_t)saved.off;
	if (fbml_read(m, ofd, &off, 1, err, errlen) == -1) {
		close(ofd);
		return -1;
	}
	close(ofd);
	return 0;
}

int
fbml_follow(struct fbml *m, const char *path, const char *posfile,
    int (*wait)(int ms), char *err, size_t errlen)
{
	struct pos cur;
	struct stat sb;
	off_t off;
	int fd;

	if ((fd = open_at(path, &cur, err, errlen)) == -1)
		return -1;
	if (resume(m, path, posfile, &cur, fd, err, errlen) == -1)
		goto bad;
	for (;;) {
		off = (off_t)cur.off;
		if (fbml_read(m, fd, &off, 0, err, errlen) == -1)
			goto bad;
		cur.off = (long long)off;
		if (pos_save(posfile, &cur, err, errlen) == -1)
			goto bad;
		if (wait(1000))
			break;
		if (stat(path, &sb) == -1)
			continue;	/* rotated, the new one not made yet */
		if ((unsigned long long)sb.st_ino != cur.ino ||
		    (unsigned long long)sb.st_dev != cur.dev) {
			/* Rotated: the rest of the old file, then the new one. */
			off = (off_t)cur.off;
			if (fbml_read(m, fd, &off, 1, err, errlen) == -1)
				goto bad;
			close(fd);
			if ((fd = open_at(path, &cur, err, errlen)) == -1)
				return -1;
		} else if ((long long)sb.st_size < cur.off)
			cur.off = 0;	/* truncated (copytruncate) */
	}
	close(fd);
	return 0;
bad:
	close(fd);
	return -1;
}
