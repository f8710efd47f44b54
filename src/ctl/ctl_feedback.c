/*
 * ctl_feedback.c - consentctl's feedback commands: bounces and
 * complaints become suppressions, with proof.
 *
 *   feedback [--rcpt ADDRESS]   one message on stdin; a pipe(8)
 *                               transport on the return address runs it.
 *                               Exits with sysexits(3): 0 applied, or
 *                               nothing to apply, or queued for review;
 *                               65 not a report or malformed (the
 *                               reason on stderr); 75 the store or the
 *                               queue cannot be written (Postfix keeps
 *                               the message and retries).
 *   feedback --maillog FILE...  Postfix's own log: status=bounced lines
 *                               with dsn=5.x.x (and soft ones) recorded,
 *                               no token needed; status=sent clears a
 *                               soft count.  --follow: the one file as a
 *                               service, across rotation, its position
 *                               kept (--position, else QUEUE_DIR/maillog.pos).
 *   feedback queue [list | show ID | apply ID | discard ID [--force]] [--json]
 *                               the review queue.
 *   feedback sign RCPT|- SENDER a signed return path (tests, support).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/fbtag.h"
#include "core/keyring.h"
#include "ctl/ctl.h"
#include "ctl/fbmaillog.h"
#include "ctl/fbparse.h"
#include "ctl/fbplan.h"
#include "ctl/fbqueue.h"
#include "util/daemon.h"
#include "util/enc.h"
#include "util/time.h"
#include "util/util.h"

#define DRAIN_MAX	(256L * 1024 * 1024)	/* octets read past the bound */

struct fb_opts {
	const char *rcpt;	/* --rcpt */
	const char *maillog;	/* --maillog: the first file */
	const char *position;	/* --position */
	int	json, force, follow;
	int	nargs;
	char	**args;		/* positional arguments */
};

/* fb_options - the feedback command's own options; 0 / -1 (usage printed). */
static int
fb_options(struct ctl *c, int argc, char **argv, struct fb_opts *o)
{
	static const struct option longopts[] = {
		{ "rcpt", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "maillog", required_argument, NULL, 'm' },
		{ "follow", no_argument, NULL, 'F' },
		{ "position", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': o->rcpt = optarg; break;
		case 'j': o->json = 1; break;
		case 'f': o->force = 1; break;
		case 'm': o->maillog = optarg; break;
		case 'F': o->follow = 1; break;
		case 'p': o->position = optarg; break;
		default:
			ctl_err(c, "feedback: unknown option or missing value: %s",
			    argv[optind - 1]);
			fprintf(stderr, "usage: consentctl feedback [--rcpt ADDRESS]"
			    "\n       consentctl feedback --maillog FILE... | "
			    "--maillog FILE --follow [--position FILE]"
			    "\n       consentctl feedback queue [list | show ID | "
			    "apply ID | discard ID [--force]] [--json]\n");
			return -1;
		}
	}
	o->nargs = argc - optind;
	o->args = argv + optind;
	return 0;
}

/* read_message - stdin into a buffer the caller frees: the first
 * FBP_MSG_MAX octets kept, the rest (bounded) read and dropped, so that
 * pipe(8) sees the whole message taken; *total says how long it was. */
static int
read_message(char **bufp, size_t *lenp, size_t *total)
{
	char *buf = malloc(FBP_MSG_MAX), sink[65536];
	size_t n = 0, r;
	long drained = 0;

	*bufp = NULL;
	if (buf == NULL)
		return -1;
	while (n < FBP_MSG_MAX && (r = fread(buf + n, 1, FBP_MSG_MAX - n,
	    stdin)) > 0)
		n += r;
	*total = n;
	while (drained < DRAIN_MAX && !ferror(stdin) && !feof(stdin) &&
	    (r = fread(sink, 1, sizeof(sink), stdin)) > 0) {
		drained += (long)r;
		*total += r;
	}
	if (ferror(stdin)) {
		free(buf);
		return -1;
	}
	*bufp = buf;
	*lenp = n;
	return 0;
}

