/*
 * ctl.c - what consentctl's commands share: the command table, option
 * parsing, error messages, and the checks of addresses, lists, times, IP
 * addresses and notes given on the command line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "util/time.h"
#include "util/util.h"

static const struct {
	const char *name;
	int	(*fn)(struct ctl *, int, char **);
	const char *usage;
} commands[] = {
	{ "init", ctl_init, "init" },
	{ "subscribe", ctl_subscribe, "subscribe ADDRESS [--list L] [--pending | --confirmed] [--source S] [--ip IP] [--at TIME] [--note TEXT] [--after-erasure]" },
	{ "confirm", ctl_confirm, "confirm ADDRESS [--list L] [--ip IP] [--at TIME] [--note TEXT]" },
	{ "unsubscribe", ctl_unsubscribe, "unsubscribe ADDRESS [--list L | --all] [--source S] [--ip IP] [--at TIME] [--note TEXT]" },
	{ "suppress", ctl_suppress, "suppress ADDRESS|DOMAIN --reason REASON [--expires DURATION|TIME] [--source S] [--ref REF] [--note TEXT] [--at TIME]" },
	{ "unsuppress", ctl_unsuppress, "unsuppress ADDRESS|DOMAIN" },
	{ "show", ctl_show, "show ADDRESS|DOMAIN [--json]" },
	{ "check", ctl_check, "check ADDRESS [--list L] [--json]" },
	{ "import", ctl_import, "import FILE|- [--format auto|csv|klaviyo|mailchimp] [--list L] [--dry-run] [--skip-bad] [--memory MB]" },
	{ "export", ctl_export, "export [--format csv|jsonl] [--status STATUS[,STATUS]] [--list L] [--older-than DURATION]" },
	{ "stats", ctl_stats, "stats [--list L] [--json]" },
	{ "keygen", ctl_keygen, "keygen FILE" },
	{ "token", ctl_token, "token ADDRESS [--list L] [--at TIME]" },
	{ "intake", ctl_intake, "intake RECIPIENT" },
	{ "feedback", ctl_feedback, "feedback [--rcpt ADDRESS] | feedback --maillog FILE... [--follow [--position FILE]] | feedback queue [list | show ID | apply ID | discard ID [--force]] [--json] | feedback sign RECIPIENT|- SENDER" },
	{ "sync", ctl_sync, "sync init [--admin CONNINFO] [--replica-role R] [--writer-role W] | sync status [--json] | sync bootstrap" },
	{ "optin", ctl_optin, "optin ADDRESS [--list L] [--source S] [--ip IP] [--note TEXT] [--at TIME] [--json] [--after-erasure]" },
	{ "doctor", ctl_doctor, "doctor [--postfix DIR] [--sendmail-cf FILE] [--json]" },
	{ "subject", ctl_subject, "subject export ADDRESS [--audit FILE]..." },
	{ "audit", ctl_audit, "audit verify [--key VERIFIER] [--checkpoints FILE] FILE..." },
	/* Subcommands: their usage; ctl_audit runs them. */
	{ "subject erase", NULL, "subject erase ADDRESS" },
	{ "audit keygen", NULL, "audit keygen SEALKEY" },
	{ "audit find", NULL, "audit find ADDRESS [--audit FILE]..." },
	{ "audit report", NULL, "audit report --audit FILE... [--maillog FILE...] [--json | --csv | --html FILE]" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* ctl_names - every command's name, one per line (shell completion). */
void
ctl_names(FILE *fp)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].fn != NULL)
			fprintf(fp, "%s\n", commands[i].name);
}

/* ctl_usage - every command's usage line, to fp. */
void
ctl_usage(FILE *fp)
{
	fprintf(fp, "usage: consentctl [-c CONFIG] [-s STOREDIR] COMMAND ...\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %s\n", commands[i].usage);
}

/* ctl_command_usage - the usage of command name (ctl.h). */
void
ctl_command_usage(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			fprintf(stderr, "usage: consentctl %s\n", commands[i].usage);
}

