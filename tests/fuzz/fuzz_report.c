/*
 * fuzz_report.c - libFuzzer target for the audit report's two line
 * scanners, audit_scan (core/audit_scan.c) and maillog_scan
 * (ctl/maillog.c): any audit line and any mail-log line is scanned or
 * refused, never read past its end, and every view it returns lies
 * inside the line or the scratch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit_scan.h"
#include "ctl/maillog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const struct util_str *s, const char *line, size_t len,
    const char *scratch, size_t slen)
{
	if (s->p == NULL)
		return;
	if ((s->p >= line && s->p + s->n <= line + len) ||
	    (s->p >= scratch && s->p + s->n <= scratch + slen))
		return;
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so ASan sees any read past the line. */
	char *line = malloc(size ? size : 1), *scratch = malloc(size ? size : 1);
	struct audit_fields a;
	struct maillog_line m;
	char err[256];

	memcpy(line, data, size);
	if (audit_scan(line, size, scratch, size, &a, err, sizeof(err)) == 0) {
		const struct util_str *f[] = { &a.type, &a.t, &a.qid, &a.msgid,
		    &a.list, &a.class_, &a.rcpt, &a.verdict, &a.reason,
		    &a.outcome, &a.ev_kind, &a.ev_value, &a.ev_source,
		    &a.ev_time };

		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			inside(f[i], line, size, scratch, size);
	}
	if (maillog_scan(line, size, &m) != MAILLOG_OTHER) {
		const struct util_str *f[] = { &m.time, &m.qid, &m.to,
		    &m.orig_to, &m.status, &m.msgid, &m.newqid };

		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			inside(f[i], line, size, scratch, size);
	}
	free(line);
	free(scratch);
	return 0;
}