/* The pseudonym key of the feedback lines, once loaded. */
static unsigned char audit_key[AUDIT_KEY_BYTES];

/* ctx_init - the plan's context from the configuration; 0 / -1 (said). */
static int
ctx_init(struct ctl *c, const struct token_ring *ring, const char *rcpt,
    struct fb_ctx *ctx)
{
	char err[512];

	memset(ctx, 0, sizeof(*ctx));
	ctx->ring = ring;
	ctx->rules = &c->cf.fb_rules;
	ctx->delims = c->cf.delims[0] ? c->cf.delims : "+";
	ctx->addr_flags = c->cf.addr_flags;
	ctx->now = c->now;
	ctx->rp_window = c->cf.fb_rp_window;
	ctx->soft_threshold = (unsigned)c->cf.fb_soft_threshold;
	ctx->soft_window = c->cf.fb_soft_window;
	ctx->soft_expires = c->cf.fb_soft_expires;
	ctx->rcpt = rcpt;
	ctx->sync = &c->cf.sync;
	if (c->cf.fb_audit_file[0] == '\0')
		return 0;
	ctx->audit_file = c->cf.fb_audit_file;
	if (!c->cf.audit_pseudonymize)
		return 0;
	if (audit_key_load(c->cf.audit_key_file, audit_key, err,
	    sizeof(err)) == -1) {
		ctl_err(c, "feedback: %s", err);
		return -1;
	}
	ctx->audit_key = audit_key;
	return 0;
}

/* audit_lines - the plan's feedback lines; a failure is said, not fatal:
 * the store holds the evidence already. */
static void
audit_lines(struct ctl *c, const struct fb_plan *p, const struct fb_ctx *ctx,
    const char *channel)
{
	char err[512];

	if (fbaudit_write(ctx, p->ch, p->n, p->queue, channel, err,
	    sizeof(err)) == -1)
		ctl_err(c, "feedback: no feedback line written: %s", err);
}

/* print_change - one line per recipient result, for people and logs. */
static void
print_change(const struct fb_change *ch, const struct fb_ctx *ctx)
{
	char what[160];

	switch (ch->op) {
	case FBO_SUPPRESS:
		snprintf(what, sizeof(what), "%s %s", record_reason_name(
		    ch->supp.reason), ch->changed ? "recorded" : "already recorded");
		break;
	case FBO_SOFT:
		if (ch->suppressed)
			snprintf(what, sizeof(what), "soft bounce %u: soft_bounce "
			    "recorded, expires in %llds", ch->soft_count,
			    (long long)ctx->soft_expires);
		else
			snprintf(what, sizeof(what), "soft bounce %u of %u counted",
			    ch->soft_count, ctx->soft_threshold);
		break;
	case FBO_RESET:
		snprintf(what, sizeof(what), "delivered: soft count %s",
		    ch->changed ? "cleared" : "was empty");
		break;
	default:
		snprintf(what, sizeof(what), "not applied");
	}
	printf("%s %s %s: %s (%s%s%s; %s)\n", ch->key[0] ? ch->key : "-",
	    fbclass_name(ch->class_), ch->status[0] ? ch->status : "-", what,
	    fb_by_name(ch->by), ch->list[0] ? ", list " : "", ch->list,
	    ch->why ? ch->why : "");
}

/* meta_fill - what the review queue shows of a report. */
static void
meta_fill(struct fbq_meta *m, const struct fbp_report *r, const char *why)
{
	static const char *const kinds[] = { "?", "dsn", "arf", "plain" };
	size_t o = 0;

	memset(m, 0, sizeof(*m));
	util_strlcpy(m->kind, kinds[r->kind >= 1 && r->kind <= 3 ? r->kind : 0],
	    sizeof(m->kind));
	util_strlcpy(m->from, r->from, sizeof(m->from));
	util_strlcpy(m->subject, r->subject, sizeof(m->subject));
	util_strlcpy(m->reason, why, sizeof(m->reason));
	for (unsigned i = 0; i < r->nrcpt; i++) {
		const char *a = r->rcpt[i].final[0] ? r->rcpt[i].final :
		    r->rcpt[i].original;
		int n;

		if (a[0] == '\0')
			continue;
		n = snprintf(m->rcpts + o, sizeof(m->rcpts) - o, "%s%s %s",
		    o ? ", " : "", a, r->rcpt[i].status[0] ? r->rcpt[i].status :
		    r->feedback_type);
		if (n < 0 || (size_t)n >= sizeof(m->rcpts) - o)
			break;
		o += (size_t)n;
	}
}

