/*
 * fbplan.c - from a parsed report to the changes it proves (see
 * fbplan.h).  Nothing here writes: fb_record() in fbrecord.c does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/addr.h"
#include "core/fbtag.h"
#include "ctl/fbplan.h"
#include "util/util.h"

#define PROOFS_MAX	(FBP_TOKENS_MAX + 2)

/* The recipients the report's tokens prove, each once. */
struct proofs {
	unsigned n;
	struct {
		char	key[ADDR_MAX + 1];
		char	list[REC_LIST_MAX + 1];
	} p[PROOFS_MAX];
};

const char *
fb_by_name(int by)
{
	static const char *const names[] = { "none", "token", "return-path",
	    "admin", "maillog" };

	return by >= 0 && by <= FBP_BY_MAILLOG ? names[by] : "?";
}

/* proofs_tokens - verify every token candidate of r. */
static void
proofs_tokens(const struct fbp_report *r, const struct fb_ctx *ctx,
    struct proofs *pr)
{
	struct token_claims c;

	pr->n = 0;
	if (ctx->ring == NULL || ctx->ring->nkeys == 0)
		return;
	for (unsigned i = 0; i < r->ntok && pr->n < PROOFS_MAX; i++) {
		unsigned k;

		if (token_verify(ctx->ring, r->tok[i], strlen(r->tok[i]), ctx->now,
		    &c) == -1)
			continue;
		for (k = 0; k < pr->n; k++)
			if (strcmp(pr->p[k].key, c.addr) == 0)
				break;
		if (k == pr->n) {
			util_strlcpy(pr->p[k].key, c.addr, sizeof(pr->p[k].key));
			util_strlcpy(pr->p[k].list, c.list, sizeof(pr->p[k].list));
			pr->n++;
		}
	}
}

/* key_of - the store key of a reported address into a; 0 / -1. */
static int
key_of(const struct fb_ctx *ctx, const char *addr, struct addr *a)
{
	char err[128];

	return addr[0] == '\0' ? -1 : addr_normalize(addr, strlen(addr),
	    ctx->addr_flags, ctx->delims, a, err, sizeof(err));
}

/* tag_proves - 1 if a return path the report came back to signs key. */
static int
tag_proves(const struct fbp_report *r, const struct fb_ctx *ctx,
    const char *key)
{
	if (ctx->ring == NULL || ctx->ring->nkeys == 0)
		return 0;
	if (ctx->rcpt != NULL && fbtag_verify(ctx->ring, ctx->rcpt, key,
	    ctx->delims, ctx->now, ctx->rp_window, NULL))
		return 1;
	for (unsigned i = 0; i < r->ntag; i++)
		if (fbtag_verify(ctx->ring, r->tag[i], key, ctx->delims, ctx->now,
		    ctx->rp_window, NULL))
			return 1;
	return 0;
}

/*
 * prove - the proven recipient among the addresses claimed (two, "" for
 * none) into ch: 1, or 0 when no proof names any of them.
 */
static int
prove(const struct fbp_report *r, const struct fb_ctx *ctx,
    const struct proofs *pr, const char *const claimed[2],
    struct fb_change *ch)
{
	struct addr a;

	for (int c = 0; c < 2; c++) {
		if (key_of(ctx, claimed[c], &a) == -1)
			continue;
		for (unsigned k = 0; k < pr->n; k++)
			if (strcmp(pr->p[k].key, a.key) == 0) {
				util_strlcpy(ch->key, a.key, sizeof(ch->key));
				util_strlcpy(ch->list, pr->p[k].list,
				    sizeof(ch->list));
				ch->by = FBP_BY_TOKEN;
				return 1;
			}
		if (tag_proves(r, ctx, a.key)) {
			util_strlcpy(ch->key, a.key, sizeof(ch->key));
			ch->by = FBP_BY_TAG;
			return 1;
		}
	}
	return 0;
}

