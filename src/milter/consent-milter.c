/*
 * consent-milter.c - the daemon: configuration, socket, privileges,
 * readiness, signals.
 *
 *   SIGTERM, SIGINT  stop taking connections, finish those in flight
 *                    (milter.shutdown_timeout), exit
 *   SIGUSR1          reload the configuration (from the next message on)
 *                    and reopen the audit log
 *   SIGHUP           ignored
 *
 * libmilter's own signal thread stops the filter on SIGHUP.  A handler
 * here cannot keep SIGHUP from it: when this thread has a signal pending,
 * the kernel may hand SIGHUP to any thread that waits for it.  An ignored
 * signal is dropped when it is sent, as long as the main thread does not
 * block it: that is the one sure way.  smfi_main runs in its own thread
 * (which libmilter's blocking does not reach back from), and SIGTERM may
 * go either way: both end in the same graceful stop.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <systemd/sd-daemon.h>

#include "core/config.h"
#include "milter/milter.h"
#include "util/daemon.h"
#include "util/log.h"

static int ready_sent;
static int milter_rc;

/* version - the -V line. */
static void
version(void)
{
	printf("consent-milter %s (libmilter %u.%u)\n", VERSION,
	    SM_LM_VRS_MAJOR(SMFI_VERSION), SM_LM_VRS_MINOR(SMFI_VERSION));
}

/* ready - tell systemd, once: the socket and the store are open. */
static void
ready(void)
{
	if (!ready_sent) {
		ready_sent = 1;
		sd_notify(0, "READY=1\nSTATUS=filtering");
	}
}

/* prepare_socket - open the milter socket, its directory, owner and mode. */
static void
prepare_socket(const struct config *cf, uid_t uid)
{
	const char *path = config_socket_path(cf->socket);
	struct group *gr;
	gid_t gid = (gid_t)-1;

	if (path != NULL) {
		/* The directory, as systemd's RuntimeDirectory would make it. */
		char dir[CONFIG_PATH_MAX], *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0755) == 0 && uid != (uid_t)-1 &&
			    chown(dir, uid, (gid_t)-1) == -1)
				log_warn("chown %s", dir);
		}
	}
	if (smfi_opensocket(1) != MI_SUCCESS)
		fatalx("milter.socket: cannot open %s (is another instance "
		    "running?)", cf->socket);
	if (path == NULL)
		return;
	if (cf->socket_group[0] != '\0') {
		if ((gr = getgrnam(cf->socket_group)) == NULL)
			fatalx("milter.socket_group: no group \"%s\"",
			    cf->socket_group);
		gid = gr->gr_gid;
	}
	if (chown(path, uid, gid) == -1 && getuid() == 0)
		fatal("chown %s", path);
	if (chmod(path, (mode_t)cf->socket_mode) == -1)
		fatal("chmod %s", path);
}

/* milter_thread - libmilter's loop; its end stops the daemon. */
static void *
milter_thread(void *arg)
{
	(void)arg;
	milter_rc = smfi_main();
	daemon_wake();
	return NULL;
}

/* reload - the configuration again, from the next message on. */
static void
reload(const char *conffile)
{
	struct config *cf = malloc(sizeof(*cf));
	char err[1024];

	sd_notify(0, "RELOADING=1");
	if (cf == NULL)
		log_warnx("reload: out of memory; keeping the old configuration");
	else if (config_load(cf, conffile, err, sizeof(err)) == -1)
		log_warnx("reload failed, keeping the old configuration: %s", err);
	else if (milter_reload(cf, err, sizeof(err)) == -1)
		log_warnx("reload failed, keeping the old configuration: %s", err);
	else
		log_info("configuration reloaded from %s", conffile);
	free(cf);
	sd_notify(0, "READY=1");
}

/*
 * start - load and check the configuration, then (as root) the user,
 * libmilter, the socket and the audit log; drop privileges.  Exits on any
 * failure: nothing is served yet.  The caller owns *cfp.
 */
