/*
 * test_store.c - the LMDB store: create and reopen, facts in lookup order,
 * all-or-nothing writes, map growth, a map grown by another process,
 * stale reader slots cleared, commits seen without reopening, the
 * refusals at open, and values of both record formats side by side.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "core/store.h"
#include "fixture.h"

static int
setup(void **state)
{
	*state = store_fixture_make("test_store", 0);
	return 0;
}

static int
teardown(void **state)
{
	return store_fixture_free(*state);
}

struct put_arg {
	const char *key;
	const char *list;
	int	status;
	int	supp_reason;
	int64_t	time;
	int	fail_after;	/* return this after the put, to test abort */
};

static int
put_fn(struct store_txn *t, void *arg)
{
	struct put_arg *p = arg;
	struct subject s;
	int rc;

	subject_init(&s);
	if ((rc = store_txn_get(t, p->key, &s)) == -1)
		return -1;
	if (p->status) {
		struct evidence ev;

		memset(&ev, 0, sizeof(ev));
		ev.status = (uint8_t)p->status;
		ev.time = p->time;
		ev.source = SRC_ADMIN;
		record_apply_consent(&s, p->list, &ev);
	}
	if (p->supp_reason) {
		struct suppression sp;

		memset(&sp, 0, sizeof(sp));
		sp.reason = (uint8_t)p->supp_reason;
		sp.created = p->time;
		record_apply_supp(&s, &sp, p->time);
	}
	rc = store_txn_put(t, p->key, &s);
	subject_clear(&s);
	if (rc == -1)
		return -1;
	return p->fail_after;
}

static void
put(struct store *st, const char *key, const char *list, int status,
    int supp, int64_t t)
{
	struct put_arg p = { key, list, status, supp, t, 0 };
	char err[256];

	if (store_write(st, put_fn, &p, err, sizeof(err)) != 0)
		fail_msg("store_write: %s", err);
}

static void
norm(const char *in, struct addr *a)
{
	char err[128];

	if (addr_normalize(in, strlen(in), 0, "+", a, err, sizeof(err)) == -1)
		fail_msg("addr_normalize(%s): %s", in, err);
}

static void
test_get_put(void **state)
{
	struct store_fixture *fx = *state;
	struct subject s;
	char err[256];

	subject_init(&s);
	assert_int_equal(store_get(fx->st, "a@example.com", &s, err,
	    sizeof(err)), 0);
	put(fx->st, "a@example.com", "news", CS_CONFIRMED, 0, 100);
	assert_int_equal(store_get(fx->st, "a@example.com", &s, err,
	    sizeof(err)), 1);
	assert_int_equal(s.nlists, 1);
	assert_int_equal(s.lists[0].status, CS_CONFIRMED);
	subject_clear(&s);
	put(fx->st, "example.org", NULL, 0, SR_MANUAL, 100);
	assert_int_equal(store_get(fx->st, "example.org", &s, err,
	    sizeof(err)), 1);
	assert_true(s.has_supp);
	subject_clear(&s);
}

static void
test_facts_order(void **state)
{
	struct store_fixture *fx = *state;
	struct policy_facts f;
	struct addr a;
	char err[256];

	put(fx->st, "user@sub.example.com", "news", CS_SUBSCRIBED, 0, 100);
	put(fx->st, "user+tag@sub.example.com", "other", CS_CONFIRMED, 0, 100);
	norm("User+Tag@Sub.Example.COM", &a);
	assert_int_equal(store_facts(fx->st, &a, "news", &f, err, sizeof(err)), 0);
	/* No record for news under the tagged key: the untagged one is used. */
	assert_true(f.has_consent);
	assert_int_equal(f.consent_where, FACT_BASE);
	assert_int_equal(f.consent.status, CS_SUBSCRIBED);
	assert_int_equal(f.nsupp, 0);
	assert_int_equal(store_facts(fx->st, &a, "other", &f, err, sizeof(err)), 0);
	assert_int_equal(f.consent_where, FACT_EXACT);

	/* Suppressions: exact, untagged, the domain, its parents, in order. */
	put(fx->st, ".example.com", NULL, 0, SR_MANUAL, 100);
	put(fx->st, "sub.example.com", NULL, 0, SR_COMPLAINT, 100);
	put(fx->st, "user@sub.example.com", NULL, 0, SR_HARD_BOUNCE, 100);
	assert_int_equal(store_facts(fx->st, &a, "news", &f, err, sizeof(err)), 0);
	assert_int_equal(f.nsupp, 3);
	assert_int_equal(f.supp[0].where, FACT_BASE);
	assert_int_equal(f.supp[0].v.reason, SR_HARD_BOUNCE);
	assert_string_equal(f.supp[1].key, "sub.example.com");
	assert_string_equal(f.supp[2].key, ".example.com");

	/* "example.com" without the dot does not cover subdomains. */
	put(fx->st, "example.net", NULL, 0, SR_MANUAL, 100);
	norm("x@a.example.net", &a);
	assert_int_equal(store_facts(fx->st, &a, "news", &f, err, sizeof(err)), 0);
	assert_int_equal(f.nsupp, 0);
	norm("x@example.net", &a);
	assert_int_equal(store_facts(fx->st, &a, "news", &f, err, sizeof(err)), 0);
	assert_int_equal(f.nsupp, 1);
}

