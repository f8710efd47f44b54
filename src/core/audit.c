/*
 * audit.c - the hash-chained audit trail (see audit.h).
 *
 * Lines are built in memory and appended with one write(2) on an O_APPEND
 * descriptor, under a mutex that also orders the chain, so a line is never
 * split or interleaved, even under load or at SIGKILL.  A write cut short
 * (a full disk) is cut back with ftruncate(2) to where it began, and the
 * chain stays at the last line on disk; what could not be cut is repaired
 * before the next line, and a gap line names what is missing (audit.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/addr.h"
#include "core/audit.h"
#include "core/token.h"
#include "util/enc.h"
#include "util/time.h"
#include "util/util.h"

#define CHAIN_TAG	",\"chain\":\""
#define GENESIS		"0000000000000000000000000000000000000000000000000000000000000000"

#define TORN_MARK	"~\n"	/* ends a torn line that cannot be cut off */
#define LINE_HEAD	"{\"v\":1,"	/* how every line we write starts */

struct audit {
	pthread_mutex_t lock;
	int	fd;
	char	path[1024];
	int	plain;
	unsigned char key[AUDIT_KEY_BYTES];
	char	chain[AUDIT_HASH_HEX];	/* of the last line written */
	off_t	end;		/* where that line ends in the file */
	int	broken;		/* torn bytes after end: repair() first */
	off_t	torn_end;	/* broken: where the cut-short write stopped */
	int	no_cut;		/* and they may not be ours: keep them */
	int	need_open;	/* the file's open line is still to come */
	/* What the next gap line names. */
	unsigned long lost;	/* decision lines not written */
	int64_t	lost_first, lost_last;	/* their times */
	int	lost_errno;
	int	crash;		/* the file ended torn when opened */
	off_t	torn_at;	/* where torn bytes began; -1 if none */
	off_t	removed;	/* torn bytes cut off */
	off_t	kept;		/* torn bytes left: the file cannot be cut */
	char	kept_sha[AUDIT_HASH_HEX];
};

static int	field(char *, size_t, size_t *, const char *, const char *);

/* hex - n octets as 2n lowercase hex digits and a NUL. */
static void
hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* chain_next - next = hex SHA-256(prev || text[0..len]). */
static void
chain_next(const char *prev, const char *text, size_t len,
    char next[AUDIT_HASH_HEX])
{
	crypto_hash_sha256_state st;
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)prev, 64);
	crypto_hash_sha256_update(&st, (const unsigned char *)text, len);
	crypto_hash_sha256_final(&st, h);
	hex(h, sizeof(h), next);
}

/* is_hex64 - s starts with 64 lowercase hex digits. */
static int
is_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
audit_chain_line(const char *line, size_t len, const char *prev,
    char next[AUDIT_HASH_HEX], int *kind, char *openprev)
{
	const char *tag = NULL, *p;
	size_t taglen = strlen(CHAIN_TAG), pre;
	char want[AUDIT_HASH_HEX];

	*kind = AUDIT_LINE_DECISION;
	/* The chain is the last field: find its last occurrence. */
	for (p = line; (p = memmem(p, len - (size_t)(p - line), CHAIN_TAG,
	    taglen)) != NULL; p++)
		tag = p;
	if (tag == NULL)
		return -1;
	pre = (size_t)(tag - line);
	if (len != pre + taglen + 64 + 2 || line[len - 2] != '"' ||
	    line[len - 1] != '}' || !is_hex64(tag + taglen))
		return -1;
	if (len > 20 && memmem(line, pre, "\"type\":\"open\"", 13) != NULL)
		*kind = AUDIT_LINE_OPEN;
	else if (len > 20 && memmem(line, pre, "\"type\":\"gap\"", 12) != NULL)
		*kind = AUDIT_LINE_GAP;
	/* An open or gap line names the chain value it continues. */
	if (*kind != AUDIT_LINE_DECISION) {
		const char *q = memmem(line, pre, "\"prev\":\"", 8);

		if (q == NULL || (size_t)(q - line) + 8 + 64 > pre ||
		    !is_hex64(q + 8))
			return -1;
		if (openprev != NULL) {
			memcpy(openprev, q + 8, 64);
			openprev[64] = '\0';
		}
		if (prev == NULL)
			prev = q + 8;
		else if (memcmp(prev, q + 8, 64) != 0)
			return -1;
	}
	if (prev == NULL)
		return -1;
	chain_next(prev, line, pre, want);
	if (memcmp(want, tag + taglen, 64) != 0)
		return -1;
	memcpy(next, want, AUDIT_HASH_HEX);
	return 0;
}

