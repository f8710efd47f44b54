/*
 * doctor_mta.c - the MTA's wiring, as the MTA itself reports it: Postfix
 * through postconf(1) and postmap(1) (the instance they find, so that
 * MAIL_CONFIG is honoured as by Postfix's own tools, or --postfix DIR),
 * Sendmail from its .cf.  What turns the filter off without a sound is
 * an error: milter_default_action = accept, our socket missing from the
 * milter lists or unreachable from smtpd's chroot, a DKIM signer first.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/doctor.h"
#include "util/util.h"

#define OUT_MAX	(64 * 1024)

/* fmt - snprintf that may cut: every use here is bounded text. */
__attribute__((format(printf, 3, 4)))
static void
fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	(void)vsnprintf(buf, len, f, ap);
	va_end(ap);
}

/*
 * tool - run a Postfix tool (postconf, postmap) for the instance in dir
 * (NULL: the one it finds) with up to four more arguments; its output
 * into out.  Its exit status, or -1.
 */
static int
tool(const char *prog, const char *dir, const char *a1, const char *a2,
    const char *a3, char *out, size_t len)
{
	const char *argv[8];
	int n = 0;

	argv[n++] = prog;
	if (dir != NULL) {
		argv[n++] = "-c";
		argv[n++] = dir;
	}
	argv[n++] = a1;
	if (a2 != NULL)
		argv[n++] = a2;
	if (a3 != NULL)
		argv[n++] = a3;
	argv[n] = NULL;
	return doctor_run((char *const *)(uintptr_t)argv, out, len);
}

/* trim - s without surrounding blanks and newlines, in place. */
static char *
trim(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

int
doctor_milter_list(const char *value, struct doc_milter *m, size_t max)
{
	const char *p = value;
	size_t n = 0;

	while (*p != '\0') {
		char item[512];
		size_t len = 0;
		int group = 0;

		while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		if (*p == '{') {
			group = 1;
			p++;
			while (*p != '\0' && *p != '}' && len + 1 < sizeof(item))
				item[len++] = *p++;
			if (*p != '}')
				return -1;
			p++;
		} else
			while (*p != '\0' && *p != ' ' && *p != '\t' &&
			    *p != ',' && *p != '\n' && len + 1 < sizeof(item))
				item[len++] = *p++;
		item[len] = '\0';
		if (n == max)
			return -1;
		memset(&m[n], 0, sizeof(m[n]));
		if (group) {
			/* "{ name, attr = value, ... }" */
			char *save = NULL, *tok = strtok_r(item, ",", &save);

			if (tok == NULL)
				return -1;
			util_strlcpy(m[n].spec, trim(tok), sizeof(m[n].spec));
			while ((tok = strtok_r(NULL, ",", &save)) != NULL) {
				char *eq = strchr(tok, '=');

				if (eq == NULL)
					return -1;
				*eq = '\0';
				if (strcmp(trim(tok), "default_action") == 0)
					util_strlcpy(m[n].default_action,
					    trim(eq + 1),
					    sizeof(m[n].default_action));
			}
		} else
			util_strlcpy(m[n].spec, item, sizeof(m[n].spec));
		if (m[n].spec[0] == '\0')
			return -1;
		n++;
	}
	return (int)n;
}

/* inet_norm - "inet:HOST:PORT" (Postfix) or "inet:PORT@HOST" (libmilter)
 * as "HOST:PORT" into out; 0, or -1 if spec is not inet. */
static int
inet_norm(const char *spec, char *out, size_t len)
{
	const char *p, *at;

	if (strncmp(spec, "inet:", 5) == 0)
		p = spec + 5;
	else if (strncmp(spec, "inet6:", 6) == 0)
		p = spec + 6;
	else
		return -1;
	if ((at = strchr(p, '@')) != NULL)
		snprintf(out, len, "%s:%.*s", at + 1, (int)(at - p), p);
	else
		util_strlcpy(out, p, len);
	if (strncmp(out, "localhost:", 10) == 0) {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "127.0.0.1:%s", out + 10);
		util_strlcpy(out, tmp, len);
	}
	return 0;
}

/* resolve - a unix path as Postfix reaches it: relative to queue_dir. */
static void
resolve(const char *path, const char *queue_dir, char *out, size_t len)
{
	if (path[0] == '/')
		util_strlcpy(out, path, len);
	else
		snprintf(out, len, "%s/%s", queue_dir, path);
}

