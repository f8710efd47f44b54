/*
 * mta.c - the forms in which an MTA is sure to match what we hand back.
 *
 * Postfix, read from its source (smtpd.c extract_addr, cleanup_milter.c
 * cleanup_del_rcpt): smtpd strips the <> around the RCPT argument, cuts
 * a leading "@hop,...:" route up to the first colon, and records the
 * internal (unquoted) form of what its RFC 822 parser makes of the rest.
 * cleanup parses our smfi_delrcpt argument with the same parser, without
 * cutting any route, and deletes the records whose original recipient is
 * octet for octet the same.  Handing back "<rest>" therefore matches
 * whenever the parser reads "rest" alone and inside <> the same way,
 * which holds for the RFC 5321 Mailbox grammar checked here (and a bare
 * local part, which Postfix qualifies only later): no comments, inner
 * blanks, specials or brackets outside a quoted string or a literal.
 *
 * Sendmail 8.17, read from its source (srvrsmtp.c RCPT, milter.c
 * milter_delrcpt, recipient.c removefromlist, parseaddr.c prescan and
 * sameaddr): the SMTP server parses the RCPT argument with parseaddr()
 * and keeps the argument itself, up to the delimiter, as the recipient's
 * printable address q_paddr; the milter is sent that same text.  With a
 * milter that may delete recipients, none is expanded before the end of
 * the message (EF_VRFYONLY).  removefromlist() parses our argument with
 * parseaddr() as a list delimited by commas, and each address marks the
 * first live recipient removed whose q_paddr is the same string
 * (strcmp), or that resolves to the same mailer, host and user.  The RCPT
 * argument handed back verbatim is therefore matched by q_paddr whenever
 * the list parse reads all of it as one address: prescan() delimits at a
 * comma outside a quoted string or a comment, unless inside <> opened by
 * an "@" route (and stops with an error for one inside other <>).  An
 * 8-bit octet is stored quoted when Sendmail is built with
 * _FFR_8BITENVADDR, and the argument is not, so only printable ASCII is
 * sure.  Two RCPTs that resolve alike are one recipient to Sendmail.
 */
#include <string.h>

#include "core/addr.h"
#include "milter/mta.h"
#include "util/util.h"

/* dot_string - length of the dot-string at s (n octets), or 0. */
static size_t
dot_string(const char *s, size_t n)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;

		while (i < n && addr_atext((unsigned char)s[i]))
			i++;
		if (i == start)
			return 0;	/* empty atom: leading, trailing or double dot */
		if (i == n || s[i] != '.')
			return i;
		i++;
	}
}

/* quoted_string - length of the RFC 5321 quoted-string at s, or 0. */
static size_t
quoted_string(const char *s, size_t n)
{
	size_t i = 1;

	if (n < 2 || s[0] != '"')
		return 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			return i > 1 ? i + 1 : 0;
		if (c == '\\') {
			/* quoted-pairSMTP: backslash, then printable ASCII */
			if (i + 1 == n || (unsigned char)s[i + 1] < 0x20 ||
			    (unsigned char)s[i + 1] > 0x7e)
				return 0;
			i += 2;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			return 0;
		i++;
	}
	return 0;
}

/* domain_ok - 1 if s (n octets) is a domain or an address literal. */
static int
domain_ok(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (s[0] == '[') {
		/* dtext only: no '[', ']' or '\' inside, nothing after. */
		if (n < 3 || s[n - 1] != ']')
			return 0;
		for (size_t i = 1; i + 1 < n; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c < 33 || c > 126 || c == '[' || c == ']' ||
			    c == '\\')
				return 0;
		}
		return 1;
	}
	if (s[n - 1] == '.')
		n--;	/* a root dot parses alike in both places */
	for (size_t i = 0, start = 0; i <= n; i++) {
		unsigned char c;

		if (i == n || s[i] == '.') {
			if (i == start)
				return 0;
			start = i + 1;
			continue;
		}
		c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c >= 0x80))
			return 0;
	}
	return 1;
}

