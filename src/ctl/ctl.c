/*
 * ctl.c - what consentctl's commands share: the command table, option
 * parsing, error messages, and the checks of addresses, lists, times, IP
 * addresses and notes given on the command line.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "util/util.h"

/* Every command: its name, its function and its usage line. */
static const struct {
	const char *name;
	int	(*fn)(struct ctl *, int, char **);
	const char *usage;
} commands[] = {
	{ "init", ctl_init, "init" },
	{ "subscribe", ctl_subscribe, "subscribe ADDRESS [--list L] [--pending | --confirmed] [--source S] [--ip IP] [--at TIME] [--note TEXT]" },
	{ "confirm", ctl_confirm, "confirm ADDRESS [--list L] [--ip IP] [--at TIME] [--note TEXT]" },
	{ "unsubscribe", ctl_unsubscribe, "unsubscribe ADDRESS [--list L | --all] [--source S] [--ip IP] [--at TIME] [--note TEXT]" },
	{ "suppress", ctl_suppress, "suppress ADDRESS|DOMAIN --reason REASON [--expires DURATION|TIME] [--source S] [--ref REF] [--note TEXT] [--at TIME]" },
	{ "unsuppress", ctl_unsuppress, "unsuppress ADDRESS|DOMAIN" },
	{ "show", ctl_show, "show ADDRESS|DOMAIN [--json]" },
	{ "check", ctl_check, "check ADDRESS [--list L] [--json]" },
	{ "import", ctl_import, "import FILE|- [--format auto|csv|klaviyo|mailchimp] [--list L] [--dry-run] [--skip-bad]" },
	{ "export", ctl_export, "export [--format csv|jsonl]" },
	{ "stats", ctl_stats, "stats [--json]" },
	{ "keygen", ctl_keygen, "keygen FILE" },
	{ "token", ctl_token, "token ADDRESS [--list L] [--at TIME]" },
	{ "intake", ctl_intake, "intake RECIPIENT" },
	{ "feedback", ctl_feedback, "feedback [--rcpt ADDRESS] | feedback queue [list | show ID | apply ID | discard ID [--force]] [--json] | feedback sign RECIPIENT SENDER" },
	{ "doctor", ctl_doctor, "doctor [--postfix DIR] [--sendmail-cf FILE] [--json]" },
	{ "audit", ctl_audit, "audit verify FILE... | audit find ADDRESS [--audit FILE]... | audit report --audit FILE... [--maillog FILE...] [--json | --csv | --html FILE]" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* ctl_names - every command's name, one per line (for completion). */
void
ctl_names(FILE *fp)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
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

/* command_usage - the usage line of the command name, to stderr. */
static void
command_usage(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			fprintf(stderr, "usage: consentctl %s\n", commands[i].usage);
}

/*
 * option_value - check the value of the option getopt_long returned as ch
 * and store it in o; --expires waits in *expires until --at is known.
 * 0, or -1 (printed).
 */
static int
option_value(struct ctl *c, int ch, struct ctl_opts *o, const char **expires)
{
	switch (ch) {
	case 'l':
		if (ctl_list(c, optarg, o->list) == -1)
			return -1;
		o->list_set = 1;
		break;
	case 'P': o->pending = 1; break;
	case 'C': o->confirmed = 1; break;
	case 'A': o->all = 1; break;
	case 'j': o->json = 1; break;
	case 'D': o->dry_run = 1; break;
	case 'k': o->skip_bad = 1; break;
	case 'f': o->format = optarg; break;
	case 'p': o->postfix_dir = optarg; break;
	case 'm': o->sendmail_cf = optarg; break;
	case 'e': *expires = optarg; break;
	case 'S':
		if ((o->source = record_source_parse(optarg)) <= 0) {
			ctl_err(c, "unknown source \"%s\" (form, import, "
			    "api, one-click, mailto, admin, bounce, "
			    "complaint)", optarg);
			return -1;
		}
		break;
	case 'i':
		if (ctl_ip(optarg, o->ip, sizeof(o->ip)) == -1) {
			ctl_err(c, "invalid IP address \"%s\"", optarg);
			return -1;
		}
		break;
	case 't':
		if (ctl_time(c, optarg, &o->at) == -1)
			return -1;
		break;
	case 'n':
		if (ctl_note(optarg, o->note, sizeof(o->note)) == -1) {
			ctl_err(c, "invalid note: at most %d octets of "
			    "UTF-8 text without control characters",
			    REC_NOTE_MAX);
			return -1;
		}
		break;
	case 'R':
		if (ctl_note(optarg, o->ref, sizeof(o->ref)) == -1) {
			ctl_err(c, "invalid reference: at most %d octets "
			    "of text without control characters",
			    REC_REF_MAX);
			return -1;
		}
		break;
	case 'r':
		if ((o->reason = record_reason_parse(optarg)) <= 0) {
			ctl_err(c, "unknown reason \"%s\" (unsubscribed_all, "
			    "hard_bounce, complaint, invalid, manual, "
			    "soft_bounce)", optarg);
			return -1;
		}
		break;
	}
	return 0;
}

/*
 * option_expires - o->expires from --expires: a duration counts from
 * --at, a time is taken as it is; it must come after --at.  0, or -1
 * (printed).
 */
static int
option_expires(struct ctl *c, const char *expires, struct ctl_opts *o)
{
	int64_t d;

	if (duration_parse(expires, &d) == 0)
		o->expires = o->at + d;
	else if (time_parse(expires, &o->expires) == -1) {
		ctl_err(c, "invalid --expires \"%s\": a duration such as "
		    "30d or 12h, or an RFC 3339 time", expires);
		return -1;
	}
	if (o->expires <= o->at) {
		ctl_err(c, "--expires %s is not after the suppression's "
		    "time", expires);
		return -1;
	}
	return 0;
}

/* ctl_options - parse argv for one command into o (see ctl.h). */
int
ctl_options(struct ctl *c, int argc, char **argv, unsigned mask, int nargs,
    int required, struct ctl_opts *o)
{
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
		{ "postfix", required_argument, NULL, 'p' },
		{ "sendmail-cf", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	static const unsigned bit[] = {
		O_LIST, O_PENDING, O_CONFIRMED, O_ALL, O_SOURCE, O_IP, O_AT,
		O_NOTE, O_REASON, O_EXPIRES, O_REF, O_JSON, O_FORMAT, O_DRYRUN,
		O_SKIPBAD, O_POSTFIX, O_SENDMAIL
	};
	const char *expires = NULL, *cmd = argv[0];
	int ch, idx;

	memset(o, 0, sizeof(*o));
	o->source = -1;
	o->reason = -1;
	o->at = c->now;
	util_strlcpy(o->list, c->cf.default_list, sizeof(o->list));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		if (ch == '?' || ch == ':') {
			ctl_err(c, "%s: unknown option or missing value: %s",
			    argv[0], argv[optind - 1]);
			goto bad;
		}
		if (!(mask & bit[idx])) {
			ctl_err(c, "%s: option --%s does not apply", argv[0],
			    longopts[idx].name);
			goto bad;
		}
		if (option_value(c, ch, o, &expires) == -1)
			return -1;
	}
	if (o->pending && o->confirmed) {
		ctl_err(c, "%s: --pending and --confirmed exclude each other",
		    argv[0]);
		goto bad;
	}
	if (o->all && o->list_set) {
		ctl_err(c, "%s: --list and --all exclude each other", argv[0]);
		goto bad;
	}
	if (expires != NULL && option_expires(c, expires, o) == -1)
		return -1;
	argc -= optind;
	argv += optind;
	if (argc > nargs || (required && argc < nargs)) {
		ctl_err(c, "%s", argc > nargs ? "too many arguments" :
		    "missing argument");
		goto bad;
	}
	o->arg = argc > 0 ? argv[0] : NULL;
	return 0;
bad:
	command_usage(cmd);
	return -1;
}

/* ctl_err - an error on stderr, after the program's name. */
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

/* ctl_open_store - open the store with flags into *sp; 0, or -1 (printed). */
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

/* ctl_addr - arg normalised into a; 0, or -1 (printed). */
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

/* ctl_list - arg as a list name into out; 0, or -1 (printed). */
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

/* ctl_time - arg as an RFC 3339 time not in the future; 0, or -1 (printed). */
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

/* ctl_ip - arg as a canonical IPv4 or IPv6 address into out; 0 / -1. */
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

/* ctl_note - copy arg, UTF-8 without control characters, to out; 0 / -1. */
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

/* ctl_dispatch - run the command argv[0] names; its exit code. */
int
ctl_dispatch(struct ctl *c, int argc, char **argv)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		/* "consentctl COMMAND --help": its usage, on stdout. */
		for (int j = 1; j < argc; j++)
			if (strcmp(argv[j], "--help") == 0 ||
			    strcmp(argv[j], "-h") == 0) {
				printf("usage: consentctl %s\n", commands[i].usage);
				return CTL_OK;
			}
		optind = 0;	/* GNU getopt: restart for the command */
		return commands[i].fn(c, argc, argv);
	}
	ctl_err(c, "unknown command \"%s\"", argv[0]);
	ctl_usage(stderr);
	return CTL_ERR;
}
