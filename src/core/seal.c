/*
 * seal.c - the forward-secure MAC chain of audit checkpoints (seal.h):
 * key evolution, the canonical checkpoint text and its MAC, the JSON
 * line, the auditor's verifier string and the host's two-slot key file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/seal.h"
#include "util/bin.h"
#include "util/time.h"
#include "util/util.h"

#define KDF_CTX		"cmseal01"	/* crypto_kdf_CONTEXTBYTES: 8 */
#define KDF_EVOLVE	1
#define KDF_MAC		2

#define TEXT_HEAD	"consent-milter audit seal v1\n"
#define VERIFIER_TAG	"cmseal1:"
#define B64		sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* The key file: two slots, each magic, epoch, t0, interval, key, checksum. */
#define SLOT_MAGIC	"CMSEALK1"
#define SLOT_LEN	80
#define SLOT_SUM	64	/* the checksum covers the octets before it */
#define SLOT_OFF(i)	((off_t)(i) * 4096)

struct seal_keyfile {
	int	fd;
	int	slot;			/* the slot holding key */
	char	path[1024];
	struct seal_key key;
};

void
seal_evolve(const unsigned char in[SEAL_KEY_BYTES],
    unsigned char out[SEAL_KEY_BYTES])
{
	unsigned char next[SEAL_KEY_BYTES];

	crypto_kdf_derive_from_key(next, sizeof(next), KDF_EVOLVE, KDF_CTX, in);
	memcpy(out, next, sizeof(next));
	sodium_memzero(next, sizeof(next));
}

void
seal_cursor_init(struct seal_cursor *c, const struct seal_verifier *v)
{
	c->epoch = 0;
	memcpy(c->key, v->k0, SEAL_KEY_BYTES);
}

void
seal_key_at(const struct seal_verifier *v, struct seal_cursor *c,
    uint64_t epoch, unsigned char out[SEAL_KEY_BYTES])
{
	struct seal_cursor own;

	if (c == NULL)
		c = &own;
	if (c == &own || epoch < c->epoch)
		seal_cursor_init(c, v);
	for (; c->epoch < epoch; c->epoch++)
		seal_evolve(c->key, c->key);
	memcpy(out, c->key, SEAL_KEY_BYTES);
	sodium_memzero(&own, sizeof(own));
}

int64_t
seal_epoch_start(int64_t t0, int64_t interval, uint64_t e)
{
	return t0 + (int64_t)e * interval;
}

uint64_t
seal_epoch_at(int64_t t0, int64_t interval, int64_t t)
{
	return t < t0 || interval <= 0 ? 0 : (uint64_t)((t - t0) / interval);
}

int64_t
seal_grace(int64_t interval)
{
	/* The filter seals within a second of an epoch's end, but a busy or
	 * slow disk may hold it up: half an interval, at most a minute. */
	return interval >= 120 ? 60 : interval / 2 + 2;
}

size_t
seal_text(const struct seal_point *p, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, TEXT_HEAD "file %s\nepoch %" PRIu64 "\n"
	    "through %" PRIu64 "\nstart %" PRId64 "\nend %" PRId64 "\n"
	    "sealed %" PRId64 "\nlines %llu\nhead %s\nlate %d\n", p->file,
	    p->epoch, p->through, p->start, p->end, p->sealed_ms, p->lines,
	    p->head, p->late ? 1 : 0);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

void
seal_mac(const unsigned char k[SEAL_KEY_BYTES], const struct seal_point *p,
    unsigned char mac[SEAL_MAC_BYTES])
{
	unsigned char mk[SEAL_KEY_BYTES];
	char text[SEAL_LINE_MAX];
	size_t n = seal_text(p, text, sizeof(text));

	crypto_kdf_derive_from_key(mk, sizeof(mk), KDF_MAC, KDF_CTX, k);
	crypto_generichash(mac, SEAL_MAC_BYTES, (const unsigned char *)text, n,
	    mk, sizeof(mk));
	sodium_memzero(mk, sizeof(mk));
}

