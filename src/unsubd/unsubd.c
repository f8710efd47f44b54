/*
 * unsubd.c - consent-unsubd's request handling (see unsubd.h).
 *
 * Pure functions of their arguments (the store write is the caller's
 * callback): no socket I/O, no allocation, every loop bounded by its
 * input.  The form parsers look at most UNSUBD_BODY_MAX octets and copy
 * no more than a field name or value that could be one of ours.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/record.h"
#include "core/optin.h"
#include "unsubd/unsubd.h"
#include "util/enc.h"
#include "util/util.h"

#define FIELD_MAX	64	/* octets of a field name or value we compare */
#define BOUNDARY_MAX	70	/* RFC 2046 5.1.1 */
#define NET_TEXT_MAX	64	/* an address or prefix as text */

/* An address, or a prefix of unsubscribe.trusted_proxies. */
struct net {
	int	af;
	unsigned char a[16];
	unsigned bits;
};

int
unsubd_method(const char *name)
{
	/* Methods are case-sensitive (RFC 9110 9.1). */
	if (name == NULL)
		return UNSUBD_OTHER;
	if (strcmp(name, "GET") == 0)
		return UNSUBD_GET;
	if (strcmp(name, "HEAD") == 0)
		return UNSUBD_HEAD;
	if (strcmp(name, "POST") == 0)
		return UNSUBD_POST;
	return UNSUBD_OTHER;
}

/* path_after - 1 if path is prefix then one non-empty segment: the token. */
static int
path_after(const char *path, size_t len, const char *prefix, const char **tok,
    size_t *toklen)
{
	size_t plen = strlen(prefix);

	if (len <= plen || memcmp(path, prefix, plen) != 0 ||
	    memchr(path + plen, '/', len - plen) != NULL ||
	    memchr(path + plen, '\0', len - plen) != NULL)
		return 0;
	*tok = path + plen;
	*toklen = len - plen;
	return 1;
}

int
unsubd_path(const char *path, size_t len, const char **tok, size_t *toklen)
{
	const char *q;

	*tok = NULL;
	*toklen = 0;
	if (path == NULL)
		return UNSUBD_PATH_NONE;
	if ((q = memchr(path, '?', len)) != NULL)
		len = (size_t)(q - path);
	if (path_after(path, len, UNSUBD_PREFIX, tok, toklen))
		return UNSUBD_PATH_UNSUB;
	if (path_after(path, len, UNSUBD_CONFIRM_PREFIX, tok, toklen))
		return UNSUBD_PATH_CONFIRM;
	return UNSUBD_PATH_NONE;
}

int
unsubd_path_token(const char *path, size_t len, const char **tok,
    size_t *toklen)
{
	if (unsubd_path(path, len, tok, toklen) == UNSUBD_PATH_UNSUB)
		return 1;
	*tok = NULL;
	*toklen = 0;
	return 0;
}

static int
blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* field_is - 1 if f (n octets) is s, ignoring ASCII case. */
static int
field_is(const char *f, size_t n, const char *s)
{
	return n == strlen(s) && strncasecmp(f, s, n) == 0;
}

/* One field of a form: only ours count, whatever else is sent. */
static void
form_field(struct unsubd_form *f, const char *name, size_t nl,
    const char *val, size_t vl)
{
	if (nl > FIELD_MAX || vl > FIELD_MAX)
		return;
	while (vl > 0 && blank((unsigned char)val[0])) {
		val++;
		vl--;
	}
	while (vl > 0 && blank((unsigned char)val[vl - 1]))
		vl--;
	if (field_is(name, nl, "List-Unsubscribe") &&
	    field_is(val, vl, "One-Click"))
		f->one_click = 1;
	else if (field_is(name, nl, "all") && (field_is(val, vl, "1") ||
	    field_is(val, vl, "on") || field_is(val, vl, "true")))
		f->all = 1;
	else if (field_is(name, nl, "confirm") && (field_is(val, vl, "yes") ||
	    field_is(val, vl, "1")))
		f->confirm = 1;
}

/*
 * url_decode - a urlencoded name or value (n octets) into out, of which
 * at most outlen octets are written.  Returns the decoded length (more
 * than outlen: too long to be ours), or -1 for a bad %-escape anywhere.
 */
