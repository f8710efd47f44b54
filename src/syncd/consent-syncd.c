/*
 * consent-syncd.c - keeps this host's store a replica of the fleet
 * journal in PostgreSQL (core/replica.h), and sends the opt-outs made
 * here (the outbox) to it.  One thread: it waits on the signal pipe and
 * the database socket (LISTEN consent_change) at once, and looks at the
 * outbox five times a second (an LMDB stat: cheap).  A wake-up that finds
 * nothing below the horizon yet (an older transaction still open) is
 * retried soon after; sync.poll_interval is the fallback when wake-ups are
 * lost.  The network never blocks a writer: they only append to the
 * outbox.
 *
 * Failures never skip a row: the cursor stays, the reason goes into the
 * store's sync state and the log, and the round is retried with a
 * backoff (1 s, doubling to sync.poll_interval).
 *
 *   SIGTERM, SIGINT  stop (a round in progress ends first)
 *   SIGUSR1, SIGHUP  reload the configuration (the store path, its
 *                    address rules and the user need a restart)
 */
#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "core/config.h"
#include "core/replica.h"
#include "core/store.h"
#include "util/daemon.h"
#include "util/log.h"
#include "util/snap.h"
#include "util/util.h"

#define OUTBOX_MS	200	/* how often the outbox is looked at */
#define NUDGE_MS	50	/* first retry after a wake-up that found nothing */
#define NUDGE_FOR_MS	5000	/* and for how long */
#define LOG_AGAIN_S	600	/* an error that stays is logged again after */

/* The configuration, swapped whole on reload (util/snap.h). */
struct snap {
	struct config cf;
};

static struct snap_slot g_slot = SNAP_SLOT_INIT;

/* The loop's state. */
struct loop {
	struct store *st;
	struct replica *r;
	int64_t	next_round;		/* ms: the next catch-up is due */
	int64_t	next_send;		/* ms: the outbox may be sent */
	int64_t	nudge_until;		/* ms: retry soon after a wake-up */
	int64_t	nudge;			/* ms: the current retry interval */
	int64_t	backoff;		/* ms, after a failure; 0 when fine */
	int64_t	send_backoff;
	char	last[512];		/* the last error logged */
	int64_t	last_at;		/* s: when */
	int	ready;
};