int
mta_delrcpt_arg(const char *raw, char *out, size_t outlen)
{
	const char *p, *colon;
	size_t n, local;

	if (raw == NULL || out == NULL || outlen == 0)
		return 0;
	p = raw;
	n = strlen(raw);
	/* smtpd strips <> only when they open and close the argument. */
	if (n >= 2 && p[0] == '<' && p[n - 1] == '>') {
		p++;
		n -= 2;
	}
	/*
	 * ... and cuts a route at its first colon, whatever is inside, but
	 * only at the very start.  Blanks around a mailbox are skipped by
	 * both parses; before a route they would keep smtpd from cutting it.
	 */
	if (n > 0 && (p[0] == ' ' || p[0] == '\t' || p[n - 1] == ' ' ||
	    p[n - 1] == '\t')) {
		while (n > 0 && (p[0] == ' ' || p[0] == '\t')) {
			p++;
			n--;
		}
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n > 0 && p[0] == '@')
			return 0;
	}
	if (n > 0 && p[0] == '@') {
		if ((colon = memchr(p, ':', n)) == NULL)
			return 0;
		n -= (size_t)(colon + 1 - p);
		p = colon + 1;
	}
	if (n == 0 || n + 3 > outlen || !util_utf8_valid(p, n))
		return 0;
	local = p[0] == '"' ? quoted_string(p, n) : dot_string(p, n);
	/* A bare local part is recorded as it is, before any @myorigin. */
	if (local == 0 || (local < n && (p[local] != '@' ||
	    !domain_ok(p + local + 1, n - local - 1))))
		return 0;
	out[0] = '<';
	memcpy(out + 1, p, n);
	out[n + 1] = '>';
	out[n + 2] = '\0';
	return 1;
}

/*
 * internal - the local part at s (n octets, a dot-string or a quoted-string
 * as quote_821_local writes it) as Postfix stores it: unquoted, escapes
 * undone.  Returns its length in out (room for n octets).
 */
static size_t
internal(const char *s, size_t n, char *out)
{
	size_t o = 0;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"') {
		memcpy(out, s, n);
		return n;
	}
	for (size_t i = 1; i + 1 < n; i++) {
		if (s[i] == '\\' && i + 2 < n)
			i++;
		out[o++] = s[i];
	}
	return o;
}

int
mta_rcpt_witness_ok(const char *del, const char *rcpt_addr)
{
	char a[MTA_DELRCPT_MAX], b[MTA_DELRCPT_MAX];
	const char *p, *at;
	size_t n, local, an, bn, wn;
	int folded = 0;

	if (del == NULL || rcpt_addr == NULL)
		return 0;
	n = strlen(del);
	wn = strlen(rcpt_addr);
	if (n < 3 || del[0] != '<' || del[n - 1] != '>' || n > sizeof(a) ||
	    wn >= sizeof(b))
		return 0;
	p = del + 1;
	n -= 2;
	local = p[0] == '"' ? quoted_string(p, n) : dot_string(p, n);
	if (local == 0)
		return 0;
	/* Ours as Postfix records it: local@domain, less a root dot. */
	an = internal(p, local, a);
	if (local < n) {
		size_t dn = n - local - 1;

		if (dn > 0 && p[n - 1] == '.')
			dn--;
		a[an++] = '@';
		memcpy(a + an, p + local + 1, dn);
		an += dn;
	}
	/* The witness, likewise; a bare local part of ours is qualified. */
	if ((at = strrchr(rcpt_addr, '@')) == NULL)
		at = rcpt_addr + wn;
	bn = internal(rcpt_addr, (size_t)(at - rcpt_addr), b);
	if (local < n) {
		memcpy(b + bn, at, wn - (size_t)(at - rcpt_addr));
		bn += wn - (size_t)(at - rcpt_addr);
	}
	if (an != bn)
		return 0;
	/* Postfix casefolds {rcpt_addr}: equal but for ASCII case is 2. */
	for (size_t i = 0; i < an; i++) {
		unsigned char x = (unsigned char)a[i];

		if (x >= 'A' && x <= 'Z') {
			x = (unsigned char)(x - 'A' + 'a');
			folded = 1;
		}
		if (x != (unsigned char)b[i])
			return 0;
	}
	return folded ? 2 : 1;
}

int
mta_detect(const char *v)
{
	const char *p;

	if (v == NULL)
		return MTA_UNKNOWN;
	if (strncmp(v, "Postfix", 7) == 0 && (v[7] == '\0' || v[7] == ' '))
		return MTA_POSTFIX;
	/* Sendmail 8's $v is its version alone: digits and dots. */
	if (v[0] != '8' || v[1] != '.' || v[2] < '0' || v[2] > '9')
		return MTA_UNKNOWN;
	for (p = v + 2; *p != '\0'; p++)
		if ((*p < '0' || *p > '9') && *p != '.')
			return MTA_UNKNOWN;
	return p[-1] == '.' ? MTA_UNKNOWN : MTA_SENDMAIL;
}