static const struct option longopts[] = {
	{ "list", required_argument, NULL, 'l' },
	{ "pending", no_argument, NULL, 'P' },
	{ "confirmed", no_argument, NULL, 'C' },
	{ "all", no_argument, NULL, 'A' },
	{ "source", required_argument, NULL, 'S' },
	{ "ip", required_argument, NULL, 'i' },
	{ "at", required_argument, NULL, 't' },
	{ "note", required_argument, NULL, 'n' },
	{ "reason", required_argument, NULL, 'r' },
	{ "expires", required_argument, NULL, 'e' },
	{ "ref", required_argument, NULL, 'R' },
	{ "json", no_argument, NULL, 'j' },
	{ "format", required_argument, NULL, 'f' },
	{ "dry-run", no_argument, NULL, 'D' },
	{ "skip-bad", no_argument, NULL, 'k' },
	{ "audit", required_argument, NULL, 'a' },
	{ "maillog", required_argument, NULL, 'm' },
	{ "csv", no_argument, NULL, 'c' },
	{ "html", required_argument, NULL, 'h' },
	{ "postfix", required_argument, NULL, 'p' },
	{ "sendmail-cf", required_argument, NULL, 'M' },
	{ "status", required_argument, NULL, 's' },
	{ "older-than", required_argument, NULL, 'o' },
	{ "after-erasure", no_argument, NULL, 'E' },
	{ "memory", required_argument, NULL, 'Y' },
	{ NULL, 0, NULL, 0 }
};
/* Each option's bit in the mask, and what its value is called. */
static const struct {
	unsigned bit;
	const char *value;
} optinfo[] = {
	{ O_LIST, "L" }, { O_PENDING, NULL }, { O_CONFIRMED, NULL },
	{ O_ALL, NULL }, { O_SOURCE, "S" }, { O_IP, "IP" }, { O_AT, "TIME" },
	{ O_NOTE, "TEXT" }, { O_REASON, "REASON" },
	{ O_EXPIRES, "DURATION or TIME" }, { O_REF, "REF" }, { O_JSON, NULL },
	{ O_FORMAT, "FORMAT" }, { O_DRYRUN, NULL }, { O_SKIPBAD, NULL },
	{ O_AUDIT, "FILE" }, { O_MAILLOG, "FILE" }, { O_CSV, NULL },
	{ O_HTML, "FILE" }, { O_POSTFIX, "DIR" }, { O_SENDMAIL, "FILE" },
	{ O_STATUS, "STATUS" }, { O_OLDER, "DURATION" }, { O_AFTER_ERASURE, NULL },
	{ O_MEMORY, "MB" },
};

/* opt_index - the longopts index of the option whose val is ch, or -1. */
static int
opt_index(int ch)
{
	for (int i = 0; longopts[i].name != NULL; i++)
		if (longopts[i].val == ch)
			return i;
	return -1;
}

/*
 * opt_value - take the value of the option ch; prints the error.  0, or
 * -1 for a bad value.
 */
static int
opt_value(struct ctl *c, int ch, const char *arg, struct ctl_opts *o,
    const char **expires)
{
	switch (ch) {
	case 'l':
		if (ctl_list(c, arg, o->list) == -1)
			return -1;
		o->list_set = 1;
		break;
	case 'P': o->pending = 1; break;
	case 'E': o->after_erasure = 1; break;
	case 'C': o->confirmed = 1; break;
	case 'A': o->all = 1; break;
	case 'j': o->json = 1; break;
	case 'c': o->csv = 1; break;
	case 'h': o->html = arg; break;
	case 'p': o->postfix_dir = arg; break;
	case 'M': o->sendmail_cf = arg; break;
	case 's': o->status = arg; break;
	case 'o':
		if (time_duration_parse(arg, &o->older) == -1 || o->older <= 0) {
			ctl_err(c, "bad duration \"%s\" (such as 30d, 12h)", arg);
			return -1;
		}
		break;
	case 'Y': {
		char *end;
		long mb;

		errno = 0;
		mb = strtol(arg, &end, 10);
		if (errno != 0 || end == arg || *end != '\0' || mb < 1 ||
		    mb > 1048576) {
			ctl_err(c, "bad --memory \"%s\" (MB, 1 to 1048576)",
			    arg);
			return -1;
		}
		o->memory_mb = (int)mb;
		break;
	}
	case 'D': o->dry_run = 1; break;
	case 'k': o->skip_bad = 1; break;
	case 'f': o->format = arg; break;
	case 'e': *expires = arg; break;
	case 'a':
	case 'm':
		o->files[o->nfiles].path = arg;
		o->files[o->nfiles++].maillog = ch == 'm';
		break;
	case 'S':
		if ((o->source = record_source_parse(arg)) <= 0) {
			ctl_err(c, "unknown source \"%s\" (form, import, api, "
			    "one-click, mailto, admin, bounce, complaint)", arg);
			return -1;
		}
		break;
	case 'i':
		if (ctl_ip(arg, o->ip, sizeof(o->ip)) == -1) {
			ctl_err(c, "invalid IP address \"%s\"", arg);
			return -1;
		}
		break;
	case 't':
		return ctl_time(c, arg, &o->at);
	case 'n':
		if (ctl_note(arg, o->note, sizeof(o->note)) == -1) {
			ctl_err(c, "invalid note: at most %d octets of UTF-8 "
			    "text without control characters", REC_NOTE_MAX);
			return -1;
		}
		break;
	case 'R':
		if (ctl_note(arg, o->ref, sizeof(o->ref)) == -1) {
			ctl_err(c, "invalid reference: at most %d octets of "
			    "text without control characters", REC_REF_MAX);
			return -1;
		}
		break;
	case 'r':
		if ((o->reason = record_reason_parse(arg)) <= 0) {
			ctl_err(c, "unknown reason \"%s\" (unsubscribed_all, "
			    "hard_bounce, complaint, invalid, manual, "
			    "soft_bounce)", arg);
			return -1;
		}
		break;
	}
	return 0;
}