static void
test_write_all_or_nothing(void **state)
{
	struct store_fixture *fx = *state;
	struct put_arg p = { "b@example.com", "news", CS_SUBSCRIBED, 0, 5, 7 };
	struct subject s;
	char err[256];

	/* fn's non-zero return aborts the transaction and is returned. */
	assert_int_equal(store_write(fx->st, put_fn, &p, err, sizeof(err)), 7);
	subject_init(&s);
	assert_int_equal(store_get(fx->st, "b@example.com", &s, err,
	    sizeof(err)), 0);
}

struct many_arg {
	int	n;
	int	runs;
};

static int
many_fn(struct store_txn *t, void *arg)
{
	struct many_arg *m = arg;
	struct subject s;
	struct evidence ev;
	char key[64];

	m->runs++;
	memset(&ev, 0, sizeof(ev));
	ev.status = CS_SUBSCRIBED;
	ev.time = 1;
	strcpy(ev.note, "padding padding padding padding padding padding");
	for (int i = 0; i < m->n; i++) {
		subject_init(&s);
		snprintf(key, sizeof(key), "user%06d@example.com", i);
		record_apply_consent(&s, "news", &ev);
		if (store_txn_put(t, key, &s) == -1) {
			subject_clear(&s);
			return -1;
		}
		subject_clear(&s);
	}
	return 0;
}

static void
test_map_grows(void **state)
{
	struct store_fixture *fx = *state;
	struct store_fixture *small;
	struct store *st;
	struct many_arg m = { 20000, 0 };
	struct store_stats ss;
	char err[256];

	(void)fx;
	/* A 256 KiB map fills long before 20,000 records are in. */
	small = store_fixture_make("test_store_small", 256 << 10);
	st = small->st;
	if (store_write(st, many_fn, &m, err, sizeof(err)) != 0)
		fail_msg("store_write: %s", err);
	assert_true(m.runs > 1);
	assert_int_equal(store_stats(st, 0, &ss, err, sizeof(err)), 0);
	assert_int_equal(ss.addresses, 20000);
	assert_true(ss.map_size > (256 << 10));
	assert_int_equal(store_fixture_free(small), 0);
}

/* What walk_fn does: keys in order, each merged with what is stored. */
struct walk_arg {
	const char *const *keys;	/* ascending */
	int	n;
	int	found;			/* keys that were stored already */
	int	bad;			/* then one out of order: EINVAL */
};

static int
walk_fn(struct store_txn *t, void *arg)
{
	struct walk_arg *wa = arg;
	struct store_walk *w;
	struct subject s;
	struct evidence ev;
	int rc = 0;

	memset(&ev, 0, sizeof(ev));
	ev.status = CS_UNSUBSCRIBED;
	ev.time = 200;
	if (store_walk_open(t, &w) == -1)
		return -1;
	for (int i = 0; i < wa->n && rc == 0; i++) {
		subject_init(&s);
		if ((rc = store_walk_get(w, wa->keys[i], &s)) == -1)
			break;
		wa->found += rc;
		record_apply_consent(&s, "promo", &ev);
		rc = store_walk_put(w, wa->keys[i], &s);
		subject_clear(&s);
	}
	if (rc == 0 && wa->bad) {
		subject_init(&s);
		/* Back before the last key, and the last key again. */
		assert_int_equal(store_walk_get(w, "a@example.com", &s), -1);
		assert_int_equal(errno, EINVAL);
		assert_int_equal(store_walk_get(w, wa->keys[wa->n - 1], &s), -1);
		assert_int_equal(store_walk_get(w, "example.com", &s), -1);
		assert_int_equal(store_walk_put(w, "zz@example.com", &s), -1);
		subject_clear(&s);
	}
	store_walk_close(w);
	store_walk_close(NULL);
	return rc;
}

