/*
 * test_token.c - the unsubscribe token: round trip, a million forged,
 * bit-flipped, truncated, spliced and foreign tokens refused, the checks
 * inside an authentic token, key rotation, the lifetime's edges, and the
 * key files.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/token.h"

#define B64		sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define NOW		INT64_C(1700000000)
#define DAY		INT64_C(86400)
#define FORGERIES	1000000	/* ~2 s, ~3 s under ASan: no fewer */
#define NVALID		64

static struct token_key k_old, k_new, k_foreign;

/* Deterministic choices, so a failure can be replayed. */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void
ring_set(struct token_ring *r, const struct token_key *a,
    const struct token_key *b, int64_t lifetime)
{
	memset(r, 0, sizeof(*r));
	r->keys[r->nkeys++] = *a;
	if (b != NULL)
		r->keys[r->nkeys++] = *b;
	r->lifetime = lifetime;
}

static int
make(const struct token_ring *r, const char *addr, const char *list,
    int64_t now, char *tok)
{
	int n = token_make(r, addr, list, now, tok, TOKEN_MAX);

	if (n < 0)
		fail_msg("token_make(%s, %s) failed", addr, list);
	assert_int_equal((size_t)n, strlen(tok));
	return n;
}

static int
verify(const struct token_ring *r, const char *tok, size_t len, int64_t now,
    struct token_claims *c)
{
	return token_verify(r, tok, len, now, c);
}

/* plain - a plaintext as token.c lays it out, with every field chosen. */
static size_t
plain(unsigned char *pt, int version, uint64_t issued, int listlen,
    const char *list, size_t llen, const char *addr, size_t alen)
{
	size_t n = 0;

	pt[n++] = (unsigned char)version;
	for (int i = 0; i < 8; i++)
		pt[n++] = (unsigned char)(issued >> (56 - 8 * i));
	pt[n++] = (unsigned char)listlen;
	memcpy(pt + n, list, llen);
	n += llen;
	memcpy(pt + n, addr, alen);
	return n + alen;
}

/* seal - a token for any plaintext, under key k, claiming key id kid. */
static size_t
seal(const struct token_key *k, unsigned kid, const unsigned char *pt,
    size_t ptlen, char *out, size_t outlen)
{
	unsigned char raw[1024];
	unsigned long long clen;

	raw[0] = (unsigned char)kid;
	randombytes_buf(raw + 1, 24);
	crypto_aead_xchacha20poly1305_ietf_encrypt(raw + 25, &clen, pt, ptlen,
	    raw, 1, NULL, raw + 1, k->key);
	sodium_bin2base64(out, outlen, raw, 25 + (size_t)clen, B64);
	return strlen(out);
}

static size_t
to_raw(const char *tok, unsigned char *raw, size_t rawmax)
{
	size_t n;

	assert_int_equal(sodium_base642bin(raw, rawmax, tok, strlen(tok), NULL,
	    &n, NULL, B64), 0);
	return n;
}

static size_t
to_text(const unsigned char *raw, size_t n, char *tok, size_t toklen)
{
	sodium_bin2base64(tok, toklen, raw, n, B64);
	return strlen(tok);
}

static void
test_roundtrip(void **state)
{
	static const struct {
		const char *addr, *list;
	} cases[] = {
		{ "alice@example.com", "news" },
		{ "bob+promo@example.org", "default" },
		{ "Carol@example.net", "a" },	/* a case-sensitive key */
		{ "user@xn--bcher-kva.example", "weekly.digest" },
		{ "x@[192.0.2.1]", "l_1-2.3" },
		{ "x@[IPv6:2001:db8::1]", "ops" },
		{ "\"a b\"@example.com", "news" },
		{ "a@b", "x" },			/* the shortest */
	};
	struct token_ring r;
	struct token_claims c;
	char tok[TOKEN_MAX], tok2[TOKEN_MAX], addr[ADDR_MAX + 1];
	char list[REC_LIST_MAX + 1];
	int n;

	(void)state;
	ring_set(&r, &k_new, &k_old, 90 * DAY);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = make(&r, cases[i].addr, cases[i].list, NOW, tok);
		assert_int_equal(verify(&r, tok, (size_t)n, NOW, &c), 0);
		assert_string_equal(c.addr, cases[i].addr);
		assert_string_equal(c.list, cases[i].list);
		assert_int_equal(c.issued, NOW);
		assert_int_equal(c.kid, k_new.id);
		/* Base64url, and nothing of the address readable. */
		assert_int_equal(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_"), (size_t)n);
		assert_null(strchr(tok, '@'));
		/* A fresh nonce each time. */
		assert_int_equal(make(&r, cases[i].addr, cases[i].list, NOW,
		    tok2), n);
		assert_string_not_equal(tok, tok2);
	}

	/* The longest fields fit in TOKEN_MAX. */
	memset(addr, 'a', 64);
	n = 64;
	addr[n++] = '@';
	while (n + 4 <= ADDR_MAX) {
		memcpy(addr + n, "bcd.", 4);
		n += 4;
	}
	addr[n - 1] = 'z';
	while (n < ADDR_MAX)
		addr[n++] = 'z';
	addr[n] = '\0';
	assert_int_equal(strlen(addr), ADDR_MAX);
	memset(list, 'z', REC_LIST_MAX);
	list[REC_LIST_MAX] = '\0';
	n = make(&r, addr, list, NOW, tok);
	assert_true(n < TOKEN_MAX);
	assert_int_equal(verify(&r, tok, (size_t)n, NOW, &c), 0);
	assert_string_equal(c.addr, addr);
	assert_string_equal(c.list, list);
}