/* apply_plan - write the plan's changes, print and log them; sysexits. */
static int
apply_plan(struct ctl *c, struct fb_plan *p, const struct fb_ctx *ctx,
    unsigned writes, const char *channel)
{
	struct store *st;
	char err[512];

	if (writes > 0) {
		if (ctl_open_store(c, 0, &st) == -1)
			return EX_TEMPFAIL;
		if (fb_record(st, p->ch, p->n, ctx, err, sizeof(err)) == -1) {
			store_close(st);
			ctl_err(c, "feedback: cannot record: %s", err);
			return EX_TEMPFAIL;
		}
		store_close(st);
	}
	for (unsigned i = 0; i < p->n; i++)
		print_change(&p->ch[i], ctx);
	audit_lines(c, p, ctx, channel);
	return EX_OK;
}

/*
 * names_erased - 1 if a recipient the report claims was erased (or its
 * untagged form), 0 if none, -1 (said): such a report is not kept for
 * review, since it would store the address that the erasure removed.
 */
static int
names_erased(struct ctl *c, const struct fbp_report *r)
{
	struct store *st;
	struct addr a;
	char err[512];
	int64_t when;
	int rc = 0;

	if (ctl_open_store(c, 0, &st) == -1)
		return -1;
	for (unsigned i = 0; i < r->nrcpt && rc == 0; i++) {
		const char *claimed[2] = { r->rcpt[i].final, r->rcpt[i].original };

		for (int k = 0; k < 2 && rc == 0; k++) {
			if (claimed[k][0] == '\0' || addr_normalize(claimed[k],
			    strlen(claimed[k]), c->cf.addr_flags, c->cf.delims[0] ?
			    c->cf.delims : "+", &a, err, sizeof(err)) == -1)
				continue;
			if ((rc = store_erased(st, a.key, &when, err,
			    sizeof(err))) == 0)
				rc = store_erased(st, a.base, &when, err,
				    sizeof(err));
		}
	}
	store_close(st);
	if (rc == -1)
		ctl_err(c, "feedback: %s", err);
	return rc;
}

/* feedback_stdin - one report on stdin, applied or queued; sysexits. */
static int
feedback_stdin(struct ctl *c, const struct fb_opts *o)
{
	static struct fbp_report rep;
	static struct fb_plan plan;
	struct token_ring ring;
	struct fb_ctx ctx;
	struct fbq_meta m;
	char *raw, err[512];
	size_t len, total;
	unsigned writes;
	int rc;

	if (read_message(&raw, &len, &total) == -1) {
		ctl_err(c, "feedback: cannot read the message");
		return EX_TEMPFAIL;
	}
	if (fbparse_message(raw, len, &rep, err, sizeof(err)) == -1) {
		/* Postfix puts this in the bounce: the sender reads it. */
		ctl_err(c, "feedback: not applied: %s", err);
		free(raw);
		return EX_DATAERR;
	}
	memset(&ring, 0, sizeof(ring));
	if (c->cf.lu_nkeys > 0 && keyring_load(&c->cf, &ring, err,
	    sizeof(err)) == -1) {
		ctl_err(c, "feedback: %s", err);
		free(raw);
		return EX_TEMPFAIL;
	}
	if (ctx_init(c, &ring, o->rcpt, &ctx) == -1) {
		token_wipe(&ring);
		free(raw);
		return EX_TEMPFAIL;
	}
	writes = fb_plan_make(&rep, &ctx, 0, &plan);
	token_wipe(&ring);
	if (plan.queue && (rc = names_erased(c, &rep)) != 0) {
		free(raw);
		if (rc == -1)
			return EX_TEMPFAIL;
		printf("not kept: it names an address erased at the person's "
		    "request (%s)\n", plan.why);
		return EX_OK;
	}
	if (plan.queue) {
		meta_fill(&m, &rep, plan.why);
		rc = fbq_add(c->cf.fb_queue_dir, (unsigned)c->cf.fb_queue_max,
		    c->cf.fb_queue_retention, c->now, raw, len, total, &m, err,
		    sizeof(err));
		free(raw);
		if (rc == -1) {
			ctl_err(c, "feedback: cannot queue the report: %s", err);
			return EX_TEMPFAIL;
		}
		printf("queued %s for review: %s\n", m.id, plan.why);
		audit_lines(c, &plan, &ctx, m.kind);
		return EX_OK;
	}
	free(raw);
	return apply_plan(c, &plan, &ctx, writes, rep.kind == FBP_ARF ? "arf" :
	    rep.kind == FBP_PLAIN ? "plain" : "dsn");
}

