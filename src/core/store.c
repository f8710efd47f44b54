/*
 * store.c - the LMDB consent store.
 *
 * Six named databases in one environment:
 *   meta    format version, normaliser flags, creation time; a replica's
 *           sync state ("sync")
 *   addr    address key -> subject (suppression and per-list consent)
 *   domain  domain key ("example.com", ".example.com") -> suppression
 *   outbox  u64 sequence (big-endian) -> an opt-out not yet given back by
 *           the fleet journal (opaque here); created when first opened
 *           for writing, absent from stores no writer has opened since
 *   soft    address key -> soft-bounce count (version, count, first, last);
 *           made by the first writer that opens a store made without it,
 *           so older stores need no upgrade and older builds ignore it
 *   erased  keyed hash of an erased address (SipHash-2-4-128 under meta's
 *           "erase_key", never exported) -> when it was erased: the person
 *           stays unmailable, and nothing else of theirs is kept; created
 *           with its key when first opened for writing, as the outbox
 *
 * Every LMDB detail stays in this file.  Read transactions live only inside
 * one call, so readers see each commit on their next lookup.  Recovery is
 * in one place, as in Postfix's slmdb: a full map is grown and the write
 * run again; a map grown by another process is adopted; stale reader slots
 * are cleared at open.  Never MDB_NOSYNC.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/store.h"
#include "util/util.h"

#define DEFAULT_MAPSIZE	((uint64_t)1 << 30)	/* sparse: costs nothing until used */
#define MAX_READERS	1024
#define MAX_RETRIES	8
#define SOFT_VERSION	2
#define SOFT_LEN_V1	21	/* version, count (4), first (8), last (8) */
#define SOFT_LEN	(SOFT_LEN_V1 + 8 * STORE_SOFT_REFS)	/* and the refs */

struct store {
	MDB_env	*env;
	MDB_dbi	meta, addr, domain, outbox, soft;
	int	has_outbox;
	int	has_soft;	/* the soft database exists (a reader may lack it) */
	/* Erasures: the database and its key, once this process has them. */
	MDB_dbi	erased;
	atomic_int has_erased;
	unsigned char erase_key[STORE_ERASE_KEY_BYTES];
	pthread_mutex_t adopt;		/* one mdb_dbi_open at a time */
	atomic_long adopt_tried;
	int	rdonly;
	int	addr_flags;
	unsigned stale;		/* reader slots of dead processes cleared at open */
	dev_t	dev;		/* the data file opened, for store_replaced() */
	ino_t	ino;
	char	dir[4096];
	/* Held shared by every transaction, exclusively to adopt a new map size. */
	pthread_rwlock_t resize;
};

struct store_txn {
	struct store *st;
	MDB_txn	*txn;
	int	mdb_rc;		/* the LMDB error that ended fn, if any */
	char	err[256];
};

int
store_is_domain_key(const char *key)
{
	return strchr(key, '@') == NULL;
}

static MDB_dbi
dbi_for(const struct store *st, const char *key)
{
	return store_is_domain_key(key) ? st->domain : st->addr;
}

/* Adopt a map size grown by another process (MDB_MAP_RESIZED). */
static int
adopt_mapsize(struct store *st)
{
	int rc;

	pthread_rwlock_wrlock(&st->resize);
	rc = mdb_env_set_mapsize(st->env, 0);
	pthread_rwlock_unlock(&st->resize);
	return rc;
}

/* Grow the map after MDB_MAP_FULL; no transaction may be open. */
static int
grow_mapsize(struct store *st)
{
	MDB_envinfo info;
	int rc;

	pthread_rwlock_wrlock(&st->resize);
	if ((rc = mdb_env_info(st->env, &info)) == 0)
		rc = mdb_env_set_mapsize(st->env, info.me_mapsize * 2);
	pthread_rwlock_unlock(&st->resize);
	return rc;
}

/*
 * Begin a transaction with the resize lock held shared; on success the
 * caller must end it with txn_end().  Recovers from MDB_MAP_RESIZED.
 */
static int
txn_begin(struct store *st, unsigned flags, MDB_txn **txnp)
{
	int rc;

	for (int i = 0; i < MAX_RETRIES; i++) {
		pthread_rwlock_rdlock(&st->resize);
		rc = mdb_txn_begin(st->env, NULL, flags, txnp);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&st->resize);
		if (rc != MDB_MAP_RESIZED)
			return rc;
		if ((rc = adopt_mapsize(st)) != 0)
			return rc;
	}
	return MDB_MAP_RESIZED;
}

static void
txn_abort(struct store *st, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&st->resize);
}

static int
txn_commit(struct store *st, MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);

	pthread_rwlock_unlock(&st->resize);
	return rc;
}

static int
check_mode(const char *path, int must_exist, char *err, size_t errlen)
{
	struct stat sb;

	if (stat(path, &sb) == -1) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return util_fail(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (sb.st_mode & S_IWOTH)
		return util_fail(err, errlen, "%s is world-writable: refusing to "
		    "use it (chmod o-w)", path);
	return 0;
}

static int
meta_get_u32(MDB_txn *txn, MDB_dbi dbi, const char *name, uint32_t *v)
{
	MDB_val k = { strlen(name), (void *)(uintptr_t)name }, d;
	const unsigned char *p;
	int rc;

	if ((rc = mdb_get(txn, dbi, &k, &d)) != 0)
		return rc;
	if (d.mv_size != 4)
		return MDB_CORRUPTED;
	p = d.mv_data;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	return 0;
}

static int
meta_put_u32(MDB_txn *txn, MDB_dbi dbi, const char *name, uint32_t v)
{
	unsigned char b[4] = {
		(unsigned char)(v >> 24), (unsigned char)(v >> 16),
		(unsigned char)(v >> 8), (unsigned char)v
	};
	MDB_val k = { strlen(name), (void *)(uintptr_t)name }, d = { 4, b };

	return mdb_put(txn, dbi, &k, &d, 0);
}

/* Create the databases and meta keys of a new store. */
static int
store_init_dbs(struct store *st, int addr_flags, char *err, size_t errlen)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, 0, &txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "addr", MDB_CREATE, &st->addr)) != 0 ||
	    (rc = mdb_dbi_open(txn, "domain", MDB_CREATE, &st->domain)) != 0 ||
	    (rc = mdb_dbi_open(txn, "outbox", MDB_CREATE, &st->outbox)) != 0 ||
	    (rc = mdb_dbi_open(txn, "soft", MDB_CREATE, &st->soft)) != 0)
		goto bad;
	st->has_soft = 1;
	{
		uint32_t v;

		rc = meta_get_u32(txn, st->meta, "format", &v);
		if (rc == MDB_NOTFOUND) {
			if ((rc = meta_put_u32(txn, st->meta, "format",
			    STORE_FORMAT)) != 0 ||
			    (rc = meta_put_u32(txn, st->meta, "addr_flags",
			    (uint32_t)addr_flags)) != 0 ||
			    (rc = meta_put_u32(txn, st->meta, "created",
			    (uint32_t)time(NULL))) != 0)
				goto bad;
		} else if (rc != 0)
			goto bad;
	}
	if ((rc = txn_commit(st, txn)) != 0)
		return util_fail(err, errlen, "%s: commit: %s", st->dir,
		    mdb_strerror(rc));
	return 0;