static void
test_make_refuses(void **state)
{
	static const char *bad_addr[] = {
		"", "alice", "a@Example.COM", " a@example.com",
		"a@example.com ",
		"<a@example.com>", "a@@example.com", "a@example..com",
	};
	static const char *bad_list[] = {
		"", "News", "a b", "a/b", NULL,	/* NULL: 65 octets */
	};
	char list65[REC_LIST_MAX + 2];
	struct token_ring r, none;
	char tok[TOKEN_MAX];
	int n;

	(void)state;
	ring_set(&r, &k_new, NULL, 0);
	for (size_t i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++)
		if (token_make(&r, bad_addr[i], "news", NOW, tok,
		    sizeof(tok)) != -1)
			fail_msg("made a token for \"%s\"", bad_addr[i]);
	memset(list65, 'a', REC_LIST_MAX + 1);
	list65[REC_LIST_MAX + 1] = '\0';
	for (size_t i = 0; i < sizeof(bad_list) / sizeof(bad_list[0]); i++) {
		const char *l = bad_list[i] != NULL ? bad_list[i] : list65;

		if (token_make(&r, "a@example.com", l, NOW, tok,
		    sizeof(tok)) != -1)
			fail_msg("made a token for list \"%s\"", l);
	}
	assert_int_equal(token_make(&r, NULL, "news", NOW, tok, sizeof(tok)),
	    -1);
	assert_int_equal(token_make(&r, "a@example.com", NULL, NOW, tok,
	    sizeof(tok)), -1);
	assert_int_equal(token_make(&r, "a@example.com", "news", -1, tok,
	    sizeof(tok)), -1);
	assert_int_equal(token_make(NULL, "a@example.com", "news", NOW, tok,
	    sizeof(tok)), -1);
	memset(&none, 0, sizeof(none));
	assert_int_equal(token_make(&none, "a@example.com", "news", NOW, tok,
	    sizeof(tok)), -1);
	none = r;
	none.keys[0].id = 0;
	assert_int_equal(token_make(&none, "a@example.com", "news", NOW, tok,
	    sizeof(tok)), -1);
	none.keys[0].id = 256;
	assert_int_equal(token_make(&none, "a@example.com", "news", NOW, tok,
	    sizeof(tok)), -1);

	/* Exactly the room it needs, NUL included, and not one octet less. */
	n = make(&r, "a@example.com", "news", NOW, tok);
	assert_int_equal(token_make(&r, "a@example.com", "news", NOW, tok,
	    (size_t)n + 1), n);
	assert_int_equal(token_make(&r, "a@example.com", "news", NOW, tok,
	    (size_t)n), -1);
	assert_int_equal(token_make(&r, "a@example.com", "news", NOW, NULL,
	    TOKEN_MAX), -1);
}

static void
test_verify_args(void **state)
{
	struct token_ring r, none;
	struct token_claims c;
	char tok[TOKEN_MAX];
	int n;

	(void)state;
	ring_set(&r, &k_new, NULL, 0);
	n = make(&r, "a@example.com", "news", NOW, tok);
	memset(&none, 0, sizeof(none));
	assert_int_equal(verify(&none, tok, (size_t)n, NOW, &c), -1);
	assert_int_equal(verify(NULL, tok, (size_t)n, NOW, &c), -1);
	assert_int_equal(verify(&r, NULL, (size_t)n, NOW, &c), -1);
	assert_int_equal(verify(&r, tok, (size_t)n, NOW, NULL), -1);
	assert_int_equal(verify(&r, tok, (size_t)n, -1, &c), -1);
	assert_int_equal(verify(&r, "", 0, NOW, &c), -1);
	/* Claims are cleared on failure: nothing of a guess leaks. */
	assert_int_equal(verify(&r, tok, (size_t)n, NOW, &c), 0);
	tok[n / 2] ^= 1;
	assert_int_equal(verify(&r, tok, (size_t)n, NOW, &c), -1);
	assert_string_equal(c.addr, "");
	assert_string_equal(c.list, "");
	assert_int_equal(c.issued, 0);
}