/* --- the review queue --------------------------------------------------- */

struct list_arg {
	int	json, n;
};

/* meta_json - one report of the queue as a JSON object. */
static void
meta_json(const struct fbq_meta *m)
{
	char tb[32], ts[32];

	printf("{\"id\":\"%s\",\"time\":\"%s\",\"seen\":", m->id,
	    time_format(m->time, tb, sizeof(tb)));
	if (m->seen)
		printf("\"%s\"", time_format(m->seen, ts, sizeof(ts)));
	else
		printf("null");
	printf(",\"kind\":\"%s\",\"size\":%zu,\"truncated\":%s,\"from\":",
	    m->kind, m->size, m->truncated ? "true" : "false");
	enc_json_puts(stdout, m->from);
	printf(",\"subject\":");
	enc_json_puts(stdout, m->subject);
	printf(",\"recipients\":");
	enc_json_puts(stdout, m->rcpts);
	printf(",\"reason\":");
	enc_json_puts(stdout, m->reason);
	printf("}");
}

static int
list_one(const struct fbq_meta *m, void *arg)
{
	struct list_arg *la = arg;
	char tb[32];

	if (la->json) {
		printf("%s", la->n ? "," : "");
		meta_json(m);
	} else
		printf("%s  %s  %-5s %-4s  %s  %s\n", m->id,
		    time_format(m->time, tb, sizeof(tb)), m->kind,
		    m->seen ? "seen" : "new", m->rcpts[0] ? m->rcpts : "-",
		    m->reason);
	la->n++;
	return 0;
}

static int
queue_list(struct ctl *c, int json)
{
	struct list_arg la = { json, 0 };
	unsigned removed;
	char err[512];

	if (fbq_sweep(c->cf.fb_queue_dir, c->now, c->cf.fb_queue_retention,
	    &removed, err, sizeof(err)) == -1 ||
	    (json && printf("[") < 0) ||
	    fbq_list(c->cf.fb_queue_dir, list_one, &la, err, sizeof(err)) == -1) {
		ctl_err(c, "feedback queue: %s", err);
		return CTL_ERR;
	}
	if (json)
		printf("]\n");
	else if (la.n == 0)
		printf("the review queue is empty\n");
	return CTL_OK;
}

/*
 * raw_out - a raw report to standard output; on a terminal, control
 * characters other than tab, CR and newline as '?': a report is a stranger's
 * text, and escape sequences would speak to the terminal.
 */
static void
raw_out(const char *raw, size_t len)
{
	if (!isatty(STDOUT_FILENO)) {
		fwrite(raw, 1, len, stdout);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)raw[i];

		int ctl = (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') ||
		    ch == 0x7f;

		putchar(ctl ? '?' : ch);
	}
}

