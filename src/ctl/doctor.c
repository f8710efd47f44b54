/*
 * doctor.c - consentctl doctor: the findings, the command, and the checks
 * that need no MTA: the users, the store, the keys, the audit trail and
 * the unsubscribe templates.  Each check reads; none changes anything.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/audit.h"
#include "ctl/doctor.h"
#include "util/enc.h"
#include "util/util.h"

#define FINDINGS_MAX	64

struct finding {
	int	sev;
	char	area[16];
	char	msg[512];
	char	fix[256];
};

struct doctor {
	const struct config *cf;
	const char *storedir;
	struct finding f[FINDINGS_MAX];
	size_t	n;
};

void
doctor_note(struct doctor *d, int sev, const char *area, const char *fix,
    const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	if (d->n == FINDINGS_MAX)
		return;
	f = &d->f[d->n++];
	f->sev = sev;
	util_strlcpy(f->area, area, sizeof(f->area));
	util_strlcpy(f->fix, fix ? fix : "", sizeof(f->fix));
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}

const struct config *
doctor_cf(const struct doctor *d)
{
	return d->cf;
}

int
doctor_run(char *const argv[], char *out, size_t outlen)
{
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	int fds[2], st;

	if (outlen == 0 || pipe(fds) == -1)
		return -1;
	out[0] = '\0';
	if ((pid = fork()) == -1) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(fds[1], 1);
		if (null != -1) {
			dup2(null, 0);
			dup2(null, 2);
		}
		close(fds[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + got, outlen - 1 - got)) > 0 ||
	    (n == -1 && errno == EINTR))
		if (n > 0 && (got += (size_t)n) == outlen - 1)
			break;
	out[got] = '\0';
	close(fds[0]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st) == 127 ? -1 : WEXITSTATUS(st);
}

/*
 * doctor_user_may - 1 if user (a name) may read (R_OK) or write (W_OK) path by
 * its mode, owner and group: what access(2) would say as that user.
 * -1 if there is no such user.
 */
int
doctor_user_may(const char *user, const char *path, int how)
{
	struct passwd *pw;
	struct stat sb;
	gid_t groups[64];
	int ngroups = 64, rbit, wbit;

	if ((pw = getpwnam(user)) == NULL)
		return -1;
	if (stat(path, &sb) == -1)
		return 0;
	if (pw->pw_uid == 0)
		return 1;
	if (sb.st_uid == pw->pw_uid) {
		rbit = S_IRUSR;
		wbit = S_IWUSR;
	} else {
		int in = 0;

		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) == -1)
			ngroups = 64;
		for (int i = 0; i < ngroups; i++)
			in |= groups[i] == sb.st_gid;
		rbit = in ? S_IRGRP : S_IROTH;
		wbit = in ? S_IWGRP : S_IWOTH;
	}
	return (!(how & R_OK) || (sb.st_mode & rbit)) &&
	    (!(how & W_OK) || (sb.st_mode & wbit));
}

/* check_users - the daemons' users exist. */
static void
check_users(struct doctor *d)
{
	const struct config *cf = d->cf;

	if (cf->user[0] != '\0' && getpwnam(cf->user) == NULL)
		doctor_note(d, DOC_ERROR, "users", "adduser --system --group "
		    "consent-milter", "milter.user \"%s\" does not exist: the "
		    "filter cannot start as root", cf->user);
	if (cf->lu_enable && cf->unsubd_user[0] != '\0' &&
	    getpwnam(cf->unsubd_user) == NULL)
		doctor_note(d, DOC_WARN, "users", "adduser --system --ingroup "
		    "consent-milter consent-unsubd", "unsubscribe.user \"%s\" "
		    "does not exist: consent-unsubd cannot start as root",
		    cf->unsubd_user);
}