static void
test_truncations(void **state)
{
	struct token_ring r;
	struct token_claims c;
	char tok[TOKEN_MAX], buf[TOKEN_MAX + 8];
	size_t n;

	(void)state;
	ring_set(&r, &k_new, NULL, 0);
	n = (size_t)make(&r, "truncate.me@example.com", "news", NOW, tok);
	for (size_t i = 0; i < n; i++) {
		/* The length given, and the string itself cut. */
		assert_int_equal(verify(&r, tok, i, NOW, &c), -1);
		memcpy(buf, tok, i);
		buf[i] = '\0';
		assert_int_equal(verify(&r, buf, i, NOW, &c), -1);
		/* One character dropped from the middle. */
		memcpy(buf, tok, i);
		memcpy(buf + i, tok + i + 1, n - i);
		assert_int_equal(verify(&r, buf, n - 1, NOW, &c), -1);
	}
	for (size_t extra = 1; extra <= 4; extra++) {
		memcpy(buf, tok, n);
		memset(buf + n, 'A', extra);
		assert_int_equal(verify(&r, buf, n + extra, NOW, &c), -1);
	}
	/* Blanks and padding are not base64url. */
	memcpy(buf, tok, n);
	memcpy(buf + n, "=", 2);
	assert_int_equal(verify(&r, buf, n + 1, NOW, &c), -1);
	buf[0] = ' ';
	memcpy(buf + 1, tok, n);
	assert_int_equal(verify(&r, buf, n + 1, NOW, &c), -1);
	assert_int_equal(verify(&r, tok, n, NOW, &c), 0);

	/* libsodium 1.0.18 decodes any octet >= 0x80 as '_': not here. */
	while (strchr(tok, '_') == NULL)
		n = (size_t)make(&r, "truncate.me@example.com", "news", NOW,
		    tok);
	for (unsigned o = 0x80; o <= 0xff; o++) {
		memcpy(buf, tok, n + 1);
		*strchr(buf, '_') = (char)o;
		assert_int_equal(verify(&r, buf, n, NOW, &c), -1);
	}
}

static void
test_bitflips(void **state)
{
	struct token_ring r;
	struct token_claims c;
	char tok[TOKEN_MAX], buf[TOKEN_MAX];
	unsigned char raw[512];
	size_t n, rawlen;

	(void)state;
	ring_set(&r, &k_new, NULL, 0);
	n = (size_t)make(&r, "flip@example.com", "news", NOW, tok);
	for (size_t bit = 0; bit < n * 8; bit++) {
		memcpy(buf, tok, n + 1);
		buf[bit / 8] ^= (char)(1 << (bit % 8));
		assert_int_equal(verify(&r, buf, n, NOW, &c), -1);
	}
	rawlen = to_raw(tok, raw, sizeof(raw));
	for (size_t bit = 0; bit < rawlen * 8; bit++) {
		raw[bit / 8] ^= (unsigned char)(1 << (bit % 8));
		to_text(raw, rawlen, buf, sizeof(buf));
		assert_int_equal(verify(&r, buf, n, NOW, &c), -1);
		raw[bit / 8] ^= (unsigned char)(1 << (bit % 8));
	}
	assert_int_equal(verify(&r, tok, n, NOW, &c), 0);
}

static void
test_cross_list(void **state)
{
	struct token_ring r;
	struct token_claims c;
	char a[TOKEN_MAX], b[TOKEN_MAX], buf[TOKEN_MAX];
	unsigned char ra[512], rb[512];
	size_t na, nb, la, lb;

	(void)state;
	ring_set(&r, &k_new, &k_old, 0);
	na = (size_t)make(&r, "same@example.com", "alpha", NOW, a);
	nb = (size_t)make(&r, "same@example.com", "gamma", NOW, b);
	assert_int_equal(na, nb);
	assert_int_equal(verify(&r, a, na, NOW, &c), 0);
	assert_string_equal(c.list, "alpha");
	assert_int_equal(verify(&r, b, nb, NOW, &c), 0);
	assert_string_equal(c.list, "gamma");

	/* Spliced: A's key id and nonce, B's ciphertext, and back. */
	la = to_raw(a, ra, sizeof(ra));
	lb = to_raw(b, rb, sizeof(rb));
	memcpy(ra + 1, rb + 1, 24);
	to_text(ra, la, buf, sizeof(buf));
	assert_int_equal(verify(&r, buf, strlen(buf), NOW, &c), -1);
	la = to_raw(a, ra, sizeof(ra));
	memcpy(ra + 25, rb + 25, lb - 25);
	to_text(ra, la, buf, sizeof(buf));
	assert_int_equal(verify(&r, buf, strlen(buf), NOW, &c), -1);

	/* The key id is authenticated: relabelled, it fails. */
	la = to_raw(a, ra, sizeof(ra));
	ra[0] = (unsigned char)k_old.id;
	to_text(ra, la, buf, sizeof(buf));
	assert_int_equal(verify(&r, buf, strlen(buf), NOW, &c), -1);
}

