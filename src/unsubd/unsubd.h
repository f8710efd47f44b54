/*
 * unsubd.h - consent-unsubd's request handling, without a socket: the
 * path to a token, the RFC 8058 form body (urlencoded or multipart), the
 * decision (status and page), the pages themselves, the client's address
 * for the evidence and the listen address.  consent-unsubd.c is the
 * libmicrohttpd glue around it; the unit tests and the fuzzer call it
 * directly.
 *
 *   GET|HEAD /u/TOKEN   200 a page with the confirm buttons; no change
 *                       (link scanners prefetch GETs)
 *   POST /u/TOKEN       List-Unsubscribe=One-Click [&all=1]: 200, the
 *                       unsubscribe recorded (once, however many POSTs)
 *   any bad token       400, the same page whatever was wrong with it
 *   an unsure length    400 or 501 before the body: Content-Length fields
 *                       that differ, Transfer-Encoding with one, or a
 *                       coding but chunked (request smuggling)
 *   store unwritable    503 + Retry-After, nothing claimed
 *
 *   GET|HEAD /c/TOKEN   200 the double opt-in page with its confirm
 *                       button; no change (scanners never consent)
 *   POST /c/TOKEN       confirm=yes: 200, "confirmed" recorded with the
 *                       click's time and address (once); refused when
 *                       nothing is pending or the person left since
 *   any bad /c/ token   400, one page whatever was wrong (forged,
 *                       altered, expired, of the unsubscribe purpose)
 */
#ifndef UNSUBD_H
#define UNSUBD_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "core/token.h"

#define UNSUBD_BODY_MAX		4096	/* octets of a POST body */
#define UNSUBD_URL_MAX		1024	/* octets of the path */
#define UNSUBD_HEADERS_MAX	32	/* request header fields */
#define UNSUBD_PAGE_MAX		4096	/* octets of any page */
#define UNSUBD_RETRY_AFTER	"120"	/* seconds, with a 503 */
#define UNSUBD_ALLOW		"GET, HEAD, POST"	/* with a 405 */
#define UNSUBD_PREFIX		"/u/"
#define UNSUBD_CONFIRM_PREFIX	"/c/"

/* unsubd_path() results */
#define UNSUBD_PATH_NONE	0	/* not ours: 404 */
#define UNSUBD_PATH_UNSUB	1	/* /u/TOKEN */
#define UNSUBD_PATH_CONFIRM	2	/* /c/TOKEN */

enum unsubd_method {
	UNSUBD_GET,
	UNSUBD_HEAD,
	UNSUBD_POST,
	UNSUBD_OTHER
};

enum unsubd_page {
	UNSUBD_P_CONFIRM,	/* 200: the buttons */
	UNSUBD_P_DONE,		/* 200: off the token's list */
	UNSUBD_P_DONE_ALL,	/* 200: off every list */
	UNSUBD_P_BADREQ,	/* 400: a POST that is not a one-click form */
	UNSUBD_P_INVALID,	/* 400: any bad token, reason untold */
	UNSUBD_P_NOTFOUND,	/* 404 */
	UNSUBD_P_METHOD,	/* 405, with Allow */
	UNSUBD_P_TOOBIG,	/* 413 body, 414 path, 431 headers */
	UNSUBD_P_UNAVAILABLE,	/* 503, with Retry-After */
	UNSUBD_P_FRAMING,	/* 400, 501: the body's length is not sure */
	UNSUBD_P_OPTIN,		/* 200: the double opt-in confirm button */
	UNSUBD_P_OPTIN_DONE,	/* 200: confirmed (or confirmed before) */
	UNSUBD_P_OPTIN_REFUSED,	/* 200: nothing to confirm, or they left */
	UNSUBD_P_OPTIN_INVALID,	/* 400: any bad confirmation token */
	UNSUBD_P_MAX_
};

/* A request as the glue saw it; the pointers are the caller's. */
struct unsubd_req {
	int	method;			/* enum unsubd_method */
	const char *path;		/* without the query */
	size_t	pathlen;
	const char *ctype;		/* Content-Type, or NULL */
	const char *body;
	size_t	bodylen;
	unsigned nheaders;
	int	body_over;		/* more than UNSUBD_BODY_MAX was sent */
	int	framing;		/* unsubd_framing_status, 0 if sure */
};

/*
 * What the header fields say of the body's length (RFC 9112 6): each
 * Content-Length and Transfer-Encoding field, fed by unsubd_framing_add.
 * Zero it first.
 */
struct unsubd_framing {
	unsigned ncl;			/* Content-Length fields */
	unsigned nte;			/* Transfer-Encoding fields */
	int	cl_bad;			/* a value not a number, or two differ */
	uint64_t cl;			/* the first value */
	unsigned codings;		/* transfer codings named */
	unsigned chunked;		/* of which "chunked" */
};

/* The fields of a one-click form. */
struct unsubd_form {
	int	one_click;		/* List-Unsubscribe=One-Click */
	int	all;			/* all=1: every list */
	int	confirm;		/* confirm=yes: a double opt-in click */
};

/*
 * What unsubd_handle needs from its caller: the keys, the time, and the
 * store write.  record is called once per valid one-click POST, with the
 * verified claims; it returns 1 changed, 0 already so, -1 not recorded.
 */