bad:
	txn_abort(st, txn);
	return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
}

/* Add the outbox to a store made before there was one. */
static int
create_outbox(struct store *st, char *err, size_t errlen)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, 0, &txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	if ((rc = mdb_dbi_open(txn, "outbox", MDB_CREATE, &st->outbox)) != 0) {
		txn_abort(st, txn);
		return util_fail(err, errlen, "%s: outbox: %s", st->dir,
		    mdb_strerror(rc));
	}
	if ((rc = txn_commit(st, txn)) != 0)
		return util_fail(err, errlen, "%s: outbox: %s", st->dir,
		    mdb_strerror(rc));
	st->has_outbox = 1;
	return 0;
}

static int	erased_adopt(struct store *, char *, size_t);

#define ERASE_KEY	"erase_key"
#define ERASED_VERSION	1
#define ERASED_LEN	9	/* version, created (8, big-endian) */

/*
 * erased_open - the erased database and its key in txn, if the store has
 * them: 0 (st->has_erased says which), or an LMDB error.
 */
static int
erased_open(struct store *st, MDB_txn *txn)
{
	MDB_val k = { sizeof(ERASE_KEY) - 1, (void *)(uintptr_t)ERASE_KEY }, d;
	int rc = mdb_dbi_open(txn, "erased", 0, &st->erased);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if ((rc = mdb_get(txn, st->meta, &k, &d)) == MDB_NOTFOUND)
		return 0;	/* half made: as if none */
	if (rc != 0)
		return rc;
	if (d.mv_size != STORE_ERASE_KEY_BYTES)
		return MDB_CORRUPTED;
	memcpy(st->erase_key, d.mv_data, STORE_ERASE_KEY_BYTES);
	atomic_store(&st->has_erased, 1);
	return 0;
}

/* create_erased - the erased database and a new key, in a store without. */
static int
create_erased(struct store *st, char *err, size_t errlen)
{
	unsigned char key[STORE_ERASE_KEY_BYTES];
	MDB_val k = { sizeof(ERASE_KEY) - 1, (void *)(uintptr_t)ERASE_KEY },
	    d = { sizeof(key), key };
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, 0, &txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	randombytes_buf(key, sizeof(key));
	if ((rc = mdb_dbi_open(txn, "erased", MDB_CREATE, &st->erased)) != 0 ||
	    (rc = mdb_put(txn, st->meta, &k, &d, MDB_NOOVERWRITE)) != 0) {
		txn_abort(st, txn);
		sodium_memzero(key, sizeof(key));
		/* Another writer made it first: take theirs. */
		if (rc == MDB_KEYEXIST)
			return erased_adopt(st, err, errlen);
		return util_fail(err, errlen, "%s: erased: %s", st->dir,
		    mdb_strerror(rc));
	}
	if ((rc = txn_commit(st, txn)) != 0) {
		sodium_memzero(key, sizeof(key));
		return util_fail(err, errlen, "%s: erased: %s", st->dir,
		    mdb_strerror(rc));
	}
	memcpy(st->erase_key, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	atomic_store(&st->has_erased, 1);
	return 0;
}

/*
 * erased_adopt - a reader opened before the store had the erased
 * database takes it when a writer has made it: tried at most once a
 * second, one thread at a time.  0, or -1 with err.
 */
static int
erased_adopt(struct store *st, char *err, size_t errlen)
{
	MDB_txn *txn;
	time_t now = time(NULL);
	int rc = 0;

	if (atomic_load(&st->has_erased) || (long)now == atomic_load(&st->adopt_tried))
		return 0;
	pthread_mutex_lock(&st->adopt);
	if (atomic_load(&st->has_erased) ||
	    (long)now == atomic_load(&st->adopt_tried)) {
		pthread_mutex_unlock(&st->adopt);
		return 0;
	}
	atomic_store(&st->adopt_tried, (long)now);
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) == 0) {
		if ((rc = erased_open(st, txn)) == 0)
			rc = txn_commit(st, txn);
		else
			txn_abort(st, txn);
	}
	pthread_mutex_unlock(&st->adopt);
	if (rc != 0)
		return util_fail(err, errlen, "%s: erased: %s", st->dir,
		    mdb_strerror(rc));
	return 0;
}

