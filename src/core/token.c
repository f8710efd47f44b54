/*
 * token.c - the signed per-recipient unsubscribe token (see token.h).
 *
 * XChaCha20-Poly1305 seals the claims and authenticates the key id: a
 * random 192-bit nonce per token needs no counter, and the 128-bit tag
 * is the signature.  Nothing in the plaintext is parsed before the tag
 * holds, and what is parsed then is checked as strictly as addr.c and
 * record.c check their own input.  No allocation.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/token.h"
#include "util/util.h"

#define TOKEN_VERSION	1
#define NONCE_BYTES	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES	crypto_aead_xchacha20poly1305_ietf_ABYTES
#define HEAD_BYTES	(1 + NONCE_BYTES)	/* kid, nonce */
#define PT_FIXED	(1 + 8 + 1)		/* version, issued, len */
#define PT_MIN		(PT_FIXED + 1 + 3)	/* "a@b" on list "x" */
#define PT_MAX		(PT_FIXED + REC_LIST_MAX + ADDR_MAX)
#define RAW_MIN		(HEAD_BYTES + PT_MIN + TAG_BYTES)
#define RAW_MAX		(HEAD_BYTES + PT_MAX + TAG_BYTES)
#define B64		sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define B64_LEN(n)	((size_t)sodium_base64_ENCODED_LEN((n), B64) - 1)
#define KEYFILE_MAX	128	/* a key file: one line of 43 */

/*
 * b64url_text - 1 if s (n octets) is all base64url alphabet.  Checked
 * before libsodium decodes: 1.0.18 reads any octet >= 0x80 as '_' (a
 * signed char in its decoder), so one token would have many spellings.
 */
static int
b64url_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

int
token_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

int
token_key_load(const char *path, unsigned id, struct token_key *k,
    char *err, size_t errlen)
{
	char buf[KEYFILE_MAX + 1];
	unsigned char bin[KEYFILE_MAX];
	size_t n = 0, klen;
	const char *who, *what;
	struct stat sb;
	unsigned mode;
	ssize_t r;
	int fd, rc = -1;

	if (id < 1 || id > 255)
		return util_fail(err, errlen, "%s: key id %u is not in 1..255",
		    path, id);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return util_fail(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) == -1) {
		util_fail(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(sb.st_mode)) {
		util_fail(err, errlen, "%s: not a regular file", path);
		goto done;
	}
	/*
	 * Checked before reading: a key others could read is spent.  The
	 * group may read it (0640): the milter and consent-unsubd run as two
	 * users sharing a group.
	 */
	if ((mode = sb.st_mode & 07777) & 037) {
		who = (mode & 030) && (mode & 07) ? "group and others" :
		    (mode & 030) ? "the group" : "others";
		what = (mode & 004) && (mode & 022) ? "read and write" :
		    (mode & 004) ? "read" : (mode & 022) ? "write" : "execute";
		util_fail(err, errlen, "%s: mode %04o lets %s %s the key "
		    "(chmod 640 %s, and make a new key if it was read)", path,
		    mode, who, what, path);
		goto done;
	}
	while (n < sizeof(buf) &&
	    (r = read(fd, buf + n, sizeof(buf) - n)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			util_fail(err, errlen, "%s: %s", path, strerror(errno));
			goto done;
		}
		n += (size_t)r;
	}
	if (n > KEYFILE_MAX) {
		util_fail(err, errlen, "%s: longer than a key file (%d octets "
		    "at most)", path, KEYFILE_MAX);
		goto done;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0) {
		util_fail(err, errlen, "%s: empty key file", path);
		goto done;
	}
	/* Decoded into a larger buffer to tell a short key from bad text. */
	if (!b64url_text(buf, n) || sodium_base642bin(bin, sizeof(bin), buf,
	    n, NULL, &klen, NULL, B64) != 0) {
		util_fail(err, errlen, "%s: not unpadded base64url (a key file "
		    "holds one line of %zu characters)", path,
		    B64_LEN(TOKEN_KEY_BYTES));
		goto done;
	}
	if (klen != TOKEN_KEY_BYTES) {
		util_fail(err, errlen, "%s: key is %zu octets, not %d", path, klen,
		    TOKEN_KEY_BYTES);
		goto done;
	}
	k->id = id;
	memcpy(k->key, bin, TOKEN_KEY_BYTES);
	rc = 0;
done:
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(bin, sizeof(bin));
	close(fd);
	return rc;
}