static void
test_foreign_key(void **state)
{
	struct token_ring r, f;
	struct token_claims c;
	char tok[TOKEN_MAX];
	size_t n;

	(void)state;
	ring_set(&r, &k_new, &k_old, 0);
	/* Same id as our signing key, another secret. */
	ring_set(&f, &k_foreign, NULL, 0);
	f.keys[0].id = k_new.id;
	n = (size_t)make(&f, "a@example.com", "news", NOW, tok);
	assert_int_equal(verify(&f, tok, n, NOW, &c), 0);
	assert_int_equal(verify(&r, tok, n, NOW, &c), -1);
	/* And an id the ring does not hold. */
	f.keys[0].id = 200;
	n = (size_t)make(&f, "a@example.com", "news", NOW, tok);
	assert_int_equal(verify(&r, tok, n, NOW, &c), -1);
	/* An unknown id sealed with our own signing key: still refused. */
	f = r;
	f.keys[0].id = 200;
	n = (size_t)make(&f, "a@example.com", "news", NOW, tok);
	assert_int_equal(verify(&r, tok, n, NOW, &c), -1);
}

static void
test_rotation(void **state)
{
	struct token_ring before, during, after;
	struct token_claims c;
	char t_old[TOKEN_MAX], t_new[TOKEN_MAX];
	size_t no, nn;

	(void)state;
	ring_set(&before, &k_old, NULL, 0);
	ring_set(&during, &k_new, &k_old, 0);
	ring_set(&after, &k_new, NULL, 0);

	no = (size_t)make(&before, "a@example.com", "news", NOW, t_old);
	assert_int_equal(verify(&before, t_old, no, NOW, &c), 0);
	assert_int_equal(c.kid, k_old.id);

	/* The old key still verifies while it is in the ring... */
	assert_int_equal(verify(&during, t_old, no, NOW + DAY, &c), 0);
	assert_int_equal(c.kid, k_old.id);
	/* ...and new tokens are signed with keys[0]. */
	nn = (size_t)make(&during, "a@example.com", "news", NOW + DAY, t_new);
	assert_int_equal(verify(&during, t_new, nn, NOW + DAY, &c), 0);
	assert_int_equal(c.kid, k_new.id);
	assert_int_equal(verify(&before, t_new, nn, NOW + DAY, &c), -1);

	/* Removed, it no longer does. */
	assert_int_equal(verify(&after, t_old, no, NOW + DAY, &c), -1);
	assert_int_equal(verify(&after, t_new, nn, NOW + DAY, &c), 0);

	/* Order does not matter for verifying. */
	ring_set(&during, &k_old, &k_new, 0);
	assert_int_equal(verify(&during, t_new, nn, NOW + DAY, &c), 0);
	assert_int_equal(verify(&during, t_old, no, NOW + DAY, &c), 0);
}

static void
test_expiry(void **state)
{
	struct token_ring r;
	struct token_claims c;
	char tok[TOKEN_MAX];
	size_t n;
	int64_t life = 60 * DAY;

	(void)state;
	ring_set(&r, &k_new, NULL, life);
	n = (size_t)make(&r, "a@example.com", "news", NOW, tok);
	assert_int_equal(verify(&r, tok, n, NOW + life, &c), 0);
	assert_int_equal(verify(&r, tok, n, NOW + life + 1, &c), -1);
	/* Issued in the future: five minutes of clock skew, no more. */
	assert_int_equal(verify(&r, tok, n, NOW - TOKEN_SKEW, &c), 0);
	assert_int_equal(verify(&r, tok, n, NOW - TOKEN_SKEW - 1, &c), -1);
	assert_int_equal(verify(&r, tok, n, 0, &c), -1);

	/* No lifetime set: the 90-day default. */
	r.lifetime = 0;
	assert_int_equal(verify(&r, tok, n, NOW + 90 * DAY, &c), 0);
	assert_int_equal(verify(&r, tok, n, NOW + 90 * DAY + 1, &c), -1);
	r.lifetime = -5;
	assert_int_equal(verify(&r, tok, n, NOW + TOKEN_LIFETIME_DEFAULT, &c),
	    0);
	assert_true(TOKEN_LIFETIME_MIN >= 60 * DAY);

	/* Issued at the epoch and at the far end of time. */
	n = (size_t)make(&r, "a@example.com", "news", 0, tok);
	assert_int_equal(verify(&r, tok, n, 0, &c), 0);
	n = (size_t)make(&r, "a@example.com", "news", INT64_MAX, tok);
	assert_int_equal(verify(&r, tok, n, INT64_MAX, &c), 0);
	assert_int_equal(c.issued, INT64_MAX);
	assert_int_equal(verify(&r, tok, n, 0, &c), -1);
}

/*
 * inner - verify a token sealed with our key whose plaintext has these
 * fields, as written (lengths explicit, so NULs can be put in).
 */
static int
inner(unsigned kid, int version, uint64_t issued, int listlen,
    const char *list, size_t llen, const char *addr, size_t alen,
    int64_t now)
{
	struct token_ring r;
	struct token_claims c;
	unsigned char pt[1024];
	char tok[1024];
	size_t n, ptl;

	ring_set(&r, &k_new, NULL, 0);
	ptl = plain(pt, version, issued, listlen, list, llen, addr, alen);
	n = seal(&k_new, kid, pt, ptl, tok, sizeof(tok));
	return verify(&r, tok, n, now, &c);
}

