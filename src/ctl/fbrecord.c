/*
 * fbrecord.c - fb_record(), the one place where feedback writes: the mail
 * and mail-log channels and the review queue all come here.
 *
 * Suppressions go through journal_submit() (core/journal.h), every
 * writer's entry point: the local store on one host, the store and its
 * outbox in a fleet (never waiting on the network: consent-syncd sends
 * the outbox, as for mailto intake).  Soft-bounce counts are this host's
 * own evidence, kept in the local store beside the record.  The order
 * makes a retry safe: the counts as they stand decide which soft bounces
 * reach the threshold; the suppressions are submitted, all or none; only
 * then do the counts move.  A failure before the last step leaves the
 * counts as they were, so the retry decides the same; a suppression
 * submitted twice merges once.  A soft bounce of a message counted
 * already (its Message-ID, or queue id, among the count's) counts no
 * more: decide() and the store apply the same rule.
 */
#include <stdlib.h>
#include <string.h>

#include "core/change.h"
#include "core/journal.h"
#include "ctl/fbplan.h"
#include "util/util.h"

/* What the batch does to one key's soft count, as it goes. */
struct sim {
	const char *key;	/* NULL: an empty slot */
	struct store_soft ss;	/* count, first and the messages counted */
};

/* sim_of - key's slot in the table of n slots (a power of two), loaded
 * from the store on first sight; NULL with err on a store error. */