/* check_store_file - one of the store's files: modes, who may use it. */
static void
check_store_file(struct doctor *d, const char *name, int milter_how)
{
	const struct config *cf = d->cf;
	char path[CONFIG_PATH_MAX + 16];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", d->storedir, name);
	if (stat(path, &sb) == -1)
		return;
	if (sb.st_mode & S_IWOTH)
		doctor_note(d, DOC_ERROR, "store", "chmod o-w", "%s is "
		    "world-writable: anyone could change who gets mail", path);
	else if (sb.st_mode & S_IROTH)
		doctor_note(d, DOC_WARN, "store", "chmod o-r", "%s is "
		    "world-readable: it holds personal data", path);
	if (cf->user[0] != '\0' && doctor_user_may(cf->user, path, milter_how) == 0)
		doctor_note(d, DOC_ERROR, "store", "chgrp consent-milter; "
		    "chmod g+rw", "%s cannot be %s by milter.user %s: bulk mail "
		    "is tempfailed", path, milter_how & W_OK ? "written" :
		    "read", cf->user);
	if (cf->lu_enable && cf->unsubd_user[0] != '\0' &&
	    doctor_user_may(cf->unsubd_user, path, R_OK | W_OK) == 0)
		doctor_note(d, DOC_ERROR, "store", "chgrp consent-milter; "
		    "chmod g+rw", "%s cannot be written by unsubscribe.user "
		    "%s: one-click requests get 503", path, cf->unsubd_user);
}

/* check_store - it opens, with the format and rules of this build. */
static void
check_store(struct doctor *d)
{
	struct store *st;
	struct stat sb;
	char err[512];
	unsigned stale;

	if (stat(d->storedir, &sb) == -1) {
		doctor_note(d, DOC_ERROR, "store", "consentctl init", "%s: %s: "
		    "bulk mail is tempfailed until there is a store",
		    d->storedir, strerror(errno));
		return;
	}
	if (sb.st_mode & S_IWOTH)
		doctor_note(d, DOC_ERROR, "store", "chmod 0750", "%s is "
		    "world-writable", d->storedir);
	if (store_open(&st, d->storedir, STORE_RDONLY, d->cf->addr_flags, 0, err,
	    sizeof(err)) == -1) {
		doctor_note(d, DOC_ERROR, "store", NULL, "the store does not "
		    "open: %s", err);
		return;
	}
	stale = store_stale_cleared(st);
	store_close(st);
	if (stale > 0)
		doctor_note(d, DOC_WARN, "store", NULL, "%u stale reader slots "
		    "(a process that died with the store open); cleared now",
		    stale);
	check_store_file(d, "data.mdb", R_OK);
	/* LMDB readers write their slot in lock.mdb. */
	check_store_file(d, "lock.mdb", R_OK | W_OK);
}

/* check_secret - a key file: not for others, readable by who needs it. */
static void
check_secret(struct doctor *d, const char *what, const char *path,
    int unsubd_too)
{
	const struct config *cf = d->cf;
	struct stat sb;

	if (stat(path, &sb) == -1) {
		doctor_note(d, DOC_ERROR, "keys", "consentctl keygen", "%s %s: "
		    "%s", what, path, strerror(errno));
		return;
	}
	if (sb.st_mode & (S_IROTH | S_IWOTH))
		doctor_note(d, DOC_ERROR, "keys", "chmod 0640", "%s %s is open "
		    "to others (mode %04o): anyone could forge tokens", what,
		    path, (unsigned)(sb.st_mode & 07777));
	else if (sb.st_mode & S_IWGRP)
		doctor_note(d, DOC_WARN, "keys", "chmod g-w", "%s %s is "
		    "writable by its group", what, path);
	if (cf->user[0] != '\0' && doctor_user_may(cf->user, path, R_OK) == 0)
		doctor_note(d, DOC_ERROR, "keys", "chgrp consent-milter; chmod "
		    "0640", "%s %s cannot be read by milter.user %s", what, path,
		    cf->user);
	if (unsubd_too && cf->unsubd_user[0] != '\0' &&
	    doctor_user_may(cf->unsubd_user, path, R_OK) == 0)
		doctor_note(d, DOC_ERROR, "keys", "chgrp consent-milter; chmod "
		    "0640", "%s %s cannot be read by unsubscribe.user %s", what,
		    path, cf->unsubd_user);
}

