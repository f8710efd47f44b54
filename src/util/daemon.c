/*
 * daemon.c - the daemon skeleton: options, the self-pipe signal loop,
 * giving up root, the pid file.  Shared by every daemon, so that they
 * start, stop and reload the same way.
 */
#include <sys/select.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "util/daemon.h"
#include "util/log.h"

static volatile sig_atomic_t got_stop, got_reload;
static int sigpipe_fds[2] = { -1, -1 };

/* usage - the synopsis on fp. */
static void
usage(FILE *fp, const char *name)
{
	fprintf(fp, "usage: %s [-c CONFIG] [-n] [-f] [-d] [-V]\n"
	    "  -c CONFIG  configuration file\n"
	    "  -n         check the configuration and exit\n"
	    "  -f         stay in the foreground, log to stderr\n"
	    "  -d         debug lines too (implies -f)\n"
	    "  -V         print the version and exit\n", name);
}

void
daemon_options(int argc, char **argv, const char *name, const char *defconf,
    void (*version)(void), struct daemon_opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->name = name;
	o->conffile = defconf;
	while ((ch = getopt_long(argc, argv, "c:nfdVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->conffile = optarg; break;
		case 'n': o->check = 1; break;
		case 'f': o->fg = 1; break;
		case 'd': o->debug = o->fg = 1; break;
		case 'V':
			version();
			exit(0);
		case 'h':
			usage(stdout, name);
			exit(0);
		default:
			usage(stderr, name);
			exit(EX_USAGE);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", name,
		    argv[optind]);
		usage(stderr, name);
		exit(EX_USAGE);
	}
}

/* on_signal - note the signal and wake the loop; async-signal-safe. */
static void
on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGTERM || sig == SIGINT)
		got_stop = 1;
	else
		got_reload = 1;
	if (write(sigpipe_fds[1], "", 1) == -1) {
		/* the pipe is full: a wakeup is pending anyway */
	}
	errno = saved;
}

void
daemon_signals(int flags)
{
	struct sigaction sa;

	if (sigpipe_fds[0] == -1 &&
	    pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	if (flags & DAEMON_HUP_RELOADS)
		sigaction(SIGHUP, &sa, NULL);
	else
		signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
}

int
daemon_wait(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	char buf[16];
	fd_set rfds;
	int ev = 0;

	if (!got_stop && !got_reload && sigpipe_fds[0] != -1) {
		FD_ZERO(&rfds);
		FD_SET(sigpipe_fds[0], &rfds);
		if (select(sigpipe_fds[0] + 1, &rfds, NULL, NULL, &tv) > 0)
			while (read(sigpipe_fds[0], buf, sizeof(buf)) > 0)
				;
	} else if (sigpipe_fds[0] != -1) {
		/* Events already here: empty the pipe, so a poll sleeps again. */
		while (read(sigpipe_fds[0], buf, sizeof(buf)) > 0)
			;
	}
	if (got_reload) {
		got_reload = 0;
		ev |= DAEMON_RELOAD;
	}
	if (got_stop)
		ev |= DAEMON_STOP;
	return ev;
}

int
daemon_signal_fd(void)
{
	return sigpipe_fds[0];
}

void
daemon_wake(void)
{
	got_stop = 1;
	if (sigpipe_fds[1] != -1 && write(sigpipe_fds[1], "", 1) == -1) {
		/* the loop also looks at got_stop on its next turn */
	}
}

void
daemon_drop_privileges(const struct passwd *pw)
{
	if (pw == NULL)
		return;
	if (setgroups(0, NULL) == -1 || initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)
		fatal("cannot become user %s", pw->pw_name);
	/* Make sure there is no way back. */
	if (setuid(0) == 0)
		fatalx("privileges not dropped");
}

void
daemon_write_pidfile(const char *path)
{
	FILE *fp;

	if (path[0] == '\0')
		return;
	if ((fp = fopen(path, "w")) == NULL)
		fatal("pid file %s", path);
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) == EOF)
		fatal("pid file %s", path);
}
