/*
 * doctor.h - consentctl doctor: checks of a running installation, each
 * finding with a severity, what is wrong, and the line to change.
 *
 * doctor.c has the findings, the command and the checks of the store,
 * the keys, the audit trail and the unsubscribe templates; doctor_mta.c
 * the MTA's wiring (Postfix through postconf(1), a Sendmail .cf).  The
 * parsers of MTA settings are pure and exported for the unit tests.
 */
#ifndef DOCTOR_H
#define DOCTOR_H

#include <stddef.h>

#include "ctl/ctl.h"

#define DOC_ERROR	2	/* mail can go where it must not, or stops */
#define DOC_WARN	1	/* works, but a case is not covered */
#define DOC_INFO	0	/* a check skipped, or worth knowing */

#define DOC_MILTERS_MAX	16

struct doctor;

/*
 * doctor_note - record a finding: sev, the area ("postfix", "store",
 * ...), the fix (the line to change, or NULL) and the message.
 */
void	doctor_note(struct doctor *d, int sev, const char *area,
	    const char *fix, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/* doctor_run - run argv (no shell), its stdout into out (NUL-terminated,
 * cut at outlen); returns its exit status, or -1 if it could not run. */
int	doctor_run(char *const argv[], char *out, size_t outlen);

/*
 * doctor_user_may - 1 if user may read (R_OK) and/or write (W_OK) path by
 * its mode, owner and groups; 0 if not; -1 if there is no such user.
 */
int	doctor_user_may(const char *user, const char *path, int how);

/* doctor_cf - the configuration the doctor checks. */
const struct config *doctor_cf(const struct doctor *d);

/*
 * doctor_postfix - check the wiring of the Postfix instance postconf(1)
 * finds (dir: its config directory, as -c; NULL: MAIL_CONFIG or the
 * default).  doctor_sendmail - check a Sendmail .cf.
 */
void	doctor_postfix(struct doctor *d, const char *dir);
void	doctor_sendmail(struct doctor *d, const char *cf_path);

/* One entry of a Postfix milter list. */
struct doc_milter {
	char	spec[256];	/* "unix:/run/x.sock", "inet:127.0.0.1:8891" */
	char	default_action[32];	/* a per-milter override, or "" */
};

/*
 * doctor_milter_list - split a smtpd_milters value (names separated by
 * blanks or commas; "{ name, default_action = accept }" groups) into at
 * most max entries.  Returns how many, or -1 if it does not parse.
 */
int	doctor_milter_list(const char *value, struct doc_milter *m, size_t max);

/*
 * doctor_same_socket - 1 if a Postfix milter spec names our libmilter
 * socket (milter.socket: "unix:/path", "local:/path", "inet:PORT@HOST");
 * a relative unix path is taken from queue_dir, where Postfix runs.
 */
int	doctor_same_socket(const char *postfix_spec, const char *ours,
	    const char *queue_dir);

/* doctor_signer - 1 if a milter spec looks like a DKIM or ARC signer. */
int	doctor_signer(const char *spec);

#endif