/* Open the databases of an existing store and check its meta data. */
static int
store_open_dbs(struct store *st, int addr_flags, char *err, size_t errlen)
{
	MDB_txn *txn;
	uint32_t fmt, flags;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	rc = mdb_dbi_open(txn, "meta", 0, &st->meta);
	if (rc == MDB_NOTFOUND) {
		txn_abort(st, txn);
		return util_fail(err, errlen, "%s: not a consent store (run "
		    "'consentctl init')", st->dir);
	}
	if (rc == 0)
		rc = meta_get_u32(txn, st->meta, "format", &fmt);
	if (rc == 0 && fmt > STORE_FORMAT) {
		txn_abort(st, txn);
		return util_fail(err, errlen, "%s: store format %u is newer than "
		    "this build reads (%d): upgrade consent-milter", st->dir,
		    fmt, STORE_FORMAT);
	}
	if (rc == 0)
		rc = meta_get_u32(txn, st->meta, "addr_flags", &flags);
	if (rc == 0 && (int)flags != addr_flags) {
		txn_abort(st, txn);
		return util_fail(err, errlen, "%s: the store was created with %s "
		    "local parts but the configuration asks for %s ones; "
		    "rebuild the store or change the configuration", st->dir,
		    (flags & ADDR_CASE_SENSITIVE) ? "case-sensitive" :
		    "case-insensitive",
		    (addr_flags & ADDR_CASE_SENSITIVE) ? "case-sensitive" :
		    "case-insensitive");
	}
	if (rc == 0)
		rc = mdb_dbi_open(txn, "addr", 0, &st->addr);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "domain", 0, &st->domain);
	if (rc == 0) {
		rc = mdb_dbi_open(txn, "outbox", 0, &st->outbox);
		st->has_outbox = rc == 0;
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	if (rc == 0) {
		int r = mdb_dbi_open(txn, "soft", 0, &st->soft);

		if (r == 0)
			st->has_soft = 1;
		else if (r != MDB_NOTFOUND)
			rc = r;
	}
	if (rc == 0)
		rc = erased_open(st, txn);
	if (rc != 0) {
		txn_abort(st, txn);
		return util_fail(err, errlen, "%s: %s", st->dir,
		    rc == MDB_NOTFOUND ? "incomplete store (missing database)" :
		    mdb_strerror(rc));
	}
	/* Handles opened in a read transaction stay valid once it commits. */
	if ((rc = txn_commit(st, txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	st->addr_flags = addr_flags;
	if (!st->has_outbox && !st->rdonly &&
	    create_outbox(st, err, errlen) == -1)
		return -1;
	if (!atomic_load(&st->has_erased) && !st->rdonly)
		return create_erased(st, err, errlen);
	return 0;
}

/* store_add_soft - make the soft database in a store made without it. */
static int
store_add_soft(struct store *st, char *err, size_t errlen)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, 0, &txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	if ((rc = mdb_dbi_open(txn, "soft", MDB_CREATE, &st->soft)) != 0) {
		txn_abort(st, txn);
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	}
	if ((rc = txn_commit(st, txn)) != 0)
		return util_fail(err, errlen, "%s: commit: %s", st->dir,
		    mdb_strerror(rc));
	st->has_soft = 1;
	return 0;
}

int
store_open(struct store **sp, const char *dir, int flags, int addr_flags,
    uint64_t mapsize, char *err, size_t errlen)
{
	struct store *st;
	char path[4200];
	unsigned envflags = 0;
	int rc, dead;

	*sp = NULL;
	if (strlen(dir) >= sizeof(st->dir))
		return util_fail(err, errlen, "store path too long");
	if (flags & STORE_CREATE) {
		if (mkdir(dir, 0750) == -1 && errno != EEXIST)
			return util_fail(err, errlen, "%s: %s", dir, strerror(errno));
	}
	if (!(flags & STORE_CREATE) && access(dir, F_OK) == -1 && errno == ENOENT)
		return util_fail(err, errlen, "%s: no store here (run 'consentctl "
		    "init')", dir);
	if (check_mode(dir, 1, err, errlen) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (check_mode(path, !(flags & STORE_CREATE), err, errlen) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	if (check_mode(path, 0, err, errlen) == -1)
		return -1;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return util_fail(err, errlen, "out of memory");
	util_strlcpy(st->dir, dir, sizeof(st->dir));
	st->rdonly = (flags & STORE_RDONLY) != 0;
	if (pthread_rwlock_init(&st->resize, NULL) != 0) {
		free(st);
		return util_fail(err, errlen, "pthread_rwlock_init failed");
	}
	pthread_mutex_init(&st->adopt, NULL);
	if (st->rdonly)
		envflags |= MDB_RDONLY;
	if ((rc = mdb_env_create(&st->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(st->env, 8)) != 0 ||
	    (rc = mdb_env_set_maxreaders(st->env, MAX_READERS)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env,
	    mapsize ? mapsize : DEFAULT_MAPSIZE)) != 0) {
		util_fail(err, errlen, "%s: %s", dir, mdb_strerror(rc));
		goto bad;
	}
	/* Group members (the milter's user) need the lock file writable. */
	if ((rc = mdb_env_open(st->env, dir, envflags, 0660)) != 0) {
		util_fail(err, errlen, "%s: %s", dir, rc == ENOENT ?
		    "no store here (run 'consentctl init')" : mdb_strerror(rc));
		goto bad;
	}
	if (mdb_reader_check(st->env, &dead) == 0 && dead > 0)
		st->stale = (unsigned)dead;
	{
		mdb_filehandle_t fd;
		struct stat sb;

		/* The file itself, not the path: a rename cannot fool it. */
		if (mdb_env_get_fd(st->env, &fd) == 0 && fstat(fd, &sb) == 0) {
			st->dev = sb.st_dev;
			st->ino = sb.st_ino;
		}
	}
	if (flags & STORE_CREATE) {
		if (store_init_dbs(st, addr_flags, err, errlen) == -1)
			goto bad;
		/* Whatever the umask: the group (the milter) must write the lock. */
		snprintf(path, sizeof(path), "%s/data.mdb", dir);
		(void)chmod(path, 0660);
		snprintf(path, sizeof(path), "%s/lock.mdb", dir);
		(void)chmod(path, 0660);
	}
	if (store_open_dbs(st, addr_flags, err, errlen) == -1)
		goto bad;
	if (flags & STORE_CREATE)
		st->has_outbox = 1;	/* store_init_dbs made it */
	if (!st->rdonly && !st->has_soft && store_add_soft(st, err, errlen) == -1)
		goto bad;
	*sp = st;
	return 0;
bad:
	store_close(st);
	return -1;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->env != NULL)
		mdb_env_close(st->env);
	sodium_memzero(st->erase_key, sizeof(st->erase_key));
	pthread_mutex_destroy(&st->adopt);
	pthread_rwlock_destroy(&st->resize);
	free(st);
}

static int
get_raw(MDB_txn *txn, MDB_dbi dbi, const char *key, MDB_val *d)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key };

	if (k.mv_size == 0 || k.mv_size > 511)
		return MDB_NOTFOUND;
	return mdb_get(txn, dbi, &k, d);
}

/*
 * Record a suppression fact found under key.  -1 when there is no room
 * left: better to fail closed than to let a later suppression go unseen.
 */
static int
add_supp(struct policy_facts *f, const struct supp_view *v, int where,
    const char *key)
{
	struct policy_fact_supp *fs;

	if (f->nsupp >= POLICY_SUPP_MAX)
		return -1;
	fs = &f->supp[f->nsupp++];
	fs->v = *v;
	fs->where = where;
	util_strlcpy(fs->key, key, sizeof(fs->key));
	return 0;
}

/* Peek at the value under key in dbi and add what applies to f. */
static int
facts_from(MDB_txn *txn, MDB_dbi dbi, const char *key, const char *list,
    int where, struct policy_facts *f, char *err, size_t errlen)
{
	MDB_val d;
	struct supp_view sv;
	struct consent_view cv;
	int rc, has_supp, has_consent;
	char safe[128];

	if ((rc = get_raw(txn, dbi, key, &d)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return util_fail(err, errlen, "lookup: %s", mdb_strerror(rc));
	if (record_peek(d.mv_data, d.mv_size, list, &has_supp, &sv,
	    &has_consent, &cv) == -1)
		return util_fail(err, errlen, "corrupt record under key %s",
		    util_sanitize(key, strlen(key), safe, sizeof(safe)));
	if (has_supp && add_supp(f, &sv, where, key) == -1)
		return util_fail(err, errlen, "more than %d suppressions apply "
		    "to one address", POLICY_SUPP_MAX);
	if (has_consent && !f->has_consent) {
		f->has_consent = 1;
		f->consent_where = where;
		f->consent = cv;
	}
	return 0;
}

/*
 * erase_hash - key's keyed hash under the store's erase key: SipHash-2-4
 * with a 128-bit output, a PRF made for short inputs (a keyed BLAKE2b
 * costs two compressions, ten times as long, on every decision).
 */
static void
erase_hash(const struct store *st, const char *key,
    unsigned char h[crypto_shorthash_siphashx24_BYTES])
{
	crypto_shorthash_siphashx24(h, (const unsigned char *)key, strlen(key),
	    st->erase_key);
}

/* erased_get - when key was erased (*when), in txn: 0, MDB_NOTFOUND, or an error. */
static int
erased_get(const struct store *st, MDB_txn *txn, const char *key,
    int64_t *when)
{
	unsigned char h[crypto_shorthash_siphashx24_BYTES];
	MDB_val k = { sizeof(h), h }, d;
	int rc;

	erase_hash(st, key, h);
	if ((rc = mdb_get(txn, st->erased, &k, &d)) != 0)
		return rc;
	if (d.mv_size != ERASED_LEN ||
	    ((const unsigned char *)d.mv_data)[0] != ERASED_VERSION)
		return MDB_CORRUPTED;
	*when = 0;
	for (int i = 1; i < ERASED_LEN; i++)
		*when = (int64_t)((uint64_t)*when << 8 |
		    ((const unsigned char *)d.mv_data)[i]);
	return 0;
}

/*
 * erased_facts - whether the address, or its untagged form, was erased:
 * one lookup more per decision, none while nobody was ever erased.
 */
static int
erased_facts(const struct store *st, MDB_txn *txn, const struct addr *a,
    struct policy_facts *f, char *err, size_t errlen)
{
	MDB_stat ms;
	int rc;

	if ((rc = mdb_stat(txn, st->erased, &ms)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	if (ms.ms_entries == 0)
		return 0;
	rc = erased_get(st, txn, a->key, &f->erased_at);
	f->erased_where = FACT_EXACT;
	if (rc == MDB_NOTFOUND && strcmp(a->base, a->key) != 0) {
		rc = erased_get(st, txn, a->base, &f->erased_at);
		f->erased_where = FACT_BASE;
	}
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return util_fail(err, errlen, "erased: %s", mdb_strerror(rc));
	f->erased = 1;
	return 0;
}

int
store_facts(struct store *st, const struct addr *a, const char *list,
    struct policy_facts *f, char *err, size_t errlen)
{
	MDB_txn *txn;
	MDB_stat ms;
	char buf[ADDR_DOMAIN_MAX + 2];
	const char *keys[ADDR_KEYS_MAX];
	size_t nkeys;
	int rc, erased;

	memset(f, 0, sizeof(*f));
	/* Read before the transaction: a handle adopted later is not its. */
	if (!(erased = atomic_load(&st->has_erased))) {
		(void)erased_adopt(st, NULL, 0);
		erased = atomic_load(&st->has_erased);
	}
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	if (facts_from(txn, st->addr, a->key, list, FACT_EXACT, f, err,
	    errlen) == -1)
		goto bad;
	if (strcmp(a->base, a->key) != 0 && facts_from(txn, st->addr, a->base,
	    list, FACT_BASE, f, err, errlen) == -1)
		goto bad;
	if (erased && erased_facts(st, txn, a, f, err, errlen) == -1)
		goto bad;
	/* Most stores hold no domain suppression: skip the walk up. */
	if ((rc = mdb_stat(txn, st->domain, &ms)) != 0) {
		util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
		goto bad;
	}
	if (ms.ms_entries > 0) {
		nkeys = addr_domain_keys(a, buf, sizeof(buf), keys, ADDR_KEYS_MAX);
		for (size_t i = 0; i < nkeys; i++)
			if (facts_from(txn, st->domain, keys[i], "", FACT_DOMAIN,
			    f, err, errlen) == -1)
				goto bad;
	}
	txn_abort(st, txn);
	return 0;
bad:
	txn_abort(st, txn);
	return -1;
}

static int
decode_val(const MDB_val *d, const char *key, struct subject *s, char *err,
    size_t errlen)
{
	char why[160], safe[128];

	if (record_decode(d->mv_data, d->mv_size, s, why, sizeof(why)) == -1)
		return util_fail(err, errlen, "key %s: %s",
		    util_sanitize(key, strlen(key), safe, sizeof(safe)), why);
	return 0;
}

int
store_get(struct store *st, const char *key, struct subject *s, char *err,
    size_t errlen)
{
	MDB_txn *txn;
	MDB_val d;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	rc = get_raw(txn, dbi_for(st, key), key, &d);
	if (rc == 0)
		rc = decode_val(&d, key, s, err, errlen) == -1 ? -1 : 1;
	else if (rc == MDB_NOTFOUND)
		rc = 0;
	else
		rc = util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	txn_abort(st, txn);
	return rc;
}

/* --- writes ------------------------------------------------------------- */

static int
txn_fail(struct store_txn *t, int rc, const char *what)
{
	t->mdb_rc = rc;
	snprintf(t->err, sizeof(t->err), "%s: %s", what, mdb_strerror(rc));
	return -1;
}

const char *
store_txn_error(struct store_txn *t)
{
	return t->err;
}

int
store_txn_get(struct store_txn *t, const char *key, struct subject *s)
{
	MDB_val d;
	int rc;

	rc = get_raw(t->txn, dbi_for(t->st, key), key, &d);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return txn_fail(t, rc, "get");
	if (decode_val(&d, key, s, t->err, sizeof(t->err)) == -1)
		return -1;
	return 1;
}

int
store_txn_put(struct store_txn *t, const char *key, const struct subject *s)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key }, d;
	size_t len;
	int rc;

	if (k.mv_size == 0 || k.mv_size > 511) {
		snprintf(t->err, sizeof(t->err), "key of %zu octets", k.mv_size);
		return -1;
	}
	if (record_encode_into(s, NULL, 0, &len) == -1) {
		snprintf(t->err, sizeof(t->err), "encode: %s", strerror(errno));
		return -1;
	}
	/* Encode straight into the page LMDB reserves: no copy. */
	d.mv_size = len;
	d.mv_data = NULL;
	rc = mdb_put(t->txn, dbi_for(t->st, key), &k, &d, MDB_RESERVE);
	if (rc != 0)
		return txn_fail(t, rc, "put");
	if (record_encode_into(s, d.mv_data, len, &len) == -1) {
		snprintf(t->err, sizeof(t->err), "encode: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
store_txn_del(struct store_txn *t, const char *key)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key };
	int rc;

	if (k.mv_size == 0 || k.mv_size > 511)
		return 0;
	rc = mdb_del(t->txn, dbi_for(t->st, key), &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc == 0 ? 1 : txn_fail(t, rc, "delete");
}

int
store_write(struct store *st, int (*fn)(struct store_txn *, void *), void *arg,
    char *err, size_t errlen)
{
	struct store_txn t;
	int rc;

	if (st->rdonly)
		return util_fail(err, errlen, "%s: store opened read-only", st->dir);
	for (int i = 0; i < MAX_RETRIES; i++) {
		memset(&t, 0, sizeof(t));
		t.st = st;
		if ((rc = txn_begin(st, 0, &t.txn)) != 0)
			return util_fail(err, errlen, "%s: %s", st->dir,
			    mdb_strerror(rc));
		rc = fn(&t, arg);
		if (t.mdb_rc == 0 && rc == 0) {
			if ((rc = txn_commit(st, t.txn)) == 0)
				return 0;
			t.mdb_rc = rc;
			snprintf(t.err, sizeof(t.err), "commit: %s",
			    mdb_strerror(rc));
		} else
			txn_abort(st, t.txn);
		if (t.mdb_rc == MDB_MAP_FULL) {
			if ((rc = grow_mapsize(st)) != 0)
				return util_fail(err, errlen, "%s: growing the map: %s",
				    st->dir, mdb_strerror(rc));
			continue;
		}
		if (t.mdb_rc != 0 || rc == -1)
			return util_fail(err, errlen, "%s: %s", st->dir,
			    t.err[0] ? t.err : "write failed");
		return rc;
	}
	return util_fail(err, errlen, "%s: map still full after %d attempts",
	    st->dir, MAX_RETRIES);
}

/* --- walks: writes in key order ---------------------------------------- */

#define GIVEBACK_OPS	8192	/* walk or scan steps between two givebacks: at
				   most 32 MB of pages read at random */

struct store_walk {
	struct store_txn *t;
	MDB_cursor *c;
	char	last[512];	/* the database's last key when the walk began */
	size_t	lastlen;	/* 0: it was empty */
	int	append;		/* past it: every write appends */
	char	key[512];	/* the key of the last get */
	size_t	klen;
	int	have, put;	/* a key was got; and written */
	unsigned long ops;
};

/*
 * map_giveback - drop this process's mappings of the store's pages.  The
 * map is shared and read-only here (writes go through the transaction's
 * own pages), so the kernel keeps them in its cache and a later access
 * maps them again, with the same contents: only the resident set shrinks.
 * LMDB does not say where its map is (me_mapaddr is only for
 * MDB_FIXEDMAP): /proc/self/maps does, by the data file's device and inode.
 */
static void
map_giveback(struct store *st)
{
	struct stat sb;
	char line[4400];
	FILE *fp;
	int fd;

	if (mdb_env_get_fd(st->env, &fd) != 0 || fstat(fd, &sb) == -1 ||
	    (fp = fopen("/proc/self/maps", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		unsigned long lo, hi, ino;
		unsigned long long off;
		unsigned maj, min;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s %llx %x:%x %lu", &lo, &hi, perms,
		    &off, &maj, &min, &ino) != 7 || perms[3] != 's' ||
		    ino != (unsigned long)sb.st_ino || maj != major(sb.st_dev) ||
		    min != minor(sb.st_dev))
			continue;
		(void)madvise((void *)(uintptr_t)lo, hi - lo, MADV_DONTNEED);
	}
	fclose(fp);
}

/* store_walk_open - a cursor walk in t (store.h); closed by store_walk_close. */
int
store_walk_open(struct store_txn *t, struct store_walk **wp)
{
	struct store_walk *w;
	MDB_val k, d;
	int rc;

	*wp = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(t->err, sizeof(t->err), "out of memory");
		return -1;
	}
	w->t = t;
	if ((rc = mdb_cursor_open(t->txn, t->st->addr, &w->c)) != 0) {
		free(w);
		return txn_fail(t, rc, "cursor");
	}
	rc = mdb_cursor_get(w->c, &k, &d, MDB_LAST);
	if (rc == 0) {
		if (k.mv_size == 0 || k.mv_size >= sizeof(w->last)) {
			snprintf(t->err, sizeof(t->err), "corrupt key of %zu "
			    "octets", k.mv_size);
			store_walk_close(w);
			return -1;
		}
		memcpy(w->last, k.mv_data, k.mv_size);
		w->lastlen = k.mv_size;
	} else if (rc != MDB_NOTFOUND) {
		store_walk_close(w);
		return txn_fail(t, rc, "cursor");
	}
	w->append = w->lastlen == 0;
	*wp = w;
	return 0;
}

/* keycmp - LMDB's default order of two keys. */
static int
keycmp(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c != 0 ? c : al < bl ? -1 : al > bl;
}

/* store_walk_get - the subject under the next key of the walk (store.h). */
int
store_walk_get(struct store_walk *w, const char *key, struct subject *s)
{
	struct store_txn *t = w->t;
	size_t kl = strlen(key);
	MDB_val k = { kl, (void *)(uintptr_t)key }, d;
	int rc, c;

	if (kl == 0 || kl >= sizeof(w->key) || store_is_domain_key(key)) {
		snprintf(t->err, sizeof(t->err), "walk: not an address key "
		    "(%zu octets)", kl);
		errno = EINVAL;
		return -1;
	}
	if (w->have && ((c = keycmp(key, kl, w->key, w->klen)) < 0 ||
	    (c == 0 && w->put))) {
		snprintf(t->err, sizeof(t->err), "walk: keys out of order");
		errno = EINVAL;
		return -1;
	}
	if (!w->have || c != 0) {
		memcpy(w->key, key, kl + 1);
		w->klen = kl;
		w->have = 1;
		w->put = 0;
	}
	if (++w->ops % GIVEBACK_OPS == 0)
		map_giveback(t->st);
	if (!w->append && keycmp(key, kl, w->last, w->lastlen) > 0)
		w->append = 1;
	if (w->append)
		return 0;
	rc = mdb_cursor_get(w->c, &k, &d, MDB_SET_KEY);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return txn_fail(t, rc, "get");
	if (decode_val(&d, key, s, t->err, sizeof(t->err)) == -1)
		return -1;
	return 1;
}

/* store_walk_put - s under the walk's current key (store.h). */
int
store_walk_put(struct store_walk *w, const char *key, const struct subject *s)
{
	struct store_txn *t = w->t;
	MDB_val k = { strlen(key), (void *)(uintptr_t)key }, d;
	size_t len;
	int rc;

	if (!w->have || w->put || k.mv_size != w->klen ||
	    memcmp(key, w->key, w->klen) != 0) {
		snprintf(t->err, sizeof(t->err), "walk: a put without its get");
		errno = EINVAL;
		return -1;
	}
	if (record_encode_into(s, NULL, 0, &len) == -1) {
		snprintf(t->err, sizeof(t->err), "encode: %s", strerror(errno));
		return -1;
	}
	d.mv_size = len;
	d.mv_data = NULL;
	rc = mdb_cursor_put(w->c, &k, &d, MDB_RESERVE |
	    (w->append ? MDB_APPEND : 0));
	if (rc != 0)
		return txn_fail(t, rc, "put");
	if (record_encode_into(s, d.mv_data, len, &len) == -1) {
		snprintf(t->err, sizeof(t->err), "encode: %s", strerror(errno));
		return -1;
	}
	w->put = 1;
	return 0;
}

/* store_walk_close - close the walk's cursor; NULL is a no-op. */
void
store_walk_close(struct store_walk *w)
{
	if (w == NULL)
		return;
	if (w->c != NULL)
		mdb_cursor_close(w->c);
	free(w);
}

/* store_reserve - a map with room for bytes more than the store uses (store.h). */
int
store_reserve(struct store *st, uint64_t bytes, char *err, size_t errlen)
{
	MDB_envinfo info;
	MDB_stat ms;
	uint64_t used, size;
	int rc;

	if ((rc = mdb_env_info(st->env, &info)) != 0 ||
	    (rc = mdb_env_stat(st->env, &ms)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir,
		    mdb_strerror(rc));
	used = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	if (used + bytes <= info.me_mapsize)
		return 0;
	/* Doublings of what it is, as grow_mapsize(): sizes stay few. */
	for (size = info.me_mapsize; size < used + bytes; size *= 2)
		;
	pthread_rwlock_wrlock(&st->resize);
	rc = mdb_env_set_mapsize(st->env, size);
	pthread_rwlock_unlock(&st->resize);
	if (rc != 0)
		return util_fail(err, errlen, "%s: growing the map: %s", st->dir,
		    mdb_strerror(rc));
	return 0;
}

/* --- soft-bounce counts ------------------------------------------------- */

static void
put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* put64, get64 - a time, as put_be64 and get_be64 write and read it. */
static void
put64(unsigned char *p, int64_t v)
{
	put_be64(p, (uint64_t)v);
}

static int64_t
get64(const unsigned char *p)
{
	return (int64_t)get_be64(p);
}

/* soft_decode - a soft value into ss; 0, or -1 if it is malformed. */
static int
soft_decode(const MDB_val *d, struct store_soft *ss)
{
	const unsigned char *p = d->mv_data;

	memset(ss, 0, sizeof(*ss));
	/* Version 1 remembered no messages: its counts stay as they are. */
	if (!(d->mv_size == SOFT_LEN_V1 && p[0] == 1) &&
	    !(d->mv_size == SOFT_LEN && p[0] == SOFT_VERSION))
		return -1;
	ss->count = (unsigned)p[1] << 24 | (unsigned)p[2] << 16 |
	    (unsigned)p[3] << 8 | p[4];
	ss->first = get64(p + 5);
	ss->last = get64(p + 13);
	for (int i = 0; p[0] == SOFT_VERSION && i < STORE_SOFT_REFS; i++)
		ss->refs[i] = get_be64(p + SOFT_LEN_V1 + 8 * i);
	return 0;
}

uint64_t
store_soft_ref(const char *ident)
{
	uint64_t h = 1469598103934665603ULL;

	if (ident == NULL || *ident == '\0')
		return 0;
	for (; *ident != '\0'; ident++)
		h = (h ^ (unsigned char)*ident) * 1099511628211ULL;
	return h | 1;
}

int
store_soft_seen(const struct store_soft *ss, uint64_t ref)
{
	for (int i = 0; ref != 0 && i < STORE_SOFT_REFS; i++)
		if (ss->refs[i] == ref)
			return 1;
	return 0;
}

void
store_soft_note(struct store_soft *ss, uint64_t ref)
{
	if (ref == 0)
		return;
	memmove(ss->refs + 1, ss->refs, sizeof(ss->refs) - sizeof(ss->refs[0]));
	ss->refs[0] = ref;
}

int
store_soft_get(struct store *st, const char *key, struct store_soft *ss,
    char *err, size_t errlen)
{
	MDB_txn *txn;
	MDB_val d;
	int rc;

	memset(ss, 0, sizeof(*ss));
	if (!st->has_soft)
		return 0;
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	rc = get_raw(txn, st->soft, key, &d);
	if (rc == 0)
		rc = soft_decode(&d, ss) == 0 ? 1 : util_fail(err, errlen,
		    "%s: corrupt soft-bounce count", st->dir);
	else if (rc == MDB_NOTFOUND)
		rc = 0;
	else
		rc = util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	txn_abort(st, txn);
	return rc;
}

int
store_txn_soft_add(struct store_txn *t, const char *key, int64_t now,
    int64_t window, const char *ident, struct store_soft *ss)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key }, d;
	unsigned char b[SOFT_LEN];
	uint64_t ref = store_soft_ref(ident);
	int rc;

	memset(ss, 0, sizeof(*ss));
	/* An erased address: nothing of it is kept, counts neither. */
	if ((rc = store_txn_erased(t, key, NULL)) != 0)
		return rc == 1 ? 0 : -1;
	if (!t->st->has_soft || k.mv_size == 0 || k.mv_size > 511) {
		snprintf(t->err, sizeof(t->err), "no soft-bounce database, or a "
		    "key of %zu octets", k.mv_size);
		return -1;
	}
	rc = mdb_get(t->txn, t->st->soft, &k, &d);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return txn_fail(t, rc, "get");
	/* A corrupt count, or one out of its window, starts again. */
	if (rc == 0 && soft_decode(&d, ss) == 0 && ss->first <= now &&
	    now - ss->first <= window && ss->count < UINT32_MAX) {
		if (store_soft_seen(ss, ref))
			return 0;	/* that message counted already */
		ss->count++;
		if (now > ss->last)
			ss->last = now;
	} else {
		memset(ss, 0, sizeof(*ss));
		ss->count = 1;
		ss->first = ss->last = now;
	}
	store_soft_note(ss, ref);
	b[0] = SOFT_VERSION;
	b[1] = (unsigned char)(ss->count >> 24);
	b[2] = (unsigned char)(ss->count >> 16);
	b[3] = (unsigned char)(ss->count >> 8);
	b[4] = (unsigned char)ss->count;
	put64(b + 5, ss->first);
	put64(b + 13, ss->last);
	for (int i = 0; i < STORE_SOFT_REFS; i++)
		put_be64(b + SOFT_LEN_V1 + 8 * i, ss->refs[i]);
	d.mv_size = sizeof(b);
	d.mv_data = b;
	if ((rc = mdb_put(t->txn, t->st->soft, &k, &d, 0)) != 0)
		return txn_fail(t, rc, "put");
	return 1;
}

int
store_txn_soft_reset(struct store_txn *t, const char *key)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key };
	int rc;

	if (!t->st->has_soft || k.mv_size == 0 || k.mv_size > 511)
		return 0;
	rc = mdb_del(t->txn, t->st->soft, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc == 0 ? 1 : txn_fail(t, rc, "delete");
}

/* --- scans -------------------------------------------------------------- */

static int
scan_db(struct store *st, MDB_txn *txn, MDB_dbi dbi, int (*fn)(const char *,
    const struct subject *, void *), void *arg, char *err, size_t errlen)
{
	unsigned long n = 0;
	MDB_cursor *c;
	MDB_val k, d;
	struct subject s;
	char key[512];
	int rc, ret = 0;

	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return util_fail(err, errlen, "cursor: %s", mdb_strerror(rc));
	subject_init(&s);
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		if (k.mv_size == 0 || k.mv_size >= sizeof(key)) {
			ret = util_fail(err, errlen, "corrupt key of %zu octets",
			    k.mv_size);
			break;
		}
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		if ((ret = decode_val(&d, key, &s, err, errlen)) != 0)
			break;
		if ((ret = fn(key, &s, arg)) != 0)
			break;
		/* A scan of a big store need not keep every page it read. */
		if (++n % GIVEBACK_OPS == 0)
			map_giveback(st);
	}
	if (ret == 0 && rc != MDB_NOTFOUND)
		ret = util_fail(err, errlen, "cursor: %s", mdb_strerror(rc));
	subject_clear(&s);
	mdb_cursor_close(c);
	return ret;
}

int
store_foreach(struct store *st, int (*fn)(const char *, const struct subject *,
    void *), void *arg, char *err, size_t errlen)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	rc = scan_db(st, txn, st->addr, fn, arg, err, errlen);
	if (rc == 0)
		rc = scan_db(st, txn, st->domain, fn, arg, err, errlen);
	txn_abort(st, txn);
	return rc;
}

