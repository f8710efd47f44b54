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
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
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

static volatile sig_atomic_t got_stop, got_reload;
static int sigpipe_fds[2] = { -1, -1 };
static int ready_sent;

static void
usage(void)
{
	fprintf(stderr, "usage: consent-milter [-c CONFIG] [-n] [-f] [-d] [-V]\n");
	exit(EX_USAGE);
}

static void
on_signal(int sig)
{
	int saved = errno;
	char b = 0;

	if (sig == SIGUSR1)
		got_reload = 1;
	else
		got_stop = 1;
	if (write(sigpipe_fds[1], &b, 1) == -1) {
		/* the pipe is full: a wakeup is pending anyway */
	}
	errno = saved;
}

static void
ready(void)
{
	if (!ready_sent) {
		ready_sent = 1;
		sd_notify(0, "READY=1\nSTATUS=filtering");
	}
}

/* The unix socket's path, or NULL for inet sockets. */
static const char *
socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

static void
prepare_socket(const struct config *cf, uid_t uid)
{
	const char *path = socket_path(cf->socket);
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

static void
write_pidfile(const char *path)
{
	FILE *fp;

	if (path[0] == '\0')
		return;
	if ((fp = fopen(path, "w")) == NULL)
		fatal("milter.pid_file: %s", path);
	fprintf(fp, "%ld\n", (long)getpid());
	fclose(fp);
}

static void *
milter_thread(void *arg)
{
	int *rc = arg;

	*rc = smfi_main();
	got_stop = 1;
	if (write(sigpipe_fds[1], "", 1) == -1) {
		/* the main loop also polls got_stop each second */
	}
	return NULL;
}

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

int
main(int argc, char **argv)
{
	const char *conffile = CONFIG_DEFAULT_PATH;
	struct config *cf;
	struct passwd *pw = NULL;
	struct sigaction sa;
	pthread_t tid;
	char err[1024];
	int ch, check = 0, fg = 0, debug = 0, mrc = 0;
	time_t deadline;
	unsigned left;

	while ((ch = getopt(argc, argv, "c:nfdVh")) != -1) {
		switch (ch) {
		case 'c': conffile = optarg; break;
		case 'n': check = 1; break;
		case 'f': fg = 1; break;
		case 'd': debug = 1; fg = 1; break;
		case 'V':
			printf("consent-milter %s (libmilter %u.%u)\n", VERSION,
			    SM_LM_VRS_MAJOR(SMFI_VERSION),
			    SM_LM_VRS_MINOR(SMFI_VERSION));
			return 0;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if ((cf = malloc(sizeof(*cf))) == NULL)
		fatalx("out of memory");
	if (config_load(cf, conffile, err, sizeof(err)) == -1) {
		fprintf(stderr, "consent-milter: %s\n", err);
		free(cf);
		return EX_CONFIG;
	}
	if (check) {
		printf("%s: configuration OK\n", conffile);
		free(cf);
		return 0;
	}
	log_init("consent-milter", fg, debug);
	if (getuid() == 0 && cf->user[0] != '\0' &&
	    (pw = getpwnam(cf->user)) == NULL)
		fatalx("milter.user: no user \"%s\"", cf->user);
	if (milter_init(cf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (!fg && daemon(0, 0) == -1)
		fatal("daemon");
	write_pidfile(cf->pid_file);
	prepare_socket(cf, pw ? pw->pw_uid : (uid_t)-1);
	daemon_drop_privileges(pw);
	if (milter_audit_open(cf, err, sizeof(err)) == -1)
		fatalx("%s", err);

	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	/* Ready once both the socket and the store are open. */
	milter_ready_hook = ready;
	(void)milter_store_open();
	if (pthread_create(&tid, NULL, milter_thread, &mrc) != 0)
		fatalx("cannot start the milter thread");
	log_info("consent-milter %s listening on %s", VERSION, cf->socket);

	while (!got_stop) {
		char buf[16];
		fd_set rfds;
		struct timeval tv = { 1, 0 };

		FD_ZERO(&rfds);
		FD_SET(sigpipe_fds[0], &rfds);
		if (select(sigpipe_fds[0] + 1, &rfds, NULL, NULL, &tv) > 0)
			while (read(sigpipe_fds[0], buf, sizeof(buf)) > 0)
				;
		if (got_reload) {
			got_reload = 0;
			reload(conffile);
			milter_audit_reopen();
		}
		if (!ready_sent)
			(void)milter_store_open();	/* retried once a second */
	}

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
	if (socket_path(cf->socket) != NULL)
		(void)unlink(socket_path(cf->socket));
	if (cf->pid_file[0] != '\0')
		(void)unlink(cf->pid_file);
	free(cf);
	return mrc == MI_SUCCESS ? 0 : 1;
}