int
doctor_same_socket(const char *postfix_spec, const char *ours,
    const char *queue_dir)
{
	const char *a = config_socket_path(postfix_spec);
	const char *b = config_socket_path(ours);
	char x[512], y[512];

	if (a != NULL && b != NULL) {
		resolve(a, queue_dir, x, sizeof(x));
		resolve(b, queue_dir, y, sizeof(y));
		return strcmp(x, y) == 0;
	}
	if (inet_norm(postfix_spec, x, sizeof(x)) == 0 &&
	    inet_norm(ours, y, sizeof(y)) == 0)
		return strcmp(x, y) == 0;
	return 0;
}

int
doctor_signer(const char *spec)
{
	static const char *const marks[] = { "dkim", "openarc", "arc", ":8891", "8891@",
	    ":11332", "11332@", "rspamd", NULL };
	char low[256];
	size_t i;

	for (i = 0; spec[i] != '\0' && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)spec[i]);
	low[i] = '\0';
	/* "arc" alone would match "search": only as a word of the path. */
	for (i = 0; marks[i] != NULL; i++) {
		const char *hit = strstr(low, marks[i]);

		if (hit == NULL)
			continue;
		if (strcmp(marks[i], "arc") == 0 && hit > low &&
		    isalpha((unsigned char)hit[-1]))
			continue;
		return 1;
	}
	return 0;
}

/* postconf - the value of one parameter (-x: expanded) into out; 0 / -1. */
static int
postconf(const char *dir, const char *flags, const char *name, char *out,
    size_t len)
{
	if (tool("postconf", dir, flags, name, NULL, out, len) != 0)
		return -1;
	util_strlcpy(out, trim(out), len);
	return 0;
}

/*
 * services - master.cf's services whose command is cmd, from postconf
 * -F: their "name/type", one per line, into out.  0 / -1.
 */
static int
services(const char *dir, const char *cmd, char *out, size_t len)
{
	char *buf = malloc(OUT_MAX), *line, *save = NULL;
	size_t o = 0, cl = strlen(cmd);

	if (buf == NULL)
		return -1;
	out[0] = '\0';
	if (tool("postconf", dir, "-F", "*/*/command", NULL, buf, OUT_MAX) != 0) {
		free(buf);
		return -1;
	}
	/* "smtp/inet/command = smtpd -o ..." */
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *eq = strstr(line, " = "), *slash = strstr(line, "/command");
		int w;

		if (eq == NULL || slash == NULL || slash > eq ||
		    strncmp(eq + 3, cmd, cl) != 0 ||
		    (eq[3 + cl] != '\0' && eq[3 + cl] != ' '))
			continue;
		w = snprintf(out + o, len - o, "%.*s\n", (int)(slash - line),
		    line);
		if (w < 0 || (size_t)w >= len - o)
			break;
		o += (size_t)w;
	}
	free(buf);
	return 0;
}

/* chroot_of - the chroot field of service name ("smtp/inet"): 1 y, 0 n. */
static int
chroot_of(const char *dir, const char *name)
{
	char field[300], v[64];

	snprintf(field, sizeof(field), "%s/chroot", name);
	if (tool("postconf", dir, "-Fh", field, NULL, v, sizeof(v)) != 0)
		return 0;
	/* "-" is the default: no chroot since Postfix 3.0. */
	return trim(v)[0] == 'y';
}

