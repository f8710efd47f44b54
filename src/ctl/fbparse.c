/*
 * fbparse.c - delivery reports and complaints, read with GMime (see
 * fbparse.h).
 *
 * GMime parses the MIME structure, decodes transfer encodings, unfolds
 * and decodes header fields and parses addresses.  What is left here is
 * the reports' own syntax on top: the blocks of fields of RFC 3464 and
 * RFC 5965 (each block is read by GMime as a header), the "type; value"
 * form of their values, and the enhanced status code of RFC 3463.  Each
 * string kept is cleaned (valid UTF-8, no control characters) and
 * bounded; an input that is not a report gets a reason, never a guess.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "ctl/fbparse.h"
#include "util/util.h"

#define DEPTH_MAX	8		/* MIME nesting looked into */
#define SCAN_MAX	(1024 * 1024)	/* octets of returned text scanned for tokens */
#define PLAIN_LOOKBACK	3		/* lines an address may come before its code */

/* The parts of interest, found in one walk of the MIME tree. */
struct walk {
	char	report_type[32];	/* of the first multipart/report */
	GMimeObject *status;		/* message/(global-)delivery-status */
	GMimeObject *feedback;		/* message/feedback-report */
	GMimeObject *returned;		/* message/rfc822, message/global */
	GMimeObject *headers;		/* text/rfc822-headers, message/global-headers */
	GMimeObject *text;		/* the first text/plain */
};

/* One field block parsed by GMime, for the callbacks. */
typedef int (*field_fn)(void *ctx, unsigned block, const char *name,
    const char *value, char *err, size_t errlen);

void
fbparse_init(void)
{
	static int done;

	if (!done) {
		g_mime_init();
		done = 1;
	}
}

/* utf8_len - octets of the UTF-8 character at s (n left), 0 if invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len;

	if (s[0] < 0x80)
		return 1;
	len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (len == 0 || len > n || s[0] > 0xf4)
		return 0;
	return util_utf8_valid((const char *)s, len) ? len : 0;
}

/*
 * clean - in (n octets) into out (outlen with its NUL): valid UTF-8 kept,
 * an invalid octet becomes '?', control characters and runs of blanks one
 * space, trimmed, cut at a character boundary.
 */
static void
clean(const char *in, size_t n, char *out, size_t outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, i = 0, l;
	int blank = 1;

	while (i < n && o + 1 < outlen) {
		if (s[i] < 0x20 || s[i] == 0x7f || s[i] == ' ') {
			if (!blank)
				out[o++] = ' ';
			blank = 1;
			i++;
			continue;
		}
		if ((l = utf8_len(s + i, n - i)) == 0) {
			out[o++] = '?';
			i++;
		} else if (o + l < outlen) {
			memcpy(out + o, s + i, l);
			o += l;
			i += l;
		} else
			break;
		blank = 0;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/* skip_type - the value after "type;" (rfc822; dns; smtp; utf-8), trimmed. */
static const char *
skip_type(const char *v)
{
	const char *semi = strchr(v, ';');

	if (semi != NULL) {
		const char *p = v;

		while (*p == ' ' || *p == '\t')
			p++;
		/* An atom before the ';' is a type; anything else is the value. */
		if (strcspn(p, " \t;<>@\"") == (size_t)(semi - p) && semi > p)
			v = semi + 1;
	}
	while (*v == ' ' || *v == '\t')
		v++;
	return v;
}

/* host_copy - the host name of a "dns; host (comment)" value into out. */
static void
host_copy(const char *v, char *out, size_t outlen)
{
	size_t n;

	v = skip_type(v);
	n = strcspn(v, " \t(;");
	while (n > 0 && v[n - 1] == '.')
		n--;
	clean(v, n, out, outlen);
}

/* addr_copy - the address in v ("<a@b>", "a@b", with a type) into out. */
static void
addr_copy(const char *v, char *out)
{
	char buf[ADDR_MAX + 3];
	size_t n;

	v = skip_type(v);
	n = strcspn(v, " \t(");
	if (n >= sizeof(buf) || n == 0) {
		out[0] = '\0';
		return;
	}
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (n >= 2 && buf[0] == '<' && buf[n - 1] == '>') {
		memmove(buf, buf + 1, n - 2);
		buf[n - 2] = '\0';
	}
	clean(buf, strlen(buf), out, ADDR_MAX + 1);
	if (strchr(out, '@') == NULL)
		out[0] = '\0';
}

int
fbparse_status_ok(const char *s)
{
	int c, d;

	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return 0;
	s++;
	for (int part = 0; part < 2; part++) {
		if (*s++ != '.')
			return 0;
		for (c = 0, d = 0; s[c] >= '0' && s[c] <= '9'; c++)
			d = d * 10 + (s[c] - '0');
		if (c < 1 || c > 3 || d > 999)
			return 0;
		s += c;
	}
	return *s == '\0';
}

/* status_copy - the code that starts v ("5.1.1 (bad mailbox)") into out. */
static void
status_copy(const char *v, char *out, size_t outlen)
{
	size_t n;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strcspn(v, " \t(;");
	out[0] = '\0';
	if (n < outlen) {
		memcpy(out, v, n);
		out[n] = '\0';
		if (!fbparse_status_ok(out))
			out[0] = '\0';
	}
}

/* lower_word - the first word of v ([A-Za-z0-9._-]), lowercased, into out. */
static void
lower_word(const char *v, char *out, size_t outlen)
{
	size_t o = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
	    (*v >= '0' && *v <= '9') || *v == '-' || *v == '.' || *v == '_') &&
	    o + 1 < outlen; v++)
		out[o++] = (char)(*v >= 'A' && *v <= 'Z' ? *v + 32 : *v);
	out[o] = '\0';
}