void
audit_pseudonym(const unsigned char *key, const char *addr,
    char out[AUDIT_PSEUDO_MAX])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256(mac, (const unsigned char *)addr, strlen(addr),
	    key);
	memcpy(out, "h:", 2);
	hex(mac, 16, out + 2);
	sodium_memzero(mac, sizeof(mac));
}

int
audit_key_load(const char *path, unsigned char key[AUDIT_KEY_BYTES], char *err,
    size_t errlen)
{
	struct token_key k;

	/* The same key files as the unsubscribe tokens, checked the same way. */
	if (token_key_load(path, 1, &k, err, errlen) == -1)
		return -1;
	memcpy(key, k.key, AUDIT_KEY_BYTES);
	sodium_memzero(&k, sizeof(k));
	return 0;
}

/* line_start - the offset after the last '\n' before off, or 0; -1 on error. */
static off_t
line_start(int fd, off_t off)
{
	char buf[4096], *p;
	off_t from;
	ssize_t n;

	while (off > 0) {
		from = off > (off_t)sizeof(buf) ? off - (off_t)sizeof(buf) : 0;
		if ((n = pread(fd, buf, (size_t)(off - from), from)) != off - from)
			return -1;
		if ((p = memrchr(buf, '\n', (size_t)n)) != NULL)
			return from + (p - buf) + 1;
		off = from;
	}
	return 0;
}

/*
 * tail_scan - where the last whole line of fd's file ends and its chain
 * value (chain unchanged if it has none).  What may follow it is torn:
 * lines a writer ended with TORN_MARK, then a line without its newline.
 * *cut is 0 when that line is not one we could have written (too long,
 * or not starting as ours do): kept, never cut.
 */
static int
tail_scan(int fd, off_t size, off_t *good, int *cut,
    char chain[AUDIT_HASH_HEX])
{
	/* ,"chain":"<64 hex>"}\n */
	char t[sizeof(CHAIN_TAG) - 1 + 64 + 3];
	size_t tl = strlen(CHAIN_TAG);
	off_t end = size;

	*cut = 1;
	if (size > 0) {
		if (pread(fd, t, 1, size - 1) != 1)
			return -1;
		if (t[0] != '\n') {
			size_t k, hl = strlen(LINE_HEAD);

			if ((end = line_start(fd, size)) == -1)
				return -1;
			k = size - end < (off_t)hl ? (size_t)(size - end) : hl;
			if (pread(fd, t, k, end) != (ssize_t)k)
				return -1;
			if (size - end > AUDIT_LINE_MAX ||
			    memcmp(t, LINE_HEAD, k) != 0)
				*cut = 0;
		}
	}
	while (end >= 2) {
		if (pread(fd, t, 2, end - 2) != 2)
			return -1;
		if (memcmp(t, TORN_MARK, 2) != 0)
			break;
		if ((end = line_start(fd, end - 1)) == -1)
			return -1;
	}
	*good = end;
	/* Take its chain field as it is: verify checks it, not the writer. */
	if (end >= (off_t)sizeof(t)) {
		if (pread(fd, t, sizeof(t), end - (off_t)sizeof(t)) !=
		    (ssize_t)sizeof(t))
			return -1;
		if (memcmp(t, CHAIN_TAG, tl) == 0 && is_hex64(t + tl) &&
		    memcmp(t + tl + 64, "\"}\n", 3) == 0) {
			memcpy(chain, t + tl, 64);
			chain[64] = '\0';
		}
	}
	return 0;
}

