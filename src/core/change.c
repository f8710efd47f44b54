/*
 * change.c - one change to the consent record: checks, the merge, and the
 * outbox's binary form.
 *
 * Binary form, version 1, integers big-endian, strings as u8 length and
 * octets (no NUL):
 *
 *   u8 version  u8 kind  u8 flags  str key  str list  i64 made  str origin
 *   id[16]
 *   consent, confirm:  u8 status u8 source u8 flags i64 time str ip str note
 *   suppress:          u8 reason u8 source u8 flags i64 created i64 expires
 *                      str ref str note
 *   unsuppress:        nothing more
 *
 * Nothing may follow.  The decoder checks all of it: an outbox is a file
 * on disk, and what is read back goes through change_check() like a row
 * from the database.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/change.h"
#include "util/bin.h"
#include "util/util.h"

#define ENC_VERSION	1

static const char *kind_names[CHANGE_MAX_] = {
	"none", "consent", "confirm", "suppress", "unsuppress"
};

const char *
change_kind_name(int kind)
{
	return kind > 0 && kind < CHANGE_MAX_ ? kind_names[kind] : "?";
}

int
change_kind_parse(const char *s)
{
	for (int i = 1; i < CHANGE_MAX_; i++)
		if (strcmp(kind_names[i], s) == 0)
			return i;
	return -1;
}

void
change_init(struct change *c, int kind, const char *key, int64_t made)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	util_strlcpy(c->key, key, sizeof(c->key));
	c->made = made;
}

int
change_host_check(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CHANGE_HOST_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
		    ch == '_'))
			return -1;
	}
	return 0;
}

/* key_check - a store key: no control character (a quoted local part
 * may hold blanks: "odd gone"@example.net). */
