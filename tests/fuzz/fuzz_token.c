/*
 * fuzz_token.c - libFuzzer target for the unsubscribe token.  Each input
 * is used three ways:
 *   - as a token, verified against a fixed ring: one that is accepted
 *     must decrypt under the ring's key on its own and say what verify
 *     said, so only tokens the ring made get through;
 *   - as fields (time, list, address) for token_make: made exactly when
 *     they are a valid list and store key, then verified at the edges of
 *     the lifetime, bit-flipped and shown to a ring without its key;
 *   - as a plaintext sealed with the ring's key: verify accepts it
 *     exactly when an independent, strict reading of token.h's layout
 *     does, so every check behind the tag is reached.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/token.h"

#define NOW	INT64_C(1700000000)
#define B64	sodium_base64_VARIANT_URLSAFE_NO_PADDING

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct token_ring ring;

/* The ring: two fixed keys, so the seed corpus can hold real tokens. */
static void
ring_init(void)
{
	if (token_init() == -1)
		abort();
	ring.nkeys = 2;
	ring.lifetime = 90 * 86400;
	ring.keys[0].id = 1;
	ring.keys[1].id = 2;
	for (int i = 0; i < TOKEN_KEY_BYTES; i++) {
		ring.keys[0].key[i] = (unsigned char)(i * 7 + 1);
		ring.keys[1].key[i] = (unsigned char)(i * 13 + 5);
	}
}

static const struct token_key *
key_of(unsigned kid)
{
	for (unsigned i = 0; i < ring.nkeys; i++)
		if (ring.keys[i].id == kid)
			return &ring.keys[i];
	return NULL;
}

/*
 * strict - read a plaintext as token.h lays it out, without token.c:
 * 1 and the claims if every field is right at now, else 0.
 */
static int
strict(const unsigned char *pt, size_t n, int64_t now, struct token_claims *c)
{
	char list[REC_LIST_MAX + 1], err[128];
	size_t llen, alen;
	uint64_t t = 0;
	struct addr a;

	if (n < 10 || pt[0] != 1)
		return 0;
	for (int i = 1; i <= 8; i++)
		t = t << 8 | pt[i];
	llen = pt[9];
	if (t > INT64_MAX || llen < 1 || llen > REC_LIST_MAX || 10 + llen >= n)
		return 0;
	alen = n - 10 - llen;
	if (memchr(pt + 10, '\0', llen) != NULL || alen > ADDR_MAX ||
	    memchr(pt + 10 + llen, '\0', alen) != NULL)
		return 0;
	memcpy(list, pt + 10, llen);
	list[llen] = '\0';
	if (record_list_check(list, err, sizeof(err)) != 0)
		return 0;
	if (addr_normalize((const char *)pt + 10 + llen, alen,
	    ADDR_CASE_SENSITIVE, "", &a, err, sizeof(err)) != 0 ||
	    strlen(a.key) != alen || memcmp(a.key, pt + 10 + llen, alen) != 0)
		return 0;
	if (now < 0 || ((int64_t)t > now && (int64_t)t - now > TOKEN_SKEW) ||
	    (now > (int64_t)t && now - (int64_t)t > ring.lifetime))
		return 0;
	memset(c, 0, sizeof(*c));
	memcpy(c->list, list, llen + 1);
	memcpy(c->addr, a.key, alen + 1);
	c->issued = (int64_t)t;
	return 1;
}

static int
claims_eq(const struct token_claims *a, const struct token_claims *b)
{
	return strcmp(a->addr, b->addr) == 0 && strcmp(a->list, b->list) == 0 &&
	    a->issued == b->issued;
}

/* as_token - the input as a token: accepted only if the ring made it. */
static void
as_token(const uint8_t *data, size_t size)
{
	unsigned char raw[1024], pt[1024];
	const struct token_key *k;
	struct token_claims c, s;
	unsigned long long ptlen;
	size_t rawlen;

	if (token_verify(&ring, (const char *)data, size, NOW, &c) != 0) {
		if (c.addr[0] != '\0' || c.list[0] != '\0' || c.issued != 0)
			abort();
		return;
	}
	if (sodium_base642bin(raw, sizeof(raw), (const char *)data, size,
	    NULL, &rawlen, NULL, B64) != 0 || rawlen < 25 + 16 ||
	    (k = key_of(raw[0])) == NULL || c.kid != raw[0] ||
	    crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptlen, NULL,
	    raw + 25, rawlen - 25, raw, 1, raw + 1, k->key) != 0 ||
	    !strict(pt, (size_t)ptlen, NOW, &s) || !claims_eq(&c, &s))
		abort();
	for (size_t i = 0; i < size; i++)
		if (data[i] == '\0' || strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_", data[i]) == NULL)
			abort();
}

