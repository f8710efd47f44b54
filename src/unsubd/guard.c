/*
 * guard.c - consent-unsubd's connections, held against slow and
 * crowding clients: a per-client cap at accept (never for the trusted
 * proxies, whose connections carry many clients), a whole-request
 * deadline that a trickle of bytes cannot reset, and room for the
 * connections in the open-file limit.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "core/record.h"
#include "unsubd/guard.h"
#include "unsubd/umetrics.h"
#include "unsubd/unsubd.h"
#include "util/conntab.h"
#include "util/log.h"
#include "util/util.h"

#define FD_SPARE	64	/* descriptors beyond the connections */
#define CUT_BATCH	64	/* connections shut down per pass of the lock */
#define REPORT_EVERY	60	/* seconds between reports of cuts and refusals */

static pthread_mutex_t g_conn_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conntab g_conns;		/* guarded by g_conn_lock */
static unsigned long g_cut, g_refused;	/* guarded by g_conn_lock */
static char g_trusted[256];		/* guarded by g_conn_lock */
static int g_cap;			/* guarded by g_conn_lock */

void
guard_init(const char *trusted, int max_per_client)
{
	conntab_init(&g_conns);
	guard_settings(trusted, max_per_client);
}

void
guard_settings(const char *trusted, int max_per_client)
{
	pthread_mutex_lock(&g_conn_lock);
	util_strlcpy(g_trusted, trusted, sizeof(g_trusted));
	g_cap = max_per_client;
	pthread_mutex_unlock(&g_conn_lock);
}

/* mono_ms - milliseconds of the monotonic clock. */
static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * client_of - the client a peer counts against, its address as text into
 * ip and unsubscribe.max_per_client into *cap.  Returns 1 if the peer is
 * a trusted proxy (its connections carry many clients: no cap), 0 if
 * not, -1 if it is no IP address.
 */
static int
client_of(const struct sockaddr *sa, struct conntab_key *k, char *ip,
    size_t iplen, int *cap)
{
	int trusted;

	*cap = 0;
	if (conntab_key(sa, k) == -1 || unsubd_sockaddr_ip(sa, ip, iplen) == -1)
		return -1;
	pthread_mutex_lock(&g_conn_lock);
	trusted = unsubd_trusted_match(ip, g_trusted) == 1;
	*cap = g_cap;
	pthread_mutex_unlock(&g_conn_lock);
	return trusted;
}

/*
 * guard_accept - libmicrohttpd's accept policy: MHD_NO for a client that
 * holds its cap of connections already.  It runs in the polling thread,
 * as guard_connection does, so no connection is added between the count and
 * the connection's own entry.
 */
enum MHD_Result
guard_accept(void *cls, const struct sockaddr *sa, socklen_t salen)
{
	struct conntab_key k;
	char ip[REC_IP_MAX + 1];
	unsigned n;
	int cap;

	(void)cls;
	(void)salen;
	if (client_of(sa, &k, ip, sizeof(ip), &cap) != 0 || cap == 0)
		return MHD_YES;
	pthread_mutex_lock(&g_conn_lock);
	if ((n = conntab_count(&g_conns, &k)) >= (unsigned)cap)
		g_refused++;
	pthread_mutex_unlock(&g_conn_lock);
	if (n >= (unsigned)cap)
		umetrics_refused(1);
	if (n < (unsigned)cap)
		return MHD_YES;
	log_debug("refused a connection from %s: %u open already "
	    "(unsubscribe.max_per_client)", ip, n);
	return MHD_NO;
}

/*
 * guard_connection - a connection's entry in g_conns, made when it opens
 * and freed when it closes.  libmicrohttpd closes the socket only after
 * this callback for its closing, so a socket in g_conns is still ours.
 */
void
guard_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *fd, *ca;
	struct conntab_ent *e = *socket_context;
	char ip[REC_IP_MAX + 1];
	int cap;

	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (e != NULL) {
			pthread_mutex_lock(&g_conn_lock);
			conntab_del(&g_conns, e);
			pthread_mutex_unlock(&g_conn_lock);
			free(e);
			*socket_context = NULL;
		}
		return;
	}
	fd = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	ca = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (fd == NULL)
		return;
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		/* Not in g_conns, it would have no deadline: closed now. */
		(void)shutdown(fd->connect_fd, SHUT_RDWR);
		return;
	}
	e->fd = fd->connect_fd;
	e->exempt = ca == NULL || client_of(ca->client_addr, &e->key, ip,
	    sizeof(ip), &cap) != 0;
	pthread_mutex_lock(&g_conn_lock);
	conntab_add(&g_conns, e, mono_ms());
	pthread_mutex_unlock(&g_conn_lock);
	*socket_context = e;
}

/* guard_restart - the connection's next step (an answer, a request) starts. */
void
guard_restart(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci;
	struct conntab_ent *e;

	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (e = ci->socket_context) == NULL)
		return;
	pthread_mutex_lock(&g_conn_lock);
	conntab_touch(&g_conns, e, mono_ms());
	pthread_mutex_unlock(&g_conn_lock);
}

/*
 * guard_cut - shut down every connection whose request has run past
 * timeout seconds: libmicrohttpd then reads the end of the stream and
 * closes it.  Whatever it trickles, a client gets no more time.
 */
void
guard_cut(int timeout)
{
	struct conntab_ent *batch[CUT_BATCH];
	int64_t now = mono_ms();
	size_t n, total = 0;

	pthread_mutex_lock(&g_conn_lock);
	while ((n = conntab_expired(&g_conns, now, (int64_t)timeout * 1000,
	    batch, CUT_BATCH)) > 0) {
		for (size_t i = 0; i < n; i++)
			(void)shutdown(batch[i]->fd, SHUT_RDWR);
		total += n;
	}
	g_cut += total;
	pthread_mutex_unlock(&g_conn_lock);
	umetrics_cut(total);
	if (total > 0)
		log_debug("closed %zu connections with no whole request within "
		    "%d s (unsubscribe.request_timeout)", total, timeout);
}

/* guard_report - the cuts and refusals, at most once every REPORT_EVERY s. */
void
guard_report(int timeout, int cap)
{
	static int64_t last;
	static int reported;
	unsigned long cut, refused;
	int64_t now = mono_ms();

	if (reported && now - last < REPORT_EVERY * 1000)
		return;
	pthread_mutex_lock(&g_conn_lock);
	cut = g_cut;
	refused = g_refused;
	g_cut = g_refused = 0;
	pthread_mutex_unlock(&g_conn_lock);
	if (cut == 0 && refused == 0)
		return;
	log_warnx("slow or crowding clients: %lu connections closed with no "
	    "whole request within %d s, %lu refused over %d per client",
	    cut, timeout, refused, cap);
	last = now;
	reported = 1;
}

/*
 * guard_fd_room - raise the soft limit on open files to the hard one; the
 * connections it leaves room for, at most want.
 */
unsigned
guard_fd_room(unsigned want)
{
	struct rlimit rl, up;
	rlim_t room;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return want;
	if (rl.rlim_cur < rl.rlim_max) {
		up = rl;
		up.rlim_cur = rl.rlim_max;
		/* A seccomp filter may forbid it: LimitNOFILE= counts then. */
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want + FD_SPARE)
		return want;
	room = rl.rlim_cur > FD_SPARE + 16 ? rl.rlim_cur - FD_SPARE : 16;
	log_warnx("unsubscribe.max_connections is %u, but %llu files may be "
	    "open: %llu connections (raise LimitNOFILE)", want,
	    (unsigned long long)rl.rlim_cur, (unsigned long long)room);
	return (unsigned)room;
}
