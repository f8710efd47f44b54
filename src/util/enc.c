/*
 * enc.c - the output encoders (see enc.h for the rule they share).
 *
 * Each format is one function over a sink, which is either a stream or a
 * bounded buffer, so the audit writer's buffer and the report's stream
 * get the same octets.  Octets that stand for themselves are written in
 * runs; only what the rule replaces is written one at a time.
 */
#include <stdio.h>
#include <string.h>

#include "util/enc.h"
#include "util/util.h"

static const char hexd[] = "0123456789abcdef";

/* Where an encoder writes: fp, else buf (cap octets, room kept for a NUL). */
struct sink {
	FILE	*fp;
	char	*buf;
	size_t	cap, len;
	int	over;		/* buf: something did not fit */
};

/* put - n octets to the sink; in a buffer, the first overflow sticks. */
static void
put(struct sink *k, const char *s, size_t n)
{
	if (k->fp != NULL) {
		fwrite(s, 1, n, k->fp);
		return;
	}
	if (k->over || n >= k->cap - k->len) {
		k->over = 1;
		return;
	}
	memcpy(k->buf + k->len, s, n);
	k->len += n;
}

/* put_hex - c as prefix and two hex digits ("\\x", "\\u00"). */
static void
put_hex(struct sink *k, const char *prefix, unsigned char c)
{
	char b[8];
	size_t n = strlen(prefix);

	memcpy(b, prefix, n);
	b[n] = hexd[c >> 4];
	b[n + 1] = hexd[c & 15];
	put(k, b, n + 2);
}

/* sink_end - a buffer sink's result: NUL-terminated, its length or -1. */
static size_t
sink_end(struct sink *k)
{
	if (k->cap == 0)
		return (size_t)-1;
	k->buf[k->over ? 0 : k->len] = '\0';
	return k->over ? (size_t)-1 : k->len;
}

/* An encoder: s (n octets) into the sink. */
typedef void encoder(struct sink *, const char *, size_t);

/* to_buf - fn's output for s into buf (len octets); its length, or -1. */
static size_t
to_buf(encoder *fn, const char *s, size_t n, char *buf, size_t len)
{
	struct sink k = { NULL, buf, len, 0, 0 };

	fn(&k, s, n);
	return sink_end(&k);
}

/* to_file - fn's output for s to fp; 0, or -1 if fp has an error. */
static int
to_file(encoder *fn, FILE *fp, const char *s, size_t n)
{
	struct sink k = { fp, NULL, 0, 0, 0 };

	fn(&k, s, n);
	return ferror(fp) ? -1 : 0;
}

/*
 * plain - the length of the run at s (n octets) that needs no escape: up
 * to the first octet that keep() refuses, or the first octet outside
 * UTF-8.
 */
static size_t
plain(const char *s, size_t n, int (*keep)(unsigned char))
{
	size_t i = 0, k;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80) {
			if (!keep(c))
				break;
			i++;
		} else if ((k = util_utf8_seq(s + i, n - i)) > 0)
			i += k;
		else
			break;
	}
	return i;
}

/* json_keep - an ASCII octet JSON writes as itself. */
static int
json_keep(unsigned char c)
{
	return c >= 0x20 && c != 0x7f && c != '"' && c != '\\';
}

/* json - the JSON string of s (n octets), quotes included. */
static void
json(struct sink *k, const char *s, size_t n)
{
	size_t i = 0, r;

	put(k, "\"", 1);
	while (i < n) {
		unsigned char c;

		if ((r = plain(s + i, n - i, json_keep)) > 0) {
			put(k, s + i, r);
			i += r;
			continue;
		}
		c = (unsigned char)s[i++];
		if (c == '"')
			put(k, "\\\"", 2);
		else if (c == '\\')
			put(k, "\\\\", 2);
		else if (c == '\n')
			put(k, "\\n", 2);
		else if (c == '\r')
			put(k, "\\r", 2);
		else if (c == '\t')
			put(k, "\\t", 2);
		else if (c < 0x80)
			put_hex(k, "\\u00", c);
		else
			put(k, "\\ufffd", 6);
	}
	put(k, "\"", 1);
}

size_t
enc_json(const char *s, size_t n, char *buf, size_t len)
{
	return to_buf(json, s, n, buf, len);
}

int
enc_json_put(FILE *fp, const char *s, size_t n)
{
	return to_file(json, fp, s, n);
}

