/*
 * maillog.c - the mail log scanner (maillog.h): a fixed walk over the
 * syslog header (time, host, program[pid]:) and the queue id, then the
 * few fields each kind of line has.  Anything unexpected is
 * MAILLOG_OTHER: a report skips what it cannot read, never guesses.
 */
#include <string.h>

#include "ctl/maillog.h"

/* is_alnum - an ASCII letter or digit, whatever the locale. */
static int
is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

/* qid_len - the queue id at p: 5 to 32 alphanumerics; its length, or 0. */
static size_t
qid_len(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && is_alnum(*q))
		q++;
	return q - p >= 5 && q - p <= 32 ? (size_t)(q - p) : 0;
}

/* angle_value - "<addr>," at *pp (after "to="): the address; 0 / -1. */
static int
angle_value(const char **pp, const char *end, struct util_str *v)
{
	const char *p = *pp, *q;

	if (p == end || *p != '<')
		return -1;
	for (q = p + 1; (q = memchr(q, '>', (size_t)(end - q))) != NULL; q++)
		if (q + 1 == end || q[1] == ',')
			break;
	if (q == NULL)
		return -1;
	v->p = p + 1;
	v->n = (size_t)(q - p - 1);
	*pp = q + 1;
	return 0;
}

/*
 * field - the value of ", NAME=" in p..end (up to the next ',' or ' '),
 * or {NULL, 0}.
 */
static void
field(const char *p, const char *end, const char *name, size_t nlen,
    struct util_str *v)
{
	const char *q = memmem(p, (size_t)(end - p), name, nlen), *e;

	if (q == NULL)
		return;
	q += nlen;
	for (e = q; e < end && *e != ',' && *e != ' '; e++)
		;
	v->p = q;
	v->n = (size_t)(e - q);
}

/*
 * extras - relay (its host), dsn and the "(...)" after the status, for
 * consentctl feedback; the fields before status= only.
 */
static void
extras(const char *p, const char *st, const char *q, const char *end,
    struct maillog_line *out)
{
	const char *h;

	field(p, st, ", relay=", 8, &out->relay);
	for (h = out->relay.p; h != NULL && h < out->relay.p + out->relay.n;
	    h++)
		if (*h == '[') {
			out->relay.n = (size_t)(h - out->relay.p);
			break;
		}
	field(p, st, ", dsn=", 6, &out->dsn);
	/* status=bounced (host mx[1.2.3.4] said: 550 ... (in reply to ...)) */
	if (end - q > 2 && q[0] == ' ' && q[1] == '(' && end[-1] == ')') {
		out->detail.p = q + 2;
		out->detail.n = (size_t)(end - 1 - (q + 2));
	}
}

/*
 * delivery - the fields of a delivery agent's line after its queue id:
 * to=<...>[, orig_to=<...>], ..., status=WORD, and "forwarded as QID"
 * when local(8) passed the copy on under a new queue id.  0 / -1.
 */
static int
delivery(const char *p, const char *end, struct maillog_line *out)
{
	const char *q, *st;
	size_t n;

	if (end - p < 4 || memcmp(p, "to=", 3) != 0)
		return -1;
	p += 3;
	if (angle_value(&p, end, &out->to) == -1)
		return -1;
	if (end - p > 10 && memcmp(p, ", orig_to=", 10) == 0) {
		p += 10;
		if (angle_value(&p, end, &out->orig_to) == -1)
			return -1;
	}
	if ((q = memmem(p, (size_t)(end - p), ", status=", 9)) == NULL)
		return -1;
	st = q;
	q += 9;
	out->status.p = q;
	for (; q < end && *q != ' ' && *q != ','; q++)
		;
	out->status.n = (size_t)(q - out->status.p);
	extras(p, st, q, end, out);
	if ((p = memmem(q, (size_t)(end - q), "forwarded as ", 13)) != NULL &&
	    (n = qid_len(p + 13, end)) > 0) {
		out->newqid.p = p + 13;
		out->newqid.n = n;
	}
	return 0;
}