int
token_key_write(const char *path, char *err, size_t errlen)
{
	unsigned char key[TOKEN_KEY_BYTES];
	char text[B64_LEN(TOKEN_KEY_BYTES) + 2];	/* newline, NUL */
	size_t n, off = 0;
	ssize_t w;
	int fd, rc = -1;

	/* O_EXCL: never replace a key that signed tokens still out there. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return util_fail(err, errlen, "%s: %s", path, strerror(errno));
	randombytes_buf(key, sizeof(key));
	sodium_bin2base64(text, sizeof(text) - 1, key, sizeof(key), B64);
	n = strlen(text);
	text[n++] = '\n';
	while (off < n) {
		if ((w = write(fd, text + off, n - off)) == -1) {
			if (errno == EINTR)
				continue;
			util_fail(err, errlen, "%s: %s", path, strerror(errno));
			goto done;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1) {
		util_fail(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(text, sizeof(text));
	if (close(fd) == -1 && rc == 0)
		rc = util_fail(err, errlen, "%s: %s", path, strerror(errno));
	/* Half a key is worse than none: it would fail only at load. */
	if (rc == -1)
		unlink(path);
	return rc;
}

/* key_check - 1 if s (n octets) is a store key, as addr_normalize makes it. */
static int
key_check(const char *s, size_t n)
{
	struct addr a;
	char err[128];

	if (n == 0 || n > ADDR_MAX || memchr(s, '\0', n) != NULL)
		return 0;
	/* Case-sensitive keeps both kinds of key as they are. */
	if (addr_normalize(s, n, ADDR_CASE_SENSITIVE, "", &a, err,
	    sizeof(err)) == -1)
		return 0;
	return strlen(a.key) == n && memcmp(a.key, s, n) == 0;
}

static int
list_check(const char *s, size_t n)
{
	char list[REC_LIST_MAX + 1], err[128];

	if (n == 0 || n > REC_LIST_MAX)
		return 0;
	memcpy(list, s, n);
	list[n] = '\0';
	return strlen(list) == n && record_list_check(list, err,
	    sizeof(err)) == 0;
}

static int64_t
lifetime_of(const struct token_ring *r)
{
	return r->lifetime > 0 ? r->lifetime : TOKEN_LIFETIME_DEFAULT;
}

/*
 * ad_of - the AEAD's associated data: the key id, then the purpose's tag.
 * An unsubscribe token has none (the tokens issued before purposes stay
 * valid); any other purpose seals its own, so a token made for one
 * purpose fails the tag of every other.  Returns the length in ad.
 */
static size_t
ad_of(unsigned char kid, int purpose, unsigned char ad[16])
{
	static const char *const tags[] = { "", "confirm" };
	size_t n = purpose > 0 && purpose < (int)(sizeof(tags) / sizeof(tags[0])) ?
	    strlen(tags[purpose]) : 0;

	ad[0] = kid;
	memcpy(ad + 1, tags[n ? purpose : 0], n);
	return 1 + n;
}

int
token_make(const struct token_ring *r, const char *addr, const char *list,
    int64_t now, char *out, size_t outlen)
{
	return token_make_for(r, TOKEN_UNSUBSCRIBE, addr, list, now, out, outlen);
}

