/*
 * log.h - logging to stderr in the foreground, to syslog otherwise.
 * User data goes in as arguments, never as the format.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

/* log_init - ident for syslog; foreground: log to stderr; debug: log debug. */
void	log_init(const char *ident, int foreground, int debug);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));	/* with strerror(errno) */
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * log_lines - several info lines at once (text holds them, each ended by
 * a newline): one write in the foreground, one syslog record each
 * otherwise.  The caller has sanitised them.
 */
void	log_lines(const char *text, size_t len);
/* fatal - only before the milter starts: logs and exits 1 (EX_CONFIG for fatalx_config). */
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