/*
 * put - write buf (whole lines) at the end of the file, all of it, or
 * leave the file as it was; 0, or -1 with errno.
 */
static int
put(struct audit *a, const char *buf, size_t len)
{
	struct stat st;
	size_t done = 0;
	ssize_t w;
	int saved;

	if (fstat(a->fd, &st) == -1)
		return -1;
	while (done < len) {
		if ((w = write(a->fd, buf + done, len - done)) > 0)
			done += (size_t)w;
		else if (w == -1 && errno == EINTR)
			continue;
		else {
			if (w == 0)
				errno = ENOSPC;
			break;
		}
	}
	if (done == len) {
		a->end = st.st_size + (off_t)len;
		return 0;
	}
	saved = errno;
	/* Never leave a half line for the next one to join. */
	if (done > 0 && ftruncate(a->fd, st.st_size) == -1) {
		a->broken = 1;	/* an append-only file, say: repair() */
		a->torn_end = st.st_size + (off_t)done;
	}
	errno = saved;
	return -1;
}

/*
 * repair - the bytes after a->end are torn: cut them off, or, where the
 * file cannot be cut, end them with TORN_MARK (a line ending in '~' never
 * passes for a whole one) and hash them for the gap line.  0, or -1 with
 * errno (still broken: tried again before the next line).
 */
