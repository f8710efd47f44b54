/*
 * audit_scan.c - the audit line scanner (audit_scan.h).  Not a JSON
 * parser: the lines are flat objects of strings and numbers, as audit.c
 * writes them, and anything else is refused with the column where it
 * went wrong.
 */
#include <string.h>

#include "core/audit_scan.h"
#include "util/util.h"

#define IS_WS(c) ((c) == ' ' || (c) == '\t' || (c) == '\r')

/* scan_fail - "column N: why" into err; always -1. */
static int
scan_fail(char *err, size_t errlen, const char *line, const char *at,
    const char *why)
{
	return util_fail(err, errlen, "column %zu: %s", (size_t)(at - line) + 1,
	    why);
}

/* hex4 - four hex digits at p (before end) into *v; 0 / -1. */
static int
hex4(const char *p, const char *end, unsigned *v)
{
	int a, b, c, d;

	if (end - p < 4 || (a = util_hexval(p[0])) < 0 ||
	    (b = util_hexval(p[1])) < 0 || (c = util_hexval(p[2])) < 0 ||
	    (d = util_hexval(p[3])) < 0)
		return -1;
	*v = (unsigned)(a << 12 | b << 8 | c << 4 | d);
	return 0;
}

/* utf8_put - code point cp as UTF-8 at o; the octets written. */
static size_t
utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * unicode - the \uXXXX escape at p (after the "\u"), with the low half of
 * a surrogate pair after it, as UTF-8 into o; *pp moves past it.  The
 * octets written, or -1.  U+0000 is refused: the fields are C strings
 * to their readers.
 */
static long
unicode(const char **pp, const char *end, char *o)
{
	const char *p = *pp;
	unsigned cp, lo;

	if (hex4(p, end, &cp) == -1 || cp == 0)
		return -1;
	p += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
		    hex4(p + 2, end, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
			return -1;
		p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	*pp = p;
	return (long)utf8_put(o, cp);
}

/* unescape - the JSON string body [p, end) into out; octets, or -1. */
static long
unescape(const char *p, const char *end, char *out)
{
	char *o = out;
	long k;

	while (p < end) {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		if (++p == end)
			return -1;
		switch (*p++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if ((k = unicode(&p, end, o)) < 0)
				return -1;
			o += k;
			break;
		default:
			return -1;
		}
	}
	return (long)(o - out);
}

/* slot - the field a key fills, or NULL for keys not read. */
static struct util_str *
slot(struct audit_fields *f, const char *k, size_t n)
{
#define K(name, field) if (memcmp(k, name, n) == 0) return &f->field
	switch (n) {
	case 1: K("t", t); break;
	case 3: K("qid", qid); break;
	case 4: K("rcpt", rcpt); K("list", list); K("type", type); break;
	case 5: K("class", class_); K("msgid", msgid); break;
	case 6: K("reason", reason); break;
	case 7: K("verdict", verdict); K("outcome", outcome);
		K("ev_kind", ev_kind); K("ev_time", ev_time); break;
	case 8: K("ev_value", ev_value); break;
	case 9: K("ev_source", ev_source); break;
	}
#undef K
	return NULL;
}

/* string_end - the closing quote of the string whose body starts at p. */
static const char *
string_end(const char *p, const char *end)
{
	const char *start = p, *q;

	while ((q = memchr(p, '"', (size_t)(end - p))) != NULL) {
		size_t bs = 0;

		for (const char *b = q - 1; b >= start && *b == '\\'; b--)
			bs++;
		if (bs % 2 == 0)
			return q;
		p = q + 1;
	}
	return NULL;
}

/* What a scan carries from value to value. */
struct scan {
	const char *line, *end;
	char	*scratch;
	size_t	scratchlen, used;
	char	*err;
	size_t	errlen;
};

/*
 * value - the value at *pp into f (NULL: a key not read), *pp moved past
 * it: a string, as a view or decoded into the scratch, or a number, true,
 * false or null, which only keys not read may have.  0, or -1 with err.
 */
static int
value(struct scan *sc, const char **pp, struct util_str *f)
{
	const char *p = *pp, *q, *v;
	long dn;

	if (*p != '"') {
		for (v = p; p < sc->end && ((*p >= '0' && *p <= '9') ||
		    (*p >= 'a' && *p <= 'z') || *p == '-' || *p == '+' ||
		    *p == '.' || *p == 'E'); p++)
			;
		if (p == v)
			return scan_fail(sc->err, sc->errlen, sc->line, p,
			    "expected a string or a number");
		if (f != NULL)
			return scan_fail(sc->err, sc->errlen, sc->line, v,
			    "expected a string");
		*pp = p;
		return 0;
	}
	v = ++p;
	if ((q = string_end(p, sc->end)) == NULL)
		return scan_fail(sc->err, sc->errlen, sc->line, v - 1,
		    "unterminated string");
	*pp = q + 1;
	if (f == NULL)
		return 0;
	if (memchr(v, '\\', (size_t)(q - v)) == NULL) {
		f->p = v;
		f->n = (size_t)(q - v);
		return 0;
	}
	if (sc->scratchlen - sc->used < (size_t)(q - v))
		return scan_fail(sc->err, sc->errlen, sc->line, v,
		    "scratch buffer too small");
	if ((dn = unescape(v, q, sc->scratch + sc->used)) < 0)
		return scan_fail(sc->err, sc->errlen, sc->line, v,
		    "bad escape in string");
	f->p = sc->scratch + sc->used;
	f->n = (size_t)dn;
	sc->used += (size_t)dn;
	return 0;
}

/* skip_ws - p past blanks, up to end. */
static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && IS_WS(*p))
		p++;
	return p;
}

int
audit_scan(const char *line, size_t len, char *scratch, size_t scratchlen,
    struct audit_fields *out, char *err, size_t errlen)
{
	struct scan sc = { line, line + len, scratch, scratchlen, 0, err,
	    errlen };
	const char *p = line, *k, *q;
	struct util_str *f;

	memset(out, 0, sizeof(*out));
	p = skip_ws(p, sc.end);
	while (sc.end > p && IS_WS(sc.end[-1]))
		sc.end--;
	if (p == sc.end || *p != '{')
		return scan_fail(err, errlen, line, p, "not a JSON object");
	p = skip_ws(p + 1, sc.end);
	if (p < sc.end && *p == '}')
		return scan_fail(err, errlen, line, p, "empty object");
	for (;;) {
		p = skip_ws(p, sc.end);
		if (p == sc.end || *p != '"')
			return scan_fail(err, errlen, line, p, "expected a key");
		k = ++p;
		if ((q = string_end(p, sc.end)) == NULL)
			return scan_fail(err, errlen, line, k - 1,
			    "unterminated key");
		/* Keys are plain words: one with an escape is not ours. */
		f = memchr(k, '\\', (size_t)(q - k)) != NULL ? NULL :
		    slot(out, k, (size_t)(q - k));
		p = skip_ws(q + 1, sc.end);
		if (p == sc.end || *p != ':')
			return scan_fail(err, errlen, line, p, "expected ':'");
		p = skip_ws(p + 1, sc.end);
		if (p == sc.end)
			return scan_fail(err, errlen, line, p,
			    "expected a value");
		if (value(&sc, &p, f) == -1)
			return -1;
		p = skip_ws(p, sc.end);
		if (p == sc.end)
			return scan_fail(err, errlen, line, p,
			    "unterminated object");
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '}')
			return scan_fail(err, errlen, line, p,
			    "expected ',' or '}'");
		p++;
		break;
	}
	if (p != sc.end)
		return scan_fail(err, errlen, line, p, "data after the object");
	return 0;
}
