/*
 * audit.c - the hash-chained audit trail (see audit.h).
 *
 * Lines are built in memory and appended with one write(2) on an O_APPEND
 * descriptor, under a mutex that also orders the chain, so a line is never
 * split or interleaved, even under load or at SIGKILL.
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
#include "util/util.h"

#define CHAIN_TAG	",\"chain\":\""
#define GENESIS		"0000000000000000000000000000000000000000000000000000000000000000"

struct audit {
	pthread_mutex_t lock;
	int	fd;
	char	path[1024];
	int	plain;
	unsigned char key[AUDIT_KEY_BYTES];
	char	chain[AUDIT_HASH_HEX];	/* of the last line written */
};

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

/* next = hex SHA-256(prev || text[0..len]) */
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
    char next[AUDIT_HASH_HEX], int *is_open, char *openprev)
{
	const char *tag = NULL, *p;
	size_t taglen = strlen(CHAIN_TAG), pre;
	char want[AUDIT_HASH_HEX];

	*is_open = 0;
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
	/* An "open" line names the chain value it continues. */
	if (len > 20 && memmem(line, pre, "\"type\":\"open\"", 13) != NULL) {
		const char *q = memmem(line, pre, "\"prev\":\"", 8);

		if (q == NULL || (size_t)(q - line) + 8 + 64 > pre ||
		    !is_hex64(q + 8))
			return -1;
		*is_open = 1;
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

/* The chain value of the last whole line of fd's file; unchanged if none. */
static int
last_chain(int fd, char chain[AUDIT_HASH_HEX], int *torn)
{
	char buf[AUDIT_LINE_MAX + 2];
	off_t size = lseek(fd, 0, SEEK_END), from;
	ssize_t n;
	char *end, *start;
	const char *tag;
	size_t tl = strlen(CHAIN_TAG);

	/* An empty file (new, or just rotated) continues the chain we hold. */
	*torn = 0;
	if (size <= 0)
		return 0;
	from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
	if ((n = pread(fd, buf, (size_t)(size - from), from)) <= 0)
		return -1;
	buf[n] = '\0';
	if (buf[n - 1] != '\n')
		*torn = 1;	/* a partial line: never append onto it */
	end = buf + n;
	if (*torn) {
		if ((end = memrchr(buf, '\n', (size_t)n)) == NULL)
			return 0;
		end++;
	}
	/* end points after the last whole line's newline. */
	if (end - buf < 2)
		return 0;
	start = memrchr(buf, '\n', (size_t)(end - 1 - buf));
	start = start ? start + 1 : buf;
	/* Take its chain field as it is: verify checks it, not the writer. */
	tag = memmem(start, (size_t)(end - 1 - start), CHAIN_TAG, tl);
	if (tag != NULL && (size_t)(end - 1 - tag) >= tl + 64 &&
	    is_hex64(tag + tl)) {
		memcpy(chain, tag + tl, 64);
		chain[64] = '\0';
	}
	return 0;
}

/* Append one finished line (without its chain) under the lock. */
static int
append(struct audit *a, char *line, size_t len, size_t cap)
{
	char next[AUDIT_HASH_HEX];
	ssize_t w;
	int n;

	chain_next(a->chain, line, len, next);
	n = snprintf(line + len, cap - len, "%s%s\"}\n", CHAIN_TAG, next);
	if (n < 0 || (size_t)n >= cap - len) {
		errno = E2BIG;
		return -1;
	}
	len += (size_t)n;
	w = write(a->fd, line, len);
	if (w != (ssize_t)len) {
		if (w >= 0) {
			/* Never leave a half line for the next one to join. */
			if (write(a->fd, "\n", 1) != 1) {
				/* nothing more to do: verify will name it */
			}
			errno = ENOSPC;
		}
		return -1;
	}
	memcpy(a->chain, next, AUDIT_HASH_HEX);
	return 0;
}

static int
open_line(struct audit *a)
{
	char line[256], tb[32];
	struct timespec ts;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof(line), "{\"v\":1,\"type\":\"open\",\"t\":\"%s\","
	    "\"prev\":\"%s\"", time_format_ms((int64_t)ts.tv_sec * 1000 +
	    ts.tv_nsec / 1000000, tb, sizeof(tb)), a->chain);
	return append(a, line, (size_t)n, sizeof(line));
}

static int
open_fd(struct audit *a, char *err, size_t errlen)
{
	int torn;

	a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (a->fd == -1)
		return util_fail(err, errlen, "audit log %s: %s", a->path,
		    strerror(errno));
	/* Read the tail through a second descriptor: ours is write-only. */
	{
		int rfd = open(a->path, O_RDONLY | O_CLOEXEC);

		if (rfd == -1 || last_chain(rfd, a->chain, &torn) == -1) {
			if (rfd != -1)
				close(rfd);
			close(a->fd);
			a->fd = -1;
			return util_fail(err, errlen, "audit log %s: cannot read its "
			    "last line", a->path);
		}
		close(rfd);
	}
	if (torn && write(a->fd, "\n", 1) != 1) {
		close(a->fd);
		a->fd = -1;
		return util_fail(err, errlen, "audit log %s: %s", a->path,
		    strerror(errno));
	}
	if (open_line(a) == -1) {
		close(a->fd);
		a->fd = -1;
		return util_fail(err, errlen, "audit log %s: %s", a->path,
		    strerror(errno));
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
	util_strlcpy(a->path, path, sizeof(a->path));
	memcpy(a->chain, GENESIS, AUDIT_HASH_HEX);
	if (key != NULL)
		memcpy(a->key, key, AUDIT_KEY_BYTES);
	else
		a->plain = 1;
	if (open_fd(a, err, errlen) == -1) {
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
	if (a->fd != -1)
		close(a->fd);
	rc = open_fd(a, err, errlen);
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
	n = json_escape(value, buf + *len, cap - *len);
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

int
audit_write(struct audit *a, const struct audit_entry *e, size_t n)
{
	char line[AUDIT_LINE_MAX];
	size_t len;
	int rc = 0;

	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < n; i++) {
		if (a->fd == -1) {
			errno = EBADF;
			rc = -1;
			break;
		}
		if (build(a, &e[i], line, sizeof(line) - 80, &len) == -1) {
			errno = E2BIG;
			rc = -1;
			continue;
		}
		if (append(a, line, len, sizeof(line)) == -1)
			rc = -1;
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

int
audit_verify(FILE *fp, char chain[AUDIT_HASH_HEX], int *have_chain,
    unsigned long *nlines, unsigned long *bad, char *err, size_t errlen)
{
	char *line = NULL, next[AUDIT_HASH_HEX], openprev[AUDIT_HASH_HEX];
	size_t cap = 0;
	ssize_t n;
	int is_open;

	*bad = 0;
	*nlines = 0;
	while ((n = getline(&line, &cap, fp)) != -1) {
		(*nlines)++;
		if (n == 0 || line[n - 1] != '\n') {
			*bad = *nlines;
			free(line);
			return util_fail(err, errlen, "line %lu: not a whole line (no "
			    "newline)", *nlines);
		}
		line[--n] = '\0';
		if (n == 0) {
			*bad = *nlines;
			free(line);
			return util_fail(err, errlen, "line %lu: empty line", *nlines);
		}
		if (audit_chain_line(line, (size_t)n, *have_chain ? chain : NULL,
		    next, &is_open, openprev) == -1) {
			*bad = *nlines;
			free(line);
			if (!*have_chain)
				return util_fail(err, errlen, "line %lu: the file does "
				    "not start with an \"open\" line, or it was "
				    "changed", *nlines);
			return util_fail(err, errlen, "line %lu: chain broken: this "
			    "line was changed, or a line before it was removed, "
			    "added or moved", *nlines);
		}
		memcpy(chain, next, AUDIT_HASH_HEX);
		*have_chain = 1;
	}
	free(line);
	if (ferror(fp))
		return util_fail(err, errlen, "read error: %s", strerror(errno));
	return 0;
}