static int
repair(struct audit *a)
{
	crypto_hash_sha256_state hs;
	unsigned char h[crypto_hash_sha256_BYTES];
	char buf[4096];
	struct stat st;
	off_t off;
	ssize_t n;

	if (fstat(a->fd, &st) == -1)
		return -1;
	if (st.st_size <= a->end) {
		a->broken = a->no_cut = 0;
		return 0;
	}
	a->torn_at = a->end;
	if (!a->no_cut && ftruncate(a->fd, a->end) == 0) {
		a->removed += st.st_size - a->end;
		a->kept = 0;
		a->broken = 0;
		return 0;
	}
	if (pread(a->fd, buf, 1, st.st_size - 1) != 1)
		return -1;
	if (buf[0] != '\n') {
		/* One octet of the mark may land: the next try adds another. */
		if ((n = write(a->fd, TORN_MARK, 2)) != 2) {
			if (n >= 0)
				errno = ENOSPC;
			return -1;
		}
		st.st_size += 2;
	}
	crypto_hash_sha256_init(&hs);
	for (off = a->end; off < st.st_size; off += n) {
		size_t want = st.st_size - off > (off_t)sizeof(buf) ?
		    sizeof(buf) : (size_t)(st.st_size - off);

		if ((n = pread(a->fd, buf, want, off)) <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		crypto_hash_sha256_update(&hs, (unsigned char *)buf, (size_t)n);
	}
	crypto_hash_sha256_final(&hs, h);
	hex(h, sizeof(h), a->kept_sha);
	a->kept = st.st_size - a->end;
	a->broken = a->no_cut = 0;
	return 0;
}

/*
 * append - add the chain to one finished line and write it under the
 * lock; the chain moves on only when the line is on disk whole.
 */
static int
append(struct audit *a, char *line, size_t len, size_t cap)
{
	char next[AUDIT_HASH_HEX];
	int n;

	chain_next(a->chain, line, len, next);
	n = snprintf(line + len, cap - len, "%s%s\"}\n", CHAIN_TAG, next);
	if (n < 0 || (size_t)n >= cap - len) {
		errno = E2BIG;
		return -1;
	}
	if (put(a, line, len + (size_t)n) == -1)
		return -1;
	memcpy(a->chain, next, AUDIT_HASH_HEX);
	return 0;
}

/* now_ms - the time now, in ms since the epoch. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* open_line - the line that starts a file and names the chain it continues. */
static int
open_line(struct audit *a)
{
	char line[256], tb[32];
	int n;

	n = snprintf(line, sizeof(line), "{\"v\":1,\"type\":\"open\",\"t\":\"%s\","
	    "\"prev\":\"%s\"", time_format_ms(now_ms(), tb, sizeof(tb)),
	    a->chain);
	if (append(a, line, (size_t)n, sizeof(line)) == -1)
		return -1;
	a->need_open = 0;
	return 0;
}

/* gap_pending - the trail is missing something that no gap line names yet. */
static int
gap_pending(const struct audit *a)
{
	return a->lost > 0 || a->crash || a->torn_at >= 0;
}

/*
 * gap_line - name what the trail is missing: the decision lines not
 * written, torn bytes cut off or kept.  Names prev, like an open line, so
 * that it may start a file.  0, or -1 with errno.
 */
static int
gap_line(struct audit *a)
{
	char line[1024], tb[32], t1[32], t2[32];
	size_t len, cap = sizeof(line) - 80;	/* room for the chain */
	int n;

	n = snprintf(line, cap, "{\"v\":1,\"type\":\"gap\",\"t\":\"%s\","
	    "\"prev\":\"%s\",\"lost\":%lu", time_format_ms(now_ms(), tb,
	    sizeof(tb)), a->chain, a->lost);
	len = (size_t)n;
	if (a->lost > 0) {
		len += (size_t)snprintf(line + len, cap - len, ",\"since\":\"%s\","
		    "\"until\":\"%s\"", time_format_ms(a->lost_first, t1,
		    sizeof(t1)), time_format_ms(a->lost_last, t2, sizeof(t2)));
		if (field(line, cap, &len, "error", strerror(a->lost_errno)) == -1) {
			errno = E2BIG;
			return -1;
		}
	}
	if (a->crash)
		len += (size_t)snprintf(line + len, cap - len, ",\"crash\":true");
	if (a->torn_at >= 0) {
		len += (size_t)snprintf(line + len, cap - len, ",\"at\":%lld,"
		    "\"removed\":%lld,\"kept\":%lld", (long long)a->torn_at,
		    (long long)a->removed, (long long)a->kept);
		if (a->kept > 0)
			len += (size_t)snprintf(line + len, cap - len,
			    ",\"kept_sha256\":\"%s\"", a->kept_sha);
	}
	if (append(a, line, len, sizeof(line)) == -1)
		return -1;
	a->lost = 0;
	a->crash = 0;
	a->torn_at = -1;
	a->removed = a->kept = 0;
	return 0;
}

/*
 * prepare - before a decision line: repair a torn tail, name the gap, and
 * start the file with its open line, each not done yet.  0, or -1 with
 * errno.
 */
static int
prepare(struct audit *a)
{
	if (a->broken && repair(a) == -1)
		return -1;
	if (gap_pending(a) && gap_line(a) == -1)
		return -1;
	if (a->need_open && open_line(a) == -1)
		return -1;
	return 0;
}

/*
 * open_fd - open the path, find the end of its last whole line, repair
 * what follows it, then write the gap and open lines.  On a first open a
 * failure closes the file; on a reopen the file stays open and what was
 * not written comes before the next decision.  0, or -1 with err.
 */
static int
open_fd(struct audit *a, int first, char *err, size_t errlen)
{
	struct stat st;
	off_t good;
	int e, cut;

	a->fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (a->fd == -1)
		return util_fail(err, errlen, "audit log %s: %s", a->path,
		    strerror(errno));
	if (fstat(a->fd, &st) == -1 ||
	    tail_scan(a->fd, st.st_size, &good, &cut, a->chain) == -1) {
		close(a->fd);
		a->fd = -1;
		return util_fail(err, errlen, "audit log %s: cannot read its "
		    "last line", a->path);
	}
	a->end = good;
	/* Torn bytes at open: a writer stopped mid-line. */
	a->broken = a->crash = good < st.st_size;
	a->no_cut = !cut;
	a->need_open = 1;
	if (prepare(a) == -1) {
		e = errno;
		if (first) {
			close(a->fd);
			a->fd = -1;
		}
		return util_fail(err, errlen, "audit log %s: %s%s", a->path,
		    strerror(e), first ? "" : " (its first lines are written "
		    "before the next decision)");
	}
	return 0;
}

int
audit_open(struct audit **ap, const char *path, const unsigned char *key,
    char *err, size_t errlen)
{
	struct audit *a;

	*ap = NULL;
	if (sodium_init() < 0)
		return util_fail(err, errlen, "libsodium failed to initialise");
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return util_fail(err, errlen, "out of memory");
	pthread_mutex_init(&a->lock, NULL);
	a->torn_at = -1;
	util_strlcpy(a->path, path, sizeof(a->path));
	memcpy(a->chain, GENESIS, AUDIT_HASH_HEX);
	if (key != NULL)
		memcpy(a->key, key, AUDIT_KEY_BYTES);
	else
		a->plain = 1;
	if (open_fd(a, 1, err, errlen) == -1) {
		audit_close(a);
		return -1;
	}
	*ap = a;
	return 0;
}

int
audit_reopen(struct audit *a, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&a->lock);
	if (a->fd != -1) {
		/* Name a gap in the file it is in, if the disk lets us. */
		if (a->broken || gap_pending(a))
			(void)prepare(a);
		close(a->fd);
	}
	/* Torn bytes were the old file's; lost decisions are still lost. */
	a->broken = a->crash = a->no_cut = 0;
	a->torn_at = -1;
	a->removed = a->kept = 0;
	rc = open_fd(a, 0, err, errlen);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->fd != -1)
		close(a->fd);
	sodium_memzero(a->key, sizeof(a->key));
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* Append ,"name":"value" (escaped) when value is set; -1 if it does not fit. */
static int
field(char *buf, size_t cap, size_t *len, const char *name, const char *value)
{
	size_t n;

	if (value == NULL || value[0] == '\0')
		return 0;
	n = (size_t)snprintf(buf + *len, cap - *len, ",\"%s\":", name);
	if (n >= cap - *len)
		return -1;
	*len += n;
	n = enc_json(value, strlen(value), buf + *len, cap - *len);
	if (n == (size_t)-1)
		return -1;
	*len += n;
	return 0;
}