/* queue_show - a report's meta and raw text; it counts as read now. */
static int
queue_show(struct ctl *c, const char *id, int json)
{
	struct fbq_meta m;
	char *raw, err[512], tb[32];
	size_t len;
	int rc = fbq_get(c->cf.fb_queue_dir, id, &m, &raw, &len, err, sizeof(err));

	if (rc != 1) {
		ctl_err(c, "feedback queue: %s", rc == 0 ? "no such report" : err);
		return rc == 0 ? CTL_NO : CTL_ERR;
	}
	if (json) {
		meta_json(&m);
		printf("\n");
	} else {
		printf("id: %s\nreceived: %s\nkind: %s\nfrom: %s\nsubject: %s\n"
		    "recipients: %s\nwhy queued: %s\nsize: %zu%s\n\n", m.id,
		    time_format(m.time, tb, sizeof(tb)), m.kind, m.from, m.subject,
		    m.rcpts, m.reason, m.size, m.truncated ?
		    " (the first 1 MiB kept)" : "");
		raw_out(raw, len);
	}
	free(raw);
	if (fflush(stdout) != 0 || fbq_seen(c->cf.fb_queue_dir, id, c->now, err,
	    sizeof(err)) == -1) {
		ctl_err(c, "feedback queue: %s", err);
		return CTL_ERR;
	}
	return CTL_OK;
}

/* queue_apply - the report's own recipients believed; source admin. */
static int
queue_apply(struct ctl *c, const char *id)
{
	static struct fbp_report rep;
	static struct fb_plan plan;
	struct token_ring ring;
	struct fbq_meta m;
	struct fb_ctx ctx;
	char *raw, err[512];
	size_t len;
	unsigned writes;
	int rc = fbq_get(c->cf.fb_queue_dir, id, &m, &raw, &len, err, sizeof(err));

	if (rc != 1) {
		ctl_err(c, "feedback queue: %s", rc == 0 ? "no such report" : err);
		return rc == 0 ? CTL_NO : CTL_ERR;
	}
	rc = fbparse_message(raw, len, &rep, err, sizeof(err));
	free(raw);
	if (rc == -1) {
		ctl_err(c, "feedback queue: %s: %s", id, err);
		return CTL_ERR;
	}
	memset(&ring, 0, sizeof(ring));
	if (c->cf.lu_nkeys > 0 && keyring_load(&c->cf, &ring, err,
	    sizeof(err)) == -1) {
		ctl_err(c, "feedback queue: %s", err);
		return CTL_ERR;
	}
	if (ctx_init(c, &ring, NULL, &ctx) == -1) {
		token_wipe(&ring);
		return CTL_ERR;
	}
	writes = fb_plan_make(&rep, &ctx, 1, &plan);
	token_wipe(&ring);
	if (plan.queue) {
		ctl_err(c, "feedback queue: %s cannot be applied: %s", id, plan.why);
		return CTL_ERR;
	}
	if (writes == 0) {
		for (unsigned i = 0; i < plan.n; i++)
			print_change(&plan.ch[i], &ctx);
		printf("%s: nothing to apply (kept: discard it when done)\n", id);
		return CTL_OK;
	}
	if (apply_plan(c, &plan, &ctx, writes, "review") != EX_OK)
		return CTL_ERR;
	if (fbq_remove(c->cf.fb_queue_dir, id, err, sizeof(err)) == -1) {
		ctl_err(c, "feedback queue: applied, but not removed: %s", err);
		return CTL_ERR;
	}
	return CTL_OK;
}

/* queue_discard - remove a report once read, or when forced. */
static int
queue_discard(struct ctl *c, const char *id, int force)
{
	struct fbq_meta m;
	char err[512];
	int rc = fbq_get(c->cf.fb_queue_dir, id, &m, NULL, NULL, err, sizeof(err));

	if (rc != 1) {
		ctl_err(c, "feedback queue: %s", rc == 0 ? "no such report" : err);
		return rc == 0 ? CTL_NO : CTL_ERR;
	}
	if (m.seen == 0 && !force) {
		ctl_err(c, "feedback queue: %s was never shown: read it with "
		    "'consentctl feedback queue show %s' first, or discard it "
		    "with --force", id, id);
		return CTL_ERR;
	}
	if (fbq_remove(c->cf.fb_queue_dir, id, err, sizeof(err)) == -1) {
		ctl_err(c, "feedback queue: %s", err);
		return CTL_ERR;
	}
	printf("%s discarded\n", id);
	return CTL_OK;
}

