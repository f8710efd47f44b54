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
