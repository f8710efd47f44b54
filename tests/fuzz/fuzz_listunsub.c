/*
 * fuzz_listunsub.c - libFuzzer target for the List-Unsubscribe builder.  The
 * input is "url\0mailto\0token\0list" (missing fields are NULL).  A
 * template listunsub_template_check refuses never builds; a value that builds is
 * "<https:...>" and maybe ", <mailto:...>" or ",\n\t<mailto:...>", with
 * no CR, every LF followed by a tab, every line (header name included)
 * under 998 octets, no '<', '>', ',', blank or control inside a URI, a
 * fold exactly when one line would pass 78, and the URL as listunsub_expand
 * makes it.  listunsub_expand is also run into a buffer of every small size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/listunsub.h"

#define PREFIX	(sizeof(LISTUNSUB_HEADER ": ") - 1)
#define FIELDS	4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* uri_end - the '>' closing the URI at p ('<'), after checking inside. */
static const char *
uri_end(const char *p)
{
	if (*p++ != '<')
		abort();
	for (; *p != '>'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\0' || c <= 0x20 || c >= 0x7f || c == '<' || c == ',')
			abort();
	}
	return p;
}

static void
check_value(const char *out, int n, const char *url, const char *mailto,
    const char *token, const char *list)
{
	char exp[LISTUNSUB_VALUE_MAX + 1];
	const char *p, *end;
	size_t ulen, mlen, width;
	int has_mailto = mailto != NULL && *mailto != '\0', folded = 0;

	if (n < 0 || (size_t)n != strlen(out) || n > LISTUNSUB_VALUE_MAX)
		abort();
	/* Lines: no CR, LF only as a fold, each under 998 with the name. */
	for (p = out, width = PREFIX; *p != '\0'; p++, width++) {
		if (*p == '\r' || (*p == '\n' && p[1] != '\t'))
			abort();
		if (*p == '\n') {
			if (width >= LISTUNSUB_LINE_MAX)
				abort();
			width = (size_t)-1;	/* 0 after the increment */
		}
	}
	if (width >= LISTUNSUB_LINE_MAX)
		abort();

	end = uri_end(out);
	ulen = (size_t)(end - out - 1);
	if (strncasecmp(out + 1, "https://", 8) != 0)
		abort();
	if (listunsub_expand(url, token, list, exp, sizeof(exp)) != (int)ulen ||
	    memcmp(exp, out + 1, ulen) != 0)
		abort();
	p = end + 1;
	if (!has_mailto) {
		if (*p != '\0')
			abort();
		return;
	}
	if (strncmp(p, ", <", 3) == 0)
		p += 2;
	else if (strncmp(p, ",\n\t<", 4) == 0) {
		p += 3;
		folded = 1;
	} else
		abort();
	end = uri_end(p);
	mlen = (size_t)(end - p - 1);
	if (end[1] != '\0' || strncasecmp(p + 1, "mailto:", 7) != 0)
		abort();
	if (folded != (PREFIX + ulen + mlen + 6 > LISTUNSUB_FOLD_AT))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *f[FIELDS] = { NULL }, out[LISTUNSUB_VALUE_MAX + 1], err[256];
	char *small;
	size_t nf = 0, k;
	int cu, cm, n, has_mailto;

	if (size > 3 * LISTUNSUB_VALUE_MAX)
		return 0;
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	f[nf++] = buf;
	for (k = 0; k < size && nf < FIELDS; k++)
		if (buf[k] == '\0')
			f[nf++] = buf + k + 1;

	err[0] = '\0';
	cu = listunsub_template_check(f[0], "https", err, sizeof(err));
	if (cu != 0 && (cu != -1 || err[0] == '\0'))
		abort();
	has_mailto = f[1] != NULL && *f[1] != '\0';
	cm = 0;
	if (has_mailto) {
		err[0] = '\0';
		cm = listunsub_template_check(f[1], "mailto", err, sizeof(err));
		if (cm != 0 && (cm != -1 || err[0] == '\0'))
			abort();
	}
	n = listunsub_build(f[0], f[1], f[2], f[3], out, sizeof(out));
	if ((cu != 0 || cm != 0) && n != -1)
		abort();
	if (n != -1)
		check_value(out, n, f[0], f[1], f[2], f[3]);

	/* Every small room, on the heap so ASan sees one octet too far. */
	for (k = 1; k <= 48; k++) {
		if ((small = malloc(k)) == NULL)
			break;
		n = listunsub_expand(f[0], f[2], f[3], small, k);
		if (n >= 0 && ((size_t)n >= k || strlen(small) != (size_t)n))
			abort();
		free(small);
	}
	free(buf);
	return 0;
}
