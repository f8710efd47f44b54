/*
 * listunsub.c - the List-Unsubscribe header value (see listunsub.h).
 *
 * A receiver splits the value at '<', '>' and ',' and the MTA at line
 * ends, so none of those may come out of a template or a value: the
 * templates are checked when loaded and again here, and the expanded
 * URIs once more before they are written.  No allocation.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "core/listunsub.h"
#include "util/util.h"

#define PREFIX_LEN	(sizeof(LISTUNSUB_HEADER ": ") - 1)

/* uri_char - 1 if c may stand inside <> in the header as it is. */
static int
uri_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != ',';
}

static int
b64url_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int
list_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '-' || c == '_';
}

static int
all_of(const char *s, int (*ok)(unsigned char))
{
	for (; *s != '\0'; s++)
		if (!ok((unsigned char)*s))
			return 0;
	return 1;
}

/* mailto_check - an address before any '?': something '@' something. */
static int
mailto_check(const char *p, char *err, size_t errlen)
{
	size_t n = strcspn(p, "?"), at;
	const char *a = memchr(p, '@', n);

	if (n == 0)
		return util_fail(err, errlen, "mailto template has no address "
		    "(\"mailto:unsubscribe@example.com\")");
	at = a != NULL ? (size_t)(a - p) : n;
	if (a == NULL || at == 0 || at == n - 1)
		return util_fail(err, errlen, "mailto template has no address "
		    "local@domain before any '?'");
	return 0;
}

int
listunsub_template_check(const char *tmpl, const char *scheme, char *err,
    size_t errlen)
{
	const char *p, *what;

	if (scheme == NULL || (strcmp(scheme, "https") != 0 &&
	    strcmp(scheme, "mailto") != 0))
		return util_fail(err, errlen, "unknown scheme \"%s\" (https or "
		    "mailto)", scheme != NULL ? scheme : "(null)");
	what = strcmp(scheme, "https") == 0 ? "URL" : "mailto";
	if (tmpl == NULL || *tmpl == '\0')
		return util_fail(err, errlen, "%s template is empty", what);
	if (strlen(tmpl) > LISTUNSUB_VALUE_MAX)
		return util_fail(err, errlen, "%s template is longer than %d "
		    "octets", what, LISTUNSUB_VALUE_MAX);
	for (p = tmpl; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\r' || c == '\n')
			return util_fail(err, errlen, "%s template contains CR or "
			    "LF", what);
		if (c == ' ' || c == '\t')
			return util_fail(err, errlen, "%s template contains a blank "
			    "(write %%%%20)", what);
		if (c == '<' || c == '>' || c == ',')
			return util_fail(err, errlen, "%s template contains '%c', "
			    "which ends a URI in the header (write %%%%%02X)",
			    what, c, c);
		if (!uri_char(c))
			return util_fail(err, errlen, "%s template contains octet "
			    "0x%02x: percent-encode it (%%%%%02X)", what, c, c);
		if (c != '%')
			continue;
		if (p[1] == '\0')
			return util_fail(err, errlen, "%s template ends with a lone "
			    "'%%' (write %%%% for a percent sign)", what);
		if (p[1] != 't' && p[1] != 'l' && p[1] != '%')
			return util_fail(err, errlen, "%s template has unknown "
			    "escape '%%%c' (%%t token, %%l list, %%%% a "
			    "percent sign)", what,
			    uri_char((unsigned char)p[1]) ? p[1] : '?');
		p++;
	}

	if (strcmp(scheme, "https") == 0) {
		if (strncasecmp(tmpl, "http://", 7) == 0)
			return util_fail(err, errlen, "URL template is http: "
			    "one-click unsubscribe (RFC 8058) needs https://");
		if (strncasecmp(tmpl, "https://", 8) != 0)
			return util_fail(err, errlen, "URL template does not start "
			    "with https://");
		/* strchr finds the NUL too: "https://" alone has no host. */
		if (strchr("/?#", tmpl[8]) != NULL)
			return util_fail(err, errlen, "URL template has no host "
			    "after https://");
		return 0;
	}
	if (strncasecmp(tmpl, "mailto:", 7) != 0)
		return util_fail(err, errlen, "mailto template does not start with "
		    "mailto:");
	return mailto_check(tmpl + 7, err, errlen);
}

int
listunsub_expand(const char *tmpl, const char *token, const char *list,
    char *out, size_t outlen)
{
	const char *p, *v;
	size_t n = 0, vlen;

	if (tmpl == NULL || out == NULL || outlen == 0)
		return -1;
	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '%') {
			v = p;
			vlen = 1;
		} else if (p[1] == '%') {
			v = p++;
			vlen = 1;
		} else if (p[1] == 't' || p[1] == 'l') {
			v = *++p == 't' ? token : list;
			if (v == NULL)
				return -1;
			vlen = strlen(v);
		} else
			return -1;
		/* Room for the value and the NUL, without overflow. */
		if (vlen >= outlen - n)
			return -1;
		memcpy(out + n, v, vlen);
		n += vlen;
	}
	out[n] = '\0';
	return n > LISTUNSUB_VALUE_MAX ? -1 : (int)n;
}

