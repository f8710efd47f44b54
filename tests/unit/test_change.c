/*
 * test_change.c - one change to the record: its checks, the merge (the
 * record's rules, with the change's own clock), the outbox's binary form,
 * origin ids, and what a replica relies on: a change applied twice
 * changes nothing, one sequence gives the same store however it is cut
 * into transactions, and where the record's rules make order matter, one
 * order (the journal's) is what makes stores agree.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/change.h"
#include "core/journal.h"
#include "core/policy.h"

#define NOW	1800000000

/* --- helpers ------------------------------------------------------------ */

static struct change
consent(const char *key, const char *list, int status, int64_t t, int source)
{
	struct change c;

	change_init(&c, CHANGE_CONSENT, key, NOW);
	strcpy(c.list, list);
	c.ev.status = (uint8_t)status;
	c.ev.time = t;
	c.ev.source = (uint8_t)source;
	return c;
}

static struct change
suppress(const char *key, int reason, int64_t created, int64_t expires)
{
	struct change c;

	change_init(&c, CHANGE_SUPPRESS, key, NOW);
	c.supp.reason = (uint8_t)reason;
	c.supp.created = created;
	c.supp.expires = expires;
	c.supp.source = SRC_ADMIN;
	return c;
}

static void
mkstore(char *dir, struct store **st)
{
	char err[256];

	strcpy(dir, "/tmp/test_change.XXXXXX");
	assert_non_null(mkdtemp(dir));
	chmod(dir, 0750);
	if (store_open(st, dir, STORE_CREATE, 0, 0, err, sizeof(err)) == -1)
		fail_msg("store_open: %s", err);
}

