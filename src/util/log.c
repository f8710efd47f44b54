/*
 * log.c - logging to stderr in the foreground, to syslog otherwise.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "util/log.h"

static int log_fg = 1;
static int log_dbg;
static const char *log_ident = "consent-milter";

void
log_init(const char *ident, int foreground, int debug)
{
	log_ident = ident;
	log_fg = foreground;
	log_dbg = debug;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
    __attribute__((format(printf, 2, 0)));

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_fg) {
		/* One write per line, so threads do not interleave. */
		flockfile(stderr);
		fprintf(stderr, "%s: %s%s%s\n", log_ident, msg,
		    suffix ? ": " : "", suffix ? suffix : "");
		funlockfile(stderr);
	} else
		syslog(pri, "%s%s%s", msg, suffix ? ": " : "",
		    suffix ? suffix : "");
}

void
log_lines(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;

	if (log_fg) {
		/* One write for the lot, each line with its prefix. */
		char buf[16384];
		size_t o = 0, il = strlen(log_ident);

		while (p < end) {
			nl = memchr(p, '\n', (size_t)(end - p));
			nl = nl ? nl : end;
			if (o + il + 3 + (size_t)(nl - p) > sizeof(buf)) {
				if (o > 0 && write(STDERR_FILENO, buf, o) == -1)
					return;
				o = 0;
				if (il + 3 + (size_t)(nl - p) > sizeof(buf)) {
					log_info("%.*s", (int)(nl - p), p);
					p = nl + 1;
					continue;
				}
			}
			memcpy(buf + o, log_ident, il);
			o += il;
			memcpy(buf + o, ": ", 2);
			o += 2;
			memcpy(buf + o, p, (size_t)(nl - p));
			o += (size_t)(nl - p);
			buf[o++] = '\n';
			p = nl + 1;
		}
		if (o > 0 && write(STDERR_FILENO, buf, o) == -1)
			return;
		return;
	}
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		nl = nl ? nl : end;
		syslog(LOG_INFO, "%.*s", (int)(nl - p), p);
		p = nl + 1;
	}
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	char ebuf[128];
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, strerror_r(saved, ebuf, sizeof(ebuf)));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_dbg)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	char ebuf[128];
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, strerror_r(saved, ebuf, sizeof(ebuf)));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