/* note_set - s into a note, cut at a character boundary. */
static void
note_set(char *note, const char *s)
{
	size_t n = strlen(s);

	if (n > REC_NOTE_MAX) {
		n = REC_NOTE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(note, s, n);
	note[n] = '\0';
}

/* evidence - the suppression's evidence: code, MTAs, diagnostic, ref. */
static void
evidence(struct fb_change *ch, int reason, int source,
    const struct fbp_report *r, const struct fbp_rcpt *g, const char *head,
    int64_t now)
{
	char text[REC_NOTE_MAX + FBP_DIAG_MAX + 600];

	memset(&ch->supp, 0, sizeof(ch->supp));
	ch->supp.reason = (uint8_t)reason;
	ch->supp.source = (uint8_t)source;
	ch->supp.created = now;
	util_strlcpy(ch->supp.ref, r->msgid, sizeof(ch->supp.ref));
	if (g != NULL)
		snprintf(text, sizeof(text), "%s%s by %s (reported by %s): %s",
		    head, ch->status, g->remote_mta[0] ? g->remote_mta : "?",
		    r->reporting_mta[0] ? r->reporting_mta : "?", g->diag);
	else
		snprintf(text, sizeof(text), "%s%s", head, ch->status);
	note_set(ch->supp.note, text);
}

/* queue_why - the first reason to queue the report, kept. */
static void
queue_why(struct fb_plan *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
queue_why(struct fb_plan *p, const char *fmt, ...)
{
	va_list ap;

	if (p->queue)
		return;
	p->queue = 1;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

/* unproven - why a failure for claimed addresses has no proof. */
static void
unproven(struct fb_plan *p, const struct fbp_report *r,
    const struct proofs *pr, const char *who)
{
	if (pr->n > 0)
		queue_why(p, "the token names %s but the report names %s",
		    pr->p[0].key, who);
	else
		queue_why(p, "no proof that we sent to %s: no valid "
		    "List-Unsubscribe token%s or signed return path", who,
		    r->ntok > 0 ? " (tokens found, none valid)" : "");
}

/* group_plan - the change for one per-recipient group of a bounce. */
static void
group_plan(const struct fbp_report *r, const struct fbp_rcpt *g,
    const struct fb_ctx *ctx, const struct proofs *pr, int admin,
    struct fb_plan *p)
{
	struct fb_change *ch = &p->ch[p->n++];
	const struct fbclass_rule *rule;
	const char *claimed[2] = { g->original, g->final };
	struct addr a;
	int src = admin ? SRC_ADMIN : SRC_BOUNCE;

	memset(ch, 0, sizeof(*ch));
	ch->class_ = fbclass_classify(ctx->rules, g->action, g->status, g->diag,
	    &rule, ch->status);
	ch->why = rule == NULL ? (g->status[0] ? "not a failure" :
	    "no status code") : rule->why ? rule->why : "feedback.rules";
	util_strlcpy(ch->key, g->final[0] ? g->final : g->original,
	    sizeof(ch->key));
	if (ch->class_ != FBC_HARD && ch->class_ != FBC_SOFT)
		return;
	if (admin) {
		if (key_of(ctx, g->original, &a) == -1 &&
		    key_of(ctx, g->final, &a) == -1) {
			queue_why(p, "the report's recipient \"%s\" is not an "
			    "address", ch->key);
			return;
		}
		util_strlcpy(ch->key, a.key, sizeof(ch->key));
		ch->by = FBP_BY_ADMIN;
	} else if (!prove(r, ctx, pr, claimed, ch)) {
		/* A plain bounce that names no one: the one token does. */
		if (g->original[0] == '\0' && g->final[0] == '\0' && pr->n == 1) {
			util_strlcpy(ch->key, pr->p[0].key, sizeof(ch->key));
			util_strlcpy(ch->list, pr->p[0].list, sizeof(ch->list));
			ch->by = FBP_BY_TOKEN;
		} else {
			unproven(p, r, pr, ch->key[0] ? ch->key : "no one");
			return;
		}
	}
	ch->op = ch->class_ == FBC_HARD ? FBO_SUPPRESS : FBO_SOFT;
	evidence(ch, ch->class_ == FBC_HARD ? SR_HARD_BOUNCE : SR_SOFT_BOUNCE,
	    src, r, g, admin ? "by admin from the review queue: " : "", ctx->now);
	if (ch->op == FBO_SOFT)
		ch->supp.expires = ctx->now + ctx->soft_expires;
}

/* redacted - 1 if a feedback loop hid the recipient in addr. */
static int
redacted(const char *addr)
{
	static const char *const words[] = { "redacted", "removed", "hidden",
	    "anonymous", "undisclosed", NULL };
	const char *at = strrchr(addr, '@');
	size_t n = at != NULL ? (size_t)(at - addr) : strlen(addr);

	if (n == 0)
		return 1;
	for (int i = 0; words[i] != NULL; i++)
		if (n == strlen(words[i]) && strncasecmp(addr, words[i], n) == 0)
			return 1;
	return strspn(addr, "xX*#._-") >= n;
}

/* arf_plan - a complaint: "abuse" suppresses, other types are reported. */
static void
arf_plan(const struct fbp_report *r, const struct fb_ctx *ctx,
    const struct proofs *pr, int admin, struct fb_plan *p)
{
	unsigned named = 0;

	for (unsigned i = 0; i < r->nrcpt; i++) {
		const char *claimed[2] = { r->rcpt[i].final, "" };
		struct fb_change *ch;
		struct addr a;

		if (redacted(r->rcpt[i].final))
			continue;
		named++;
		ch = &p->ch[p->n++];
		memset(ch, 0, sizeof(*ch));
		util_strlcpy(ch->key, r->rcpt[i].final, sizeof(ch->key));
		if (admin && key_of(ctx, r->rcpt[i].final, &a) == 0) {
			util_strlcpy(ch->key, a.key, sizeof(ch->key));
			ch->by = FBP_BY_ADMIN;
		} else if (!prove(r, ctx, pr, claimed, ch)) {
			unproven(p, r, pr, ch->key);
			return;
		}
	}
	if (named == 0) {
		struct fb_change *ch = &p->ch[p->n++];

		memset(ch, 0, sizeof(*ch));
		if (pr->n != 1) {
			queue_why(p, "%s", pr->n == 0 ? "a complaint that names "
			    "no recipient, and no valid token" : "a complaint "
			    "whose tokens name several recipients");
			return;
		}
		util_strlcpy(ch->key, pr->p[0].key, sizeof(ch->key));
		util_strlcpy(ch->list, pr->p[0].list, sizeof(ch->list));
		ch->by = FBP_BY_TOKEN;
	}
}

/* arf_finish - the complaint's class, evidence and operation. */
static void
arf_finish(const struct fbp_report *r, const struct fb_ctx *ctx, int admin,
    struct fb_plan *p)
{
	int abuse = strcmp(r->feedback_type, "abuse") == 0;
	char head[FBP_TEXT_MAX + FBP_HOST_MAX + 100];

	snprintf(head, sizeof(head), "%scomplaint (Feedback-Type %s) from %s",
	    admin ? "by admin from the review queue: " : "", r->feedback_type,
	    r->reporting_mta[0] ? r->reporting_mta : r->user_agent[0] ?
	    r->user_agent : r->from);
	for (unsigned i = 0; i < p->n; i++) {
		struct fb_change *ch = &p->ch[i];

		ch->class_ = abuse ? FBC_HARD : FBC_IGNORE;
		ch->op = abuse ? FBO_SUPPRESS : FBO_NONE;
		ch->why = abuse ? "a complaint: suppressed on every list" :
		    "a feedback type other than abuse: recorded, not applied";
		util_strlcpy(ch->status, "arf", sizeof(ch->status));
		evidence(ch, SR_COMPLAINT, admin ? SRC_ADMIN : SRC_COMPLAINT, r,
		    NULL, head, ctx->now);
		note_set(ch->supp.note, head);
	}
}

/* dedupe - one change per store key: the stronger stays. */
static void
dedupe(struct fb_plan *p)
{
	for (unsigned i = 0; i < p->n; i++)
		for (unsigned j = i + 1; j < p->n; j++) {
			struct fb_change *a = &p->ch[i], *b = &p->ch[j];

			if (a->op == FBO_NONE || b->op == FBO_NONE ||
			    strcmp(a->key, b->key) != 0)
				continue;
			if (b->op == FBO_SUPPRESS && a->op != FBO_SUPPRESS) {
				a->op = FBO_NONE;
				a->why = "the same recipient again";
			} else {
				b->op = FBO_NONE;
				b->why = "the same recipient again";
			}
		}
}

unsigned
fb_plan_make(const struct fbp_report *r, const struct fb_ctx *ctx, int admin,
    struct fb_plan *p)
{
	struct proofs pr;
	unsigned writes = 0;
	int any_status = 0;

	memset(p, 0, sizeof(*p));
	proofs_tokens(r, ctx, &pr);
	if (r->kind == FBP_ARF && strcmp(r->feedback_type, "abuse") != 0) {
		/* Another type changes nothing: no proof needed, none queued. */
		p->n = 1;
		util_strlcpy(p->ch[0].key, r->nrcpt ? r->rcpt[0].final : "",
		    sizeof(p->ch[0].key));
		arf_finish(r, ctx, admin, p);
		return 0;
	}
	if (r->kind == FBP_ARF) {
		arf_plan(r, ctx, &pr, admin, p);
		if (!p->queue)
			arf_finish(r, ctx, admin, p);
	} else {
		for (unsigned i = 0; i < r->nrcpt && p->n < FBP_RCPT_MAX; i++) {
			any_status |= r->rcpt[i].status[0] != '\0';
			group_plan(r, &r->rcpt[i], ctx, &pr, admin, p);
		}
		if (!any_status)
			queue_why(p, "%s", "a bounce without an enhanced status "
			    "code: not guessed");
	}
	if (p->queue)
		return 0;
	dedupe(p);
	for (unsigned i = 0; i < p->n; i++)
		writes += p->ch[i].op != FBO_NONE;
	return writes;
}
