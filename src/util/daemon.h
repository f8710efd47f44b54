/*
 * daemon.h - the skeleton every daemon of the project shares: the options
 * -c -n -f -d -V (and --help, --version), a self-pipe signal loop, and
 * giving up root.  Reference-counted configuration snapshots are in
 * util/snap.h.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <pwd.h>

struct daemon_opts {
	const char *name;	/* the program, for messages */
	const char *conffile;	/* -c, or the default given */
	int	check;		/* -n: check the configuration and exit */
	int	fg;		/* -f: stay in the foreground, log to stderr */
	int	debug;		/* -d: debug lines too (implies -f) */
};

/*
 * daemon_options - parse argv into o.  -V and --version print version()'s
 * line and exit 0, -h and --help the usage on stdout and exit 0; a bad
 * option or an operand prints the usage on stderr and exits 64
 * (EX_USAGE).
 */
void	daemon_options(int argc, char **argv, const char *name,
	    const char *defconf, void (*version)(void), struct daemon_opts *o);

/* daemon_signals() flags, and daemon_wait() results */
#define DAEMON_STOP	0x01	/* SIGTERM, SIGINT, or daemon_wake() */
#define DAEMON_RELOAD	0x02	/* SIGUSR1 (and SIGHUP with DAEMON_HUP_RELOADS) */
#define DAEMON_HUP_RELOADS 0x04	/* else SIGHUP is ignored */

/*
 * daemon_signals - install the handlers: TERM and INT stop, USR1 reloads,
 * HUP reloads or is ignored, PIPE is ignored.  Exits through fatal() if
 * the self-pipe cannot be made.
 */
void	daemon_signals(int flags);

/*
 * daemon_wait - wait up to ms milliseconds for a signal; returns the
 * DAEMON_STOP / DAEMON_RELOAD events since the last call (0 on timeout).
 * A stop stays reported on every later call.
 */
int	daemon_wait(int ms);

/*
 * daemon_signal_fd - the descriptor that turns readable when a signal
 * came, for a loop that polls other descriptors too; then call
 * daemon_wait(0) for the events.  -1 before daemon_signals().
 */
int	daemon_signal_fd(void);

/* daemon_wake - from any thread: make daemon_wait() report DAEMON_STOP. */
void	daemon_wake(void);

/*
 * daemon_drop_privileges - become pw's user and groups for good (NULL: stay
 * as we are).  Only before serving: exits through fatal() on failure.
 */
void	daemon_drop_privileges(const struct passwd *pw);

/* daemon_write_pidfile - our pid into path ("" for none); fatal() if not. */
void	daemon_write_pidfile(const char *path);

#endif