static int
build(const struct audit *a, const struct audit_entry *e, char *buf, size_t cap,
    size_t *lenp)
{
	/* A plain address is as long as an address; a pseudonym shorter. */
	char tb[32], rcpt[ADDR_MAX + 3 > AUDIT_PSEUDO_MAX ? ADDR_MAX + 3 :
	    AUDIT_PSEUDO_MAX], evt[32];
	size_t len;
	int rc = 0;

	/* A line of another type says so first, as "open" and "gap" do. */
	if (e->type != NULL)
		len = (size_t)snprintf(buf, cap, "{\"v\":1,\"type\":\"%s\","
		    "\"t\":\"%s\"", e->type, time_format_ms(e->time_ms, tb,
		    sizeof(tb)));
	else
		len = (size_t)snprintf(buf, cap, "{\"v\":1,\"t\":\"%s\"",
		    time_format_ms(e->time_ms, tb, sizeof(tb)));
	if (e->rcpt != NULL && e->rcpt[0] != '\0' && !a->plain)
		audit_pseudonym(a->key, e->rcpt, rcpt);
	else
		util_strlcpy(rcpt, e->rcpt ? e->rcpt : "", sizeof(rcpt));
	rc |= field(buf, cap, &len, "qid", e->qid);
	rc |= field(buf, cap, &len, "msgid", e->msgid);
	rc |= field(buf, cap, &len, "from", e->sender);
	rc |= field(buf, cap, &len, "list", e->list);
	rc |= field(buf, cap, &len, "class", e->class_);
	rc |= field(buf, cap, &len, "rcpt", rcpt);
	rc |= field(buf, cap, &len, "verdict", e->verdict);
	rc |= field(buf, cap, &len, "reason", e->reason);
	rc |= field(buf, cap, &len, "action", e->action);
	rc |= field(buf, cap, &len, "stage", e->stage);
	rc |= field(buf, cap, &len, "outcome", e->outcome);
	if (e->ev_kind != NULL) {
		rc |= field(buf, cap, &len, "ev_kind", e->ev_kind);
		rc |= field(buf, cap, &len, "ev_value", e->ev_value);
		rc |= field(buf, cap, &len, "ev_source", e->ev_source);
		if (e->ev_time != 0)
			rc |= field(buf, cap, &len, "ev_time",
			    time_format(e->ev_time, evt, sizeof(evt)));
		rc |= field(buf, cap, &len, "ev_key", e->ev_key);
	}
	*lenp = len;
	return rc;
}

