/*
 * milter.c - libmilter callbacks.
 *
 * They only gather what the MTA says, ask the store and the policy, and
 * turn msg.c's answers into replies and edits.  Every callback tolerates a
 * missing context or macro, none ever exits, and every failure to act on a
 * denied recipient tempfails the message: this filter fails closed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libmilter/mfapi.h>
#include <sodium.h>

#include "core/audit.h"
#include "core/fbtag.h"
#include "core/keyring.h"
#include "core/listunsub.h"
#include "core/sealer.h"
#include "core/store.h"
#include "core/token.h"
#include "milter/milter.h"
#include "milter/mmetrics.h"
#include "milter/msg.h"
#include "milter/mta.h"
#include "util/log.h"
#include "util/snap.h"
#include "util/util.h"

/*
 * The configuration and the unsubscribe keys it names, a snapshot (see
 * util/snap.h): a reload swaps them between messages.
 */
struct runtime {
	struct config cf;
	struct msg_rules rules;	/* what msg.c reads of cf */
	struct token_ring ring;
};

static struct snap_slot rt_slot = SNAP_SLOT_INIT;

static struct store *_Atomic g_store;
static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t store_tried;

static struct audit *g_audit;	/* set before smfi_main, fixed after */
static struct seal_keyfile *g_sealkey;	/* opened as root, until the sealer takes it */
static struct sealer *g_sealer;	/* the main thread's only */
static int audit_wanted;	/* audit.file is set: no log, no bulk mail */
static int audit_fail_closed;

/* Fixed at the first load: the store's keys depend on them. */
static char store_path[CONFIG_PATH_MAX];
static int store_addr_flags;
static char store_delims[8];

static atomic_uint sessions;
static atomic_ulong n_bulk, n_trans, n_allow, n_deny, n_tempfail;

/* Said once per process: which MTA we met, or that we could not tell. */
static atomic_flag told_mta[3] = { ATOMIC_FLAG_INIT, ATOMIC_FLAG_INIT,
    ATOMIC_FLAG_INIT };
static atomic_flag told_symlist = ATOMIC_FLAG_INIT;

void (*milter_ready_hook)(void);

/* Per connection; the message part is reset at end of message and abort. */
struct milter_conn {
	struct runtime *rt;	/* held for one message */
	unsigned long proto;	/* protocol flags agreed: which replies are off */
	int	chgfrom;	/* the MTA lets us sign the return path */
	struct msg_state m;
};

/* runtime_fini - wipe the keys of a snapshot about to be freed. */
static void
runtime_fini(void *obj)
{
	struct runtime *r = obj;

	token_wipe(&r->ring);
}

/* rt_get - the current snapshot, held (rt_put it). */
static struct runtime *
rt_get(void)
{
	return snap_get(&rt_slot);
}

/* rt_put - let go of a snapshot; NULL is a no-op. */
static void
rt_put(struct runtime *r)
{
	snap_release(r);
}

/* milter_rules - what msg.c reads of cf, copied into mr. */
void
milter_rules(const struct config *cf, struct msg_rules *mr)
{
	memset(mr, 0, sizeof(*mr));
	memcpy(mr->action, cf->action, sizeof(mr->action));
	mr->max_recipients = cf->max_recipients;
	mr->one_rcpt_per_msg = cf->one_rcpt_per_msg;
	mr->lu_keep_existing = cf->lu_keep_existing;
	mr->strip_list_header = cf->classify.strip_list_header;
	util_strlcpy(mr->redirect_to, cf->redirect_to, sizeof(mr->redirect_to));
}

int
milter_reload(const struct config *cf, char *err, size_t errlen)
{
	struct runtime *r = snap_alloc(sizeof(*r), runtime_fini);

	if (r == NULL)
		return util_fail(err, errlen, "out of memory");
	r->cf = *cf;
	if (store_path[0] == '\0') {
		util_strlcpy(store_path, cf->store_path, sizeof(store_path));
		store_addr_flags = cf->addr_flags;
		util_strlcpy(store_delims, cf->delims, sizeof(store_delims));
	} else if (strcmp(store_path, cf->store_path) != 0 ||
	    store_addr_flags != cf->addr_flags ||
	    strcmp(store_delims, cf->delims) != 0)
		log_warnx("reload: the store section needs a restart; keeping "
		    "%s and its address rules", store_path);
	/* Keys to the store; the rest of the file applies from now on. */
	util_strlcpy(r->cf.store_path, store_path, sizeof(r->cf.store_path));
	r->cf.addr_flags = store_addr_flags;
	r->cf.classify.addr_flags = store_addr_flags;
	util_strlcpy(r->cf.delims, store_delims, sizeof(r->cf.delims));
	milter_rules(&r->cf, &r->rules);
	if ((cf->lu_enable || cf->fb_sign_return_path) &&
	    keyring_load(cf, &r->ring, err, errlen) == -1) {
		snap_release(r);
		return -1;
	}
	snap_set(&rt_slot, r);
	return 0;
}

unsigned
milter_sessions(void)
{
	return atomic_load(&sessions);
}