int
maillog_scan(const char *line, size_t len, struct maillog_line *out)
{
	const char *p = line, *end = line + len, *q, *prog, *name;
	size_t n;

	memset(out, 0, sizeof(*out));
	while (end > p && (end[-1] == '\r' || end[-1] == ' '))
		end--;
	/* Shorter than a time, a host and a program: nothing for us. */
	if (end - p < 24)
		return MAILLOG_OTHER;
	if (*p >= '0' && *p <= '9') {
		/* 2026-11-26T22:00:00.123456+00:00 host prog[pid]: */
		if ((q = memchr(p, ' ', (size_t)(end - p))) == NULL ||
		    q - p < 19 || p[10] != 'T')
			return MAILLOG_OTHER;
		out->time.p = p;
		out->time.n = (size_t)(q - p);
		p = q + 1;
	} else {
		/* Nov 26 22:00:00 host prog[pid]: */
		if (p[3] != ' ' || p[6] != ' ' || p[9] != ':' || p[12] != ':' ||
		    p[15] != ' ')
			return MAILLOG_OTHER;
		out->classic = 1;
		out->time.p = p;
		out->time.n = 15;
		p += 16;
	}
	if ((q = memchr(p, ' ', (size_t)(end - p))) == NULL)
		return MAILLOG_OTHER;
	prog = p = q + 1;
	while (p < end && *p != '[' && *p != ':' && *p != ' ')
		p++;
	if (p == end)
		return MAILLOG_OTHER;
	/* postfix/smtp, postfix-out/smtp (multi-instance), ... */
	for (name = p; name > prog && name[-1] != '/'; name--)
		;
	if (name == prog)
		return MAILLOG_OTHER;
	n = (size_t)(p - name);
	if (*p == '[' && (p = memchr(p, ']', (size_t)(end - p))) != NULL)
		p++;
	if (p == NULL || end - p < 2 || p[0] != ':' || p[1] != ' ')
		return MAILLOG_OTHER;
	p += 2;
	if (n == 0 || (out->qid.n = qid_len(p, end)) == 0 ||
	    end - p < (ptrdiff_t)out->qid.n + 2 || p[out->qid.n] != ':' ||
	    p[out->qid.n + 1] != ' ')
		return MAILLOG_OTHER;
	out->qid.p = p;
	p += out->qid.n + 2;

	if ((n == 4 && (memcmp(name, "smtp", 4) == 0 ||
	    memcmp(name, "lmtp", 4) == 0 || memcmp(name, "pipe", 4) == 0)) ||
	    (n == 5 && memcmp(name, "local", 5) == 0) ||
	    (n == 7 && memcmp(name, "virtual", 7) == 0)) {
		if (delivery(p, end, out) == -1)
			return MAILLOG_OTHER;
		return out->kind = MAILLOG_DELIVERY;
	}
	if (n == 7 && memcmp(name, "cleanup", 7) == 0) {
		/* A milter refused the whole message: its queue file is gone. */
		if ((end - p >= 29 && memcmp(p, "milter-reject: END-OF-MESSAGE",
		    29) == 0) || (end - p >= 30 && memcmp(p,
		    "milter-discard: END-OF-MESSAGE", 30) == 0))
			return out->kind = MAILLOG_REMOVED;
		/* Held: quiet in the hold queue until someone releases it. */
		if ((end - p >= 13 && memcmp(p, "milter-hold: ", 13) == 0) ||
		    (end - p >= 6 && memcmp(p, "hold: ", 6) == 0))
			return out->kind = MAILLOG_HOLD;
		if (end - p < 11 || memcmp(p, "message-id=", 11) != 0)
			return MAILLOG_OTHER;
		p += 11;
		while (p < end && *p == ' ')
			p++;
		out->msgid.p = p;
		out->msgid.n = (size_t)(end - p);
		return out->kind = MAILLOG_CLEANUP;
	}
	/* A message deleted from the queue by hand (postsuper -d). */
	if (n == 9 && memcmp(name, "postsuper", 9) == 0)
		return end - p == 7 && memcmp(p, "removed", 7) == 0 ?
		    (out->kind = MAILLOG_REMOVED) : MAILLOG_OTHER;
	if (n == 4 && memcmp(name, "qmgr", 4) == 0) {
		/* from=<sender>, size=N, nrcpt=N (queue active); removed */
		if (end - p == 7 && memcmp(p, "removed", 7) == 0)
			return out->kind = MAILLOG_REMOVED;
		if (end - p < 7 || memcmp(p, "from=", 5) != 0)
			return MAILLOG_OTHER;
		p += 5;
		if (angle_value(&p, end, &out->from) == -1)
			return MAILLOG_OTHER;
		return out->kind = MAILLOG_QMGR;
	}
	if (n == 6 && memcmp(name, "bounce", 6) == 0) {
		if ((q = memmem(p, (size_t)(end - p), "notification: ", 14)) ==
		    NULL || (n = qid_len(q + 14, end)) == 0)
			return MAILLOG_OTHER;
		out->newqid.p = q + 14;
		out->newqid.n = n;
		return out->kind = MAILLOG_NOTICE;
	}
	return MAILLOG_OTHER;
}

