/*
 * test_metrics.c - the Prometheus registry: exposition lines, label
 * escaping, the series bound ("other"), histograms, gauges read at scrape,
 * and the listener answering GET /metrics.  The exposition is also
 * written to $METRICS_OUT (if set) for promtool.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/metrics.h"

static char *
expo(struct metrics *m)
{
	char *buf;
	size_t len;

	assert_int_equal(metrics_write(m, &buf, &len), 0);
	assert_int_equal(strlen(buf), len);
	return buf;
}

static double
half(void *arg)
{
	(void)arg;
	return 0.5;
}

static double
none(void *arg)
{
	(void)arg;
	return NAN;
}

static void
test_lines(void **state)
{
	static const double b[] = { 0.001, 0.01, 0.1 };
	struct metrics *m = metrics_new();
	struct metric *c, *g, *h;
	const char *v1[] = { "deny", "no_consent" };
	const char *v2[] = { "we\"ird\\list\n", "x" };
	char *out;

	(void)state;
	assert_non_null(m);
	c = metrics_counter(m, "cm_decisions_total", "Decisions.", "verdict,reason", 0);
	g = metrics_gauge(m, "cm_sessions", "Sessions\nnow.", NULL, 0);
	h = metrics_histogram(m, "cm_decision_seconds", "Latency.", b, 3);
	assert_non_null(metrics_gauge_fn(m, "cm_half", "Half.", half, NULL));
	assert_non_null(metrics_gauge_fn(m, "cm_gone", "Left out.", none, NULL));
	assert_non_null(c);
	assert_non_null(g);
	assert_non_null(h);
	metric_add(c, v1, 1);
	metric_add(c, v1, 2);
	metric_add(c, v2, 1);
	metric_set(g, NULL, 7);
	metric_observe(h, 0.0005);
	metric_observe(h, 0.05);
	metric_observe(h, 5);
	metric_add(NULL, v1, 1);	/* no registry: no-op */
	out = expo(m);
	assert_non_null(strstr(out, "# HELP cm_decisions_total Decisions.\n"
	    "# TYPE cm_decisions_total counter\n"
	    "cm_decisions_total{verdict=\"deny\",reason=\"no_consent\"} 3\n"));
	assert_non_null(strstr(out, "cm_decisions_total{verdict=\"we\\\"ird\\\\list\\n\",reason=\"x\"} 1\n"));
	assert_non_null(strstr(out, "# HELP cm_sessions Sessions\\nnow.\n"));
	assert_non_null(strstr(out, "cm_sessions 7\n"));
	assert_non_null(strstr(out, "cm_decision_seconds_bucket{le=\"0.001\"} 1\n"));
	assert_non_null(strstr(out, "cm_decision_seconds_bucket{le=\"0.10000000000000001\"} 2\n"));
	assert_non_null(strstr(out, "cm_decision_seconds_bucket{le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(out, "cm_decision_seconds_count 3\n"));
	assert_non_null(strstr(out, "cm_half 0.5\n"));
	assert_null(strstr(out, "cm_gone"));
	if (getenv("METRICS_OUT") != NULL) {
		FILE *fp = fopen(getenv("METRICS_OUT"), "w");

		assert_non_null(fp);
		fputs(out, fp);
		fclose(fp);
	}
	free(out);
	metrics_free(m);
	metrics_free(NULL);
}

static void
test_bounded(void **state)
{
	struct metrics *m = metrics_new();
	struct metric *c = metrics_counter(m, "cm_lists_total", "Lists.", "list", 3);
	char name[32], *out;
	const char *v[1];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "list%d", i);
		v[0] = name;
		metric_add(c, v, 1);
	}
	out = expo(m);
	assert_non_null(strstr(out, "cm_lists_total{list=\"list0\"} 1\n"));
	assert_non_null(strstr(out, "cm_lists_total{list=\"list2\"} 1\n"));
	assert_null(strstr(out, "list3\""));
	assert_non_null(strstr(out, "cm_lists_total{list=\"other\"} 997\n"));
	free(out);
	/* Bad names are refused. */
	assert_null(metrics_counter(m, "1bad", "x", NULL, 0));
	assert_null(metrics_counter(m, "ok_total", "x", "bad-label", 0));
	assert_null(metrics_counter(m, "ok_total", "x", "a,b,c,d,e", 0));
	metrics_free(m);
}

static void
test_listener(void **state)
{
	struct metrics *m = metrics_new();
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char err[256], buf[4096], spec[64];
	int fd, port, n, got = 0;

	(void)state;
	metric_add(metrics_counter(m, "cm_up_total", "Up.", NULL, 0), NULL, 1);
	/* A free port: bind 0, read it, close, then listen on it. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	assert_int_equal(metrics_listen(m, spec, err, sizeof(err)), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	dprintf(fd, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
	while ((n = (int)read(fd, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fd);
	assert_non_null(strstr(buf, "200 OK"));
	assert_non_null(strstr(buf, "text/plain; version=0.0.4"));
	assert_non_null(strstr(buf, "cm_up_total 1\n"));
	assert_int_equal(metrics_listen_check("127.0.0.1", err, sizeof(err)), -1);
	assert_int_equal(metrics_listen_check("localhost:1", err, sizeof(err)), -1);
	assert_int_equal(metrics_listen_check("[::1]:9109", err, sizeof(err)), 0);
	metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_listener),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
