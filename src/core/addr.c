/*
 * addr.c - the one address normaliser: RCPT arguments, CSV cells, tokens
 * and command-line words become store keys here and nowhere else.
 *
 * Input is hostile and carries an explicit length.  It is checked whole
 * (control characters, size) before any parsing, then taken apart in one
 * pass: blanks, <>, source route, local part, domain.  The key is built
 * on the stack; the only allocation is libidn2's, for a non-ASCII domain.
 * Every key produced normalises to itself.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <idn2.h>

#include "core/addr.h"
#include "util/util.h"

/* Octets accepted as written; an SMTP path is at most 256 (RFC 5321). */
#define ADDR_INPUT_MAX	1024
#define LABEL_MAX	63

/* Locale-free: a key must not depend on LC_CTYPE. */
static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* addr_atext - RFC 5322 atext, widened to UTF-8 octets by RFC 6531. */
int
addr_atext(unsigned char c)
{
	return is_alnum(c) || c >= 0x80 ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* charname - c quoted for an error message. */
static const char *
charname(unsigned char c, char *buf, size_t len)
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, "0x%02x", c);
	return buf;
}

/*
 * input_trim - refuse CR, LF, NUL and oversize input, strip surrounding
 * blanks.  "what" names the input in messages.
 */
static int
input_trim(const char *in, size_t inlen, const char **pp, const char **endp,
    const char *what, char *err, size_t errlen)
{
	const char *p, *end;

	if (in == NULL || inlen == 0)
		return util_fail(err, errlen, "%s is empty", what);
	/* Checked first and on all of it: these end an SMTP line. */
	for (size_t i = 0; i < inlen; i++)
		if (in[i] == '\r' || in[i] == '\n' || in[i] == '\0')
			return util_fail(err, errlen, "%s contains a control "
			    "character (CR, LF or NUL)", what);
	p = in;
	end = in + inlen;
	while (p < end && is_blank((unsigned char)*p))
		p++;
	while (end > p && is_blank((unsigned char)end[-1]))
		end--;
	if (p == end)
		return util_fail(err, errlen, "%s is empty", what);
	if ((size_t)(end - p) > ADDR_INPUT_MAX)
		return util_fail(err, errlen, "%s is longer than %d octets as "
		    "written", what, ADDR_INPUT_MAX);
	*pp = p;
	*endp = end;
	return 0;
}

/*
 * controls_check - refuse any other control character between p and end:
 * C0 (the blank TAB included, once outer blanks are gone), DEL, and C1
 * (U+0080..U+009F, lead octet 0xc2).
 */
static int
controls_check(const char *p, const char *end, const char *what, char *err,
    size_t errlen)
{
	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == 0xc2 && p + 1 < end && (unsigned char)p[1] >= 0x80 &&
		    (unsigned char)p[1] <= 0x9f)
			c = (unsigned char)p[1];
		else if (c >= 0x20 && c != 0x7f)
			continue;
		return util_fail(err, errlen, "%s contains a control character "
		    "(0x%02x)", what, c);
	}
	return 0;
}

/*
 * route_skip - skip "@hop,@hop:" at p; returns the mailbox after the
 * colon, or NULL if the route is malformed.  Hops are dropped, so they
 * are only checked for shape.
 */
static const char *
route_skip(const char *p, const char *end)
{
	while (p < end && *p == '@') {
		const char *start = ++p;

		if (p < end && *p == '[') {
			while (p < end && *p != ']')
				p++;
			if (p == end)
				return NULL;
			p++;
		} else
			while (p < end && (is_alnum((unsigned char)*p) ||
			    *p == '-' || *p == '.' ||
			    (unsigned char)*p >= 0x80))
				p++;
		if (p == start || p == end)
			return NULL;
		if (*p == ':')
			return p + 1;
		if (*p != ',')
			return NULL;
		p++;
	}
	return NULL;
}