struct stats_arg {
	struct store_stats *ss;
	int64_t now;
};

static int
stats_one(const char *key, const struct subject *s, void *arg)
{
	struct stats_arg *sa = arg;
	struct store_stats *ss = sa->ss;

	if (store_is_domain_key(key))
		ss->domains++;
	else
		ss->addresses++;
	if (s->has_supp) {
		if (s->supp.expires != 0 && s->supp.expires <= sa->now)
			ss->expired++;
		else if (s->supp.reason < SR_MAX_)
			ss->supps[s->supp.reason]++;
	}
	for (unsigned i = 0; i < s->nlists; i++)
		if (s->lists[i].status < CS_MAX_)
			ss->consents[s->lists[i].status]++;
	return 0;
}

int
store_stats(struct store *st, int64_t now, struct store_stats *ss, char *err,
    size_t errlen)
{
	struct stats_arg sa = { ss, now };
	MDB_envinfo info;
	MDB_stat ms;
	int rc;

	memset(ss, 0, sizeof(*ss));
	if (store_foreach(st, stats_one, &sa, err, errlen) != 0)
		return -1;
	if ((rc = mdb_env_info(st->env, &info)) != 0 ||
	    (rc = mdb_env_stat(st->env, &ms)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	ss->map_size = info.me_mapsize;
	ss->map_used = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	ss->addr_flags = st->addr_flags;
	return store_erased_count(st, &ss->erased, err, errlen);
}

/* --- a replica's sync state and outbox ---------------------------------- */

#define SYNC_KEY	"sync"
#define SYNC_VERSION	2	/* 1: without the cursor row's origin id */
#define SYNC_FIXED	(42 + STORE_SYNC_ORIGIN_LEN)	/* then the error */

/* sync_decode - the meta value into ss; 0, or MDB_CORRUPTED. */
static int
sync_decode(const MDB_val *d, struct store_sync *ss)
{
	const unsigned char *p = d->mv_data;
	size_t n;

	size_t fixed;

	memset(ss, 0, sizeof(*ss));
	if (d->mv_size < 42 || (p[0] != SYNC_VERSION && p[0] != 1))
		return MDB_CORRUPTED;
	fixed = p[0] == 1 ? 42 : SYNC_FIXED;
	ss->xid = get_be64(p + 1);
	ss->id = (int64_t)get_be64(p + 9);
	ss->synced = (int64_t)get_be64(p + 17);
	ss->attempt = (int64_t)get_be64(p + 25);
	ss->error_time = (int64_t)get_be64(p + 33);
	n = p[41];
	if (d->mv_size != fixed + n || n >= sizeof(ss->error) ||
	    memchr(p + fixed, '\0', n) != NULL)
		return MDB_CORRUPTED;
	if (p[0] != 1)
		memcpy(ss->origin_id, p + 42, STORE_SYNC_ORIGIN_LEN);
	memcpy(ss->error, p + fixed, n);
	ss->error[n] = '\0';
	return 0;
}

/* sync_read - the sync state in txn: 0, MDB_NOTFOUND or an error. */
static int
sync_read(MDB_txn *txn, MDB_dbi meta, struct store_sync *ss)
{
	MDB_val k = { sizeof(SYNC_KEY) - 1, (void *)(uintptr_t)SYNC_KEY }, d;
	int rc;

	memset(ss, 0, sizeof(*ss));
	if ((rc = mdb_get(txn, meta, &k, &d)) != 0)
		return rc;
	return sync_decode(&d, ss);
}

int
store_sync_get(struct store *st, struct store_sync *ss, char *err,
    size_t errlen)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	rc = sync_read(txn, st->meta, ss);
	txn_abort(st, txn);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return util_fail(err, errlen, "%s: sync state: %s", st->dir,
		    mdb_strerror(rc));
	return 1;
}

int
store_synced(struct store *st, int64_t *synced, char *err, size_t errlen)
{
	struct store_sync ss;
	int rc;

	if ((rc = store_sync_get(st, &ss, err, errlen)) == 1)
		*synced = ss.synced;
	return rc;
}

int
store_replaced(struct store *st, char *err, size_t errlen)
{
	char path[4200];
	struct stat sb;

	if ((size_t)snprintf(path, sizeof(path), "%s/data.mdb", st->dir) >=
	    sizeof(path))
		return util_fail(err, errlen, "store path too long");
	if (stat(path, &sb) == -1)
		return errno == ENOENT ? 1 : util_fail(err, errlen, "%s: %s", path,
		    strerror(errno));
	return sb.st_dev != st->dev || sb.st_ino != st->ino;
}

int
store_sync_fresh(int64_t synced, int64_t now, int64_t max_lag)
{
	if (synced <= 0 || max_lag < 0)
		return 0;
	if (synced > now)
		return synced - now <= STORE_SYNC_SKEW;
	return now - synced <= max_lag;
}

int
store_txn_sync_get(struct store_txn *t, struct store_sync *ss)
{
	int rc = sync_read(t->txn, t->st->meta, ss);

	if (rc == MDB_NOTFOUND)
		return 0;
	return rc == 0 ? 1 : txn_fail(t, rc, "sync state");
}

int
store_txn_sync_put(struct store_txn *t, const struct store_sync *ss)
{
	MDB_val k = { sizeof(SYNC_KEY) - 1, (void *)(uintptr_t)SYNC_KEY }, d;
	unsigned char b[SYNC_FIXED + STORE_SYNC_ERR_MAX];
	size_t n = strlen(ss->error);
	int rc;

	if (n >= STORE_SYNC_ERR_MAX)
		n = STORE_SYNC_ERR_MAX - 1;
	b[0] = SYNC_VERSION;
	put_be64(b + 1, ss->xid);
	put_be64(b + 9, (uint64_t)ss->id);
	put_be64(b + 17, (uint64_t)ss->synced);
	put_be64(b + 25, (uint64_t)ss->attempt);
	put_be64(b + 33, (uint64_t)ss->error_time);
	b[41] = (unsigned char)n;
	memcpy(b + 42, ss->origin_id, STORE_SYNC_ORIGIN_LEN);
	memcpy(b + SYNC_FIXED, ss->error, n);
	d.mv_size = SYNC_FIXED + n;
	d.mv_data = b;
	if ((rc = mdb_put(t->txn, t->st->meta, &k, &d, 0)) != 0)
		return txn_fail(t, rc, "sync state");
	return 0;
}

int
store_txn_outbox_put(struct store_txn *t, const void *rec, size_t len,
    uint64_t *seqp)
{
	MDB_cursor *c;
	MDB_val k, d;
	unsigned char kb[8];
	uint64_t seq = 1;
	int rc;

	if (!t->st->has_outbox) {
		snprintf(t->err, sizeof(t->err), "the store has no outbox");
		return -1;
	}
	if (len == 0 || len > 2048) {
		snprintf(t->err, sizeof(t->err), "outbox record of %zu octets", len);
		return -1;
	}
	if ((rc = mdb_cursor_open(t->txn, t->st->outbox, &c)) != 0)
		return txn_fail(t, rc, "outbox");
	rc = mdb_cursor_get(c, &k, &d, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == 0 && k.mv_size == 8)
		seq = get_be64(k.mv_data) + 1;
	else if (rc != MDB_NOTFOUND)
		return txn_fail(t, rc == 0 ? MDB_CORRUPTED : rc, "outbox");
	put_be64(kb, seq);
	k.mv_size = 8;
	k.mv_data = kb;
	d.mv_size = len;
	d.mv_data = (void *)(uintptr_t)rec;
	if ((rc = mdb_put(t->txn, t->st->outbox, &k, &d, MDB_APPEND)) != 0)
		return txn_fail(t, rc, "outbox");
	if (seqp != NULL)
		*seqp = seq;
	return 0;
}

int
store_txn_outbox_del(struct store_txn *t, uint64_t seq)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb };
	int rc;

	if (!t->st->has_outbox)
		return 0;
	put_be64(kb, seq);
	rc = mdb_del(t->txn, t->st->outbox, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc == 0 ? 1 : txn_fail(t, rc, "outbox");
}