struct unsubd_env {
	const struct token_ring *ring;
	int64_t	now;
	int	(*record)(void *arg, const struct token_claims *c, int all);
	void	*arg;
	/*
	 * confirm: called once per valid confirmation POST; returns
	 * OPTIN_CONFIRMED, OPTIN_ALREADY, OPTIN_REFUSED (core/optin.h) or -1
	 * not recorded.  NULL: /c/ is not served (404).  confirm_lifetime:
	 * how long a confirmation link works (optin.lifetime).
	 */
	int	(*confirm)(void *arg, const struct token_claims *c);
	int64_t	confirm_lifetime;
};

struct unsubd_resp {
	int	status;			/* HTTP status */
	int	page;			/* enum unsubd_page */
	int	changed;		/* POST: 1 the store changed, 0 not */
	int	all;			/* POST: every list was asked for */
	struct token_claims claims;	/* a valid token's, else zeroed */
};

/* unsubd_method - the method name as enum unsubd_method. */
int	unsubd_method(const char *name);

/*
 * unsubd_path - which endpoint path (len octets, a query cut off) names:
 * UNSUBD_PATH_UNSUB for "/u/TOKEN", UNSUBD_PATH_CONFIRM for "/c/TOKEN"
 * (TOKEN one non-empty segment: *tok, *toklen point into path), else
 * UNSUBD_PATH_NONE.  TOKEN is not checked.
 */
int	unsubd_path(const char *path, size_t len, const char **tok,
	    size_t *toklen);

/*
 * unsubd_path_token - 1 if path (len octets, a query cut off) is
 * "/u/TOKEN" with TOKEN one non-empty segment: *tok, *toklen point
 * into path.  0 for any other path (a 404).  TOKEN is not checked.
 */
int	unsubd_path_token(const char *path, size_t len, const char **tok,
	    size_t *toklen);

/*
 * unsubd_form_parse - the fields of a POST body: ctype is the
 * Content-Type (NULL: urlencoded), application/x-www-form-urlencoded or
 * multipart/form-data with its boundary.  Unknown fields are ignored.
 * Returns 0, or -1 for another type or a malformed body.
 */
int	unsubd_form_parse(const char *ctype, const char *body, size_t len,
	    struct unsubd_form *f);

/*
 * unsubd_framing_add - note one header field: Content-Length (a list of
 * equal numbers is one number, RFC 9110 8.6) or Transfer-Encoding; any
 * other name is ignored.
 */
void	unsubd_framing_add(struct unsubd_framing *f, const char *name,
	    const char *value);

/*
 * unsubd_framing_status - 0 if f gives the body one sure length, else
 * the status to answer before reading it (RFC 9112 6.1, 6.3): 400 for
 * Content-Length values that differ or are not numbers, and for a
 * Transfer-Encoding with a Content-Length, in HTTP/1.0 (http10), with
 * no coding or with chunked twice; 501 for a coding other than chunked.
 */
int	unsubd_framing_status(const struct unsubd_framing *f, int http10);

/* unsubd_handle - the decision for req, recording through env; fills r. */
void	unsubd_handle(const struct unsubd_env *env, const struct unsubd_req *req,
	    struct unsubd_resp *r);

/*
 * unsubd_page - r's page as self-contained HTML into out: org (the
 * organisation) and the list HTML-escaped, no script, no external
 * resource.  Returns the length, or -1 if out is too small
 * (UNSUBD_PAGE_MAX always suffices).
 */
int	unsubd_page(const struct unsubd_resp *r, const char *org, char *out,
	    size_t outlen);

/* unsubd_page_title - the short title of a page, for logs and tests. */
const char *unsubd_page_title(int page);

/*
 * unsubd_trusted_check - 0 if list is blank- or comma-separated IP
 * addresses and prefixes ("127.0.0.1 ::1 10.0.0.0/8"), -1 with err.
 */
int	unsubd_trusted_check(const char *list, char *err, size_t errlen);

/*
 * unsubd_trusted_match - 1 if the address peer is one of trusted (as
 * unsubd_trusted_check accepts it), 0 if not, -1 if peer is no address.
 */
int	unsubd_trusted_match(const char *peer, const char *trusted);

/*
 * unsubd_client_ip - the client's address for the evidence into out
 * (at least REC_IP_MAX + 1 octets): the peer's, or, when the peer is one
 * of trusted, the last entry of xff (X-Forwarded-For, may be NULL) if
 * that is an IP address.  Returns 1 from xff, 0 the peer's, -1 if peer
 * is not an address (out is then "").
 */
int	unsubd_client_ip(const char *peer, const char *trusted, const char *xff,
	    char *out, size_t outlen);

/* unsubd_sockaddr_ip - a socket address as text, a v4-mapped one as v4. */
int	unsubd_sockaddr_ip(const struct sockaddr *sa, char *out, size_t outlen);

/*
 * unsubd_listen_parse - "127.0.0.1:8025" or "[::1]:8025" (port 0: any)
 * into ss and *sslen.  0, or -1 with err.
 */
int	unsubd_listen_parse(const char *spec, struct sockaddr_storage *ss,
	    socklen_t *sslen, char *err, size_t errlen);

#endif