/* version - the -V line. */
static void
version(void)
{
	printf("consent-syncd %s\n", VERSION);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* snap_load - the configuration at path, checked, in a new snapshot. */
static struct snap *
snap_load(const char *path, char *err, size_t errlen)
{
	struct snap *s = snap_alloc(sizeof(*s), NULL);

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (config_load(&s->cf, path, err, errlen) == -1) {
		snap_release(s);
		return NULL;
	}
	if (!s->cf.sync.enabled) {
		snprintf(err, errlen, "%s: no sync section (sync: { conninfo = "
		    "\"service=consent\"; host_id = \"...\"; }): nothing to do",
		    path);
		snap_release(s);
		return NULL;
	}
	return s;
}

/* problem - log msg once (again after LOG_AGAIN_S) and keep it in the store. */
static void
problem(struct loop *l, const char *msg)
{
	int64_t now = (int64_t)time(NULL);
	char err[512];

	if (strcmp(msg, l->last) != 0 || now - l->last_at >= LOG_AGAIN_S) {
		log_warnx("%s", msg);
		util_strlcpy(l->last, msg, sizeof(l->last));
		l->last_at = now;
	}
	if (l->r != NULL && replica_record_error(l->r, now, msg, err,
	    sizeof(err)) == -1)
		log_warnx("cannot record the error in the store: %s", err);
}

/* recovered - the first success after a problem. */
static void
recovered(struct loop *l)
{
	if (l->last[0] != '\0')
		log_info("synchronising again (after: %s)", l->last);
	l->last[0] = '\0';
}

/*
 * store_ready - open the store and check that it is a replica; until it
 * is, retried each poll interval.  1 when ready.
 */
static int
store_ready(struct loop *l, const struct config *cf)
{
	struct store_sync ss;
	char err[512], msg[1800];
	long waiting;
	int rc;

	/*
	 * A store moved away under us (a bootstrap, a restore): follow the new
	 * one, but only once the old one's outbox is sent, or the opt-outs
	 * taken into it would be lost with it.
	 */
	if (l->st != NULL && store_replaced(l->st, err, sizeof(err)) != 0) {
		waiting = l->r != NULL ? replica_outbox_waiting(l->r, err,
		    sizeof(err)) : 0;
		if (waiting != 0) {
			snprintf(msg, sizeof(msg), "%s was replaced: its old "
			    "outbox is sent first (%s)", cf->store_path,
			    waiting > 0 ? "changes waiting" : err);
			problem(l, msg);
			return l->r != NULL;
		}
		log_warnx("%s was replaced or moved since it was opened: "
		    "following the store now there", cf->store_path);
		replica_free(l->r);
		l->r = NULL;
		store_close(l->st);
		l->st = NULL;
	}
	if (l->r != NULL)
		return 1;
	if (l->st == NULL && store_open(&l->st, cf->store_path, 0,
	    cf->addr_flags, cf->map_size, err, sizeof(err)) == -1) {
		snprintf(msg, sizeof(msg), "store unavailable: %s", err);
		problem(l, msg);
		return 0;
	}
	if ((rc = store_sync_get(l->st, &ss, err, sizeof(err))) != 1) {
		snprintf(msg, sizeof(msg), "%s: %s", cf->store_path, rc == 0 ?
		    "not a replica of the fleet journal: run 'consentctl sync "
		    "bootstrap'" : err);
		problem(l, msg);
		/* Closed: a bootstrap renames a new store into place. */
		store_close(l->st);
		l->st = NULL;
		return 0;
	}
	if ((l->r = replica_new(l->st, &cf->sync, cf->addr_flags)) == NULL) {
		problem(l, "out of memory");
		return 0;
	}
	log_info("store %s: replica of the fleet journal from xid %llu, row "
	    "%lld", cf->store_path, (unsigned long long)ss.xid, (long long)ss.id);
	if (!l->ready) {
		l->ready = 1;
		sd_notify(0, "READY=1\nSTATUS=following the fleet journal");
	}
	return 1;
}

/* round - catch up with the journal; schedule the next one. */
static void
round_run(struct loop *l, const struct config *cf, int64_t now)
{
	struct replica_stats rs;
	char err[512];

	if (replica_catch_up(l->r, &rs, err, sizeof(err)) == -1) {
		problem(l, err);
		l->backoff = l->backoff ? l->backoff * 2 : 1000;
		if (l->backoff > cf->sync.poll * 1000)
			l->backoff = cf->sync.poll * 1000;
		l->next_round = now + l->backoff;
		return;
	}
	l->backoff = 0;
	recovered(l);
	if (rs.rows > 0)
		log_debug("applied %ld journal rows, %ld keys folded again",
		    rs.rows, rs.refolded);
	l->next_round = now + cf->sync.poll * 1000;
	/* A wake-up that found nothing: its rows are above the horizon. */
	if (rs.rows == 0 && now < l->nudge_until) {
		l->next_round = now + l->nudge;
		l->nudge = l->nudge * 2 > 1000 ? 1000 : l->nudge * 2;
	} else
		l->nudge_until = 0;
}

/* send - the outbox, if anything waits and no backoff holds it. */
static void
send_run(struct loop *l, const struct config *cf, int64_t now)
{
	char err[512], msg[600];
	long n;

	if (now < l->next_send)
		return;
	if ((n = replica_outbox_waiting(l->r, err, sizeof(err))) == 0)
		return;
	if (n > 0 && (n = replica_send_outbox(l->r, err, sizeof(err))) >= 0) {
		l->send_backoff = 0;
		if (n > 0) {
			log_info("outbox: %ld changes sent to the fleet journal", n);
			l->next_round = now;	/* their echo comes next */
		}
		return;
	}
	snprintf(msg, sizeof(msg), "outbox not sent (kept; retried): %s", err);
	problem(l, msg);
	l->send_backoff = l->send_backoff ? l->send_backoff * 2 : 1000;
	if (l->send_backoff > cf->sync.poll * 1000)
		l->send_backoff = cf->sync.poll * 1000;
	l->next_send = now + l->send_backoff;
}

/* wait_events - sleep until a signal, a wake-up or the next deadline. */
static int
wait_events(struct loop *l, int64_t now)
{
	struct pollfd pfd[2];
	int64_t t = OUTBOX_MS;
	int n = 0, ev;
	char err[512];

	if (l->next_round - now < t)
		t = l->next_round - now < 0 ? 0 : l->next_round - now;
	pfd[n].fd = daemon_signal_fd();
	pfd[n++].events = POLLIN;
	if (l->r != NULL && (pfd[n].fd = replica_socket(l->r)) != -1)
		pfd[n++].events = POLLIN;
	if (poll(pfd, (nfds_t)n, (int)t) > 0 && n == 2 &&
	    (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
		if ((ev = replica_notified(l->r, err, sizeof(err))) == 1) {
			l->next_round = 0;
			l->nudge_until = mono_ms() + NUDGE_FOR_MS;
			l->nudge = NUDGE_MS;
		} else if (ev == -1)
			l->next_round = 0;	/* lost: the round reconnects */
	}
	return daemon_wait(0);
}

/* reload - the configuration again; the store's settings need a restart. */
static void
reload(const char *conffile, struct loop *l)
{
	struct snap *n, *old;
	char err[1024];

	sd_notify(0, "RELOADING=1");
	if ((n = snap_load(conffile, err, sizeof(err))) == NULL)
		log_warnx("reload failed, keeping the old configuration: %s", err);
	else {
		old = snap_get(&g_slot);
		if (strcmp(old->cf.store_path, n->cf.store_path) != 0 ||
		    old->cf.addr_flags != n->cf.addr_flags)
			log_warnx("reload: the store settings change only at a "
			    "restart");
		util_strlcpy(n->cf.store_path, old->cf.store_path,
		    sizeof(n->cf.store_path));
		n->cf.addr_flags = old->cf.addr_flags;
		snap_release(old);
		if (l->r != NULL)
			replica_settings(l->r, &n->cf.sync);
		snap_set(&g_slot, n);
		l->next_round = 0;
		log_info("configuration reloaded from %s", conffile);
	}
	sd_notify(0, "READY=1");
}

/* serve - the loop, until a stop. */
static void
serve(const struct daemon_opts *o)
{
	struct loop l;
	struct snap *s;
	int64_t now;
	int ev = 0;

	memset(&l, 0, sizeof(l));
	while (!(ev & DAEMON_STOP)) {
		if (ev & DAEMON_RELOAD)
			reload(o->conffile, &l);
		s = snap_get(&g_slot);
		now = mono_ms();
		if (store_ready(&l, &s->cf)) {
			send_run(&l, &s->cf, now);
			if (now >= l.next_round)
				round_run(&l, &s->cf, now);
		} else
			l.next_round = now + s->cf.sync.poll * 1000;
		snap_release(s);
		ev = wait_events(&l, mono_ms());
	}
	sd_notify(0, "STOPPING=1");
	replica_free(l.r);
	store_close(l.st);
	log_info("stopped");
}

/*
 * start - load and check the configuration; as root, the user; detach,
 * write the pid file, drop privileges.  Exits on failure.
 */
static void
start(const struct daemon_opts *o)
{
	struct passwd *pw = NULL;
	struct snap *s;
	char err[1024];

	if ((s = snap_load(o->conffile, err, sizeof(err))) == NULL) {
		fprintf(stderr, "consent-syncd: %s\n", err);
		exit(EX_CONFIG);
	}
	if (o->check) {
		printf("%s: configuration OK (host %s)\n", o->conffile,
		    s->cf.sync.host_id);
		snap_release(s);
		exit(0);
	}
	log_init("consent-syncd", o->fg, o->debug);
	if (getuid() == 0 && s->cf.sync.user[0] != '\0' &&
	    (pw = getpwnam(s->cf.sync.user)) == NULL)
		fatalx("sync.user: no user \"%s\"", s->cf.sync.user);
	if (!o->fg && daemon(0, 0) == -1)
		fatal("daemon");
	daemon_write_pidfile(s->cf.sync.pid_file);
	daemon_drop_privileges(pw);
	log_info("consent-syncd %s: host %s, store %s", VERSION,
	    s->cf.sync.host_id, s->cf.store_path);
	snap_set(&g_slot, s);
}

int
main(int argc, char **argv)
{
	struct daemon_opts o;
	struct snap *s;

	daemon_options(argc, argv, "consent-syncd", CONFIG_DEFAULT_PATH,
	    version, &o);
	start(&o);
	daemon_signals(DAEMON_HUP_RELOADS);
	serve(&o);
	s = snap_get(&g_slot);
	if (s != NULL && s->cf.sync.pid_file[0] != '\0')
		(void)unlink(s->cf.sync.pid_file);
	snap_release(s);
	snap_set(&g_slot, NULL);
	return 0;
}