int
token_make_for(const struct token_ring *r, int purpose, const char *addr,
    const char *list, int64_t now, char *out, size_t outlen)
{
	unsigned char raw[RAW_MAX], pt[PT_MAX], ad[16];
	size_t alen, llen, ptlen, rawlen, need;
	unsigned long long clen;
	uint64_t t;

	if (r == NULL || r->nkeys == 0 || r->nkeys > TOKEN_KEYS_MAX ||
	    r->keys[0].id < 1 || r->keys[0].id > 255 || addr == NULL ||
	    list == NULL || now < 0 || purpose < 0 || purpose >= TOKEN_PURPOSES)
		return -1;
	alen = strlen(addr);
	llen = strlen(list);
	/* A token that could never verify is not made. */
	if (!key_check(addr, alen) || !list_check(list, llen))
		return -1;
	ptlen = PT_FIXED + llen + alen;
	rawlen = HEAD_BYTES + ptlen + TAG_BYTES;
	need = B64_LEN(rawlen) + 1;
	if (out == NULL || outlen < need)
		return -1;

	pt[0] = TOKEN_VERSION;
	t = (uint64_t)now;
	for (int i = 0; i < 8; i++)
		pt[1 + i] = (unsigned char)(t >> (56 - 8 * i));
	pt[9] = (unsigned char)llen;
	memcpy(pt + PT_FIXED, list, llen);
	memcpy(pt + PT_FIXED + llen, addr, alen);

	raw[0] = (unsigned char)r->keys[0].id;
	randombytes_buf(raw + 1, NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(raw + HEAD_BYTES, &clen,
	    pt, ptlen, ad, ad_of(raw[0], purpose, ad), NULL, raw + 1,
	    r->keys[0].key);
	sodium_memzero(pt, sizeof(pt));
	sodium_bin2base64(out, outlen, raw, rawlen, B64);
	return (int)(need - 1);
}

/*
 * ct_eq - 0xff if a == b, else 0, without a branch on either: the key id
 * is not secret, but which slot of the ring holds it need not show.
 */
static unsigned char
ct_eq(unsigned a, unsigned b)
{
	unsigned x = a ^ b;

	return (unsigned char)(((x | (0U - x)) >> (sizeof(x) * 8 - 1)) - 1);
}

int
token_verify(const struct token_ring *r, const char *tok, size_t len,
    int64_t now, struct token_claims *c)
{
	return token_verify_for(r, TOKEN_UNSUBSCRIBE, r != NULL ?
	    lifetime_of(r) : 0, tok, len, now, c);
}

int
token_verify_for(const struct token_ring *r, int purpose, int64_t lifetime,
    const char *tok, size_t len, int64_t now, struct token_claims *c)
{
	unsigned char raw[RAW_MAX + 2], pt[PT_MAX], key[TOKEN_KEY_BYTES], ad[16];
	unsigned char found = 0, m;
	size_t rawlen, ptlen, llen, alen;
	uint64_t t;
	int64_t issued;
	int ok;

	if (c != NULL)
		memset(c, 0, sizeof(*c));
	if (r == NULL || r->nkeys == 0 || r->nkeys > TOKEN_KEYS_MAX ||
	    tok == NULL || c == NULL || now < 0 || len < B64_LEN(RAW_MIN) ||
	    len > B64_LEN(RAW_MAX) || purpose < 0 || purpose >= TOKEN_PURPOSES ||
	    lifetime <= 0)
		return -1;
	/* libsodium refuses non-zero trailing bits. */
	if (!b64url_text(tok, len) || sodium_base642bin(raw, sizeof(raw), tok,
	    len, NULL, &rawlen, NULL, B64) != 0 ||
	    rawlen < RAW_MIN || rawlen > RAW_MAX)
		return -1;

	/*
	 * Every slot is read and one decryption runs whether or not the id
	 * is known (keys[0] stands in), so the time taken says nothing.
	 */
	memcpy(key, r->keys[0].key, sizeof(key));
	for (unsigned i = 0; i < r->nkeys; i++) {
		const struct token_key *k = &r->keys[i];

		m = ct_eq(k->id, raw[0]) & (unsigned char)~found;
		m &= (unsigned char)~ct_eq(k->id, 0);
		for (size_t j = 0; j < sizeof(key); j++)
			key[j] = (unsigned char)((key[j] & ~m) |
			    (k->key[j] & m));
		found |= m;
	}
	ok = crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL,
	    raw + HEAD_BYTES, rawlen - HEAD_BYTES, ad, ad_of(raw[0], purpose, ad),
	    raw + 1, key) == 0;
	sodium_memzero(key, sizeof(key));
	if (!ok || !found) {
		sodium_memzero(pt, sizeof(pt));
		return -1;
	}

	/* Authentic from here on, and still checked: trust no build blindly. */
	ok = 0;
	ptlen = rawlen - HEAD_BYTES - TAG_BYTES;
	if (pt[0] != TOKEN_VERSION)
		goto done;
	t = 0;
	for (int i = 0; i < 8; i++)
		t = t << 8 | pt[1 + i];
	if (t > INT64_MAX)
		goto done;
	issued = (int64_t)t;
	llen = pt[9];
	if (llen == 0 || llen > REC_LIST_MAX || PT_FIXED + llen >= ptlen)
		goto done;
	alen = ptlen - PT_FIXED - llen;
	if (!list_check((const char *)pt + PT_FIXED, llen) ||
	    !key_check((const char *)pt + PT_FIXED + llen, alen))
		goto done;
	/* Both times are >= 0 here: the differences cannot overflow. */
	if (issued > now && issued - now > TOKEN_SKEW)
		goto done;
	if (now > issued && now - issued > lifetime)
		goto done;
	memcpy(c->list, pt + PT_FIXED, llen);
	c->list[llen] = '\0';
	memcpy(c->addr, pt + PT_FIXED + llen, alen);
	c->addr[alen] = '\0';
	c->issued = issued;
	c->kid = raw[0];
	ok = 1;
done:
	sodium_memzero(pt, sizeof(pt));
	return ok ? 0 : -1;
}

void
token_wipe(struct token_ring *r)
{
	/* All of it: a wiped ring has no keys, not zero keys. */
	if (r != NULL)
		sodium_memzero(r, sizeof(*r));
}