static void
test_walk(void **state)
{
	struct store_fixture *fx = *state;
	static const char *const first[] = {
		"b@example.com", "d@example.com", "f@example.com"
	};
	/* Some before, between and after the stored ones: merged, then
	   appended past the last. */
	static const char *const second[] = {
		"a@example.com", "b@example.com", "c@example.com",
		"f@example.com", "g@example.com", "h@example.com"
	};
	struct walk_arg w1 = { first, 3, 0, 0 }, w2 = { second, 6, 0, 1 };
	struct store_stats ss;
	struct subject s;
	char err[256];

	put(fx->st, "d@example.com", "news", CS_CONFIRMED, 0, 100);
	assert_int_equal(store_write(fx->st, walk_fn, &w1, err, sizeof(err)), 0);
	assert_int_equal(w1.found, 1);
	assert_int_equal(store_write(fx->st, walk_fn, &w2, err, sizeof(err)), 0);
	assert_int_equal(w2.found, 2);
	assert_int_equal(store_stats(fx->st, 0, &ss, err, sizeof(err)), 0);
	assert_int_equal(ss.addresses, 7);
	/* d kept what it had; every key has its change. */
	subject_init(&s);
	assert_int_equal(store_get(fx->st, "d@example.com", &s, err,
	    sizeof(err)), 1);
	assert_int_equal(s.nlists, 2);
	subject_clear(&s);
	assert_int_equal(store_get(fx->st, "h@example.com", &s, err,
	    sizeof(err)), 1);
	assert_int_equal(s.nlists, 1);
	assert_int_equal(s.lists[0].status, CS_UNSUBSCRIBED);
	subject_clear(&s);
	/* A bigger map asked for is there; a smaller one changes nothing. */
	assert_int_equal(store_reserve(fx->st, (uint64_t)3 << 30, err,
	    sizeof(err)), 0);
	assert_int_equal(store_stats(fx->st, 0, &ss, err, sizeof(err)), 0);
	assert_true(ss.map_size >= (uint64_t)3 << 30);
	assert_int_equal(store_reserve(fx->st, 4096, err, sizeof(err)), 0);
}

/*
 * A map grown by another process is adopted.  Both sides open with a
 * 256 KiB map (0 would mean 1 GiB, which 20,000 records never fill): the
 * writer grows it several times, and the reader's next transaction meets
 * MDB_MAP_RESIZED, which only adopt_mapsize gets it past.
 */
