/*
 * umetrics.c - consent-unsubd's metrics, over util/metrics.c.  The label
 * values are this program's own names, never request data.
 */
#include <stddef.h>
#include <stdio.h>

#include "unsubd/umetrics.h"
#include "unsubd/unsubd.h"
#include "util/metrics.h"

static struct metrics *reg;
static struct metric *m_requests, *m_unsubs, *m_refused, *m_cut, *m_store;

/* page_name - the outcome label of a page. */
static const char *
page_name(int page)
{
	static const char *const names[UNSUBD_P_MAX_] = {
		[UNSUBD_P_CONFIRM] = "confirm_page",
		[UNSUBD_P_DONE] = "unsubscribed",
		[UNSUBD_P_DONE_ALL] = "unsubscribed_all",
		[UNSUBD_P_BADREQ] = "bad_request",
		[UNSUBD_P_INVALID] = "invalid_token",
		[UNSUBD_P_NOTFOUND] = "not_found",
		[UNSUBD_P_METHOD] = "method_not_allowed",
		[UNSUBD_P_TOOBIG] = "too_big",
		[UNSUBD_P_UNAVAILABLE] = "unavailable",
		[UNSUBD_P_FRAMING] = "bad_framing",
		[UNSUBD_P_OPTIN] = "optin_page",
		[UNSUBD_P_OPTIN_DONE] = "confirmed",
		[UNSUBD_P_OPTIN_REFUSED] = "confirm_refused",
		[UNSUBD_P_OPTIN_INVALID] = "invalid_confirm_token",
	};

	return page >= 0 && page < UNSUBD_P_MAX_ && names[page] != NULL ?
	    names[page] : "other";
}

/* method_name - the method label. */
static const char *
method_name(int method)
{
	switch (method) {
	case UNSUBD_GET:	return "GET";
	case UNSUBD_HEAD:	return "HEAD";
	case UNSUBD_POST:	return "POST";
	default:		return "other";
	}
}

int
umetrics_start(const char *listen, char *err, size_t errlen)
{
	if (listen == NULL || listen[0] == '\0')
		return 0;
	if ((reg = metrics_new()) == NULL) {
		snprintf(err, errlen, "metrics: out of memory");
		return -1;
	}
	m_requests = metrics_counter(reg, "consent_unsubd_requests_total",
	    "Requests answered, by method and outcome.", "method,outcome", 64);
	m_unsubs = metrics_counter(reg, "consent_unsubd_unsubscribes_total",
	    "One-click unsubscribes recorded; changed=\"no\" for a replay.",
	    "scope,changed", 8);
	m_refused = metrics_counter(reg, "consent_unsubd_connections_refused_total",
	    "Connections refused: the client held too many.", NULL, 0);
	m_cut = metrics_counter(reg, "consent_unsubd_connections_cut_total",
	    "Connections closed with no whole request within the deadline.",
	    NULL, 0);
	m_store = metrics_counter(reg, "consent_unsubd_store_open_failures_total",
	    "Attempts to open the store that failed (POSTs get 503 meanwhile).",
	    NULL, 0);
	if (metrics_listen(reg, listen, err, errlen) == -1) {
		umetrics_stop();
		return -1;
	}
	return 0;
}

void
umetrics_stop(void)
{
	metrics_free(reg);
	reg = NULL;
	m_requests = m_unsubs = m_refused = m_cut = m_store = NULL;
}

void
umetrics_request(int method, int page, int changed)
{
	const char *v[2] = { method_name(method), page_name(page) };

	metric_add(m_requests, v, 1);
	if (page == UNSUBD_P_DONE || page == UNSUBD_P_DONE_ALL) {
		v[0] = page == UNSUBD_P_DONE ? "list" : "all";
		v[1] = changed ? "yes" : "no";
		metric_add(m_unsubs, v, 1);
	}
}

void
umetrics_refused(unsigned long n)
{
	metric_add(m_refused, NULL, (double)n);
}

void
umetrics_cut(unsigned long n)
{
	metric_add(m_cut, NULL, (double)n);
}

void
umetrics_store_failure(void)
{
	metric_add(m_store, NULL, 1);
}