/* note_lost - count a decision line not written, for the next gap line. */
static void
note_lost(struct audit *a, const struct audit_entry *e, int err)
{
	if (a->lost++ == 0 || e->time_ms < a->lost_first)
		a->lost_first = e->time_ms;
	if (a->lost == 1 || e->time_ms > a->lost_last)
		a->lost_last = e->time_ms;
	a->lost_errno = err;
}

/*
 * batch_build - the n decision lines, chained from a->chain, into one
 * buffer (*bufp, the caller frees it); ends[i] and chains[i] are where
 * line i ends and the chain after it.  0, or -1 with errno.
 */
static int
batch_build(const struct audit *a, const struct audit_entry *e, size_t n,
    char **bufp, size_t *lenp, size_t *ends, char (*chains)[AUDIT_HASH_HEX])
{
	char line[AUDIT_LINE_MAX], *buf, *nb;
	const char *prev = a->chain;
	size_t len = 0, cap = 0, l;
	int w;

	*bufp = NULL;
	for (size_t i = 0; i < n; i++) {
		if (build(a, &e[i], line, sizeof(line) - 80, &l) == -1) {
			errno = E2BIG;
			return -1;
		}
		chain_next(prev, line, l, chains[i]);
		w = snprintf(line + l, sizeof(line) - l, "%s%s\"}\n", CHAIN_TAG,
		    chains[i]);
		if (w < 0 || (size_t)w >= sizeof(line) - l) {
			errno = E2BIG;
			return -1;
		}
		l += (size_t)w;
		if (len + l > cap) {
			cap = (len + l) * 2;
			if ((nb = realloc(*bufp, cap)) == NULL)
				return -1;
			*bufp = nb;
		}
		buf = *bufp;
		memcpy(buf + len, line, l);
		len += l;
		ends[i] = len;
		prev = chains[i];
	}
	*lenp = len;
	return 0;
}

/*
 * audit_write - the decision lines of one message, in one write(2): all
 * of them or none, so that no line of a message the caller then
 * tempfails says otherwise.  Only where a cut-short write cannot be cut
 * back (an append-only file) do the whole lines that landed count.
 */
