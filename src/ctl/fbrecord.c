/*
 * fbrecord.c - fb_record(), the one place where feedback writes to the
 * store: the mail and mail-log channels and the review queue all come
 * here, so that a change of the store's writer (fleet mode) is made in
 * this file alone.
 */
#include <string.h>

#include "ctl/fbplan.h"

struct rec_arg {
	struct fb_change *ch;
	unsigned n;
	const struct fb_ctx *ctx;
};

/* supp_put - merge sp into key's record; *changed says if it did. */
static int
supp_put(struct store_txn *t, const char *key, const struct suppression *sp,
    int64_t now, int *changed)
{
	struct subject s;
	int rc;

	subject_init(&s);
	if ((rc = store_txn_get(t, key, &s)) == -1) {
		subject_clear(&s);
		return -1;
	}
	/* The same report again (a retry, a resend) changes nothing. */
	if (s.has_supp && s.supp.reason == sp->reason &&
	    strcmp(s.supp.ref, sp->ref) == 0 && strcmp(s.supp.note, sp->note) == 0)
		*changed = 0;
	else
		*changed = record_apply_supp(&s, sp, now) == 1;
	rc = *changed ? store_txn_put(t, key, &s) : 0;
	subject_clear(&s);
	return rc;
}

/* record_fn - every change in one transaction; run again from the start
 * if the map grows, so results are set afresh each time. */
static int
record_fn(struct store_txn *t, void *arg)
{
	struct rec_arg *a = arg;
	const struct fb_ctx *ctx = a->ctx;

	for (unsigned i = 0; i < a->n; i++) {
		struct fb_change *ch = &a->ch[i];
		struct store_soft ss;

		ch->changed = ch->suppressed = 0;
		ch->soft_count = 0;
		switch (ch->op) {
		case FBO_SUPPRESS:
			if (supp_put(t, ch->key, &ch->supp, ctx->now,
			    &ch->changed) == -1 ||
			    store_txn_soft_reset(t, ch->key) == -1)
				return -1;
			break;
		case FBO_SOFT:
			/* Counted at the bounce's time: a mail log read late. */
			if (store_txn_soft_add(t, ch->key, ch->supp.created ?
			    ch->supp.created : ctx->now, ctx->soft_window, &ss) == -1)
				return -1;
			ch->soft_count = ss.count;
			ch->changed = 1;
			if (ss.count < ctx->soft_threshold)
				break;
			ch->suppressed = 1;
			if (supp_put(t, ch->key, &ch->supp, ctx->now,
			    &ch->changed) == -1 ||
			    store_txn_soft_reset(t, ch->key) == -1)
				return -1;
			ch->changed = 1;
			break;
		case FBO_RESET:
			if ((ch->changed = store_txn_soft_reset(t, ch->key)) == -1)
				return -1;
			break;
		}
	}
	return 0;
}

int
fb_record(struct store *st, struct fb_change *ch, unsigned n,
    const struct fb_ctx *ctx, char *err, size_t errlen)
{
	struct rec_arg a = { ch, n, ctx };

	return store_write(st, record_fn, &a, err, errlen) == 0 ? 0 : -1;
}
