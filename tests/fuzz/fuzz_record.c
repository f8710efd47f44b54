/*
 * fuzz_record.c - libFuzzer target for the record decoder: any bytes
 * decode cleanly or are refused, peek agrees with decode, and a decoded
 * value encodes back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct subject s;
	struct supp_view sv;
	struct consent_view cv;
	unsigned char *buf;
	size_t len;
	char err[256];
	int hs, hc, prc;

	subject_init(&s);
	prc = record_peek(data, size, "news", &hs, &sv, &hc, &cv);
	if (record_decode(data, size, &s, err, sizeof(err)) == 0) {
		struct list_consent *lc = record_find_list(&s, "news");

		/* What peek found must be what decode found. */
		if (prc != 0 || hs != s.has_supp || hc != (lc != NULL))
			abort();
		if (lc != NULL && (cv.status != lc->status ||
		    cv.changed != lc->changed))
			abort();
		if (record_encode(&s, &buf, &len) != 0)
			abort();
		if (len != size || memcmp(buf, data, size) != 0)
			abort();
		free(buf);
	}
	subject_clear(&s);
	return 0;
}