static int
key_check(const char *key, int want_addr, char *err, size_t errlen)
{
	size_t n = strlen(key);

	if (n == 0 || n > CHANGE_KEY_MAX)
		return util_fail(err, errlen, "key of %zu octets", n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
			return util_fail(err, errlen, "key holds a control "
			    "character");
	if (want_addr && store_is_domain_key(key))
		return util_fail(err, errlen, "a consent change needs an address "
		    "key, not a domain");
	return 0;
}

static int
ev_check(const struct change *c, char *err, size_t errlen)
{
	const struct evidence *ev = &c->ev;
	char why[160];

	if (record_list_check(c->list, why, sizeof(why)) == -1)
		return util_fail(err, errlen, "%s", why);
	if (ev->status == CS_NONE || ev->status >= CS_MAX_)
		return util_fail(err, errlen, "consent status %u", ev->status);
	if (c->kind == CHANGE_CONFIRM && ev->status != CS_CONFIRMED)
		return util_fail(err, errlen, "a confirmation must be confirmed");
	if (ev->source >= SRC_MAX_)
		return util_fail(err, errlen, "source %u", ev->source);
	if (ev->flags & ~REC_F_TIME_UNKNOWN)
		return util_fail(err, errlen, "evidence flags %#x", ev->flags);
	if (strlen(ev->ip) > REC_IP_MAX || strlen(ev->note) > REC_NOTE_MAX)
		return util_fail(err, errlen, "ip or note too long");
	return 0;
}

static int
supp_check(const struct change *c, char *err, size_t errlen)
{
	const struct suppression *sp = &c->supp;

	if (c->list[0] != '\0')
		return util_fail(err, errlen, "a suppression covers every list: "
		    "no list");
	if (sp->reason == SR_NONE || sp->reason >= SR_MAX_)
		return util_fail(err, errlen, "suppression reason %u", sp->reason);
	if (sp->source >= SRC_MAX_)
		return util_fail(err, errlen, "source %u", sp->source);
	if (sp->flags & ~REC_F_TIME_UNKNOWN)
		return util_fail(err, errlen, "suppression flags %#x", sp->flags);
	if (sp->expires < 0)
		return util_fail(err, errlen, "negative expiry");
	if (strlen(sp->ref) > REC_REF_MAX || strlen(sp->note) > REC_NOTE_MAX)
		return util_fail(err, errlen, "ref or note too long");
	return 0;
}

int
change_check(const struct change *c, char *err, size_t errlen)
{
	if (c->kind <= CHANGE_NONE || c->kind >= CHANGE_MAX_)
		return util_fail(err, errlen, "unknown kind %d", c->kind);
	if (key_check(c->key, c->kind == CHANGE_CONSENT ||
	    c->kind == CHANGE_CONFIRM, err, errlen) == -1)
		return -1;
	if (c->origin[0] != '\0' && change_host_check(c->origin) == -1)
		return util_fail(err, errlen, "bad origin host id");
	if (c->flags & ~(CHANGE_F_FORWARDED | CHANGE_F_AFTER_ERASURE))
		return util_fail(err, errlen, "change flags %#x", (unsigned)c->flags);
	switch (c->kind) {
	case CHANGE_CONSENT:
	case CHANGE_CONFIRM:
		return ev_check(c, err, errlen);
	case CHANGE_SUPPRESS:
		return supp_check(c, err, errlen);
	default:
		if (c->list[0] != '\0')
			return util_fail(err, errlen, "unsuppress takes no list");
		return 0;
	}
}

int
change_is_optout(const struct change *c)
{
	return c->kind == CHANGE_SUPPRESS ||
	    (c->kind == CHANGE_CONSENT && c->ev.status == CS_UNSUBSCRIBED);
}

/* --- the merge ---------------------------------------------------------- */

int
change_merge(struct subject *s, const struct change *c)
{
	const struct list_consent *lc;

	switch (c->kind) {
	case CHANGE_CONFIRM:
		lc = record_find_list(s, c->list);
		if (lc == NULL || (lc->status != CS_PENDING &&
		    lc->status != CS_SUBSCRIBED))
			return 0;	/* nothing to confirm */
		/* FALLTHROUGH */
	case CHANGE_CONSENT:
		return record_apply_consent(s, c->list, &c->ev);
	case CHANGE_SUPPRESS:
		return record_apply_supp(s, &c->supp, c->made);
	case CHANGE_UNSUPPRESS:
		if (!s->has_supp)
			return 0;
		s->has_supp = 0;
		memset(&s->supp, 0, sizeof(s->supp));
		return 1;
	default:
		errno = EINVAL;
		return -1;
	}
}

/*
 * erased_gate - may c be applied to its key?  1 yes (an erasure lifted
 * by a deliberate signup, or none); 0 the key was erased and c changes
 * nothing; -1 with err (an opt-in refused, or a store error).
 */
static int
erased_gate(struct store_txn *t, const struct change *c, char *err,
    size_t errlen)
{
	int rc, optin = c->kind == CHANGE_CONSENT &&
	    c->ev.status != CS_UNSUBSCRIBED;

	if (store_is_domain_key(c->key))
		return 1;
	if ((rc = store_txn_erased(t, c->key, NULL)) == -1)
		return util_fail(err, errlen, "%s", store_txn_error(t));
	if (rc == 0)
		return 1;
	if (!optin)
		return 0;
	if (!(c->flags & CHANGE_F_AFTER_ERASURE))
		return util_fail(err, errlen, "%s was erased at the person's "
		    "request: nothing of it is stored again, unless they signed "
		    "up again (then say so: --after-erasure)", c->key);
	if (store_txn_erase_unmark(t, c->key) == -1)
		return util_fail(err, errlen, "%s", store_txn_error(t));
	return 1;
}

int
change_apply(struct store_txn *t, const struct change *c, char *err,
    size_t errlen)
{
	struct subject s;
	int rc;

	if ((rc = erased_gate(t, c, err, errlen)) != 1)
		return rc;
	subject_init(&s);
	if (store_txn_get(t, c->key, &s) == -1)
		return util_fail(err, errlen, "%s", store_txn_error(t));
	if ((rc = change_merge(&s, c)) == -1) {
		rc = util_fail(err, errlen, "%s: %s", c->key, errno == E2BIG ?
		    "too many lists for one address" : "invalid change");
	} else if (rc == 1) {
		/* Nothing left under the key: no empty value stays behind. */
		if (!s.has_supp && s.nlists == 0)
			rc = store_txn_del(t, c->key) == -1 ? -1 : 1;
		else
			rc = store_txn_put(t, c->key, &s) == -1 ? -1 : 1;
		if (rc == -1)
			util_fail(err, errlen, "%s", store_txn_error(t));
	}
	subject_clear(&s);
	return rc;
}

/* --- ids ---------------------------------------------------------------- */

void
change_new_id(struct change *c)
{
	randombytes_buf(c->id, sizeof(c->id));
	c->id[6] = (unsigned char)((c->id[6] & 0x0f) | 0x40);	/* version 4 */
	c->id[8] = (unsigned char)((c->id[8] & 0x3f) | 0x80);	/* RFC 4122 */
}

char *
change_id_format(const unsigned char id[CHANGE_ID_LEN], char buf[CHANGE_ID_TEXT])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (int i = 0; i < CHANGE_ID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[o++] = '-';
		buf[o++] = hex[id[i] >> 4];
		buf[o++] = hex[id[i] & 0x0f];
	}
	buf[o] = '\0';
	return buf;
}

int
change_id_parse(const char *s, size_t n, unsigned char id[CHANGE_ID_LEN])
{
	size_t o = 0;

	if (n != CHANGE_ID_TEXT - 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
			continue;
		}
		if (i + 1 >= n || (hi = util_hexval(s[i])) < 0 ||
		    (lo = util_hexval(s[i + 1])) < 0)
			return -1;
		id[o++] = (unsigned char)(hi << 4 | lo);
		i++;
	}
	return o == CHANGE_ID_LEN ? 0 : -1;
}

