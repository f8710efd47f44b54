/*
 * test_unsubd.c - consent-unsubd's request handling without a socket:
 * the path, both RFC 8058 body encodings, bad and oversized requests, the
 * decision table (a GET changes nothing, three POSTs make one change and
 * one answer, every bad token the same answer), a body's length told
 * twice or by an unknown coding, the pages, the client's address behind
 * a trusted proxy and the listen address.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/optin.h"
#include "unsubd/unsubd.h"

#define NOW	INT64_C(1700000000)
#define DAY	INT64_C(86400)
#define ADDR	"alice@example.com"
#define LIST	"news"
#define UL	"List-Unsubscribe=One-Click"

static struct token_ring ring, other;
static char tok[TOKEN_MAX], path[TOKEN_MAX + 8];

/* A store stand-in: idempotent, or failing, and counting its calls. */
struct fake {
	int	calls, changes, fail, last_all;
	int	unsub, unsub_all;
	struct token_claims last;
};

static int
fake_record(void *arg, const struct token_claims *c, int all)
{
	struct fake *f = arg;

	f->calls++;
	f->last = *c;
	f->last_all = all;
	if (f->fail)
		return -1;
	if (all ? f->unsub_all : f->unsub)
		return 0;
	if (all)
		f->unsub_all = 1;
	else
		f->unsub = 1;
	f->changes++;
	return 1;
}

static void
ring_make(struct token_ring *r, unsigned id, unsigned char fill)
{
	memset(r, 0, sizeof(*r));
	r->nkeys = 1;
	r->keys[0].id = id;
	memset(r->keys[0].key, fill, TOKEN_KEY_BYTES);
	r->lifetime = 90 * DAY;
}

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(token_init(), 0);
	ring_make(&ring, 1, 0x5a);
	ring_make(&other, 1, 0xa5);
	assert_true(token_make(&ring, ADDR, LIST, NOW - DAY, tok,
	    sizeof(tok)) > 0);
	snprintf(path, sizeof(path), "/u/%s", tok);
	return 0;
}

/* run - one request through unsubd_handle with the fake store. */
static void
run(struct fake *f, int method, const char *p, const char *ctype,
    const char *body, struct unsubd_resp *r)
{
	struct unsubd_env env = { &ring, NOW, fake_record, f, NULL, 0 };
	struct unsubd_req req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = p;
	req.pathlen = strlen(p);
	req.ctype = ctype;
	req.body = body;
	req.bodylen = body != NULL ? strlen(body) : 0;
	req.nheaders = 5;
	unsubd_handle(&env, &req, r);
}

static int
parse(const char *ctype, const char *body, struct unsubd_form *f)
{
	return unsubd_form_parse(ctype, body, strlen(body), f);
}

static void
test_path(void **state)
{
	const char *t;
	size_t n;

	(void)state;
	assert_int_equal(unsubd_path_token("/u/abc", 6, &t, &n), 1);
	assert_int_equal(n, 3);
	assert_memory_equal(t, "abc", 3);
	assert_int_equal(unsubd_path_token("/u/abc?x=1", 10, &t, &n), 1);
	assert_int_equal(n, 3);
	assert_int_equal(unsubd_path_token("/u/a-b_C9", 9, &t, &n), 1);
	assert_int_equal(n, 6);
	/* Only one non-empty segment under /u/. */
	assert_int_equal(unsubd_path_token("/u/", 3, &t, &n), 0);
	assert_null(t);
	assert_int_equal(unsubd_path_token("/u", 2, &t, &n), 0);
	assert_int_equal(unsubd_path_token("/", 1, &t, &n), 0);
	assert_int_equal(unsubd_path_token("", 0, &t, &n), 0);
	assert_int_equal(unsubd_path_token("/u/abc/", 7, &t, &n), 0);
	assert_int_equal(unsubd_path_token("/u/a/b", 6, &t, &n), 0);
	assert_int_equal(unsubd_path_token("/U/abc", 6, &t, &n), 0);
	assert_int_equal(unsubd_path_token("/x/abc", 6, &t, &n), 0);
	assert_int_equal(unsubd_path_token("//u/abc", 7, &t, &n), 0);
	assert_int_equal(unsubd_path_token("/u/?abc", 7, &t, &n), 0);
	assert_int_equal(unsubd_path_token("/u/a\0b", 6, &t, &n), 0);
	assert_int_equal(unsubd_path_token(NULL, 0, &t, &n), 0);
	assert_int_equal(unsubd_method("GET"), UNSUBD_GET);
	assert_int_equal(unsubd_method("HEAD"), UNSUBD_HEAD);
	assert_int_equal(unsubd_method("POST"), UNSUBD_POST);
	assert_int_equal(unsubd_method("get"), UNSUBD_OTHER);
	assert_int_equal(unsubd_method("PUT"), UNSUBD_OTHER);
	assert_int_equal(unsubd_method(NULL), UNSUBD_OTHER);
}

