/*
 * fuzz_classify.c - libFuzzer target for the header readers.  The input
 * is one header value.  classify_cfws either fails or gives a value with
 * no CR, LF or tab, no blank at either end, no two blanks in a row and no
 * '(' or ')' outside a quoted string, no longer than the input, which it
 * gives back unchanged; classify_list_id gives a name that
 * record_list_check takes, or fails; a list header or a List-Id always
 * makes the message bulk, on a list record_list_check takes or on none;
 * and a Precedence that reads as bulk or list never leaves it transactional.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/classify.h"
#include "core/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_cfws - the shape classify_cfws promises. */
static void
check_cfws(const char *in, const char *out)
{
	char again[2048];
	int inq = 0;

	if (strlen(out) > strlen(in))
		abort();
	if (out[0] == ' ' || (out[0] != '\0' && out[strlen(out) - 1] == ' '))
		abort();
	for (const char *p = out; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n')
			abort();
		if (inq) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				inq = 0;
			continue;
		}
		if (*p == '"')
			inq = 1;
		else if (*p == '\t' || *p == '(' || *p == ')' ||
		    (*p == ' ' && p[1] == ' '))
			abort();
	}
	if (inq)
		abort();
	if (classify_cfws(out, again, sizeof(again)) != 0 || strcmp(out, again))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct classify_conf cc = {
		.use_list_id = 1, .use_precedence = 1,
		.list_header = "X-Consent-List", .default_list = "default",
	};
	struct classify_hdrs h;
	struct classify_result r;
	char *v, out[2048], list[REC_LIST_MAX + 1], err[128];

	if (size > 1500 || (v = malloc(size + 1)) == NULL)
		return 0;
	memcpy(v, data, size);
	v[size] = '\0';		/* a header value ends at its first NUL */
	if (classify_cfws(v, out, sizeof(out)) == 0)
		check_cfws(v, out);
	if (classify_list_id(v, list) == 0 &&
	    record_list_check(list, err, sizeof(err)) != 0)
		abort();
	for (int k = 0; k < 3; k++) {
		static const char *names[] = { "X-Consent-List", "List-Id",
		    "Precedence" };

		memset(&h, 0, sizeof(h));
		classify_header(&cc, &h, names[k], v);
		classify_headers(&cc, &h, &r);
		if (r.class_ != CLASS_BULK && r.class_ != CLASS_TRANSACTIONAL)
			abort();
		/* A list header or a List-Id always makes the message bulk. */
		if (k < 2 && r.class_ != CLASS_BULK)
			abort();
		if (r.class_ == CLASS_BULK && r.list[0] != '\0' &&
		    record_list_check(r.list, err, sizeof(err)) != 0)
			abort();
		/* Whatever classify_cfws makes of "bulk" with v around it. */
		if (k == 2 && r.class_ == CLASS_TRANSACTIONAL &&
		    classify_cfws(v, out, sizeof(out)) == 0 &&
		    (strcasecmp(out, "bulk") == 0 || strcasecmp(out, "list") == 0))
			abort();
	}
	free(v);
	return 0;
}