/* dot_atom - 1 if s (n octets) is a valid RFC 5322 dot-atom. */
static int
dot_atom(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return 0;
		} else if (!addr_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/*
 * local_quoted - the quoted local part at *pp into local: unquoted if its
 * content is a dot-atom, else requoted with only '"' and '\' escaped.
 */
static int
local_quoted(const char **pp, const char *end, int flags, char *local,
    size_t *llen, int *quoted, char *err, size_t errlen)
{
	char content[ADDR_LOCAL_MAX];
	const char *p = *pp + 1;
	size_t n = 0, j;
	unsigned char c;

	for (;;) {
		if (p == end)
			return util_fail(err, errlen,
			    "unterminated quoted local part");
		c = (unsigned char)*p++;
		if (c == '"')
			break;
		if (c == '\\') {
			if (p == end)
				return util_fail(err, errlen,
				    "unterminated quoted local part");
			c = (unsigned char)*p++;
			/* RFC 5321 quoted-pairSMTP: printable ASCII only. */
			if (c < 0x20 || c > 0x7e)
				return util_fail(err, errlen, "invalid escape "
				    "0x%02x in quoted local part", c);
		}
		if (n == ADDR_LOCAL_MAX)
			return util_fail(err, errlen,
			    "local part is longer than %d octets",
			    ADDR_LOCAL_MAX);
		content[n++] = (flags & ADDR_CASE_SENSITIVE) ? (char)c :
		    (char)lower(c);
	}
	if (p == end)
		return util_fail(err, errlen, "missing @");
	if (*p != '@')
		return util_fail(err, errlen, "text after the quoted local part");
	if (n == 0)
		return util_fail(err, errlen, "empty local part");
	if (!util_utf8_valid(content, n))
		return util_fail(err, errlen, "local part is not valid UTF-8");
	*pp = p;
	if (dot_atom(content, n)) {
		memcpy(local, content, n);
		*llen = n;
		*quoted = 0;
		return 0;
	}
	j = 0;
	local[j++] = '"';
	for (size_t i = 0; i < n; i++) {
		int esc = content[i] == '"' || content[i] == '\\';

		/* Room for this octet, its escape and the closing quote. */
		if (j + (size_t)esc + 2 > ADDR_LOCAL_MAX)
			return util_fail(err, errlen,
			    "local part is longer than %d octets",
			    ADDR_LOCAL_MAX);
		if (esc)
			local[j++] = '\\';
		local[j++] = content[i];
	}
	local[j++] = '"';
	*llen = j;
	*quoted = 1;
	return 0;
}

/* local_atom - the unquoted local part at *pp into local. */
static int
local_atom(const char **pp, const char *end, int flags, char *local,
    size_t *llen, char *err, size_t errlen)
{
	const char *p = *pp;
	size_t n = 0;
	char cb[8];

	for (; p < end && *p != '@'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return util_fail(err, errlen,
			    "quote inside an unquoted local part");
		if (c != '.' && !addr_atext(c))
			return util_fail(err, errlen, "invalid character %s in "
			    "local part", charname(c, cb, sizeof(cb)));
		if (n == ADDR_LOCAL_MAX)
			return util_fail(err, errlen,
			    "local part is longer than %d octets",
			    ADDR_LOCAL_MAX);
		local[n++] = (flags & ADDR_CASE_SENSITIVE) ? (char)c :
		    (char)lower(c);
	}
	if (p == end)
		return util_fail(err, errlen, "missing @");
	if (n == 0)
		return util_fail(err, errlen, "empty local part");
	if (local[0] == '.')
		return util_fail(err, errlen, "local part starts with a dot");
	if (local[n - 1] == '.')
		return util_fail(err, errlen, "local part ends with a dot");
	if (memmem(local, n, "..", 2) != NULL)
		return util_fail(err, errlen, "local part has two dots in a row");
	if (!util_utf8_valid(local, n))
		return util_fail(err, errlen, "local part is not valid UTF-8");
	*pp = p;
	*llen = n;
	return 0;
}

/*
 * literal_parse - "[192.0.2.1]" or "[IPv6:2001:db8::1]" (n octets) into
 * out in canonical inet_ntop form, tag spelt "IPv6:".
 */
static int
literal_parse(const char *p, size_t n, char *out, size_t outlen,
    size_t *dlen, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];
	const char *close = memchr(p, ']', n);
	size_t ilen;
	int v6, w;

	if (close == NULL)
		return util_fail(err, errlen, "unterminated address literal");
	if (close != p + n - 1)
		return util_fail(err, errlen, "text after the address literal");
	p++;
	ilen = n - 2;
	v6 = ilen >= 5 && lower((unsigned char)p[0]) == 'i' &&
	    lower((unsigned char)p[1]) == 'p' &&
	    lower((unsigned char)p[2]) == 'v' && p[3] == '6' && p[4] == ':';
	if (v6) {
		p += 5;
		ilen -= 5;
	} else if (memchr(p, ':', ilen) != NULL)
		return util_fail(err, errlen, "unsupported address literal "
		    "(only IPv4 and IPv6: are known)");
	if (ilen >= sizeof(buf))
		return util_fail(err, errlen, "invalid %s address literal",
		    v6 ? "IPv6" : "IPv4");
	memcpy(buf, p, ilen);
	buf[ilen] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, bin) != 1 ||
	    inet_ntop(v6 ? AF_INET6 : AF_INET, bin, text, sizeof(text)) == NULL)
		return util_fail(err, errlen, "invalid %s address literal",
		    v6 ? "IPv6" : "IPv4");
	w = snprintf(out, outlen, "[%s%s]", v6 ? "IPv6:" : "", text);
	if (w < 0 || (size_t)w >= outlen)
		return util_fail(err, errlen, "address literal too long");
	*dlen = (size_t)w;
	return 0;
}