int
enc_json_puts(FILE *fp, const char *s)
{
	return enc_json_put(fp, s, strlen(s));
}

/* html_keep - an ASCII octet HTML writes as itself. */
static int
html_keep(unsigned char c)
{
	return (c >= 0x20 || c == '\t') && c != 0x7f && c != '&' && c != '<' &&
	    c != '>' && c != '"' && c != '\'';
}

/* html - s (n octets) as HTML text or attribute value. */
static void
html(struct sink *k, const char *s, size_t n)
{
	size_t i = 0, r;

	while (i < n) {
		if ((r = plain(s + i, n - i, html_keep)) > 0) {
			put(k, s + i, r);
			i += r;
			continue;
		}
		switch (s[i++]) {
		case '&': put(k, "&amp;", 5); break;
		case '<': put(k, "&lt;", 4); break;
		case '>': put(k, "&gt;", 4); break;
		case '"': put(k, "&quot;", 6); break;
		case '\'': put(k, "&#39;", 5); break;
		default: put(k, "&#xfffd;", 8); break;
		}
	}
}

size_t
enc_html(const char *s, size_t n, char *buf, size_t len)
{
	return to_buf(html, s, n, buf, len);
}

int
enc_html_put(FILE *fp, const char *s, size_t n)
{
	return to_file(html, fp, s, n);
}

int
enc_csv_formula(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] == '\'')
		i++;
	return i < n && (s[i] == '=' || s[i] == '+' || s[i] == '-' ||
	    s[i] == '@' || s[i] == '\t' || s[i] == '\r');
}

/* csv_keep - an ASCII octet a report's CSV cell writes as itself. */
static int
csv_keep(unsigned char c)
{
	return (c >= 0x20 || c == '\n' || c == '\r' || c == '\t') &&
	    c != 0x7f && c != '"';
}

/* csv_report - the inside of a report's cell: quotes doubled, \xHH. */
static void
csv_report(struct sink *k, const char *s, size_t n)
{
	size_t i = 0, r;

	while (i < n) {
		unsigned char c;

		if ((r = plain(s + i, n - i, csv_keep)) > 0) {
			put(k, s + i, r);
			i += r;
			continue;
		}
		c = (unsigned char)s[i++];
		if (c == '"')
			put(k, "\"\"", 2);
		else
			put_hex(k, "\\x", c);
	}
}

/* enc_csv_put - one field, quoted and guarded as it needs (enc.h). */
int
enc_csv_put(FILE *fp, const char *s, size_t n, int flags)
{
	struct sink k = { fp, NULL, 0, 0, 0 };
	int guard = enc_csv_formula(s, n), quote = guard;
	const char *q;

	for (size_t i = 0; i < n && !quote; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			quote = 1;
	if (quote)
		fputc('"', fp);
	if (guard)
		fputc('\'', fp);
	if (flags & ENC_CSV_REPORT)
		csv_report(&k, s, n);
	else {
		/* A file to read back: every octet as it is. */
		for (size_t i = 0; i < n; i = (size_t)(q - s) + 1) {
			if ((q = memchr(s + i, '"', n - i)) == NULL) {
				fwrite(s + i, 1, n - i, fp);
				break;
			}
			fwrite(s + i, 1, (size_t)(q - s) - i, fp);
			fputs("\"\"", fp);
		}
	}
	if (quote)
		fputc('"', fp);
	return ferror(fp) ? -1 : 0;
}

/* text_keep - an ASCII octet the text form writes as itself. */
static int
text_keep(unsigned char c)
{
	return c >= 0x20 && c != 0x7f && c != '\\';
}

size_t
enc_text_put(FILE *fp, const char *s, size_t n)
{
	size_t i = 0, r, w = 0;

	while (i < n) {
		if ((r = plain(s + i, n - i, text_keep)) > 0) {
			if (fp != NULL)
				fwrite(s + i, 1, r, fp);
			/* Columns: characters, not continuation octets. */
			for (size_t j = i; j < i + r; j++)
				w += ((unsigned char)s[j] & 0xc0) != 0x80;
			i += r;
			continue;
		}
		if (fp != NULL)
			fprintf(fp, "\\x%c%c", hexd[(unsigned char)s[i] >> 4],
			    hexd[(unsigned char)s[i] & 15]);
		w += 4;
		i++;
	}
	return w;
}
