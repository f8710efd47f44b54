/*
 * metrics.c - a small Prometheus registry and its /metrics listener.
 *
 * Each metric has its own lock and a hash of its series; a scrape takes
 * one metric's lock at a time, so a slow scraper holds no decision up for
 * long.  Series are never freed before the registry: their number is
 * bounded instead.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "util/metrics.h"
#include "util/util.h"

#define SERIES_DEFAULT	1000
#define BUCKETS		64	/* hash chains per metric */
#define VALUE_MAX	64	/* octets of a label value kept */
#define HIST_MAX	32	/* histogram bounds */
#define NAME_MAX_	128

enum mtype { M_COUNTER, M_GAUGE, M_HISTOGRAM, M_GAUGE_FN };

struct series {
	struct series *next;		/* hash chain */
	struct series *all;		/* every series, in creation order */
	char	*values[METRICS_LABELS_MAX];
	double	value;
	uint64_t counts[HIST_MAX + 1];	/* histogram: per bucket, +Inf last */
	double	sum;
};

struct metric {
	struct metric *next;
	enum mtype type;
	char	name[NAME_MAX_];
	char	*help;
	size_t	nlabels;
	char	labels[METRICS_LABELS_MAX][NAME_MAX_];
	size_t	max_series, nseries;
	pthread_mutex_t lock;
	struct series *hash[BUCKETS];
	struct series *first, *last;
	double	bounds[HIST_MAX];
	size_t	nbounds;
	double	(*fn)(void *);
	void	*arg;
};

struct metrics {
	pthread_mutex_t lock;		/* the list of metrics */
	struct metric *head, *tail;
	struct MHD_Daemon *httpd;
};

/* name_ok - a Prometheus metric or label name: [a-zA-Z_][a-zA-Z0-9_]*. */
static int
name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= NAME_MAX_)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || (i > 0 && c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

struct metrics *
metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m != NULL)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

/* series_free - one series and its label values. */
static void
series_free(struct series *s)
{
	for (size_t i = 0; i < METRICS_LABELS_MAX; i++)
		free(s->values[i]);
	free(s);
}

