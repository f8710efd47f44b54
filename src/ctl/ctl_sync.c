/*
 * ctl_sync.c - consentctl sync: the fleet journal in PostgreSQL.
 *
 *   sync init [--admin CONNINFO] [--replica-role R] [--writer-role W]
 *   sync status [--json]
 *   sync bootstrap
 *
 * init creates the schema and roles (as an administrator), status tells
 * how this host's replica stands, bootstrap builds it from the database.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/pgjournal.h"
#include "core/replica.h"
#include "ctl/ctl.h"
#include "util/enc.h"
#include "util/time.h"
#include "util/util.h"

/* sync options, beyond the command's own */
struct sync_opts {
	const char *admin;		/* --admin CONNINFO */
	const char *replica_role;
	const char *writer_role;
	int	json;
	int	replace;
};

static int
sync_options(struct ctl *c, int argc, char **argv, const char *allowed,
    struct sync_opts *o)
{
	static const struct option longopts[] = {
		{ "admin", required_argument, NULL, 'a' },
		{ "replica-role", required_argument, NULL, 'r' },
		{ "writer-role", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "replace", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->replica_role = "consent_replica";
	o->writer_role = "consent_writer";
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == '?' || strchr(allowed, ch) == NULL) {
			ctl_err(c, "sync %s: unknown option or one that does not "
			    "apply: %s", argv[0], argv[optind - 1]);
			return -1;
		}
		switch (ch) {
		case 'a': o->admin = optarg; break;
		case 'r': o->replica_role = optarg; break;
		case 'w': o->writer_role = optarg; break;
		case 'j': o->json = 1; break;
		case 'R': o->replace = 1; break;
		}
	}
	if (optind != argc) {
		ctl_err(c, "sync %s: unexpected argument \"%s\"", argv[0],
		    argv[optind]);
		return -1;
	}
	return 0;
}

/* sync init: the schema, its triggers and the two roles. */
static int
sync_init(struct ctl *c, int argc, char **argv)
{
	struct sync_opts o;
	struct pgjournal *pg;
	const char *ci;
	char err[768];

	if (sync_options(c, argc, argv, "arw", &o) == -1)
		return CTL_ERR;
	ci = o.admin != NULL ? o.admin : c->cf.sync.conninfo;
	if (ci[0] == '\0') {
		ctl_err(c, "sync init: no --admin CONNINFO and no sync.conninfo");
		return CTL_ERR;
	}
	if (pgj_connect(&pg, ci, "consentctl", err, sizeof(err)) == -1 ||
	    pgj_init(pg, o.replica_role, o.writer_role, c->cf.addr_flags, err,
	    sizeof(err)) == -1) {
		ctl_err(c, "sync init: %s", err);
		if (pg != NULL)
			pgj_close(pg);
		return CTL_ERR;
	}
	pgj_close(pg);
	printf("fleet journal ready: table consent.change; role %s reads, "
	    "role %s inserts\n", o.replica_role, o.writer_role);
	return CTL_OK;
}

/* What sync status reports. */
struct status {
	struct store_sync ss;
	int	replica;
	uint64_t outbox;
	int	db_ok;
	int64_t	behind;
	char	db_err[512];
	int64_t	lag;
	int	stale;
};

static void
status_json(const struct ctl *c, const struct status *s)
{
	char tb[32];

	printf("{\"host\":");
	enc_json_puts(stdout, c->cf.sync.host_id);
	printf(",\"replica\":%s,\"cursor\":{\"xid\":%llu,\"id\":%lld},"
	    "\"synced\":", s->replica ? "true" : "false",
	    (unsigned long long)s->ss.xid, (long long)s->ss.id);
	if (s->ss.synced > 0)
		printf("\"%s\"", time_format(s->ss.synced, tb, sizeof(tb)));
	else
		printf("null");
	printf(",\"lag_seconds\":");
	if (s->ss.synced > 0)
		printf("%lld", (long long)s->lag);
	else
		printf("null");
	printf(",\"max_lag_seconds\":%lld,\"stale\":%s,\"outbox\":%llu,"
	    "\"last_error\":", (long long)c->cf.sync.max_lag,
	    s->stale ? "true" : "false", (unsigned long long)s->outbox);
	if (s->ss.error[0] != '\0') {
		printf("{\"time\":\"%s\",\"message\":",
		    time_format(s->ss.error_time, tb, sizeof(tb)));
		enc_json_puts(stdout, s->ss.error);
		printf("}");
	} else
		printf("null");
	printf(",\"database\":{\"reachable\":%s,", s->db_ok ? "true" : "false");
	if (s->db_ok)
		printf("\"behind\":%lld}}\n", (long long)s->behind);
	else {
		printf("\"error\":");
		enc_json_puts(stdout, s->db_err);
		printf("}}\n");
	}
}

static void
status_text(const struct ctl *c, const struct status *s)
{
	char tb[32];

	printf("host:     %s\n", c->cf.sync.host_id);
	if (!s->replica)
		printf("replica:  no: this store was not built from the fleet "
		    "journal (run 'consentctl sync bootstrap')\n");
	printf("cursor:   xid %llu, row %lld\n", (unsigned long long)s->ss.xid,
	    (long long)s->ss.id);
	if (s->ss.synced > 0)
		printf("synced:   %s (%lld s ago; max_lag %s)%s\n",
		    time_format(s->ss.synced, tb, sizeof(tb)), (long long)s->lag,
		    c->cf.sync.max_lag_s, s->stale ? ": STALE, bulk mail is "
		    "tempfailed" : "");
	else
		printf("synced:   never: bulk mail is tempfailed\n");
	printf("outbox:   %llu changes waiting\n", (unsigned long long)s->outbox);
	if (s->ss.error[0] != '\0')
		printf("error:    %s: %s\n", time_format(s->ss.error_time, tb,
		    sizeof(tb)), s->ss.error);
	else
		printf("error:    none\n");
	if (s->db_ok)
		printf("database: reachable, %lld rows after the cursor\n",
		    (long long)s->behind);
	else
		printf("database: %s\n", s->db_err);
}

