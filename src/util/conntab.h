/*
 * conntab.h - a server's open connections, by client: how many one client
 * holds (for a per-client cap) and which have had a request open for too
 * long (for a whole-request deadline that a trickle of bytes cannot
 * reset).  No sockets, no clock, no lock: the caller passes the times in
 * milliseconds of a monotonic clock and serialises every call.
 */
#ifndef CONNTAB_H
#define CONNTAB_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define CONNTAB_BUCKETS	4096	/* hash chains of the per-client count */

/* A client: an IPv4 address, or an IPv6 /64 (one site's addresses). */
struct conntab_key {
	unsigned char b[16];
};

/* One connection; the caller allocates it and keeps it until conntab_del. */
struct conntab_ent {
	struct conntab_ent *prev, *next;	/* by since, oldest first */
	struct conntab_ent *hprev, *hnext;	/* the key's hash chain */
	struct conntab_key key;
	int	fd;			/* the caller's socket */
	int	exempt;			/* not counted against its client */
	int	expired;		/* conntab_expired returned it */
	int64_t	since;			/* when its current request began */
};

struct conntab {
	struct conntab_ent *head, *tail;
	struct conntab_ent *bucket[CONNTAB_BUCKETS];
	unsigned char hkey[16];		/* keyed hash: chains nobody can aim */
	unsigned n;
};

/* conntab_init - an empty table with a fresh hash key. */
void	conntab_init(struct conntab *t);

/*
 * conntab_key - the client of a peer address: IPv4 (also v4-mapped) as
 * is, IPv6 cut to its /64.  0, or -1 for another family (k zeroed).
 */
int	conntab_key(const struct sockaddr *sa, struct conntab_key *k);

/* conntab_count - the connections of k that are not exempt. */
unsigned conntab_count(const struct conntab *t, const struct conntab_key *k);

/*
 * conntab_add - e (key, fd and exempt set by the caller) into t, its
 * request begun at now.  t points to e until conntab_del.
 */
void	conntab_add(struct conntab *t, struct conntab_ent *e, int64_t now);

/* conntab_del - e out of t; the caller may free it then. */
void	conntab_del(struct conntab *t, struct conntab_ent *e);

/* conntab_touch - a new request on e begins at now (now never goes back). */
void	conntab_touch(struct conntab *t, struct conntab_ent *e, int64_t now);

/*
 * conntab_expired - up to max entries whose request began limit or more
 * before now and that no earlier call returned, into out; each is marked
 * and stays in t until conntab_del.  Returns how many.
 */
size_t	conntab_expired(struct conntab *t, int64_t now, int64_t limit,
	    struct conntab_ent **out, size_t max);

#endif