void
metrics_free(struct metrics *m)
{
	struct metric *x, *nx;
	struct series *s, *ns;

	if (m == NULL)
		return;
	if (m->httpd != NULL)
		MHD_stop_daemon(m->httpd);
	for (x = m->head; x != NULL; x = nx) {
		nx = x->next;
		for (s = x->first; s != NULL; s = ns) {
			ns = s->all;
			series_free(s);
		}
		pthread_mutex_destroy(&x->lock);
		free(x->help);
		free(x);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* metric_new - a metric of type t, linked into m; NULL on bad names. */
static struct metric *
metric_new(struct metrics *m, enum mtype t, const char *name, const char *help,
    const char *labels, size_t max_series)
{
	struct metric *x;
	const char *p, *comma;

	if (m == NULL || name == NULL || !name_ok(name, strlen(name)) ||
	    (x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->type = t;
	util_strlcpy(x->name, name, sizeof(x->name));
	x->max_series = max_series ? max_series : SERIES_DEFAULT;
	for (p = labels; p != NULL && *p != '\0'; p = comma ? comma + 1 : NULL) {
		size_t n;

		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (x->nlabels == METRICS_LABELS_MAX || !name_ok(p, n)) {
			free(x);
			return NULL;
		}
		memcpy(x->labels[x->nlabels], p, n);
		x->labels[x->nlabels++][n] = '\0';
	}
	if ((x->help = strdup(help ? help : "")) == NULL) {
		free(x);
		return NULL;
	}
	pthread_mutex_init(&x->lock, NULL);
	pthread_mutex_lock(&m->lock);
	if (m->tail != NULL)
		m->tail->next = x;
	else
		m->head = x;
	m->tail = x;
	pthread_mutex_unlock(&m->lock);
	return x;
}

struct metric *
metrics_counter(struct metrics *m, const char *name, const char *help,
    const char *labels, size_t max_series)
{
	return metric_new(m, M_COUNTER, name, help, labels, max_series);
}

struct metric *
metrics_gauge(struct metrics *m, const char *name, const char *help,
    const char *labels, size_t max_series)
{
	return metric_new(m, M_GAUGE, name, help, labels, max_series);
}

struct metric *
metrics_histogram(struct metrics *m, const char *name, const char *help,
    const double *bounds, size_t n)
{
	struct metric *x;

	if (n > HIST_MAX)
		return NULL;
	for (size_t i = 1; i < n; i++)
		if (!(bounds[i] > bounds[i - 1]))
			return NULL;
	if ((x = metric_new(m, M_HISTOGRAM, name, help, NULL, 1)) == NULL)
		return NULL;
	memcpy(x->bounds, bounds, n * sizeof(*bounds));
	x->nbounds = n;
	return x;
}

struct metric *
metrics_gauge_fn(struct metrics *m, const char *name, const char *help,
    double (*fn)(void *), void *arg)
{
	struct metric *x = metric_new(m, M_GAUGE_FN, name, help, NULL, 1);

	if (x != NULL) {
		x->fn = fn;
		x->arg = arg;
	}
	return x;
}

/* hash_of - FNV-1a over the label values. */
static unsigned
hash_of(const struct metric *x, const char *const *v)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < x->nlabels; i++) {
		for (const char *p = v[i]; *p != '\0'; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		h = (h ^ 0xff) * 16777619u;
	}
	return h % BUCKETS;
}

/* same - the series has exactly these label values (each bounded). */
static int
same(const struct metric *x, const struct series *s, const char *const *v)
{
	for (size_t i = 0; i < x->nlabels; i++)
		if (strncmp(s->values[i], v[i], VALUE_MAX) != 0 ||
		    (strlen(v[i]) > VALUE_MAX && s->values[i][VALUE_MAX] != '\0'))
			return 0;
	return 1;
}

/*
 * series_of - the series for these values, made if new; past the limit,
 * the "other" one.  Under x->lock.  NULL if out of memory.
 */
static struct series *
series_of(struct metric *x, const char *const *values)
{
	static const char *const other[METRICS_LABELS_MAX] = { METRICS_OTHER,
	    METRICS_OTHER, METRICS_OTHER, METRICS_OTHER };
	const char *const *v = values;
	const char *empty[METRICS_LABELS_MAX] = { "", "", "", "" };
	struct series *s;
	unsigned h;

	if (x->nlabels > 0 && values == NULL)
		v = empty;
	for (size_t i = 0; i < x->nlabels; i++)
		if (v[i] == NULL)
			v = empty;
	for (;;) {
		h = hash_of(x, v);
		for (s = x->hash[h]; s != NULL; s = s->next)
			if (same(x, s, v))
				return s;
		if (x->nseries < x->max_series || v == other)
			break;
		v = other;	/* bounded: a new combination joins "other" */
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	for (size_t i = 0; i < x->nlabels; i++)
		if ((s->values[i] = strndup(v[i], VALUE_MAX)) == NULL) {
			series_free(s);
			return NULL;
		}
	s->next = x->hash[h];
	x->hash[h] = s;
	if (x->last != NULL)
		x->last->all = s;
	else
		x->first = s;
	x->last = s;
	x->nseries++;
	return s;
}

void
metric_add(struct metric *x, const char *const *values, double v)
{
	struct series *s;

	if (x == NULL || (x->type != M_COUNTER && x->type != M_GAUGE))
		return;
	pthread_mutex_lock(&x->lock);
	if ((s = series_of(x, values)) != NULL)
		s->value += v;
	pthread_mutex_unlock(&x->lock);
}

void
metric_set(struct metric *x, const char *const *values, double v)
{
	struct series *s;

	if (x == NULL || x->type != M_GAUGE)
		return;
	pthread_mutex_lock(&x->lock);
	if ((s = series_of(x, values)) != NULL)
		s->value = v;
	pthread_mutex_unlock(&x->lock);
}

void
metric_observe(struct metric *x, double v)
{
	struct series *s;
	size_t i;

	if (x == NULL || x->type != M_HISTOGRAM || isnan(v))
		return;
	pthread_mutex_lock(&x->lock);
	if ((s = series_of(x, NULL)) != NULL) {
		for (i = 0; i < x->nbounds && v > x->bounds[i]; i++)
			;
		s->counts[i]++;
		s->sum += v;
	}
	pthread_mutex_unlock(&x->lock);
}

/* A growing output buffer. */
struct out {
	char	*buf;
	size_t	len, cap;
	int	oom;
};

/* out_printf - append to o; sets o->oom on failure. */
__attribute__((format(printf, 2, 3)))
static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		if (o->oom)
			return;
		va_start(ap, fmt);
		n = vsnprintf(o->buf ? o->buf + o->len : NULL,
		    o->buf ? o->cap - o->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = 1;
			return;
		}
		if (o->buf != NULL && (size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		{
			size_t cap = (o->cap + (size_t)n + 1) * 2;
			char *nb = realloc(o->buf, cap);

			if (nb == NULL) {
				o->oom = 1;
				return;
			}
			o->buf = nb;
			o->cap = cap;
		}
	}
}

/* out_label - a label value, escaped as the exposition format asks. */
static void
out_label(struct out *o, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			out_printf(o, "\\%c", *v);
		else if (*v == '\n')
			out_printf(o, "\\n");
		else
			out_printf(o, "%c", *v);
	}
}

/* out_help - HELP text: backslash and newline escaped. */
static void
out_help(struct out *o, const char *h)
{
	for (; *h != '\0'; h++) {
		if (*h == '\\')
			out_printf(o, "\\\\");
		else if (*h == '\n')
			out_printf(o, "\\n");
		else
			out_printf(o, "%c", *h);
	}
}

/* out_value - a sample value in Go's float syntax. */
static void
out_value(struct out *o, double v)
{
	if (isnan(v))
		out_printf(o, "NaN");
	else if (isinf(v))
		out_printf(o, v > 0 ? "+Inf" : "-Inf");
	else if (v == (double)(int64_t)v && fabs(v) < 9e15)
		out_printf(o, "%lld", (long long)v);
	else
		out_printf(o, "%.17g", v);
}

/* out_labels - {a="x",b="y"} for a series, with an extra le= if given. */
static void
out_labels(struct out *o, const struct metric *x, const struct series *s,
    const char *le)
{
	if (x->nlabels == 0 && le == NULL)
		return;
	out_printf(o, "{");
	for (size_t i = 0; i < x->nlabels; i++) {
		out_printf(o, "%s%s=\"", i ? "," : "", x->labels[i]);
		out_label(o, s->values[i]);
		out_printf(o, "\"");
	}
	if (le != NULL)
		out_printf(o, "%sle=\"%s\"", x->nlabels ? "," : "", le);
	out_printf(o, "}");
}

/* write_histogram - the _bucket, _sum and _count lines of one series. */
static void
write_histogram(struct out *o, const struct metric *x, const struct series *s)
{
	uint64_t cum = 0;
	char le[32];

	for (size_t i = 0; i <= x->nbounds; i++) {
		cum += s->counts[i];
		if (i < x->nbounds)
			snprintf(le, sizeof(le), "%.17g", x->bounds[i]);
		else
			util_strlcpy(le, "+Inf", sizeof(le));
		out_printf(o, "%s_bucket", x->name);
		out_labels(o, x, s, le);
		out_printf(o, " %llu\n", (unsigned long long)cum);
	}
	out_printf(o, "%s_sum ", x->name);
	out_value(o, s->sum);
	out_printf(o, "\n%s_count %llu\n", x->name, (unsigned long long)cum);
}

/* write_metric - one metric's HELP, TYPE and samples. */
static void
write_metric(struct out *o, struct metric *x)
{
	static const char *const types[] = { "counter", "gauge", "histogram",
	    "gauge" };
	struct series empty;
	double v = 0;

	if (x->type == M_GAUGE_FN && isnan(v = x->fn(x->arg)))
		return;
	out_printf(o, "# HELP %s ", x->name);
	out_help(o, x->help);
	out_printf(o, "\n# TYPE %s %s\n", x->name, types[x->type]);
	if (x->type == M_GAUGE_FN) {
		out_printf(o, "%s ", x->name);
		out_value(o, v);
		out_printf(o, "\n");
		return;
	}
	pthread_mutex_lock(&x->lock);
	if (x->first == NULL && x->nlabels == 0) {
		/* An unlabelled metric is always there, from zero. */
		memset(&empty, 0, sizeof(empty));
		if (x->type == M_HISTOGRAM)
			write_histogram(o, x, &empty);
		else
			out_printf(o, "%s 0\n", x->name);
	}
	for (const struct series *s = x->first; s != NULL; s = s->all) {
		if (x->type == M_HISTOGRAM) {
			write_histogram(o, x, s);
			continue;
		}
		out_printf(o, "%s", x->name);
		out_labels(o, x, s, NULL);
		out_printf(o, " ");
		out_value(o, s->value);
		out_printf(o, "\n");
	}
	pthread_mutex_unlock(&x->lock);
}

int
metrics_write(struct metrics *m, char **bufp, size_t *lenp)
{
	struct out o = { NULL, 0, 0, 0 };
	struct metric *x;

	pthread_mutex_lock(&m->lock);
	x = m->head;
	pthread_mutex_unlock(&m->lock);
	/* Metrics are only ever appended: the list can be walked unlocked. */
	for (; x != NULL; x = x->next)
		write_metric(&o, x);
	out_printf(&o, "%s", "");
	if (o.oom) {
		free(o.buf);
		return -1;
	}
	*bufp = o.buf;
	*lenp = o.len;
	return 0;
}

/* on_request - GET /metrics, or 404 / 405. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *data_size, void **con_cls)
{
	struct metrics *m = cls;
	struct MHD_Response *r;
	enum MHD_Result rc;
	unsigned status = MHD_HTTP_OK;
	char *buf = NULL;
	size_t len = 0;

	(void)version;
	(void)data;
	(void)data_size;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		r = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
		    MHD_RESPMEM_PERSISTENT);
	} else if (strcmp(url, "/metrics") != 0) {
		status = MHD_HTTP_NOT_FOUND;
		r = MHD_create_response_from_buffer(10, (void *)(uintptr_t)
		    "not found\n", MHD_RESPMEM_PERSISTENT);
	} else if (metrics_write(m, &buf, &len) == -1) {
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		r = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
		    MHD_RESPMEM_PERSISTENT);
	} else
		r = MHD_create_response_from_buffer(len, buf,
		    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(buf);
		return MHD_NO;
	}
	if (status == MHD_HTTP_OK)
		MHD_add_response_header(r, "Content-Type",
		    "text/plain; version=0.0.4; charset=utf-8");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* parse_listen - host:port or [host]:port into a numeric address. */
static int
parse_listen(const char *spec, struct addrinfo **res, char *err, size_t errlen)
{
	char host[128];
	const char *colon, *port;
	struct addrinfo hints;
	size_t n;
	int rc;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL || close[1] != ':')
			return util_fail(err, errlen, "\"%s\": [address]:port "
			    "expected", spec);
		n = (size_t)(close - spec - 1);
		port = close + 2;
		spec++;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			return util_fail(err, errlen, "\"%s\": address:port "
			    "expected", spec);
		n = (size_t)(colon - spec);
		port = colon + 1;
	}
	if (n == 0 || n >= sizeof(host) || *port == '\0')
		return util_fail(err, errlen, "\"%s\": address:port expected",
		    spec);
	memcpy(host, spec, n);
	host[n] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, res)) != 0)
		return util_fail(err, errlen, "\"%s\": %s (a numeric address "
		    "and port)", spec, gai_strerror(rc));
	return 0;
}

int
metrics_listen_check(const char *spec, char *err, size_t errlen)
{
	struct addrinfo *res;

	if (parse_listen(spec, &res, err, errlen) == -1)
		return -1;
	freeaddrinfo(res);
	return 0;
}

int
metrics_listen(struct metrics *m, const char *spec, char *err, size_t errlen)
{
	struct addrinfo *res;
	int fd, one = 1;

	if (parse_listen(spec, &res, err, errlen) == -1)
		return -1;
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 || bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 16) == -1) {
		util_fail(err, errlen, "metrics listener %s: %s", spec,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	m->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_AUTO, 0, NULL, NULL, on_request, m,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)5,
	    MHD_OPTION_END);
	if (m->httpd == NULL) {
		close(fd);
		return util_fail(err, errlen, "metrics listener %s: "
		    "libmicrohttpd failed to start", spec);
	}
	return 0;
}
