/*
 * sealer.c - the filter's sealing of its audit log, epoch by epoch
 * (sealer.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/sealer.h"
#include "util/log.h"
#include "util/util.h"

struct sealer {
	struct seal_keyfile *kf;
	struct audit *a;
	char	file[SEAL_FILE_MAX];
	char	witness[1024];
	int	wfd;
	int	witness_failing;	/* logged once until it works again */
	int	key_failing;
	uint64_t future_warned;		/* the key's epoch, when ahead of the clock */
};

/* What the checkpoint builder needs, inside the audit writer's lock. */
struct build {
	struct sealer *s;
	struct seal_point p;
	char	line[SEAL_LINE_MAX];
	size_t	len;
};

/* file_name - the basename of path, in the characters a checkpoint takes. */
static void
file_name(const char *path, char out[SEAL_FILE_MAX])
{
	const char *b = strrchr(path, '/');
	size_t n = 0;

	for (b = b != NULL ? b + 1 : path; *b != '\0' && n + 1 < SEAL_FILE_MAX;
	    b++) {
		char c = *b;

		out[n++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ? c : '_';
	}
	if (n == 0)
		out[n++] = '_';
	out[n] = '\0';
}

/* witness_open - the witness file, for appending; 0 / -1 with err. */
static int
witness_open(struct sealer *s, char *err, size_t errlen)
{
	if (s->witness[0] == '\0')
		return 0;
	s->wfd = open(s->witness, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	if (s->wfd == -1)
		return util_fail(err, errlen, "audit.checkpoints %s: %s",
		    s->witness, strerror(errno));
	return 0;
}

/*
 * recover - a seal in the log's tail made by the key as it stands is the
 * key's last act before a crash: evolve past the epochs it covers.
 */
static void
recover(struct sealer *s)
{
	const struct seal_key *k = seal_keyfile_key(s->kf);
	struct seal_point p;
	unsigned char mac[SEAL_MAC_BYTES], want[SEAL_MAC_BYTES];
	char line[SEAL_LINE_MAX + 128], err[512];

	if (audit_tail_seal(s->a, line, sizeof(line)) != 1 ||
	    seal_parse(line, strlen(line), &p, mac) == -1 || p.epoch != k->epoch)
		return;
	seal_mac(k->key, &p, want);
	if (sodium_memcmp(want, mac, sizeof(mac)) != 0)
		return;
	log_info("audit seal: epochs %" PRIu64 "-%" PRIu64 " were sealed before "
	    "a restart that left their key; it evolves past them now",
	    p.epoch, p.through);
	if (seal_key_advance(s->kf, p.through + 1, err, sizeof(err)) == -1)
		log_warnx("audit seal: %s", err);
}

int
sealer_open(struct sealer **sp, struct seal_keyfile *kf, struct audit *a,
    const char *logpath, const char *witness, char *err, size_t errlen)
{
	struct sealer *s;

	*sp = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		seal_key_close(kf);
		return util_fail(err, errlen, "out of memory");
	}
	s->kf = kf;
	s->a = a;
	s->wfd = -1;
	file_name(logpath, s->file);
	if (witness != NULL)
		util_strlcpy(s->witness, witness, sizeof(s->witness));
	if (witness_open(s, err, errlen) == -1) {
		sealer_close(s);
		return -1;
	}
	recover(s);
	*sp = s;
	return 0;
}

/* build_fn - audit_checkpoint's builder: the head, the count, the MAC. */
static int
build_fn(void *arg, unsigned long long lines, const char *head, char *buf,
    size_t cap, size_t *len)
{
	struct build *b = arg;
	unsigned char mac[SEAL_MAC_BYTES];

	b->p.lines = lines;
	util_strlcpy(b->p.head, head, sizeof(b->p.head));
	seal_mac(seal_keyfile_key(b->s->kf)->key, &b->p, mac);
	b->len = seal_format(&b->p, mac, b->line, sizeof(b->line));
	sodium_memzero(mac, sizeof(mac));
	if (b->len == 0 || b->len >= cap)
		return -1;
	memcpy(buf, b->line, b->len);
	*len = b->len;
	return 0;
}

/* witness_put - the checkpoint, as one line, onto the witness file. */
static void
witness_put(struct sealer *s, const char *line, size_t len)
{
	char buf[SEAL_LINE_MAX + 2];
	ssize_t w;

	if (s->wfd == -1 && s->witness[0] != '\0')
		(void)witness_open(s, NULL, 0);
	if (s->wfd == -1)
		return;
	memcpy(buf, line, len);
	buf[len] = '}';
	buf[len + 1] = '\n';
	do
		w = write(s->wfd, buf, len + 2);
	while (w == -1 && errno == EINTR);
	if (w != (ssize_t)(len + 2) || fdatasync(s->wfd) == -1) {
		if (!s->witness_failing)
			log_warn("audit.checkpoints %s: cannot write a "
			    "checkpoint (it is in the log and in syslog)",
			    s->witness);
		s->witness_failing = 1;
		return;
	}
	s->witness_failing = 0;
}

int
sealer_tick(struct sealer *s, int64_t now_ms, char *err, size_t errlen)
{
	const struct seal_key *k = seal_keyfile_key(s->kf);
	int64_t now = now_ms / 1000;
	uint64_t cur = seal_epoch_at(k->t0, k->interval, now);
	struct build b;
	char kerr[512];

	if (now < k->t0 || k->epoch > cur) {
		/* A key from the future: the clock went back, or was wrong. */
		if (now >= k->t0 && s->future_warned != k->epoch + 1) {
			log_warnx("audit seal: the key is at epoch %" PRIu64
			    " but the clock says epoch %" PRIu64 ": nothing is "
			    "sealed until the clock catches up", k->epoch, cur);
			s->future_warned = k->epoch + 1;
		}
		return 0;
	}
	if (k->epoch == cur)
		return 0;	/* the epoch is not over */
	memset(&b, 0, sizeof(b));
	b.s = s;
	util_strlcpy(b.p.file, s->file, sizeof(b.p.file));
	b.p.epoch = k->epoch;
	b.p.through = cur - 1;
	b.p.start = seal_epoch_start(k->t0, k->interval, b.p.epoch);
	b.p.end = seal_epoch_start(k->t0, k->interval, cur);
	b.p.sealed_ms = now_ms;
	b.p.late = b.p.through > b.p.epoch ||
	    now > b.p.end + seal_grace(k->interval);
	if (audit_checkpoint(s->a, build_fn, &b) == -1)
		return util_fail(err, errlen, "audit seal: epoch %" PRIu64
		    " not sealed: %s (tried again each second)", b.p.epoch,
		    strerror(errno));
	witness_put(s, b.line, b.len);
	/* A witness copy in the mail log, which admins forward. */
	log_info("audit seal %.*s}", (int)b.len, b.line);
	if (b.p.through > b.p.epoch)
		log_warnx("audit seal: epochs %" PRIu64 "-%" PRIu64 " sealed late, "
		    "in one checkpoint: the filter was not running or could not "
		    "write its log", b.p.epoch, b.p.through);
	if (seal_key_advance(s->kf, cur, kerr, sizeof(kerr)) == -1) {
		if (!s->key_failing)
			log_warnx("audit seal: %s (the key evolved in memory; "
			    "the file keeps the old one until a write works)",
			    kerr);
		s->key_failing = 1;
	} else
		s->key_failing = 0;
	return 1;
}

void
sealer_reopen(struct sealer *s)
{
	char err[512];

	if (s == NULL || s->witness[0] == '\0')
		return;
	if (s->wfd != -1)
		close(s->wfd);
	s->wfd = -1;
	if (witness_open(s, err, sizeof(err)) == -1)
		log_warnx("%s", err);
}

uint64_t
sealer_epoch(const struct sealer *s)
{
	return seal_keyfile_key(s->kf)->epoch;
}

void
sealer_close(struct sealer *s)
{
	if (s == NULL)
		return;
	seal_key_close(s->kf);
	if (s->wfd != -1)
		close(s->wfd);
	free(s);
}