/* ok_inner - inner() with the other fields right. */
static int
ok_inner(const char *list, size_t llen, const char *addr, size_t alen)
{
	return inner(k_new.id, 1, (uint64_t)NOW, (int)llen, list, llen, addr,
	    alen, NOW);
}

/* Authentic tokens whose insides are wrong: each check, one at a time. */
static void
test_inner_checks(void **state)
{
	static const char *bad_addr[] = {
		"a@Example.com", " a@example.com", "<a@example.com>",
		"a@example.com\n", "a", "@example.com", "a@",
		"\"a\"@example.com", "a@example.com.",
	};
	const char *a = "a@example.com";
	size_t al = strlen(a);
	char big[300];

	(void)state;
	/* The helper makes what token_make makes. */
	assert_int_equal(ok_inner("news", 4, a, al), 0);

	/* Versions. */
	assert_int_equal(inner(k_new.id, 0, NOW, 4, "news", 4, a, al, NOW), -1);
	assert_int_equal(inner(k_new.id, 2, NOW, 4, "news", 4, a, al, NOW), -1);

	/* Unknown id, or id 0, under a key the ring holds. */
	assert_int_equal(inner(k_new.id + 1, 1, NOW, 4, "news", 4, a, al, NOW),
	    -1);
	assert_int_equal(inner(0, 1, NOW, 4, "news", 4, a, al, NOW), -1);

	/* Lengths that do not add up. */
	assert_int_equal(inner(k_new.id, 1, NOW, 0, "", 0, a, al, NOW), -1);
	/* "newsa" and "@example.com" */
	assert_int_equal(inner(k_new.id, 1, NOW, 5, "news", 4, a, al, NOW), -1);
	/* the list takes it all, or more */
	assert_int_equal(inner(k_new.id, 1, NOW, 17, "news", 4, a, al, NOW),
	    -1);
	assert_int_equal(inner(k_new.id, 1, NOW, 200, "news", 4, a, al, NOW),
	    -1);
	memset(big, 'l', 65);
	assert_int_equal(ok_inner(big, 64, a, al), 0);
	assert_int_equal(ok_inner(big, 65, a, al), -1);

	/* Lists that fail record_list_check. */
	assert_int_equal(ok_inner("News", 4, a, al), -1);
	assert_int_equal(ok_inner("ne\0s", 4, a, al), -1);
	assert_int_equal(ok_inner("ne s", 4, a, al), -1);

	/* Addresses that are not store keys. */
	for (size_t i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++)
		if (ok_inner("news", 4, bad_addr[i], strlen(bad_addr[i])) != -1)
			fail_msg("accepted address \"%s\"", bad_addr[i]);
	assert_int_equal(ok_inner("news", 4, "a@ex\0mple.com", 13), -1);
	memset(big, 'a', sizeof(big));
	big[64] = '@';
	for (size_t i = 70; i < sizeof(big); i += 10)
		big[i] = '.';
	assert_int_equal(ok_inner("x", 1, big, ADDR_MAX - 4), 0);
	assert_int_equal(ok_inner("x", 1, big, ADDR_MAX + 2), -1);

	/* Issued times an honest ring never writes. */
	assert_int_equal(inner(k_new.id, 1, UINT64_C(1) << 63, 4, "news", 4,
	    a, al, NOW), -1);
	assert_int_equal(inner(k_new.id, 1, UINT64_MAX, 4, "news", 4, a, al,
	    INT64_MAX), -1);
}

/*
 * A million forgeries: every bit of NVALID tokens flipped (as text and as
 * bytes), then random tokens that reach the AEAD, random text, tokens of a
 * foreign key, splices, relabelled ids and cuts, in turn.
 */
