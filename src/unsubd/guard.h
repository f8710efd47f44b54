/*
 * guard.h - consent-unsubd's connection guard: a per-client cap, a
 * whole-request deadline, the open-file room.  The libmicrohttpd
 * callbacks run in its polling thread; the rest in the main loop.
 */
#ifndef GUARD_H
#define GUARD_H

#include <sys/socket.h>

#include <microhttpd.h>

/* guard_init - an empty table; the trusted proxies and the cap, as
 * guard_settings.  Before libmicrohttpd starts. */
void	guard_init(const char *trusted, int max_per_client);

/* guard_settings - unsubscribe.trusted_proxies (copied) and
 * max_per_client (0: no cap), from now on: at start and at each reload. */
void	guard_settings(const char *trusted, int max_per_client);

/* guard_accept - libmicrohttpd's accept policy (MHD_AcceptPolicyCallback). */
enum MHD_Result guard_accept(void *cls, const struct sockaddr *sa,
	    socklen_t salen);

/* guard_connection - libmicrohttpd's connection notifier: an entry per
 * open connection, made at open, freed at close. */
void	guard_connection(void *cls, struct MHD_Connection *mc,
	    void **socket_context, enum MHD_ConnectionNotificationCode code);

/* guard_restart - the connection's next step (an answer, a request)
 * starts: its deadline starts again. */
void	guard_restart(struct MHD_Connection *mc);

/* guard_cut - shut down every connection past timeout seconds. */
void	guard_cut(int timeout);

/* guard_report - log the cuts and refusals, at most once a minute. */
void	guard_report(int timeout, int cap);

/* guard_fd_room - raise the open-file limit; the connections it leaves
 * room for, at most want. */
unsigned guard_fd_room(unsigned want);

#endif