static struct sim *
sim_of(struct store *st, struct sim *tab, size_t n, const char *key,
    char *err, size_t errlen)
{
	uint64_t h = 1469598103934665603ULL;
	struct store_soft ss;
	size_t i;

	for (const char *p = key; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (i = (size_t)h & (n - 1); tab[i].key != NULL; i = (i + 1) & (n - 1))
		if (strcmp(tab[i].key, key) == 0)
			return &tab[i];
	memset(&ss, 0, sizeof(ss));
	if (store_soft_get(st, key, &ss, err, errlen) == -1)
		return NULL;
	tab[i].key = key;
	tab[i].ss = ss;
	return &tab[i];
}

/* ident - the message a soft bounce is of: its Message-ID, else its
 * queue id in our mail log, else unknown (""). */
static const char *
ident(const struct fb_change *ch)
{
	return ch->supp.ref[0] != '\0' ? ch->supp.ref : ch->qid;
}

/* when - the event's time: the bounce's, else now. */
static int64_t
when(const struct fb_change *ch, const struct fb_ctx *ctx)
{
	return ch->supp.created ? ch->supp.created : ctx->now;
}

/*
 * decide - which soft bounces reach the threshold (ch->suppressed), from
 * the counts as they stand and the batch's own changes in order.
 */
static int
decide(struct store *st, struct fb_change *ch, unsigned n,
    const struct fb_ctx *ctx, char *err, size_t errlen)
{
	size_t slots = 16;
	struct sim *tab, *s;
	uint64_t ref;
	int rc = -1;

	while (slots < 2 * (size_t)n)
		slots *= 2;
	if ((tab = calloc(slots, sizeof(*tab))) == NULL)
		return util_fail(err, errlen, "out of memory");
	for (unsigned i = 0; i < n; i++) {
		int64_t t = when(&ch[i], ctx);

		ch[i].changed = ch[i].suppressed = 0;
		ch[i].soft_count = 0;
		if (ch[i].op == FBO_NONE)
			continue;
		if ((s = sim_of(st, tab, slots, ch[i].key, err, errlen)) == NULL)
			goto out;
		if (ch[i].op != FBO_SOFT) {
			/* a suppression or a delivery */
			memset(&s->ss, 0, sizeof(s->ss));
			continue;
		}
		/* As store_txn_soft_add() counts, so that both agree. */
		ref = store_soft_ref(ident(&ch[i]));
		if (s->ss.count > 0 && s->ss.first <= t &&
		    t - s->ss.first <= ctx->soft_window) {
			if (store_soft_seen(&s->ss, ref)) {
				ch[i].op = FBO_NONE;
				ch[i].soft_count = s->ss.count;
				ch[i].why = "this message's soft bounce was "
				    "counted already";
				continue;
			}
			s->ss.count++;
		} else {
			memset(&s->ss, 0, sizeof(s->ss));
			s->ss.count = 1;
			s->ss.first = t;
		}
		store_soft_note(&s->ss, ref);
		ch[i].soft_count = s->ss.count;
		if (s->ss.count >= ctx->soft_threshold) {
			ch[i].suppressed = 1;
			memset(&s->ss, 0, sizeof(s->ss));
		}
	}
	rc = 0;
out:
	free(tab);
	return rc;
}

/*
 * suppression - ch as a change for the journal into c; 1 if it would
 * change the store, 0 if the store has it already (the same report
 * again: a retry, a resend), -1 with err.
 */
static int
suppression(struct store *st, const struct fb_change *ch, int64_t t,
    struct change *c, char *err, size_t errlen)
{
	struct subject s;
	int rc;

	change_init(c, CHANGE_SUPPRESS, ch->key, t);
	c->supp = ch->supp;
	subject_init(&s);
	if ((rc = store_get(st, ch->key, &s, err, errlen)) == -1)
		return -1;
	if (rc == 1 && s.has_supp && s.supp.reason == ch->supp.reason &&
	    strcmp(s.supp.ref, ch->supp.ref) == 0 &&
	    strcmp(s.supp.note, ch->supp.note) == 0)
		rc = 0;
	else
		rc = change_merge(&s, c) == 1;
	subject_clear(&s);
	return rc;
}

/* submit - the suppressions the batch makes, in one journal_submit(). */
static int
submit(struct store *st, struct fb_change *ch, unsigned n,
    const struct fb_ctx *ctx, char *err, size_t errlen)
{
	struct journal_result res;
	struct journal j;
	struct change *c;
	size_t nc = 0;
	int rc = 0;

	if ((c = calloc(n ? n : 1, sizeof(*c))) == NULL)
		return util_fail(err, errlen, "out of memory");
	for (unsigned i = 0; i < n && rc == 0; i++) {
		int r;

		if (ch[i].op != FBO_SUPPRESS && !ch[i].suppressed)
			continue;
		if ((r = suppression(st, &ch[i], when(&ch[i], ctx), &c[nc], err,
		    errlen)) == -1)
			rc = -1;
		else if (r == 1) {
			ch[i].changed = 1;
			nc++;
		}
	}
	if (rc == 0 && nc > 0) {
		journal_init(&j, st, ctx->sync, JOURNAL_NO_NETWORK);
		rc = journal_submit(&j, c, nc, &res, err, errlen);
		journal_fini(&j);
	}
	free(c);
	return rc;
}

struct count_arg {
	struct fb_change *ch;
	unsigned n;
	const struct fb_ctx *ctx;
};

/* count_fn - the counts move, in order: run again from the start if the
 * map grows, so results are set afresh each time. */
static int
count_fn(struct store_txn *t, void *arg)
{
	struct count_arg *a = arg;
	struct store_soft ss;
	int r;

	for (unsigned i = 0; i < a->n; i++) {
		struct fb_change *ch = &a->ch[i];

		switch (ch->op) {
		case FBO_SOFT:
			if (ch->suppressed) {
				if (store_txn_soft_reset(t, ch->key) == -1)
					return -1;
				ch->changed = 1;
				break;
			}
			if (store_txn_soft_add(t, ch->key, when(ch, a->ctx),
			    a->ctx->soft_window, ident(ch), &ss) == -1)
				return -1;
			ch->soft_count = ss.count;
			ch->changed = 1;
			break;
		case FBO_SUPPRESS:
		case FBO_RESET:
			if ((r = store_txn_soft_reset(t, ch->key)) == -1)
				return -1;
			if (ch->op == FBO_RESET)
				ch->changed = r;
			break;
		}
	}
	return 0;
}

int
fb_record(struct store *st, struct fb_change *ch, unsigned n,
    const struct fb_ctx *ctx, char *err, size_t errlen)
{
	struct count_arg a = { ch, n, ctx };

	if (decide(st, ch, n, ctx, err, errlen) == -1 ||
	    submit(st, ch, n, ctx, err, errlen) == -1)
		return -1;
	return store_write(st, count_fn, &a, err, errlen) == 0 ? 0 : -1;
}