int
milter_store_open(void)
{
	struct store *st;
	char err[512];
	time_t now = time(NULL);
	int first;

	if (atomic_load(&g_store) != NULL)
		return 1;
	pthread_mutex_lock(&store_lock);
	if (atomic_load(&g_store) != NULL || now == store_tried) {
		pthread_mutex_unlock(&store_lock);
		return atomic_load(&g_store) != NULL;
	}
	first = store_tried == 0;
	store_tried = now;
	if (store_open(&st, store_path, STORE_RDONLY, store_addr_flags, 0,
	    err, sizeof(err)) == -1) {
		pthread_mutex_unlock(&store_lock);
		mmetrics_store_failure();
		log_warnx("store unavailable, bulk mail is tempfailed: %s", err);
		return 0;
	}
	atomic_store(&g_store, st);
	pthread_mutex_unlock(&store_lock);
	log_info("store open: %s%s", store_path, first ? "" : " (recovered)");
	if (milter_ready_hook != NULL)
		milter_ready_hook();
	return 1;
}

/* store_now - the open store's size and last change, for the gauges. */
static int
store_now(uint64_t *bytes, int64_t *changed)
{
	struct store *st = atomic_load(&g_store);

	return st != NULL ? store_info(st, bytes, changed) : -1;
}

int
milter_metrics_start(const struct config *cf, char *err, size_t errlen)
{
	static const struct mmetrics_source src = { store_now, milter_sessions };

	return mmetrics_start(cf->metrics_listen, cf->metrics_max_lists, &src,
	    err, errlen);
}

void
milter_shutdown(int idle)
{
	mmetrics_stop();
	log_info("stopping: %lu bulk and %lu transactional messages; %lu "
	    "recipients allowed, %lu denied, %lu tempfailed",
	    atomic_load(&n_bulk), atomic_load(&n_trans), atomic_load(&n_allow),
	    atomic_load(&n_deny), atomic_load(&n_tempfail));
	sealer_close(g_sealer);
	g_sealer = NULL;
	/* A session still running may be using the store. */
	if (idle) {
		store_close(atomic_exchange(&g_store, NULL));
		audit_close(g_audit);
		g_audit = NULL;
	}
}

