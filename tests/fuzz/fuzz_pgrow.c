/*
 * fuzz_pgrow.c - libFuzzer target for the fleet journal's row decoder
 * (COPY text): any bytes decode or are refused; a decoded row encodes
 * and decodes again to the same change at the same place.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pgjournal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct change c, d;
	struct pgj_pos pos, pos2;
	char line[PGJ_ROW_MAX], err[256];
	size_t n;

	if (pgj_row_decode((const char *)data, size, &c, &pos, err,
	    sizeof(err)) != 0)
		return 0;
	n = pgj_row_encode(&c, &pos, line);
	if (n >= sizeof(line) || pgj_row_decode(line, n, &d, &pos2, err,
	    sizeof(err)) != 0)
		abort();
	if (pgj_pos_cmp(&pos, &pos2) != 0 || c.kind != d.kind ||
	    strcmp(c.key, d.key) != 0 || strcmp(c.list, d.list) != 0 ||
	    c.made != d.made || strcmp(c.origin, d.origin) != 0 ||
	    memcmp(c.id, d.id, sizeof(c.id)) != 0 ||
	    memcmp(&c.ev, &d.ev, sizeof(c.ev)) != 0 ||
	    memcmp(&c.supp, &d.supp, sizeof(c.supp)) != 0)
		abort();
	return 0;
}