/*
 * ldh_copy - check an ASCII domain (n octets, no root dot) label by label
 * and copy it lowercased into out (ADDR_DOMAIN_MAX + 1 octets).
 */
static int
ldh_copy(const char *s, size_t n, char *out, size_t *dlen, char *err,
    size_t errlen)
{
	size_t start = 0;
	int digits = 1;
	char cb[8];

	if (n > ADDR_DOMAIN_MAX)
		return util_fail(err, errlen, "domain is longer than %d octets",
		    ADDR_DOMAIN_MAX);
	for (size_t i = 0; i <= n; i++) {
		unsigned char c;

		if (i == n || s[i] == '.') {
			if (i == start)
				return util_fail(err, errlen, "empty domain label");
			if (i - start > LABEL_MAX)
				return util_fail(err, errlen, "domain label longer "
				    "than %d octets", LABEL_MAX);
			if (s[start] == '-' || s[i - 1] == '-')
				return util_fail(err, errlen, "domain label starts "
				    "or ends with a hyphen");
			if (i < n) {
				out[i] = '.';
				start = i + 1;
				digits = 1;
			}
			continue;
		}
		c = (unsigned char)s[i];
		if (!is_alnum(c) && c != '-')
			return util_fail(err, errlen, "invalid character %s in "
			    "domain", charname(c, cb, sizeof(cb)));
		if (c < '0' || c > '9')
			digits = 0;
		out[i] = (char)lower(c);
	}
	/* No TLD is numeric; "u@192.0.2.1" wants brackets. */
	if (digits)
		return util_fail(err, errlen, "top-level domain label is all digits "
		    "(write an IP address as [192.0.2.1])");
	out[n] = '\0';
	*dlen = n;
	return 0;
}

/*
 * domain_parse - a domain as written (n octets) into out (at least
 * ADDR_DOMAIN_MAX + 1 octets): literal, ASCII or IDN.
 */
