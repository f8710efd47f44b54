/*
 * test_addr.c - the address normaliser: what a key looks like, the hostile
 * forms it refuses (with the message an operator will read), and that
 * every key it makes normalises to itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"

struct ok_case {
	const char	*in;
	const char	*key;
	const char	*base;		/* NULL: same as key */
};

struct bad_case {
	const char	*in;
	const char	*err;		/* substring of the message */
};

/* Same result from the key as from the input: the store's invariant. */
static void
check_idempotent(const struct addr *a, int flags, const char *delims)
{
	struct addr b;
	char err[256];

	if (addr_normalize(a->key, strlen(a->key), flags, delims, &b, err,
	    sizeof(err)) != 0)
		fail_msg("key \"%s\" refused: %s", a->key, err);
	assert_string_equal(b.key, a->key);
	assert_string_equal(b.base, a->base);
	assert_int_equal(b.local_len, a->local_len);
	assert_int_equal(b.literal, a->literal);
}

static void
check_ok_len(const char *in, size_t len, int flags, const char *delims,
    const char *key, const char *base)
{
	struct addr a;
	char err[256];

	if (addr_normalize(in, len, flags, delims, &a, err, sizeof(err)) != 0)
		fail_msg("\"%s\" refused: %s", in, err);
	assert_string_equal(a.key, key);
	assert_string_equal(a.base, base != NULL ? base : key);
	assert_ptr_equal(a.domain, a.key + a.local_len + 1);
	assert_int_equal(a.key[a.local_len], '@');
	assert_true(strlen(a.key) <= ADDR_MAX);
	check_idempotent(&a, flags, delims);
}

static void
check_ok(const char *in, int flags, const char *delims, const char *key,
    const char *base)
{
	check_ok_len(in, strlen(in), flags, delims, key, base);
}

static void
check_bad_len(const char *in, size_t len, const char *want)
{
	struct addr a;
	char err[256];

	err[0] = '\0';
	if (addr_normalize(in, len, 0, NULL, &a, err, sizeof(err)) == 0)
		fail_msg("\"%s\" accepted as \"%s\", wanted \"%s\"", in, a.key,
		    want);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\": got \"%s\", wanted \"%s\"", in, err, want);
	/* A refused address leaves nothing usable behind. */
	assert_string_equal(a.key, "");
	assert_ptr_equal(a.domain, a.key);
}

static void
check_bad(const char *in, const char *want)
{
	check_bad_len(in, strlen(in), want);
}

static void
run_ok(const struct ok_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_ok(c[i].in, 0, NULL, c[i].key, c[i].base);
}

static void
run_bad(const struct bad_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_bad(c[i].in, c[i].err);
}

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* rep - n copies of c at p, NUL-terminated; returns the end. */
static char *
rep(char *p, int c, size_t n)
{
	memset(p, c, n);
	p[n] = '\0';
	return p + n;
}

static void
test_plain(void **state)
{
	static const struct ok_case c[] = {
		{ "user@example.com", "user@example.com", NULL },
		{ "John.Doe@Example.COM", "john.doe@example.com", NULL },
		{ "USER@EXAMPLE.COM.", "user@example.com", NULL },
		{ "a@b", "a@b", NULL },
		{ "u@localhost", "u@localhost", NULL },
		{ "u@123.example", "u@123.example", NULL },
		{ "u@a-b.c-d.example", "u@a-b.c-d.example", NULL },
		{ "!#$%&'*/=?^_`{|}~-@x.example",
		    "!#$%&'*/=?^_`{|}~-@x.example", NULL },
		{ "a.b.c@x.example", "a.b.c@x.example", NULL },
	};

	(void)state;
	run_ok(c, NITEMS(c));
}

