/*
 * test_conntab.c - the open-connection table: a client is an IPv4
 * address or an IPv6 /64, the per-client count leaves exempt connections
 * out, and the deadline finds each stale request once, oldest first,
 * whatever order requests were touched in.
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

#include "util/conntab.h"

/* key - the client of an address as text. */
static struct conntab_key
key(const char *ip)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct conntab_key k;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		assert_int_equal(conntab_key((struct sockaddr *)&sin, &k), 0);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
		sin6.sin6_family = AF_INET6;
		assert_int_equal(conntab_key((struct sockaddr *)&sin6, &k), 0);
	}
	return k;
}

static int
same(const char *a, const char *b)
{
	struct conntab_key x = key(a), y = key(b);

	return memcmp(&x, &y, sizeof(x)) == 0;
}

static void
test_key(void **state)
{
	struct sockaddr_un sun;
	struct conntab_key k;

	(void)state;
	assert_true(same("192.0.2.1", "192.0.2.1"));
	assert_false(same("192.0.2.1", "192.0.2.2"));
	assert_true(same("192.0.2.1", "::ffff:192.0.2.1"));
	assert_false(same("::ffff:192.0.2.1", "::ffff:192.0.2.2"));
	/* An IPv6 site has a /64 of addresses: one client. */
	assert_true(same("2001:db8:1:2::1", "2001:db8:1:2:ffff:1:2:3"));
	assert_false(same("2001:db8:1:2::1", "2001:db8:1:3::1"));
	assert_false(same("::1", "127.0.0.1"));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memset(&k, 0x55, sizeof(k));
	assert_int_equal(conntab_key((struct sockaddr *)&sun, &k), -1);
	assert_int_equal(k.b[0], 0);
	assert_int_equal(conntab_key(NULL, &k), -1);
}

static void
test_count(void **state)
{
	static struct conntab t;
	static struct conntab_ent e[3 * CONNTAB_BUCKETS];
	struct conntab_key a = key("198.51.100.7"), b = key("2001:db8::9");
	char ip[64];

	(void)state;
	conntab_init(&t);
	assert_int_equal(conntab_count(&t, &a), 0);
	for (int i = 0; i < 8; i++) {
		e[i].key = a;
		e[i].exempt = i >= 5;	/* a trusted proxy's, say */
		conntab_add(&t, &e[i], i);
	}
	e[8].key = b;
	conntab_add(&t, &e[8], 8);
	assert_int_equal(t.n, 9);
	assert_int_equal(conntab_count(&t, &a), 5);
	assert_int_equal(conntab_count(&t, &b), 1);
	conntab_del(&t, &e[0]);
	conntab_del(&t, &e[4]);
	conntab_del(&t, &e[6]);
	assert_int_equal(conntab_count(&t, &a), 3);
	conntab_del(&t, &e[8]);
	assert_int_equal(conntab_count(&t, &b), 0);
	/* Many clients, so the chains are shared: each count stays its own. */
	for (int i = 100; i < (int)(sizeof(e) / sizeof(e[0])); i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i >> 8 & 0xff, i & 0xff);
		e[i].key = key(ip);
		conntab_add(&t, &e[i], i);
	}
	assert_int_equal(conntab_count(&t, &a), 3);
	assert_int_equal(conntab_count(&t, &b), 0);
	for (int i = 100; i < 200; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i >> 8 & 0xff, i & 0xff);
		b = key(ip);
		assert_int_equal(conntab_count(&t, &b), 1);
		conntab_del(&t, &e[i]);
		assert_int_equal(conntab_count(&t, &b), 0);
	}
	for (int i = 200; i < (int)(sizeof(e) / sizeof(e[0])); i++)
		conntab_del(&t, &e[i]);
	for (int i = 1; i < 8; i++)
		if (i != 4 && i != 6)
			conntab_del(&t, &e[i]);
	assert_int_equal(t.n, 0);
	assert_null(t.head);
	assert_null(t.tail);
	for (size_t i = 0; i < CONNTAB_BUCKETS; i++)
		assert_null(t.bucket[i]);
}

static void
test_expired(void **state)
{
	static struct conntab t;
	struct conntab_ent e[6], *out[8];
	struct conntab_key k = key("192.0.2.1");

	(void)state;
	conntab_init(&t);
	memset(e, 0, sizeof(e));
	for (int i = 0; i < 6; i++) {
		e[i].key = k;
		e[i].fd = 10 + i;
		conntab_add(&t, &e[i], 1000 * i);	/* 0 s, 1 s, ... 5 s */
	}
	/* Nothing is 10 s old yet. */
	assert_int_equal(conntab_expired(&t, 9999, 10000, out, 8), 0);
	/* A request answered at 9 s starts its next one then. */
	conntab_touch(&t, &e[0], 9000);
	/* At 12 s: the ones begun at 1 s and 2 s, oldest first. */
	assert_int_equal(conntab_expired(&t, 12000, 10000, out, 8), 2);
	assert_ptr_equal(out[0], &e[1]);
	assert_ptr_equal(out[1], &e[2]);
	assert_int_equal(out[0]->fd, 11);
	/* Each only once, though they stay until closed. */
	assert_int_equal(conntab_expired(&t, 12000, 10000, out, 8), 0);
	assert_int_equal(t.n, 6);
	/* At most max at a time; the rest on the next call. */
	assert_int_equal(conntab_expired(&t, 30000, 10000, out, 2), 2);
	assert_ptr_equal(out[0], &e[3]);
	assert_ptr_equal(out[1], &e[4]);
	assert_int_equal(conntab_expired(&t, 30000, 10000, out, 8), 2);
	assert_ptr_equal(out[0], &e[5]);
	assert_ptr_equal(out[1], &e[0]);
	assert_int_equal(conntab_expired(&t, 99000, 10000, out, 8), 0);
	for (int i = 0; i < 6; i++)
		conntab_del(&t, &e[i]);
	assert_int_equal(t.n, 0);
	/* A fresh entry is not marked, whatever it was before. */
	conntab_add(&t, &e[2], 100000);
	assert_int_equal(conntab_expired(&t, 110000, 10000, out, 8), 1);
	conntab_del(&t, &e[2]);
}

static int
setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_expired),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
