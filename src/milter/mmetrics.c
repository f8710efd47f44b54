/*
 * mmetrics.c - consent-milter's metrics, over util/metrics.c.  Verdicts,
 * reasons, causes and classes are the program's own names; list names
 * come from messages, so only the first metrics.max_lists seen get a
 * label of their own.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "milter/mmetrics.h"
#include "util/metrics.h"

static struct metrics *reg;
static struct metric *m_decisions, *m_messages, *m_tempfails, *m_store_fail,
    *m_latency, *m_audit_lines, *m_audit_fail;
static struct mmetrics_source source;

/* The list names that have a label of their own. */
static pthread_mutex_t lists_lock = PTHREAD_MUTEX_INITIALIZER;
static char **lists;
static size_t nlists, maxlists;

/* list_label - list itself if it has (or may take) a label, else "other". */
static const char *
list_label(const char *list)
{
	const char *label = METRICS_OTHER;

	if (list == NULL || list[0] == '\0')
		return "-";
	pthread_mutex_lock(&lists_lock);
	for (size_t i = 0; i < nlists; i++)
		if (strcmp(lists[i], list) == 0) {
			label = lists[i];
			goto out;
		}
	if (nlists < maxlists && (lists[nlists] = strdup(list)) != NULL)
		label = lists[nlists++];
out:
	pthread_mutex_unlock(&lists_lock);
	return label;	/* never freed before mmetrics_stop */
}

/* store_bytes, store_age, sessions - the gauges read at scrape. */
static double
store_bytes(void *arg)
{
	uint64_t b;
	int64_t t;

	(void)arg;
	return source.store != NULL && source.store(&b, &t) == 0 ?
	    (double)b : NAN;
}

static double
store_age(void *arg)
{
	uint64_t b;
	int64_t t;

	(void)arg;
	return source.store != NULL && source.store(&b, &t) == 0 ?
	    (double)(time(NULL) - t) : NAN;
}

static double
sessions(void *arg)
{
	(void)arg;
	return source.sessions != NULL ? (double)source.sessions() : NAN;
}

int
mmetrics_start(const char *listen, int max_lists,
    const struct mmetrics_source *src, char *err, size_t errlen)
{
	static const double b[] = { 0.00001, 0.000025, 0.00005, 0.0001,
	    0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1 };

	if (listen == NULL || listen[0] == '\0')
		return 0;
	maxlists = max_lists > 0 ? (size_t)max_lists : 1;
	if ((reg = metrics_new()) == NULL ||
	    (lists = calloc(maxlists, sizeof(*lists))) == NULL) {
		snprintf(err, errlen, "metrics: out of memory");
		mmetrics_stop();
		return -1;
	}
	if (src != NULL)
		source = *src;
	/* verdict x reason is at most 3 x 16; lists are bounded above. */
	m_decisions = metrics_counter(reg, "consent_milter_decisions_total",
	    "Bulk recipients decided, by verdict, reason and list.",
	    "verdict,reason,list", (maxlists + 1) * 48);
	m_messages = metrics_counter(reg, "consent_milter_messages_total",
	    "Messages ended, by class.", "class", 8);
	m_tempfails = metrics_counter(reg, "consent_milter_tempfails_total",
	    "Messages or recipients tempfailed, by cause.", "cause", 16);
	m_store_fail = metrics_counter(reg,
	    "consent_milter_store_open_failures_total",
	    "Attempts to open the store that failed (bulk mail is tempfailed "
	    "meanwhile).", NULL, 0);
	m_latency = metrics_histogram(reg, "consent_milter_decision_seconds",
	    "Time of one bulk decision: the store lookup and the policy.", b,
	    sizeof(b) / sizeof(b[0]));
	m_audit_lines = metrics_counter(reg, "consent_milter_audit_lines_total",
	    "Audit trail lines written.", NULL, 0);
	m_audit_fail = metrics_counter(reg,
	    "consent_milter_audit_write_failures_total",
	    "Messages whose audit lines could not be written.", NULL, 0);
	(void)metrics_gauge_fn(reg, "consent_milter_store_size_bytes",
	    "Size of the store's data file.", store_bytes, NULL);
	(void)metrics_gauge_fn(reg, "consent_milter_store_last_change_age_seconds",
	    "Seconds since the store last changed.", store_age, NULL);
	(void)metrics_gauge_fn(reg, "consent_milter_sessions",
	    "SMTP sessions in flight.", sessions, NULL);
	if (metrics_listen(reg, listen, err, errlen) == -1) {
		mmetrics_stop();
		return -1;
	}
	return 0;
}

void
mmetrics_stop(void)
{
	metrics_free(reg);
	reg = NULL;
	m_decisions = m_messages = m_tempfails = m_store_fail = m_latency =
	    m_audit_lines = m_audit_fail = NULL;
	for (size_t i = 0; i < nlists; i++)
		free(lists[i]);
	free(lists);
	lists = NULL;
	nlists = 0;
}

void
mmetrics_decision(const char *verdict, const char *reason, const char *list)
{
	const char *v[3];

	if (m_decisions == NULL)
		return;
	v[0] = verdict;
	v[1] = reason;
	v[2] = list_label(list);
	metric_add(m_decisions, v, 1);
}

void
mmetrics_message(const char *class_)
{
	const char *v[1] = { class_ };

	metric_add(m_messages, v, 1);
}

void
mmetrics_tempfail(const char *cause)
{
	const char *v[1] = { cause };

	metric_add(m_tempfails, v, 1);
}

void
mmetrics_store_failure(void)
{
	metric_add(m_store_fail, NULL, 1);
}

void
mmetrics_latency(double seconds)
{
	metric_observe(m_latency, seconds);
}

void
mmetrics_audit(size_t lines, int failed)
{
	if (failed)
		metric_add(m_audit_fail, NULL, 1);
	else
		metric_add(m_audit_lines, NULL, (double)lines);
}