/* opt_expires - --expires as an absolute time; prints the error; 0 / -1. */
static int
opt_expires(struct ctl *c, const char *expires, struct ctl_opts *o)
{
	int64_t d;

	/* A duration counts from --at; a time is taken as it is. */
	if (time_duration_parse(expires, &d) == 0)
		o->expires = o->at + d;
	else if (time_parse(expires, &o->expires) == -1) {
		ctl_err(c, "invalid --expires \"%s\": a duration such as 30d or "
		    "12h, or an RFC 3339 time", expires);
		return -1;
	}
	if (o->expires <= o->at) {
		ctl_err(c, "--expires %s is not after the suppression's time",
		    expires);
		return -1;
	}
	return 0;
}

/* exclusive - the options that exclude each other; prints which; 0 / -1. */
static int
exclusive(struct ctl *c, const char *cmd, const struct ctl_opts *o)
{
	if (o->pending && o->confirmed) {
		ctl_err(c, "%s: --pending and --confirmed exclude each other",
		    cmd);
		return -1;
	}
	if (o->all && o->list_set) {
		ctl_err(c, "%s: --list and --all exclude each other", cmd);
		return -1;
	}
	if (o->json + o->csv + (o->html != NULL) > 1) {
		ctl_err(c, "%s: --json, --csv and --html exclude each other",
		    cmd);
		return -1;
	}
	return 0;
}

/*
 * ctl_options - in argv's order, so that the files after --audit or
 * --maillog are theirs; a bare word is a file while one of those is
 * the last option (given as "--audit FILE", not "--audit=FILE"), else
 * a positional argument.
 */
int
ctl_options(struct ctl *c, int argc, char **argv, unsigned mask, int nargs,
    int required, struct ctl_opts *o)
{
	const char *expires = NULL, *cmd = argv[0];
	int ch, idx, npos = 0, files = 0;

	memset(o, 0, sizeof(*o));
	o->source = -1;
	o->reason = -1;
	o->at = c->now;
	util_strlcpy(o->list, c->cf.default_list, sizeof(o->list));
	if ((mask & (O_AUDIT | O_MAILLOG)) &&
	    (o->files = calloc((size_t)argc, sizeof(*o->files))) == NULL) {
		ctl_err(c, "%s: out of memory", cmd);
		return -1;
	}
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "-:", longopts, &idx)) != -1) {
		if (ch == 1) {
			if (files) {
				o->files[o->nfiles].path = optarg;
				o->files[o->nfiles++].maillog = files == 2;
			} else if (npos++ == 0)
				o->arg = optarg;
			continue;
		}
		if (ch == '?') {
			ctl_err(c, "%s: unknown option %s", cmd, argv[optind - 1]);
			goto bad;
		}
		if (ch == ':')
			idx = opt_index(optopt);
		if (ch == ':' && (mask & optinfo[idx].bit)) {
			ctl_err(c, "%s: --%s needs a %s", cmd, longopts[idx].name,
			    optinfo[idx].value);
			goto bad;
		}
		if (!(mask & optinfo[idx].bit)) {
			ctl_err(c, "%s: option --%s does not apply", cmd,
			    longopts[idx].name);
			goto bad;
		}
		/* "--audit --json": the value is an option, not a file. */
		if (optinfo[idx].value != NULL && strcmp(optinfo[idx].value,
		    "FILE") == 0 && strncmp(optarg, "--", 2) == 0) {
			ctl_err(c, "%s: --%s needs a FILE", cmd,
			    longopts[idx].name);
			goto bad;
		}
		if (opt_value(c, ch, optarg, o, &expires) == -1)
			goto fail;
		files = (ch == 'a' || ch == 'm') && strchr(argv[optind - 1],
		    '=') == NULL ? 1 + (ch == 'm') : 0;
	}
	for (; optind < argc; optind++)
		if (npos++ == 0)
			o->arg = argv[optind];
	if (exclusive(c, cmd, o) == -1)
		goto bad;
	if (expires != NULL && opt_expires(c, expires, o) == -1)
		goto fail;
	if (npos > nargs || (required && npos < nargs)) {
		if (npos > nargs && nargs == 0 && (mask & O_AUDIT))
			ctl_err(c, "%s: %s: a file, but of what? (--audit or "
			    "--maillog first)", cmd, o->arg);
		else
			ctl_err(c, "%s", npos > nargs ? "too many arguments" :
			    "missing argument");
		goto bad;
	}
	return 0;