static void
rmstore(const char *dir, struct store *st)
{
	char cmd[128];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

struct apply_arg {
	const struct change *ch;
	size_t	n;
	int	twice;
};

static int
apply_fn(struct store_txn *t, void *arg)
{
	const struct apply_arg *a = arg;
	char err[256];

	for (size_t i = 0; i < a->n; i++)
		for (int k = 0; k <= a->twice; k++)
			if (change_apply(t, &a->ch[i], err, sizeof(err)) == -1)
				fail_msg("change_apply: %s", err);
	return 0;
}

/* apply - n changes in one store transaction (each twice, with twice). */
static void
apply(struct store *st, const struct change *ch, size_t n, int twice)
{
	struct apply_arg a = { ch, n, twice };
	char err[256];

	if (store_write(st, apply_fn, &a, err, sizeof(err)) != 0)
		fail_msg("store_write: %s", err);
}

struct dump {
	unsigned char *p;
	size_t	len, cap;
};

static int
dump_fn(const char *key, const struct subject *s, void *arg)
{
	struct dump *d = arg;
	unsigned char *v;
	size_t n, k = strlen(key) + 1;

	assert_int_equal(record_encode(s, &v, &n), 0);
	while (d->len + k + n + 8 > d->cap) {
		d->cap = d->cap ? d->cap * 2 : 65536;
		assert_non_null(d->p = realloc(d->p, d->cap));
	}
	memcpy(d->p + d->len, key, k);
	d->len += k;
	memcpy(d->p + d->len, &n, sizeof(n));
	d->len += sizeof(n);
	memcpy(d->p + d->len, v, n);
	d->len += n;
	free(v);
	return 0;
}

/* dump - every key and value of the store, in key order, as octets. */
static struct dump
dump(struct store *st)
{
	struct dump d = { NULL, 0, 0 };
	char err[256];

	assert_int_equal(store_foreach(st, dump_fn, &d, err, sizeof(err)), 0);
	return d;
}

static void
assert_same(struct store *a, struct store *b)
{
	struct dump da = dump(a), db = dump(b);

	assert_true(da.len > 0);
	assert_int_equal(da.len, db.len);
	assert_memory_equal(da.p, db.p, da.len);
	free(da.p);
	free(db.p);
}

static uint64_t rng_state;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* random_changes - n changes of every kind on a few keys and lists. */
static void
random_changes(struct change *ch, size_t n)
{
	static const char *keys[] = { "a@example.com", "b@example.com",
	    "c@example.org", "d+x@example.org" };
	static const char *doms[] = { "example.net", ".example.org" };
	static const char *lists[] = { "news", "deals", "default" };

	for (size_t i = 0; i < n; i++) {
		const char *key = keys[rng() % 4];
		int64_t t = NOW - 1000 + (int64_t)(rng() % 2000);

		switch (rng() % 8) {
		case 0: case 1: case 2:
			ch[i] = consent(key, lists[rng() % 3], 1 + (int)(rng() % 4),
			    t, 1 + (int)(rng() % 8));
			if (rng() % 10 == 0)
				ch[i].ev.flags = REC_F_TIME_UNKNOWN;
			break;
		case 3:
			ch[i] = consent(key, lists[rng() % 3], CS_CONFIRMED, t,
			    SRC_FORM);
			ch[i].kind = CHANGE_CONFIRM;
			break;
		case 4: case 5:
			ch[i] = suppress(rng() % 3 ? key : doms[rng() % 2],
			    1 + (int)(rng() % 6), t, rng() % 3 ? 0 :
			    t + (int64_t)(rng() % 1500));
			break;
		default:
			change_init(&ch[i], CHANGE_UNSUPPRESS, rng() % 3 ? key :
			    doms[rng() % 2], NOW);
			break;
		}
		ch[i].made = t + (int64_t)(rng() % 500);
	}
}

/* --- the merge ---------------------------------------------------------- */

static void
test_merge_is_the_record(void **state)
{
	struct subject s;
	struct change c;

	(void)state;
	subject_init(&s);
	c = consent("a@example.com", "news", CS_SUBSCRIBED, 100, SRC_FORM);
	assert_int_equal(change_merge(&s, &c), 1);
	c = consent("a@example.com", "news", CS_UNSUBSCRIBED, 200, SRC_ONECLICK);
	assert_int_equal(change_merge(&s, &c), 1);
	assert_int_equal(change_merge(&s, &c), 0);	/* again */
	c = consent("a@example.com", "news", CS_SUBSCRIBED, 150, SRC_IMPORT);
	assert_int_equal(change_merge(&s, &c), 1);	/* older: evidence */
	assert_int_equal(s.lists[0].status, CS_UNSUBSCRIBED);
	assert_int_equal(change_merge(&s, &c), 0);
	subject_clear(&s);
}

static void
test_confirm_needs_pending(void **state)
{
	struct subject s;
	struct change c, p;

	(void)state;
	subject_init(&s);
	c = consent("a@example.com", "news", CS_CONFIRMED, 200, SRC_FORM);
	c.kind = CHANGE_CONFIRM;
	assert_int_equal(change_merge(&s, &c), 0);	/* no list: nothing */
	assert_int_equal(s.nlists, 0);
	p = consent("a@example.com", "news", CS_PENDING, 100, SRC_FORM);
	assert_int_equal(change_merge(&s, &p), 1);
	assert_int_equal(change_merge(&s, &c), 1);
	assert_int_equal(s.lists[0].status, CS_CONFIRMED);
	p = consent("a@example.com", "news", CS_UNSUBSCRIBED, 300, SRC_FORM);
	assert_int_equal(change_merge(&s, &p), 1);
	c.ev.time = 400;
	assert_int_equal(change_merge(&s, &c), 0);	/* unsubscribed: no */
	assert_int_equal(s.lists[0].status, CS_UNSUBSCRIBED);
	subject_clear(&s);
}

static void
test_supp_uses_made(void **state)
{
	struct subject s;
	struct change c;

	(void)state;
	subject_init(&s);
	c = suppress("a@example.com", SR_SOFT_BOUNCE, 500, 600);
	assert_int_equal(change_merge(&s, &c), 1);
	/* An older manual one, ending sooner: the soft one is live at made
	 * 550, expired at made 700. */
	c = suppress("a@example.com", SR_MANUAL, 100, 590);
	c.made = 550;
	assert_int_equal(change_merge(&s, &c), 0);
	c.made = 700;
	assert_int_equal(change_merge(&s, &c), 1);
	assert_int_equal(s.supp.reason, SR_MANUAL);
	change_init(&c, CHANGE_UNSUPPRESS, "a@example.com", 800);
	assert_int_equal(change_merge(&s, &c), 1);
	assert_false(s.has_supp);
	assert_int_equal(change_merge(&s, &c), 0);
	subject_clear(&s);
}

static void
test_apply_deletes_empty_key(void **state)
{
	struct store *st;
	struct subject s;
	struct change c[2];
	char dir[64], err[256];

	(void)state;
	mkstore(dir, &st);
	c[0] = suppress(".example.net", SR_MANUAL, NOW, 0);
	apply(st, c, 1, 0);
	subject_init(&s);
	assert_int_equal(store_get(st, ".example.net", &s, err, sizeof(err)), 1);
	change_init(&c[1], CHANGE_UNSUPPRESS, ".example.net", NOW);
	apply(st, &c[1], 1, 0);
	assert_int_equal(store_get(st, ".example.net", &s, err, sizeof(err)), 0);
	subject_clear(&s);
	rmstore(dir, st);
}

static void
test_check(void **state)
{
	struct change c;
	char err[256];

	(void)state;
	c = consent("a@example.com", "news", CS_SUBSCRIBED, NOW, SRC_FORM);
	assert_int_equal(change_check(&c, err, sizeof(err)), 0);
	strcpy(c.list, "News");
	assert_int_equal(change_check(&c, err, sizeof(err)), -1);
	c = consent("example.com", "news", CS_SUBSCRIBED, NOW, SRC_FORM);
	assert_int_equal(change_check(&c, err, sizeof(err)), -1);	/* domain */
	c = consent("\"a b\"@example.com", "news", CS_SUBSCRIBED, NOW, SRC_FORM);
	assert_int_equal(change_check(&c, err, sizeof(err)), 0);	/* quoted */
	c = consent("a\tb@example.com", "news", CS_SUBSCRIBED, NOW, SRC_FORM);
	assert_int_equal(change_check(&c, err, sizeof(err)), -1);
	c = consent("a@example.com", "news", CS_MAX_, NOW, SRC_FORM);
	assert_int_equal(change_check(&c, err, sizeof(err)), -1);
	c = consent("a@example.com", "news", CS_PENDING, NOW, SRC_FORM);
	c.kind = CHANGE_CONFIRM;
	assert_int_equal(change_check(&c, err, sizeof(err)), -1);
	c = suppress("example.com", SR_MANUAL, NOW, 0);
	assert_int_equal(change_check(&c, err, sizeof(err)), 0);
	strcpy(c.list, "news");
	assert_int_equal(change_check(&c, err, sizeof(err)), -1);
	c = suppress("example.com", SR_NONE, NOW, 0);
	assert_int_equal(change_check(&c, err, sizeof(err)), -1);
	c = suppress("example.com", SR_MANUAL, NOW, 0);
	strcpy(c.origin, "mta 1");
	assert_int_equal(change_check(&c, err, sizeof(err)), -1);
	strcpy(c.origin, "mta-1.example_2");
	assert_int_equal(change_check(&c, err, sizeof(err)), 0);
	c.kind = 0;
	assert_int_equal(change_check(&c, err, sizeof(err)), -1);
	assert_true(change_is_optout(&(struct change){ .kind = CHANGE_SUPPRESS }));
	c = consent("a@example.com", "news", CS_UNSUBSCRIBED, NOW, SRC_FORM);
	assert_true(change_is_optout(&c));
	c.ev.status = CS_CONFIRMED;
	assert_false(change_is_optout(&c));
}

/* --- binary form and ids ------------------------------------------------ */

static void
roundtrip(const struct change *c)
{
	unsigned char buf[CHANGE_ENC_MAX];
	struct change d;
	size_t len;
	char err[256];

	assert_int_equal(change_encode(c, buf, sizeof(buf), &len), 0);
	assert_int_equal(change_decode(buf, len, &d, err, sizeof(err)), 0);
	assert_int_equal(d.kind, c->kind);
	assert_int_equal(d.flags, c->flags);
	assert_string_equal(d.key, c->key);
	assert_string_equal(d.list, c->list);
	assert_int_equal(d.made, c->made);
	assert_string_equal(d.origin, c->origin);
	assert_memory_equal(d.id, c->id, CHANGE_ID_LEN);
	assert_memory_equal(&d.ev, &c->ev, sizeof(d.ev));
	assert_memory_equal(&d.supp, &c->supp, sizeof(d.supp));
	/* Every shorter prefix, and one octet more, are refused. */
	for (size_t n = 0; n < len; n++)
		assert_int_equal(change_decode(buf, n, &d, err, sizeof(err)), -1);
	buf[len] = 0;
	assert_int_equal(change_decode(buf, len + 1, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "followed"));
}

static void
test_codec_roundtrip(void **state)
{
	struct change c;
	char note[REC_NOTE_MAX + 1];

	(void)state;
	memset(note, 'n', REC_NOTE_MAX);
	note[REC_NOTE_MAX] = '\0';
	c = consent("a@example.com", "news", CS_CONFIRMED, NOW, SRC_FORM);
	strcpy(c.ev.ip, "2001:db8::1");
	strcpy(c.ev.note, note);
	strcpy(c.origin, "mta1");
	change_new_id(&c);
	roundtrip(&c);
	c.kind = CHANGE_CONFIRM;
	c.ev.flags = REC_F_TIME_UNKNOWN;
	c.flags = CHANGE_F_FORWARDED;
	roundtrip(&c);
	c = suppress(".example.org", SR_HARD_BOUNCE, NOW, NOW + 86400);
	memset(c.supp.ref, 'r', REC_REF_MAX);
	strcpy(c.supp.note, "bounce");
	roundtrip(&c);
	change_init(&c, CHANGE_UNSUPPRESS, "a@example.com", NOW);
	roundtrip(&c);
}

static void
test_codec_refusals(void **state)
{
	unsigned char buf[CHANGE_ENC_MAX];
	struct change c, d;
	size_t len;
	char err[256];

	(void)state;
	c = consent("a@example.com", "news", CS_SUBSCRIBED, NOW, SRC_FORM);
	assert_int_equal(change_encode(&c, buf, sizeof(buf), &len), 0);
	assert_int_equal(change_encode(&c, buf, 10, &len), -1);	/* too small */
	buf[0] = 2;
	assert_int_equal(change_decode(buf, len, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "newer"));
	buf[0] = 1;
	buf[1] = CHANGE_MAX_;
	assert_int_equal(change_decode(buf, len, &d, err, sizeof(err)), -1);
	buf[1] = CHANGE_CONSENT;
	buf[2] = 0x80;		/* a flag no build knows */
	assert_int_equal(change_decode(buf, len, &d, err, sizeof(err)), -1);
	buf[2] = 0;
	buf[4] = '\0';		/* a NUL inside the key */
	assert_int_equal(change_decode(buf, len, &d, err, sizeof(err)), -1);
	/* A change that fails its checks is never encoded. */
	c.ev.status = 0;
	assert_int_equal(change_encode(&c, buf, sizeof(buf), &len), -1);
}

static void
test_ids(void **state)
{
	struct change a, b;
	unsigned char id[CHANGE_ID_LEN];
	char t[CHANGE_ID_TEXT];

	(void)state;
	change_init(&a, CHANGE_UNSUPPRESS, "a@example.com", NOW);
	b = a;
	change_new_id(&a);
	change_new_id(&b);
	assert_memory_not_equal(a.id, b.id, CHANGE_ID_LEN);
	change_id_format(a.id, t);
	assert_int_equal(strlen(t), 36);
	assert_int_equal(t[14], '4');	/* version 4 */
	assert_int_equal(change_id_parse(t, strlen(t), id), 0);
	assert_memory_equal(id, a.id, CHANGE_ID_LEN);
	assert_int_equal(change_id_parse(t, 35, id), -1);
	t[8] = 'x';
	assert_int_equal(change_id_parse(t, 36, id), -1);
	assert_int_equal(change_id_parse("0123456789abcdef0123456789abcdef0123",
	    36, id), -1);
}

/* --- what a replica relies on ------------------------------------------- */

/* Each change applied twice in a row: the same store as once. */
static void
test_twice_changes_nothing(void **state)
{
	enum { N = 600 };
	struct change *ch = calloc(N, sizeof(*ch));
	struct store *a, *b;
	char da[64], db[64];

	(void)state;
	for (uint64_t seed = 1; seed <= 5; seed++) {
		rng_state = seed * 0x9e3779b97f4a7c15ULL;
		random_changes(ch, N);
		mkstore(da, &a);
		mkstore(db, &b);
		apply(a, ch, N, 0);
		apply(b, ch, N, 1);
		assert_same(a, b);
		rmstore(da, a);
		rmstore(db, b);
	}
	free(ch);
}

/* One sequence, cut into transactions any way: the same store. */
static void
test_batches_agree(void **state)
{
	enum { N = 600 };
	struct change *ch = calloc(N, sizeof(*ch));
	struct store *a, *b, *c;
	char da[64], db[64], dc[64];

	(void)state;
	for (uint64_t seed = 11; seed <= 14; seed++) {
		rng_state = seed * 0x9e3779b97f4a7c15ULL;
		random_changes(ch, N);
		mkstore(da, &a);
		mkstore(db, &b);
		mkstore(dc, &c);
		apply(a, ch, N, 0);
		for (size_t i = 0; i < N; i++)
			apply(b, &ch[i], 1, 0);
		for (size_t i = 0, k; i < N; i += k) {
			k = 1 + rng() % 97;
			if (k > N - i)
				k = N - i;
			apply(c, &ch[i], k, 0);
		}
		assert_same(a, b);
		assert_same(a, c);
		rmstore(da, a);
		rmstore(db, b);
		rmstore(dc, c);
	}
	free(ch);
}

/*
 * The record's rules are order-free: a pending request after a
 * confirmation keeps it confirmed, and so does the confirmation (older)
 * arriving after the request.
 */
static void
test_order_free(void **state)
{
	struct subject s1, s2;
	struct change c = consent("a@example.com", "news", CS_CONFIRMED, 100,
	    SRC_FORM);
	struct change p = consent("a@example.com", "news", CS_PENDING, 200,
	    SRC_FORM);
	unsigned char *b1, *b2;
	size_t n1, n2;

	(void)state;
	subject_init(&s1);
	subject_init(&s2);
	change_merge(&s1, &c);
	change_merge(&s1, &p);
	change_merge(&s2, &p);
	change_merge(&s2, &c);
	assert_int_equal(s1.lists[0].status, CS_CONFIRMED);
	assert_int_equal(s2.lists[0].status, CS_CONFIRMED);
	assert_int_equal(record_encode(&s1, &b1, &n1), 0);
	assert_int_equal(record_encode(&s2, &b2, &n2), 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(b1, b2, n1);
	free(b1);
	free(b2);
	subject_clear(&s1);
	subject_clear(&s2);
}

static int
decide(struct store *st, const char *key, const char *list)
{
	static const struct policy_conf pc = { POLICY_OPTIN, 0 };
	struct policy_facts f;
	struct decision d;
	struct addr a;
	char err[256];

	if (addr_normalize(key, strlen(key), 0, "+", &a, err, sizeof(err)) ||
	    store_facts(st, &a, list, &f, err, sizeof(err)))
		fail_msg("%s", err);
	policy_decide(&pc, &f, NOW + 10000, &d);
	return d.allow << 8 | d.reason;
}

/*
 * Where the rules do commute - dated opt-ins and unsubscribes at distinct
 * times, suppressions that never expire - every order gives the same
 * decisions: an opt-out applied early (the outbox) decides the same
 * before consent-syncd puts it back in the journal's order.
 */
static void
test_optouts_early_decide_the_same(void **state)
{
	enum { N = 40 };
	static const char *keys[] = { "a@example.com", "b@example.com" };
	static const char *lists[] = { "news", "deals" };
	struct change ch[N], perm[N];
	struct store *a, *b;
	char da[64], db[64];

	(void)state;
	for (uint64_t seed = 21; seed <= 60; seed++) {
		rng_state = seed * 0x9e3779b97f4a7c15ULL;
		for (int i = 0; i < N; i++) {
			const char *key = keys[rng() % 2];

			if (rng() % 4)
				ch[i] = consent(key, lists[rng() % 2], rng() % 2 ?
				    CS_SUBSCRIBED : CS_UNSUBSCRIBED, NOW + i,
				    SRC_FORM);
			else
				ch[i] = suppress(key, 1 + (int)(rng() % 6), NOW + i,
				    0);
		}
		memcpy(perm, ch, sizeof(ch));
		for (int i = N - 1; i > 0; i--) {
			int k = (int)(rng() % (unsigned)(i + 1));
			struct change t = perm[i];

			perm[i] = perm[k];
			perm[k] = t;
		}
		mkstore(da, &a);
		mkstore(db, &b);
		apply(a, ch, N, 0);
		apply(b, perm, N, 0);
		for (int k = 0; k < 2; k++)
			for (int l = 0; l < 2; l++)
				assert_int_equal(decide(a, keys[k], lists[l]),
				    decide(b, keys[k], lists[l]));
		rmstore(da, a);
		rmstore(db, b);
	}
}

static int
mark_fn(struct store_txn *t, void *arg)
{
	return store_txn_erase_mark(t, arg, NOW) == -1 ? -1 : 0;
}

/*
 * An erased address takes nothing back: an opt-in is refused unless it
 * says the person signed up again (which lifts the erasure); opt-outs and
 * confirmations change nothing, and no record of them comes back.
 */
static void
test_erased_gate(void **state)
{
	struct store *st;
	struct journal j;
	struct journal_result res;
	struct subject s;
	struct change ch;
	char dir[64], err[256];
	int64_t when;

	(void)state;
	mkstore(dir, &st);
	if (store_write(st, mark_fn, "e@example.com", err, sizeof(err)) != 0)
		fail_msg("%s", err);
	journal_init(&j, st, NULL, 0);
	subject_init(&s);
	ch = consent("e@example.com", "news", CS_SUBSCRIBED, NOW, SRC_FORM);
	assert_int_equal(journal_submit(&j, &ch, 1, &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "was erased"));
	ch = consent("e@example.com", "news", CS_PENDING, NOW, SRC_FORM);
	assert_int_equal(journal_submit(&j, &ch, 1, &res, err, sizeof(err)), -1);
	ch = consent("e@example.com", "news", CS_UNSUBSCRIBED, NOW, SRC_ONECLICK);
	assert_int_equal(journal_submit(&j, &ch, 1, &res, err, sizeof(err)), 0);
	assert_int_equal(res.applied, 0);
	ch = suppress("e@example.com", SR_HARD_BOUNCE, NOW, 0);
	assert_int_equal(journal_submit(&j, &ch, 1, &res, err, sizeof(err)), 0);
	assert_int_equal(res.applied, 0);
	assert_int_equal(store_get(st, "e@example.com", &s, err, sizeof(err)), 0);
	assert_int_equal(store_erased(st, "e@example.com", &when, err,
	    sizeof(err)), 1);
	/* Signed up again, and said so. */
	ch = consent("e@example.com", "news", CS_SUBSCRIBED, NOW + 1, SRC_FORM);
	ch.flags |= CHANGE_F_AFTER_ERASURE;
	assert_int_equal(journal_submit(&j, &ch, 1, &res, err, sizeof(err)), 0);
	assert_int_equal(res.applied, 1);
	assert_int_equal(store_erased(st, "e@example.com", &when, err,
	    sizeof(err)), 0);
	assert_int_equal(store_get(st, "e@example.com", &s, err, sizeof(err)), 1);
	subject_clear(&s);
	journal_fini(&j);
	rmstore(dir, st);
}

/* Local mode: journal_submit merges into the store, all or none. */
static void
test_journal_local(void **state)
{
	struct store *st;
	struct journal j;
	struct journal_result res;
	struct change ch[3];
	struct subject s;
	char dir[64], err[256];

	(void)state;
	mkstore(dir, &st);
	journal_init(&j, st, NULL, 0);
	assert_false(journal_fleet(&j));
	ch[0] = consent("a@example.com", "news", CS_SUBSCRIBED, NOW, SRC_FORM);
	ch[1] = suppress("example.net", SR_MANUAL, NOW, 0);
	ch[2] = consent("a@example.com", "news", CS_SUBSCRIBED, NOW, SRC_FORM);
	assert_int_equal(journal_submit(&j, ch, 3, &res, err, sizeof(err)), 0);
	assert_int_equal(res.where, JOURNAL_LOCAL);
	assert_int_equal(res.applied, 2);	/* the third is the first again */
	assert_memory_not_equal(ch[0].id, ch[2].id, CHANGE_ID_LEN);
	/* A bad change: nothing of the batch is written. */
	ch[0] = consent("b@example.com", "news", CS_SUBSCRIBED, NOW, SRC_FORM);
	ch[1] = consent("b@example.com", "Bad List", CS_SUBSCRIBED, NOW, SRC_FORM);
	assert_int_equal(journal_submit(&j, ch, 2, &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "change 2"));
	subject_init(&s);
	assert_int_equal(store_get(st, "b@example.com", &s, err, sizeof(err)), 0);
	journal_fini(&j);
	rmstore(dir, st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_is_the_record),
		cmocka_unit_test(test_confirm_needs_pending),
		cmocka_unit_test(test_supp_uses_made),
		cmocka_unit_test(test_apply_deletes_empty_key),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_codec_refusals),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_twice_changes_nothing),
		cmocka_unit_test(test_batches_agree),
		cmocka_unit_test(test_order_free),
		cmocka_unit_test(test_optouts_early_decide_the_same),
		cmocka_unit_test(test_journal_local),
		cmocka_unit_test(test_erased_gate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