/* check_socket - ours as smtpd (chrooted or not) and mail_owner reach it. */
static void
check_socket(struct doctor *d, const char *dir, const char *queue_dir,
    const char *owner)
{
	const struct config *cf = doctor_cf(d);
	const char *path = config_socket_path(cf->socket);
	char list[4096], host[1024], fix[300], *line, *save = NULL;
	struct stat sb;

	if (path == NULL || services(dir, "smtpd", list, sizeof(list)) == -1)
		return;
	for (line = strtok_r(list, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		int jail = chroot_of(dir, line);
		if (path[0] != '/')
			fmt(host, sizeof(host), "%s/%s", queue_dir, path);
		else if (jail)
			fmt(host, sizeof(host), "%s%s", queue_dir, path);
		else
			util_strlcpy(host, path, sizeof(host));
		if (stat(host, &sb) == -1 || !S_ISSOCK(sb.st_mode)) {
			fmt(fix, sizeof(fix), "milter: { socket = \"unix:%s/"
			    "consent-milter/consent-milter.sock\"; };", queue_dir);
			doctor_note(d, DOC_ERROR, "postfix", fix, "smtpd (%s%s) "
			    "cannot reach the filter's socket: no socket at %s%s",
			    line, jail ? ", chrooted" : "", host, jail ?
			    " (inside the chroot)" : "");
			continue;
		}
		if (doctor_user_may(owner, host, R_OK | W_OK) == 0)
			doctor_note(d, DOC_ERROR, "postfix", "milter: { "
			    "socket_group = \"postfix\"; socket_mode = "
			    "\"0660\"; };", "the socket %s cannot be used by "
			    "%s (mode %04o): smtpd cannot connect", host, owner,
			    (unsigned)(sb.st_mode & 07777));
	}
}

/* check_lists - ours in both milter lists, first, and not "accept". */
static void
check_lists(struct doctor *d, const char *dir, const char *queue_dir)
{
	const struct config *cf = doctor_cf(d);
	static const char *const params[] = { "smtpd_milters",
	    "non_smtpd_milters" };
	struct doc_milter m[DOC_MILTERS_MAX];
	char v[4096], fix[512];
	int n, at;

	for (int p = 0; p < 2; p++) {
		if (postconf(dir, "-hx", params[p], v, sizeof(v)) == -1 ||
		    (n = doctor_milter_list(v, m, DOC_MILTERS_MAX)) == -1) {
			doctor_note(d, DOC_WARN, "postfix", NULL, "%s: cannot be "
			    "read", params[p]);
			continue;
		}
		for (at = 0; at < n; at++)
			if (doctor_same_socket(m[at].spec, cf->socket, queue_dir))
				break;
		if (at == n) {
			fmt(fix, sizeof(fix), "%s = %s%s%s", params[p],
			    p == 1 ? "$smtpd_milters" : "unix:", p == 1 ? "" :
			    (config_socket_path(cf->socket) ? config_socket_path(cf->socket) :
			    cf->socket), p == 0 && v[0] ? ", ..." : "");
			doctor_note(d, p == 0 ? DOC_ERROR : DOC_WARN, "postfix",
			    fix, "%s does not name the filter's socket %s: %s",
			    params[p], cf->socket, p == 0 ? "SMTP mail is not "
			    "filtered at all" : "mail from sendmail(1) is not "
			    "filtered");
			continue;
		}
		if (strcmp(m[at].default_action, "accept") == 0)
			doctor_note(d, DOC_ERROR, "postfix", "default_action = "
			    "tempfail", "%s gives the filter default_action = "
			    "accept: while it is down, bulk mail goes out to "
			    "everyone", params[p]);
		for (int i = 0; i < at; i++)
			if (doctor_signer(m[i].spec)) {
				fmt(fix, sizeof(fix), "%s = %s, %s",
				    params[p], m[at].spec, m[i].spec);
				doctor_note(d, DOC_ERROR, "postfix", fix, "%s lists "
				    "%s (a DKIM/ARC signer) before the filter: it "
				    "signs before the List-Unsubscribe headers "
				    "are added", params[p], m[i].spec);
			}
	}
}

/* intake_routed - ADDR's transport (transport_maps) runs consentctl intake. */
static void
check_intake(struct doctor *d, const char *dir)
{
	const struct config *cf = doctor_cf(d);
	const char *mailto = cf->lu_default.mailto;
	char addr[256], maps[2048], out[1024], field[300], cmd[2048];
	char *map, *save = NULL;
	size_t n;
	int routed = 0;

	if (!cf->lu_enable || strncmp(mailto, "mailto:", 7) != 0)
		return;
	n = strcspn(mailto + 7, "?");
	snprintf(addr, sizeof(addr), "%.*s", (int)n, mailto + 7);
	if (postconf(dir, "-hx", "transport_maps", maps, sizeof(maps)) == -1)
		return;
	for (map = strtok_r(maps, ", \t", &save); map != NULL && !routed;
	    map = strtok_r(NULL, ", \t", &save)) {
		if (tool("postmap", dir, "-q", addr, map, out, sizeof(out)) != 0)
			continue;
		/* "unsubscribe:" or "unsubscribe:nexthop": the service. */
		out[strcspn(out, ":\n")] = '\0';
		snprintf(field, sizeof(field), "%s/unix/command", trim(out));
		if (tool("postconf", dir, "-Fh", field, NULL, cmd, sizeof(cmd)) == 0 &&
		    strncmp(trim(cmd), "pipe", 4) == 0 &&
		    strstr(cmd, "consentctl") != NULL &&
		    strstr(cmd, " intake") != NULL)
			routed = 1;
	}
	if (!routed)
		doctor_note(d, DOC_WARN, "postfix", "transport_maps: ADDRESS "
		    "unsubscribe: (and a pipe service running consentctl "
		    "intake)", "the unsubscribe address %s is not routed to "
		    "consentctl intake: mailed unsubscribes are lost", addr);
}

void
doctor_postfix(struct doctor *d, const char *dir)
{
	char v[1024], queue_dir[1024], owner[64];

	if (postconf(dir, "-h", "mail_version", v, sizeof(v)) == -1) {
		doctor_note(d, DOC_INFO, "postfix", NULL, "postconf did not "
		    "run%s%s: Postfix not checked", dir ? " for " : "",
		    dir ? dir : "");
		return;
	}
	if (postconf(dir, "-hx", "queue_directory", queue_dir,
	    sizeof(queue_dir)) == -1 ||
	    postconf(dir, "-hx", "mail_owner", owner, sizeof(owner)) == -1)
		return;
	if (postconf(dir, "-hx", "milter_default_action", v, sizeof(v)) == 0 &&
	    strcmp(v, "tempfail") != 0)
		doctor_note(d, strcmp(v, "accept") == 0 ? DOC_ERROR : DOC_WARN,
		    "postfix", "milter_default_action = tempfail",
		    "milter_default_action = %s: %s", v, strcmp(v, "accept") == 0 ?
		    "while the filter is down, bulk mail goes out to everyone" :
		    "mail is not retried while the filter is down");
	check_lists(d, dir, queue_dir);
	check_socket(d, dir, queue_dir, owner);
	check_intake(d, dir);
}

void
doctor_sendmail(struct doctor *d, const char *cf_path)
{
	const struct config *cf = doctor_cf(d);
	char line[4096], name[128] = "", order[1024] = "";
	int found = 0;
	FILE *fp;

	if ((fp = fopen(cf_path, "r")) == NULL) {
		doctor_note(d, DOC_ERROR, "sendmail", NULL, "%s: cannot be read",
		    cf_path);
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *s, *f;

		if (strncmp(line, "O InputMailFilters=", 19) == 0)
			util_strlcpy(order, trim(line + 19), sizeof(order));
		if (line[0] != 'X' || (s = strstr(line, "S=")) == NULL)
			continue;
		{
			char spec[512];
			size_t n = strcspn(s + 2, ", \n");

			snprintf(spec, sizeof(spec), "%.*s", (int)n, s + 2);
			if (!doctor_same_socket(spec, cf->socket, "/"))
				continue;
		}
		found = 1;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(line + 1, ", "),
		    line + 1);
		f = strstr(line, "F=");
		if (f == NULL || strcspn(f + 2, ",\n") < 1 ||
		    memchr(f + 2, 'T', strcspn(f + 2, ",\n")) == NULL)
			doctor_note(d, DOC_ERROR, "sendmail", "INPUT_MAIL_FILTER("
			    "`consent-milter', `S=..., F=T, ...')", "%s: the "
			    "filter %s has no F=T: while it is down, Sendmail "
			    "sends bulk mail to everyone", cf_path, name);
	}
	fclose(fp);
	if (!found) {
		doctor_note(d, DOC_ERROR, "sendmail", "INPUT_MAIL_FILTER("
		    "`consent-milter', `S=...')", "%s names no filter on %s",
		    cf_path, cf->socket);
		return;
	}
	/* First in InputMailFilters, before a signer. */
	if (order[0] != '\0' && strncmp(order, name, strlen(name)) != 0)
		doctor_note(d, doctor_signer(order) ? DOC_ERROR : DOC_WARN,
		    "sendmail", "define(`confINPUT_MAIL_FILTERS', "
		    "`consent-milter, ...')", "%s: InputMailFilters=%s does not "
		    "start with %s", cf_path, order, name);
}
