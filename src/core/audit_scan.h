/*
 * audit_scan.h - reading an audit line back: the scanner beside the
 * writer in audit.c (a scan/print pair, as Postfix's attr_scan and
 * attr_print).  Sized for millions of lines: the fields are views into
 * the line, and only a string with escapes is decoded, into the caller's
 * scratch.
 */
#ifndef AUDIT_SCAN_H
#define AUDIT_SCAN_H

#include <stddef.h>

#include "util/util.h"

/*
 * The fields of an audit line that its readers use; an absent one is
 * {NULL, 0}.  Each is a view into the line, or into scratch when it held
 * an escape.
 */
struct audit_fields {
	struct util_str type;		/* "open", "gap", absent on a decision */
	struct util_str t, qid, msgid, list, class_, rcpt, verdict, reason;
	struct util_str outcome, ev_kind, ev_value, ev_source, ev_time;
};

/*
 * audit_scan - scan one audit line (a flat JSON object of string and
 * number values, without its newline) into *out.  Values with escapes are
 * decoded into scratch, which must hold at least len octets and be reused
 * only after the caller is done with *out.  Keys not in struct
 * audit_fields are skipped, whatever their value; a key of ours with a
 * number, or a string holding \u0000, is refused.  Returns 0, or -1 with
 * err naming the column.
 */
int	audit_scan(const char *line, size_t len, char *scratch,
	    size_t scratchlen, struct audit_fields *out, char *err,
	    size_t errlen);

#endif