/* as_fields - time, list and address from the input, made and checked. */
static void
as_fields(const uint8_t *data, size_t size)
{
	char list[REC_LIST_MAX + 2], addr[ADDR_MAX + 2], err[128];
	char tok[TOKEN_MAX], other[TOKEN_MAX];
	const uint8_t *p, *nul;
	struct token_ring without;
	struct token_claims c;
	uint64_t t = 0;
	int64_t now, life = ring.lifetime;
	size_t llen, alen;
	struct addr a;
	int n, valid;

	if (size < 9)
		return;
	for (int i = 0; i < 8; i++)
		t = t << 8 | data[i];
	/* Mostly near NOW, sometimes anywhere up to INT64_MAX. */
	now = data[8] & 1 ? (int64_t)(t >> 1) : NOW + (int64_t)(t % 1000000);
	p = data + 9;
	size -= 9;
	if ((nul = memchr(p, '\0', size)) == NULL)
		return;
	llen = (size_t)(nul - p);
	alen = size - llen - 1;
	if (llen > REC_LIST_MAX + 1 || alen > ADDR_MAX + 1 ||
	    memchr(nul + 1, '\0', alen) != NULL)
		return;
	memcpy(list, p, llen);
	list[llen] = '\0';
	memcpy(addr, nul + 1, alen);
	addr[alen] = '\0';

	valid = record_list_check(list, err, sizeof(err)) == 0 &&
	    alen > 0 && addr_normalize(addr, alen, ADDR_CASE_SENSITIVE, "",
	    &a, err, sizeof(err)) == 0 && strcmp(a.key, addr) == 0;
	n = token_make(&ring, addr, list, now, tok, sizeof(tok));
	if ((n >= 0) != valid)
		abort();
	if (n < 0)
		return;
	if ((size_t)n != strlen(tok) || n >= TOKEN_MAX)
		abort();
	if (token_verify(&ring, tok, (size_t)n, now, &c) != 0 ||
	    strcmp(c.addr, addr) != 0 || strcmp(c.list, list) != 0 ||
	    c.issued != now || c.kid != ring.keys[0].id)
		abort();
	/* The edges of the lifetime, where they can be written. */
	if (now <= INT64_MAX - life - 1) {
		if (token_verify(&ring, tok, (size_t)n, now + life, &c) != 0 ||
		    token_verify(&ring, tok, (size_t)n, now + life + 1,
		    &c) != -1)
			abort();
	}
	if (now >= TOKEN_SKEW + 1 &&
	    (token_verify(&ring, tok, (size_t)n, now - TOKEN_SKEW, &c) != 0 ||
	    token_verify(&ring, tok, (size_t)n, now - TOKEN_SKEW - 1,
	    &c) != -1))
		abort();
	/* One bit flipped, wherever the input says. */
	memcpy(other, tok, (size_t)n + 1);
	other[(data[0] * 256U + data[1]) % (unsigned)n] ^=
	    (char)(1 << (data[2] % 8));
	if (token_verify(&ring, other, (size_t)n, now, &c) != -1)
		abort();
	/* A ring without the signing key. */
	without = ring;
	without.keys[0] = ring.keys[1];
	without.nkeys = 1;
	if (token_verify(&without, tok, (size_t)n, now, &c) != -1)
		abort();
}

/* as_plaintext - the input sealed with key 1: verify agrees with strict(). */
static void
as_plaintext(const uint8_t *data, size_t size)
{
	unsigned char raw[25 + 512 + 16];
	char tok[2 * sizeof(raw)];
	struct token_claims c, s;
	unsigned long long clen;
	uint64_t t = 0;
	int64_t now;
	int ok;

	if (size > 512)
		return;
	/* Verified when it says it was issued, so the time often holds. */
	for (size_t i = 1; i <= 8 && i < size; i++)
		t = t << 8 | data[i];
	now = t > INT64_MAX ? NOW : (int64_t)t;
	raw[0] = 1;
	memset(raw + 1, 0x5a, 24);
	crypto_aead_xchacha20poly1305_ietf_encrypt(raw + 25, &clen, data, size,
	    raw, 1, NULL, raw + 1, ring.keys[0].key);
	sodium_bin2base64(tok, sizeof(tok), raw, 25 + (size_t)clen, B64);
	ok = strict(data, size, now, &s);
	if ((token_verify(&ring, tok, strlen(tok), now, &c) == 0) != ok)
		abort();
	if (ok && (!claims_eq(&c, &s) || c.kid != 1))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ring.nkeys == 0)
		ring_init();
	as_token(data, size);
	as_fields(data, size);
	as_plaintext(data, size);
	return 0;
}
