/*
 * fuzz_feedback.c - libFuzzer target for the report parser.  Any input
 * either is refused with a reason, or yields a report whose every string
 * is bounded, NUL-terminated, valid UTF-8 without control characters,
 * whose status codes are enhanced status codes, and whose counts are
 * within their bounds.  Seeded from tests/data/feedback.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/fbparse.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fbp_report rep;

/* text_ok - s (in a buffer of cap octets) is a clean, bounded string. */
static void
text_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap || !util_utf8_valid(s, n))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	int kind;

	fbparse_init();
	kind = fbparse_message((const char *)data, size, &rep, err, sizeof(err));
	if (kind == -1) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	if (kind != FBP_DSN && kind != FBP_ARF && kind != FBP_PLAIN)
		abort();
	if (rep.nrcpt > FBP_RCPT_MAX || rep.ntok > FBP_TOKENS_MAX ||
	    rep.ntag > FBP_TAGS_MAX)
		abort();
	if (kind == FBP_DSN && rep.nrcpt == 0)
		abort();
	text_ok(rep.reporting_mta, sizeof(rep.reporting_mta));
	text_ok(rep.msgid, sizeof(rep.msgid));
	text_ok(rep.feedback_type, sizeof(rep.feedback_type));
	text_ok(rep.user_agent, sizeof(rep.user_agent));
	text_ok(rep.from, sizeof(rep.from));
	text_ok(rep.subject, sizeof(rep.subject));
	for (unsigned i = 0; i < rep.nrcpt; i++) {
		const struct fbp_rcpt *r = &rep.rcpt[i];

		text_ok(r->final, sizeof(r->final));
		text_ok(r->original, sizeof(r->original));
		text_ok(r->action, sizeof(r->action));
		text_ok(r->remote_mta, sizeof(r->remote_mta));
		text_ok(r->diag, sizeof(r->diag));
		if (r->status[0] != '\0' && !fbparse_status_ok(r->status))
			abort();
		if (kind == FBP_DSN && r->status[0] == '\0')
			abort();
	}
	for (unsigned i = 0; i < rep.ntok; i++) {
		size_t n = strnlen(rep.tok[i], TOKEN_MAX);

		if (n < FBP_TOKEN_MIN || n >= TOKEN_MAX)
			abort();
	}
	for (unsigned i = 0; i < rep.ntag; i++)
		if (strchr(rep.tag[i], '@') == NULL)
			abort();
	return 0;
}
