/*
 * consent-unsubd.c - the one-click unsubscribe endpoint (RFC 8058): the
 * libmicrohttpd glue around unsubd.c, configuration, privileges,
 * readiness, signals.  One internal polling thread (epoll, where there is
 * one) answers every request, so store writes never run side by side;
 * this thread opens the store, waits for signals, swaps the
 * configuration and closes connections past the request deadline.
 *
 * Slow clients: libmicrohttpd's timeout is an idle one, so a client that
 * sends an octet a second holds its connection for good.  Each connection
 * is in a conntab from accept to close: a request not complete within
 * unsubscribe.request_timeout of its start is shut down, and a client
 * (not a trusted proxy, which carries many) may hold at most
 * unsubscribe.max_per_client connections.
 *
 *   SIGTERM, SIGINT  stop accepting, let requests in flight finish, exit
 *   SIGUSR1, SIGHUP  reload the configuration and the keys (the store,
 *                    listen address, TLS files, user and max_connections
 *                    need a restart)
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>
#include <systemd/sd-daemon.h>

#include "core/audit.h"
#include "core/config.h"
#include "core/keyring.h"
#include "core/optin.h"
#include "core/optout.h"
#include "core/store.h"
#include "unsubd/guard.h"
#include "unsubd/umetrics.h"
#include "unsubd/unsubd.h"
#include "util/daemon.h"
#include "util/log.h"
#include "util/snap.h"
#include "util/util.h"

#define CONN_TIMEOUT	10	/* seconds a connection may idle */
#define MHD_LOG_BURST	10	/* libmicrohttpd messages logged a second */
#define CONN_MEMORY	(16 * 1024)	/* MHD's per-connection pool */
#define SKIP_MAX	(64 * 1024)	/* of a chunked body past the limit */
#define STOP_GRACE	3	/* seconds for requests in flight at SIGTERM */
#define TLS_FILE_MAX	(1024 * 1024)
#define TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define CSP		"default-src 'none'; style-src 'unsafe-inline'; " \
			"form-action 'self'; frame-ancestors 'none'; " \
			"base-uri 'none'"

/*
 * A configuration and its keys, swapped whole on reload.  A request
 * holds a reference, so a reload never frees what it is reading.
 */
struct snap {
	struct config cf;
	struct token_ring ring;
	int	pseudo;			/* log the audit pseudonym, not the address */
	unsigned char pkey[AUDIT_KEY_BYTES];
};

/* One request's state, from its first callback to its completion. */
struct conn {
	int	method;			/* enum unsubd_method */
	unsigned nheaders;
	int	framing;		/* unsubd_framing_status */
	int	over;			/* the body is past the limit */
	int	answered;
	size_t	len;
	size_t	skipped;		/* octets past the limit, not kept */
	char	body[UNSUBD_BODY_MAX];
};

/* What the store write needs, for unsubd_handle's callback. */
struct rec {
	struct store *st;
	const struct sync_conf *sync;	/* the snapshot's: fleet or local */
	const char *ip;
	int64_t	now;
	char	err[512];
};

static struct snap_slot g_slot = SNAP_SLOT_INIT;	/* the current snap */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store *g_store;		/* guarded by g_lock; NULL until open */


static int ready_sent;

/* version - the -V line. */
static void
version(void)
{
	printf("consent-unsubd %s (libmicrohttpd %s)\n", VERSION,
	    MHD_get_version());
}

/* snap_fini - wipe the keys of a snapshot about to be freed. */
static void
snap_fini(void *obj)
{
	struct snap *s = obj;

	token_wipe(&s->ring);
	sodium_memzero(s->pkey, sizeof(s->pkey));
}

/* snap_now - the current snapshot, held (snap_release it), and the store. */
static struct snap *
snap_now(struct store **st)
{
	struct snap *s = snap_get(&g_slot);

	pthread_mutex_lock(&g_lock);
	*st = g_store;
	pthread_mutex_unlock(&g_lock);
	return s;
}

