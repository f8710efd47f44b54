/*
 * fuzz_seal.c - libFuzzer target for the checkpoint parser (a witness
 * file is collected from a host that may be compromised, and read back
 * by the auditor): any bytes parse cleanly or are refused, and a parsed
 * checkpoint formats back to the same line.  Then the verifier string's
 * parser on the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seal_point p;
	struct seal_verifier v;
	unsigned char mac[SEAL_MAC_BYTES];
	char line[SEAL_LINE_MAX + 4], err[256], *s;
	size_t n;

	if (seal_parse((const char *)data, size, &p, mac) == 0) {
		/* What parses is what the writer makes, field for field. */
		n = seal_format(&p, mac, line, sizeof(line) - 2);
		if (n == 0)
			abort();
		line[n++] = '}';
		if (size < n || memcmp(line, data, n - 1) != 0)
			abort();
		if (seal_text(&p, line, sizeof(line)) == 0)
			abort();
	}
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (strncmp(s, "cmseal1:", 8) == 0 &&
	    seal_verifier_parse(s, &v, err, sizeof(err)) == 0 &&
	    (seal_verifier_format(&v, line, sizeof(line)) == -1 ||
	    strcmp(line, s) != 0))
		abort();
	free(s);
	return 0;
}
