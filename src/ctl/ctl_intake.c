/*
 * ctl_intake.c - consentctl's commands for the unsubscribe loop:
 *
 *   intake RECIPIENT   a message on stdin, sent to the mailto: of a
 *                      List-Unsubscribe header; a Postfix pipe(8)
 *                      transport on the unsubscribe address runs it.
 *                      The token is in the recipient's local part
 *                      (unsubscribe+TOKEN@...) or in the Subject.
 *                      Exits with sysexits(3) codes, which pipe(8) maps
 *                      to delivered / bounced / deferred.
 *   keygen FILE        a new token key, and what to put in the config
 *   token ADDRESS      a token for ADDRESS on a list (tests, support)
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include <sodium.h>

#include "core/keyring.h"
#include "core/optout.h"
#include "core/token.h"
#include "ctl/ctl.h"
#include "util/util.h"

#define INTAKE_HEAD_MAX	(1024 * 1024)	/* octets of header read */
#define INTAKE_DRAIN_MAX (256L * 1024 * 1024)	/* of the rest, discarded */
#define SUBJECT_MAX	4096	/* octets of an unfolded Subject kept */
#define TOKEN_TEXT_MIN	64	/* shorter base64url is not a token */

/* Where a token was looked for, for the error an unsubscriber reads. */
#define WHERE_RCPT	0
#define WHERE_SUBJECT	1

struct find {
	const struct token_ring *ring;
	int64_t	now;
	int	seen[2];		/* something like a token, per WHERE_* */
	struct token_claims claims;
};

static int
b64url_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * find_try - 1 if s (n octets, punctuation around it trimmed) is a valid
 * token: the claims go into f.  Notes anything shaped like a token.
 */
static int
find_try(struct find *f, int where, const char *s, size_t n)
{
	while (n > 0 && !b64url_char((unsigned char)s[0])) {
		s++;
		n--;
	}
	while (n > 0 && !b64url_char((unsigned char)s[n - 1]))
		n--;
	if (n < TOKEN_TEXT_MIN || n >= TOKEN_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!b64url_char((unsigned char)s[i]))
			return 0;
	f->seen[where] = 1;
	return token_verify(f->ring, s, n, f->now, &f->claims) == 0;
}

/*
 * find_in_rcpt - the token after a recipient delimiter in the local part
 * of rcpt: "unsubscribe+TOKEN@example.com".  Every delimiter is tried,
 * so "list-unsubscribe-TOKEN" works with "-" as delimiter too.
 */
static int
find_in_rcpt(struct find *f, const char *rcpt, const char *delims)
{
	const char *at, *end;
	size_t n = strlen(rcpt);

	if (n > 0 && rcpt[0] == '<' && rcpt[n - 1] == '>') {
		rcpt++;
		n -= 2;
	}
	end = rcpt + n;
	for (at = end; at > rcpt && at[-1] != '@'; at--)
		;
	if (at > rcpt)
		end = at - 1;
	for (const char *p = rcpt; p < end; p++)
		if (strchr(delims, *p) != NULL && *p != '\0' &&
		    find_try(f, WHERE_RCPT, p + 1, (size_t)(end - p - 1)))
			return 1;
	return 0;
}

/* out_put - append n octets to out (outlen with its NUL), truncating. */
static void
out_put(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *o + 1 < outlen; i++)
		out[(*o)++] = s[i];
	out[*o] = '\0';
}

/*
 * ew_decode - the RFC 2047 encoded-word at s ("=?charset?Q?text?="),
 * decoded into out; returns its length in s, or 0 if s is not one.  The
 * charset is ignored: a token is ASCII in any charset we meet.
 */