static void
test_urlencoded(void **state)
{
	static const char *const ct = "application/x-www-form-urlencoded";
	struct unsubd_form f;

	(void)state;
	assert_int_equal(parse(ct, UL, &f), 0);
	assert_true(f.one_click);
	assert_false(f.all);
	assert_int_equal(parse(NULL, UL, &f), 0);	/* no type: a form */
	assert_true(f.one_click);
	assert_int_equal(parse("Application/X-WWW-Form-Urlencoded; "
	    "charset=UTF-8", UL "\r\n", &f), 0);
	assert_true(f.one_click);
	assert_int_equal(parse(ct, UL "&all=1", &f), 0);
	assert_true(f.one_click && f.all);
	assert_int_equal(parse(ct, "all=1&" UL, &f), 0);
	assert_true(f.one_click && f.all);
	assert_int_equal(parse(ct, "&&" UL "&&submit=Go&", &f), 0);
	assert_true(f.one_click);
	assert_false(f.all);
	assert_int_equal(parse(ct, "List%2DUnsubscribe=One%2dClick", &f), 0);
	assert_true(f.one_click);
	assert_int_equal(parse(ct, "list-unsubscribe=one-click", &f), 0);
	assert_true(f.one_click);
	assert_int_equal(parse(ct, "List-Unsubscribe=+One-Click+", &f), 0);
	assert_true(f.one_click);
	/* Not ours: no field, another value, all=0. */
	assert_int_equal(parse(ct, "", &f), 0);
	assert_false(f.one_click);
	assert_int_equal(parse(ct, "List-Unsubscribe=Yes", &f), 0);
	assert_false(f.one_click);
	assert_int_equal(parse(ct, "List-Unsubscribe", &f), 0);
	assert_false(f.one_click);
	assert_int_equal(parse(ct, "List-Unsubscribe=One-Click-Now", &f), 0);
	assert_false(f.one_click);
	assert_int_equal(parse(ct, UL "&all=0", &f), 0);
	assert_true(f.one_click);
	assert_false(f.all);
	assert_int_equal(parse(ct, "List-Unsubscribe=One%00Click", &f), 0);
	assert_false(f.one_click);
	/* Bad escapes anywhere make the body bad, and nothing is kept. */
	assert_int_equal(parse(ct, UL "&x=%zz", &f), -1);
	assert_false(f.one_click);
	assert_int_equal(parse(ct, UL "&x=%4", &f), -1);
	assert_int_equal(parse(ct, UL "&%=1", &f), -1);
	assert_int_equal(parse(ct, "%", &f), -1);
}

