/*
 * ctl.h - what the consentctl commands share: the parsed global options,
 * the loaded configuration, exit codes and small argument helpers.
 */
#ifndef CTL_H
#define CTL_H

#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"
#include "core/config.h"
#include "core/record.h"
#include "core/store.h"

/* Exit codes, documented in consentctl(8). */
#define CTL_OK		0	/* done; check: allowed */
#define CTL_NO		1	/* check: denied; show/unsuppress: nothing stored */
#define CTL_ERR		2	/* usage, bad input or store error: nothing changed */
#define CTL_PARTIAL	3	/* import --skip-bad: good rows imported, bad rows skipped */

#define CTL_FUTURE_SLACK 86400	/* how far ahead of the clock a time may be */

/* Options a command may accept (ctl_options() mask). */
#define O_LIST		0x0001
#define O_PENDING	0x0002
#define O_CONFIRMED	0x0004
#define O_ALL		0x0008
#define O_SOURCE	0x0010
#define O_IP		0x0020
#define O_AT		0x0040
#define O_NOTE		0x0080
#define O_REASON	0x0100
#define O_EXPIRES	0x0200
#define O_REF		0x0400
#define O_JSON		0x0800
#define O_FORMAT	0x1000
#define O_DRYRUN	0x2000
#define O_SKIPBAD	0x4000
#define O_AUDIT		0x8000	/* --audit FILE...: the files that follow */
#define O_MAILLOG	0x10000	/* --maillog FILE... */
#define O_CSV		0x20000
#define O_HTML		0x40000	/* --html FILE */

/* A file named by --audit or --maillog. */
struct ctl_file {
	const char *path;
	int	maillog;
};
#define O_POSTFIX	0x80000	/* --postfix DIR */
#define O_SENDMAIL	0x100000	/* --sendmail-cf FILE */
#define O_STATUS	0x200000	/* --status STATUS[,STATUS] */
#define O_OLDER		0x400000	/* --older-than DURATION */
#define O_AFTER_ERASURE	0x800000	/* --after-erasure: signed up again */
#define O_MEMORY	0x1000000	/* --memory MB: an import's sort budget */

struct ctl_opts {
	char	list[REC_LIST_MAX + 1];	/* --list, else the default list */
	int	list_set;
	int	pending, confirmed, all, json, dry_run, skip_bad;
	int	after_erasure;		/* an erased person signed up again */
	int	memory_mb;		/* --memory, else 0 */
	int	source;			/* --source, else -1 */
	char	ip[REC_IP_MAX + 1];
	int64_t	at;			/* --at, else now */
	char	note[REC_NOTE_MAX + 1];
	int	reason;			/* --reason, else -1 */
	int64_t	expires;		/* --expires as an absolute time, else 0 */
	char	ref[REC_REF_MAX + 1];
	const char *format;		/* --format, else NULL */
	const char *postfix_dir;	/* --postfix DIR, else NULL */
	const char *sendmail_cf;	/* --sendmail-cf FILE, else NULL */
	const char *status;		/* --status, else NULL */
	int64_t	older;			/* --older-than: seconds, else 0 */
	int	csv;			/* --csv */
	const char *html;		/* --html FILE, else NULL */
	struct ctl_file *files;		/* --audit, --maillog: in order */
	size_t	nfiles;
	const char *arg;		/* the one positional argument, or NULL */
};

struct ctl {
	struct config cf;
	const char *prog;
	const char *storedir;	/* -s, else cf.store_path */
	int64_t	now;
};

/*
 * ctl_options - parse a command's options (those in mask) and at most
 * nargs positional arguments (exactly nargs when required); argv[0] is
 * the command's name ("audit report" for a subcommand).  Prints the
 * error, and the command's usage for a misuse.  0 / -1.  With O_AUDIT or
 * O_MAILLOG, o->files is allocated: ctl_opts_free() after a 0 (a -1
 * frees it).
 */
int	ctl_options(struct ctl *c, int argc, char **argv, unsigned mask,
	    int nargs, int required, struct ctl_opts *o);