static long
url_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i], hi, lo;

		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (n - i < 3 || (hi = util_hexval(s[i + 1])) < 0 ||
			    (lo = util_hexval(s[i + 2])) < 0)
				return -1;
			c = hi << 4 | lo;
			i += 2;
		}
		if (o < outlen)
			out[o] = (char)c;
		o++;
	}
	return (long)o;
}

static int
form_urlencoded(const char *b, size_t len, struct unsubd_form *f)
{
	char name[FIELD_MAX], val[FIELD_MAX];
	size_t i = 0;

	/* Some clients end the body with a newline. */
	while (len > 0 && (b[len - 1] == '\r' || b[len - 1] == '\n'))
		len--;
	while (i < len) {
		const char *amp = memchr(b + i, '&', len - i);
		size_t end = amp != NULL ? (size_t)(amp - b) : len;
		const char *eq = memchr(b + i, '=', end - i);
		size_t nend = eq != NULL ? (size_t)(eq - b) : end;
		long nl, vl = 0;

		if (end > i) {
			nl = url_decode(b + i, nend - i, name, sizeof(name));
			if (eq != NULL)
				vl = url_decode(eq + 1, end - nend - 1, val,
				    sizeof(val));
			if (nl < 0 || vl < 0)
				return -1;
			form_field(f, name, (size_t)nl, val, (size_t)vl);
		}
		i = end + 1;
	}
	return 0;
}

/*
 * param - parameter name of a header value s (n octets) such as
 * "multipart/form-data; boundary=\"x\"", unquoted into out (outlen, with
 * its NUL).  1 found, 0 absent, -1 malformed or longer than out.
 */
static int
param(const char *s, size_t n, const char *name, char *out, size_t outlen)
{
	size_t i = 0;

	while (i < n && s[i] != ';')
		i++;
	while (i < n) {
		size_t ns, ne, o = 0;
		int match;

		i++;		/* the ';' */
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		ns = i;
		while (i < n && s[i] != '=' && s[i] != ';' && s[i] != ' ' &&
		    s[i] != '\t')
			i++;
		ne = i;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= n || s[i] != '=') {
			while (i < n && s[i] != ';')
				i++;
			continue;	/* "; ;" or a bare word */
		}
		i++;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		match = field_is(s + ns, ne - ns, name);
		if (i < n && s[i] == '"') {
			for (i++;; ) {
				char c;

				if (i >= n)
					return -1;	/* unterminated */
				if ((c = s[i++]) == '"')
					break;
				if (c == '\\') {
					if (i >= n)
						return -1;
					c = s[i++];
				}
				if (match) {
					if (o + 1 >= outlen)
						return -1;
					out[o++] = c;
				}
			}
		} else {
			for (; i < n && s[i] != ';' && s[i] != ' ' &&
			    s[i] != '\t'; i++) {
				if (match) {
					if (o + 1 >= outlen)
						return -1;
					out[o++] = s[i];
				}
			}
		}
		if (match) {
			out[o] = '\0';
			return 1;
		}
		while (i < n && s[i] != ';')
			i++;
	}
	return 0;
}

/* ctype_is - 1 if the media type of ct, before any parameter, is type. */
static int
ctype_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, type, n) != 0)
		return 0;
	for (ct += n; *ct == ' ' || *ct == '\t'; ct++)
		;
	return *ct == '\0' || *ct == ';';
}

/*
 * A minimal multipart/form-data (RFC 7578): parts between "--boundary"
 * lines, each with a Content-Disposition naming its field, closed by
 * "--boundary--".  Lines may end in CRLF or LF.  Part content is taken
 * as it is (no Content-Transfer-Encoding: RFC 7578 4.7).
 */
static int
form_multipart(const char *ct, const char *b, size_t len,
    struct unsubd_form *f)
{
	char delim[3 + BOUNDARY_MAX + 1];	/* "\n--" boundary */
	char name[FIELD_MAX + 1];
	const char *p;
	size_t dlen, pos;