static void
test_brackets_blanks(void **state)
{
	static const struct ok_case ok[] = {
		{ "<a@b.example>", "a@b.example", NULL },
		{ "< A@b.example>", "a@b.example", NULL },
		{ "<A@b.example\t >", "a@b.example", NULL },
		{ "  <a@b.example>  ", "a@b.example", NULL },
		{ "\ta@b.example\t", "a@b.example", NULL },
	};
	static const struct bad_case bad[] = {
		{ "<>", "null sender <> is not a recipient" },
		{ "< >", "null sender <> is not a recipient" },
		{ "<<a@b>>", "nested angle brackets" },
		{ "<<>>", "nested angle brackets" },
		{ "<a@b", "unbalanced angle brackets" },
		{ "a@b>", "unbalanced angle brackets" },
		{ "<a@b>>", "unbalanced angle brackets" },
		{ "<<a@b>", "unbalanced angle brackets" },
		{ "<", "unbalanced angle brackets" },
		{ ">", "unbalanced angle brackets" },
		{ "", "address is empty" },
		{ " \t ", "address is empty" },
		{ "a b@x.example", "invalid character ' ' in local part" },
		{ "a@x .example", "invalid character ' ' in domain" },
		{ "a @x.example", "invalid character ' ' in local part" },
		{ "<a@b> SIZE=100", "text after the closing '>'" },
	};

	(void)state;
	run_ok(ok, NITEMS(ok));
	run_bad(bad, NITEMS(bad));
}

static void
test_source_route(void **state)
{
	static const struct ok_case ok[] = {
		{ "<@a.example,@b.example:user@c.example>", "user@c.example",
		    NULL },
		{ "<@a.example:User@C.example>", "user@c.example", NULL },
		{ "@a.example:u@c.example", "u@c.example", NULL },
		{ "<@[192.0.2.1],@b.example:u@c.example>", "u@c.example",
		    NULL },
		{ "<@a.example:\"x y\"@c.example>", "\"x y\"@c.example", NULL },
	};
	static const struct bad_case bad[] = {
		{ "<@a.example user@c.example>", "malformed source route" },
		{ "<@:u@c.example>", "malformed source route" },
		{ "<@a.example,b.example:u@c.example>",
		    "malformed source route" },
		{ "<@a.example;@b:u@c.example>", "malformed source route" },
		{ "<@[192.0.2.1:u@c.example>", "malformed source route" },
		{ "<@a.example,@b.example:>",
		    "no mailbox after the source route" },
		{ "<@a.example:>", "empty local part" },
		{ "@example.com", "empty local part" },
		{ "<@a.example:@b.example:u@c>", "empty local part" },
	};

	(void)state;
	run_ok(ok, NITEMS(ok));
	run_bad(bad, NITEMS(bad));
}

static void
test_quoted(void **state)
{
	static const struct ok_case ok[] = {
		{ "\"john\"@x.example", "john@x.example", NULL },
		{ "\"John.Doe\"@x.example", "john.doe@x.example", NULL },
		{ "\"john smith\"@x.example", "\"john smith\"@x.example",
		    NULL },
		{ "\"a\\\"b\"@x.example", "\"a\\\"b\"@x.example", NULL },
		{ "\"a\\\\b\"@x.example", "\"a\\\\b\"@x.example", NULL },
		{ "\"a\\b\"@x.example", "ab@x.example", NULL },
		{ "\"a\\ b\"@x.example", "\"a b\"@x.example", NULL },
		{ "\"a..b\"@x.example", "\"a..b\"@x.example", NULL },
		{ "\".a\"@x.example", "\".a\"@x.example", NULL },
		{ "\"a@b\"@x.example", "\"a@b\"@x.example", NULL },
		{ "\"a(b)c\"@x.example", "\"a(b)c\"@x.example", NULL },
		{ "\"\xc3\xa9\"@x.example", "\xc3\xa9@x.example", NULL },
		/* Unquoted, so the tag is found; still quoted, it is not. */
		{ "\"a+b\"@x.example", "a+b@x.example", "a@x.example" },
		{ "\"a +b\"@x.example", "\"a +b\"@x.example", NULL },
	};
	static const struct bad_case bad[] = {
		{ "\"abc@x.example", "unterminated quoted local part" },
		{ "\"abc\\\"@x.example", "unterminated quoted local part" },
		{ "\"abc\\", "unterminated quoted local part" },
		{ "\"", "unterminated quoted local part" },
		{ "\"\"@x.example", "empty local part" },
		{ "\"a\"b@x.example", "text after the quoted local part" },
		{ "\"a\".\"b\"@x.example", "text after the quoted local part" },
		{ "\"a\"", "missing @" },
		{ "a\"b\"@x.example", "quote inside an unquoted local part" },
		{ "\"\\\xc3\xa9\"@x.example", "invalid escape 0xc3" },
		{ "\"\xff\"@x.example", "local part is not valid UTF-8" },
	};

	(void)state;
	run_ok(ok, NITEMS(ok));
	run_bad(bad, NITEMS(bad));
}

