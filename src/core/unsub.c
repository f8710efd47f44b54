/*
 * unsub.c - the unsubscribe loop's shared pieces (see unsub.h).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/lu.h"
#include "core/unsub.h"
#include "util/util.h"

int
unsub_ring_load(const struct config *cf, struct token_ring *r, char *err,
    size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (token_init() == -1) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	for (unsigned i = 0; i < cf->lu_nkeys && i < TOKEN_KEYS_MAX; i++) {
		if (token_key_load(cf->lu_keys[i].file, cf->lu_keys[i].id,
		    &r->keys[i], err, errlen) == -1) {
			token_wipe(r);
			return -1;
		}
		r->nkeys++;
	}
	r->lifetime = cf->lu_lifetime;
	return 0;
}

void
unsub_templates(const struct config *cf, const char *list, struct lu_templates *t)
{
	*t = cf->lu_default;
	for (unsigned i = 0; i < cf->lu_nlists; i++) {
		const struct lu_templates *l = &cf->lu_lists[i];

		if (strcmp(l->list, list) != 0)
			continue;
		if (l->url[0])
			util_strlcpy(t->url, l->url, sizeof(t->url));
		if (l->mailto[0])
			util_strlcpy(t->mailto, l->mailto, sizeof(t->mailto));
		if (l->list_url[0])
			util_strlcpy(t->list_url, l->list_url, sizeof(t->list_url));
		break;
	}
}

int
unsub_header(const struct config *cf, const struct token_ring *r,
    const char *addr, const char *list, int64_t now, char *out, size_t outlen,
    int *one_click, char *err, size_t errlen)
{
	struct lu_templates t;
	char tok[TOKEN_MAX];
	int n;

	*one_click = 0;
	unsub_templates(cf, list, &t);
	if (addr == NULL) {
		/* Several recipients: never one person's token for everyone. */
		if (t.list_url[0] == '\0')
			return 0;
		n = lu_build(t.list_url, NULL, "0", list, out, outlen);
	} else {
		if (t.url[0] == '\0')
			return 0;
		if (token_make(r, addr, list, now, tok, sizeof(tok)) < 0) {
			snprintf(err, errlen, "cannot make a token (no key, or "
			    "list %s / address too long)", list);
			return -1;
		}
		n = lu_build(t.url, t.mailto, tok, list, out, outlen);
		sodium_memzero(tok, sizeof(tok));
		*one_click = 1;
	}
	if (n < 0) {
		snprintf(err, errlen, "List-Unsubscribe for list %s would break "
		    "the line limits", list);
		return -1;
	}
	return n;
}

struct rec_arg {
	const struct token_claims *c;
	int	source, all, changed;
	const char *ip;
	int64_t	now;
};

/*
 * Unsubscribe s from one list, whatever its record says: dated now, or at
 * its newest change if that is later (an equal time goes to the
 * unsubscribe).  1 if it changed, 0 if it was unsubscribed already, -1 if
 * the record refused it (cannot happen; fail rather than pretend).
 */
static int
unsub_list(struct subject *s, const char *list, const struct rec_arg *a)
{
	struct list_consent *lc = record_find_list(s, list);
	struct evidence ev;

	if (lc != NULL && lc->status == CS_UNSUBSCRIBED)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.status = CS_UNSUBSCRIBED;
	ev.source = (uint8_t)a->source;
	ev.time = a->now;
	if (lc != NULL && lc->changed > ev.time)
		ev.time = lc->changed;
	util_strlcpy(ev.ip, a->ip, sizeof(ev.ip));
	return record_apply_consent(s, list, &ev) == 1 ? 1 : -1;
}

/*
 * An explicit unsubscribe always ends denied: a click that changes nothing
 * must be one that finds the person unsubscribed already.
 */
static int
record_fn(struct store_txn *t, void *arg)
{
	struct rec_arg *a = arg;
	struct subject s;
	int rc = 0;

	a->changed = 0;
	subject_init(&s);
	if (store_txn_get(t, a->c->addr, &s) == -1)
		return -1;
	if (a->all) {
		struct suppression sp;
		int64_t newest = a->now;
		int in_force;

		/* In force: unexpired and newer than every opt-in it faces. */
		for (unsigned i = 0; i < s.nlists; i++)
			if (s.lists[i].changed > newest)
				newest = s.lists[i].changed;
		in_force = s.has_supp && s.supp.reason == SR_UNSUBSCRIBED_ALL &&
		    (s.supp.expires == 0 || s.supp.expires > a->now);
		for (unsigned i = 0; in_force && i < s.nlists; i++)
			if (s.lists[i].status != CS_UNSUBSCRIBED &&
			    s.lists[i].changed >= s.supp.created)
				in_force = 0;
		if (!in_force) {
			memset(&sp, 0, sizeof(sp));
			sp.reason = SR_UNSUBSCRIBED_ALL;
			sp.source = (uint8_t)a->source;
			sp.created = newest + (newest > a->now);
			snprintf(sp.note, sizeof(sp.note), "list %s%s%s",
			    a->c->list, a->ip[0] ? ", ip " : "", a->ip);
			rc = record_apply_supp(&s, &sp, a->now);
			/*
			 * A stronger suppression (a hard bounce, say) keeps its
			 * place and may expire: leave every known list too.
			 */
			if (rc == 0) {
				int r = unsub_list(&s, a->c->list, a);

				for (unsigned i = 0; r != -1 && i < s.nlists; i++) {
					int r2 = unsub_list(&s, s.lists[i].list, a);

					r = r2 == -1 ? -1 : (r | r2);
				}
				rc = r;
			}
		}
	} else
		rc = unsub_list(&s, a->c->list, a);
	if (rc == -1) {
		subject_clear(&s);
		return 2;	/* abort: nothing written, the caller says why */
	}
	if (rc == 1 && store_txn_put(t, a->c->addr, &s) == -1) {
		subject_clear(&s);
		return -1;
	}
	a->changed = rc == 1;
	subject_clear(&s);
	return 0;
}

int
unsub_record(struct store *st, const struct token_claims *c, int source,
    const char *ip, int all, int64_t now, char *err, size_t errlen)
{
	struct rec_arg a = { c, source, all, 0, ip ? ip : "", now };
	int rc;

	if ((rc = store_write(st, record_fn, &a, err, errlen)) == 2)
		return util_fail(err, errlen, "the record of %s refused the "
		    "unsubscribe", c->addr);
	if (rc != 0)
		return -1;
	return a.changed;
}
