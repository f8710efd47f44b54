/*
 * fuzz_addr.c - libFuzzer target for the address normaliser: any bytes are
 * refused with a message or give a key that is short, free of control
 * characters, well formed and its own normal form; case folding and the
 * domain helpers agree with it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int
ascii_caseeq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
	}
	return *a == *b;
}

/* check_addr - everything a successful addr_normalize() promises. */
static void
check_addr(const struct addr *a, int flags, const char *delims)
{
	const char *keys[ADDR_KEYS_MAX];
	char buf[ADDR_DOMAIN_MAX + 2], dom[ADDR_DOMAIN_MAX + 2], err[256];
	size_t klen = strlen(a->key), blen = strlen(a->base), dl, n;
	struct addr b;

	if (klen > ADDR_MAX || has_control(a->key) || has_control(a->base))
		abort();
	if (a->local_len < 1 || a->local_len > ADDR_LOCAL_MAX ||
	    a->local_len + 2 > klen || a->key[a->local_len] != '@' ||
	    a->domain != a->key + a->local_len + 1 ||
	    strlen(a->domain) > ADDR_DOMAIN_MAX)
		abort();
	dl = strlen(a->domain);
	/* The base is the key, or a shorter local part, same domain. */
	if (blen > klen || blen < dl + 2 || a->base[blen - dl - 1] != '@' ||
	    strcmp(a->base + blen - dl, a->domain) != 0)
		abort();
	if (strcmp(a->base, a->key) != 0 && (blen >= klen ||
	    strncmp(a->base, a->key, blen - dl - 1) != 0))
		abort();

	/* Idempotence: the key is its own normal form. */
	if (addr_normalize(a->key, klen, flags, delims, &b, err,
	    sizeof(err)) != 0)
		abort();
	if (strcmp(a->key, b.key) != 0 || strcmp(a->base, b.base) != 0 ||
	    a->local_len != b.local_len || a->literal != b.literal)
		abort();

	/* The domain, as a domain argument, is itself. */
	if (addr_domain_normalize(a->domain, strlen(a->domain), dom,
	    sizeof(dom), err, sizeof(err)) != 0 || strcmp(dom, a->domain) != 0)
		abort();

	n = addr_domain_keys(a, buf, sizeof(buf), keys, ADDR_KEYS_MAX);
	if (n < 1 || strcmp(keys[0], a->domain) != 0 || (a->literal && n != 1))
		abort();
	for (size_t i = 1; i < n; i++) {
		size_t kl = strlen(keys[i]);

		if (keys[i][0] != '.' || kl < 2 || kl > dl + 1 ||
		    strcmp(keys[i] + 1, a->domain + dl + 1 - kl) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *delims[] = { NULL, "+-", "" };
	const char *in = (const char *)data;
	char err[256], dom[ADDR_DOMAIN_MAX + 2], again[ADDR_DOMAIN_MAX + 2];
	struct addr ci, cs;
	int rci, rcs;

	for (size_t d = 0; d < sizeof(delims) / sizeof(delims[0]); d++) {
		err[0] = '\0';
		rci = addr_normalize(in, size, 0, delims[d], &ci, err,
		    sizeof(err));
		if (rci != 0 && (rci != -1 || err[0] == '\0'))
			abort();
		if (rci == 0)
			check_addr(&ci, 0, delims[d]);
		err[0] = '\0';
		rcs = addr_normalize(in, size, ADDR_CASE_SENSITIVE, delims[d],
		    &cs, err, sizeof(err));
		if (rcs != 0 && (rcs != -1 || err[0] == '\0'))
			abort();
		if (rcs == 0)
			check_addr(&cs, ADDR_CASE_SENSITIVE, delims[d]);
		/* Case affects letters only, never whether it is a key. */
		if (rci != rcs || (rci == 0 && (!ascii_caseeq(ci.key, cs.key) ||
		    !ascii_caseeq(ci.base, cs.base))))
			abort();
	}

	err[0] = '\0';
	if (addr_domain_normalize(in, size, dom, sizeof(dom), err,
	    sizeof(err)) == 0) {
		if (strlen(dom) > ADDR_DOMAIN_MAX + 1 || has_control(dom) ||
		    !addr_is_domain(dom))
			abort();
		if (addr_domain_normalize(dom, strlen(dom), again,
		    sizeof(again), err, sizeof(err)) != 0 ||
		    strcmp(dom, again) != 0)
			abort();
	} else if (err[0] == '\0')
		abort();
	return 0;
}
