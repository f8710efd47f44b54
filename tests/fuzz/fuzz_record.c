/*
 * fuzz_record.c - libFuzzer target for the record decoder: any bytes
 * decode cleanly or are refused, peek agrees with decode (refusing what
 * it refuses, for any list), a decoded
 * format 2 value encodes back to the same bytes, and a decoded format 1
 * value encodes to a format 2 one that decodes to the same subject.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* agree - what peek finds in v for "news" is what decode found in s. */
static void
agree(const void *v, size_t len, const struct subject *s)
{
	struct list_consent *lc = record_find_list(s, "news");
	struct supp_view sv;
	struct consent_view cv;
	int hs, hc;

	if (record_peek(v, len, "news", &hs, &sv, &hc, &cv) != 0)
		abort();
	if (hs != s->has_supp || hc != (lc != NULL))
		abort();
	if (hs && (sv.reason != s->supp.reason ||
	    sv.created != s->supp.created || sv.expires != s->supp.expires))
		abort();
	if (lc != NULL && (cv.status != lc->status ||
	    cv.changed != lc->changed ||
	    cv.source != lc->ev[lc->nev - 1].source))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct subject s, s2;
	struct supp_view sv;
	struct consent_view cv;
	unsigned char *buf, *buf2;
	size_t len, len2;
	char err[256];
	int hs, hc;

	subject_init(&s);
	subject_init(&s2);
	if (record_decode(data, size, &s, err, sizeof(err)) != 0) {
		/* A value decode refuses never reads as a consent or as none. */
		if (record_peek(data, size, "news", &hs, &sv, &hc, &cv) != -1 ||
		    record_peek(data, size, "", &hs, &sv, &hc, &cv) != -1)
			abort();
	} else {
		agree(data, size, &s);
		if (record_encode(&s, &buf, &len) != 0 || buf[0] != REC_FORMAT)
			abort();
		if (data[0] == REC_FORMAT &&
		    (len != size || memcmp(buf, data, size) != 0))
			abort();
		/* Format 1 written back: the same subject, in canonical form. */
		if (record_decode(buf, len, &s2, err, sizeof(err)) != 0)
			abort();
		agree(buf, len, &s2);
		if (record_encode(&s2, &buf2, &len2) != 0 || len2 != len ||
		    memcmp(buf2, buf, len) != 0)
			abort();
		free(buf);
		free(buf2);
	}
	subject_clear(&s);
	subject_clear(&s2);
	return 0;
}