static size_t
ew_decode(const char *s, char *out, size_t outlen, size_t *o)
{
	const char *q, *text, *end;
	unsigned char bin[SUBJECT_MAX];
	size_t blen;
	int enc;

	if (s[0] != '=' || s[1] != '?' || (q = strchr(s + 2, '?')) == NULL ||
	    q[1] == '\0' || q[2] != '?')
		return 0;
	enc = q[1];
	text = q + 3;
	if ((end = strstr(text, "?=")) == NULL ||
	    strcspn(text, " \t") < (size_t)(end - text))
		return 0;
	if (enc == 'B' || enc == 'b') {
		if (sodium_base642bin(bin, sizeof(bin), text, (size_t)(end - text),
		    NULL, &blen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
			return 0;
		out_put(out, outlen, o, (const char *)bin, blen);
	} else if (enc == 'Q' || enc == 'q') {
		for (const char *p = text; p < end; p++) {
			char c = *p;
			int hi, lo;

			if (c == '_')
				c = ' ';
			else if (c == '=' && end - p >= 3 &&
			    (hi = util_hexval(p[1])) >= 0 && (lo = util_hexval(p[2])) >= 0) {
				c = (char)(hi << 4 | lo);
				p += 2;
			}
			out_put(out, outlen, o, &c, 1);
		}
	} else
		return 0;
	return (size_t)(end + 2 - s);
}

/*
 * subject_decode - in with its encoded-words decoded into out; the blanks
 * between two adjacent encoded-words go (RFC 2047 6.2).
 */
static void
subject_decode(const char *in, char *out, size_t outlen)
{
	size_t o = 0, ws, n;
	int after_ew = 0;

	out[0] = '\0';
	while (*in != '\0') {
		ws = strspn(in, " \t");
		if (in[ws] == '\0') {
			out_put(out, outlen, &o, in, ws);
			break;
		}
		if (in[ws] == '=' && in[ws + 1] == '?') {
			size_t before = o;

			if (!after_ew)
				out_put(out, outlen, &o, in, ws);
			if ((n = ew_decode(in + ws, out, outlen, &o)) > 0) {
				in += ws + n;
				after_ew = 1;
				continue;
			}
			o = before;
			out[o] = '\0';
		}
		out_put(out, outlen, &o, in, ws + 1);
		in += ws + 1;
		after_ew = 0;
	}
}

/*
 * find_in_subject - the word after "unsubscribe", else the last word,
 * of the Subject: "unsubscribe TOKEN", "Re: [news] TOKEN".
 */
static int
find_in_subject(struct find *f, const char *subject)
{
	char dec[SUBJECT_MAX];
	const char *p, *w, *last = NULL;
	size_t n, lastn = 0;

	subject_decode(subject, dec, sizeof(dec));
	for (p = dec; *p != '\0'; p = w + n) {
		w = p + strspn(p, " \t");
		if ((n = strcspn(w, " \t")) == 0)
			break;
		if ((n == 11 || (n == 12 && w[11] == ':')) &&
		    strncasecmp(w, "unsubscribe", 11) == 0) {
			const char *t = w + n + strspn(w + n, " \t");

			if (find_try(f, WHERE_SUBJECT, t, strcspn(t, " \t")))
				return 1;
		}
		last = w;
		lastn = n;
	}
	return last != NULL && find_try(f, WHERE_SUBJECT, last, lastn);
}

/*
 * read_head - the message's header from fp into a buffer the caller
 * frees: up to the empty line, at most INTAKE_HEAD_MAX octets (the rest
 * is read and discarded, so that pipe(8) sees its whole message taken).
 * Returns 0, or -1 on a read error.
 */
static int
read_head(FILE *fp, char **bufp, size_t *lenp)
{
	char *buf, sink[65536];
	size_t len = 0, line = 0;
	long drained = 0;
	int ch, done = 0;

	*bufp = NULL;
	*lenp = 0;
	if ((buf = malloc(INTAKE_HEAD_MAX + 1)) == NULL)
		return -1;
	while (!done && len < INTAKE_HEAD_MAX && (ch = getc(fp)) != EOF) {
		buf[len++] = (char)ch;
		if (ch != '\n')
			continue;
		/* An empty line, "\n" or "\r\n", ends the header. */
		if (len - line == 1 || (len - line == 2 && buf[line] == '\r'))
			done = 1;
		line = len;
	}
	buf[len] = '\0';
	while (drained < INTAKE_DRAIN_MAX && !ferror(fp) && !feof(fp))
		drained += (long)fread(sink, 1, sizeof(sink), fp);
	if (ferror(fp)) {
		free(buf);
		return -1;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* header_subject - the first Subject field of head, unfolded, into out. */
static int
header_subject(const char *head, size_t len, char *out, size_t outlen)
{
	size_t i = 0, o = 0;

	out[0] = '\0';
	/* pipe(8)'s flag F puts an mbox "From " line first. */
	if (len >= 5 && memcmp(head, "From ", 5) == 0)
		while (i < len && head[i++] != '\n')
			;
	while (i < len) {
		const char *ls = head + i, *nl = memchr(ls, '\n', len - i);
		size_t ll = nl != NULL ? (size_t)(nl - ls) : len - i;

		i += ll + 1;
		if (ll > 0 && ls[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break;		/* the end of the header */
		if (ll < 8 || strncasecmp(ls, "Subject:", 8) != 0)
			continue;
		out_put(out, outlen, &o, ls + 8, ll - 8);
		/* Unfold: a line that starts with a blank goes on. */
		while (i < len && (head[i] == ' ' || head[i] == '\t')) {
			ls = head + i;
			nl = memchr(ls, '\n', len - i);
			ll = nl != NULL ? (size_t)(nl - ls) : len - i;
			i += ll + 1;
			if (ll > 0 && ls[ll - 1] == '\r')
				ll--;
			out_put(out, outlen, &o, ls, ll);
		}
		return 1;
	}
	return 0;
}

int
ctl_intake(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	struct token_ring ring;
	struct find f;
	struct store *st;
	struct journal j;
	char *head, subject[SUBJECT_MAX], err[512];
	size_t headlen;
	int rc, found = 0;

	if (ctl_options(c, argc, argv, 0, 1, 1, &o) == -1)
		return EX_USAGE;
	if (c->cf.lu_nkeys == 0) {
		ctl_err(c, "intake: no unsubscribe.keys in %s: tokens cannot be "
		    "checked", c->cf.file[0] ? c->cf.file : "the configuration");
		/* Deferred, not bounced: the request waits until it is fixed. */
		return EX_TEMPFAIL;
	}
	if (keyring_load(&c->cf, &ring, err, sizeof(err)) == -1) {
		ctl_err(c, "intake: %s", err);
		return EX_TEMPFAIL;
	}
	if (read_head(stdin, &head, &headlen) == -1) {
		ctl_err(c, "intake: cannot read the message: %s",
		    errno ? strerror(errno) : "read error");
		token_wipe(&ring);
		return EX_TEMPFAIL;
	}
	memset(&f, 0, sizeof(f));
	f.ring = &ring;
	f.now = c->now;
	found = find_in_rcpt(&f, o.arg, c->cf.delims[0] ? c->cf.delims : "+");
	if (!found && header_subject(head, headlen, subject, sizeof(subject)))
		found = find_in_subject(&f, subject);
	free(head);
	token_wipe(&ring);
	if (!found) {
		/* Postfix puts this in the bounce: the sender reads it. */
		if (f.seen[WHERE_RCPT] || f.seen[WHERE_SUBJECT])
			ctl_err(c, "intake: the unsubscribe token in the %s is "
			    "not valid (damaged, or too old): please use the "
			    "link in a recent message", f.seen[WHERE_RCPT] ?
			    "recipient address" : "Subject");
		else
			ctl_err(c, "intake: no unsubscribe token in the recipient "
			    "address or the Subject: please reply to a message "
			    "with its unsubscribe link, or use the link");
		return EX_DATAERR;
	}
	/* Deferred, not bounced: Postfix retries, the request is kept. */
	if (ctl_open_store(c, 0, &st) == -1)
		return EX_TEMPFAIL;
	/* A pipe(8) child does not wait on the network: the outbox sends it. */
	journal_init(&j, st, &c->cf.sync, JOURNAL_NO_NETWORK);
	rc = optout_record(&j, &f.claims, SRC_MAILTO, "", 0, c->now, err,
	    sizeof(err));
	journal_fini(&j);
	store_close(st);
	if (rc == -1) {
		ctl_err(c, "intake: cannot record the unsubscribe: %s", err);
		return EX_TEMPFAIL;
	}
	printf("%s %s list %s (mailto)\n", f.claims.addr, rc == 1 ?
	    "unsubscribed from" : "was already unsubscribed from", f.claims.list);
	sodium_memzero(&f, sizeof(f));
	return EX_OK;
}

/* conf_str - s as a libconfig string body: '"' and '\' escaped. */
static void
conf_str(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
}

int
ctl_keygen(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	char err[512], *abs;
	unsigned id = 1;
	const char *cfname = c->cf.file[0] ? c->cf.file : CONFIG_DEFAULT_PATH;

	if (ctl_options(c, argc, argv, 0, 1, 1, &o) == -1)
		return CTL_ERR;
	if (token_init() == -1) {
		ctl_err(c, "keygen: libsodium failed to initialise");
		return CTL_ERR;
	}
	if (token_key_write(o.arg, err, sizeof(err)) == -1) {
		ctl_err(c, "keygen: %s", err);
		return CTL_ERR;
	}
	abs = realpath(o.arg, NULL);
	/* The next id above those configured; ids are 1..255. */
	for (unsigned i = 0; i < c->cf.lu_nkeys; i++)
		if (c->cf.lu_keys[i].id >= id)
			id = c->cf.lu_keys[i].id + 1;
	if (id > 255)
		for (id = 1; id <= 255; id++) {
			unsigned i;

			for (i = 0; i < c->cf.lu_nkeys; i++)
				if (c->cf.lu_keys[i].id == id)
					break;
			if (i == c->cf.lu_nkeys)
				break;
		}
	printf("new key in %s (mode 0600)\n\n", abs ? abs : o.arg);
	printf("To sign unsubscribe links with it, put it first in the "
	    "unsubscribe section\nof %s, keep the older keys until their "
	    "links expire, and reload\nconsent-milter and consent-unsubd:\n\n",
	    cfname);
	printf("\tkeys = (\n\t\t{ id = %u; file = \"", id);
	conf_str(abs ? abs : o.arg);
	printf("\"; }%s\n", c->cf.lu_nkeys ? "," : "");
	for (unsigned i = 0; i < c->cf.lu_nkeys; i++) {
		printf("\t\t{ id = %u; file = \"", c->cf.lu_keys[i].id);
		conf_str(c->cf.lu_keys[i].file);
		printf("\"; }%s\n", i + 1 < c->cf.lu_nkeys ? "," : "");
	}
	printf("\t);\n\nOr, to pseudonymise the audit trail, in its audit "
	    "section:\n\n\tkey_file = \"");
	conf_str(abs ? abs : o.arg);
	printf("\";\n\nThe users of the daemons that read it must be able to; "
	    "no one else.\n");
	free(abs);
	return CTL_OK;
}

int
ctl_token(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	struct token_ring ring;
	struct addr a;
	char tok[TOKEN_MAX], err[512];
	int n;

	if (ctl_options(c, argc, argv, O_LIST | O_AT, 1, 1, &o) == -1)
		return CTL_ERR;
	if (ctl_addr(c, o.arg, &a) == -1)
		return CTL_ERR;
	if (c->cf.lu_nkeys == 0) {
		ctl_err(c, "token: no unsubscribe.keys in %s (make one with "
		    "'consentctl keygen FILE')", c->cf.file[0] ? c->cf.file :
		    "the configuration");
		return CTL_ERR;
	}
	if (keyring_load(&c->cf, &ring, err, sizeof(err)) == -1) {
		ctl_err(c, "token: %s", err);
		return CTL_ERR;
	}
	n = token_make(&ring, a.key, o.list, o.at, tok, sizeof(tok));
	token_wipe(&ring);
	if (n < 0) {
		ctl_err(c, "token: cannot make a token for %s on list %s", a.key,
		    o.list);
		return CTL_ERR;
	}
	printf("%s\n", tok);
	sodium_memzero(tok, sizeof(tok));
	return CTL_OK;
}