/* --- tokens and return paths ------------------------------------------- */

static int
b64url(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static void
tok_add(struct fbp_report *r, const char *s, size_t n)
{
	if (n < FBP_TOKEN_MIN || n >= TOKEN_MAX || r->ntok >= FBP_TOKENS_MAX)
		return;
	for (unsigned i = 0; i < r->ntok; i++)
		if (strlen(r->tok[i]) == n && memcmp(r->tok[i], s, n) == 0)
			return;
	memcpy(r->tok[r->ntok], s, n);
	r->tok[r->ntok++][n] = '\0';
}

/*
 * tok_scan - every run of base64url in s (n octets) long enough to be a
 * token.  A run right after '%' may start with the two hex digits of an
 * escape ("subject=unsubscribe%20TOKEN"): it is kept without them too.
 */
static void
tok_scan(struct fbp_report *r, const char *s, size_t n)
{
	size_t i = 0, start;

	while (i < n && r->ntok < FBP_TOKENS_MAX) {
		while (i < n && !b64url((unsigned char)s[i]))
			i++;
		start = i;
		while (i < n && b64url((unsigned char)s[i]))
			i++;
		if (start > 0 && s[start - 1] == '%' && i - start > 2) {
			tok_add(r, s + start + 2, i - start - 2);
			continue;
		}
		tok_add(r, s + start, i - start);
	}
}

/* tag_add - keep addr if its local part may carry a return-path tag. */
static void
tag_add(struct fbp_report *r, const char *addr)
{
	const char *at = strrchr(addr, '@'), *fb;
	size_t n = strlen(addr);

	if (at == NULL || n > ADDR_MAX || r->ntag >= FBP_TAGS_MAX)
		return;
	fb = strstr(addr, "fb-");
	if (fb == NULL || fb > at)
		return;
	for (unsigned i = 0; i < r->ntag; i++)
		if (strcasecmp(r->tag[i], addr) == 0)
			return;
	memcpy(r->tag[r->ntag++], addr, n + 1);
}

/* tag_from_value - the mailboxes of an address header value. */
static void
tag_from_value(struct fbp_report *r, const char *value)
{
	InternetAddressList *l;
	int n;

	if (value == NULL || (l = internet_address_list_parse(NULL, value)) == NULL)
		return;
	n = internet_address_list_length(l);
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		char a[ADDR_MAX + 1];

		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		clean(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)),
		    strlen(internet_address_mailbox_get_addr(
		    INTERNET_ADDRESS_MAILBOX(ia))), a, sizeof(a));
		tag_add(r, a);
	}
	g_object_unref(l);
}