	delim[0] = '\n';
	delim[1] = delim[2] = '-';
	if (param(ct, strlen(ct), "boundary", delim + 3,
	    sizeof(delim) - 3) != 1 || delim[3] == '\0')
		return -1;
	dlen = strlen(delim);
	if (strpbrk(delim + 3, "\r\n") != NULL)
		return -1;
	/* The first delimiter opens the body, or ends a preamble line. */
	if (len >= dlen - 1 && memcmp(b, delim + 1, dlen - 1) == 0)
		pos = dlen - 1;
	else if ((p = memmem(b, len, delim, dlen)) != NULL)
		pos = (size_t)(p - b) + dlen;
	else
		return -1;
	for (;;) {
		int named = 0;
		size_t clen;

		/* "--" closes; the epilogue after it is ignored. */
		if (len - pos >= 2 && b[pos] == '-' && b[pos + 1] == '-')
			return 0;
		while (pos < len && (b[pos] == ' ' || b[pos] == '\t'))
			pos++;
		if (pos < len && b[pos] == '\r')
			pos++;
		if (pos >= len || b[pos] != '\n')
			return -1;
		pos++;
		/* The part's header lines, up to an empty one. */
		for (;;) {
			const char *line = b + pos, *nl, *colon;
			size_t ll;

			if ((nl = memchr(line, '\n', len - pos)) == NULL)
				return -1;
			ll = (size_t)(nl - line);
			pos += ll + 1;
			if (ll > 0 && line[ll - 1] == '\r')
				ll--;
			if (ll == 0)
				break;
			if ((colon = memchr(line, ':', ll)) != NULL &&
			    field_is(line, (size_t)(colon - line),
			    "Content-Disposition"))
				named = param(colon + 1, ll - (size_t)(colon -
				    line) - 1, "name", name, sizeof(name)) == 1;
		}
		if ((p = memmem(b + pos, len - pos, delim, dlen)) == NULL)
			return -1;
		clen = (size_t)(p - (b + pos));
		if (clen > 0 && b[pos + clen - 1] == '\r')
			clen--;
		if (named)
			form_field(f, name, strlen(name), b + pos, clen);
		pos = (size_t)(p - b) + dlen;
	}
}

int
unsubd_form_parse(const char *ctype, const char *body, size_t len,
    struct unsubd_form *f)
{
	int rc = -1;

	memset(f, 0, sizeof(*f));
	if (body == NULL && len > 0)
		return -1;
	if (body == NULL)
		body = "";
	if (len > UNSUBD_BODY_MAX)
		return -1;
	/* No type: read as a form, as browsers send one. */
	if (ctype == NULL ||
	    ctype_is(ctype, "application/x-www-form-urlencoded"))
		rc = form_urlencoded(body, len, f);
	else if (ctype_is(ctype, "multipart/form-data"))
		rc = form_multipart(ctype, body, len, f);
	if (rc == -1)
		memset(f, 0, sizeof(*f));
	return rc;
}

/*
 * cl_value - one element of a Content-Length list (n octets, blanks
 * around it allowed) as a number into *v; -1 unless 1 to 19 digits.
 */