static const char *
macro(SMFICTX *ctx, const char *name)
{
	const char *v = smfi_getsymval(ctx, (char *)(uintptr_t)name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static void
setreply(SMFICTX *ctx, const struct msg_reply *rep)
{
	if (smfi_setreply(ctx, (char *)(uintptr_t)rep->rcode,
	    (char *)(uintptr_t)rep->xcode, (char *)(uintptr_t)rep->text) !=
	    MI_SUCCESS)
		log_warnx("smfi_setreply failed; the MTA uses its default text");
}

/* tempfail_cause - the metrics label of a tempfail, from its reply text. */
static const char *
tempfail_cause(const char *text)
{
	if (strncmp(text, "Consent store", 13) == 0)
		return "store";
	if (strncmp(text, "Audit", 5) == 0)
		return "audit";
	if (strncmp(text, "Out of memory", 13) == 0)
		return "memory";
	if (strncmp(text, "Could not", 9) == 0)
		return "edit";
	if (strncmp(text, "Too many", 8) == 0 || strncmp(text, "One recipient",
	    13) == 0)
		return "limit";
	return "state";
}

static sfsistat
reply_of(SMFICTX *ctx, const struct msg_reply *rep)
{
	switch (rep->kind) {
	case MSG_REJECT:
		setreply(ctx, rep);
		return SMFIS_REJECT;
	case MSG_TEMPFAIL:
		mmetrics_tempfail(tempfail_cause(rep->text));
		setreply(ctx, rep);
		return SMFIS_TEMPFAIL;
	case MSG_DISCARD:
		return SMFIS_DISCARD;
	default:
		return SMFIS_CONTINUE;
	}
}

static sfsistat
tempfail(SMFICTX *ctx, const char *why)
{
	struct msg_reply rep = { MSG_TEMPFAIL, "451", "4.3.0", "" };

	snprintf(rep.text, sizeof(rep.text), "%s, try again later", why);
	return reply_of(ctx, &rep);
}

/*
 * audit_decisions - write one audit line per decided recipient, all in
 * one go.  Returns -1 if the audit log could not take them (then it took
 * none, and the caller may tempfail the message).
 */
static int
audit_decisions(struct milter_conn *c, const char *outcome)
{
	const struct config *cf = &c->rt->cf;
	struct audit_entry *e;
	char (*keys)[ADDR_MAX + 1], err[256];
	struct timespec ts;
	size_t n = 0;
	int rc = 0;

	if (g_audit == NULL)
		return audit_wanted ? -1 : 0;	/* closed for shutdown */
	if (c->m.nrcpt == 0)
		return 0;
	e = calloc(c->m.nrcpt, sizeof(*e));
	keys = calloc(c->m.nrcpt, sizeof(*keys));
	if (e == NULL || keys == NULL) {
		free(e);
		free(keys);
		log_warn("audit log: cannot write decisions of %s",
		    c->m.queue_id[0] ? c->m.queue_id : "NOQUEUE");
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	for (unsigned i = 0; i < c->m.nrcpt; i++) {
		const struct msg_rcpt *r = &c->m.rcpt[i];
		struct audit_entry *x = &e[n];
		const char *rcpt = r->key;

		if (r->state == RS_PENDING)
			continue;
		if (rcpt[0] == '\0') {
			struct addr a;

			/* Transactional recipients were never normalised. */
			if (addr_normalize(r->raw, strlen(r->raw), cf->addr_flags,
			    cf->delims, &a, err, sizeof(err)) == 0)
				util_strlcpy(keys[n], a.key, sizeof(keys[n]));
			else
				util_strlcpy(keys[n], r->raw, sizeof(keys[n]));
			rcpt = keys[n];
		}
		memset(x, 0, sizeof(*x));
		x->time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		x->qid = c->m.queue_id[0] ? c->m.queue_id : "NOQUEUE";
		x->msgid = c->m.message_id;
		x->sender = c->m.sender;
		x->list = c->m.class_ == CLASS_BULK ? c->m.cls.list : NULL;
		x->class_ = c->m.class_ == CLASS_BULK ? "bulk" : "transactional";
		x->rcpt = rcpt;
		msg_rcpt_verdict(r, &x->verdict, &x->reason, &x->action);
		x->stage = r->at_rcpt ? "rcpt" : "eom";
		x->outcome = msg_rcpt_outcome(r, outcome);
		if (r->ev.kind == 'c') {
			x->ev_kind = "consent";
			x->ev_value = record_status_name(r->ev.value);
		} else if (r->ev.kind == 's') {
			x->ev_kind = "suppression";
			x->ev_value = record_reason_name(r->ev.value);
			x->ev_key = r->ev.key;
		}
		if (r->ev.kind == 'e') {
			/* Nothing of the record is left: only when. */
			x->ev_kind = "erasure";
			x->ev_value = "erased";
			x->ev_time = r->ev.time;
		} else if (r->ev.kind != 0) {
			x->ev_source = record_source_name(r->ev.source);
			x->ev_time = r->ev.time;
		}
		n++;
	}
	rc = audit_write(g_audit, e, n);
	mmetrics_audit(n, rc != 0);
	free(e);
	free(keys);
	if (rc != 0)
		log_warn("audit log: cannot write decisions of %s",
		    c->m.queue_id[0] ? c->m.queue_id : "NOQUEUE");
	return rc;
}

/* End a message: log every decision, drop the state, release the config. */
static void
finish(struct milter_conn *c, const char *outcome)
{
	char lines[8192];
	size_t o = 0;

	for (unsigned i = 0; i < c->m.nrcpt; i++) {
		const struct msg_rcpt *r = &c->m.rcpt[i];
		char line[1024];
		size_t n;

		if (r->state == RS_PENDING || r->state == RS_TRANSACTIONAL)
			continue;
		msg_format_decision(&c->m, r, outcome, line, sizeof(line));
		/* One line per decision; written together, per message. */
		n = strlen(line);
		if (o + n + 1 > sizeof(lines)) {
			log_lines(lines, o);
			o = 0;
		}
		memcpy(lines + o, line, n);
		o += n;
		lines[o++] = '\n';
		if (c->m.class_ == CLASS_BULK) {
			const char *verdict, *reason, *action;

			msg_rcpt_verdict(r, &verdict, &reason, &action);
			mmetrics_decision(verdict, reason, c->m.cls.list);
		}
		if (r->state == RS_TEMPFAILED)
			atomic_fetch_add(&n_tempfail, 1);
		else if (r->state == RS_DECIDED && r->allow)
			atomic_fetch_add(&n_allow, 1);
		else
			atomic_fetch_add(&n_deny, 1);
	}
	if (o > 0)
		log_lines(lines, o);
	if (c->m.class_ == CLASS_BULK) {
		atomic_fetch_add(&n_bulk, 1);
		mmetrics_message("bulk");
	} else if (c->m.class_ == CLASS_TRANSACTIONAL) {
		atomic_fetch_add(&n_trans, 1);
		mmetrics_message("transactional");
	}
	msg_reset(&c->m);
	rt_put(c->rt);
	c->rt = NULL;
}

/* A message that ends without end-of-message: audit and log what we decided. */
static void
finish_aborted(struct milter_conn *c)
{
	(void)audit_decisions(c, "aborted");
	finish(c, "aborted");
}

/*
 * fleet_fresh - in a fleet, whether this host's replica was complete
 * within sync.max_lag; the age is read from the store at most once a
 * second (one meta read).  1 fresh, 0 stale, not a replica or unreadable:
 * bulk mail is then tempfailed, and why is logged once a minute.
 */
static int
fleet_fresh(struct store *st, const struct sync_conf *sc)
{
	static _Atomic int64_t checked, synced, logged;
	static _Atomic int known;
	int64_t now = (int64_t)time(NULL), s = 0, age, last;
	char err[256], why[320];
	int k;

	if (atomic_load(&checked) != now) {
		k = store_synced(st, &s, err, sizeof(err));
		atomic_store(&synced, s);
		atomic_store(&known, k);
		atomic_store(&checked, now);
	}
	k = atomic_load(&known);
	s = atomic_load(&synced);
	age = now - s;
	if (k == 1 && store_sync_fresh(s, now, sc->max_lag))
		return 1;
	last = atomic_load(&logged);
	if (now - last < 60 || !atomic_compare_exchange_strong(&logged, &last,
	    now))
		return 0;	/* said less than a minute ago */
	if (k == -1)
		snprintf(why, sizeof(why), "cannot read the replica's age");
	else if (k == 0)
		snprintf(why, sizeof(why), "the store is not a replica of the "
		    "fleet journal (consentctl sync bootstrap)");
	else if (s == 0)
		snprintf(why, sizeof(why), "the replica was never complete, or "
		    "cannot follow the fleet journal (consentctl sync status)");
	else if (age < 0)
		snprintf(why, sizeof(why), "the replica's last sync is %lld s "
		    "ahead of the clock, which went back since: its age is "
		    "unknown until consent-syncd completes a sync again",
		    (long long)-age);
	else
		snprintf(why, sizeof(why), "the replica's last sync was %lld s "
		    "ago, over sync.max_lag (%s): is consent-syncd running, and "
		    "the fleet database reachable?", (long long)age, sc->max_lag_s);
	log_warnx("bulk mail is tempfailed (451 4.3.0): %s", why);
	return 0;
}

/*
 * store_current - 1 while the store open is the one at its path; 0 once
 * another was renamed into place or it was moved away (a bootstrap, a
 * restore, while we ran): nothing writes to ours any more, so an opt-out
 * taken since would not be seen.  Bulk mail is then tempfailed until a
 * restart opens the new one, and why is logged once a minute.  Asked of
 * the file system at most once a second.
 */
static int
store_current(struct store *st)
{
	static _Atomic int64_t checked, logged;
	static _Atomic int gone;
	int64_t now = (int64_t)time(NULL), last;
	char err[256] = "";
	int r;

	if (atomic_load(&checked) != now) {
		r = store_replaced(st, err, sizeof(err));
		atomic_store(&gone, r != 0);	/* cannot tell: fail closed */
		atomic_store(&checked, now);
	}
	if (!atomic_load(&gone))
		return 1;
	last = atomic_load(&logged);
	if (now - last >= 60 && atomic_compare_exchange_strong(&logged, &last,
	    now))
		log_warnx("bulk mail is tempfailed (451 4.3.0): the store at %s "
		    "is not the one open any more (replaced or moved since it "
		    "was opened%s%s): restart consent-milter", store_path,
		    err[0] ? ": " : "", err);
	return 0;
}

/*
 * Decide one bulk recipient: normalise, look up, apply the policy.
 * Returns 0, or -1 if the store failed (the caller fails closed).
 */
static int
decide(struct milter_conn *c, struct msg_rcpt *r, int at_rcpt)
{
	const struct config *cf = &c->rt->cf;
	struct store *st;
	struct policy_facts f;
	struct decision d;
	struct addr a;
	struct timespec t0, t1;
	char err[512], safe[300];

	/*
	 * Decide on the mailbox the MTA will deliver to.  A recipient without
	 * one could not be known to be the address looked up: it is refused
	 * as invalid (and removed, where its removal is sure).
	 */
	if (r->mbox == NULL)
		util_strlcpy(err, "no mailbox the MTA is sure to deliver to as "
		    "given (source route, quoting outside RFC 5321, or recorded "
		    "or rewritten otherwise by the MTA)", sizeof(err));
	if (r->mbox == NULL || addr_normalize(r->mbox, strlen(r->mbox),
	    cf->addr_flags, cf->delims, &a, err, sizeof(err)) == -1) {
		log_info("%s: rcpt=<%s>: %s", c->m.queue_id[0] ? c->m.queue_id :
		    "NOQUEUE", util_sanitize(r->raw, strlen(r->raw), safe,
		    sizeof(safe)), err);
		r->state = RS_INVALID;
		r->invalid = 1;
		r->at_rcpt = at_rcpt;
		return 0;
	}
	util_strlcpy(r->key, a.key, sizeof(r->key));
	if (c->m.cls.list[0] == '\0') {
		/* A list we cannot store: no consent can be shown for it. */
		memset(&f, 0, sizeof(f));
		memset(&d, 0, sizeof(d));
		d.reason = PR_UNKNOWN_LIST;
		d.supp = -1;
		msg_decide(&c->rt->rules, &c->m, r, &f, &d, at_rcpt);
		return 0;
	}
	if (!milter_store_open() || (st = atomic_load(&g_store)) == NULL ||
	    !store_current(st))
		return -1;
	/* In a fleet, an old replica may miss an unsubscribe: fail closed. */
	if (cf->sync.enabled && !fleet_fresh(st, &cf->sync))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (store_facts(st, &a, c->m.cls.list, &f, err, sizeof(err)) == -1) {
		log_warnx("store lookup failed, bulk mail is tempfailed: %s", err);
		return -1;
	}
	policy_decide(&cf->policy, &f, (int64_t)time(NULL), &d);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	mmetrics_latency((double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	msg_decide(&c->rt->rules, &c->m, r, &f, &d, at_rcpt);
	return 0;
}

/*
 * The List-Unsubscribe header for the plan: one person's token when one
 * original recipient is left, else the list's own link, if it has one.
 * A header we cannot make is logged, never a reason to hold mail.
 */
static int
unsub_plan(struct milter_conn *c, struct msg_plan *p)
{
	const struct config *cf = &c->rt->cf;
	char value[LISTUNSUB_VALUE_MAX], err[256];
	const char *who = p->sole >= 0 ? c->m.rcpt[p->sole].key : NULL;
	int n, one_click;

	if (p->nremain == 0 || c->m.cls.list[0] == '\0' ||
	    (who != NULL && who[0] == '\0'))
		return 0;
	n = listunsub_header(cf, &c->rt->ring, who, c->m.cls.list, (int64_t)time(NULL),
	    value, sizeof(value), &one_click, err, sizeof(err));
	if (n == -1) {
		log_warnx("%s: no List-Unsubscribe: %s", c->m.queue_id[0] ?
		    c->m.queue_id : "NOQUEUE", err);
		return 0;
	}
	if (n == 0) {
		log_debug("%s: no List-Unsubscribe for %u recipients on list %s "
		    "(set unsubscribe.list_url, or one_recipient_per_message)",
		    c->m.queue_id, p->nremain, c->m.cls.list);
		return 0;
	}
	return msg_plan_unsub(&c->rt->rules, &c->m, p, value, one_click);
}

/*
 * sign_return_path - the envelope sender of a bulk message left with one
 * original recipient becomes LOCAL+fb-TAG@DOMAIN (feedback.sign_return_path),
 * so that a bounce that returns no headers still proves whom it is about.
 * Best effort: a sender that cannot carry a tag keeps its form, logged.
 */
static void
sign_return_path(SMFICTX *ctx, struct milter_conn *c, const struct msg_plan *p)
{
	const struct config *cf = &c->rt->cf;
	const char *qid = c->m.queue_id[0] ? c->m.queue_id : "NOQUEUE";
	char from[ADDR_MAX + 64];
	int n;

	if (!c->chgfrom || p->sole < 0 || p->nremain == 0 ||
	    c->m.sender[0] == '\0' || c->m.rcpt[p->sole].key[0] == '\0')
		return;
	from[0] = '<';
	n = fbtag_sign(&c->rt->ring, c->m.sender, c->m.rcpt[p->sole].key,
	    cf->delims[0] ? cf->delims[0] : '+', (int64_t)time(NULL), from + 1,
	    sizeof(from) - 2);
	if (n < 0) {
		log_warnx("%s: return path not signed: the sender cannot carry "
		    "a tag (local part over %d octets, or signed already)", qid,
		    ADDR_LOCAL_MAX - 1 - FBTAG_LEN);
		return;
	}
	from[n + 1] = '>';
	from[n + 2] = '\0';
	if (smfi_chgfrom(ctx, from, NULL) != MI_SUCCESS)
		log_warnx("%s: return path not signed: smfi_chgfrom failed", qid);
}

/* --- callbacks ---------------------------------------------------------- */

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	/* Every stage and reply we do not need costs Postfix a round trip. */
	static const unsigned long want_off = SMFIP_NOCONNECT | SMFIP_NOHELO |
	    SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA |
	    SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_HDR |
	    SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NR_DATA | SMFIP_NR_UNKN;
	static const unsigned long want_act = SMFIF_ADDHDRS | SMFIF_CHGHDRS |
	    SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_QUARANTINE;
	struct milter_conn *c;

	(void)f2;
	(void)f3;
	/* Refusing here would let the MTA go on without us: go on, and
	 * let a failed edit tempfail the message instead. */
	if ((f0 & (SMFIF_ADDHDRS | SMFIF_DELRCPT)) !=
	    (SMFIF_ADDHDRS | SMFIF_DELRCPT))
		log_warnx("the MTA does not offer to remove recipients or add "
		    "headers: denied bulk mail will be tempfailed");
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("out of memory: tempfailing the connection");
		return SMFIS_TEMPFAIL;
	}
	msg_init(&c->m);
	c->proto = f1 & want_off;
	/*
	 * With no envelope rule nothing is ever refused at RCPT time (the
	 * class is only known at the end): no reply per recipient, one round
	 * trip fewer each.  A rule added by a reload later in the session
	 * only moves that session's decisions to the end of the message.
	 */
	{
		struct runtime *r = rt_get();

		if (r->cf.classify.nrules == 0)
			c->proto |= f1 & SMFIP_NR_RCPT;
		/* Only when asked to: a signed return path (fbtag.h). */
		c->chgfrom = r->cf.fb_sign_return_path && (f0 & SMFIF_CHGFROM);
		rt_put(r);
	}
	atomic_fetch_add(&sessions, 1);
	smfi_setpriv(ctx, c);
	*pf0 = f0 & (want_act | (c->chgfrom ? SMFIF_CHGFROM : 0) |
	    (f0 & SMFIF_SETSYMLIST ? SMFIF_SETSYMLIST : 0));
	*pf1 = c->proto;
	*pf2 = 0;
	*pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		/*
		 * Only the macros we read, at the stage we read them: v names
		 * the MTA; Sendmail has its queue id (i) at MAIL, and ignores
		 * a filter's list for the end of message (it looks for one
		 * for the end of headers instead, 8.17 and 8.18).
		 */
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "v i {auth_authen} "
		    "{daemon_name} {client_addr} {client_port} {client_name}");
		smfi_setsymlist(ctx, SMFIM_ENVRCPT, "{rcpt_addr}");
		smfi_setsymlist(ctx, SMFIM_EOM, "{i}");
	} else if (!atomic_flag_test_and_set(&told_symlist))
		log_warnx("the MTA does not let the filter ask for macros: it "
		    "cannot tell Postfix from Sendmail, so no removal is sure and "
		    "denied bulk recipients are refused");
	return SMFIS_CONTINUE;
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct milter_conn *c = smfi_getpriv(ctx);
	struct classify_env env;
	const char *port, *addr, *qid;
	sfsistat ok;

	if (c == NULL)
		return SMFIS_TEMPFAIL;	/* cannot happen after negotiate */
	ok = (c->proto & SMFIP_NR_MAIL) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	if (c->rt != NULL)
		finish_aborted(c);	/* a message the MTA never ended */
	c->rt = rt_get();
	c->m.mta = mta_detect(macro(ctx, "v"));
	if (!atomic_flag_test_and_set(&told_mta[c->m.mta])) {
		const char *v = macro(ctx, "v");
		char safe[80] = "";

		if (v != NULL)
			util_sanitize(v, strlen(v), safe, sizeof(safe));
		if (c->m.mta == MTA_UNKNOWN)
			log_warnx("the MTA did not name itself as Postfix or "
			    "Sendmail (macro v: %s): no removal is sure, so denied "
			    "bulk recipients are refused", v != NULL ? safe :
			    "not sent");
		else
			log_info("MTA: %s (%s); recipients are removed by its "
			    "rules", mta_name(c->m.mta), safe);
	}
	/* Sendmail names its queue file at MAIL, Postfix later. */
	if (c->m.mta == MTA_SENDMAIL && (qid = macro(ctx, "i")) != NULL)
		util_strlcpy(c->m.queue_id, qid, sizeof(c->m.queue_id));
	/*
	 * Postfix emulates SMTP for sendmail(1) mail: localhost, port 0.
	 * Its localhost is "::1" when inet_protocols = ipv6 (smtpd itself
	 * writes an IPv6 client as "IPv6:...", never so).  Sendmail's
	 * sendmail(1) hands mail to its MTA over SMTP, from a real port:
	 * there, as from any client, recipients may be refused.
	 */
	port = macro(ctx, "{client_port}");
	addr = macro(ctx, "{client_addr}");
	c->m.local = c->m.mta != MTA_SENDMAIL && addr != NULL &&
	    (strcmp(addr, "127.0.0.1") == 0 || strcmp(addr, "::1") == 0) &&
	    (port == NULL || strcmp(port, "0") == 0);
	env.sender = argv != NULL ? argv[0] : NULL;
	if (env.sender != NULL) {
		/* For the audit trail: the address, without its brackets. */
		const char *sp = env.sender;
		size_t n;

		while (*sp == ' ' || *sp == '<')
			sp++;
		n = util_strlcpy(c->m.sender, sp, sizeof(c->m.sender));
		n = n < sizeof(c->m.sender) ? n : sizeof(c->m.sender) - 1;
		while (n > 0 && (c->m.sender[n - 1] == '>' ||
		    c->m.sender[n - 1] == ' '))
			c->m.sender[--n] = '\0';
	}
	env.sasl_login = macro(ctx, "{auth_authen}");
	env.daemon_name = macro(ctx, "{daemon_name}");
	classify_envelope(&c->rt->cf.classify, &env, &c->m.cls);
	c->m.class_ = c->m.cls.class_;
	log_debug("mail from=%s class=%d list=%s why=%s local=%d mta=%s",
	    env.sender ? "(set)" : "(none)", c->m.class_, c->m.cls.list,
	    c->m.cls.why, c->m.local, mta_name(c->m.mta));
	return ok;
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter_conn *c = smfi_getpriv(ctx);
	struct msg_rcpt *r;
	struct msg_reply rep;
	int failed;

	if (c != NULL && (c->proto & SMFIP_NR_RCPT)) {
		/* No reply may be sent: a failure holds the whole message. */
		if (c->rt == NULL || argv == NULL || argv[0] == NULL ||
		    (r = msg_add_rcpt(&c->m, argv[0])) == NULL) {
			c->m.tempfail = 1;
			util_strlcpy(c->m.tempfail_why, "Filter state lost",
			    sizeof(c->m.tempfail_why));
		} else if (c->m.class_ == CLASS_TRANSACTIONAL)
			r->state = RS_TRANSACTIONAL;
		else
			(void)msg_rcpt_witness(&c->m, r, macro(ctx,
			    "{rcpt_addr}"));
		return SMFIS_NOREPLY;
	}
	if (c == NULL || c->rt == NULL || argv == NULL || argv[0] == NULL)
		return tempfail(ctx, "Filter state lost");
	if (msg_rcpt_limit(&c->rt->rules, &c->m, argv[0], &rep))
		return reply_of(ctx, &rep);
	if ((r = msg_add_rcpt(&c->m, argv[0])) == NULL) {
		if (!msg_rcpt_refusable(&c->m, argv[0])) {
			/* Never refuse one recipient here: hold the message. */
			c->m.tempfail = 1;
			util_strlcpy(c->m.tempfail_why, "Out of memory",
			    sizeof(c->m.tempfail_why));
			return SMFIS_CONTINUE;
		}
		return tempfail(ctx, "Out of memory");
	}
	/* What the MTA recorded (Postfix) or delivers to (Sendmail). */
	(void)msg_rcpt_witness(&c->m, r, macro(ctx, "{rcpt_addr}"));
	if (c->m.class_ == CLASS_TRANSACTIONAL) {
		r->state = RS_TRANSACTIONAL;
		return SMFIS_CONTINUE;
	}
	if (c->m.class_ != CLASS_BULK)
		return SMFIS_CONTINUE;	/* the headers will tell */
	failed = decide(c, r, 1) == -1;
	r->at_rcpt = 1;
	msg_rcpt_reply(&c->m, r, failed, &rep);
	return reply_of(ctx, &rep);
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_conn *c = smfi_getpriv(ctx);
	sfsistat ok;

	if (c == NULL)
		return SMFIS_CONTINUE;
	ok = (c->proto & SMFIP_NR_HDR) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	if (c->rt == NULL || name == NULL || value == NULL)
		return ok;
	if (c->m.class_ == CLASS_UNKNOWN || c->m.class_ == CLASS_BULK)
		classify_header(&c->rt->cf.classify, &c->m.hdrs, name, value);
	if (c->m.message_id[0] == '\0' && strcasecmp(name, "Message-ID") == 0)
		util_strlcpy(c->m.message_id, value, sizeof(c->m.message_id));
	else if (strcasecmp(name, LISTUNSUB_HEADER) == 0)
		c->m.nlu++;
	else if (strcasecmp(name, LISTUNSUB_POST_HEADER) == 0)
		c->m.nlupost++;
	return ok;
}

/* Carry out the plan; any failure to act fails the message closed. */
static sfsistat
execute(SMFICTX *ctx, struct milter_conn *c, const struct msg_plan *p)
{
	const struct config *cf = &c->rt->cf;

	if (p->reply.kind != MSG_CONTINUE)
		return reply_of(ctx, &p->reply);
	for (unsigned i = 0; i < c->m.nrcpt; i++)
		if (c->m.rcpt[i].remove && (c->m.rcpt[i].del == NULL ||
		    smfi_delrcpt(ctx, c->m.rcpt[i].del) != MI_SUCCESS ||
		    (c->m.rcpt[i].alt != NULL &&
		    smfi_delrcpt(ctx, c->m.rcpt[i].alt) != MI_SUCCESS)))
			return tempfail(ctx, "Could not remove a recipient");
	if (p->addrcpt != NULL && smfi_addrcpt(ctx,
	    (char *)(uintptr_t)p->addrcpt) != MI_SUCCESS)
		return tempfail(ctx, "Could not redirect a recipient");
	/* Delete from the last to the first: indexes shift otherwise. */
	for (int i = p->strip_list_hdr; i >= 1; i--)
		if (smfi_chgheader(ctx, (char *)(uintptr_t)
		    cf->classify.list_header, i, NULL) != MI_SUCCESS)
			return tempfail(ctx, "Could not remove a header");
	for (int i = p->lu_post_del; i >= 1; i--)
		if (smfi_chgheader(ctx, (char *)(uintptr_t)LISTUNSUB_POST_HEADER, i,
		    NULL) != MI_SUCCESS)
			return tempfail(ctx, "Could not remove a header");
	for (int i = p->lu_del; i >= 1; i--)
		if (smfi_chgheader(ctx, (char *)(uintptr_t)LISTUNSUB_HEADER, i, NULL) !=
		    MI_SUCCESS)
			return tempfail(ctx, "Could not remove a header");
	if (p->lu_value != NULL && (smfi_addheader(ctx,
	    (char *)(uintptr_t)LISTUNSUB_HEADER, p->lu_value) != MI_SUCCESS ||
	    (p->lu_post && smfi_addheader(ctx, (char *)(uintptr_t)LISTUNSUB_POST_HEADER,
	    (char *)(uintptr_t)LISTUNSUB_POST_VALUE) != MI_SUCCESS)))
		return tempfail(ctx, "Could not add a header");
	for (unsigned i = 0; i < p->nhdr; i++)
		if (smfi_addheader(ctx, (char *)(uintptr_t)p->hdr[i].name,
		    p->hdr[i].value) != MI_SUCCESS)
			return tempfail(ctx, "Could not add a header");
	if (p->quarantine && smfi_quarantine(ctx,
	    (char *)(uintptr_t)p->qreason) != MI_SUCCESS)
		return tempfail(ctx, "Could not hold the message");
	return SMFIS_CONTINUE;
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct milter_conn *c = smfi_getpriv(ctx);
	struct msg_plan plan;
	const char *qid, *outcome;
	sfsistat rc;

	if (c == NULL || c->rt == NULL)
		return tempfail(ctx, "Filter state lost");
	if ((qid = macro(ctx, "{i}")) != NULL)
		util_strlcpy(c->m.queue_id, qid, sizeof(c->m.queue_id));
	if (c->m.class_ == CLASS_UNKNOWN) {
		classify_headers(&c->rt->cf.classify, &c->m.hdrs, &c->m.cls);
		c->m.class_ = c->m.cls.class_;
	}
	for (unsigned i = 0; i < c->m.nrcpt; i++) {
		struct msg_rcpt *r = &c->m.rcpt[i];

		if (r->state != RS_PENDING)
			continue;
		if (c->m.class_ != CLASS_BULK)
			r->state = RS_TRANSACTIONAL;
		else if (decide(c, r, 0) == -1) {
			c->m.tempfail = 1;
			util_strlcpy(c->m.tempfail_why, "Consent store unavailable",
			    sizeof(c->m.tempfail_why));
		}
	}
	/* Every recipient the store could not decide is logged as such. */
	if (c->m.tempfail)
		for (unsigned i = 0; i < c->m.nrcpt; i++)
			if (c->m.rcpt[i].state == RS_PENDING)
				c->m.rcpt[i].state = RS_TEMPFAILED;
	if (msg_plan(&c->rt->rules, &c->m, &plan) == -1) {
		msg_plan_free(&plan);
		(void)audit_decisions(c, "tempfailed");
		finish(c, "tempfailed");
		return tempfail(ctx, "Out of memory");
	}
	if (plan.unremovable >= 0) {
		const char *raw = c->m.rcpt[plan.unremovable].raw;
		char safe[300];

		log_warnx("%s: message refused: rcpt=%s has no form %s is sure "
		    "to match, so it cannot be removed with certainty",
		    c->m.queue_id[0] ? c->m.queue_id : "NOQUEUE",
		    util_sanitize(raw, strlen(raw), safe, sizeof(safe)),
		    mta_name(c->m.mta));
	}
	if (plan.reply.kind == MSG_CONTINUE && c->m.class_ == CLASS_BULK &&
	    c->rt->cf.lu_enable && unsub_plan(c, &plan) == -1) {
		msg_plan_free(&plan);
		(void)audit_decisions(c, "tempfailed");
		finish(c, "tempfailed");
		return tempfail(ctx, "Out of memory");
	}
	rc = execute(ctx, c, &plan);
	if (rc == SMFIS_CONTINUE && c->m.class_ == CLASS_BULK)
		sign_return_path(ctx, c, &plan);
	msg_plan_free(&plan);
	outcome = rc == SMFIS_CONTINUE ? NULL : rc == SMFIS_DISCARD ?
	    "discarded" : rc == SMFIS_REJECT ? "rejected" : "tempfailed";
	/* A decision that cannot be proven must not be made. */
	if (audit_decisions(c, outcome) == -1 && audit_fail_closed &&
	    c->m.class_ == CLASS_BULK && rc != SMFIS_TEMPFAIL) {
		rc = tempfail(ctx, "Audit log unavailable");
		outcome = "tempfailed";
	}
	finish(c, outcome);
	return rc;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct milter_conn *c = smfi_getpriv(ctx);

	if (c != NULL && c->rt != NULL)
		finish_aborted(c);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct milter_conn *c = smfi_getpriv(ctx);

	/* libmilter may call close without any other callback. */
	if (c == NULL)
		return SMFIS_CONTINUE;
	if (c->rt != NULL)
		finish_aborted(c);
	msg_reset(&c->m);
	free(c);
	smfi_setpriv(ctx, NULL);
	atomic_fetch_sub(&sessions, 1);
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	"consent-milter",	/* filter name */
	SMFI_VERSION,		/* libmilter version */
	SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT |
	    SMFIF_QUARANTINE | SMFIF_SETSYMLIST |
	    SMFIF_CHGFROM,	/* actions we may take (CHGFROM: when signing) */
	NULL,			/* connect: negotiated away */
	NULL,			/* helo: negotiated away */
	cb_envfrom,		/* MAIL FROM: classify by envelope */
	cb_envrcpt,		/* RCPT TO: decide when the class is known */
	cb_header,		/* each header: classify, Message-ID */
	NULL,			/* end of headers: negotiated away */
	NULL,			/* body: negotiated away */
	cb_eom,			/* end of message: decide the rest, act */
	cb_abort,		/* message aborted: log, reset */
	cb_close,		/* connection closed: free the context */
	NULL,			/* unknown SMTP command: negotiated away */
	NULL,			/* DATA: negotiated away */
	cb_negotiate		/* option negotiation: allocate the context */
};

int
milter_audit_open(const struct config *cf, char *err, size_t errlen)
{
	unsigned char key[AUDIT_KEY_BYTES];
	int rc;

	audit_fail_closed = cf->audit_fail_closed;
	if (cf->audit_file[0] == '\0')
		return 0;
	audit_wanted = 1;
	if (cf->audit_pseudonymize && audit_key_load(cf->audit_key_file, key,
	    err, errlen) == -1)
		return -1;
	rc = audit_open(&g_audit, cf->audit_file, cf->audit_pseudonymize ?
	    key : NULL, err, errlen);
	sodium_memzero(key, sizeof(key));
	if (rc == -1 || g_sealkey == NULL)
		return rc;
	rc = sealer_open(&g_sealer, g_sealkey, g_audit, cf->audit_file,
	    cf->audit_checkpoints, err, errlen);
	g_sealkey = NULL;	/* the sealer's now */
	if (rc == 0) {
		log_info("audit trail sealed every %s with %s, from epoch %llu",
		    cf->audit_seal_interval_s, cf->audit_seal_key,
		    (unsigned long long)sealer_epoch(g_sealer));
		milter_seal_tick();	/* the epochs missed while down, late */
	}
	return rc;
}

int
milter_seal_key_open(const struct config *cf, char *err, size_t errlen)
{
	const struct seal_key *k;

	if (cf->audit_seal_key[0] == '\0' || cf->audit_file[0] == '\0')
		return 0;
	if (seal_key_open(&g_sealkey, cf->audit_seal_key, err, errlen) == -1)
		return -1;
	k = seal_keyfile_key(g_sealkey);
	if (k->interval != cf->audit_seal_interval) {
		snprintf(err, errlen, "audit.seal_interval is %s but %s was made "
		    "for epochs of %llds: set that, or make a new key with "
		    "'consentctl audit keygen' (and give its verifier to the "
		    "auditor)", cf->audit_seal_interval_s, cf->audit_seal_key,
		    (long long)k->interval);
		seal_key_close(g_sealkey);
		g_sealkey = NULL;
		return -1;
	}
	return 0;
}

void
milter_seal_tick(void)
{
	static time_t warned;
	struct timespec ts;
	char err[512];

	if (g_sealer == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (sealer_tick(g_sealer, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec /
	    1000000, err, sizeof(err)) == -1 && ts.tv_sec - warned >= 60) {
		warned = ts.tv_sec;
		log_warnx("%s", err);
	}
}

void
milter_audit_reopen(void)
{
	char err[512];

	if (g_audit != NULL && audit_reopen(g_audit, err, sizeof(err)) == -1)
		log_warnx("%s", err);
	sealer_reopen(g_sealer);
}

int
milter_init(const struct config *cf, char *err, size_t errlen)
{
	if (milter_reload(cf, err, errlen) == -1)
		return -1;
	if (smfi_register(desc) != MI_SUCCESS) {
		snprintf(err, errlen, "smfi_register failed");
		return -1;
	}
	if (smfi_setconn((char *)(uintptr_t)cf->socket) != MI_SUCCESS) {
		snprintf(err, errlen, "milter.socket: bad socket \"%s\"",
		    cf->socket);
		return -1;
	}
	if (smfi_settimeout(cf->timeout) != MI_SUCCESS) {
		snprintf(err, errlen, "smfi_settimeout failed");
		return -1;
	}
	return 0;
}