int
audit_write(struct audit *a, const struct audit_entry *e, size_t n)
{
	char (*chains)[AUDIT_HASH_HEX] = NULL, *buf = NULL;
	size_t *ends = NULL, len = 0, landed = 0;
	off_t start;
	int rc = -1, saved = 0;

	if (n == 0)
		return 0;
	pthread_mutex_lock(&a->lock);
	if ((ends = calloc(n, sizeof(*ends))) == NULL ||
	    (chains = calloc(n, sizeof(*chains))) == NULL)
		saved = errno;
	else if (a->fd == -1)
		saved = EBADF;
	else if (prepare(a) == -1 ||
	    batch_build(a, e, n, &buf, &len, ends, chains) == -1)
		saved = errno;
	else {
		start = a->end;
		if (put(a, buf, len) == 0) {
			landed = n;
			rc = 0;
		} else {
			saved = errno;
			/* Kept (not cut): its whole lines are in the trail. */
			while (a->broken && landed < n &&
			    start + (off_t)ends[landed] <= a->torn_end)
				landed++;
			if (landed > 0)
				a->end = start + (off_t)ends[landed - 1];
		}
		if (landed > 0)
			memcpy(a->chain, chains[landed - 1], AUDIT_HASH_HEX);
	}
	for (size_t i = landed; i < n; i++)
		note_lost(a, &e[i], saved);
	pthread_mutex_unlock(&a->lock);
	free(buf);
	free(ends);
	free(chains);
	if (rc == -1)
		errno = saved;
	return rc;
}

/* gap_num - the number after key (as "name":) in a gap line; 0 if none. */
static unsigned long long
gap_num(const char *line, size_t len, const char *key)
{
	const char *p = memmem(line, len, key, strlen(key));

	return p == NULL ? 0 : strtoull(p + strlen(key), NULL, 10);
}

/* gap_str - the string after key (as "name":") in a gap line; "" if none. */
static void
gap_str(const char *line, size_t len, const char *key, char *out, size_t cap)
{
	const char *p = memmem(line, len, key, strlen(key)), *end = line + len;
	size_t n = 0;

	if (p != NULL)
		for (p += strlen(key); p < end && *p != '"' && n + 1 < cap; p++)
			out[n++] = *p;
	out[n] = '\0';
}

/* gap_read - what a gap line (already checked by its chain) says. */
static void
gap_read(const char *line, size_t len, struct audit_gap *g)
{
	memset(g, 0, sizeof(*g));
	g->lost = (unsigned long)gap_num(line, len, "\"lost\":");
	gap_str(line, len, "\"since\":\"", g->since, sizeof(g->since));
	gap_str(line, len, "\"until\":\"", g->until, sizeof(g->until));
	gap_str(line, len, "\"error\":\"", g->error, sizeof(g->error));
	g->crash = memmem(line, len, "\"crash\":true", 12) != NULL;
	g->torn = memmem(line, len, "\"at\":", 5) != NULL;
	g->at = gap_num(line, len, "\"at\":");
	g->removed = gap_num(line, len, "\"removed\":");
	g->kept = gap_num(line, len, "\"kept\":");
}

/* The run of kept torn lines that the next gap line must name. */
struct torn_run {
	crypto_hash_sha256_state hs;
	unsigned long first;		/* its first line, or 0: none */
	unsigned long long at, bytes;
};

/* run_add - a kept torn line (n octets at offset at, line number ln). */
static void
run_add(struct torn_run *r, const char *line, size_t n, unsigned long ln,
    unsigned long long at)
{
	if (r->first == 0) {
		r->first = ln;
		r->at = at;
		r->bytes = 0;
		crypto_hash_sha256_init(&r->hs);
	}
	crypto_hash_sha256_update(&r->hs, (const unsigned char *)line, n);
	r->bytes += n;
}

/*
 * gap_check - a gap line (line ln at offset at) must name exactly the
 * torn run before it, if any; then it goes to gapfn.  0, or -1 with err
 * and *bad.
 */
