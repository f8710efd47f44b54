/*
 * fuzz_unsubd.c - libFuzzer target for consent-unsubd's request
 * handling.  The input is one flag octet, then "path\0content-type\0body":
 *
 *   flags & 3    the method (GET, HEAD, POST, other)
 *   flags & 4    no Content-Type (NULL) rather than the field
 *   flags & 8    the store write fails
 *   flags & 16   the body was cut at the limit (body_over)
 *   flags & 32   more header fields than allowed
 *   flags & 64   the framing of the Content-Type and path, as Content-Length
 *                (or with flags & 128 Transfer-Encoding) fields, decides
 *
 * Path and body are copied to buffers of their exact size, so reading
 * one octet past either is an ASan report.  Checked: the form parser's
 * contract, the decision table's invariants (a GET or HEAD never writes,
 * a POST writes at most once and only with a valid token and a one-click
 * body, every status goes with its page), the framing check's three
 * answers, the page in every small room, and the address helpers on the
 * same text.  The seed tokens verify with
 * the key and time below.
 */
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unsubd/unsubd.h"

#define NOW	INT64_C(1700000000)
#define ORG	"<Ex&mple \"News\">"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct calls {
	int	n, fail, all;
};

static int
record(void *arg, const struct token_claims *c, int all)
{
	struct calls *k = arg;

	if (c->addr[0] == '\0' || c->list[0] == '\0')
		abort();
	k->n++;
	k->all = all;
	return k->fail ? -1 : 1;
}

/* confirm - the confirmation stand-in: a verified claim, counted. */
static int
confirm(void *arg, const struct token_claims *c)
{
	struct calls *k = arg;

	if (c->addr[0] == '\0' || c->list[0] == '\0')
		abort();
	k->n++;
	return k->fail ? -1 : 1;
}

/* field - the next NUL-terminated field of buf (size), or "" past it. */
static const char *
field(const char *buf, size_t size, size_t *off)
{
	const char *f = buf + *off;
	size_t n;

	if (*off >= size)
		return "";
	n = strnlen(f, size - *off);
	*off += n + 1;
	return f;
}