/* tags_from - return-path candidates from obj's header fields. */
static void
tags_from(struct fbp_report *r, GMimeObject *obj)
{
	static const char *const names[] = { "To", "Delivered-To",
	    "X-Original-To", "Return-Path", NULL };
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	int n = g_mime_header_list_get_count(hl);

	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);

		for (int k = 0; names[k] != NULL; k++)
			if (strcasecmp(g_mime_header_get_name(h), names[k]) == 0)
				tag_from_value(r, g_mime_header_get_value(h));
	}
}

/* --- reading parts ------------------------------------------------------ */

/* part_content - obj's decoded content in a new memory stream (unref it). */
static GMimeStream *
part_content(GMimeObject *obj, const char **p, size_t *n)
{
	GMimeDataWrapper *dw;
	GMimeStream *mem;
	GByteArray *ba;

	*p = "";
	*n = 0;
	if (!GMIME_IS_PART(obj) ||
	    (dw = g_mime_part_get_content(GMIME_PART(obj))) == NULL)
		return NULL;
	mem = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_write_to_stream(dw, mem) < 0) {
		g_object_unref(mem);
		return NULL;
	}
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	*p = (const char *)ba->data;
	*n = ba->len;
	return mem;
}

/* headers_parse - text (n octets) read by GMime as a header; unref it. */
static GMimeMessage *
headers_parse(const char *text, size_t n)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(text, n);
	GMimeParser *ps = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(ps, NULL);

	g_object_unref(ps);
	g_object_unref(s);
	return m;
}

/* next_block - the next block of fields in p[*i..n), blank lines between. */
static int
next_block(const char *p, size_t n, size_t *i, size_t *start, size_t *end)
{
	size_t j;

	/* Blank lines before the block. */
	while (*i < n) {
		j = *i;
		if (p[j] == '\r')
			j++;
		if (j < n && p[j] == '\n')
			*i = j + 1;
		else
			break;
	}
	if (*i >= n)
		return 0;
	*start = *i;
	while (*i < n) {
		const char *nl = memchr(p + *i, '\n', n - *i);

		*i = nl != NULL ? (size_t)(nl - p) + 1 : n;
		if (*i >= n || p[*i] == '\n' || (p[*i] == '\r' && *i + 1 < n &&
		    p[*i + 1] == '\n'))
			break;
	}
	*end = *i;
	return 1;
}

/*
 * fields_foreach - call fn for every field of every block of p (n
 * octets), blocks numbered from 0.  Returns the number of blocks, or -1
 * (fn's error, or a block GMime cannot read as fields).
 */
static int
fields_foreach(const char *p, size_t n, field_fn fn, void *ctx, char *err,
    size_t errlen)
{
	size_t i = 0, start, end;
	unsigned block = 0;

	while (next_block(p, n, &i, &start, &end)) {
		GMimeMessage *m;
		GMimeHeaderList *hl;
		int nh, rc = 0;

		if (block > FBP_RCPT_MAX)
			return util_fail(err, errlen, "more than %d recipient "
			    "groups", FBP_RCPT_MAX);
		if ((m = headers_parse(p + start, end - start)) == NULL)
			return util_fail(err, errlen, "field block %u is not "
			    "header fields", block + 1);
		hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
		nh = g_mime_header_list_get_count(hl);
		for (int k = 0; k < nh && rc == 0; k++) {
			GMimeHeader *h = g_mime_header_list_get_header_at(hl, k);
			const char *v = g_mime_header_get_value(h);

			rc = fn(ctx, block, g_mime_header_get_name(h), v ? v : "",
			    err, errlen);
		}
		g_object_unref(m);
		if (rc != 0)
			return -1;
		block++;
	}
	return (int)block;
}

/* --- delivery status ---------------------------------------------------- */