/* check_keys - the unsubscribe keys and the audit key. */
static void
check_keys(struct doctor *d)
{
	const struct config *cf = d->cf;

	if (cf->lu_enable)
		for (unsigned i = 0; i < cf->lu_nkeys; i++)
			check_secret(d, "unsubscribe key", cf->lu_keys[i].file, 1);
	if (cf->audit_file[0] != '\0' && cf->audit_pseudonymize &&
	    cf->audit_key_file[0] != '\0')
		check_secret(d, "audit key", cf->audit_key_file, cf->lu_enable);
}

/* check_audit - the trail can be written and its chain holds. */
static void
check_audit(struct doctor *d)
{
	const struct config *cf = d->cf;
	char chain[AUDIT_HASH_HEX], err[512], dir[CONFIG_PATH_MAX], *slash;
	unsigned long n, bad;
	int have = 0;
	FILE *fp;

	if (cf->audit_file[0] == '\0') {
		doctor_note(d, DOC_INFO, "audit", "audit: { file = "
		    "\"/var/log/consent-milter/audit.log\"; };", "no audit "
		    "trail: decisions are only in the mail log");
		return;
	}
	if ((fp = fopen(cf->audit_file, "r")) == NULL) {
		util_strlcpy(dir, cf->audit_file, sizeof(dir));
		if ((slash = strrchr(dir, '/')) != NULL)
			*slash = '\0';
		if (errno == ENOENT && cf->user[0] != '\0' &&
		    doctor_user_may(cf->user, dir, W_OK) == 0)
			doctor_note(d, DOC_ERROR, "audit", "install -d -o "
			    "consent-milter -m 0750 DIR", "%s cannot be made by "
			    "milter.user %s: the filter does not start", dir,
			    cf->user);
		else if (errno != ENOENT)
			doctor_note(d, DOC_ERROR, "audit", NULL, "%s: %s",
			    cf->audit_file, strerror(errno));
		return;
	}
	if (cf->user[0] != '\0' && doctor_user_may(cf->user, cf->audit_file,
	    W_OK) == 0)
		doctor_note(d, DOC_ERROR, "audit", "chown consent-milter",
		    "%s cannot be written by milter.user %s: bulk mail is "
		    "tempfailed (audit.fail_closed)", cf->audit_file, cf->user);
	if (audit_verify(fp, chain, &have, &n, &bad, NULL, NULL, err,
	    sizeof(err)) == -1)
		doctor_note(d, DOC_ERROR, "audit", "consentctl audit verify "
		    "FILE", "%s: the chain is broken: %s", cf->audit_file, err);
	fclose(fp);
}

/* check_seal - the sealing key and the witness copy, when sealing is on. */
static void
check_seal(struct doctor *d)
{
	const struct config *cf = d->cf;
	struct stat sb;

	if (cf->audit_file[0] == '\0' || cf->audit_seal_key[0] == '\0')
		return;
	if (stat(cf->audit_seal_key, &sb) == -1) {
		doctor_note(d, DOC_ERROR, "seal", "consentctl audit keygen "
		    "SEALKEY", "seal key %s: %s: the filter does not start",
		    cf->audit_seal_key, strerror(errno));
		return;
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO))
		doctor_note(d, DOC_ERROR, "seal", "chmod 0600", "seal key %s "
		    "is open to others (mode %04o): anyone who reads it can "
		    "seal a rewritten log", cf->audit_seal_key,
		    (unsigned)(sb.st_mode & 07777));
	/* The filter evolves the key in place each epoch. */
	if (cf->user[0] != '\0' && doctor_user_may(cf->user,
	    cf->audit_seal_key, R_OK | W_OK) == 0)
		doctor_note(d, DOC_ERROR, "seal", "chown consent-milter "
		    "SEALKEY", "seal key %s cannot be read and written by "
		    "milter.user %s: the filter cannot seal", cf->audit_seal_key,
		    cf->user);
	if (cf->audit_checkpoints[0] == '\0')
		doctor_note(d, DOC_INFO, "seal", "audit: { checkpoints = "
		    "\"/var/lib/consent-milter/checkpoints\"; };", "no witness "
		    "copy of the checkpoints: a log cut after its last seal "
		    "shows only as stale");
	else if (cf->user[0] != '\0' && stat(cf->audit_checkpoints, &sb) == 0 &&
	    doctor_user_may(cf->user, cf->audit_checkpoints, W_OK) == 0)
		doctor_note(d, DOC_ERROR, "seal", "chown consent-milter FILE",
		    "%s cannot be written by milter.user %s",
		    cf->audit_checkpoints, cf->user);
}