int
store_outbox_foreach(struct store *st, int (*fn)(uint64_t, const void *,
    size_t, void *), void *arg, char *err, size_t errlen)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, d;
	int rc, ret = 0;

	if (!st->has_outbox)
		return 0;
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	if ((rc = mdb_cursor_open(txn, st->outbox, &c)) != 0) {
		txn_abort(st, txn);
		return util_fail(err, errlen, "outbox: %s", mdb_strerror(rc));
	}
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		if (k.mv_size != 8) {
			ret = util_fail(err, errlen, "outbox: corrupt key");
			break;
		}
		if ((ret = fn(get_be64(k.mv_data), d.mv_data, d.mv_size, arg)) != 0)
			break;
	}
	if (ret == 0 && rc != MDB_NOTFOUND)
		ret = util_fail(err, errlen, "outbox: %s", mdb_strerror(rc));
	mdb_cursor_close(c);
	txn_abort(st, txn);
	return ret;
}

int
store_outbox_count(struct store *st, uint64_t *n, char *err, size_t errlen)
{
	MDB_txn *txn;
	MDB_stat ms;
	int rc;

	*n = 0;
	if (!st->has_outbox)
		return 0;
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	rc = mdb_stat(txn, st->outbox, &ms);
	txn_abort(st, txn);
	if (rc != 0)
		return util_fail(err, errlen, "outbox: %s", mdb_strerror(rc));
	*n = ms.ms_entries;
	return 0;
}