static int
cl_value(const char *s, size_t n, uint64_t *v)
{
	size_t d;

	while (n > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	for (d = 0; d < n && s[d] >= '0' && s[d] <= '9'; d++)
		;
	/* Leading zeros are the same number: skip them. */
	while (n > 1 && s[0] == '0') {
		s++;
		n--;
		d--;
	}
	if (n == 0 || d != n || n > 19)
		return -1;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	return 0;
}

void
unsubd_framing_add(struct unsubd_framing *f, const char *name,
    const char *value)
{
	const char *p, *e;
	size_t n;
	uint64_t v;
	int cl;

	if (name == NULL)
		return;
	if (strcasecmp(name, "Content-Length") == 0)
		cl = 1;
	else if (strcasecmp(name, "Transfer-Encoding") == 0)
		cl = 0;
	else
		return;
	if (value == NULL)
		value = "";
	if (cl)
		f->ncl++;
	else
		f->nte++;
	/* Both are comma-separated lists; the loop also sees "" once. */
	for (p = value;; p = e + 1) {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (cl) {
			if (cl_value(p, n, &v) == -1)
				f->cl_bad = 1;
			else if (f->ncl == 1 && p == value)
				f->cl = v;
			else if (v != f->cl)
				f->cl_bad = 1;
		} else {
			p += strspn(p, " \t");
			n = (size_t)(e - p);
			while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
				n--;
			/* Empty elements do not count (RFC 9110 5.6.1). */
			if (n > 0) {
				f->codings++;
				if (field_is(p, n, "chunked"))
					f->chunked++;
			}
		}
		if (*e == '\0')
			break;
	}
}

int
unsubd_framing_status(const struct unsubd_framing *f, int http10)
{
	if (f->cl_bad)
		return 400;
	if (f->nte == 0)
		return 0;
	/* Two ways to tell the length: a proxy may believe the other. */
	if (f->ncl > 0 || http10 || f->codings == 0)
		return 400;
	if (f->codings > f->chunked)
		return 501;
	return f->chunked == 1 ? 0 : 400;
}

static int
answer(struct unsubd_resp *r, int status, int page)
{
	r->status = status;
	r->page = page;
	return 0;
}

/*
 * decide_confirm - /c/TOKEN, once the request itself is sound: the body,
 * then the token (of the confirm purpose only), then the click.
 */
static int
decide_confirm(const struct unsubd_env *env, const struct unsubd_req *req,
    const char *tok, size_t toklen, struct unsubd_resp *r)
{
	struct unsubd_form f;
	int rc;

	memset(&f, 0, sizeof(f));
	if (req->method == UNSUBD_POST) {
		if (req->body_over || req->bodylen > UNSUBD_BODY_MAX)
			return answer(r, 413, UNSUBD_P_TOOBIG);
		if (unsubd_form_parse(req->ctype, req->body, req->bodylen,
		    &f) == -1 || !f.confirm)
			return answer(r, 400, UNSUBD_P_BADREQ);
	}
	if (token_verify_for(env->ring, TOKEN_CONFIRM, env->confirm_lifetime,
	    tok, toklen, env->now, &r->claims) == -1)
		return answer(r, 400, UNSUBD_P_OPTIN_INVALID);
	/* A GET changes nothing: a scanner must never create consent. */
	if (req->method != UNSUBD_POST)
		return answer(r, 200, UNSUBD_P_OPTIN);
	if ((rc = env->confirm(env->arg, &r->claims)) == -1)
		return answer(r, 503, UNSUBD_P_UNAVAILABLE);
	r->changed = rc == OPTIN_CONFIRMED;
	return answer(r, 200, rc == OPTIN_REFUSED ? UNSUBD_P_OPTIN_REFUSED :
	    UNSUBD_P_OPTIN_DONE);
}

/* decide - the decision table, in the order the checks run. */
static int
decide(const struct unsubd_env *env, const struct unsubd_req *req,
    struct unsubd_resp *r)
{
	struct unsubd_form f;
	const char *tok;
	size_t toklen;
	int rc, kind;

	memset(r, 0, sizeof(*r));
	memset(&f, 0, sizeof(f));
	/* First: the connection closes, whatever else the request says. */
	if (req->framing != 0)
		return answer(r, req->framing, UNSUBD_P_FRAMING);
	if (req->pathlen > UNSUBD_URL_MAX)
		return answer(r, 414, UNSUBD_P_TOOBIG);
	if (req->nheaders > UNSUBD_HEADERS_MAX)
		return answer(r, 431, UNSUBD_P_TOOBIG);
	kind = unsubd_path(req->path, req->pathlen, &tok, &toklen);
	if (kind == UNSUBD_PATH_NONE || (kind == UNSUBD_PATH_CONFIRM &&
	    env->confirm == NULL))
		return answer(r, 404, UNSUBD_P_NOTFOUND);
	if (req->method != UNSUBD_GET && req->method != UNSUBD_HEAD &&
	    req->method != UNSUBD_POST)
		return answer(r, 405, UNSUBD_P_METHOD);
	if (kind == UNSUBD_PATH_CONFIRM)
		return decide_confirm(env, req, tok, toklen, r);
	/* The body before the token: a bad body says nothing about it. */
	if (req->method == UNSUBD_POST) {
		if (req->body_over || req->bodylen > UNSUBD_BODY_MAX)
			return answer(r, 413, UNSUBD_P_TOOBIG);
		if (unsubd_form_parse(req->ctype, req->body, req->bodylen,
		    &f) == -1 || !f.one_click)
			return answer(r, 400, UNSUBD_P_BADREQ);
		r->all = f.all;
	}
	if (token_verify(env->ring, tok, toklen, env->now, &r->claims) == -1)
		return answer(r, 400, UNSUBD_P_INVALID);
	/* A GET changes nothing: link scanners fetch every URL. */
	if (req->method != UNSUBD_POST)
		return answer(r, 200, UNSUBD_P_CONFIRM);
	if ((rc = env->record(env->arg, &r->claims, f.all)) == -1)
		return answer(r, 503, UNSUBD_P_UNAVAILABLE);
	r->changed = rc == 1;
	return answer(r, 200, f.all ? UNSUBD_P_DONE_ALL : UNSUBD_P_DONE);
}

void
unsubd_handle(const struct unsubd_env *env, const struct unsubd_req *req,
    struct unsubd_resp *r)
{
	(void)decide(env, req, r);
}

/* A bounded output buffer: the first overflow sticks. */
struct page {
	char	*p;
	size_t	len, cap;
	int	over;
};

static void
put(struct page *pg, const char *s)
{
	size_t n = strlen(s);

	if (pg->over || n >= pg->cap - pg->len) {
		pg->over = 1;
		return;
	}
	memcpy(pg->p + pg->len, s, n + 1);
	pg->len += n;
}

/*
 * put_esc - s as HTML text through the one HTML encoder (util/enc.h):
 * markup escaped, control characters and octets outside UTF-8 as U+FFFD.
 */
static void
put_esc(struct page *pg, const char *s)
{
	size_t n;

	if (pg->over)
		return;
	n = enc_html(s, strlen(s), pg->p + pg->len, pg->cap - pg->len);
	if (n == (size_t)-1)
		pg->over = 1;
	else
		pg->len += n;
}

static const struct {
	const char *title, *text;
} pages[UNSUBD_P_MAX_] = {
	[UNSUBD_P_CONFIRM] = { "Unsubscribe?", NULL },
	[UNSUBD_P_DONE] = { "You are unsubscribed", NULL },
	[UNSUBD_P_DONE_ALL] = { "You are unsubscribed from all lists", NULL },
	[UNSUBD_P_BADREQ] = { "Request not understood",
	    "This request was not understood.  To unsubscribe, open the "
	    "link in the message again." },
	[UNSUBD_P_INVALID] = { "This link does not work",
	    "This unsubscribe link is not valid, or no longer valid.  The "
	    "link in a more recent message will work." },
	[UNSUBD_P_NOTFOUND] = { "Not found", "There is no page here." },
	[UNSUBD_P_METHOD] = { "Method not allowed",
	    "This page answers GET and POST only." },
	[UNSUBD_P_TOOBIG] = { "Request too large",
	    "This request is larger than an unsubscribe needs." },
	[UNSUBD_P_UNAVAILABLE] = { "Please try again later",
	    "Your request could not be recorded just now, so nothing has "
	    "changed yet.  Please try again in a few minutes." },
	[UNSUBD_P_FRAMING] = { "Request not understood",
	    "The length of this request is not clear, so it was not read.  "
	    "To unsubscribe, open the link in the message again." },
	[UNSUBD_P_OPTIN] = { "Confirm your subscription", NULL },
	[UNSUBD_P_OPTIN_DONE] = { "Subscription confirmed", NULL },
	[UNSUBD_P_OPTIN_REFUSED] = { "Nothing to confirm",
	    "There is no sign-up waiting for this link, or you left the list "
	    "since.  To join, sign up again." },
	[UNSUBD_P_OPTIN_INVALID] = { "This link does not work",
	    "This confirmation link is not valid, or no longer valid.  To "
	    "join, sign up again for a new link." },
};

const char *
unsubd_page_title(int page)
{
	return page >= 0 && page < UNSUBD_P_MAX_ ? pages[page].title : "?";
}

int
unsubd_page(const struct unsubd_resp *r, const char *org, char *out,
    size_t outlen)
{
	struct page pg = { out, 0, outlen, 0 };
	const char *list = r->claims.list[0] ? r->claims.list : "this list";

	if (out == NULL || outlen == 0 || r->page < 0 ||
	    r->page >= UNSUBD_P_MAX_)
		return -1;
	out[0] = '\0';
	if (org == NULL)
		org = "";
	/* Self-contained: inline style, no script, nothing fetched. */
	put(&pg, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,"
	    "initial-scale=1\">"
	    "<meta name=\"robots\" content=\"noindex,nofollow\">"
	    "<title>");
	put(&pg, pages[r->page].title);
	put(&pg, " - ");
	put_esc(&pg, org);
	put(&pg, "</title><style>"
	    "body{font:16px/1.5 system-ui,sans-serif;max-width:34em;"
	    "margin:3em auto;padding:0 1em;color:#222;background:#fff}"
	    "h1{font-size:1.4em}"
	    "button{font:inherit;padding:.5em 1em;margin:.3em .6em .3em 0}"
	    "footer{margin-top:2em;color:#666;font-size:.9em}"
	    "</style></head><body>\n<h1>");
	put(&pg, pages[r->page].title);
	put(&pg, "</h1>\n<p>");
	switch (r->page) {
	case UNSUBD_P_CONFIRM:
		put(&pg, "Stop getting the list <b>");
		put_esc(&pg, list);
		put(&pg, "</b>?  Nothing changes until you press a button.</p>\n"
		    /* No action: the form posts to this very URL. */
		    "<form method=\"post\">"
		    "<input type=\"hidden\" name=\"List-Unsubscribe\" "
		    "value=\"One-Click\">"
		    "<button type=\"submit\">Unsubscribe from <b>");
		put_esc(&pg, list);
		put(&pg, "</b></button>"
		    "<button type=\"submit\" name=\"all\" value=\"1\">"
		    "Unsubscribe from all lists</button></form>\n");
		break;
	case UNSUBD_P_DONE:
		put(&pg, "You will get no more messages of the list <b>");
		put_esc(&pg, list);
		put(&pg, "</b>.</p>\n");
		break;
	case UNSUBD_P_DONE_ALL:
		put(&pg, "You will get no more messages of any of our lists."
		    "</p>\n");
		break;
	case UNSUBD_P_OPTIN:
		put(&pg, "Do you want to receive the list <b>");
		put_esc(&pg, list);
		put(&pg, "</b>?  Nothing is recorded until you press the "
		    "button.</p>\n"
		    "<form method=\"post\">"
		    "<input type=\"hidden\" name=\"confirm\" value=\"yes\">"
		    "<button type=\"submit\">Yes, subscribe me to <b>");
		put_esc(&pg, list);
		put(&pg, "</b></button></form>\n"
		    "<p>If you did not sign up, ignore this page: without the "
		    "button, nothing happens.</p>\n");
		break;
	case UNSUBD_P_OPTIN_DONE:
		put(&pg, "Thank you: you are subscribed to the list <b>");
		put_esc(&pg, list);
		put(&pg, "</b>.  Every message carries a link to leave it."
		    "</p>\n");
		break;
	default:
		put(&pg, pages[r->page].text);
		put(&pg, "</p>\n");
		break;
	}
	put(&pg, "<footer>");
	put_esc(&pg, org);
	put(&pg, "</footer>\n</body></html>\n");
	if (pg.over) {
		out[0] = '\0';
		return -1;
	}
	return (int)pg.len;
}

/* ip_parse - one address as text into n; a v4-mapped v6 one as v4. */
static int
ip_parse(const char *s, struct net *n)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, s, n->a) == 1) {
		n->af = AF_INET;
		n->bits = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, n->a) != 1)
		return -1;
	if (memcmp(n->a, mapped, sizeof(mapped)) == 0) {
		memmove(n->a, n->a + 12, 4);
		memset(n->a + 4, 0, 12);
		n->af = AF_INET;
		n->bits = 32;
		return 0;
	}
	n->af = AF_INET6;
	n->bits = 128;
	return 0;
}