/* --- binary form -------------------------------------------------------- */

int
change_encode(const struct change *c, unsigned char *buf, size_t cap,
    size_t *lenp)
{
	struct bin_w w = { buf, 0, cap, 0 };
	char why[160];

	if (change_check(c, why, sizeof(why)) == -1) {
		errno = EINVAL;
		return -1;
	}
	bin_put_u8(&w, ENC_VERSION);
	bin_put_u8(&w, (unsigned)c->kind);
	bin_put_u8(&w, (unsigned)c->flags);
	bin_put_str(&w, c->key, sizeof(c->key) - 1);
	bin_put_str(&w, c->list, sizeof(c->list) - 1);
	bin_put_i64(&w, c->made);
	bin_put_str(&w, c->origin, sizeof(c->origin) - 1);
	bin_put(&w, c->id, CHANGE_ID_LEN);
	if (c->kind == CHANGE_CONSENT || c->kind == CHANGE_CONFIRM) {
		bin_put_u8(&w, c->ev.status);
		bin_put_u8(&w, c->ev.source);
		bin_put_u8(&w, c->ev.flags);
		bin_put_i64(&w, c->ev.time);
		bin_put_str(&w, c->ev.ip, sizeof(c->ev.ip) - 1);
		bin_put_str(&w, c->ev.note, sizeof(c->ev.note) - 1);
	} else if (c->kind == CHANGE_SUPPRESS) {
		bin_put_u8(&w, c->supp.reason);
		bin_put_u8(&w, c->supp.source);
		bin_put_u8(&w, c->supp.flags);
		bin_put_i64(&w, c->supp.created);
		bin_put_i64(&w, c->supp.expires);
		bin_put_str(&w, c->supp.ref, sizeof(c->supp.ref) - 1);
		bin_put_str(&w, c->supp.note, sizeof(c->supp.note) - 1);
	}
	if (w.bad) {
		errno = ENOSPC;
		return -1;
	}
	*lenp = w.len;
	return 0;
}

int
change_decode(const void *buf, size_t len, struct change *c, char *err,
    size_t errlen)
{
	struct bin_r r = { buf, len, 0, NULL };
	unsigned v;

	memset(c, 0, sizeof(*c));
	if ((v = bin_u8(&r, "format")) != ENC_VERSION && r.why == NULL)
		return util_fail(err, errlen, "change format %u is not %d%s", v,
		    ENC_VERSION, v > ENC_VERSION ? " (written by a newer build)" :
		    "");
	c->kind = (int)bin_u8(&r, "kind");
	c->flags = (int)bin_u8(&r, "flags");
	bin_copy(&r, c->key, sizeof(c->key) - 1, "key");
	bin_copy(&r, c->list, sizeof(c->list) - 1, "list");
	c->made = bin_i64(&r, "made");
	bin_copy(&r, c->origin, sizeof(c->origin) - 1, "origin");
	bin_take(&r, c->id, CHANGE_ID_LEN, "id");
	if (c->kind == CHANGE_CONSENT || c->kind == CHANGE_CONFIRM) {
		c->ev.status = (uint8_t)bin_u8(&r, "evidence status");
		c->ev.source = (uint8_t)bin_u8(&r, "evidence source");
		c->ev.flags = (uint8_t)bin_u8(&r, "evidence flags");
		c->ev.time = bin_i64(&r, "evidence time");
		bin_copy(&r, c->ev.ip, sizeof(c->ev.ip) - 1, "evidence ip");
		bin_copy(&r, c->ev.note, sizeof(c->ev.note) - 1,
		    "evidence note");
	} else if (c->kind == CHANGE_SUPPRESS) {
		c->supp.reason = (uint8_t)bin_u8(&r, "suppression reason");
		c->supp.source = (uint8_t)bin_u8(&r, "suppression source");
		c->supp.flags = (uint8_t)bin_u8(&r, "suppression flags");
		c->supp.created = bin_i64(&r, "suppression created");
		c->supp.expires = bin_i64(&r, "suppression expires");
		bin_copy(&r, c->supp.ref, sizeof(c->supp.ref) - 1,
		    "suppression ref");
		bin_copy(&r, c->supp.note, sizeof(c->supp.note) - 1,
		    "suppression note");
	}
	if (r.why != NULL)
		return util_fail(err, errlen, "change truncated or malformed "
		    "(%s)", r.why);
	if (r.off != r.len)
		return util_fail(err, errlen, "change followed by %zu octets",
		    r.len - r.off);
	return change_check(c, err, errlen);
}