static int
domain_parse(const char *p, size_t n, char *out, size_t *dlen, int *literal,
    char *err, size_t errlen)
{
	char u[ADDR_INPUT_MAX + 1], *a;
	int idn = 0, rc;

	*literal = 0;
	if (n == 0)
		return util_fail(err, errlen, "empty domain");
	if (p[0] == '[') {
		*literal = 1;
		return literal_parse(p, n, out, ADDR_DOMAIN_MAX + 1, dlen, err,
		    errlen);
	}
	if (p[n - 1] == '.')
		n--;
	if (n == 0)
		return util_fail(err, errlen, "empty domain");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			idn = 1;
	if (!idn)
		return ldh_copy(p, n, out, dlen, err, errlen);
	/* input_trim() bounds n already; this guards u[] on its own. */
	if (n > ADDR_INPUT_MAX)
		return util_fail(err, errlen, "domain is longer than %d octets",
		    ADDR_DOMAIN_MAX);
	if (!util_utf8_valid(p, n))
		return util_fail(err, errlen, "domain is not valid UTF-8");
	memcpy(u, p, n);
	u[n] = '\0';
	/* No transitional fallback: one spelling, one key. */
	rc = idn2_to_ascii_8z(u, &a, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (rc != IDN2_OK)
		return util_fail(err, errlen, "invalid domain: %s",
		    idn2_strerror(rc));
	rc = ldh_copy(a, strlen(a), out, dlen, err, errlen);
	idn2_free(a);
	return rc;
}

/*
 * angle_strip - remove the <> around a path and the blanks just inside
 * them; "<>" and "<<a@b>>" are refused here.
 */
static int
angle_strip(const char **pp, const char **endp, char *err, size_t errlen)
{
	const char *p = *pp, *end = *endp;

	if (*p != '<') {
		if (end[-1] == '>')
			return util_fail(err, errlen, "unbalanced angle brackets");
		return 0;
	}
	if (end - p >= 2 && end[-1] != '>' &&
	    memchr(p, '>', (size_t)(end - p)) != NULL)
		return util_fail(err, errlen, "text after the closing '>'");
	if (end - p < 2 || end[-1] != '>')
		return util_fail(err, errlen, "unbalanced angle brackets");
	p++;
	end--;
	while (p < end && is_blank((unsigned char)*p))
		p++;
	while (end > p && is_blank((unsigned char)end[-1]))
		end--;
	if (p == end)
		return util_fail(err, errlen, "null sender <> is not a recipient");
	if (*p == '<' && end[-1] == '>')
		return util_fail(err, errlen, "nested angle brackets");
	if (*p == '<' || end[-1] == '>')
		return util_fail(err, errlen, "unbalanced angle brackets");
	*pp = p;
	*endp = end;
	return 0;
}

/* tag_start - offset of the first delimiter in local, or len if none. */
static size_t
tag_start(const char *local, size_t len, const char *delims, int flags)
{
	for (size_t t = 0; t < len; t++) {
		unsigned char c = (unsigned char)local[t];

		/* The local part is folded already: fold the delimiter too. */
		for (const char *d = delims; *d != '\0'; d++) {
			unsigned char dc = (unsigned char)*d;

			if (!(flags & ADDR_CASE_SENSITIVE))
				dc = lower(dc);
			if (c == dc)
				return t;
		}
	}
	return len;
}

int
addr_normalize(const char *in, size_t inlen, int flags, const char *delims,
    struct addr *out, char *err, size_t errlen)
{
	char local[ADDR_LOCAL_MAX + 1], dom[ADDR_DOMAIN_MAX + 1];
	const char *p, *end;
	size_t llen = 0, dlen = 0, ats = 0, t;
	int quoted = 0, literal;

	memset(out, 0, sizeof(*out));
	out->domain = out->key;
	if (input_trim(in, inlen, &p, &end, "address", err, errlen) == -1 ||
	    angle_strip(&p, &end, err, errlen) == -1 ||
	    controls_check(p, end, "address", err, errlen) == -1)
		return -1;

	if (*p == '@') {
		for (const char *q = p; q < end; q++)
			ats += *q == '@';
		if (ats == 1)
			return util_fail(err, errlen, "empty local part");
		if ((p = route_skip(p, end)) == NULL)
			return util_fail(err, errlen, "malformed source route");
		if (p == end)
			return util_fail(err, errlen,
			    "no mailbox after the source route");
	}
	if (*p == '"') {
		if (local_quoted(&p, end, flags, local, &llen, &quoted, err,
		    errlen) == -1)
			return -1;
	} else if (local_atom(&p, end, flags, local, &llen, err,
	    errlen) == -1)
		return -1;
	p++;	/* the '@' */
	if (domain_parse(p, (size_t)(end - p), dom, &dlen, &literal, err,
	    errlen) == -1)
		return -1;
	if (llen + 1 + dlen > ADDR_MAX)
		return util_fail(err, errlen, "address is longer than %d octets",
		    ADDR_MAX);

	memcpy(out->key, local, llen);
	out->key[llen] = '@';
	memcpy(out->key + llen + 1, dom, dlen + 1);
	out->local_len = llen;
	out->domain = out->key + llen + 1;
	out->literal = literal;
	memcpy(out->base, out->key, llen + dlen + 2);

	/* A quoted local part carries no tag. */
	if (quoted)
		return 0;
	t = tag_start(local, llen, delims != NULL ? delims : "+", flags);
	/* "+tag@x" and "a.+tag@x" have no usable base: keep the key. */
	if (t == llen || t == 0 || local[t - 1] == '.')
		return 0;
	out->base[t] = '@';
	memcpy(out->base + t + 1, dom, dlen + 1);
	return 0;
}

int
addr_domain_normalize(const char *in, size_t inlen, char *out, size_t outlen,
    char *err, size_t errlen)
{
	char dom[ADDR_DOMAIN_MAX + 1];
	const char *p, *end;
	size_t dlen;
	int dotted = 0, literal;

	if (outlen > 0)
		out[0] = '\0';
	if (input_trim(in, inlen, &p, &end, "domain", err, errlen) == -1 ||
	    controls_check(p, end, "domain", err, errlen) == -1)
		return -1;
	if (*p == '.') {
		dotted = 1;
		p++;
		if (p == end)
			return util_fail(err, errlen, "domain is empty");
		if (*p == '[')
			return util_fail(err, errlen,
			    "an address literal has no subdomains");
	}
	if (domain_parse(p, (size_t)(end - p), dom, &dlen, &literal, err,
	    errlen) == -1)
		return -1;
	if (dlen + (size_t)dotted + 1 > outlen)
		return util_fail(err, errlen, "domain does not fit in %zu octets",
		    outlen);
	if (dotted)
		out[0] = '.';
	memcpy(out + dotted, dom, dlen + 1);
	return 0;
}

size_t
addr_domain_keys(const struct addr *a, char *buf, size_t buflen,
    const char *keys[], size_t maxkeys)
{
	const char *dom;
	size_t n = 0, dlen;

	if (a == NULL || a->key[0] == '\0' || maxkeys == 0)
		return 0;
	/* From local_len, not a->domain: the struct may have been copied. */
	dom = a->key + a->local_len + 1;
	keys[n++] = dom;
	dlen = strlen(dom);
	if (a->literal || buflen < dlen + 2)
		return n;
	/* ".a.b.example.com" holds every dotted key as a suffix. */
	buf[0] = '.';
	memcpy(buf + 1, dom, dlen + 1);
	for (size_t i = 0; i <= dlen && n < maxkeys; i++)
		if (buf[i] == '.')
			keys[n++] = buf + i;
	return n;
}

int
addr_is_domain(const char *in)
{
	return in != NULL && strchr(in, '@') == NULL;
}