struct dsn_ctx {
	struct fbp_report *r;
	int	has[3];		/* of the current group: Final-Recipient, Action, Status */
};

/* dsn_check - the group just read has the fields RFC 3464 requires. */
static int
dsn_check(struct dsn_ctx *d, char *err, size_t errlen)
{
	static const char *const names[] = { "Final-Recipient", "Action",
	    "Status" };
	struct fbp_rcpt *rc;

	if (d->r->nrcpt == 0)
		return 0;
	rc = &d->r->rcpt[d->r->nrcpt - 1];
	for (int k = 0; k < 3; k++)
		if (!d->has[k])
			return util_fail(err, errlen, "delivery-status recipient "
			    "group %u has no %s field", d->r->nrcpt, names[k]);
	if (rc->status[0] == '\0')
		return util_fail(err, errlen, "delivery-status recipient group "
		    "%u: Status is not an enhanced status code", d->r->nrcpt);
	return 0;
}

static int
dsn_field(void *ctx, unsigned block, const char *name, const char *v,
    char *err, size_t errlen)
{
	struct dsn_ctx *d = ctx;
	struct fbp_report *r = d->r;
	struct fbp_rcpt *rc;

	if (block == 0) {
		if (strcasecmp(name, "Reporting-MTA") == 0)
			host_copy(v, r->reporting_mta, sizeof(r->reporting_mta));
		else if (strcasecmp(name, "X-Postfix-Sender") == 0) {
			char a[ADDR_MAX + 1];

			addr_copy(v, a);
			tag_add(r, a);
		}
		return 0;
	}
	if (block > r->nrcpt) {
		if (dsn_check(d, err, errlen) == -1)
			return -1;
		if (r->nrcpt >= FBP_RCPT_MAX)
			return util_fail(err, errlen, "more than %d recipient "
			    "groups", FBP_RCPT_MAX);
		memset(&r->rcpt[r->nrcpt++], 0, sizeof(r->rcpt[0]));
		memset(d->has, 0, sizeof(d->has));
	}
	rc = &r->rcpt[r->nrcpt - 1];
	if (strcasecmp(name, "Final-Recipient") == 0) {
		addr_copy(v, rc->final);
		d->has[0] = 1;
	} else if (strcasecmp(name, "Original-Recipient") == 0)
		addr_copy(v, rc->original);
	else if (strcasecmp(name, "Action") == 0) {
		lower_word(v, rc->action, sizeof(rc->action));
		d->has[1] = 1;
	} else if (strcasecmp(name, "Status") == 0) {
		status_copy(v, rc->status, sizeof(rc->status));
		d->has[2] = 1;
	} else if (strcasecmp(name, "Remote-MTA") == 0)
		host_copy(v, rc->remote_mta, sizeof(rc->remote_mta));
	else if (strcasecmp(name, "Diagnostic-Code") == 0)
		clean(skip_type(v), strlen(skip_type(v)), rc->diag,
		    sizeof(rc->diag));
	return 0;
}

/* read_dsn - the per-message and per-recipient fields of a status part. */
static int
read_dsn(struct fbp_report *r, GMimeObject *part, char *err, size_t errlen)
{
	struct dsn_ctx d = { r, { 0, 0, 0 } };
	GMimeStream *mem;
	const char *p;
	size_t n;
	int rc;

	if ((mem = part_content(part, &p, &n)) == NULL)
		return util_fail(err, errlen, "the delivery-status part cannot "
		    "be decoded");
	rc = fields_foreach(p, n, dsn_field, &d, err, errlen);
	g_object_unref(mem);
	if (rc == -1 || dsn_check(&d, err, errlen) == -1)
		return -1;
	if (r->nrcpt == 0)
		return util_fail(err, errlen, "the delivery-status part has no "
		    "recipient group");
	return 0;
}

/* --- feedback reports --------------------------------------------------- */