/* file_ok - 1 if name is 1..SEAL_FILE_MAX-1 octets of [A-Za-z0-9._-]. */
static int
file_ok(const char *name, size_t n)
{
	if (n == 0 || n >= SEAL_FILE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

size_t
seal_format(const struct seal_point *p, const unsigned char mac[SEAL_MAC_BYTES],
    char *buf, size_t cap)
{
	char tb[32], ts[32], te[32], mh[SEAL_HEX];
	int n;

	if (!file_ok(p->file, strlen(p->file)))
		return 0;
	sodium_bin2hex(mh, sizeof(mh), mac, SEAL_MAC_BYTES);
	n = snprintf(buf, cap, "{\"v\":1,\"type\":\"seal\",\"t\":\"%s\","
	    "\"file\":\"%s\",\"epoch\":%" PRIu64 ",\"through\":%" PRIu64 ","
	    "\"start\":\"%s\",\"end\":\"%s\",\"lines\":%llu,\"head\":\"%s\","
	    "\"late\":%s,\"mac\":\"%s\"", time_format_ms(p->sealed_ms, tb,
	    sizeof(tb)), p->file, p->epoch, p->through, time_format(p->start,
	    ts, sizeof(ts)), time_format(p->end, te, sizeof(te)), p->lines,
	    p->head, p->late ? "true" : "false", mh);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* A cursor over a line being parsed. */
struct cur {
	const char *p, *end;
};

/* lit - the literal s is next: skip it; 0 / -1. */
static int
lit(struct cur *c, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
		return -1;
	c->p += n;
	return 0;
}

/* str - a string value up to the next '"', into out (cap); 0 / -1. */
static int
str(struct cur *c, char *out, size_t cap)
{
	const char *q = memchr(c->p, '"', (size_t)(c->end - c->p));

	if (q == NULL || (size_t)(q - c->p) >= cap ||
	    memchr(c->p, '\0', (size_t)(q - c->p)) != NULL)
		return -1;
	memcpy(out, c->p, (size_t)(q - c->p));
	out[q - c->p] = '\0';
	c->p = q + 1;
	return 0;
}

/* num - an unsigned decimal (no sign, no leading zero but "0"); 0 / -1. */
static int
num(struct cur *c, uint64_t *v)
{
	const char *s = c->p;
	uint64_t x = 0;

	if (s == c->end || *s < '0' || *s > '9' || (*s == '0' && s + 1 <
	    c->end && s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; s < c->end && *s >= '0' && *s <= '9'; s++) {
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	c->p = s;
	*v = x;
	return 0;
}

/* hex64 - 64 lowercase hex digits, as a string value, into out; 0 / -1. */
static int
hex64(struct cur *c, char out[SEAL_HEX])
{
	if (str(c, out, SEAL_HEX) == -1 || strlen(out) != 64)
		return -1;
	for (int i = 0; i < 64; i++)
		if (!((out[i] >= '0' && out[i] <= '9') ||
		    (out[i] >= 'a' && out[i] <= 'f')))
			return -1;
	return 0;
}

/* stime - an RFC 3339 time in seconds, as seal_format writes it; 0 / -1. */
static int
stime(struct cur *c, int64_t *t)
{
	char b[32], again[32];

	if (str(c, b, sizeof(b)) == -1 || time_parse(b, t) == -1 ||
	    strcmp(time_format(*t, again, sizeof(again)), b) != 0)
		return -1;
	return 0;
}

int
seal_parse(const char *line, size_t len, struct seal_point *p,
    unsigned char mac[SEAL_MAC_BYTES])
{
	struct cur c = { line, line + len };
	struct time_memo memo;
	char tb[32], again[32], mh[SEAL_HEX];
	uint64_t lines;

	memset(p, 0, sizeof(*p));
	memset(&memo, 0, sizeof(memo));
	while (c.end > c.p && (c.end[-1] == '\n' || c.end[-1] == '\r'))
		c.end--;
	if (lit(&c, "{\"v\":1,\"type\":\"seal\",\"t\":\"") == -1 ||
	    str(&c, tb, sizeof(tb)) == -1 ||
	    time_rfc3339_ms(&memo, tb, strlen(tb), &p->sealed_ms) == -1 ||
	    strcmp(time_format_ms(p->sealed_ms, again, sizeof(again)), tb) != 0 ||
	    lit(&c, ",\"file\":\"") == -1 || str(&c, p->file,
	    sizeof(p->file)) == -1 || !file_ok(p->file, strlen(p->file)) ||
	    lit(&c, ",\"epoch\":") == -1 || num(&c, &p->epoch) == -1 ||
	    lit(&c, ",\"through\":") == -1 || num(&c, &p->through) == -1 ||
	    p->through < p->epoch ||
	    lit(&c, ",\"start\":\"") == -1 || stime(&c, &p->start) == -1 ||
	    lit(&c, ",\"end\":\"") == -1 || stime(&c, &p->end) == -1 ||
	    lit(&c, ",\"lines\":") == -1 || num(&c, &lines) == -1 ||
	    lit(&c, ",\"head\":\"") == -1 || hex64(&c, p->head) == -1 ||
	    lit(&c, ",\"late\":") == -1)
		return -1;
	p->lines = (unsigned long long)lines;
	if (lit(&c, "true") == 0)
		p->late = 1;
	else if (lit(&c, "false") == -1)
		return -1;
	if (lit(&c, ",\"mac\":\"") == -1 || hex64(&c, mh) == -1 ||
	    sodium_hex2bin(mac, SEAL_MAC_BYTES, mh, 64, NULL, NULL, NULL) != 0)
		return -1;
	/* Then the end, or the audit trail's chain and the end. */
	if (c.p < c.end && *c.p == ',') {
		char ch[SEAL_HEX];

		if (lit(&c, ",\"chain\":\"") == -1 || hex64(&c, ch) == -1)
			return -1;
	}
	return lit(&c, "}") == 0 && c.p == c.end ? 0 : -1;
}

int
seal_check(const struct seal_verifier *v, struct seal_cursor *c,
    const struct seal_point *p, const unsigned char mac[SEAL_MAC_BYTES],
    uint64_t upto, uint64_t *by)
{
	unsigned char k[SEAL_KEY_BYTES], m[SEAL_MAC_BYTES];
	int rc = -1;

	seal_key_at(v, c, p->epoch, k);
	seal_mac(k, p, m);
	if (sodium_memcmp(m, mac, SEAL_MAC_BYTES) == 0)
		rc = 1;
	/* Not its own key: a later one (stolen from the host) sealed it? */
	for (uint64_t e = p->epoch + 1; rc == -1 && e <= upto &&
	    e - p->epoch <= SEAL_SEARCH_MAX; e++) {
		seal_evolve(k, k);
		seal_mac(k, p, m);
		if (sodium_memcmp(m, mac, SEAL_MAC_BYTES) == 0) {
			*by = e;
			rc = 0;
		}
	}
	sodium_memzero(k, sizeof(k));
	return rc;
}

int
seal_verifier_format(const struct seal_verifier *v, char *buf, size_t cap)
{
	char b64[sodium_base64_ENCODED_LEN(SEAL_KEY_BYTES, B64)];
	int n;

	sodium_bin2base64(b64, sizeof(b64), v->k0, SEAL_KEY_BYTES, B64);
	n = snprintf(buf, cap, VERIFIER_TAG "%" PRId64 ":%" PRId64 ":%s", v->t0,
	    v->interval, b64);
	sodium_memzero(b64, sizeof(b64));
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* verifier_text - the string form into v, exactly as formatted; 0 / -1. */
static int
verifier_text(const char *s, struct seal_verifier *v)
{
	struct cur c = { s, s + strlen(s) };
	const char *kend;
	size_t klen;
	uint64_t t0, iv;

	if (lit(&c, VERIFIER_TAG) == -1 || num(&c, &t0) == -1 ||
	    t0 > INT64_MAX / 2 || lit(&c, ":") == -1 || num(&c, &iv) == -1 ||
	    iv < SEAL_INTERVAL_MIN || iv > SEAL_INTERVAL_MAX || lit(&c, ":") == -1)
		return -1;
	/* The alphabet first: the decoder takes some octets outside it. */
	for (const char *q = c.p; q < c.end; q++)
		if (!((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
		    (*q >= '0' && *q <= '9') || *q == '-' || *q == '_'))
			return -1;
	if (sodium_base642bin(v->k0, SEAL_KEY_BYTES, c.p, (size_t)(c.end - c.p),
	    NULL, &klen, &kend, B64) != 0 || klen != SEAL_KEY_BYTES ||
	    kend != c.end)
		return -1;
	v->t0 = (int64_t)t0;
	v->interval = (int64_t)iv;
	return 0;
}

int
seal_verifier_parse(const char *arg, struct seal_verifier *v, char *err,
    size_t errlen)
{
	char line[SEAL_VERIFIER_MAX + 8];
	FILE *fp;
	int rc;

	memset(v, 0, sizeof(*v));
	if (strncmp(arg, VERIFIER_TAG, strlen(VERIFIER_TAG)) == 0) {
		if (verifier_text(arg, v) == 0)
			return 0;
		return util_fail(err, errlen, "not a verifier key (%s<t0>:"
		    "<interval>:<key>, as 'consentctl audit keygen' printed it)",
		    VERIFIER_TAG);
	}
	if ((fp = fopen(arg, "r")) == NULL)
		return util_fail(err, errlen, "%s: %s", arg, strerror(errno));
	rc = fgets(line, sizeof(line), fp) != NULL ? 0 : -1;
	fclose(fp);
	if (rc == 0) {
		line[strcspn(line, "\r\n")] = '\0';
		rc = verifier_text(line, v);
	}
	sodium_memzero(line, sizeof(line));
	if (rc == -1)
		return util_fail(err, errlen, "%s: its first line is not a "
		    "verifier key (%s<t0>:<interval>:<key>)", arg, VERIFIER_TAG);
	return 0;
}

/* --- the key file ------------------------------------------------------ */

/* slot_encode - k as one slot. */
static void
slot_encode(const struct seal_key *k, unsigned char b[SLOT_LEN])
{
	struct bin_w w = { b, 0, SLOT_SUM, 0 };

	bin_put(&w, SLOT_MAGIC, 8);
	bin_put_i64(&w, (int64_t)k->epoch);
	bin_put_i64(&w, k->t0);
	bin_put_i64(&w, k->interval);
	bin_put(&w, k->key, SEAL_KEY_BYTES);
	crypto_generichash(b + SLOT_SUM, SLOT_LEN - SLOT_SUM, b, SLOT_SUM,
	    NULL, 0);
}

/* slot_decode - one slot into k; 0, or -1 if it holds no good key. */
static int
slot_decode(const unsigned char b[SLOT_LEN], struct seal_key *k)
{
	unsigned char sum[SLOT_LEN - SLOT_SUM];

	if (memcmp(b, SLOT_MAGIC, 8) != 0)
		return -1;
	crypto_generichash(sum, sizeof(sum), b, SLOT_SUM, NULL, 0);
	if (sodium_memcmp(sum, b + SLOT_SUM, sizeof(sum)) != 0)
		return -1;
	{
		struct bin_r r = { b + 8, SLOT_SUM - 8, 0, NULL };

		k->epoch = (uint64_t)bin_i64(&r, "epoch");
		k->t0 = bin_i64(&r, "t0");
		k->interval = bin_i64(&r, "interval");
		bin_take(&r, k->key, SEAL_KEY_BYTES, "key");
		if (r.why != NULL)
			return -1;
	}
	if (k->t0 < 0 || k->interval < SEAL_INTERVAL_MIN ||
	    k->interval > SEAL_INTERVAL_MAX)
		return -1;
	return 0;
}

/* slot_write - b (SLOT_LEN octets) into slot i, synced; 0 / -1 errno. */
static int
slot_write(int fd, int i, const unsigned char *b)
{
	ssize_t w;

	do
		w = pwrite(fd, b, SLOT_LEN, SLOT_OFF(i));
	while (w == -1 && errno == EINTR);
	if (w != SLOT_LEN) {
		if (w >= 0)
			errno = ENOSPC;
		return -1;
	}
	return fdatasync(fd);
}

/* dir_sync - fsync the directory path is in, so that a new file stays. */
static int
dir_sync(const char *path)
{
	char dir[1024], *slash;
	int fd, rc;

	util_strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL)
		util_strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
seal_key_create(const char *path, int64_t now, int64_t interval,
    struct seal_verifier *v, char *err, size_t errlen)
{
	static const unsigned char zero[SLOT_LEN];
	unsigned char b[SLOT_LEN];
	struct seal_key k;
	int fd, rc = -1;

	if (sodium_init() < 0)
		return util_fail(err, errlen, "libsodium failed to initialise");
	if (interval < SEAL_INTERVAL_MIN || interval > SEAL_INTERVAL_MAX)
		return util_fail(err, errlen, "a seal interval of %" PRId64 " s: "
		    "it must be %d s to %d s", interval, SEAL_INTERVAL_MIN,
		    SEAL_INTERVAL_MAX);
	/* O_EXCL: a new K_0 would orphan every seal the old one made. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return util_fail(err, errlen, "%s: %s", path, strerror(errno));
	memset(&k, 0, sizeof(k));
	k.interval = interval;
	k.t0 = now - now % interval;
	k.epoch = 0;
	randombytes_buf(k.key, sizeof(k.key));
	slot_encode(&k, b);
	if (slot_write(fd, 0, b) == -1 || slot_write(fd, 1, zero) == -1 ||
	    fsync(fd) == -1 || dir_sync(path) == -1) {
		util_fail(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	v->t0 = k.t0;
	v->interval = k.interval;
	memcpy(v->k0, k.key, SEAL_KEY_BYTES);
	rc = 0;
done:
	sodium_memzero(&k, sizeof(k));
	sodium_memzero(b, sizeof(b));
	if (close(fd) == -1 && rc == 0)
		rc = util_fail(err, errlen, "%s: %s", path, strerror(errno));
	if (rc == -1)
		unlink(path);
	return rc;
}

int
seal_key_open(struct seal_keyfile **kp, const char *path, char *err,
    size_t errlen)
{
	static const unsigned char zero[SLOT_LEN];
	unsigned char b[2][SLOT_LEN];
	struct seal_key k[2];
	struct seal_keyfile *kf;
	struct stat st;
	int good[2], fd;

	*kp = NULL;
	if (sodium_init() < 0)
		return util_fail(err, errlen, "libsodium failed to initialise");
	if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return util_fail(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return util_fail(err, errlen, "%s: not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return util_fail(err, errlen, "%s: mode %04o: the sealing key "
		    "must be readable by its owner only (chmod 600)", path,
		    (unsigned)(st.st_mode & 07777));
	}
	for (int i = 0; i < 2; i++)
		good[i] = pread(fd, b[i], SLOT_LEN, SLOT_OFF(i)) == SLOT_LEN &&
		    slot_decode(b[i], &k[i]) == 0;
	sodium_memzero(b, sizeof(b));
	if (!good[0] && !good[1]) {
		close(fd);
		sodium_memzero(k, sizeof(k));
		return util_fail(err, errlen, "%s: no sealing key in it (not "
		    "made by 'consentctl audit keygen', or damaged)", path);
	}
	if ((kf = calloc(1, sizeof(*kf))) == NULL) {
		close(fd);
		sodium_memzero(k, sizeof(k));
		return util_fail(err, errlen, "out of memory");
	}
	kf->fd = fd;
	util_strlcpy(kf->path, path, sizeof(kf->path));
	kf->slot = !good[0] || (good[1] && k[1].epoch > k[0].epoch);
	kf->key = k[kf->slot];
	sodium_memzero(k, sizeof(k));
	/* Both good: a crash between writing the new key and erasing the old. */
	if (good[0] && good[1] && slot_write(fd, !kf->slot, zero) == -1) {
		seal_key_close(kf);
		return util_fail(err, errlen, "%s: erasing the old key: %s", path,
		    strerror(errno));
	}
	*kp = kf;
	return 0;
}

const struct seal_key *
seal_keyfile_key(const struct seal_keyfile *kf)
{
	return &kf->key;
}

int
seal_key_advance(struct seal_keyfile *kf, uint64_t to, char *err,
    size_t errlen)
{
	static const unsigned char zero[SLOT_LEN];
	unsigned char b[SLOT_LEN];
	int rc = 0;

	if (to <= kf->key.epoch)
		return 0;
	while (kf->key.epoch < to) {
		seal_evolve(kf->key.key, kf->key.key);
		kf->key.epoch++;
	}
	slot_encode(&kf->key, b);
	/* The new key on disk before the old one goes: a crash keeps one. */
	if (slot_write(kf->fd, !kf->slot, b) == -1)
		rc = util_fail(err, errlen, "%s: writing the key of epoch %"
		    PRIu64 ": %s", kf->path, to, strerror(errno));
	else {
		kf->slot = !kf->slot;
		if (slot_write(kf->fd, !kf->slot, zero) == -1)
			rc = util_fail(err, errlen, "%s: erasing the old key: %s",
			    kf->path, strerror(errno));
	}
	sodium_memzero(b, sizeof(b));
	return rc;
}

void
seal_key_close(struct seal_keyfile *kf)
{
	if (kf == NULL)
		return;
	if (kf->fd != -1)
		close(kf->fd);
	sodium_memzero(&kf->key, sizeof(kf->key));
	free(kf);
}