bad:
	ctl_command_usage(cmd);
fail:
	ctl_opts_free(o);
	return -1;
}

void
ctl_opts_free(struct ctl_opts *o)
{
	free(o->files);
	o->files = NULL;
	o->nfiles = 0;
}

void
ctl_err(struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
ctl_open_store(struct ctl *c, int flags, struct store **sp)
{
	char err[512];

	if (store_open(sp, c->storedir, flags, c->cf.addr_flags, c->cf.map_size,
	    err, sizeof(err)) == -1) {
		ctl_err(c, "%s", err);
		return -1;
	}
	return 0;
}

int
ctl_addr(struct ctl *c, const char *arg, struct addr *a)
{
	char err[256], safe[300];

	if (addr_normalize(arg, strlen(arg), c->cf.addr_flags, c->cf.delims, a,
	    err, sizeof(err)) == -1) {
		ctl_err(c, "invalid address \"%s\": %s",
		    util_sanitize(arg, strlen(arg), safe, sizeof(safe)), err);
		return -1;
	}
	return 0;
}

int
ctl_list(struct ctl *c, const char *arg, char *out)
{
	char err[256];

	if (record_list_norm(arg, out, err, sizeof(err)) == -1) {
		ctl_err(c, "invalid list: %s", err);
		return -1;
	}
	return 0;
}

int
ctl_time(struct ctl *c, const char *arg, int64_t *t)
{
	char safe[128];

	if (time_parse(arg, t) == -1) {
		ctl_err(c, "invalid time \"%s\": expected RFC 3339, e.g. "
		    "2024-02-01T10:00:00Z", util_sanitize(arg, strlen(arg), safe,
		    sizeof(safe)));
		return -1;
	}
	if (*t > c->now + CTL_FUTURE_SLACK) {
		ctl_err(c, "time %s is in the future", arg);
		return -1;
	}
	return 0;
}

int
ctl_ip(const char *arg, char *out, size_t outlen)
{
	unsigned char bin[16];

	if (inet_pton(AF_INET, arg, bin) == 1)
		return inet_ntop(AF_INET, bin, out, (socklen_t)outlen) ? 0 : -1;
	if (inet_pton(AF_INET6, arg, bin) == 1)
		return inet_ntop(AF_INET6, bin, out, (socklen_t)outlen) ? 0 : -1;
	return -1;
}

int
ctl_note(const char *arg, char *out, size_t outlen)
{
	size_t n = strlen(arg);

	if (n >= outlen || !util_utf8_valid(arg, n))
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)arg[i] < 0x20 || arg[i] == 0x7f)
			return -1;
	memcpy(out, arg, n + 1);
	return 0;
}

int
ctl_dispatch(struct ctl *c, int argc, char **argv)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (commands[i].fn == NULL ||
		    strcmp(argv[0], commands[i].name) != 0)
			continue;
		/* "consentctl COMMAND --help": its usage, on stdout. */
		for (int j = 1; j < argc; j++)
			if (strcmp(argv[j], "--help") == 0 ||
			    strcmp(argv[j], "-h") == 0) {
				for (size_t k = 0; k < NCOMMANDS; k++)
					if (strncmp(commands[k].name, argv[0],
					    strlen(argv[0])) == 0)
						printf("usage: consentctl %s\n",
						    commands[k].usage);
				return CTL_OK;
			}
		optind = 0;	/* GNU getopt: restart for the command */
		return commands[i].fn(c, argc, argv);
	}
	ctl_err(c, "unknown command \"%s\"", argv[0]);
	ctl_usage(stderr);
	return CTL_ERR;
}
