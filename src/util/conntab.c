/*
 * conntab.c - a server's open connections, by client (see conntab.h).
 *
 * Two lists through the same entries: one in the order requests began,
 * so the deadline looks only at the oldest, and one hash chain per
 * client, so a count costs the client's connections, not everyone's.
 */
#include <netinet/in.h>

#include <string.h>

#include <sodium.h>

#include "util/conntab.h"

void
conntab_init(struct conntab *t)
{
	memset(t, 0, sizeof(*t));
	randombytes_buf(t->hkey, sizeof(t->hkey));
}

int
conntab_key(const struct sockaddr *sa, struct conntab_key *k)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	memset(k, 0, sizeof(*k));
	if (sa == NULL)
		return -1;
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(k->b, mapped, sizeof(mapped));
		memcpy(k->b + 12, &sin->sin_addr, 4);
		return 0;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(k->b, &sin6->sin6_addr, 16);
		/* One host behind v4-mapped; any other site owns a /64. */
		if (memcmp(k->b, mapped, sizeof(mapped)) != 0)
			memset(k->b + 8, 0, 8);
		return 0;
	default:
		return -1;
	}
}

/* bucket - the hash chain of k. */
static size_t
bucket(const struct conntab *t, const struct conntab_key *k)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v = 0;

	crypto_shorthash(h, k->b, sizeof(k->b), t->hkey);
	for (size_t i = 0; i < sizeof(v) && i < sizeof(h); i++)
		v = v << 8 | h[i];
	return (size_t)(v % CONNTAB_BUCKETS);
}

unsigned
conntab_count(const struct conntab *t, const struct conntab_key *k)
{
	const struct conntab_ent *e;
	unsigned n = 0;

	for (e = t->bucket[bucket(t, k)]; e != NULL; e = e->hnext)
		if (!e->exempt && memcmp(&e->key, k, sizeof(*k)) == 0)
			n++;
	return n;
}

/* append - e at the tail of the list by since. */
static void
append(struct conntab *t, struct conntab_ent *e)
{
	e->next = NULL;
	e->prev = t->tail;
	if (t->tail != NULL)
		t->tail->next = e;
	else
		t->head = e;
	t->tail = e;
}

/* unlink_since - e out of the list by since. */
static void
unlink_since(struct conntab *t, struct conntab_ent *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		t->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		t->tail = e->prev;
	e->prev = e->next = NULL;
}

void
conntab_add(struct conntab *t, struct conntab_ent *e, int64_t now)
{
	struct conntab_ent **b = &t->bucket[bucket(t, &e->key)];

	e->since = now;
	e->expired = 0;
	append(t, e);
	e->hprev = NULL;
	e->hnext = *b;
	if (*b != NULL)
		(*b)->hprev = e;
	*b = e;
	t->n++;
}

void
conntab_del(struct conntab *t, struct conntab_ent *e)
{
	unlink_since(t, e);
	if (e->hprev != NULL)
		e->hprev->hnext = e->hnext;
	else
		t->bucket[bucket(t, &e->key)] = e->hnext;
	if (e->hnext != NULL)
		e->hnext->hprev = e->hprev;
	e->hprev = e->hnext = NULL;
	t->n--;
}

void
conntab_touch(struct conntab *t, struct conntab_ent *e, int64_t now)
{
	/* To the tail: the list stays in the order of since. */
	unlink_since(t, e);
	e->since = now;
	append(t, e);
}

size_t
conntab_expired(struct conntab *t, int64_t now, int64_t limit,
    struct conntab_ent **out, size_t max)
{
	struct conntab_ent *e;
	size_t n = 0;

	for (e = t->head; e != NULL && n < max; e = e->next) {
		if (now - e->since < limit)
			break;		/* the rest began later */
		if (e->expired)
			continue;
		e->expired = 1;
		out[n++] = e;
	}
	return n;
}