int
store_info(struct store *st, uint64_t *bytes, int64_t *changed)
{
	struct stat sb;
	mdb_filehandle_t fd;

	if (st == NULL || mdb_env_get_fd(st->env, &fd) != 0 ||
	    fstat(fd, &sb) == -1)
		return -1;
	*bytes = (uint64_t)sb.st_size;
	*changed = (int64_t)sb.st_mtime;
	return 0;
}

unsigned
store_stale_cleared(const struct store *st)
{
	return st != NULL ? st->stale : 0;
}

/* --- erasures ----------------------------------------------------------- */

int
store_txn_erased(struct store_txn *t, const char *key, int64_t *when)
{
	int64_t w;
	int rc;

	if (!atomic_load(&t->st->has_erased))
		return 0;
	if ((rc = erased_get(t->st, t->txn, key, &w)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return txn_fail(t, rc, "erased");
	if (when != NULL)
		*when = w;
	return 1;
}

int
store_txn_erase_mark(struct store_txn *t, const char *key, int64_t when)
{
	unsigned char h[crypto_shorthash_siphashx24_BYTES], b[ERASED_LEN];
	MDB_val k = { sizeof(h), h }, d = { sizeof(b), b };
	int rc;

	if (!atomic_load(&t->st->has_erased)) {
		snprintf(t->err, sizeof(t->err), "the store has no erased "
		    "database (opened read-only?)");
		return -1;
	}
	b[0] = ERASED_VERSION;
	put_be64(b + 1, (uint64_t)when);
	erase_hash(t->st, key, h);
	/* Erased twice: the first time stands. */
	rc = mdb_put(t->txn, t->st->erased, &k, &d, MDB_NOOVERWRITE);
	if (rc != 0 && rc != MDB_KEYEXIST)
		return txn_fail(t, rc, "erased");
	return 0;
}

int
store_txn_erase_unmark(struct store_txn *t, const char *key)
{
	unsigned char h[crypto_shorthash_siphashx24_BYTES];
	MDB_val k = { sizeof(h), h };
	int rc;

	if (!atomic_load(&t->st->has_erased))
		return 0;
	erase_hash(t->st, key, h);
	rc = mdb_del(t->txn, t->st->erased, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc == 0 ? 1 : txn_fail(t, rc, "erased");
}

int
store_erased(struct store *st, const char *key, int64_t *when, char *err,
    size_t errlen)
{
	MDB_txn *txn;
	int rc, erased;

	if (!(erased = atomic_load(&st->has_erased))) {
		(void)erased_adopt(st, NULL, 0);
		if (!(erased = atomic_load(&st->has_erased)))
			return 0;
	}
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	rc = erased_get(st, txn, key, when);
	txn_abort(st, txn);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return util_fail(err, errlen, "%s: erased: %s", st->dir,
		    mdb_strerror(rc));
	return 1;
}

int
store_erased_count(struct store *st, uint64_t *n, char *err, size_t errlen)
{
	MDB_txn *txn;
	MDB_stat ms;
	int rc;

	*n = 0;
	if (!atomic_load(&st->has_erased))
		return 0;
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return util_fail(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	rc = mdb_stat(txn, st->erased, &ms);
	txn_abort(st, txn);
	if (rc != 0)
		return util_fail(err, errlen, "erased: %s", mdb_strerror(rc));
	*n = ms.ms_entries;
	return 0;
}

int
store_txn_keys_from(struct store_txn *t, const char *prefix,
    int (*fn)(const char *key, void *arg), void *arg)
{
	MDB_cursor *c;
	MDB_val k = { strlen(prefix), (void *)(uintptr_t)prefix }, d;
	char key[512];
	int rc, ret = 0;

	if (k.mv_size == 0 || k.mv_size > 511)
		return 0;
	if ((rc = mdb_cursor_open(t->txn, t->st->addr, &c)) != 0)
		return txn_fail(t, rc, "cursor");
	for (rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		if (k.mv_size < strlen(prefix) || k.mv_size >= sizeof(key) ||
		    memcmp(k.mv_data, prefix, strlen(prefix)) != 0)
			break;
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		if ((ret = fn(key, arg)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (ret == 0 && rc != 0 && rc != MDB_NOTFOUND)
		return txn_fail(t, rc, "cursor");
	return ret;
}