static void
test_local_syntax(void **state)
{
	static const struct bad_case bad[] = {
		{ "foo", "missing @" },
		{ "foo.example.com", "missing @" },
		{ "@x.example", "empty local part" },
		{ ".a@x.example", "local part starts with a dot" },
		{ "a.@x.example", "local part ends with a dot" },
		{ "a..b@x.example", "local part has two dots in a row" },
		{ ".@x.example", "local part starts with a dot" },
		{ "a(b)@x.example", "invalid character '(' in local part" },
		{ "a,b@x.example", "invalid character ',' in local part" },
		{ "a<b@x.example", "invalid character '<' in local part" },
		{ "a\\b@x.example", "invalid character '\\' in local part" },
	};

	(void)state;
	run_bad(bad, NITEMS(bad));
}

static void
test_literals(void **state)
{
	static const struct ok_case ok[] = {
		{ "u@[192.0.2.1]", "u@[192.0.2.1]", NULL },
		{ "u@[IPv6:2001:db8::1]", "u@[IPv6:2001:db8::1]", NULL },
		{ "u@[ipv6:2001:DB8:0:0::1]", "u@[IPv6:2001:db8::1]", NULL },
		{ "u@[IPV6:0:0:0:0:0:0:0:1]", "u@[IPv6:::1]", NULL },
		{ "u@[IPv6:::ffff:192.0.2.1]", "u@[IPv6:::ffff:192.0.2.1]",
		    NULL },
		{ "U+t@[192.0.2.1]", "u+t@[192.0.2.1]", "u@[192.0.2.1]" },
	};
	static const struct bad_case bad[] = {
		{ "u@[192.0.2]", "invalid IPv4 address literal" },
		{ "u@[256.0.2.1]", "invalid IPv4 address literal" },
		{ "u@[192.0.2.01]", "invalid IPv4 address literal" },
		{ "u@[]", "invalid IPv4 address literal" },
		{ "u@[example.com]", "invalid IPv4 address literal" },
		{ "u@[IPv6:2001:db8::1::2]", "invalid IPv6 address literal" },
		{ "u@[IPv6:]", "invalid IPv6 address literal" },
		{ "u@[IPv6:fe80::1%eth0]", "invalid IPv6 address literal" },
		{ "u@[IPv6:192.0.2.1]", "invalid IPv6 address literal" },
		{ "u@[2001:db8::1]", "unsupported address literal" },
		{ "u@[x-tag:abc]", "unsupported address literal" },
		{ "u@[192.0.2.1", "unterminated address literal" },
		{ "u@[192.0.2.1].", "text after the address literal" },
		{ "u@[192.0.2.1]x", "text after the address literal" },
		{ "u@192.0.2.1", "top-level domain label is all digits" },
	};
	struct addr a;
	char err[64];

	(void)state;
	run_ok(ok, NITEMS(ok));
	run_bad(bad, NITEMS(bad));
	assert_int_equal(addr_normalize("u@[192.0.2.1]", 13, 0, NULL, &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.literal, 1);
	assert_string_equal(a.domain, "[192.0.2.1]");
	assert_int_equal(addr_normalize("u@x.example", 11, 0, NULL, &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.literal, 0);
}

static void
test_idn(void **state)
{
	static const char *same[] = {
		"user@b\xc3\xbc" "cher.example",
		"user@B\xc3\x9c" "CHER.example",
		"user@B\xc3\x9c" "CHER.EXAMPLE.",
		"USER@xn--bcher-kva.example",
		"user@XN--BCHER-KVA.Example",
		"<user@b\xc3\xbc" "cher.example>",
		/* NFD: u + combining diaeresis. */
		"user@bu\xcc\x88" "cher.example",
	};
	static const struct ok_case ok[] = {
		{ "u@\xc3\x9f.de", "u@xn--zca.de", NULL },
		{ "u@\xe4\xbe\x8b\xe3\x81\x88."
		    "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88",
		    "u@xn--r8jz45g.xn--zckzah", NULL },
		{ "j\xc3\xb6s\xc3\xa9@b\xc3\xbc" "cher.example",
		    "j\xc3\xb6s\xc3\xa9@xn--bcher-kva.example", NULL },
		{ "J\xc3\x96SE@x.example", "j\xc3\x96se@x.example", NULL },
	};
	static const struct bad_case bad[] = {
		{ "u@-\xc3\xbc.example", "invalid domain: " },
		{ "u@a\xe2\x80\x8c" "b.example", "invalid domain: " },
		{ "u@a_\xc3\xbc.example", "invalid character '_' in domain" },
		{ "u@\xc3\xbc\xc3\xbc.123",
		    "top-level domain label is all digits" },
		{ "u@b\xc3\xbc" "cher..example", "empty domain label" },
	};

	(void)state;
	for (size_t i = 0; i < NITEMS(same); i++)
		check_ok(same[i], 0, NULL, "user@xn--bcher-kva.example", NULL);
	run_ok(ok, NITEMS(ok));
	run_bad(bad, NITEMS(bad));
}

static void
test_bad_utf8(void **state)
{
	static const struct bad_case bad[] = {
		{ "\xff@x.example", "local part is not valid UTF-8" },
		{ "a\xc3@x.example", "local part is not valid UTF-8" },
		{ "\xc0\xaf@x.example", "local part is not valid UTF-8" },
		{ "\xed\xa0\x80@x.example", "local part is not valid UTF-8" },
		{ "a@x\xc3.example", "domain is not valid UTF-8" },
		{ "a@\xf5\x80\x80\x80.example", "domain is not valid UTF-8" },
		{ "a@b\xc3\xbc\xbc.example", "domain is not valid UTF-8" },
	};

	(void)state;
	run_bad(bad, NITEMS(bad));
}

static void
test_controls(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*err;
	} bad[] = {
#define CRLFNUL	"control character (CR, LF or NUL)"
		{ "a\0b@x.example", 13, CRLFNUL },
		{ "ab@x.example\0", 13, CRLFNUL },
		{ "\0", 1, CRLFNUL },
		{ "<a@x.example>\r\n", 15, CRLFNUL },
		{ "a\r@x.example", 12, CRLFNUL },
		{ "a@x.exa\nmple", 12, CRLFNUL },
		{ "\"a\nb\"@x.example", 15, CRLFNUL },
		{ "a\t@x.example", 12, "control character (0x09)" },
		{ "a\x1b@x.example", 12, "control character (0x1b)" },
		{ "a\x7f@x.example", 12, "control character (0x7f)" },
		{ "a\xc2\x85@x.example", 13, "control character (0x85)" },
		{ "\"a\x01\"@x.example", 14, "control character (0x01)" },
#undef CRLFNUL
	};
	struct addr a;
	char err[64];

	(void)state;
	for (size_t i = 0; i < NITEMS(bad); i++)
		check_bad_len(bad[i].in, bad[i].len, bad[i].err);
	/* The length is what counts, not a NUL. */
	check_ok_len("a@x.example\0junk", 11, 0, NULL, "a@x.example", NULL);
	assert_int_equal(addr_normalize(NULL, 0, 0, NULL, &a, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "address is empty");
}

static void
test_lengths(void **state)
{
	char in[2048], want[2048], *p;

	(void)state;
	/* Local part: 64 octets pass, 65 do not. */
	p = rep(in, 'a', 64);
	strcpy(p, "@x.example");
	check_ok(in, 0, NULL, in, NULL);
	p = rep(in, 'a', 65);
	strcpy(p, "@x.example");
	check_bad(in, "local part is longer than 64 octets");
	/* The quotes count: 62 + 2 pass, 63 + 2 do not. */
	in[0] = '"';
	p = rep(in + 1, ' ', 62);
	strcpy(p, "\"@x.example");
	check_ok(in, 0, NULL, in, NULL);
	in[0] = '"';
	p = rep(in + 1, ' ', 63);
	strcpy(p, "\"@x.example");
	check_bad(in, "local part is longer than 64 octets");
	/* So do the escapes of the canonical form. */
	in[0] = '"';
	p = rep(in + 1, ' ', 60);
	strcpy(p, "\\\"\\\"\"@x.example");
	check_bad(in, "local part is longer than 64 octets");
	/* Unneeded quotes do not count: 64 octets, quoted, pass. */
	in[0] = '"';
	p = rep(in + 1, 'b', 64);
	strcpy(p, "\"@x.example");
	p = rep(want, 'b', 64);
	strcpy(p, "@x.example");
	check_ok(in, 0, NULL, want, NULL);

	/* Whole address: 64 + 1 + 189 = 254 pass, 255 do not. */
	p = rep(in, 'a', 64);
	*p++ = '@';
	p = rep(p, 'b', 63);
	*p++ = '.';
	p = rep(p, 'c', 63);
	*p++ = '.';
	p = rep(p, 'd', 61);
	assert_int_equal(strlen(in), 254);
	check_ok(in, 0, NULL, in, NULL);
	/* The root dot is not part of the key. */
	strcpy(want, in);
	strcpy(p, ".");
	check_ok(in, 0, NULL, want, NULL);
	strcpy(p, "d");
	assert_int_equal(strlen(in), 255);
	check_bad(in, "address is longer than 254 octets");
	/* In angle brackets and blanks, the key still has 254. */
	in[0] = '<';
	p = rep(in + 1, 'a', 64);
	*p++ = '@';
	p = rep(p, 'b', 63);
	*p++ = '.';
	p = rep(p, 'c', 63);
	*p++ = '.';
	p = rep(p, 'd', 61);
	strcpy(p, "> ");
	check_ok(in, 0, NULL, want, NULL);

	/* Labels: 63 pass, 64 do not. */
	p = rep(in, 'a', 63);
	strcpy(p, ".example");
	check_ok(strcat(strcpy(want, "u@"), in), 0, NULL, want, NULL);
	p = rep(in, 'a', 64);
	strcpy(p, ".example");
	strcat(strcpy(want, "u@"), in);
	check_bad(want, "domain label longer than 63 octets");

	/* Domain over 253 octets. */
	strcpy(in, "u@");
	p = in + 2;
	for (int i = 0; i < 4; i++) {
		p = rep(p, 'a', 63);
		*p++ = '.';
	}
	strcpy(p, "com");
	check_bad(in, "domain is longer than 253 octets");

	/* Input far beyond any real path. */
	p = rep(in, 'a', 1100);
	check_bad(in, "longer than 1024 octets as written");
}

static void
test_domain_syntax(void **state)
{
	static const struct bad_case bad[] = {
		{ "u@", "empty domain" },
		{ "u@.", "empty domain" },
		{ "u@x..example", "empty domain label" },
		{ "u@.x.example", "empty domain label" },
		{ "u@x.example..", "empty domain label" },
		{ "u@-x.example", "domain label starts or ends with a hyphen" },
		{ "u@x-.example", "domain label starts or ends with a hyphen" },
		{ "u@x.example-", "domain label starts or ends with a hyphen" },
		{ "u@x_y.example", "invalid character '_' in domain" },
		{ "u@x@y.example", "invalid character '@' in domain" },
		{ "u@x.example>", "unbalanced angle brackets" },
		{ "u@123", "top-level domain label is all digits" },
	};

	(void)state;
	run_bad(bad, NITEMS(bad));
	/* Hyphens inside a label, as in an A-label, are fine. */
	check_ok("u@xn--a-b--c.example", 0, NULL, "u@xn--a-b--c.example", NULL);
}

static void
test_tags(void **state)
{
	static const struct {
		const char	*in;
		int		 flags;
		const char	*delims;
		const char	*key;
		const char	*base;
	} c[] = {
		{ "User+Tag@x.example", 0, NULL, "user+tag@x.example",
		    "user@x.example" },
		{ "user+a+b@x.example", 0, NULL, "user+a+b@x.example",
		    "user@x.example" },
		{ "user++@x.example", 0, NULL, "user++@x.example",
		    "user@x.example" },
		{ "user+tag@x.example", 0, "", "user+tag@x.example", NULL },
		{ "user-tag@x.example", 0, NULL, "user-tag@x.example", NULL },
		{ "user-a+b@x.example", 0, "+-", "user-a+b@x.example",
		    "user@x.example" },
		{ "user+a-b@x.example", 0, "-", "user+a-b@x.example",
		    "user+a@x.example" },
		{ "+tag@x.example", 0, NULL, "+tag@x.example", NULL },
		{ "a.+tag@x.example", 0, NULL, "a.+tag@x.example", NULL },
		{ "\"a b+c\"@x.example", 0, NULL, "\"a b+c\"@x.example", NULL },
		{ "User+Tag@x.example", ADDR_CASE_SENSITIVE, NULL,
		    "User+Tag@x.example", "User@x.example" },
		{ "userXtag@x.example", 0, "X", "userxtag@x.example",
		    "user@x.example" },
	};

	(void)state;
	for (size_t i = 0; i < NITEMS(c); i++)
		check_ok(c[i].in, c[i].flags, c[i].delims, c[i].key, c[i].base);
}

static void
test_case_sensitive(void **state)
{
	(void)state;
	check_ok("John.Doe@Example.COM", ADDR_CASE_SENSITIVE, NULL,
	    "John.Doe@example.com", NULL);
	check_ok("\"John Doe\"@Example.COM", ADDR_CASE_SENSITIVE, NULL,
	    "\"John Doe\"@example.com", NULL);
	check_ok("\"JOHN\"@X.example", ADDR_CASE_SENSITIVE, NULL,
	    "JOHN@x.example", NULL);
	check_ok("J\xc3\x96SE@B\xc3\x9c" "CHER.example", ADDR_CASE_SENSITIVE,
	    NULL, "J\xc3\x96SE@xn--bcher-kva.example", NULL);
	/* Case-folded keys of different spellings agree. */
	check_ok("JOHN@x.example", 0, NULL, "john@x.example", NULL);
	check_ok("\"jOhN\"@x.example", 0, NULL, "john@x.example", NULL);
}

static void
test_errbuf(void **state)
{
	struct addr a;
	char err[8];

	(void)state;
	assert_int_equal(addr_normalize("<>", 2, 0, NULL, &a, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "null se");
	assert_int_equal(addr_normalize("<>", 2, 0, NULL, &a, NULL, 0), -1);
	assert_int_equal(addr_domain_normalize("", 0, err, 0, NULL, 0), -1);
}

static void
test_domain_normalize(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} ok[] = {
		{ "example.com", "example.com" },
		{ "Example.COM.", "example.com" },
		{ ".example.com", ".example.com" },
		{ ".Example.COM.", ".example.com" },
		{ "  example.com\t", "example.com" },
		{ "com", "com" },
		{ ".com", ".com" },
		{ "b\xc3\xbc" "cher.example", "xn--bcher-kva.example" },
		{ ".B\xc3\x9c" "CHER.example", ".xn--bcher-kva.example" },
		{ "xn--BCHER-kva.example", "xn--bcher-kva.example" },
		{ "[192.0.2.1]", "[192.0.2.1]" },
		{ "[ipv6:2001:DB8::0:1]", "[IPv6:2001:db8::1]" },
	};
	static const struct bad_case bad[] = {
		{ "", "domain is empty" },
		{ " ", "domain is empty" },
		{ ".", "domain is empty" },
		{ "..x", "empty domain label" },
		{ "..", "empty domain" },
		{ "x..y", "empty domain label" },
		{ "x.y..", "empty domain label" },
		{ "a@example.com", "invalid character '@' in domain" },
		{ "@example.com", "invalid character '@' in domain" },
		{ ".[192.0.2.1]", "an address literal has no subdomains" },
		{ "[192.0.2.300]", "invalid IPv4 address literal" },
		{ "-x.example", "starts or ends with a hyphen" },
		{ "x.example\r", "control character (CR, LF or NUL)" },
		{ "-\xc3\xbc.example", "invalid domain: " },
		{ "\xc3.example", "domain is not valid UTF-8" },
	};
	char out[ADDR_DOMAIN_MAX + 2], again[ADDR_DOMAIN_MAX + 2], in[300];
	char err[256], *p;

	(void)state;
	for (size_t i = 0; i < NITEMS(ok); i++) {
		if (addr_domain_normalize(ok[i].in, strlen(ok[i].in), out,
		    sizeof(out), err, sizeof(err)) != 0)
			fail_msg("\"%s\" refused: %s", ok[i].in, err);
		assert_string_equal(out, ok[i].out);
		assert_int_equal(addr_domain_normalize(out, strlen(out), again,
		    sizeof(again), err, sizeof(err)), 0);
		assert_string_equal(again, out);
	}
	for (size_t i = 0; i < NITEMS(bad); i++) {
		err[0] = '\0';
		if (addr_domain_normalize(bad[i].in, strlen(bad[i].in), out,
		    sizeof(out), err, sizeof(err)) == 0)
			fail_msg("\"%s\" accepted as \"%s\"", bad[i].in, out);
		if (strstr(err, bad[i].err) == NULL)
			fail_msg("\"%s\": got \"%s\", wanted \"%s\"", bad[i].in,
			    err, bad[i].err);
	}
	/* 253 octets, dotted: 254 plus the NUL fit the documented size. */
	in[0] = '.';
	p = in + 1;
	for (int i = 0; i < 3; i++) {
		p = rep(p, 'a', 63);
		*p++ = '.';
	}
	rep(p, 'b', 61);
	assert_int_equal(strlen(in + 1), 253);
	assert_int_equal(addr_domain_normalize(in, strlen(in), out,
	    sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, in);
	strcat(in, "b");
	assert_int_equal(addr_domain_normalize(in, strlen(in), out,
	    sizeof(out), err, sizeof(err)), -1);
	assert_string_equal(err, "domain is longer than 253 octets");
	p = rep(in, 'a', 64);
	strcpy(p, ".example");
	assert_int_equal(addr_domain_normalize(in, strlen(in), out,
	    sizeof(out), err, sizeof(err)), -1);
	assert_string_equal(err, "domain label longer than 63 octets");
	/* Too small an output buffer is refused, not overrun. */
	assert_int_equal(addr_domain_normalize("example.com", 11, out, 11,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not fit"));
}

static void
test_domain_keys(void **state)
{
	static const char *want[] = {
		"a.b.example.com", ".a.b.example.com", ".b.example.com",
		".example.com", ".com"
	};
	const char *keys[ADDR_KEYS_MAX];
	char buf[ADDR_DOMAIN_MAX + 2], err[256], in[300], *p;
	struct addr a, copy;
	size_t n;

	(void)state;
	assert_int_equal(addr_normalize("U+x@A.B.Example.COM", 19, 0, NULL,
	    &a, err, sizeof(err)), 0);
	n = addr_domain_keys(&a, buf, sizeof(buf), keys, ADDR_KEYS_MAX);
	assert_int_equal(n, NITEMS(want));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(keys[i], want[i]);
	assert_ptr_equal(keys[0], a.domain);

	/* At most maxkeys, most specific first. */
	n = addr_domain_keys(&a, buf, sizeof(buf), keys, 2);
	assert_int_equal(n, 2);
	assert_string_equal(keys[1], ".a.b.example.com");
	assert_int_equal(addr_domain_keys(&a, buf, sizeof(buf), keys, 0), 0);
	/* No room in buf: the exact domain only. */
	assert_int_equal(addr_domain_keys(&a, buf, 5, keys, ADDR_KEYS_MAX), 1);

	/* A copied struct still yields its own domain. */
	copy = a;
	memset(&a, 0, sizeof(a));
	n = addr_domain_keys(&copy, buf, sizeof(buf), keys, ADDR_KEYS_MAX);
	assert_int_equal(n, NITEMS(want));
	assert_string_equal(keys[0], "a.b.example.com");
	assert_int_equal(addr_domain_keys(&a, buf, sizeof(buf), keys,
	    ADDR_KEYS_MAX), 0);

	assert_int_equal(addr_normalize("u@localhost", 11, 0, NULL, &a, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_domain_keys(&a, buf, sizeof(buf), keys,
	    ADDR_KEYS_MAX), 2);
	assert_string_equal(keys[1], ".localhost");

	assert_int_equal(addr_normalize("u@[IPv6:2001:db8::1]", 20, 0, NULL,
	    &a, err, sizeof(err)), 0);
	assert_int_equal(addr_domain_keys(&a, buf, sizeof(buf), keys,
	    ADDR_KEYS_MAX), 1);
	assert_string_equal(keys[0], "[IPv6:2001:db8::1]");

	/* The most labels an address can have still fits ADDR_KEYS_MAX. */
	strcpy(in, "u@");
	p = in + 2;
	for (int i = 0; i < 125; i++) {
		*p++ = 'a';
		*p++ = '.';
	}
	strcpy(p, "a");
	assert_int_equal(strlen(in), 253);
	assert_int_equal(addr_normalize(in, strlen(in), 0, NULL, &a, err,
	    sizeof(err)), 0);
	n = addr_domain_keys(&a, buf, sizeof(buf), keys, ADDR_KEYS_MAX);
	assert_int_equal(n, 127);
	assert_string_equal(keys[126], ".a");
}

static void
test_is_domain(void **state)
{
	(void)state;
	assert_int_equal(addr_is_domain("example.com"), 1);
	assert_int_equal(addr_is_domain(".example.com"), 1);
	assert_int_equal(addr_is_domain("[192.0.2.1]"), 1);
	assert_int_equal(addr_is_domain("a@example.com"), 0);
	assert_int_equal(addr_is_domain("@example.com"), 0);
	assert_int_equal(addr_is_domain("\"a\"@x"), 0);
	assert_int_equal(addr_is_domain(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_brackets_blanks),
		cmocka_unit_test(test_source_route),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_local_syntax),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_idn),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_domain_syntax),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_case_sensitive),
		cmocka_unit_test(test_errbuf),
		cmocka_unit_test(test_domain_normalize),
		cmocka_unit_test(test_domain_keys),
		cmocka_unit_test(test_is_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