static int
arf_field(void *ctx, unsigned block, const char *name, const char *v,
    char *err, size_t errlen)
{
	struct fbp_report *r = ctx;

	(void)block;
	if (strcasecmp(name, "Feedback-Type") == 0)
		lower_word(v, r->feedback_type, sizeof(r->feedback_type));
	else if (strcasecmp(name, "User-Agent") == 0)
		clean(v, strlen(v), r->user_agent, sizeof(r->user_agent));
	else if (strcasecmp(name, "Reporting-MTA") == 0)
		host_copy(v, r->reporting_mta, sizeof(r->reporting_mta));
	else if (strcasecmp(name, "Original-Rcpt-To") == 0) {
		if (r->nrcpt >= FBP_RCPT_MAX)
			return util_fail(err, errlen, "more than %d "
			    "Original-Rcpt-To fields", FBP_RCPT_MAX);
		memset(&r->rcpt[r->nrcpt], 0, sizeof(r->rcpt[0]));
		addr_copy(v, r->rcpt[r->nrcpt].final);
		r->nrcpt++;
	}
	return 0;
}

/* read_arf - the fields of a feedback-report part (RFC 5965 3.1). */
static int
read_arf(struct fbp_report *r, GMimeObject *part, char *err, size_t errlen)
{
	GMimeStream *mem;
	const char *p;
	size_t n;
	int rc;

	if ((mem = part_content(part, &p, &n)) == NULL)
		return util_fail(err, errlen, "the feedback-report part cannot "
		    "be decoded");
	rc = fields_foreach(p, n, arf_field, r, err, errlen);
	g_object_unref(mem);
	if (rc == -1)
		return -1;
	if (r->feedback_type[0] == '\0')
		return util_fail(err, errlen, "the feedback-report part has no "
		    "Feedback-Type field");
	return 0;
}

/* --- the returned message ----------------------------------------------- */

/* returned_headers - Message-ID, List-Unsubscribe tokens, Return-Path. */
static void
returned_headers(struct fbp_report *r, GMimeMessage *m)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
	int n = g_mime_header_list_get_count(hl);
	const char *id = g_mime_message_get_message_id(m);

	if (id != NULL && r->msgid[0] == '\0') {
		char c[REC_REF_MAX - 1];

		clean(id, strlen(id), c, sizeof(c));
		if (c[0] != '\0')
			snprintf(r->msgid, sizeof(r->msgid), "<%s>", c);
	}
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *v = g_mime_header_get_raw_value(h);

		if (v != NULL && strcasecmp(g_mime_header_get_name(h),
		    "List-Unsubscribe") == 0)
			tok_scan(r, v, strlen(v));
	}
	tags_from(r, GMIME_OBJECT(m));
}

struct scan_ctx {
	struct fbp_report *r;
	size_t	scanned;
};

/* scan_part - tokens in one decoded text part of the returned message. */
static void
scan_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct scan_ctx *sc = data;
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	GMimeStream *mem;
	const char *p;
	size_t n;

	(void)parent;
	if (!GMIME_IS_PART(part) || sc->scanned >= SCAN_MAX ||
	    !g_mime_content_type_is_type(ct, "text", "*"))
		return;
	if ((mem = part_content(part, &p, &n)) == NULL)
		return;
	if (n > SCAN_MAX - sc->scanned)
		n = SCAN_MAX - sc->scanned;
	sc->scanned += n;
	tok_scan(sc->r, p, n);
	g_object_unref(mem);
}

/* read_returned - what the returned message or headers prove and name. */
static void
read_returned(struct fbp_report *r, struct walk *w)
{
	GMimeMessage *m = NULL;
	GMimeStream *mem = NULL;
	const char *p;
	size_t n;

	if (w->returned != NULL)
		m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(w->returned));
	if (m != NULL) {
		struct scan_ctx sc = { r, 0 };

		r->returned = 1;
		returned_headers(r, m);
		g_mime_message_foreach(m, scan_part, &sc);
		return;
	}
	if (w->headers == NULL || (mem = part_content(w->headers, &p, &n)) == NULL)
		return;
	r->returned = 1;
	if ((m = headers_parse(p, n)) != NULL) {
		returned_headers(r, m);
		g_object_unref(m);
	}
	g_object_unref(mem);
}