/* sign_one - the signed return path for rcpt from sender on stdout; 0 / -1. */
static int
sign_one(struct ctl *c, const struct token_ring *ring, const char *rcpt,
    const char *sender)
{
	struct addr a;
	char out[ADDR_MAX + 1];

	if (ctl_addr(c, rcpt, &a) == -1)
		return -1;
	if (fbtag_sign(ring, sender, a.key, c->cf.delims[0] ? c->cf.delims[0] :
	    '+', c->now, out, sizeof(out)) < 0) {
		ctl_err(c, "feedback sign: cannot sign %s (a sender whose local "
		    "part is over %d octets, or already signed?)", sender,
		    ADDR_LOCAL_MAX - 1 - FBTAG_LEN);
		return -1;
	}
	return printf("%s\n", out) < 0 ? -1 : 0;
}

/*
 * feedback_sign - the signed return path for RECIPIENT from SENDER, or
 * for each recipient line of standard input with "-" (tests, support).
 */
static int
feedback_sign(struct ctl *c, int nargs, char **args)
{
	struct token_ring ring;
	char err[512], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (nargs != 3) {
		ctl_err(c, "feedback sign: usage: feedback sign RECIPIENT|- SENDER");
		return CTL_ERR;
	}
	if (c->cf.lu_nkeys == 0 || keyring_load(&c->cf, &ring, err,
	    sizeof(err)) == -1) {
		ctl_err(c, "feedback sign: %s", c->cf.lu_nkeys ? err :
		    "no unsubscribe.keys: nothing to sign with");
		return CTL_ERR;
	}
	if (strcmp(args[1], "-") != 0)
		rc = sign_one(c, &ring, args[1], args[2]);
	else
		while (rc == 0 && (n = getline(&line, &cap, stdin)) != -1) {
			while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				line[--n] = '\0';
			rc = sign_one(c, &ring, line, args[2]);
		}
	free(line);
	token_wipe(&ring);
	if (rc == 0 && fflush(stdout) == EOF) {
		ctl_err(c, "feedback sign: standard output: %s", strerror(errno));
		rc = -1;
	}
	return rc == 0 ? CTL_OK : CTL_ERR;
}

/* ctl_feedback_queue - feedback queue [list | show | apply | discard]. */
static int
ctl_feedback_queue(struct ctl *c, int nargs, char **args, int json, int force)
{
	const char *verb = nargs > 1 ? args[1] : "list";

	if (strcmp(verb, "list") == 0 && nargs <= 2)
		return queue_list(c, json);
	if (nargs != 3) {
		ctl_err(c, "feedback queue: usage: queue [list | show ID | "
		    "apply ID | discard ID [--force]] [--json]");
		return CTL_ERR;
	}
	if (strcmp(verb, "show") == 0)
		return queue_show(c, args[2], json);
	if (strcmp(verb, "apply") == 0)
		return queue_apply(c, args[2]);
	if (strcmp(verb, "discard") == 0)
		return queue_discard(c, args[2], force);
	ctl_err(c, "feedback queue: unknown command \"%s\"", verb);
	return CTL_ERR;
}

/* --- the mail log ---------------------------------------------------------- */

/* fb_wait - the follow loop's sleep: non-zero on SIGTERM or SIGINT. */
static int
fb_wait(int ms)
{
	return daemon_wait(ms) & DAEMON_STOP;
}