/* sync status: the replica's cursor, lag, outbox, last error. */
static int
sync_status(struct ctl *c, int argc, char **argv)
{
	struct sync_opts o;
	struct status s;
	struct store *st;
	struct pgjournal *pg;
	struct pgj_pos pos;
	char err[512];
	int rc;

	if (sync_options(c, argc, argv, "j", &o) == -1)
		return CTL_ERR;
	memset(&s, 0, sizeof(s));
	if (ctl_open_store(c, STORE_RDONLY, &st) == -1)
		return CTL_ERR;
	if ((rc = store_sync_get(st, &s.ss, err, sizeof(err))) == -1 ||
	    store_outbox_count(st, &s.outbox, err, sizeof(err)) == -1) {
		store_close(st);
		ctl_err(c, "sync status: %s", err);
		return CTL_ERR;
	}
	store_close(st);
	s.replica = rc;
	s.lag = c->now - s.ss.synced;
	s.stale = !s.replica || !store_sync_fresh(s.ss.synced, c->now,
	    c->cf.sync.max_lag);
	pos.xid = s.ss.xid;
	pos.id = s.ss.id;
	if (pgj_connect(&pg, c->cf.sync.conninfo, "consentctl", s.db_err,
	    sizeof(s.db_err)) == 0) {
		s.db_ok = pgj_behind(pg, &pos, &s.behind, s.db_err,
		    sizeof(s.db_err)) == 0;
		pgj_close(pg);
	}
	if (o.json)
		status_json(c, &s);
	else
		status_text(c, &s);
	return s.stale ? CTL_NO : CTL_OK;
}

/* bootstrap_into - every journal row into a fresh store at dir. */
static long
bootstrap_into(struct ctl *c, const char *dir, struct store_sync *ss,
    char *err, size_t errlen)
{
	struct store *st;
	struct replica *r;
	long n;

	if (store_open(&st, dir, STORE_CREATE, c->cf.addr_flags, c->cf.map_size,
	    err, errlen) == -1)
		return -1;
	if ((r = replica_new(st, &c->cf.sync, c->cf.addr_flags)) == NULL) {
		store_close(st);
		return util_fail(err, errlen, "out of memory");
	}
	n = replica_bootstrap(r, err, errlen);
	replica_free(r);
	if (n >= 0 && store_sync_get(st, ss, err, errlen) != 1)
		n = -1;
	store_close(st);
	return n;
}

/* rm_store - remove a store directory we made (its two files). */
static void
rm_store(const char *dir)
{
	char path[CONFIG_PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	(void)unlink(path);
	(void)rmdir(dir);
}

/*
 * sync bootstrap: build the store from the journal in a new directory
 * beside it, then rename it into place.  A store already there is left
 * alone: the daemons have it open.
 */
static int
sync_bootstrap(struct ctl *c, int argc, char **argv)
{
	struct sync_opts o;
	struct store_sync ss;
	struct timespec t0, t1;
	char tmp[CONFIG_PATH_MAX + 32], data[CONFIG_PATH_MAX + 16], err[768];
	long n;

	if (sync_options(c, argc, argv, "", &o) == -1)
		return CTL_ERR;
	snprintf(data, sizeof(data), "%s/data.mdb", c->storedir);
	if (access(data, F_OK) == 0) {
		ctl_err(c, "sync bootstrap: a store exists at %s: to build it "
		    "again, stop consent-milter, consent-unsubd and consent-syncd, "
		    "move it away and run this again", c->storedir);
		return CTL_ERR;
	}
	snprintf(tmp, sizeof(tmp), "%s.bootstrap.%ld", c->storedir,
	    (long)getpid());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((n = bootstrap_into(c, tmp, &ss, err, sizeof(err))) == -1) {
		rm_store(tmp);
		ctl_err(c, "sync bootstrap: nothing changed: %s", err);
		return CTL_ERR;
	}
	/* rename(2) replaces an empty directory: the one left, if any. */
	if (rename(tmp, c->storedir) == -1) {
		ctl_err(c, "sync bootstrap: rename %s to %s: %s", tmp,
		    c->storedir, strerror(errno));
		rm_store(tmp);
		return CTL_ERR;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("bootstrapped %s from the fleet journal: %ld rows, up to xid "
	    "%llu row %lld, in %.2f s\n", c->storedir, n,
	    (unsigned long long)ss.xid, (long long)ss.id,
	    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return CTL_OK;
}

int
ctl_sync(struct ctl *c, int argc, char **argv)
{
	if (argc < 2) {
		ctl_err(c, "sync: init, status or bootstrap?");
		return CTL_ERR;
	}
	if (strcmp(argv[1], "init") != 0 && !c->cf.sync.enabled) {
		ctl_err(c, "sync %s: no sync section in %s (sync: { conninfo = "
		    "\"service=consent\"; host_id = \"...\"; })", argv[1],
		    c->cf.file[0] ? c->cf.file : "the configuration");
		return CTL_ERR;
	}
	if (strcmp(argv[1], "init") == 0)
		return sync_init(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return sync_status(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "bootstrap") == 0)
		return sync_bootstrap(c, argc - 1, argv + 1);
	ctl_err(c, "sync: unknown command \"%s\" (init, status, bootstrap)",
	    argv[1]);
	return CTL_ERR;
}