/* ctl_names - every command's name, one per line (shell completion). */
void	ctl_names(FILE *fp);
/* ctl_opts_free - what ctl_options() allocated; a second call is a no-op. */
void	ctl_opts_free(struct ctl_opts *o);

/* ctl_usage - every command's usage line, to fp. */
void	ctl_usage(FILE *fp);

/*
 * ctl_command_usage - the usage line of command name to standard error;
 * a subcommand ("audit report") gets its command's.
 */
void	ctl_command_usage(const char *name);

/* ctl_dispatch - run the command argv[0] names; its exit code. */
int	ctl_dispatch(struct ctl *c, int argc, char **argv);

/* ctl_open_store - open the configured store; prints the error; 0 / -1. */
int	ctl_open_store(struct ctl *c, int flags, struct store **sp);

/* ctl_addr - normalise a command-line address; prints the error; 0 / -1. */
int	ctl_addr(struct ctl *c, const char *arg, struct addr *a);

/* ctl_list - normalise a list name into out (REC_LIST_MAX + 1); 0 / -1. */
int	ctl_list(struct ctl *c, const char *arg, char *out);

/* ctl_time - parse --at TIME (RFC 3339), refusing the far future; 0 / -1. */
int	ctl_time(struct ctl *c, const char *arg, int64_t *t);

/* ctl_ip - check and canonicalise an IP address into out; 0 / -1. */
int	ctl_ip(const char *arg, char *out, size_t outlen);

/* ctl_note - copy a free-text note, refusing control characters; 0 / -1. */
int	ctl_note(const char *arg, char *out, size_t outlen);

/* Print an error prefixed with the program name. */
void	ctl_err(struct ctl *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Printing of records, shared by show, check and export. */
void	ctl_print_subject_json(const char *key, const struct subject *s);
void	ctl_print_subject_text(const char *key, const struct subject *s,
	    int64_t now);

/* The commands; argv[0] is the command name. */
int	ctl_init(struct ctl *, int, char **);
int	ctl_subscribe(struct ctl *, int, char **);
int	ctl_confirm(struct ctl *, int, char **);
int	ctl_unsubscribe(struct ctl *, int, char **);
int	ctl_suppress(struct ctl *, int, char **);
int	ctl_unsuppress(struct ctl *, int, char **);
int	ctl_show(struct ctl *, int, char **);
int	ctl_check(struct ctl *, int, char **);
int	ctl_import(struct ctl *, int, char **);
int	ctl_export(struct ctl *, int, char **);
int	ctl_stats(struct ctl *, int, char **);
int	ctl_audit(struct ctl *, int, char **);
int	ctl_keygen(struct ctl *, int, char **);	/* ctl_intake.c */
int	ctl_token(struct ctl *, int, char **);
int	ctl_intake(struct ctl *, int, char **);
int	ctl_feedback(struct ctl *, int, char **);	/* ctl_feedback.c */
int	ctl_doctor(struct ctl *, int, char **);	/* doctor.c */
int	ctl_optin(struct ctl *, int, char **);	/* ctl_optin.c */

/*
 * ctl_record_pending - record o->arg as pending on o->list (double opt-in
 * asked) with o's evidence, source form unless given; messages to fp;
 * its store key into key and the list's status as it now stands into
 * *status.  A CTL_* exit code.  (ctl_edit.c)
 */
int	ctl_record_pending(struct ctl *c, const struct ctl_opts *o, FILE *fp,
	    char key[ADDR_MAX + 1], int *status);
int	ctl_audit_report(struct ctl *, int, char **);	/* report.c */
int	ctl_subject(struct ctl *, int, char **);	/* ctl_subject.c */

/*
 * ctl_audit_needles - what names a in an audit line: the plain rcpt field
 * into plain, and the keyed pseudonym's into needle ("" when recipients
 * are not pseudonymised); the pseudonym itself into pseudo (AUDIT_PSEUDO_MAX
 * octets) unless NULL.  Prints the error; 0 / -1.  (ctl_audit.c)
 */
int	ctl_audit_needles(struct ctl *c, const struct addr *a, char *plain,
	    size_t plen, char *needle, size_t nlen, char *pseudo);
int	ctl_sync(struct ctl *, int, char **);		/* ctl_sync.c */

#endif