static int
ip_text(const struct net *n, char *out, size_t outlen)
{
	if (inet_ntop(n->af, n->a, out, (socklen_t)outlen) == NULL) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

/* net_parse - "ADDRESS" or "ADDRESS/BITS" (s, n octets); 0 / -1. */
static int
net_parse(const char *s, size_t n, struct net *net)
{
	char buf[NET_TEXT_MAX];
	const char *slash;
	char *end;
	long bits;
	int v6text;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if ((slash = strchr(buf, '/')) != NULL)
		buf[slash - buf] = '\0';
	if (ip_parse(buf, net) == -1)
		return -1;
	if (slash == NULL)
		return 0;
	if (slash[1] < '0' || slash[1] > '9')
		return -1;
	v6text = strchr(buf, ':') != NULL;
	bits = strtol(slash + 1, &end, 10);
	if (*end != '\0' || bits < 0 || bits > (v6text ? 128 : 32))
		return -1;
	/* "::ffff:10.0.0.0/104" is 10.0.0.0/8. */
	if (net->af == AF_INET && v6text) {
		if (bits < 96)
			return -1;
		bits -= 96;
	}
	net->bits = (unsigned)bits;
	return 0;
}

static int
net_match(const struct net *net, const struct net *ip)
{
	unsigned full = net->bits / 8, rest = net->bits % 8;
	unsigned char mask;

	if (net->af != ip->af || memcmp(net->a, ip->a, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (net->a[full] & mask) == (ip->a[full] & mask);
}

/*
 * trusted_walk - call each entry of list; with ip, 1 if one matches.
 * -1 (with err) for an entry that is not an address or prefix.
 */
static int
trusted_walk(const char *list, const struct net *ip, char *err, size_t errlen)
{
	const char *p = list;
	char safe[NET_TEXT_MAX + 16];
	struct net net;

	while (*p != '\0') {
		size_t n;

		p += strspn(p, " \t,");
		if ((n = strcspn(p, " \t,")) == 0)
			break;
		if (net_parse(p, n, &net) == -1) {
			if (err != NULL)
				snprintf(err, errlen, "\"%s\" is not an IP address "
				    "or prefix (such as 127.0.0.1, ::1 or "
				    "10.0.0.0/8)", util_sanitize(p, n, safe,
				    sizeof(safe)));
			return -1;
		}
		if (ip != NULL && net_match(&net, ip))
			return 1;
		p += n;
	}
	return 0;
}

int
unsubd_trusted_check(const char *list, char *err, size_t errlen)
{
	return trusted_walk(list, NULL, err, errlen) == -1 ? -1 : 0;
}

int
unsubd_trusted_match(const char *peer, const char *trusted)
{
	struct net p;

	if (peer == NULL || ip_parse(peer, &p) == -1)
		return -1;
	return trusted != NULL && trusted_walk(trusted, &p, NULL, 0) == 1;
}

int
unsubd_client_ip(const char *peer, const char *trusted, const char *xff,
    char *out, size_t outlen)
{
	struct net p, x;
	char e[NET_TEXT_MAX];
	const char *s;
	size_t n;

	if (outlen > 0)
		out[0] = '\0';
	if (peer == NULL || ip_parse(peer, &p) == -1 ||
	    ip_text(&p, out, outlen) == -1)
		return -1;
	if (xff == NULL || trusted == NULL ||
	    trusted_walk(trusted, &p, NULL, 0) != 1)
		return 0;
	/* The last entry is our proxy's: the client may forge the others. */
	s = strrchr(xff, ',');
	s = s != NULL ? s + 1 : xff;
	s += strspn(s, " \t");
	n = strcspn(s, " \t");
	if (n == 0 || s[n + strspn(s + n, " \t")] != '\0')
		return 0;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(e))
		return 0;
	memcpy(e, s, n);
	e[n] = '\0';
	if (ip_parse(e, &x) == -1 || ip_text(&x, e, sizeof(e)) == -1 ||
	    strlen(e) >= outlen)
		return 0;
	memcpy(out, e, strlen(e) + 1);
	return 1;
}

int
unsubd_sockaddr_ip(const struct sockaddr *sa, char *out, size_t outlen)
{
	struct net n;

	if (outlen > 0)
		out[0] = '\0';
	memset(&n, 0, sizeof(n));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		n.af = AF_INET;
		memcpy(n.a, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		char buf[INET6_ADDRSTRLEN];

		/* Through text, so a v4-mapped address reads as v4. */
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf)) ==
		    NULL || ip_parse(buf, &n) == -1)
			return -1;
	} else
		return -1;
	return ip_text(&n, out, outlen);
}

int
unsubd_listen_parse(const char *spec, struct sockaddr_storage *ss,
    socklen_t *sslen, char *err, size_t errlen)
{
	char host[NET_TEXT_MAX], safe[160];
	const char *h, *colon;
	size_t hlen;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	*sslen = 0;
	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (rb == NULL || rb[1] != ':')
			goto bad;
		h = spec + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			goto bad;
		h = spec;
		hlen = (size_t)(colon - spec);
		if (memchr(h, ':', hlen) != NULL)
			goto bad;	/* IPv6 wants brackets */
	}
	if (hlen == 0 || hlen >= sizeof(host) || colon[1] < '0' ||
	    colon[1] > '9')
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535)
		goto bad;
	if (spec[0] != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto bad;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			goto bad;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*sin6);
	}
	return 0;
bad:
	snprintf(err, errlen, "\"%s\" is not ADDRESS:PORT with an IP address "
	    "(such as 127.0.0.1:8025 or [::1]:8025)",
	    util_sanitize(spec, strlen(spec), safe, sizeof(safe)));
	return -1;
}
