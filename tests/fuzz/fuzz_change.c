/*
 * fuzz_change.c - libFuzzer target for the outbox's binary form of a
 * change: any bytes decode cleanly or are refused; a decoded change
 * encodes back to the same bytes and merges into a record that encodes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/change.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char buf[CHANGE_ENC_MAX], *rec;
	struct change c;
	struct subject s;
	size_t len, rlen;
	char err[256];

	if (change_decode(data, size, &c, err, sizeof(err)) != 0)
		return 0;
	if (change_encode(&c, buf, sizeof(buf), &len) != 0)
		abort();
	if (len != size || memcmp(buf, data, size) != 0)
		abort();
	subject_init(&s);
	if (change_merge(&s, &c) == -1)
		abort();	/* a checked change on an empty record merges */
	if (record_encode(&s, &rec, &rlen) != 0)
		abort();
	free(rec);
	subject_clear(&s);
	return 0;
}