static void
test_million(void **state)
{
	struct token_ring r, f;
	struct token_claims c;
	static char valid[NVALID][TOKEN_MAX];
	static size_t vlen[NVALID];
	char addr[ADDR_MAX + 1], list[16], buf[TOKEN_MAX + 8];
	unsigned char raw[512], raw2[512];
	size_t tried = 0, accepted = 0, rawlen, rawlen2, n;
	struct timespec t0, t1;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ring_set(&r, &k_new, &k_old, 0);
	ring_set(&f, &k_foreign, NULL, 0);
	f.keys[0].id = k_old.id;
	for (size_t i = 0; i < NVALID; i++) {
		/* Lengths vary: every token size class shows up. */
		n = (size_t)snprintf(addr, sizeof(addr), "user%zu@", i);
		for (size_t j = 0; j < i % 16; j++)
			n += (size_t)snprintf(addr + n, sizeof(addr) - n,
			    "label%zu.", j);
		snprintf(addr + n, sizeof(addr) - n, "example.com");
		snprintf(list, sizeof(list), "list%zu", i % 5);
		vlen[i] = (size_t)make(i % 2 ? &r : &f, addr, list, NOW,
		    valid[i]);
		if (i % 2 == 0) {
			/* Made by the foreign ring: a forgery itself. */
			tried++;
			accepted += verify(&r, valid[i], vlen[i], NOW, &c) == 0;
			vlen[i] = (size_t)make(&r, addr, list, NOW, valid[i]);
		}
		assert_int_equal(verify(&r, valid[i], vlen[i], NOW, &c), 0);
		assert_string_equal(c.list, list);
	}

	/* Every bit of every token, as text and as bytes. */
	for (size_t i = 0; i < NVALID && tried < FORGERIES; i++) {
		n = vlen[i];
		memcpy(buf, valid[i], n + 1);
		for (size_t bit = 0; bit < n * 8; bit++) {
			buf[bit / 8] ^= (char)(1 << (bit % 8));
			accepted += verify(&r, buf, n, NOW, &c) == 0;
			buf[bit / 8] ^= (char)(1 << (bit % 8));
			tried++;
		}
		rawlen = to_raw(valid[i], raw, sizeof(raw));
		for (size_t bit = 0; bit < rawlen * 8; bit++) {
			raw[bit / 8] ^= (unsigned char)(1 << (bit % 8));
			n = to_text(raw, rawlen, buf, sizeof(buf));
			accepted += verify(&r, buf, n, NOW, &c) == 0;
			raw[bit / 8] ^= (unsigned char)(1 << (bit % 8));
			tried++;
		}
	}

	while (tried < FORGERIES) {
		uint64_t x = rng();
		size_t i = (size_t)(x >> 8) % NVALID, j;

		switch (x % 6) {
		case 0:	/* random bytes, a key id the ring holds */
			rawlen = 55 + (size_t)(x >> 20) % 315;
			randombytes_buf(raw, rawlen);
			raw[0] = (unsigned char)(x & 64 ? k_new.id : k_old.id);
			n = to_text(raw, rawlen, buf, sizeof(buf));
			break;
		case 1:	/* random text of any octets */
			n = (size_t)(x >> 20) % (TOKEN_MAX + 4);
			randombytes_buf(buf, n);
			break;
		case 2:	/* a foreign key under one of our ids */
			snprintf(addr, sizeof(addr), "f%zu@example.com",
			    (size_t)(x >> 32) % 100000);
			f.keys[0].id = x & 64 ? k_new.id : k_old.id;
			n = (size_t)make(&f, addr, "list0", NOW, buf);
			break;
		case 3:	/* two tokens spliced at a random point */
			rawlen = to_raw(valid[i], raw, sizeof(raw));
			j = (i + 1 + (size_t)(x >> 40) % (NVALID - 1)) % NVALID;
			rawlen2 = to_raw(valid[j], raw2, sizeof(raw2));
			n = 1 + (size_t)(x >> 16) % (rawlen < rawlen2 ?
			    rawlen - 1 : rawlen2 - 1);
			/* Either token whole again is not a splice. */
			if (memcmp(raw, raw2, n) == 0 || (rawlen == rawlen2 &&
			    memcmp(raw + n, raw2 + n, rawlen2 - n) == 0))
				continue;
			memcpy(raw + n, raw2 + n, rawlen2 - n);
			n = to_text(raw, rawlen2, buf, sizeof(buf));
			break;
		case 4:	/* the other key's id, or another nonce */
			rawlen = to_raw(valid[i], raw, sizeof(raw));
			if (x & 64)
				raw[0] = (unsigned char)(raw[0] == k_new.id ?
				    k_old.id : k_new.id);
			else
				raw[1 + (x >> 16) % 24] ^=
				    (unsigned char)(1 << (x >> 24) % 8);
			n = to_text(raw, rawlen, buf, sizeof(buf));
			break;
		default:	/* cut short, or a random byte appended */
			rawlen = to_raw(valid[i], raw, sizeof(raw));
			if (x & 64)
				rawlen -= 1 + (size_t)(x >> 16) % (rawlen - 1);
			else
				raw[rawlen++] = (unsigned char)(x >> 16);
			n = to_text(raw, rawlen, buf, sizeof(buf));
			break;
		}
		accepted += verify(&r, buf, n, NOW, &c) == 0;
		tried++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("%zu forged tokens refused in %.2f s\n", tried,
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	assert_int_equal(accepted, 0);
	assert_true(tried >= FORGERIES);
	for (size_t i = 0; i < NVALID; i++)
		assert_int_equal(verify(&r, valid[i], vlen[i], NOW, &c), 0);
}

static void
test_wipe(void **state)
{
	struct token_ring r;
	char tok[TOKEN_MAX];
	static const unsigned char zero[TOKEN_KEY_BYTES];

	(void)state;
	ring_set(&r, &k_new, &k_old, DAY);
	token_wipe(&r);
	assert_int_equal(r.nkeys, 0);
	assert_memory_equal(r.keys[0].key, zero, sizeof(zero));
	assert_memory_equal(r.keys[1].key, zero, sizeof(zero));
	assert_int_equal(token_make(&r, "a@example.com", "news", NOW, tok,
	    sizeof(tok)), -1);
	token_wipe(NULL);
}

/* Key files, in a private temporary directory. */
static char tmpdir[64];

static void
put(const char *name, const char *content, size_t n, mode_t mode, char *path,
    size_t pathlen)
{
	int fd;

	snprintf(path, pathlen, "%s/%s", tmpdir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
load_fails(const char *path, unsigned id, const char *want)
{
	struct token_key k;
	char err[256] = "";

	if (token_key_load(path, id, &k, err, sizeof(err)) != -1)
		fail_msg("%s loaded", path);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", err, want);
}

static void
test_key_files(void **state)
{
	struct token_key k1, k2;
	struct token_ring r;
	struct token_claims c;
	struct stat sb;
	char path[128], p2[128], err[256], text[128], big[300], tok[TOKEN_MAX];
	unsigned char raw[32];
	int fd, n;
	ssize_t got;

	(void)state;
	snprintf(path, sizeof(path), "%s/key", tmpdir);
	assert_int_equal(token_key_write(path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	fd = open(path, O_RDONLY);
	got = read(fd, text, sizeof(text) - 1);
	close(fd);
	/* 43 characters and a newline */
	assert_int_equal(got, 44);
	text[got] = '\0';
	assert_int_equal(text[43], '\n');
	assert_int_equal(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_"), 43);

	assert_int_equal(token_key_load(path, 7, &k1, err, sizeof(err)), 0);
	assert_int_equal(k1.id, 7);
	assert_int_equal(token_key_load(path, 8, &k2, err, sizeof(err)), 0);
	assert_memory_equal(k1.key, k2.key, TOKEN_KEY_BYTES);
	ring_set(&r, &k1, NULL, 0);
	n = make(&r, "a@example.com", "news", NOW, tok);
	assert_int_equal(verify(&r, tok, (size_t)n, NOW, &c), 0);

	/* Never over an existing file, never through a symlink. */
	err[0] = '\0';
	assert_int_equal(token_key_write(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, strerror(EEXIST)));
	assert_int_equal(token_key_load(path, 7, &k2, err, sizeof(err)), 0);
	assert_memory_equal(k1.key, k2.key, TOKEN_KEY_BYTES);
	snprintf(p2, sizeof(p2), "%s/link", tmpdir);
	assert_int_equal(symlink("nowhere", p2), 0);
	assert_int_equal(token_key_write(p2, err, sizeof(err)), -1);
	unlink(p2);
	snprintf(p2, sizeof(p2), "%s/no/such/dir/key", tmpdir);
	assert_int_equal(token_key_write(p2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, p2));

	/* Modes: the message says who may do what, and the fix. */
	/* The group may read it: two daemons share the keys through it. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(token_key_load(path, 1, &k2, err, sizeof(err)), 0);
	assert_int_equal(chmod(path, 0604), 0);
	load_fails(path, 1, "chmod 640");
	assert_int_equal(chmod(path, 0604), 0);
	load_fails(path, 1, "mode 0604 lets others read the key");
	assert_int_equal(chmod(path, 0620), 0);
	load_fails(path, 1, "lets the group write the key");
	assert_int_equal(chmod(path, 0666), 0);
	load_fails(path, 1, "lets group and others read and write");
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(token_key_load(path, 1, &k2, err, sizeof(err)), 0);

	/* Contents. */
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(text, sizeof(text), raw, 16, B64);
	put("short", text, strlen(text), 0600, p2, sizeof(p2));
	load_fails(p2, 1, "key is 16 octets, not 32");
	sodium_bin2base64(text, sizeof(text), raw, 32,
	    sodium_base64_VARIANT_URLSAFE);
	put("padded", text, strlen(text), 0600, p2, sizeof(p2));
	load_fails(p2, 1, "not unpadded base64url");
	sodium_bin2base64(text, sizeof(text), raw, 32, B64);
	text[5] = '+';
	put("std", text, strlen(text), 0600, p2, sizeof(p2));
	load_fails(p2, 1, "not unpadded base64url");
	sodium_bin2base64(text, sizeof(text), raw, 32, B64);
	text[7] = (char)0xdf;
	put("high", text, strlen(text), 0600, p2, sizeof(p2));
	load_fails(p2, 1, "not unpadded base64url");
	put("junk", "not a key at all!\n", 18, 0600, p2, sizeof(p2));
	load_fails(p2, 1, "not unpadded base64url");
	sodium_bin2base64(text, sizeof(text), raw, 32, B64);
	strcat(text, "\n\n");
	put("twolines", text, strlen(text), 0600, p2, sizeof(p2));
	load_fails(p2, 1, "not unpadded base64url");
	put("empty", "", 0, 0600, p2, sizeof(p2));
	load_fails(p2, 1, "empty key file");
	put("newline", "\n", 1, 0600, p2, sizeof(p2));
	load_fails(p2, 1, "empty key file");
	memset(big, 'A', sizeof(big));
	put("long", big, sizeof(big), 0600, p2, sizeof(p2));
	load_fails(p2, 1, "longer than a key file");
	/* CRLF and no final newline are both fine. */
	sodium_bin2base64(text, sizeof(text), raw, 32, B64);
	strcat(text, "\r\n");
	put("crlf", text, strlen(text), 0600, p2, sizeof(p2));
	assert_int_equal(token_key_load(p2, 1, &k2, err, sizeof(err)), 0);
	assert_memory_equal(k2.key, raw, 32);
	put("bare", text, 43, 0600, p2, sizeof(p2));
	assert_int_equal(token_key_load(p2, 1, &k2, err, sizeof(err)), 0);
	assert_memory_equal(k2.key, raw, 32);

	load_fails(p2, 0, "key id 0 is not in 1..255");
	load_fails(p2, 256, "key id 256");
	snprintf(p2, sizeof(p2), "%s/missing", tmpdir);
	load_fails(p2, 1, strerror(ENOENT));
	load_fails(tmpdir, 1, "not a regular file");
}

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_token.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
	struct dirent *de;
	DIR *d;

	(void)state;
	if ((d = opendir(tmpdir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')	/* only ours: no dot files */
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	return rmdir(tmpdir);
}

/*
 * A token made for one purpose never verifies for another: a confirm
 * link is no unsubscribe link and an unsubscribe link confirms nobody,
 * over a million tokens of the wrong purpose (and their bit flips).
 */
static void
test_purposes(void **state)
{
	struct token_ring r;
	struct token_claims c;
	char tok[TOKEN_MAX], addr[64];
	size_t wrong = 0;
	int len;

	(void)state;
	ring_set(&r, &k_new, &k_old, 0);
	len = token_make_for(&r, TOKEN_CONFIRM, "a@example.com", "news", NOW,
	    tok, sizeof(tok));
	assert_true(len > 0);
	assert_int_equal(token_verify_for(&r, TOKEN_CONFIRM, 7 * 86400, tok,
	    (size_t)len, NOW + 3600, &c), 0);
	assert_string_equal(c.addr, "a@example.com");
	assert_string_equal(c.list, "news");
	/* Its own lifetime: a week here, not the ring's 90 days. */
	assert_int_equal(token_verify_for(&r, TOKEN_CONFIRM, 7 * 86400, tok,
	    (size_t)len, NOW + 8 * 86400, &c), -1);
	assert_int_equal(token_verify(&r, tok, (size_t)len, NOW, &c), -1);
	assert_int_equal(token_verify_for(&r, TOKEN_UNSUBSCRIBE, 86400, tok,
	    (size_t)len, NOW, &c), -1);
	len = token_make(&r, "a@example.com", "news", NOW, tok, sizeof(tok));
	assert_int_equal(token_verify_for(&r, TOKEN_CONFIRM, 86400, tok,
	    (size_t)len, NOW, &c), -1);
	assert_int_equal(token_verify_for(&r, TOKEN_UNSUBSCRIBE, 86400, tok,
	    (size_t)len, NOW, &c), 0);
	/* Bad purposes and lifetimes make and verify nothing. */
	assert_int_equal(token_make_for(&r, TOKEN_PURPOSES, "a@example.com",
	    "news", NOW, tok, sizeof(tok)), -1);
	assert_int_equal(token_make_for(&r, -1, "a@example.com", "news", NOW,
	    tok, sizeof(tok)), -1);
	assert_int_equal(token_verify_for(&r, TOKEN_CONFIRM, 0, tok,
	    (size_t)len, NOW, &c), -1);
	/* A million of the wrong purpose, each way, with their bit flips. */
	for (size_t i = 0; i < 1000000; i++) {
		int made = (int)(i / 1000 % 2);

		if (i % 1000 == 0) {
			snprintf(addr, sizeof(addr), "u%zu@example.com",
			    i / 1000);
			len = token_make_for(&r, made, addr, "news", NOW, tok,
			    sizeof(tok));
			assert_true(len > 0);
		} else {
			/* One octet changed, then put back: a flip each. */
			size_t at = i % (size_t)len;
			char was = tok[at];

			tok[at] = (char)(was == 'A' ? 'B' : 'A');
			wrong += token_verify_for(&r, made, 86400, tok,
			    (size_t)len, NOW, &c) == 0;
			tok[at] = was;
		}
		wrong += token_verify_for(&r, !made, 86400, tok, (size_t)len,
		    NOW, &c) == 0;
	}
	assert_int_equal(wrong, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_make_refuses),
		cmocka_unit_test(test_verify_args),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_bitflips),
		cmocka_unit_test(test_cross_list),
		cmocka_unit_test(test_foreign_key),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_inner_checks),
		cmocka_unit_test(test_million),
		cmocka_unit_test(test_purposes),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test_setup_teardown(test_key_files, setup_dir,
		    teardown_dir),
	};

	if (token_init() == -1)
		return 1;
	k_old.id = 1;
	k_new.id = 2;
	k_foreign.id = 1;
	randombytes_buf(k_old.key, sizeof(k_old.key));
	randombytes_buf(k_new.key, sizeof(k_new.key));
	randombytes_buf(k_foreign.key, sizeof(k_foreign.key));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