static int
gap_check(struct torn_run *r, const char *line, size_t n, unsigned long ln,
    unsigned long long at, audit_gap_fn *gapfn, void *arg, unsigned long *bad,
    char *err, size_t errlen)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char sha[AUDIT_HASH_HEX], want[96] = "";
	struct audit_gap g;

	gap_read(line, n, &g);
	if (r->first) {
		crypto_hash_sha256_final(&r->hs, h);
		hex(h, sizeof(h), sha);
		snprintf(want, sizeof(want), "\"kept_sha256\":\"%s\"", sha);
	}
	if (g.kept != r->bytes || (r->first && memmem(line, n, want,
	    strlen(want)) == NULL)) {
		*bad = r->first ? r->first : ln;
		if (r->first)
			return util_fail(err, errlen, "line %lu (offset %llu): the "
			    "%llu torn bytes from here are not those the gap line "
			    "%lu names: changed", r->first, r->at, r->bytes, ln);
		return util_fail(err, errlen, "line %lu: a gap line naming %llu "
		    "torn bytes before it that are not there", ln, g.kept);
	}
	g.line = ln;
	g.offset = at;
	g.torn_first = r->first;
	g.torn_last = r->first ? ln - 1 : 0;
	if (gapfn != NULL)
		gapfn(arg, &g);
	r->first = 0;
	r->bytes = 0;
	return 0;
}

/* unchained - why line ln does not follow the chain; -1 with err, *bad. */
static int
unchained(const struct torn_run *r, unsigned long ln, int have_chain,
    unsigned long *bad, char *err, size_t errlen)
{
	*bad = r->first ? r->first : ln;
	if (r->first)
		return util_fail(err, errlen, "line %lu (offset %llu): a torn "
		    "line that no gap line names", r->first, r->at);
	if (!have_chain)
		return util_fail(err, errlen, "line %lu: the file does not "
		    "start with an \"open\" line, or it was changed", ln);
	return util_fail(err, errlen, "line %lu: chain broken: this line was "
	    "changed, or a line before it was removed, added or moved", ln);
}

int
audit_verify(FILE *fp, char chain[AUDIT_HASH_HEX], int *have_chain,
    unsigned long *nlines, unsigned long *bad, audit_gap_fn *gapfn, void *arg,
    char *err, size_t errlen)
{
	struct torn_run r;
	char *line = NULL, next[AUDIT_HASH_HEX];
	unsigned long long off = 0, at;
	size_t cap = 0;
	ssize_t n;
	int kind, rc = -1;

	memset(&r, 0, sizeof(r));
	*bad = 0;
	*nlines = 0;
	while ((n = getline(&line, &cap, fp)) != -1) {
		(*nlines)++;
		at = off;
		off += (unsigned long long)n;
		if (n == 0 || line[n - 1] != '\n') {
			*bad = *nlines;
			util_fail(err, errlen, "line %lu (offset %llu): not a whole "
			    "line (no newline): a write cut short, which the "
			    "writer cuts off and names before its next line",
			    *nlines, at);
			goto out;
		}
		if (n == 1) {
			*bad = *nlines;
			util_fail(err, errlen, "line %lu: empty line", *nlines);
			goto out;
		}
		if (audit_chain_line(line, (size_t)n - 1, *have_chain ? chain :
		    NULL, next, &kind, NULL) == -1) {
			/* Torn and kept: the next gap line must name it. */
			if (line[n - 2] == '~') {
				run_add(&r, line, (size_t)n, *nlines, at);
				continue;
			}
			(void)unchained(&r, *nlines, *have_chain, bad, err, errlen);
			goto out;
		}
		if (kind == AUDIT_LINE_GAP) {
			if (gap_check(&r, line, (size_t)n - 1, *nlines, at, gapfn,
			    arg, bad, err, errlen) == -1)
				goto out;
		} else if (r.first) {
			*bad = r.first;
			util_fail(err, errlen, "line %lu (offset %llu): a torn line "
			    "that no gap line names", r.first, r.at);
			goto out;
		}
		memcpy(chain, next, AUDIT_HASH_HEX);
		*have_chain = 1;
	}
	if (ferror(fp)) {
		util_fail(err, errlen, "read error: %s", strerror(errno));
		goto out;
	}
	if (r.first) {
		*bad = r.first;
		util_fail(err, errlen, "line %lu (offset %llu): torn lines at the "
		    "end, which the writer names before its next line", r.first,
		    r.at);
		goto out;
	}
	rc = 0;
out:
	free(line);
	return rc;
}
