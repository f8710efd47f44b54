/*
 * fuzz_mta.c - libFuzzer target for the removal forms (milter/mta.c).
 * The input is "raw\0rcpt_addr" (a missing witness is NULL).  A mailbox
 * mta_delrcpt_arg writes is "<...>", printable or UTF-8, and is its own
 * mailbox again; it is its own witness for both MTAs (for Postfix,
 * unbracketed and casefolded: equal but for case is 2).  A form
 * mta_sendmail_arg takes is printable ASCII with no comma Sendmail's list
 * parse would split at (outside quotes, outside a bracketed route) and
 * balanced <> and quotes.  mta_detect names Sendmail only for "8.<digits>".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "milter/mta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* split_ok - raw as mta_sendmail_arg promises it: no comma splits it. */
static void
check_sendmail_arg(const char *raw)
{
	int quoted = 0, angle = 0, route = 0;

	if (raw[0] == ' ' || raw[0] == ',')
		abort();
	for (const char *p = raw; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c > 0x7e)
			abort();
		if (quoted) {
			if (c == '\\' && p[1] != '\0')
				p++;
			else if (c == '"')
				quoted = 0;
			continue;
		}
		if (c == '"')
			quoted = 1;
		else if (c == '<') {
			const char *q = p + 1;

			while (*q == ' ')
				q++;
			angle++;
			route = *q == '@';
		} else if (c == '>') {
			angle--;
			route = 0;
		} else if (c == ',' && (angle <= 0 || !route))
			abort();
		if (angle < 0)
			abort();
	}
	if (quoted || angle != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, out[MTA_DELRCPT_MAX], again[MTA_DELRCPT_MAX];
	const char *raw, *wit = NULL;
	size_t n;
	int upper;

	if (size > 4096)
		return 0;
	if ((buf = malloc(size + 2)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	buf[size + 1] = '\0';
	raw = buf;
	n = strlen(raw);
	if (n < size)
		wit = buf + n + 1;

	if (mta_delrcpt_arg(raw, out, sizeof(out)) == 1) {
		n = strlen(out);
		if (n < 3 || out[0] != '<' || out[n - 1] != '>')
			abort();
		if (mta_delrcpt_arg(out, again, sizeof(again)) != 1 ||
		    strcmp(out, again) != 0)
			abort();
		if (mta_sendmail_witness_ok(out, out) != 1)
			abort();
		/* Postfix's {rcpt_addr}: unbracketed and casefolded. */
		upper = 0;
		for (size_t i = 1; i + 1 < n; i++) {
			char c = out[i];

			upper |= c >= 'A' && c <= 'Z';
			again[i - 1] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		}
		again[n - 2] = '\0';
		if (strchr(out, '"') == NULL && strchr(again, '@') != NULL &&
		    again[n - 3] != '.' &&
		    mta_rcpt_witness_ok(out, again) != (upper ? 2 : 1))
			abort();
		(void)mta_sendmail_witness_ok(out, wit);
		(void)mta_rcpt_witness_ok(out, wit);
	}
	if (mta_sendmail_arg(raw) == 1)
		check_sendmail_arg(raw);
	if (mta_detect(raw) == MTA_SENDMAIL && strncmp(raw, "8.", 2) != 0)
		abort();
	if (mta_detect(raw) == MTA_POSTFIX && strncmp(raw, "Postfix", 7) != 0)
		abort();
	free(buf);
	return 0;
}