/* feedback_maillog - Postfix's own log, read once or followed; sysexits. */
static int
feedback_maillog(struct ctl *c, const struct fb_opts *o)
{
	const struct fbml_stats *s;
	struct token_ring ring;
	struct fb_ctx ctx;
	struct fbml *m;
	struct store *st;
	char err[512], pos[CONFIG_PATH_MAX + 16];
	int rc = EX_OK;

	if (o->follow && o->nargs > 0) {
		ctl_err(c, "feedback: --follow reads one file");
		return EX_USAGE;
	}
	/* The keys check the signed return paths: a line alone proves nothing. */
	memset(&ring, 0, sizeof(ring));
	if (c->cf.lu_nkeys > 0 && keyring_load(&c->cf, &ring, err,
	    sizeof(err)) == -1) {
		ctl_err(c, "feedback: %s", err);
		return EX_TEMPFAIL;
	}
	if (ring.nkeys == 0 || !c->cf.fb_sign_return_path)
		ctl_err(c, "feedback: warning: %s: no bounce in the mail log can "
		    "be proven ours, none will be applied", ring.nkeys == 0 ?
		    "no unsubscribe.keys" : "feedback.sign_return_path is off");
	if (ctl_open_store(c, 0, &st) == -1) {
		token_wipe(&ring);
		return EX_TEMPFAIL;
	}
	if (ctx_init(c, &ring, NULL, &ctx) == -1) {
		token_wipe(&ring);
		store_close(st);
		return EX_TEMPFAIL;
	}
	if ((m = fbml_new(&ctx, st)) == NULL) {
		token_wipe(&ring);
		store_close(st);
		ctl_err(c, "feedback: out of memory");
		return EX_TEMPFAIL;
	}
	if (o->follow) {
		snprintf(pos, sizeof(pos), "%s/maillog.pos", c->cf.fb_queue_dir);
		if (o->position == NULL)
			(void)mkdir(c->cf.fb_queue_dir, 0750);
		daemon_signals(0);
		if (fbml_follow(m, o->maillog, o->position ? o->position : pos,
		    fb_wait, err, sizeof(err)) == -1) {
			ctl_err(c, "feedback: %s: %s", o->maillog, err);
			rc = EX_TEMPFAIL;
		}
	} else
		for (int i = -1; i < o->nargs && rc == EX_OK; i++) {
			const char *f = i < 0 ? o->maillog : o->args[i];
			off_t off = 0;
			int fd = open(f, O_RDONLY | O_CLOEXEC);

			if (fd == -1) {
				ctl_err(c, "feedback: %s: %s", f, strerror(errno));
				rc = EX_NOINPUT;
			} else if (fbml_read(m, fd, &off, 1, err, sizeof(err)) == -1) {
				ctl_err(c, "feedback: %s: %s", f, err);
				rc = EX_TEMPFAIL;
			}
			if (fd != -1)
				close(fd);
		}
	s = fbml_stats(m);
	printf("%llu lines: %llu bounced (%llu hard, %llu soft, %llu policy); "
	    "%llu soft counts cleared by a delivery; %llu changes to the store; "
	    "%llu failures not applied: no signed return path\n",
	    (unsigned long long)s->lines, (unsigned long long)s->bounced,
	    (unsigned long long)s->hard, (unsigned long long)s->soft,
	    (unsigned long long)s->policy, (unsigned long long)s->cleared,
	    (unsigned long long)s->changed, (unsigned long long)s->unproven);
	fbml_free(m);
	token_wipe(&ring);
	store_close(st);
	return rc;
}

int
ctl_feedback(struct ctl *c, int argc, char **argv)
{
	struct fb_opts o;

	if (fb_options(c, argc, argv, &o) == -1)
		return EX_USAGE;
	fbparse_init();
	if (o.maillog != NULL)
		return feedback_maillog(c, &o);
	if (o.follow || o.position != NULL) {
		ctl_err(c, "feedback: --follow and --position go with --maillog");
		return EX_USAGE;
	}
	if (o.nargs > 0 && strcmp(o.args[0], "queue") == 0)
		return ctl_feedback_queue(c, o.nargs, o.args, o.json, o.force);
	if (o.nargs > 0 && strcmp(o.args[0], "sign") == 0)
		return feedback_sign(c, o.nargs, o.args);
	if (o.nargs > 0) {
		ctl_err(c, "feedback: unknown argument \"%s\"", o.args[0]);
		return EX_USAGE;
	}
	return feedback_stdin(c, &o);
}