const char *
mta_name(int mta)
{
	switch (mta) {
	case MTA_POSTFIX:	return "Postfix";
	case MTA_SENDMAIL:	return "Sendmail";
	default:		return "an unknown MTA";
	}
}

int
mta_sendmail_arg(const char *raw)
{
	size_t n;
	int quoted = 0, angle = 0, route = 0;

	if (raw == NULL || (n = strlen(raw)) == 0 || n >= MTA_DELRCPT_MAX)
		return 0;
	/* removefromlist skips leading blanks and commas: q_paddr has none. */
	if (raw[0] == ' ' || raw[0] == ',')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c < 0x20 || c > 0x7e)
			return 0;
		if (quoted) {
			if (c == '\\' && i + 1 < n)
				i++;
			else if (c == '"')
				quoted = 0;
			continue;
		}
		switch (c) {
		case '"':
			quoted = 1;
			break;
		case '\\':	/* prescan delimits before it reads an escape */
		case '(':
		case ')':	/* comments: outside the Mailbox grammar anyway */
			return 0;
		case '<': {
			size_t j = i + 1;

			while (j < n && raw[j] == ' ')
				j++;
			angle++;
			route = j < n && raw[j] == '@';
			break;
		}
		case '>':
			if (--angle < 0)
				return 0;
			route = 0;
			break;
		case ',':
			if (angle <= 0 || !route)
				return 0;
			break;
		}
	}
	return !quoted && angle == 0;
}

/*
 * parts - split the mailbox at s (n octets: a dot-string or quoted-string
 * local part, then "@domain" or nothing) into its local part, unquoted
 * into lp (room for n octets), and its domain, less a root dot.  Returns
 * the local part's length, or -1 if s is no such mailbox.
 */
static long
parts(const char *s, size_t n, char *lp, const char **dom, size_t *dn)
{
	size_t local = n > 0 && s[0] == '"' ? quoted_string(s, n) :
	    dot_string(s, n);

	if (local == 0 || (local < n && s[local] != '@'))
		return -1;
	*dom = NULL;
	*dn = 0;
	if (local < n) {
		*dom = s + local + 1;
		*dn = n - local - 1;
		if (*dn > 0 && (*dom)[*dn - 1] == '.')
			(*dn)--;
		if (*dn == 0)
			return -1;
	}
	return (long)internal(s, local, lp);
}

/* same_fold - a and b (n octets each) are equal but for ASCII case. */
static int
same_fold(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return 1;
}

int
mta_sendmail_witness_ok(const char *mbox, const char *rcpt_addr)
{
	char a[MTA_DELRCPT_MAX], b[MTA_DELRCPT_MAX];
	const char *w, *colon, *ad, *bd;
	size_t n, wn, adn, bdn;
	long an, bn;

	if (mbox == NULL || rcpt_addr == NULL)
		return 0;
	n = strlen(mbox);
	wn = strlen(rcpt_addr);
	if (n < 3 || mbox[0] != '<' || mbox[n - 1] != '>' || n > sizeof(a) ||
	    wn >= sizeof(b))
		return 0;
	w = rcpt_addr;
	if (wn >= 2 && w[0] == '<' && w[wn - 1] == '>') {
		w++;
		wn -= 2;
	}
	/* A source route Sendmail kept (confDONT_PRUNE_ROUTES) names no one. */
	if (wn > 0 && w[0] == '@') {
		if ((colon = memchr(w, ':', wn)) == NULL)
			return 0;
		wn -= (size_t)(colon + 1 - w);
		w = colon + 1;
	}
	if ((an = parts(mbox + 1, n - 2, a, &ad, &adn)) < 0 ||
	    (bn = parts(w, wn, b, &bd, &bdn)) < 0 || an != bn)
		return 0;
	if (bd == NULL)		/* a local mailer's user: case may be folded */
		return same_fold(a, b, (size_t)an);
	if (memcmp(a, b, (size_t)an) != 0)
		return 0;
	/* A bare local part of ours, qualified by Sendmail: the same user. */
	return ad == NULL || (adn == bdn && same_fold(ad, bd, adn));
}