static void
check_page(const struct unsubd_resp *r)
{
	char page[UNSUBD_PAGE_MAX], *small;
	int n;

	n = unsubd_page(r, ORG, page, sizeof(page));
	if (n <= 0 || (size_t)n != strlen(page) || strstr(page, "<Ex") != NULL ||
	    strstr(page, "<script") != NULL)
		abort();
	/* Every small room, on the heap so ASan sees one octet too far. */
	for (size_t k = 1; k <= 32; k++) {
		if ((small = malloc(k)) == NULL)
			return;
		if (unsubd_page(r, ORG, small, k) != -1 || small[0] != '\0')
			abort();
		free(small);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct token_ring ring;
	static int init;
	struct unsubd_env env;
	struct unsubd_req req;
	struct unsubd_resp r;
	struct unsubd_form f, g;
	struct unsubd_framing fr;
	struct sockaddr_storage ss;
	struct calls k;
	socklen_t sl;
	char *buf, *path, *body, ip[REC_IP_MAX + 1], err[256];
	const char *p, *ct, *b, *tok, *tok2;
	size_t off = 0, plen, blen, toklen, toklen2;
	unsigned flags;
	int rc, fst, kind, asked;

	if (!init) {
		if (token_init() == -1)
			abort();
		ring.nkeys = 1;
		ring.keys[0].id = 1;
		memset(ring.keys[0].key, 0x5a, TOKEN_KEY_BYTES);
		ring.lifetime = 90 * 86400;
		init = 1;
	}
	if (size < 1 || size > 3 * UNSUBD_BODY_MAX)
		return 0;
	flags = data[0];
	if ((buf = malloc(size)) == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	p = field(buf, size - 1, &off);
	ct = field(buf, size - 1, &off);
	b = buf + (off < size - 1 ? off : size - 1);
	blen = off < size - 1 ? size - 1 - off : 0;
	plen = strlen(p);
	path = malloc(plen ? plen : 1);
	body = malloc(blen ? blen : 1);
	if (path == NULL || body == NULL)
		goto out;
	memcpy(path, p, plen);
	memcpy(body, b, blen);

	/* The path: a token inside it (/u/ or /c/), or a 404. */
	kind = unsubd_path(path, plen, &tok, &toklen);
	if (kind != UNSUBD_PATH_NONE) {
		if (tok < path + 3 || tok + toklen > path + plen || toklen == 0 ||
		    memchr(tok, '/', toklen) != NULL ||
		    (kind != UNSUBD_PATH_UNSUB && kind != UNSUBD_PATH_CONFIRM))
			abort();
	} else if (tok != NULL || toklen != 0)
		abort();
	if ((unsubd_path_token(path, plen, &tok2, &toklen2) == 1) !=
	    (kind == UNSUBD_PATH_UNSUB))
		abort();

	/* The form: 0 or -1, and nothing kept on -1; parsing is stable. */
	rc = unsubd_form_parse((flags & 4) ? NULL : ct, body, blen, &f);
	if ((rc != 0 && rc != -1) || (rc == -1 && (f.one_click || f.all ||
	    f.confirm)) || (f.one_click != 0 && f.one_click != 1) ||
	    (f.all != 0 && f.all != 1) || (f.confirm != 0 && f.confirm != 1))
		abort();
	/* What this side's POST must carry. */
	asked = kind == UNSUBD_PATH_CONFIRM ? f.confirm : f.one_click;
	if (unsubd_form_parse((flags & 4) ? NULL : ct, body, blen, &g) != rc ||
	    memcmp(&f, &g, sizeof(f)) != 0)
		abort();

	/* The framing: 0, 400 or 501, and every field counted. */
	memset(&fr, 0, sizeof(fr));
	unsubd_framing_add(&fr, (flags & 128) ? "Transfer-Encoding" :
	    "Content-Length", ct);
	unsubd_framing_add(&fr, (flags & 128) ? "transfer-encoding" :
	    "content-length", p);
	fst = unsubd_framing_status(&fr, (flags & 1) != 0);
	if ((fst != 0 && fst != 400 && fst != 501) || fr.ncl + fr.nte != 2 ||
	    fr.chunked > fr.codings || (fr.ncl > 0 && fst == 501) ||
	    (fr.cl_bad && fst != 400))
		abort();

	/* The decision. */
	memset(&k, 0, sizeof(k));
	k.fail = (flags & 8) != 0;
	env.ring = &ring;
	env.now = NOW;
	env.record = record;
	env.arg = &k;
	env.confirm = confirm;	/* /c/ served: both sides fuzzed */
	env.confirm_lifetime = 7 * 86400;
	memset(&req, 0, sizeof(req));
	req.method = (int)(flags & 3);
	req.path = path;
	req.pathlen = plen;
	req.ctype = (flags & 4) ? NULL : ct;
	req.body = body;
	req.bodylen = blen;
	req.nheaders = (flags & 32) ? UNSUBD_HEADERS_MAX + 1 : 4;
	req.body_over = (flags & 16) != 0;
	req.framing = (flags & 64) ? fst : 0;
	unsubd_handle(&env, &req, &r);
	if (req.framing != 0 && (r.status != req.framing ||
	    r.page != UNSUBD_P_FRAMING || k.n != 0))
		abort();
	if (k.n > 1 || (k.n == 1 && (req.method != UNSUBD_POST || rc != 0 ||
	    !asked || req.body_over || (kind == UNSUBD_PATH_UNSUB &&
	    k.all != f.all))))
		abort();
	switch (r.status) {
	case 200:
		if (r.claims.addr[0] == '\0')
			abort();
		if (kind == UNSUBD_PATH_CONFIRM ? (req.method == UNSUBD_POST ?
		    k.n != 1 || r.page != UNSUBD_P_OPTIN_DONE || !r.changed :
		    r.page != UNSUBD_P_OPTIN) : (req.method == UNSUBD_POST ?
		    k.n != 1 || r.page != (f.all ? UNSUBD_P_DONE_ALL :
		    UNSUBD_P_DONE) || !r.changed : r.page != UNSUBD_P_CONFIRM))
			abort();
		break;
	case 503:
		if (k.n != 1 || !k.fail || r.page != UNSUBD_P_UNAVAILABLE ||
		    r.changed)
			abort();
		break;
	case 400:
		if (k.n != 0 || (r.page != (kind == UNSUBD_PATH_CONFIRM ?
		    UNSUBD_P_OPTIN_INVALID : UNSUBD_P_INVALID) &&
		    r.page != UNSUBD_P_BADREQ && r.page != UNSUBD_P_FRAMING) ||
		    r.claims.addr[0] != '\0')
			abort();
		break;
	case 501:
		if (req.framing != 501)
			abort();
		break;
	case 404:
		if (k.n != 0 || r.page != UNSUBD_P_NOTFOUND || tok != NULL)
			abort();
		break;
	case 405:
		if (k.n != 0 || r.page != UNSUBD_P_METHOD ||
		    req.method != UNSUBD_OTHER)
			abort();
		break;
	case 413:
	case 414:
	case 431:
		if (k.n != 0 || r.page != UNSUBD_P_TOOBIG)
			abort();
		break;
	default:
		abort();
	}
	check_page(&r);

	/* The address helpers, on the same text. */
	rc = unsubd_client_ip(ct, p, b, ip, sizeof(ip));
	if (rc < -1 || rc > 1 || strlen(ip) > REC_IP_MAX || (rc == -1 && ip[0]))
		abort();
	(void)unsubd_trusted_check(p, err, sizeof(err));
	if (unsubd_listen_parse(ct, &ss, &sl, err, sizeof(err)) == 0 &&
	    sl != sizeof(struct sockaddr_in) && sl != sizeof(struct sockaddr_in6))
		abort();
out:
	free(path);
	free(body);
	free(buf);
	return 0;
}