/* --- the walk ----------------------------------------------------------- */

static void
visit(struct walk *w, GMimeObject *obj, int depth)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	if (depth > DEPTH_MAX)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		if (g_mime_content_type_is_type(ct, "multipart", "report") &&
		    w->report_type[0] == '\0') {
			const char *rt = g_mime_content_type_get_parameter(ct,
			    "report-type");

			lower_word(rt ? rt : "?", w->report_type,
			    sizeof(w->report_type));
		}
		for (int i = 0; i < n; i++)
			visit(w, g_mime_multipart_get_part(mp, i), depth + 1);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		/* A returned message is read, never walked as part of the report. */
		if (w->returned == NULL)
			w->returned = obj;
		return;
	}
	if (g_mime_content_type_is_type(ct, "message", "delivery-status") ||
	    g_mime_content_type_is_type(ct, "message", "global-delivery-status")) {
		if (w->status == NULL)
			w->status = obj;
	} else if (g_mime_content_type_is_type(ct, "message", "feedback-report")) {
		if (w->feedback == NULL)
			w->feedback = obj;
	} else if (g_mime_content_type_is_type(ct, "text", "rfc822-headers") ||
	    g_mime_content_type_is_type(ct, "message", "global-headers")) {
		if (w->headers == NULL)
			w->headers = obj;
	} else if (g_mime_content_type_is_type(ct, "text", "plain") &&
	    w->text == NULL)
		w->text = obj;
}

/* --- plain-text bounces ------------------------------------------------- */

/* looks_bounce - the message says it is a bounce, though not in a report. */
static int
looks_bounce(GMimeMessage *m)
{
	static const char *const subjects[] = { "undeliver", "delivery status",
	    "delivery failure", "delivery failed", "delivery has failed",
	    "returned mail", "failure notice", "non-delivery", "not delivered",
	    NULL };
	GMimeObject *o = GMIME_OBJECT(m);
	const char *subj = g_mime_message_get_subject(m), *rp;
	InternetAddressList *from = g_mime_message_get_from(m);

	if (g_mime_object_get_header(o, "X-Failed-Recipients") != NULL)
		return 1;
	if ((rp = g_mime_object_get_header(o, "Return-Path")) != NULL &&
	    strstr(rp, "<>") != NULL)
		return 1;
	if (from != NULL && internet_address_list_length(from) > 0) {
		InternetAddress *ia = internet_address_list_get_address(from, 0);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *a = internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(ia));

			if (strncasecmp(a, "mailer-daemon@", 14) == 0 ||
			    strncasecmp(a, "postmaster@", 11) == 0)
				return 1;
		}
	}
	for (int i = 0; subj != NULL && subjects[i] != NULL; i++)
		if (strcasestr(subj, subjects[i]) != NULL)
			return 1;
	return 0;
}

/* find_code - the first 4.x.x or 5.x.x code in line (n octets) into out. */
static int
find_code(const char *line, size_t n, char *out, size_t outlen)
{
	for (size_t i = 0; i + 5 <= n; i++) {
		size_t j = i + 1, k;

		if ((line[i] != '4' && line[i] != '5') || (i > 0 &&
		    ((line[i - 1] >= '0' && line[i - 1] <= '9') ||
		    line[i - 1] == '.')))
			continue;
		for (int part = 0; part < 2 && j < n && line[j] == '.'; part++) {
			for (k = j + 1; k < n && k - j <= 3 && line[k] >= '0' &&
			    line[k] <= '9'; k++)
				;
			if (k == j + 1 || k - j > 4)
				break;
			j = k;
			if (part == 1 && (j >= n || (line[j] != '.' &&
			    !(line[j] >= '0' && line[j] <= '9'))) &&
			    j - i < outlen) {
				memcpy(out, line + i, j - i);
				out[j - i] = '\0';
				if (fbparse_status_ok(out))
					return 1;
			}
		}
	}
	return 0;
}