/* check_templates - one-click needs an https link (RFC 8058). */
static void
check_templates(struct doctor *d)
{
	const struct config *cf = d->cf;

	if (!cf->lu_enable) {
		doctor_note(d, DOC_INFO, "unsubscribe", "unsubscribe: { enable "
		    "= true; ... };", "no List-Unsubscribe headers: Gmail and "
		    "Yahoo require one-click unsubscribe of bulk senders");
		return;
	}
	if (cf->lu_default.url[0] == '\0')
		doctor_note(d, DOC_WARN, "unsubscribe", "unsubscribe: { url = "
		    "\"https://unsubscribe.example.com/u/%%t\"; };", "no https "
		    "link: the headers cannot offer one-click (RFC 8058)");
	if (cf->lu_nkeys == 0)
		doctor_note(d, DOC_ERROR, "unsubscribe", "consentctl keygen "
		    "/etc/consent-milter/keys/1.key", "unsubscribe.enable with "
		    "no keys: no token can be made");
}

/* print_text - one line per finding, then a summary. */
static void
print_text(const struct doctor *d, unsigned nerr, unsigned nwarn)
{
	static const char *const sev[] = { "info", "warning", "error" };

	for (size_t i = 0; i < d->n; i++) {
		const struct finding *f = &d->f[i];

		printf("%-7s %-11s %s\n", sev[f->sev], f->area, f->msg);
		if (f->fix[0] != '\0')
			printf("%-19s fix: %s\n", "", f->fix);
	}
	if (nerr + nwarn == 0)
		printf("all well (%zu notes)\n", d->n);
	else
		printf("%u errors, %u warnings\n", nerr, nwarn);
}

/* print_json - the findings as one JSON object. */
static void
print_json(const struct doctor *d, unsigned nerr, unsigned nwarn)
{
	static const char *const sev[] = { "info", "warning", "error" };

	printf("{\"errors\":%u,\"warnings\":%u,\"findings\":[", nerr, nwarn);
	for (size_t i = 0; i < d->n; i++) {
		const struct finding *f = &d->f[i];

		printf("%s{\"severity\":\"%s\",\"area\":", i ? "," : "",
		    sev[f->sev]);
		(void)enc_json_puts(stdout, f->area);
		printf(",\"message\":");
		(void)enc_json_puts(stdout, f->msg);
		printf(",\"fix\":");
		if (f->fix[0] != '\0')
			(void)enc_json_puts(stdout, f->fix);
		else
			printf("null");
		printf("}");
	}
	printf("]}\n");
}

int
ctl_doctor(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	struct doctor *d;
	unsigned nerr = 0, nwarn = 0;

	if (ctl_options(c, argc, argv, O_JSON | O_POSTFIX | O_SENDMAIL, 0, 0,
	    &o) == -1)
		return CTL_ERR;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		ctl_err(c, "doctor: out of memory");
		return CTL_ERR;
	}
	d->cf = &c->cf;
	d->storedir = c->storedir;
	check_users(d);
	doctor_postfix(d, o.postfix_dir);
	if (o.sendmail_cf != NULL)
		doctor_sendmail(d, o.sendmail_cf);
	check_store(d);
	check_keys(d);
	check_audit(d);
	check_seal(d);
	check_templates(d);
	for (size_t i = 0; i < d->n; i++) {
		nerr += d->f[i].sev == DOC_ERROR;
		nwarn += d->f[i].sev == DOC_WARN;
	}
	if (o.json)
		print_json(d, nerr, nwarn);
	else
		print_text(d, nerr, nwarn);
	free(d);
	return nerr + nwarn > 0 ? CTL_NO : CTL_OK;
}