static void
test_other_process(void **state)
{
	struct store_fixture *fx = *state;
	struct store_fixture *proc;
	struct store *rd;
	struct policy_facts f;
	struct store_stats ss;
	struct addr a;
	const char *dir;
	char err[256];
	pid_t pid;
	int status;

	(void)fx;
	proc = store_fixture_make("test_store_proc", 256 << 10);
	dir = proc->dir;
	store_close(proc->st);
	proc->st = NULL;
	if (store_open(&rd, dir, STORE_RDONLY, 0, 256 << 10, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	norm("user000001@example.com", &a);
	assert_int_equal(store_facts(rd, &a, "news", &f, err, sizeof(err)), 0);
	assert_false(f.has_consent);
	assert_int_equal(store_stats(rd, 0, &ss, err, sizeof(err)), 0);
	assert_int_equal(ss.map_size, 256 << 10);

	/* A writer in another process fills and grows the map. */
	if ((pid = fork()) == 0) {
		struct store *wr;
		struct many_arg m = { 20000, 0 };

		if (store_open(&wr, dir, 0, 0, 256 << 10, err,
		    sizeof(err)) == -1 ||
		    store_write(wr, many_fn, &m, err, sizeof(err)) != 0)
			_exit(1);
		store_close(wr);
		_exit(m.runs > 1 ? 0 : 2);	/* 2: the map never filled */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* The reader sees the commit on its next lookup, past the old map. */
	norm("user019999@example.com", &a);
	if (store_facts(rd, &a, "news", &f, err, sizeof(err)) != 0)
		fail_msg("store_facts: %s", err);
	assert_true(f.has_consent);
	assert_int_equal(f.consent.status, CS_SUBSCRIBED);
	assert_int_equal(store_stats(rd, 0, &ss, err, sizeof(err)), 0);
	assert_int_equal(ss.addresses, 20000);
	assert_true(ss.map_size > (256 << 10));
	store_close(rd);
	assert_int_equal(store_fixture_free(proc), 0);
}

/*
 * Stale reader slots are cleared at open.  The slot must go stale while
 * another process still holds the environment: the last one out lets the
 * next open rebuild lock.mdb, which hides a missing mdb_reader_check.
 * Here this process holds the store open, one child dies inside a read
 * transaction (its slot keeps a dead pid and pins that snapshot), and a
 * second child opens the store and says how many slots it cleared.
 */
static void
test_stale_reader(void **state)
{
	struct store_fixture *fx = *state;
	pid_t pid;
	int status;

	/* The first child: a reader that dies with its transaction open. */
	if ((pid = fork()) == 0) {
		MDB_env *env;
		MDB_txn *txn;

		if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) ||
		    mdb_env_open(env, fx->dir, MDB_RDONLY, 0660) ||
		    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
			_exit(1);
		_exit(0);	/* no abort, no close: the slot stays taken */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* The second child: its store_open clears that slot, and only it. */
	for (int round = 0; round < 2; round++) {
		if ((pid = fork()) == 0) {
			struct store *st;
			char err[256];
			unsigned n;

			if (store_open(&st, fx->dir, STORE_RDONLY, 0, 0, err,
			    sizeof(err)) == -1)
				_exit(100);
			n = store_stale_cleared(st);
			store_close(st);
			_exit(n > 99 ? 99 : (int)n);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		/* One stale slot the first time; none left the second. */
		assert_int_equal(WEXITSTATUS(status), round == 0 ? 1 : 0);
	}
	/* This process held the store throughout, and still reads it. */
	put(fx->st, "after@example.com", "news", CS_SUBSCRIBED, 0, 1);
}

static void
test_refusals(void **state)
{
	struct store_fixture *fx = *state;
	struct store *st;
	char err[256], dir[80];

	/* Other normaliser flags than the store was made with. */
	assert_int_equal(store_open(&st, fx->dir, STORE_RDONLY,
	    ADDR_CASE_SENSITIVE, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "case-insensitive"));
	/* No store there. */
	assert_int_equal(store_open(&st, "/nonexistent/store", STORE_RDONLY, 0,
	    0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/store"));
	/* World-writable. */
	fixture_dir_make("test_store_ww", dir, sizeof(dir));
	chmod(dir, 0777);
	assert_int_equal(store_open(&st, dir, STORE_CREATE, 0, 0, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "world-writable"));
	/* An empty directory is not a store. */
	chmod(dir, 0750);
	assert_int_equal(store_open(&st, dir, STORE_RDONLY, 0, 0, err,
	    sizeof(err)), -1);
	assert_int_equal(fixture_dir_remove(dir), 0);
	store_close(NULL);	/* a no-op */
}

/* Write raw bytes under key with LMDB itself, in a child process. */
static void
raw_put(const char *dir, const char *key, const void *val, size_t len)
{
	pid_t pid;
	int status;

	if ((pid = fork()) == 0) {
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi dbi;
		MDB_val k = { strlen(key), (void *)(uintptr_t)key };
		MDB_val d = { len, (void *)(uintptr_t)val };

		if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) ||
		    mdb_env_open(env, dir, 0, 0660) ||
		    mdb_txn_begin(env, NULL, 0, &txn) ||
		    mdb_dbi_open(txn, "addr", 0, &dbi) ||
		    mdb_put(txn, dbi, &k, &d, 0) || mdb_txn_commit(txn))
			_exit(1);
		mdb_env_close(env);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
test_corrupt_value_fails_closed(void **state)
{
	struct store_fixture *fx = *state;
	static const unsigned char newer[] = { REC_FORMAT + 1, 0, 0, 0 };
	/* One list whose name is 200 octets long, in each format. */
	static const unsigned char junk[] = { 1, 0, 0, 1, 200 };
	static const unsigned char junk2[] = { 2, 0, 1, 200 };
	/* "news" subscribed, then an octet too many: refused as a whole. */
	static const unsigned char tail[] = {
		2, 0, 1, 4, 'n', 'e', 'w', 's', CS_SUBSCRIBED, 0, 1,
		CS_SUBSCRIBED, SRC_ADMIN, 0, 0, 0, 0, 0x55
	};
	struct policy_facts f;
	struct subject s;
	struct addr a;
	struct store *st;
	char err[256];

	store_close(fx->st);	/* one environment per process at a time */
	fx->st = NULL;
	raw_put(fx->dir, "c@example.com", newer, sizeof(newer));
	raw_put(fx->dir, "d@example.com", junk, sizeof(junk));
	raw_put(fx->dir, "e@example.com", junk2, sizeof(junk2));
	raw_put(fx->dir, "f@example.com", tail, sizeof(tail));
	if (store_open(&st, fx->dir, STORE_RDONLY, 0, 0, err, sizeof(err)))
		fail_msg("%s", err);
	norm("c@example.com", &a);
	assert_int_equal(store_facts(st, &a, "news", &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "corrupt record under key c@example.com"));
	norm("d@example.com", &a);
	assert_int_equal(store_facts(st, &a, "news", &f, err, sizeof(err)), -1);
	norm("e@example.com", &a);
	assert_int_equal(store_facts(st, &a, "news", &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "corrupt record under key e@example.com"));
	norm("f@example.com", &a);
	assert_int_equal(store_facts(st, &a, "news", &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "corrupt record under key f@example.com"));
	subject_init(&s);
	assert_int_equal(store_get(st, "c@example.com", &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "newer"));
	store_close(st);
}

/* raw_format - the format octet of the value under key, read with LMDB itself in a child. */
static int
raw_format(const char *dir, const char *key)
{
	pid_t pid;
	int status;

	if ((pid = fork()) == 0) {
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi dbi;
		MDB_val k = { strlen(key), (void *)(uintptr_t)key }, d;

		if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
		    mdb_env_open(env, dir, MDB_RDONLY, 0660) ||
		    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) ||
		    mdb_dbi_open(txn, "addr", 0, &dbi) ||
		    mdb_get(txn, dbi, &k, &d) || d.mv_size == 0)
			_exit(255);
		_exit(((unsigned char *)d.mv_data)[0]);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/*
 * A store made before format 2 holds format-1 values: they read as they
 * did, beside format-2 ones, and one written again becomes format 2.
 */
static void
test_mixed_formats(void **state)
{
	struct store_fixture *fx = *state;
	/* news: subscribed at 1000 by an import */
	static const unsigned char old[] = {
		1, 0, 0, 1, 4, 'n', 'e', 'w', 's', CS_SUBSCRIBED,
		0, 0, 0, 0, 0, 0, 0x03, 0xe8, 1,
		CS_SUBSCRIBED, SRC_IMPORT, 0, 0, 0, 0, 0, 0, 0, 0x03, 0xe8, 0, 0
	};
	struct policy_facts f;
	struct subject s;
	struct addr a;
	char err[256];

	store_close(fx->st);	/* one environment per process at a time */
	fx->st = NULL;
	raw_put(fx->dir, "old@example.com", old, sizeof(old));
	if (store_open(&fx->st, fx->dir, 0, 0, 0, err, sizeof(err)))
		fail_msg("%s", err);
	put(fx->st, "new@example.com", "news", CS_CONFIRMED, 0, 2000);
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(raw_format(fx->dir, "old@example.com"), 1);
	assert_int_equal(raw_format(fx->dir, "new@example.com"), 2);
	if (store_open(&fx->st, fx->dir, 0, 0, 0, err, sizeof(err)))
		fail_msg("%s", err);
	norm("old@example.com", &a);
	assert_int_equal(store_facts(fx->st, &a, "news", &f, err, sizeof(err)), 0);
	assert_true(f.has_consent);
	assert_int_equal(f.consent.status, CS_SUBSCRIBED);
	assert_true(f.consent.changed == 1000);
	assert_int_equal(f.consent.source, SRC_IMPORT);
	norm("new@example.com", &a);
	assert_int_equal(store_facts(fx->st, &a, "news", &f, err, sizeof(err)), 0);
	assert_true(f.has_consent);
	assert_int_equal(f.consent.status, CS_CONFIRMED);
	subject_init(&s);
	assert_int_equal(store_get(fx->st, "old@example.com", &s, err,
	    sizeof(err)), 1);
	assert_int_equal(s.nlists, 1);
	assert_true(s.lists[0].ev[0].time == 1000);
	subject_clear(&s);
	/* A change rewrites it in format 2, the old event kept. */
	put(fx->st, "old@example.com", "news", CS_UNSUBSCRIBED, 0, 3000);
	assert_int_equal(store_get(fx->st, "old@example.com", &s, err,
	    sizeof(err)), 1);
	assert_int_equal(s.lists[0].status, CS_UNSUBSCRIBED);
	assert_int_equal(s.lists[0].nev, 2);
	assert_true(s.lists[0].ev[0].time == 1000);
	assert_int_equal(s.lists[0].ev[0].source, SRC_IMPORT);
	subject_clear(&s);
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(raw_format(fx->dir, "old@example.com"), 2);
}

static int
count_fn(const char *key, const struct subject *s, void *arg)
{
	(void)key;
	(void)s;
	(*(int *)arg)++;
	return 0;
}

static void
test_foreach(void **state)
{
	struct store_fixture *fx = *state;
	char err[256];
	int n = 0;

	put(fx->st, "a@example.com", "news", CS_SUBSCRIBED, 0, 1);
	put(fx->st, "b@example.com", "news", CS_SUBSCRIBED, 0, 1);
	put(fx->st, "example.com", NULL, 0, SR_MANUAL, 1);
	assert_int_equal(store_foreach(fx->st, count_fn, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
}

struct soft_arg {
	const char *key;
	int64_t	now, window;
	int	reset;
	struct store_soft ss;
	int	rc;
	const char *ident;
};

static int
soft_fn(struct store_txn *t, void *arg)
{
	struct soft_arg *a = arg;

	if (a->reset)
		return (a->rc = store_txn_soft_reset(t, a->key)) == -1 ? -1 : 0;
	return store_txn_soft_add(t, a->key, a->now, a->window, a->ident,
	    &a->ss) == -1 ? -1 : 0;
}

/* soft_add_of - one soft bounce of key at now, of message ident; the
 * count after it. */
static unsigned
soft_add_of(struct store *st, const char *key, int64_t now, const char *ident)
{
	struct soft_arg a = { .key = key, .now = now, .window = 7 * 86400,
	    .ident = ident };
	char err[256];

	if (store_write(st, soft_fn, &a, err, sizeof(err)) != 0)
		fail_msg("soft add: %s", err);
	return a.ss.count;
}

/* soft_add - one soft bounce of key at now, of an unknown message. */
static unsigned
soft_add(struct store *st, const char *key, int64_t now)
{
	return soft_add_of(st, key, now, NULL);
}

/* One message counts once, however often its bounce comes back. */
static void
test_soft_same_message(void **state)
{
	struct store_fixture *fx = *state;
	int64_t t0 = 1700000000;
	char id[32];

	assert_int_equal(soft_add_of(fx->st, "m@example.com", t0, "<m1@x>"), 1);
	assert_int_equal(soft_add_of(fx->st, "m@example.com", t0 + 60, "<m1@x>"),
	    1);
	assert_int_equal(soft_add_of(fx->st, "m@example.com", t0 + 60, "<m2@x>"),
	    2);
	assert_int_equal(soft_add_of(fx->st, "m@example.com", t0 + 90, "<m1@x>"),
	    2);
	/* Unknown messages always count. */
	assert_int_equal(soft_add_of(fx->st, "m@example.com", t0 + 90, ""), 3);
	assert_int_equal(soft_add(fx->st, "m@example.com", t0 + 90), 4);
	/* The newest STORE_SOFT_REFS are remembered. */
	for (int i = 0; i < STORE_SOFT_REFS; i++) {
		snprintf(id, sizeof(id), "<n%d@x>", i);
		assert_int_equal(soft_add_of(fx->st, "n@example.com", t0, id),
		    (unsigned)i + 1);
	}
	assert_int_equal(soft_add_of(fx->st, "n@example.com", t0, "<n1@x>"),
	    STORE_SOFT_REFS);
	/* Out of the window, the count starts again, the message with it. */
	assert_int_equal(soft_add_of(fx->st, "m@example.com", t0 + 8 * 86400,
	    "<m1@x>"), 1);
}

static void
test_soft_counts(void **state)
{
	struct store_fixture *fx = *state;
	struct soft_arg a = { .key = "a@example.com", .reset = 1 };
	struct store_soft ss;
	char err[256];
	int64_t t0 = 1700000000;

	assert_int_equal(store_soft_get(fx->st, "a@example.com", &ss, err,
	    sizeof(err)), 0);
	assert_int_equal(soft_add(fx->st, "a@example.com", t0), 1);
	assert_int_equal(soft_add(fx->st, "a@example.com", t0 + 86400), 2);
	assert_int_equal(soft_add(fx->st, "b@example.com", t0 + 86400), 1);
	/* Seven days after the first, still counted; a second later, anew. */
	assert_int_equal(soft_add(fx->st, "a@example.com", t0 + 7 * 86400), 3);
	assert_int_equal(store_soft_get(fx->st, "a@example.com", &ss, err,
	    sizeof(err)), 1);
	assert_int_equal(ss.count, 3);
	assert_true(ss.first == t0 && ss.last == t0 + 7 * 86400);
	assert_int_equal(soft_add(fx->st, "a@example.com", t0 + 7 * 86400 + 1), 1);
	assert_int_equal(store_soft_get(fx->st, "b@example.com", &ss, err,
	    sizeof(err)), 1);
	assert_int_equal(ss.count, 1);
	assert_int_equal(store_write(fx->st, soft_fn, &a, err, sizeof(err)), 0);
	assert_int_equal(a.rc, 1);
	assert_int_equal(store_write(fx->st, soft_fn, &a, err, sizeof(err)), 0);
	assert_int_equal(a.rc, 0);
	assert_int_equal(store_soft_get(fx->st, "a@example.com", &ss, err,
	    sizeof(err)), 0);
}

static void
test_soft_old_store(void **state)
{
	struct store_fixture *fx = *state;
	struct store_soft ss;
	struct store *ro;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	char err[256];

	/* A store made before the soft database: drop it. */
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, fx->dir, 0, 0660), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "soft", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	/* A reader opens it and finds no count. */
	if (store_open(&ro, fx->dir, STORE_RDONLY, 0, 0, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(store_soft_get(ro, "a@example.com", &ss, err,
	    sizeof(err)), 0);
	store_close(ro);
	/* The first writer adds the database. */
	if (store_open(&fx->st, fx->dir, 0, 0, 0, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(soft_add(fx->st, "a@example.com", 1700000000), 1);
}

struct sync_arg {
	struct store_sync ss;
	const char *rec[3];
	int	del;		/* outbox seq to delete, or 0 */
	int	got;		/* store_txn_sync_get's answer */
};

static int
sync_fn(struct store_txn *t, void *arg)
{
	struct sync_arg *a = arg;
	struct store_sync old;

	if ((a->got = store_txn_sync_get(t, &old)) == -1)
		return -1;
	if (store_txn_sync_put(t, &a->ss) == -1)
		return -1;
	for (int i = 0; i < 3 && a->rec[i] != NULL; i++)
		if (store_txn_outbox_put(t, a->rec[i], strlen(a->rec[i]), NULL))
			return -1;
	if (a->del && store_txn_outbox_del(t, (uint64_t)a->del) != 1)
		return -1;
	return 0;
}

static int
outbox_fn(uint64_t seq, const void *rec, size_t len, void *arg)
{
	char *out = arg;

	sprintf(out + strlen(out), "%llu:%.*s;", (unsigned long long)seq,
	    (int)len, (const char *)rec);
	return 0;
}

/* An erasure's marks, in one write. */
struct erase_arg {
	const char *key;
	int	unmark;
	int64_t	when;
	int	was;
};

static int
erase_fn(struct store_txn *t, void *arg)
{
	struct erase_arg *e = arg;

	e->was = store_txn_erased(t, e->key, NULL);
	if (e->unmark)
		return store_txn_erase_unmark(t, e->key) == -1 ? -1 : 0;
	if (store_txn_del(t, e->key) == -1 ||
	    store_txn_soft_reset(t, e->key) == -1)
		return -1;
	return store_txn_erase_mark(t, e->key, e->when);
}

static int
erased_soft_fn(struct store_txn *t, void *arg)
{
	struct store_soft ss;

	return store_txn_soft_add(t, arg, 6000, 86400, NULL, &ss) == -1 ? -1 : 0;
}

static void
mark(struct store *st, const char *key, int unmark, int64_t when)
{
	struct erase_arg e = { key, unmark, when, 0 };
	char err[256];

	if (store_write(st, erase_fn, &e, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/*
 * Erased: the record goes, the keyed hash stays, and the facts say so
 * for the address and its tagged forms; export's walk never sees it.
 */
static void
test_erased(void **state)
{
	struct store_fixture *fx = *state;
	struct policy_facts f;
	struct store_stats ss;
	struct store_soft soft;
	struct addr a;
	int64_t when = 0;
	uint64_t n;
	int keys = 0;
	char err[256];

	put(fx->st, "erin@example.com", "news", CS_SUBSCRIBED, 0, 1000);
	assert_int_equal(store_write(fx->st, erased_soft_fn, "erin@example.com", err,
	    sizeof(err)), 0);
	assert_int_equal(store_soft_get(fx->st, "erin@example.com", &soft, err,
	    sizeof(err)), 1);
	norm("erin+tag@example.com", &a);
	assert_int_equal(store_facts(fx->st, &a, "news", &f, err, sizeof(err)), 0);
	assert_false(f.erased);
	mark(fx->st, "erin@example.com", 0, 5000);
	assert_int_equal(store_erased(fx->st, "erin@example.com", &when, err,
	    sizeof(err)), 1);
	assert_int_equal(when, 5000);
	assert_int_equal(store_erased(fx->st, "other@example.com", &when, err,
	    sizeof(err)), 0);
	assert_int_equal(store_facts(fx->st, &a, "news", &f, err, sizeof(err)), 0);
	assert_true(f.erased);
	assert_int_equal(f.erased_where, FACT_BASE);
	assert_int_equal(f.erased_at, 5000);
	assert_false(f.has_consent);
	/* A soft bounce after the erasure counts nothing, stores nothing. */
	assert_int_equal(store_write(fx->st, erased_soft_fn, "erin@example.com", err,
	    sizeof(err)), 0);
	assert_int_equal(store_soft_get(fx->st, "erin@example.com", &soft, err,
	    sizeof(err)), 0);
	/* Erased again: the first time stands. */
	mark(fx->st, "erin@example.com", 0, 9000);
	assert_int_equal(store_erased(fx->st, "erin@example.com", &when, err,
	    sizeof(err)), 1);
	assert_int_equal(when, 5000);
	assert_int_equal(store_erased_count(fx->st, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_stats(fx->st, 0, &ss, err, sizeof(err)), 0);
	assert_int_equal(ss.erased, 1);
	assert_int_equal(ss.addresses, 0);
	assert_int_equal(store_foreach(fx->st, count_fn, &keys, err,
	    sizeof(err)), 0);
	assert_int_equal(keys, 0);
	/* Signed up again, deliberately: the mark goes. */
	mark(fx->st, "erin@example.com", 1, 0);
	assert_int_equal(store_facts(fx->st, &a, "news", &f, err, sizeof(err)), 0);
	assert_false(f.erased);
}

/*
 * A reader opened on a store made before erasures (no erased database,
 * no key) adopts them once a writer has made them.
 */
static void
test_erased_adopted(void **state)
{
	struct store_fixture *fx = *state;
	struct store *rd, *wr;
	struct policy_facts f;
	struct addr a;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi, meta;
	MDB_val k = { 9, (void *)"erase_key" };
	char err[256];
	pid_t pid;
	int status;

	store_close(fx->st);
	fx->st = NULL;
	/* As an older build left it. */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, fx->dir, 0, 0660), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "erased", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_del(txn, meta, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(store_open(&rd, fx->dir, STORE_RDONLY, 0, 0, err,
	    sizeof(err)), 0);
	norm("fay@example.com", &a);
	assert_int_equal(store_facts(rd, &a, "news", &f, err, sizeof(err)), 0);
	assert_false(f.erased);
	/*
	 * A writer (another process: never one environment twice in one)
	 * opens it: the database and key are made; fay is erased.
	 */
	if ((pid = fork()) == 0) {
		if (store_open(&wr, fx->dir, 0, 0, 0, err, sizeof(err)) == -1)
			_exit(1);
		mark(wr, "fay@example.com", 0, 7000);
		store_close(wr);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The reader tries again at most once a second. */
	sleep(1);
	if (store_facts(rd, &a, "news", &f, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_true(f.erased);
	assert_int_equal(f.erased_at, 7000);
	store_close(rd);
}

/* A replica's freshness: the rule the milter and sync status share. */
static void
test_sync_fresh(void **state)
{
	const int64_t now = 1796000000, lag = 86400;

	(void)state;
	assert_int_equal(store_sync_fresh(now - 10, now, lag), 1);
	assert_int_equal(store_sync_fresh(now - lag, now, lag), 1);
	assert_int_equal(store_sync_fresh(now - lag - 1, now, lag), 0);
	assert_int_equal(store_sync_fresh(0, now, lag), 0);	/* never complete */
	/* The clock went back after the last sync: a few seconds are skew,
	 * a day means its age is unknown (the old rule, now - synced <=
	 * max_lag, called that fresh for a whole day, syncd dead or not). */
	assert_int_equal(store_sync_fresh(now + STORE_SYNC_SKEW, now, lag), 1);
	assert_int_equal(store_sync_fresh(now + STORE_SYNC_SKEW + 1, now, lag), 0);
	assert_int_equal(store_sync_fresh(now + 86400, now, lag), 0);
	assert_int_equal(store_sync_fresh(INT64_MAX, now, lag), 0);
	assert_int_equal(store_sync_fresh(now - 10, now, -1), 0);
}

static void
test_sync_state_and_outbox(void **state)
{
	struct store_fixture *fx = *state;
	struct sync_arg a;
	struct store_sync ss;
	int64_t synced;
	uint64_t n;
	char err[256], seen[256] = "";

	assert_int_equal(store_sync_get(fx->st, &ss, err, sizeof(err)), 0);
	assert_int_equal(store_synced(fx->st, &synced, err, sizeof(err)), 0);
	memset(&a, 0, sizeof(a));
	a.ss.xid = 1234;
	a.ss.id = 99;
	a.ss.synced = 1800000000;
	a.ss.attempt = 1800000001;
	a.ss.error_time = 1800000002;
	strcpy(a.ss.error, "the fleet database: connection refused");
	memset(a.ss.origin_id, 0xab, sizeof(a.ss.origin_id));	/* kept too */
	a.rec[0] = "first";
	a.rec[1] = "second";
	a.rec[2] = "third";
	assert_int_equal(store_write(fx->st, sync_fn, &a, err, sizeof(err)), 0);
	assert_int_equal(a.got, 0);
	assert_int_equal(store_sync_get(fx->st, &ss, err, sizeof(err)), 1);
	assert_memory_equal(&ss, &a.ss, sizeof(ss));
	/* The milter's question. */
	assert_int_equal(store_synced(fx->st, &synced, err, sizeof(err)), 1);
	assert_int_equal(synced, 1800000000);
	assert_int_equal(store_outbox_count(fx->st, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	/* Delete the second; the next goes after the last, never in a gap. */
	memset(&a.rec, 0, sizeof(a.rec));
	a.rec[0] = "fourth";
	a.del = 2;
	a.ss.error[0] = '\0';
	if (store_write(fx->st, sync_fn, &a, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(a.got, 1);
	if (store_outbox_foreach(fx->st, outbox_fn, seen, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(seen, "1:first;3:third;4:fourth;");
	assert_int_equal(store_sync_get(fx->st, &ss, err, sizeof(err)), 1);
	assert_string_equal(ss.error, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_facts_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_all_or_nothing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_map_grows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_value_fails_closed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_soft_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_soft_old_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erased, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erased_adopted, setup,
		    teardown),
		cmocka_unit_test(test_sync_fresh),
		cmocka_unit_test_setup_teardown(test_soft_same_message, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sync_state_and_outbox, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