/* find_addr - the first word with an '@' in line (n octets) into out. */
static int
find_addr(const char *line, size_t n, char *out)
{
	const char *at = memchr(line, '@', n), *s, *e;
	char buf[ADDR_MAX + 1];

	if (at == NULL)
		return 0;
	for (s = at; s > line && strchr(" \t<>:;,\"'()[]", s[-1]) == NULL; s--)
		;
	for (e = at; e < line + n && strchr(" \t<>:;,\"'()[]", *e) == NULL; e++)
		;
	while (e > at && (e[-1] == '.'))
		e--;
	if (at == s || e == at + 1 || (size_t)(e - s) > ADDR_MAX)
		return 0;
	memcpy(buf, s, (size_t)(e - s));
	buf[e - s] = '\0';
	clean(buf, strlen(buf), out, ADDR_MAX + 1);
	return 1;
}

/* plain_add - one recipient of a plain bounce, unless already listed. */
static void
plain_add(struct fbp_report *r, const char *addr, const char *code,
    const char *line, size_t n)
{
	struct fbp_rcpt *rc;

	for (unsigned i = 0; i < r->nrcpt; i++)
		if (strcasecmp(r->rcpt[i].final, addr) == 0) {
			if (r->rcpt[i].status[0] == '\0' && code[0] != '\0') {
				util_strlcpy(r->rcpt[i].status, code,
				    sizeof(r->rcpt[i].status));
				clean(line, n, r->rcpt[i].diag,
				    sizeof(r->rcpt[i].diag));
			}
			return;
		}
	if (r->nrcpt >= FBP_RCPT_MAX)
		return;
	rc = &r->rcpt[r->nrcpt++];
	memset(rc, 0, sizeof(*rc));
	util_strlcpy(rc->final, addr, sizeof(rc->final));
	util_strlcpy(rc->action, "failed", sizeof(rc->action));
	util_strlcpy(rc->status, code, sizeof(rc->status));
	clean(line, n, rc->diag, sizeof(rc->diag));
}

/*
 * read_plain_text - codes in the text: each with the address on its line,
 * or on one of the lines just before, or "" (a token may name it).
 */
static void
read_plain_text(struct fbp_report *r, const char *p, size_t n)
{
	char code[16], addr[ADDR_MAX + 1], last[ADDR_MAX + 1] = "";
	size_t i = 0, since = PLAIN_LOOKBACK + 1;

	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t ll = nl != NULL ? (size_t)(nl - (p + i)) : n - i;
		int has_addr = find_addr(p + i, ll, addr);

		if (find_code(p + i, ll, code, sizeof(code))) {
			const char *who = has_addr ? addr :
			    since <= PLAIN_LOOKBACK ? last : "";

			plain_add(r, who, code, p + i, ll);
		}
		if (has_addr) {
			memcpy(last, addr, sizeof(last));
			since = 0;
		} else
			since++;
		i += ll + 1;
	}
}

/* read_plain - a bounce without a report: X-Failed-Recipients and codes. */
static void
read_plain(struct fbp_report *r, GMimeMessage *m, struct walk *w)
{
	const char *xf = g_mime_object_get_header(GMIME_OBJECT(m),
	    "X-Failed-Recipients");
	GMimeStream *mem = NULL;
	InternetAddressList *l;
	const char *p = "";
	size_t n = 0;

	if (xf != NULL && (l = internet_address_list_parse(NULL, xf)) != NULL) {
		for (int i = 0; i < internet_address_list_length(l); i++) {
			InternetAddress *ia = internet_address_list_get_address(l, i);
			const char *a;
			char c[ADDR_MAX + 1];

			if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
				continue;
			a = internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(ia));
			clean(a, strlen(a), c, sizeof(c));
			plain_add(r, c, "", "", 0);
		}
		g_object_unref(l);
	}
	if (w->text != NULL && (mem = part_content(w->text, &p, &n)) != NULL) {
		if (n > SCAN_MAX)
			n = SCAN_MAX;
		/* With X-Failed-Recipients, codes go to those named there. */
		if (r->nrcpt > 0) {
			char code[16];
			size_t i = 0;

			while (i < n) {
				const char *nl = memchr(p + i, '\n', n - i);
				size_t ll = nl ? (size_t)(nl - (p + i)) : n - i;

				if (find_code(p + i, ll, code, sizeof(code)))
					for (unsigned k = 0; k < r->nrcpt; k++)
						if (r->rcpt[k].status[0] == '\0')
							plain_add(r, r->rcpt[k].final,
							    code, p + i, ll);
				i += ll + 1;
			}
		} else
			read_plain_text(r, p, n);
		tok_scan(r, p, n);
		g_object_unref(mem);
	}
}