/*
 * snap_check - what this daemon needs of a loaded configuration beyond
 * what config_load checks.  0, or -1 with err naming the file and key.
 */
static int
snap_check(const struct config *cf, const char *path, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char why[512];

	if (unsubd_listen_parse(cf->unsubd_listen, &ss, &sl, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: unsubscribe.listen: %s", path, why);
		return -1;
	}
	if (unsubd_trusted_check(cf->unsubd_trusted, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: unsubscribe.trusted_proxies: %s",
		    path, why);
		return -1;
	}
	if ((cf->unsubd_tls_cert[0] == '\0') != (cf->unsubd_tls_key[0] == '\0')) {
		snprintf(err, errlen, "%s: unsubscribe.tls_cert and tls_key go "
		    "together: set both, or neither (TLS at a proxy)", path);
		return -1;
	}
	if (cf->lu_nkeys == 0) {
		snprintf(err, errlen, "%s: unsubscribe.keys: no keys, so no "
		    "token can be checked (make one with 'consentctl keygen')",
		    path);
		return -1;
	}
	return 0;
}

/*
 * snap_load - the configuration at path, checked, and, with keys, its
 * keys, into a new snapshot the caller owns (one reference).  0, or -1
 * with err.
 */
/*
 * snap_keys - the token keys, and the audit key if the audit trail is
 * pseudonymised: the log then names a person the same way.
 */
static int
snap_keys(struct snap *s, char *err, size_t errlen)
{
	if (keyring_load(&s->cf, &s->ring, err, errlen) == -1)
		return -1;
	s->pseudo = s->cf.audit_pseudonymize;
	if (s->pseudo && s->cf.audit_key_file[0] != '\0' &&
	    audit_key_load(s->cf.audit_key_file, s->pkey, err, errlen) == -1)
		return -1;
	return 0;
}

static int
snap_load(const char *path, int keys, struct snap **sp, char *err,
    size_t errlen)
{
	struct snap *s;

	*sp = NULL;
	if ((s = snap_alloc(sizeof(*s), snap_fini)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (config_load(&s->cf, path, err, errlen) == -1 ||
	    snap_check(&s->cf, path, err, errlen) == -1 ||
	    (keys && snap_keys(s, err, errlen) == -1)) {
		snap_release(s);
		return -1;
	}
	*sp = s;
	return 0;
}

/*
 * store_usable - 1 if r's store is open and still the one at its path: a
 * click written into a store moved away (a bootstrap or a restore while
 * we ran) would be honoured by no one and, in a fleet, sent by no one.
 * 0 with r->err otherwise: the click gets 503 and is tried again.
 */
static int
store_usable(struct rec *r)
{
	char e[256] = "";

	if (r->st == NULL) {
		snprintf(r->err, sizeof(r->err), "the store is not open");
		return 0;
	}
	if (store_replaced(r->st, e, sizeof(e)) != 0) {
		snprintf(r->err, sizeof(r->err), "the store is not the one at its "
		    "path any more (replaced or moved since it was opened%s%s): "
		    "restart consent-unsubd", e[0] ? ": " : "", e);
		return 0;
	}
	return 1;
}

static int
record_cb(void *arg, const struct token_claims *c, int all)
{
	struct rec *r = arg;
	struct journal j;
	int rc;

	if (!store_usable(r))
		return -1;
	/* In a fleet, the outbox: a click never waits on the database. */
	journal_init(&j, r->st, r->sync, JOURNAL_NO_NETWORK);
	rc = optout_record(&j, c, SRC_ONECLICK, r->ip, all, r->now, r->err,
	    sizeof(r->err));
	journal_fini(&j);
	return rc;
}

/* confirm_cb - a valid confirmation click: confirmed, with its address. */
static int
confirm_cb(void *arg, const struct token_claims *c)
{
	struct rec *r = arg;
	struct journal j;
	int rc;

	if (!store_usable(r))
		return -1;
	/* In a fleet, forwarded by consent-syncd: never waits on the network. */
	journal_init(&j, r->st, r->sync, JOURNAL_NO_NETWORK);
	rc = optin_confirm(&j, c, r->ip, r->now, r->err, sizeof(r->err));
	journal_fini(&j);
	return rc;
}

/* The last X-Forwarded-For field: a proxy appends to the last one. */
static enum MHD_Result
xff_last(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	const char **last = cls;

	(void)kind;
	if (key != NULL && value != NULL &&
	    strcasecmp(key, "X-Forwarded-For") == 0)
		*last = value;
	return MHD_YES;
}

/* framing_field - one header field for unsubd_framing_add. */
static enum MHD_Result
framing_field(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	(void)kind;
	unsubd_framing_add(cls, key, value);
	return MHD_YES;
}

/* content_length_over - 1 if a Content-Length says more than we read. */
static int
content_length_over(const char *v)
{
	size_t n;

	v += strspn(v, " \t");
	n = strspn(v, "0123456789");
	if (n == 0)
		return 0;	/* malformed: MHD answers that itself */
	v += strspn(v, "0");
	return strspn(v, "0123456789") > 9 ||
	    strtoul(v, NULL, 10) > UNSUBD_BODY_MAX;
}

/* who - how the log names the recipient: as the audit trail does. */
static const char *
who(const struct snap *s, const char *addr, char *buf, size_t len)
{
	if (!s->pseudo)
		return addr;
	if (s->cf.audit_key_file[0] == '\0')
		return "a recipient";
	audit_pseudonym(s->pkey, addr, buf);
	(void)len;
	return buf;
}

static void
log_outcome(const struct snap *s, const struct unsubd_resp *r, int method,
    const char *url, const char *ip, const char *err)
{
	char safe[96], pb[AUDIT_PSEUDO_MAX];

	switch (r->page) {
	case UNSUBD_P_DONE:
	case UNSUBD_P_DONE_ALL:
		log_info("%s %s %s%s (one-click, ip %s)",
		    who(s, r->claims.addr, pb, sizeof(pb)),
		    r->changed ? "unsubscribed from" :
		    "already unsubscribed from",
		    r->page == UNSUBD_P_DONE_ALL ? "all lists, via list " :
		    "list ", r->claims.list, ip[0] ? ip : "unknown");
		break;
	case UNSUBD_P_UNAVAILABLE:
		log_warnx("cannot record the unsubscribe of %s from %s%s "
		    "(ip %s), answered 503: %s",
		    who(s, r->claims.addr, pb, sizeof(pb)),
		    r->all ? "all lists, via list " : "list ", r->claims.list, ip[0] ? ip : "unknown", err);
		break;
	case UNSUBD_P_INVALID:
	case UNSUBD_P_OPTIN_INVALID:
		log_info("refused an invalid or expired %stoken (ip %s)",
		    r->page == UNSUBD_P_OPTIN_INVALID ? "confirmation " : "",
		    ip[0] ? ip : "unknown");
		break;
	case UNSUBD_P_OPTIN_DONE:
		log_info("%s %s list %s (double opt-in click, ip %s)",
		    who(s, r->claims.addr, pb, sizeof(pb)), r->changed ?
		    "confirmed on" : "already confirmed on", r->claims.list,
		    ip[0] ? ip : "unknown");
		break;
	case UNSUBD_P_OPTIN_REFUSED:
		log_info("%s: confirmation on list %s refused: nothing pending, "
		    "or unsubscribed since (ip %s)", who(s, r->claims.addr, pb,
		    sizeof(pb)), r->claims.list, ip[0] ? ip : "unknown");
		break;
	case UNSUBD_P_BADREQ:
		log_info("refused a POST without List-Unsubscribe=One-Click "
		    "(ip %s)", ip[0] ? ip : "unknown");
		break;
	case UNSUBD_P_FRAMING:
		log_info("refused with %d a request whose length is not sure: "
		    "Content-Length fields that differ, or Transfer-Encoding "
		    "(ip %s)", r->status, ip[0] ? ip : "unknown");
		break;
	default:
		/* A token lets anyone unsubscribe its recipient: not logged. */
		log_debug("%d for %s %s (ip %s)", r->status,
		    method == UNSUBD_GET ? "GET" : method == UNSUBD_HEAD ?
		    "HEAD" : method == UNSUBD_POST ? "POST" : "another method",
		    strncmp(url, UNSUBD_PREFIX, sizeof(UNSUBD_PREFIX) - 1) == 0 ?
		    UNSUBD_PREFIX "TOKEN" : strncmp(url, UNSUBD_CONFIRM_PREFIX,
		    sizeof(UNSUBD_CONFIRM_PREFIX) - 1) == 0 ?
		    UNSUBD_CONFIRM_PREFIX "TOKEN" : util_sanitize(url,
		    strlen(url), safe, sizeof(safe)), ip[0] ? ip : "unknown");
	}
}


/* respond - decide, log and queue the answer to one request. */
static enum MHD_Result
respond(struct MHD_Connection *mc, struct conn *c, const char *url)
{
	const union MHD_ConnectionInfo *ci;
	struct unsubd_req req;
	struct unsubd_env env;
	struct unsubd_resp r;
	struct MHD_Response *resp;
	struct snap *s;
	struct rec rec;
	const char *xff = NULL;
	char page[UNSUBD_PAGE_MAX], peer[REC_IP_MAX + 1], ip[REC_IP_MAX + 1];
	enum MHD_Result ok;
	int n;

	memset(&rec, 0, sizeof(rec));
	s = snap_now(&rec.st);
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || unsubd_sockaddr_ip(ci->client_addr, peer,
	    sizeof(peer)) == -1)
		peer[0] = '\0';
	(void)MHD_get_connection_values(mc, MHD_HEADER_KIND, xff_last, &xff);
	if (unsubd_client_ip(peer, s->cf.unsubd_trusted, xff, ip,
	    sizeof(ip)) == -1)
		ip[0] = '\0';

	memset(&req, 0, sizeof(req));
	req.method = c->method;
	req.path = url;
	req.pathlen = strlen(url);
	req.ctype = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	req.body = c->body;
	req.bodylen = c->len;
	req.nheaders = c->nheaders;
	req.body_over = c->over;
	req.framing = c->framing;
	rec.ip = ip;
	rec.sync = &s->cf.sync;
	rec.now = (int64_t)time(NULL);
	env.ring = &s->ring;
	env.now = rec.now;
	env.record = record_cb;
	env.arg = &rec;
	/* /c/ is served once confirmation links are made at all. */
	env.confirm = s->cf.optin_url[0] != '\0' ? confirm_cb : NULL;
	env.confirm_lifetime = s->cf.optin_lifetime;
	unsubd_handle(&env, &req, &r);
	log_outcome(s, &r, c->method, url, ip, rec.err);
	umetrics_request(c->method, r.page, r.changed);
	n = unsubd_page(&r, s->cf.unsubd_org, page, sizeof(page));
	snap_release(s);
	sodium_memzero(&r.claims, sizeof(r.claims));
	c->answered = 1;
	if (n < 0)
		return MHD_NO;

	if ((resp = MHD_create_response_from_buffer((size_t)n, page,
	    MHD_RESPMEM_MUST_COPY)) == NULL)
		return MHD_NO;
	/* RFC 8058: no redirect, no cookie; and nothing kept or framed. */
	ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/html; charset=utf-8");
	if (ok == MHD_YES)
		ok = MHD_add_response_header(resp, "Content-Security-Policy",
		    CSP);
	if (ok == MHD_YES)
		ok = MHD_add_response_header(resp, "X-Content-Type-Options",
		    "nosniff");
	if (ok == MHD_YES)
		ok = MHD_add_response_header(resp, "Referrer-Policy",
		    "no-referrer");
	if (ok == MHD_YES)
		ok = MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	if (ok == MHD_YES)
		ok = MHD_add_response_header(resp,
		    MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (ok == MHD_YES && r.status == 405)
		ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    UNSUBD_ALLOW);
	if (ok == MHD_YES && r.status == 503)
		ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
		    UNSUBD_RETRY_AFTER);
	if (ok == MHD_YES)
		ok = MHD_queue_response(mc, (unsigned)r.status, resp);
	MHD_destroy_response(resp);
	/* The request is in: sending the answer has a deadline of its own. */
	if (ok == MHD_YES)
		guard_restart(mc);
	return ok;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct conn *c = *con_cls;
	struct unsubd_framing fr;
	const char *cl;

	(void)cls;
	if (c == NULL) {
		/* The headers are in; the body, if any, comes next. */
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return MHD_NO;
		*con_cls = c;
		c->method = unsubd_method(method);
		c->nheaders = (unsigned)MHD_get_connection_values(mc,
		    MHD_HEADER_KIND, NULL, NULL);
		/*
		 * MHD reads the first Content-Length, and a body of unknown
		 * length to the end for a coding it does not know: answer
		 * both now, before any of the body.
		 */
		memset(&fr, 0, sizeof(fr));
		(void)MHD_get_connection_values(mc, MHD_HEADER_KIND,
		    framing_field, &fr);
		c->framing = unsubd_framing_status(&fr, version != NULL &&
		    strcmp(version, MHD_HTTP_VERSION_1_0) == 0);
		if (c->framing != 0)
			return respond(mc, c, url);
		cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && content_length_over(cl)) {
			/* Answered before the body, which is never read. */
			c->over = 1;
			return respond(mc, c, url);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (c->answered)
			return MHD_NO;
		/* Chunked past the limit: skipped for a 413, up to a point. */
		if (c->over || n > sizeof(c->body) - c->len) {
			c->over = 1;
			c->skipped += n;
			return c->skipped > SKIP_MAX ? MHD_NO : MHD_YES;
		}
		memcpy(c->body + c->len, upload_data, n);
		c->len += n;
		return MHD_YES;
	}
	if (c->answered)
		return MHD_YES;
	return respond(mc, c, url);
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
	/* Keep-alive: the next request's time starts now. */
	guard_restart(mc);
}

static void mhd_log(void *, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

/*
 * mhd_log - libmicrohttpd's messages, at most MHD_LOG_BURST a second:
 * it writes one per connection closed, and under attack (each cut at
 * the request deadline is one) they would flood the log.
 */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static time_t window;
	static unsigned long shown, dropped;
	unsigned long missed = 0;
	char msg[512];
	size_t n;
	time_t now = time(NULL);
	int show;

	(void)cls;
	pthread_mutex_lock(&lock);
	if (now != window) {
		missed = dropped;
		window = now;
		shown = dropped = 0;
	}
	if ((show = shown < MHD_LOG_BURST))
		shown++;
	else
		dropped++;
	pthread_mutex_unlock(&lock);
	if (missed > 0)
		log_warnx("libmicrohttpd: %lu more messages not logged", missed);
	if (!show)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warnx("libmicrohttpd: %s", msg);
}

/* read_file - a whole (PEM) file into a NUL-terminated buffer; NULL + err. */
static char *
read_file(const char *path, char *err, size_t errlen)
{
	char *buf;
	size_t len = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(TLS_FILE_MAX + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	while (len < TLS_FILE_MAX &&
	    (r = read(fd, buf + len, TLS_FILE_MAX - len)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			free(buf);
			return NULL;
		}
		len += (size_t)r;
	}
	close(fd);
	if (len == 0 || len >= TLS_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path, len ? "larger than 1 MiB" :
		    "empty");
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* wipe_free - clear and free a NUL-terminated secret; NULL is a no-op. */
static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

/* listen_open - the listening socket for spec; its address into where. */
static int
listen_open(const char *spec, char *where, size_t wherelen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char err[256], ip[REC_IP_MAX + 1];
	int fd, on = 1;
	unsigned port;

	if (unsubd_listen_parse(spec, &ss, &sl, err, sizeof(err)) == -1)
		fatalx("unsubscribe.listen: %s", err);
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		fatal("setsockopt SO_REUSEADDR");
	if (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		fatal("setsockopt IPV6_V6ONLY");
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1)
		fatal("unsubscribe.listen: cannot listen on %s", spec);
	/* Room for clients waiting while every connection is taken. */
	if (listen(fd, SOMAXCONN) == -1)
		fatal("listen");
	/* Port 0 picks a free one: say which (the tests read it). */
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		fatal("getsockname");
	port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	if (unsubd_sockaddr_ip((struct sockaddr *)&ss, ip, sizeof(ip)) == -1)
		ip[0] = '\0';
	snprintf(where, wherelen, ss.ss_family == AF_INET6 ? "[%s]:%u" :
	    "%s:%u", ip, port);
	return fd;
}

/*
 * store_try_open - open the store read-write if it is not open yet; 1
 * when open.  Retried each second: until then, POSTs get 503.
 */
static int
store_try_open(const struct config *cf)
{
	static char last[512];
	struct store *st;
	char err[512];

	pthread_mutex_lock(&g_lock);
	st = g_store;
	pthread_mutex_unlock(&g_lock);
	if (st != NULL)
		return 1;
	if (store_open(&st, cf->store_path, 0, cf->addr_flags, cf->map_size,
	    err, sizeof(err)) == -1) {
		umetrics_store_failure();
		/* Once per kind of failure, not once a second. */
		if (strcmp(err, last) != 0)
			log_warnx("store unavailable, one-click requests get "
			    "503: %s", err);
		util_strlcpy(last, err, sizeof(last));
		return 0;
	}
	pthread_mutex_lock(&g_lock);
	g_store = st;
	pthread_mutex_unlock(&g_lock);
	log_info("store open: %s%s", cf->store_path, last[0] ?
	    " (recovered)" : "");
	if (!ready_sent) {
		ready_sent = 1;
		sd_notify(0, "READY=1\nSTATUS=answering one-click requests");
	}
	return 1;
}

/* Settings read once at start: a reload cannot change them. */
static void
restart_notes(const struct config *o, const struct config *n)
{
	if (strcmp(o->store_path, n->store_path) != 0 ||
	    o->addr_flags != n->addr_flags)
		log_warnx("reload: the store settings change only at a restart");
	if (strcmp(o->unsubd_listen, n->unsubd_listen) != 0)
		log_warnx("reload: unsubscribe.listen changes only at a restart");
	if (strcmp(o->unsubd_tls_cert, n->unsubd_tls_cert) != 0 ||
	    strcmp(o->unsubd_tls_key, n->unsubd_tls_key) != 0)
		log_warnx("reload: the TLS files are read only at a restart");
	if (strcmp(o->unsubd_user, n->unsubd_user) != 0)
		log_warnx("reload: unsubscribe.user changes only at a restart");
	if (o->unsubd_max_conns != n->unsubd_max_conns)
		log_warnx("reload: unsubscribe.max_connections changes only at "
		    "a restart");
}

static void
reload(const char *conffile)
{
	struct snap *n, *old;
	char err[1024];

	sd_notify(0, "RELOADING=1");
	if (snap_load(conffile, 1, &n, err, sizeof(err)) == -1)
		log_warnx("reload failed, keeping the old configuration: %s",
		    err);
	else {
		old = snap_get(&g_slot);
		restart_notes(&old->cf, &n->cf);
		snap_release(old);
		log_info("configuration and %u keys reloaded from %s",
		    n->ring.nkeys, conffile);
		guard_settings(n->cf.unsubd_trusted, n->cf.unsubd_max_per_client);
		snap_set(&g_slot, n);
	}
	sd_notify(0, "READY=1");
}

/* The TLS files, read while still privileged: the key may be root's. */
struct tls_files {
	char	*cert, *key;
};

/*
 * start - load and check the configuration (and, with -n, its keys), then
 * as root the user, the TLS files and the listening socket; drop
 * privileges, then load the keys and open the store as the daemon's user,
 * as a reload will.  Exits on failure: nothing is served yet.  The
 * snapshot goes into g_slot; returns the listening socket.
 */
static int
start(const struct daemon_opts *o, struct tls_files *tf, char *where,
    size_t wherelen)
{
	struct passwd *pw = NULL;
	struct snap *s;
	char err[1024];
	int lfd;

	if (token_init() == -1) {
		fprintf(stderr, "consent-unsubd: libsodium failed to initialise\n");
		exit(1);
	}
	/* -n reads the keys too, as its caller: run it as the daemon's user. */
	if (snap_load(o->conffile, o->check, &s, err, sizeof(err)) == -1) {
		fprintf(stderr, "consent-unsubd: %s\n", err);
		exit(EX_CONFIG);
	}
	if (o->check) {
		printf("%s: configuration OK (%u keys)\n", o->conffile,
		    s->ring.nkeys);
		snap_release(s);
		exit(0);
	}
	log_init("consent-unsubd", o->fg, o->debug);
	if (getuid() == 0 && s->cf.unsubd_user[0] != '\0' &&
	    (pw = getpwnam(s->cf.unsubd_user)) == NULL)
		fatalx("unsubscribe.user: no user \"%s\"", s->cf.unsubd_user);
	if (s->cf.unsubd_tls_cert[0] != '\0') {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS))
			fatalx("unsubscribe.tls_cert: libmicrohttpd was built "
			    "without TLS");
		if ((tf->cert = read_file(s->cf.unsubd_tls_cert, err,
		    sizeof(err))) == NULL ||
		    (tf->key = read_file(s->cf.unsubd_tls_key, err,
		    sizeof(err))) == NULL)
			fatalx("unsubscribe.tls_cert/tls_key: %s", err);
	}
	if (!o->fg && daemon(0, 0) == -1)
		fatal("daemon");
	lfd = listen_open(s->cf.unsubd_listen, where, wherelen);
	daemon_drop_privileges(pw);
	if (snap_keys(s, err, sizeof(err)) == -1)
		fatalx("%s", err);
	(void)store_try_open(&s->cf);
	snap_set(&g_slot, s);
	return lfd;
}

/*
 * http_start - libmicrohttpd on lfd, with the limits of cf.  Its thread
 * inherits a signal mask without our signals.
 */
static struct MHD_Daemon *
http_start(const struct config *cf, const struct tls_files *tf, int lfd,
    unsigned *maxconns)
{
	struct MHD_OptionItem tls_opts[4];
	struct MHD_Daemon *d;
	sigset_t sigs, old;
	int tls = tf->cert != NULL;
	unsigned flags;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	memset(tls_opts, 0, sizeof(tls_opts));
	if (tls) {
		tls_opts[0].option = MHD_OPTION_HTTPS_MEM_CERT;
		tls_opts[0].ptr_value = tf->cert;
		tls_opts[1].option = MHD_OPTION_HTTPS_MEM_KEY;
		tls_opts[1].ptr_value = tf->key;
		tls_opts[2].option = MHD_OPTION_HTTPS_PRIORITIES;
		tls_opts[2].ptr_value = TLS_PRIORITIES;
	}
	tls_opts[tls ? 3 : 0].option = MHD_OPTION_END;
	/* MHD_USE_AUTO picks epoll here: idle connections cost little. */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
	    MHD_USE_ERROR_LOG | (tls ? MHD_USE_TLS : 0);
	guard_init(cf->unsubd_trusted, cf->unsubd_max_per_client);
	*maxconns = guard_fd_room((unsigned)cf->unsubd_max_conns);
	/*
	 * The per-client cap is guard_accept's, not MHD's per-IP limit: that
	 * one would also cap a trusted proxy, the peer of all its clients.
	 */
	d = MHD_start_daemon(flags, 0, guard_accept, NULL, on_request, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,	/* first, or unused */
	    MHD_OPTION_LISTEN_SOCKET, lfd,
	    MHD_OPTION_CONNECTION_LIMIT, *maxconns,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_NOTIFY_CONNECTION, guard_connection, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_ARRAY, tls_opts,
	    MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return d;
}

/*
 * serve - the signal loop until a stop: reloads, the store retried until
 * it opens, and once a second the connections past their deadline cut.
 */
static void
serve(const struct daemon_opts *o)
{
	struct snap *s;
	int ev;

	while (!((ev = daemon_wait(1000)) & DAEMON_STOP)) {
		if (ev & DAEMON_RELOAD)
			reload(o->conffile);
		s = snap_get(&g_slot);
		if (!ready_sent)
			(void)store_try_open(&s->cf);
		guard_cut(s->cf.unsubd_request_timeout);
		guard_report(s->cf.unsubd_request_timeout,
		    s->cf.unsubd_max_per_client);
		snap_release(s);
	}
}

/* stop - no new connections; those in flight get STOP_GRACE seconds. */
static void
stop(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *di;
	time_t deadline;
	int lfd, cut = 0;

	sd_notify(0, "STOPPING=1");
	lfd = (int)MHD_quiesce_daemon(d);
	if (lfd >= 0)
		close(lfd);
	deadline = time(NULL) + STOP_GRACE;
	while ((di = MHD_get_daemon_info(d,
	    MHD_DAEMON_INFO_CURRENT_CONNECTIONS)) != NULL &&
	    di->num_connections > 0 && time(NULL) < deadline)
		usleep(50 * 1000);
	if (di != NULL && di->num_connections > 0) {
		log_warnx("%u connections still open after %d s: closing them",
		    di->num_connections, STOP_GRACE);
		cut = 1;
	}
	MHD_stop_daemon(d);
	log_info("stopped%s", cut ? " (connections closed)" : "");
	pthread_mutex_lock(&g_lock);
	store_close(g_store);
	g_store = NULL;
	pthread_mutex_unlock(&g_lock);
	snap_set(&g_slot, NULL);
}

int
main(int argc, char **argv)
{
	struct daemon_opts o;
	struct tls_files tf = { NULL, NULL };
	struct MHD_Daemon *d;
	struct snap *s;
	char where[80], err[512];
	unsigned maxconns;
	int lfd;

	daemon_options(argc, argv, "consent-unsubd", CONFIG_DEFAULT_PATH,
	    version, &o);
	lfd = start(&o, &tf, where, sizeof(where));
	daemon_signals(DAEMON_HUP_RELOADS);
	s = snap_get(&g_slot);
	if ((d = http_start(&s->cf, &tf, lfd, &maxconns)) == NULL)
		fatalx("libmicrohttpd failed to start on %s", where);
	log_info("consent-unsubd %s listening on %s%s, %u keys, %u "
	    "connections", VERSION, where, tf.cert != NULL ? " (TLS)" : "",
	    s->ring.nkeys, maxconns);
	if (umetrics_start(s->cf.metrics_unsubd_listen, err, sizeof(err)) == -1)
		fatalx("metrics.unsubd_listen: %s", err);
	if (s->cf.metrics_unsubd_listen[0] != '\0')
		log_info("metrics on http://%s/metrics", s->cf.metrics_unsubd_listen);
	snap_release(s);
	serve(&o);
	stop(d);
	umetrics_stop();
	wipe_free(tf.cert);
	wipe_free(tf.key);
	return 0;
}
