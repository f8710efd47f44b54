/*
 * fbtag.c - the signed return path (see fbtag.h).  No allocation; keys
 * are wiped after each use.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "core/addr.h"
#include "core/fbtag.h"
#include "util/util.h"

#define MAC_BYTES	10	/* 80 bits, 16 base32 characters */
#define KDF_CTX		"cmfbrtp1"	/* crypto_kdf context: 8 octets */
#define KDF_ID		1

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char hex[] = "0123456789abcdef";

/* subkey - the return-path key derived from k. */
static void
subkey(const struct token_key *k, unsigned char out[crypto_auth_hmacsha256_KEYBYTES])
{
	crypto_kdf_derive_from_key(out, crypto_auth_hmacsha256_KEYBYTES, KDF_ID,
	    KDF_CTX, k->key);
}

/* mac_text - the 16 characters of the MAC of (kid, day, rcpt, sender). */
static int
mac_text(const struct token_key *k, unsigned day, const char *rcpt,
    const char *sender, char out[17])
{
	unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
	unsigned char mac[crypto_auth_hmacsha256_BYTES], head[6];
	crypto_auth_hmacsha256_state st;
	size_t rlen = strlen(rcpt);
	unsigned acc = 0, bits = 0, o = 0;

	if (rlen == 0 || rlen > 255)
		return -1;
	head[0] = (unsigned char)k->id;
	head[1] = (unsigned char)(day >> 24);
	head[2] = (unsigned char)(day >> 16);
	head[3] = (unsigned char)(day >> 8);
	head[4] = (unsigned char)day;
	head[5] = (unsigned char)rlen;
	subkey(k, key);
	crypto_auth_hmacsha256_init(&st, key, sizeof(key));
	crypto_auth_hmacsha256_update(&st, head, sizeof(head));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)rcpt, rlen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)sender,
	    strlen(sender));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&st, sizeof(st));
	for (int i = 0; i < MAC_BYTES; i++) {
		acc = acc << 8 | mac[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	out[o] = '\0';
	sodium_memzero(mac, sizeof(mac));
	return 0;
}

int
fbtag_sign(const struct token_ring *r, const char *sender, const char *rcpt,
    char delim, int64_t now, char *out, size_t outlen)
{
	const char *at;
	char mac[17], err[128];
	struct addr a;
	size_t llen;
	unsigned day;
	int n;

	if (r == NULL || r->nkeys == 0 || r->keys[0].id < 1 ||
	    r->keys[0].id > 255 || sender == NULL || rcpt == NULL || now < 0 ||
	    delim == '\0' || addr_normalize(sender, strlen(sender), 0, "", &a,
	    err, sizeof(err)) == -1 || (at = strrchr(a.key, '@')) == NULL)
		return -1;
	sender = a.key;
	llen = (size_t)(at - sender);
	if (llen == 0 || llen + 1 + FBTAG_LEN > ADDR_LOCAL_MAX)
		return -1;
	/* Never a tag on a tag: a bounce of a bounce proves nothing new. */
	for (const char *p = sender; p + 3 <= at; p++)
		if (memcmp(p, FBTAG_MARK, 3) == 0 && p > sender && p[-1] == delim)
			return -1;
	day = (unsigned)(now / 86400);
	if (day > 0xffff || mac_text(&r->keys[0], day, rcpt, sender, mac) == -1)
		return -1;
	n = snprintf(out, outlen, "%.*s%c" FBTAG_MARK "%c%c%c%c%c%c%s%s",
	    (int)llen, sender, delim, hex[r->keys[0].id >> 4],
	    hex[r->keys[0].id & 15], hex[(day >> 12) & 15], hex[(day >> 8) & 15],
	    hex[(day >> 4) & 15], hex[day & 15], mac, at);
	sodium_memzero(mac, sizeof(mac));
	return n > 0 && (size_t)n < outlen ? n : -1;
}

/* hexnum - the value of n hex digits at s (either case), or -1. */
static long
hexnum(const char *s, int n)
{
	long v = 0;

	for (int i = 0; i < n; i++) {
		int d = util_hexval(s[i]);

		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* check_tag - 1 if tag (FBTAG_LEN - 3 octets, after "fb-") is good. */
static int
check_tag(const struct token_ring *r, const char *tag, const char *rcpt,
    const char *sender, int64_t now, int64_t window)
{
	long kid = hexnum(tag, 2), day = hexnum(tag + 2, 4), today = now / 86400;
	char want[17], got[17];
	int ok = 0;

	if (kid < 1 || day < 0 || day > today + 1 ||
	    (today - day) * 86400 > window + 86400)
		return 0;
	for (int i = 0; i < 16; i++) {
		char c = tag[6 + i];

		got[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	got[16] = '\0';
	for (unsigned i = 0; i < r->nkeys; i++) {
		if (r->keys[i].id != (unsigned)kid ||
		    mac_text(&r->keys[i], (unsigned)day, rcpt, sender, want) == -1)
			continue;
		ok |= sodium_memcmp(want, got, 16) == 0;
	}
	sodium_memzero(want, sizeof(want));
	return ok;
}

int
fbtag_verify(const struct token_ring *r, const char *addr, const char *rcpt,
    const char *delims, int64_t now, int64_t window, char *sender_out)
{
	const char *at, *tag;
	char sender[ADDR_MAX + 1], err[128];
	struct addr a;
	size_t alen;

	if (r == NULL || r->nkeys == 0 || addr == NULL || rcpt == NULL ||
	    delims == NULL || now < 0 || (at = strrchr(addr, '@')) == NULL ||
	    (size_t)(at - addr) < FBTAG_LEN + 2)
		return 0;
	tag = at - FBTAG_LEN;
	if (strncasecmp(tag, FBTAG_MARK, 3) != 0 ||
	    strchr(delims, tag[-1]) == NULL || tag[-1] == '\0')
		return 0;
	/* The sender as signed: the local part before the tag, normalised. */
	alen = (size_t)(tag - 1 - addr);
	if (alen + strlen(at) > ADDR_MAX)
		return 0;
	memcpy(sender, addr, alen);
	util_strlcpy(sender + alen, at, sizeof(sender) - alen);
	if (addr_normalize(sender, strlen(sender), 0, "", &a, err,
	    sizeof(err)) == -1)
		return 0;
	if (!check_tag(r, tag + 3, rcpt, a.key, now, window))
		return 0;
	if (sender_out != NULL)
		util_strlcpy(sender_out, a.key, ADDR_MAX + 1);
	return 1;
}