static void
start(const struct daemon_opts *o, struct config **cfp)
{
	struct config *cf;
	struct passwd *pw = NULL;
	char err[1024];

	if ((cf = malloc(sizeof(*cf))) == NULL) {
		fprintf(stderr, "consent-milter: out of memory\n");
		exit(EX_OSERR);
	}
	if (config_load(cf, o->conffile, err, sizeof(err)) == -1) {
		fprintf(stderr, "consent-milter: %s\n", err);
		free(cf);
		exit(EX_CONFIG);
	}
	if (o->check) {
		printf("%s: configuration OK\n", o->conffile);
		free(cf);
		exit(0);
	}
	log_init("consent-milter", o->fg, o->debug);
	if (getuid() == 0 && cf->user[0] != '\0' &&
	    (pw = getpwnam(cf->user)) == NULL)
		fatalx("milter.user: no user \"%s\"", cf->user);
	if (milter_init(cf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (!o->fg && daemon(0, 0) == -1)
		fatal("daemon");
	daemon_write_pidfile(cf->pid_file);
	prepare_socket(cf, pw ? pw->pw_uid : (uid_t)-1);
	daemon_drop_privileges(pw);
	if (milter_audit_open(cf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (milter_metrics_start(cf, err, sizeof(err)) == -1)
		fatalx("metrics.listen: %s", err);
	if (cf->metrics_listen[0] != '\0')
		log_info("metrics on http://%s/metrics", cf->metrics_listen);
	*cfp = cf;
}

/*
 * serve - run libmilter in its own thread and the signal loop here until
 * a stop; retry the store each second until it opens.
 */
static void
serve(const struct daemon_opts *o, const struct config *cf, pthread_t *tid)
{
	int ev;

	daemon_signals(0);	/* SIGHUP ignored: libmilter would stop on it */
	/* Ready once both the socket and the store are open. */
	milter_ready_hook = ready;
	(void)milter_store_open();
	if (pthread_create(tid, NULL, milter_thread, NULL) != 0)
		fatalx("cannot start the milter thread");
	log_info("consent-milter %s listening on %s", VERSION, cf->socket);
	while (!((ev = daemon_wait(1000)) & DAEMON_STOP)) {
		if (ev & DAEMON_RELOAD) {
			reload(o->conffile);
			milter_audit_reopen();
		}
		if (!ready_sent)
			(void)milter_store_open();	/* retried once a second */
	}
}

/*
 * stop - no new connections; those in flight get shutdown_timeout
 * seconds; then close the store and remove the socket and pid file.
 */
static void
stop(const struct config *cf, pthread_t tid)
{
	time_t deadline;
	unsigned left;

	sd_notify(0, "STOPPING=1");
	log_info("stopping: finishing %u sessions in flight", milter_sessions());
	smfi_stop();
	pthread_join(tid, NULL);
	deadline = time(NULL) + cf->shutdown_timeout;
	while ((left = milter_sessions()) > 0 && time(NULL) < deadline)
		usleep(50 * 1000);
	if (left > 0)
		log_warnx("%u sessions still open after %d s: exiting", left,
		    cf->shutdown_timeout);
	milter_shutdown(left == 0);
	if (config_socket_path(cf->socket) != NULL)
		(void)unlink(config_socket_path(cf->socket));
	if (cf->pid_file[0] != '\0')
		(void)unlink(cf->pid_file);
}

int
main(int argc, char **argv)
{
	struct daemon_opts o;
	struct config *cf = NULL;
	pthread_t tid;

	daemon_options(argc, argv, "consent-milter", CONFIG_DEFAULT_PATH,
	    version, &o);
	start(&o, &cf);
	serve(&o, cf, &tid);
	stop(cf, tid);
	free(cf);
	return milter_rc == MI_SUCCESS ? 0 : 1;
}