int
listunsub_build(const char *url_tmpl, const char *mailto_tmpl, const char *token,
    const char *list, char *out, size_t outlen)
{
	char url[LISTUNSUB_VALUE_MAX + 1], mailto[LISTUNSUB_VALUE_MAX + 1];
	size_t ulen, mlen = 0, first, total;
	int n, fold = 0, has_mailto;

	mailto[0] = '\0';
	has_mailto = mailto_tmpl != NULL && *mailto_tmpl != '\0';
	if (listunsub_template_check(url_tmpl, "https", NULL, 0) == -1 ||
	    (has_mailto && listunsub_template_check(mailto_tmpl, "mailto", NULL,
	    0) == -1))
		return -1;
	if ((token != NULL && !all_of(token, b64url_char)) ||
	    (list != NULL && !all_of(list, list_char)))
		return -1;
	if ((n = listunsub_expand(url_tmpl, token, list, url, sizeof(url))) == -1)
		return -1;
	ulen = (size_t)n;
	if (has_mailto) {
		if ((n = listunsub_expand(mailto_tmpl, token, list, mailto,
		    sizeof(mailto))) == -1)
			return -1;
		mlen = (size_t)n;
	}
	/* Checked by now; once more, as a header injection is costly. */
	if (!all_of(url, uri_char) || !all_of(mailto, uri_char))
		return -1;

	/* "List-Unsubscribe: <url>," must fit: a URI is never folded. */
	first = PREFIX_LEN + 1 + ulen + 1 + (has_mailto ? 1 : 0);
	if (first >= LISTUNSUB_LINE_MAX)
		return -1;
	total = 1 + ulen + 1;
	if (has_mailto) {
		fold = first + 1 + 1 + mlen + 1 > LISTUNSUB_FOLD_AT;
		/* "\t<mailto>" on a line of its own. */
		if (fold && 1 + 1 + mlen + 1 >= LISTUNSUB_LINE_MAX)
			return -1;
		total += 1 + (fold ? 2 : 1) + 1 + mlen + 1;
	}
	if (total > LISTUNSUB_VALUE_MAX || out == NULL || total >= outlen)
		return -1;

	n = 0;
	out[n++] = '<';
	memcpy(out + n, url, ulen);
	n += (int)ulen;
	out[n++] = '>';
	if (has_mailto) {
		memcpy(out + n, fold ? ",\n\t<" : ", <", fold ? 4 : 3);
		n += fold ? 4 : 3;
		memcpy(out + n, mailto, mlen);
		n += (int)mlen;
		out[n++] = '>';
	}
	out[n] = '\0';
	return n;
}

void
listunsub_templates(const struct config *cf, const char *list, struct listunsub_templates *t)
{
	*t = cf->lu_default;
	for (unsigned i = 0; i < cf->lu_nlists; i++) {
		const struct listunsub_templates *l = &cf->lu_lists[i];

		if (strcmp(l->list, list) != 0)
			continue;
		if (l->url[0])
			util_strlcpy(t->url, l->url, sizeof(t->url));
		if (l->mailto[0])
			util_strlcpy(t->mailto, l->mailto, sizeof(t->mailto));
		if (l->list_url[0])
			util_strlcpy(t->list_url, l->list_url, sizeof(t->list_url));
		break;
	}
}

int
listunsub_header(const struct config *cf, const struct token_ring *r,
    const char *addr, const char *list, int64_t now, char *out, size_t outlen,
    int *one_click, char *err, size_t errlen)
{
	struct listunsub_templates t;
	char tok[TOKEN_MAX];
	int n;

	*one_click = 0;
	listunsub_templates(cf, list, &t);
	if (addr == NULL) {
		/* Several recipients: never one person's token for everyone. */
		if (t.list_url[0] == '\0')
			return 0;
		n = listunsub_build(t.list_url, NULL, "0", list, out, outlen);
	} else {
		if (t.url[0] == '\0')
			return 0;
		if (token_make(r, addr, list, now, tok, sizeof(tok)) < 0) {
			snprintf(err, errlen, "cannot make a token (no key, or "
			    "list %s / address too long)", list);
			return -1;
		}
		n = listunsub_build(t.url, t.mailto, tok, list, out, outlen);
		sodium_memzero(tok, sizeof(tok));
		*one_click = 1;
	}
	if (n < 0) {
		snprintf(err, errlen, "List-Unsubscribe for list %s would break "
		    "the line limits", list);
		return -1;
	}
	return n;
}