/* --- the message -------------------------------------------------------- */

/* report_meta - From and Subject for review, and return-path candidates. */
static void
report_meta(struct fbp_report *r, GMimeMessage *m)
{
	InternetAddressList *from = g_mime_message_get_from(m);
	const char *subj = g_mime_message_get_subject(m);

	if (from != NULL && internet_address_list_length(from) > 0) {
		char *s = internet_address_list_to_string(from, NULL, FALSE);

		if (s != NULL) {
			clean(s, strlen(s), r->from, sizeof(r->from));
			g_free(s);
		}
	}
	if (subj != NULL)
		clean(subj, strlen(subj), r->subject, sizeof(r->subject));
	tags_from(r, GMIME_OBJECT(m));
}

/* read_parts - the kind of report, from the parts the walk found. */
static int
read_parts(struct fbp_report *r, GMimeMessage *m, struct walk *w, char *err,
    size_t errlen)
{
	if (w->feedback != NULL || strcmp(w->report_type, "feedback-report") == 0) {
		if (w->feedback == NULL)
			return util_fail(err, errlen, "multipart/report; "
			    "report-type=feedback-report without a "
			    "message/feedback-report part");
		if (read_arf(r, w->feedback, err, errlen) == -1)
			return -1;
		read_returned(r, w);
		return r->kind = FBP_ARF;
	}
	if (w->status != NULL || strcmp(w->report_type, "delivery-status") == 0) {
		if (w->status == NULL)
			return util_fail(err, errlen, "multipart/report; "
			    "report-type=delivery-status without a "
			    "message/delivery-status part");
		if (read_dsn(r, w->status, err, errlen) == -1)
			return -1;
		read_returned(r, w);
		return r->kind = FBP_DSN;
	}
	if (w->report_type[0] != '\0')
		return util_fail(err, errlen, "multipart/report of an unknown "
		    "report-type \"%s\"", w->report_type);
	if (!looks_bounce(m))
		return util_fail(err, errlen, "not a delivery status "
		    "notification, a feedback report or a bounce (no report "
		    "part, not from MAILER-DAEMON or postmaster)");
	read_plain(r, m, w);
	read_returned(r, w);
	return r->kind = FBP_PLAIN;
}

int
fbparse_message(const char *buf, size_t len, struct fbp_report *r, char *err,
    size_t errlen)
{
	struct walk w;
	GMimeStream *s;
	GMimeParser *ps;
	GMimeMessage *m;
	GMimeObject *body;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&w, 0, sizeof(w));
	if (len > FBP_MSG_MAX) {
		len = FBP_MSG_MAX;
		r->truncated = 1;
	}
	if (len == 0)
		return util_fail(err, errlen, "empty message");
	fbparse_init();
	s = g_mime_stream_mem_new_with_buffer(buf, len);
	ps = g_mime_parser_new_with_stream(s);
	m = g_mime_parser_construct_message(ps, NULL);
	g_object_unref(ps);
	g_object_unref(s);
	if (m == NULL)
		return util_fail(err, errlen, "not a MIME message (no header "
		    "fields)");
	if ((body = g_mime_message_get_mime_part(m)) == NULL) {
		g_object_unref(m);
		return util_fail(err, errlen, "a message without a body");
	}
	visit(&w, body, 0);
	report_meta(r, m);
	rc = read_parts(r, m, &w, err, errlen);
	g_object_unref(m);
	return rc;
}