static void
test_urlencoded_long(void **state)
{
	static const char *const ct = "application/x-www-form-urlencoded";
	char body[UNSUBD_BODY_MAX + 2];
	struct unsubd_form f;

	(void)state;
	/* A long unknown field is skipped, ours still counts. */
	memset(body, 'x', 3000);
	memcpy(body, "junk=", 5);
	snprintf(body + 3000, sizeof(body) - 3000, "&" UL);
	assert_int_equal(parse(ct, body, &f), 0);
	assert_true(f.one_click);
	/* A value of ours padded past what we compare is not ours. */
	snprintf(body, sizeof(body), "List-Unsubscribe=One-Click%070d", 0);
	assert_int_equal(parse(ct, body, &f), 0);
	assert_false(f.one_click);
	/* Past the limit: refused whole. */
	memset(body, 'a', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	memcpy(body, UL "&", sizeof(UL));
	assert_int_equal(unsubd_form_parse(ct, body, UNSUBD_BODY_MAX + 1, &f),
	    -1);
	assert_false(f.one_click);
	assert_int_equal(unsubd_form_parse(ct, body, UNSUBD_BODY_MAX, &f), 0);
	assert_true(f.one_click);
	assert_int_equal(unsubd_form_parse(ct, NULL, 0, &f), 0);
	assert_int_equal(unsubd_form_parse(ct, NULL, 3, &f), -1);
}

static void
test_multipart(void **state)
{
	static const char *const ct = "multipart/form-data; boundary=XyZ";
	struct unsubd_form f;

	(void)state;
	/* As curl -F sends it. */
	assert_int_equal(parse("multipart/form-data; boundary="
	    "------------------------d74496d66958873e",
	    "--------------------------d74496d66958873e\r\n"
	    "Content-Disposition: form-data; name=\"List-Unsubscribe\"\r\n"
	    "\r\n"
	    "One-Click\r\n"
	    "--------------------------d74496d66958873e--\r\n", &f), 0);
	assert_true(f.one_click);
	assert_false(f.all);
	/* Two parts, LF only, a preamble, an epilogue, a quoted boundary. */
	assert_int_equal(parse("Multipart/Form-Data; charset=utf-8; "
	    "boundary=\"a b\\\"c\"",
	    "preamble\n--a b\"c\n"
	    "content-disposition: form-data; name=all\n"
	    "Content-Type: text/plain\n\n1\n"
	    "--a b\"c  \n"
	    "Content-Disposition: form-data; filename=\"x\"; "
	    "name=\"List-Unsubscribe\"\n\n"
	    "One-Click\n--a b\"c--\nepilogue", &f), 0);
	assert_true(f.one_click && f.all);
	/* An empty value, an unnamed part, then ours. */
	assert_int_equal(parse(ct, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"x\"\r\n\r\n\r\n--XyZ\r\nX-Other: 1\r\n\r\nOne-Click\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=List-Unsubscribe"
	    "\r\n\r\nOne-Click\r\n--XyZ--", &f), 0);
	assert_true(f.one_click);
	/* A line that only starts like the delimiter: malformed. */
	assert_int_equal(parse(ct, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZx\r\n"
	    "\r\n--XyZ--", &f), -1);
	assert_false(f.one_click);
	/* Malformed: no close, no boundary, no blank line, bad parameter. */
	assert_int_equal(parse(ct, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n", &f), -1);
	assert_false(f.one_click);
	assert_int_equal(parse(ct, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"List-Unsubscribe\"\r\nOne-Click\r\n--XyZ--", &f), -1);
	assert_int_equal(parse(ct, UL, &f), -1);
	assert_int_equal(parse(ct, "", &f), -1);
	assert_int_equal(parse(ct, "--XyZ", &f), -1);
	assert_int_equal(parse(ct, "--XyZ--", &f), 0);
	assert_false(f.one_click);
	assert_int_equal(parse(ct, "--XyZx\r\n\r\n--XyZ--", &f), -1);
	assert_int_equal(parse("multipart/form-data", "--\r\n\r\n----", &f), -1);
	assert_int_equal(parse("multipart/form-data; boundary=", "--\r\n", &f),
	    -1);
	assert_int_equal(parse("multipart/form-data; boundary=\"XyZ",
	    "--XyZ--", &f), -1);
	assert_int_equal(parse("multipart/form-data; boundary=" "0123456789"
	    "0123456789" "0123456789" "0123456789" "0123456789" "0123456789"
	    "0123456789" "0", "--x--", &f), -1);	/* 71 octets */
	assert_int_equal(parse("multipart/form-data; boundary=" "0123456789"
	    "0123456789" "0123456789" "0123456789" "0123456789" "0123456789"
	    "0123456789", "--" "0123456789" "0123456789" "0123456789"
	    "0123456789" "0123456789" "0123456789" "0123456789" "--", &f), 0);
}

static void
test_other_types(void **state)
{
	struct unsubd_form f;

	(void)state;
	assert_int_equal(parse("text/plain", UL, &f), -1);
	assert_false(f.one_click);
	assert_int_equal(parse("application/json", "{}", &f), -1);
	assert_int_equal(parse("multipart/mixed; boundary=x", "--x--", &f), -1);
	assert_int_equal(parse("application/x-www-form-urlencodedx", UL, &f),
	    -1);
	assert_int_equal(parse("", UL, &f), -1);
}

static void
test_limits(void **state)
{
	struct unsubd_env env = { &ring, NOW, fake_record, NULL, NULL, 0 };
	struct fake fk;
	struct unsubd_req req;
	struct unsubd_resp r;
	char longpath[UNSUBD_URL_MAX + 2];

	(void)state;
	memset(&fk, 0, sizeof(fk));
	env.arg = &fk;
	memset(&req, 0, sizeof(req));
	req.method = UNSUBD_POST;
	req.path = path;
	req.pathlen = strlen(path);
	req.body = UL;
	req.bodylen = strlen(UL);
	req.nheaders = UNSUBD_HEADERS_MAX;
	unsubd_handle(&env, &req, &r);
	assert_int_equal(r.status, 200);	/* at the limits: fine */
	req.nheaders = UNSUBD_HEADERS_MAX + 1;
	unsubd_handle(&env, &req, &r);
	assert_int_equal(r.status, 431);
	assert_int_equal(r.page, UNSUBD_P_TOOBIG);
	req.nheaders = 3;
	req.body_over = 1;
	unsubd_handle(&env, &req, &r);
	assert_int_equal(r.status, 413);
	assert_int_equal(r.page, UNSUBD_P_TOOBIG);
	req.body_over = 0;
	req.bodylen = UNSUBD_BODY_MAX + 1;
	unsubd_handle(&env, &req, &r);
	assert_int_equal(r.status, 413);
	req.bodylen = strlen(UL);
	memset(longpath, 'a', sizeof(longpath));
	memcpy(longpath, "/u/", 3);
	req.path = longpath;
	req.pathlen = UNSUBD_URL_MAX + 1;
	unsubd_handle(&env, &req, &r);
	assert_int_equal(r.status, 414);
	req.pathlen = UNSUBD_URL_MAX;
	unsubd_handle(&env, &req, &r);
	assert_int_equal(r.status, 400);	/* a bad token, not too long */
	assert_int_equal(r.page, UNSUBD_P_INVALID);
	/* A GET's body is not looked at. */
	req.method = UNSUBD_GET;
	req.path = path;
	req.pathlen = strlen(path);
	req.body_over = 1;
	unsubd_handle(&env, &req, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.page, UNSUBD_P_CONFIRM);
	assert_int_equal(fk.calls, 1);
}

static void
test_get_changes_nothing(void **state)
{
	struct fake fk;
	struct unsubd_resp r;

	(void)state;
	memset(&fk, 0, sizeof(fk));
	run(&fk, UNSUBD_GET, path, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.page, UNSUBD_P_CONFIRM);
	assert_string_equal(r.claims.addr, ADDR);
	assert_string_equal(r.claims.list, LIST);
	run(&fk, UNSUBD_HEAD, path, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.page, UNSUBD_P_CONFIRM);
	/* Even with a one-click body. */
	run(&fk, UNSUBD_GET, path, "application/x-www-form-urlencoded", UL, &r);
	assert_int_equal(r.page, UNSUBD_P_CONFIRM);
	assert_int_equal(fk.calls, 0);
}

static void
test_post_three_times(void **state)
{
	struct fake fk;
	struct unsubd_resp r;
	char first[UNSUBD_PAGE_MAX], page[UNSUBD_PAGE_MAX];

	(void)state;
	memset(&fk, 0, sizeof(fk));
	run(&fk, UNSUBD_POST, path, "application/x-www-form-urlencoded", UL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.page, UNSUBD_P_DONE);
	assert_true(r.changed);
	assert_false(r.all);
	assert_string_equal(fk.last.addr, ADDR);
	assert_string_equal(fk.last.list, LIST);
	assert_int_equal(fk.last_all, 0);
	assert_true(unsubd_page(&r, "Example", first, sizeof(first)) > 0);
	for (int i = 0; i < 2; i++) {
		run(&fk, UNSUBD_POST, path, "multipart/form-data; boundary=b",
		    "--b\r\nContent-Disposition: form-data; "
		    "name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n", &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.page, UNSUBD_P_DONE);
		assert_false(r.changed);
		assert_true(unsubd_page(&r, "Example", page, sizeof(page)) > 0);
		assert_string_equal(page, first);
	}
	assert_int_equal(fk.calls, 3);
	assert_int_equal(fk.changes, 1);
}

static void
test_post_all(void **state)
{
	struct fake fk;
	struct unsubd_resp r;

	(void)state;
	memset(&fk, 0, sizeof(fk));
	run(&fk, UNSUBD_POST, path, NULL, UL "&all=1", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.page, UNSUBD_P_DONE_ALL);
	assert_true(r.all);
	assert_int_equal(fk.last_all, 1);
	/* all alone is not a one-click request. */
	run(&fk, UNSUBD_POST, path, NULL, "all=1", &r);
	assert_int_equal(r.status, 400);
	assert_int_equal(r.page, UNSUBD_P_BADREQ);
	assert_int_equal(fk.calls, 1);
}

static void
test_post_bad_body(void **state)
{
	struct fake fk;
	struct unsubd_resp r;

	(void)state;
	memset(&fk, 0, sizeof(fk));
	run(&fk, UNSUBD_POST, path, NULL, "", &r);
	assert_int_equal(r.status, 400);
	assert_int_equal(r.page, UNSUBD_P_BADREQ);
	run(&fk, UNSUBD_POST, path, "text/plain", UL, &r);
	assert_int_equal(r.page, UNSUBD_P_BADREQ);
	run(&fk, UNSUBD_POST, path, NULL, UL "&%", &r);
	assert_int_equal(r.page, UNSUBD_P_BADREQ);
	run(&fk, UNSUBD_POST, path, "multipart/form-data; boundary=b", UL, &r);
	assert_int_equal(r.page, UNSUBD_P_BADREQ);
	/* The body is judged first: a bad one says nothing of the token. */
	run(&fk, UNSUBD_POST, "/u/garbage", NULL, "x=1", &r);
	assert_int_equal(r.page, UNSUBD_P_BADREQ);
	assert_string_equal(r.claims.addr, "");
	assert_int_equal(fk.calls, 0);
}

static void
test_store_fails(void **state)
{
	struct fake fk;
	struct unsubd_resp r;
	char page[UNSUBD_PAGE_MAX];

	(void)state;
	memset(&fk, 0, sizeof(fk));
	fk.fail = 1;
	run(&fk, UNSUBD_POST, path, NULL, UL, &r);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.page, UNSUBD_P_UNAVAILABLE);
	assert_false(r.changed);
	assert_true(unsubd_page(&r, "Example", page, sizeof(page)) > 0);
	assert_null(strstr(page, "unsubscribed"));
	assert_non_null(strstr(page, "nothing has"));
	assert_int_equal(fk.calls, 1);
}

static void
test_bad_tokens_alike(void **state)
{
	struct fake fk;
	struct unsubd_resp r;
	char p[TOKEN_MAX + 16], t[TOKEN_MAX], page[UNSUBD_PAGE_MAX];
	char first[UNSUBD_PAGE_MAX] = "";
	const char *paths[16];
	size_t n = 0, len = strlen(tok);
	static char b_forged[TOKEN_MAX + 8], b_expired[TOKEN_MAX + 8],
	    b_future[TOKEN_MAX + 8], b_flip[TOKEN_MAX + 8],
	    b_short[TOKEN_MAX + 8], b_long[TOKEN_MAX + 8], b_kid[TOKEN_MAX + 8];

	(void)state;
	memset(&fk, 0, sizeof(fk));
	assert_true(token_make(&other, ADDR, LIST, NOW, t, sizeof(t)) > 0);
	snprintf(b_forged, sizeof(b_forged), "/u/%s", t);
	assert_true(token_make(&ring, ADDR, LIST, NOW - 90 * DAY - 1, t,
	    sizeof(t)) > 0);
	snprintf(b_expired, sizeof(b_expired), "/u/%s", t);
	assert_true(token_make(&ring, ADDR, LIST, NOW + TOKEN_SKEW + 1, t,
	    sizeof(t)) > 0);
	snprintf(b_future, sizeof(b_future), "/u/%s", t);
	snprintf(b_flip, sizeof(b_flip), "/u/%s", tok);
	b_flip[3 + len / 2] = b_flip[3 + len / 2] == 'A' ? 'B' : 'A';
	snprintf(b_short, sizeof(b_short), "/u/%.*s", (int)len - 1, tok);
	snprintf(b_long, sizeof(b_long), "/u/%sA", tok);
	snprintf(b_kid, sizeof(b_kid), "/u/%s", tok);
	b_kid[3] = b_kid[3] == 'A' ? 'B' : 'A';	/* another key id */
	paths[n++] = b_forged;
	paths[n++] = b_expired;
	paths[n++] = b_future;
	paths[n++] = b_flip;
	paths[n++] = b_short;
	paths[n++] = b_long;
	paths[n++] = b_kid;
	paths[n++] = "/u/x";
	paths[n++] = "/u/%2e%2e";
	paths[n++] = "/u/!!!!";
	snprintf(p, sizeof(p), "/u/%s", tok);
	p[3 + 10] = '*';
	paths[n++] = p;
	for (size_t i = 0; i < n; i++) {
		for (int m = UNSUBD_GET; m <= UNSUBD_POST; m++) {
			run(&fk, m, paths[i], NULL, UL, &r);
			assert_int_equal(r.status, 400);
			assert_int_equal(r.page, UNSUBD_P_INVALID);
			assert_string_equal(r.claims.addr, "");
			assert_true(unsubd_page(&r, "Example", page,
			    sizeof(page)) > 0);
			if (first[0] == '\0')
				memcpy(first, page, sizeof(page));
			assert_string_equal(page, first);
		}
	}
	assert_int_equal(fk.calls, 0);
	/* The token at both ends of its life. */
	assert_true(token_make(&ring, ADDR, LIST, NOW - 90 * DAY, t,
	    sizeof(t)) > 0);
	snprintf(p, sizeof(p), "/u/%s", t);
	run(&fk, UNSUBD_GET, p, NULL, NULL, &r);
	assert_int_equal(r.page, UNSUBD_P_CONFIRM);
}

static void
test_not_found_method(void **state)
{
	struct fake fk;
	struct unsubd_resp r;

	(void)state;
	memset(&fk, 0, sizeof(fk));
	run(&fk, UNSUBD_GET, "/", NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.page, UNSUBD_P_NOTFOUND);
	run(&fk, UNSUBD_POST, "/favicon.ico", NULL, UL, &r);
	assert_int_equal(r.status, 404);
	run(&fk, UNSUBD_OTHER, "/elsewhere", NULL, NULL, &r);
	assert_int_equal(r.status, 404);	/* the path first */
	run(&fk, UNSUBD_OTHER, path, NULL, UL, &r);
	assert_int_equal(r.status, 405);
	assert_int_equal(r.page, UNSUBD_P_METHOD);
	run(&fk, UNSUBD_OTHER, "/u/bad", NULL, NULL, &r);
	assert_int_equal(r.status, 405);
	assert_int_equal(fk.calls, 0);
}

/* framing - the status for header fields given as name, value pairs. */
static int
framing(int http10, ...)
{
	struct unsubd_framing f;
	const char *name, *value;
	va_list ap;

	memset(&f, 0, sizeof(f));
	va_start(ap, http10);
	while ((name = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		unsubd_framing_add(&f, name, value);
	}
	va_end(ap);
	return unsubd_framing_status(&f, http10);
}

static void
test_framing(void **state)
{
	struct unsubd_env env = { &ring, NOW, fake_record, NULL, NULL, 0 };
	struct unsubd_framing f;
	struct fake fk;
	struct unsubd_req req;
	struct unsubd_resp r;
	char page[UNSUBD_PAGE_MAX];

	(void)state;
	/* One length, however it is told. */
	assert_int_equal(framing(0, NULL), 0);
	assert_int_equal(framing(0, "Content-Length", "26", NULL), 0);
	assert_int_equal(framing(1, "content-length", " 26 ", NULL), 0);
	assert_int_equal(framing(0, "Content-Length", "5", "Content-Length",
	    "5", NULL), 0);
	assert_int_equal(framing(0, "Content-Length", "5, 5", NULL), 0);
	assert_int_equal(framing(0, "Content-Length", "5", "Content-Length",
	    "005,5", NULL), 0);
	assert_int_equal(framing(0, "Transfer-Encoding", "chunked", NULL), 0);
	assert_int_equal(framing(0, "transfer-encoding", " Chunked ", NULL), 0);
	assert_int_equal(framing(0, "Transfer-Encoding", ", chunked,", NULL),
	    0);
	assert_int_equal(framing(0, "X-Length", "1", "Content-Type", "x",
	    "Content-Length", "1", NULL), 0);
	memset(&f, 0, sizeof(f));
	unsubd_framing_add(&f, "Content-Length", "0026");
	unsubd_framing_add(&f, NULL, "3");
	assert_int_equal(f.ncl, 1);
	assert_true(f.cl == 26);

	/* Two lengths, or none that is a number: 400 (RFC 9112 6.3). */
	assert_int_equal(framing(0, "Content-Length", "26", "Content-Length",
	    "5", NULL), 400);
	assert_int_equal(framing(0, "Content-Length", "5", "Content-Length",
	    "26", NULL), 400);
	assert_int_equal(framing(0, "Content-Length", "5, 6", NULL), 400);
	assert_int_equal(framing(0, "Content-Length", "5,", NULL), 400);
	assert_int_equal(framing(0, "Content-Length", "", NULL), 400);
	assert_int_equal(framing(0, "Content-Length", NULL, NULL), 400);
	assert_int_equal(framing(0, "Content-Length", "+5", NULL), 400);
	assert_int_equal(framing(0, "Content-Length", "-1", NULL), 400);
	assert_int_equal(framing(0, "Content-Length", "0x10", NULL), 400);
	assert_int_equal(framing(0, "Content-Length", "5 5", NULL), 400);
	assert_int_equal(framing(0, "Content-Length", "12345678901234567890",
	    NULL), 400);
	assert_int_equal(framing(0, "Content-Length",
	    "00000000000000000000000001", NULL), 0);

	/* Transfer-Encoding with a length, in HTTP/1.0, or empty: 400. */
	assert_int_equal(framing(0, "Transfer-Encoding", "chunked",
	    "Content-Length", "5", NULL), 400);
	assert_int_equal(framing(0, "Content-Length", "5", "Transfer-Encoding",
	    "xchunked", NULL), 400);
	assert_int_equal(framing(1, "Transfer-Encoding", "chunked", NULL), 400);
	assert_int_equal(framing(0, "Transfer-Encoding", "", NULL), 400);
	assert_int_equal(framing(0, "Transfer-Encoding", " , ", NULL), 400);
	assert_int_equal(framing(0, "Transfer-Encoding", "chunked",
	    "Transfer-Encoding", "chunked", NULL), 400);
	/* A coding we do not have: 501 (RFC 9112 6.1). */
	assert_int_equal(framing(0, "Transfer-Encoding", "xchunked", NULL),
	    501);
	assert_int_equal(framing(0, "Transfer-Encoding", "gzip, chunked",
	    NULL), 501);
	assert_int_equal(framing(0, "Transfer-Encoding", "chunked;x=1", NULL),
	    501);
	assert_int_equal(framing(0, "Transfer-Encoding", "identity", NULL),
	    501);

	/* The decision: first, before the path, the method or the body. */
	memset(&fk, 0, sizeof(fk));
	env.arg = &fk;
	memset(&req, 0, sizeof(req));
	req.method = UNSUBD_POST;
	req.path = path;
	req.pathlen = strlen(path);
	req.body = UL;
	req.bodylen = strlen(UL);
	req.framing = 400;
	unsubd_handle(&env, &req, &r);
	assert_int_equal(r.status, 400);
	assert_int_equal(r.page, UNSUBD_P_FRAMING);
	req.framing = 501;
	req.path = "/elsewhere";
	req.pathlen = strlen(req.path);
	req.method = UNSUBD_OTHER;
	unsubd_handle(&env, &req, &r);
	assert_int_equal(r.status, 501);
	assert_int_equal(r.page, UNSUBD_P_FRAMING);
	assert_int_equal(fk.calls, 0);
	assert_true(unsubd_page(&r, "x", page, sizeof(page)) > 0);
	assert_non_null(strstr(page, "not clear"));
}

/* fake_confirm - the confirmation store stand-in: refuses when told to. */
static int
fake_confirm(void *arg, const struct token_claims *c)
{
	struct fake *f = arg;

	f->calls++;
	f->last = *c;
	if (f->fail)
		return -1;
	if (f->last_all)	/* here: "the person left since" */
		return OPTIN_REFUSED;
	if (f->unsub)		/* here: confirmed already */
		return OPTIN_ALREADY;
	f->unsub = 1;
	f->changes++;
	return OPTIN_CONFIRMED;
}

/* run_c - a request to the double opt-in side. */
static void
run_c(struct fake *f, int method, const char *p, const char *body,
    struct unsubd_resp *r)
{
	struct unsubd_env env = { &ring, NOW, fake_record, f, fake_confirm,
	    7 * DAY };
	struct unsubd_req req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = p;
	req.pathlen = strlen(p);
	req.body = body;
	req.bodylen = body != NULL ? strlen(body) : 0;
	unsubd_handle(&env, &req, r);
}

static void
test_confirm(void **state)
{
	struct fake fk;
	struct unsubd_resp r;
	char ctok[TOKEN_MAX], cpath[TOKEN_MAX + 8], page[UNSUBD_PAGE_MAX];
	char bad[UNSUBD_PAGE_MAX], bad2[UNSUBD_PAGE_MAX];

	(void)state;
	memset(&fk, 0, sizeof(fk));
	assert_true(token_make_for(&ring, TOKEN_CONFIRM, ADDR, LIST, NOW - DAY,
	    ctok, sizeof(ctok)) > 0);
	snprintf(cpath, sizeof(cpath), "/c/%s", ctok);
	/* Without a confirm callback /c/ is not served. */
	run(&fk, UNSUBD_GET, cpath, NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	/* GET and HEAD: the page, no change. */
	run_c(&fk, UNSUBD_GET, cpath, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.page, UNSUBD_P_OPTIN);
	assert_string_equal(r.claims.addr, ADDR);
	run_c(&fk, UNSUBD_HEAD, cpath, "confirm=yes", &r);
	assert_int_equal(r.page, UNSUBD_P_OPTIN);
	assert_int_equal(fk.calls, 0);
	assert_true(unsubd_page(&r, "Example", page, sizeof(page)) > 0);
	assert_non_null(strstr(page, "name=\"confirm\" value=\"yes\""));
	/* A POST needs the field. */
	run_c(&fk, UNSUBD_POST, cpath, "List-Unsubscribe=One-Click", &r);
	assert_int_equal(r.status, 400);
	assert_int_equal(r.page, UNSUBD_P_BADREQ);
	assert_int_equal(fk.calls, 0);
	/* Confirmed once; replays change nothing. */
	run_c(&fk, UNSUBD_POST, cpath, "confirm=yes", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.page, UNSUBD_P_OPTIN_DONE);
	assert_true(r.changed);
	run_c(&fk, UNSUBD_POST, cpath, "confirm=yes", &r);
	assert_int_equal(r.page, UNSUBD_P_OPTIN_DONE);
	assert_false(r.changed);
	assert_int_equal(fk.changes, 1);
	/* Refused: the person left since. */
	fk.last_all = 1;
	run_c(&fk, UNSUBD_POST, cpath, "confirm=yes", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.page, UNSUBD_P_OPTIN_REFUSED);
	fk.last_all = 0;
	fk.fail = 1;
	run_c(&fk, UNSUBD_POST, cpath, "confirm=yes", &r);
	assert_int_equal(r.status, 503);
	fk.fail = 0;
	/* The purposes never mix, and every bad token gets one page. */
	run_c(&fk, UNSUBD_POST, path + 0, "confirm=yes", &r);
	assert_int_equal(r.page, UNSUBD_P_BADREQ);	/* /u/ needs one-click */
	snprintf(cpath, sizeof(cpath), "/c/%s", tok);	/* unsubscribe token */
	run_c(&fk, UNSUBD_POST, cpath, "confirm=yes", &r);
	assert_int_equal(r.status, 400);
	assert_int_equal(r.page, UNSUBD_P_OPTIN_INVALID);
	assert_true(unsubd_page(&r, "Example", bad, sizeof(bad)) > 0);
	run_c(&fk, UNSUBD_POST, "/c/AAAAAAAAAAAAAAAAAAAAAAAA", "confirm=yes", &r);
	assert_int_equal(r.page, UNSUBD_P_OPTIN_INVALID);
	assert_true(unsubd_page(&r, "Example", bad2, sizeof(bad2)) > 0);
	assert_string_equal(bad, bad2);
	snprintf(cpath, sizeof(cpath), "/u/%s", ctok);	/* confirm token at /u/ */
	run_c(&fk, UNSUBD_POST, cpath, UL, &r);
	assert_int_equal(r.page, UNSUBD_P_INVALID);
	/* Expired: a week and a day old. */
	assert_true(token_make_for(&ring, TOKEN_CONFIRM, ADDR, LIST, NOW -
	    8 * DAY, ctok, sizeof(ctok)) > 0);
	snprintf(cpath, sizeof(cpath), "/c/%s", ctok);
	run_c(&fk, UNSUBD_GET, cpath, NULL, &r);
	assert_int_equal(r.page, UNSUBD_P_OPTIN_INVALID);
	assert_int_equal(fk.changes, 1);
	/* unsubd_path tells the two apart. */
	{
		const char *t;
		size_t tl;

		assert_int_equal(unsubd_path("/c/x?y", 6, &t, &tl),
		    UNSUBD_PATH_CONFIRM);
		assert_int_equal(tl, 1);
		assert_int_equal(unsubd_path("/c/", 3, &t, &tl), UNSUBD_PATH_NONE);
		assert_int_equal(unsubd_path("/c/a/b", 6, &t, &tl),
		    UNSUBD_PATH_NONE);
		assert_int_equal(unsubd_path_token("/c/x", 4, &t, &tl), 0);
	}
}

static void
test_pages(void **state)
{
	char org[128], page[UNSUBD_PAGE_MAX], small[64];
	struct unsubd_resp r;

	(void)state;
	/* The worst organisation: every octet escaped. */
	memset(org, '"', sizeof(org) - 1);
	org[sizeof(org) - 1] = '\0';
	memset(&r, 0, sizeof(r));
	memset(r.claims.list, 'l', REC_LIST_MAX);
	for (int p = 0; p < UNSUBD_P_MAX_; p++) {
		int n;

		r.page = p;
		n = unsubd_page(&r, org, page, sizeof(page));
		assert_true(n > 0);
		assert_int_equal((size_t)n, strlen(page));
		assert_non_null(strstr(page, unsubd_page_title(p)));
		assert_null(strstr(page, "<script"));
		assert_null(strstr(page, "src="));
		assert_null(strstr(page, "href="));
		assert_null(strstr(page, "http"));
		assert_null(strstr(page, "\"\""));
		assert_null(strstr(page, "action="));
	}
	/* Escaped, and a control character is U+FFFD (util/enc.h). */
	memset(&r, 0, sizeof(r));
	r.page = UNSUBD_P_CONFIRM;
	strcpy(r.claims.list, "news");
	assert_true(unsubd_page(&r, "<b>A&B's \"x\"\n", page, sizeof(page)) > 0);
	assert_non_null(strstr(page, "&lt;b&gt;A&amp;B&#39;s &quot;x&quot;&#xfffd;"));
	assert_null(strstr(page, "<b>A"));
	assert_non_null(strstr(page, "name=\"List-Unsubscribe\" "
	    "value=\"One-Click\""));
	assert_non_null(strstr(page, "name=\"all\" value=\"1\""));
	assert_non_null(strstr(page, "method=\"post\""));
	r.page = UNSUBD_P_DONE;
	assert_true(unsubd_page(&r, NULL, page, sizeof(page)) > 0);
	assert_non_null(strstr(page, "<b>news</b>"));
	/* Too small, or no such page. */
	assert_int_equal(unsubd_page(&r, "x", small, sizeof(small)), -1);
	assert_string_equal(small, "");
	r.page = UNSUBD_P_MAX_;
	assert_int_equal(unsubd_page(&r, "x", page, sizeof(page)), -1);
	r.page = -1;
	assert_int_equal(unsubd_page(&r, "x", page, sizeof(page)), -1);
	assert_string_equal(unsubd_page_title(99), "?");
}

static void
test_client_ip(void **state)
{
	char out[REC_IP_MAX + 1], err[256];
	const char *tr = "127.0.0.1 ::1, 10.0.0.0/8\t2001:db8::/32";

	(void)state;
	assert_int_equal(unsubd_trusted_check(tr, err, sizeof(err)), 0);
	assert_int_equal(unsubd_trusted_check("", err, sizeof(err)), 0);
	assert_int_equal(unsubd_trusted_check(" , ", err, sizeof(err)), 0);
	assert_int_equal(unsubd_trusted_check("::ffff:10.0.0.0/104", err,
	    sizeof(err)), 0);
	assert_int_equal(unsubd_trusted_check("127.0.0.1 localhost", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "\"localhost\""));
	assert_int_equal(unsubd_trusted_check("10.0.0.0/33", err,
	    sizeof(err)), -1);
	assert_int_equal(unsubd_trusted_check("10.0.0.0/", err, sizeof(err)),
	    -1);
	assert_int_equal(unsubd_trusted_check("10.0.0.0/-1", err,
	    sizeof(err)), -1);
	assert_int_equal(unsubd_trusted_check("::/129", err, sizeof(err)), -1);

	/* Which peers are proxies. */
	assert_int_equal(unsubd_trusted_match("10.1.2.3", tr), 1);
	assert_int_equal(unsubd_trusted_match("::ffff:127.0.0.1", tr), 1);
	assert_int_equal(unsubd_trusted_match("2001:db8:ffff::1", tr), 1);
	assert_int_equal(unsubd_trusted_match("127.0.0.2", tr), 0);
	assert_int_equal(unsubd_trusted_match("127.0.0.1", ""), 0);
	assert_int_equal(unsubd_trusted_match("127.0.0.1", NULL), 0);
	assert_int_equal(unsubd_trusted_match("localhost", tr), -1);
	assert_int_equal(unsubd_trusted_match(NULL, tr), -1);

	/* Untrusted peers: their own address, whatever they claim. */
	assert_int_equal(unsubd_client_ip("192.0.2.7", tr, "203.0.113.9", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "192.0.2.7");
	assert_int_equal(unsubd_client_ip("11.0.0.1", tr, "203.0.113.9", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "11.0.0.1");
	/* Trusted: the last entry, which our proxy wrote. */
	assert_int_equal(unsubd_client_ip("127.0.0.1", tr,
	    "198.51.100.1, 203.0.113.9", out, sizeof(out)), 1);
	assert_string_equal(out, "203.0.113.9");
	assert_int_equal(unsubd_client_ip("10.9.8.7", tr, " 203.0.113.9 ",
	    out, sizeof(out)), 1);
	assert_string_equal(out, "203.0.113.9");
	assert_int_equal(unsubd_client_ip("::ffff:127.0.0.1", tr,
	    "2001:DB8:0::5", out, sizeof(out)), 1);
	assert_string_equal(out, "2001:db8::5");
	assert_int_equal(unsubd_client_ip("2001:db8:1::1", tr, "[2001:db8::7]",
	    out, sizeof(out)), 1);
	assert_string_equal(out, "2001:db8::7");
	assert_int_equal(unsubd_client_ip("::1", tr, "::ffff:192.0.2.1", out,
	    sizeof(out)), 1);
	assert_string_equal(out, "192.0.2.1");
	/* Trusted, but no usable entry: the peer. */
	assert_int_equal(unsubd_client_ip("127.0.0.1", tr, NULL, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "127.0.0.1");
	assert_int_equal(unsubd_client_ip("127.0.0.1", tr, "unknown", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "127.0.0.1");
	assert_int_equal(unsubd_client_ip("127.0.0.1", tr, "1.2.3.4:5678",
	    out, sizeof(out)), 0);
	assert_int_equal(unsubd_client_ip("127.0.0.1", tr, "1.2.3.4 x", out,
	    sizeof(out)), 0);
	assert_int_equal(unsubd_client_ip("127.0.0.1", tr, "1.2.3.4,", out,
	    sizeof(out)), 0);
	assert_int_equal(unsubd_client_ip("127.0.0.1", tr, "", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "127.0.0.1");
	assert_int_equal(unsubd_client_ip("127.0.0.1", "", "1.2.3.4", out,
	    sizeof(out)), 0);
	/* No peer address. */
	assert_int_equal(unsubd_client_ip("", tr, "1.2.3.4", out, sizeof(out)),
	    -1);
	assert_string_equal(out, "");
	assert_int_equal(unsubd_client_ip(NULL, tr, "1.2.3.4", out,
	    sizeof(out)), -1);
	assert_int_equal(unsubd_client_ip("127.0.0.1", tr, "1.2.3.4", out, 4),
	    -1);
}

static void
test_sockaddr(void **state)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_un sun;
	char out[REC_IP_MAX + 1];

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.33", &sin.sin_addr);
	assert_int_equal(unsubd_sockaddr_ip((struct sockaddr *)&sin, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "192.0.2.33");
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.34", &sin6.sin6_addr);
	assert_int_equal(unsubd_sockaddr_ip((struct sockaddr *)&sin6, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "192.0.2.34");
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	assert_int_equal(unsubd_sockaddr_ip((struct sockaddr *)&sin6, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "2001:db8::1");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_int_equal(unsubd_sockaddr_ip((struct sockaddr *)&sun, out,
	    sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(unsubd_sockaddr_ip(NULL, out, sizeof(out)), -1);
}

static void
test_listen(void **state)
{
	static const char *const bad[] = {
		"", "8025", ":8025", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x",
		"127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x",
		"localhost:8025", "::1:8025", "[::1]", "[::1]8025", "[::1:8025",
		"[127.0.0.1]:8025", "1.2.3:80", NULL
	};
	struct sockaddr_storage ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
	socklen_t sl;
	char err[256];

	(void)state;
	assert_int_equal(unsubd_listen_parse("127.0.0.1:8025", &ss, &sl, err,
	    sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(sl, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(sin->sin_port), 8025);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(unsubd_listen_parse("[::1]:443", &ss, &sl, err,
	    sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(sl, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(sin6->sin6_port), 443);
	assert_int_equal(unsubd_listen_parse("0.0.0.0:0", &ss, &sl, err,
	    sizeof(err)), 0);
	for (int i = 0; bad[i] != NULL; i++) {
		err[0] = '\0';
		if (unsubd_listen_parse(bad[i], &ss, &sl, err, sizeof(err)) != -1)
			fail_msg("listen \"%s\" accepted", bad[i]);
		assert_non_null(strstr(err, "ADDRESS:PORT"));
		assert_int_equal(sl, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_urlencoded),
		cmocka_unit_test(test_urlencoded_long),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_get_changes_nothing),
		cmocka_unit_test(test_post_three_times),
		cmocka_unit_test(test_post_all),
		cmocka_unit_test(test_post_bad_body),
		cmocka_unit_test(test_store_fails),
		cmocka_unit_test(test_bad_tokens_alike),
		cmocka_unit_test(test_not_found_method),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_confirm),
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_client_ip),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_listen),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
