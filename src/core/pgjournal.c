/*
 * pgjournal.c - the fleet journal in PostgreSQL (see pgjournal.h).
 *
 * Every libpq call is in this file.  Rows travel as COPY's text form both
 * ways (one decoder, pgj_row_decode, fuzzed); single inserts use one
 * parameterised statement.  Times are seconds since the epoch in bigint
 * columns, as in the store; the view consent.changes shows them as
 * timestamps for people.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/pgjournal.h"
#include "util/util.h"

#define NCOLS		14	/* the columns a writer fills */
#define COPYBUF		65536

struct pgjournal {
	PGconn	*conn;
	int	broken;
	int	in_copy;	/* pgj_copy_begin() done, pgj_copy_end() not yet */
	char	*buf;		/* COPY IN: rows waiting to be sent */
	size_t	len;
};

static const char *const cols =
    "kind, key, list, value, event_time, time_known, source, ip, note, ref, "
    "expires, made, origin_host, origin_id";

/* The columns a reader gets, in pgj_row_decode's order. */
static const char *const rcols =
    "xid, id, kind, key, list, value, event_time, time_known, source, ip, "
    "note, ref, expires, made, origin_host, origin_id";

/* --- errors ------------------------------------------------------------- */

/* pg_fail - msg and libpq's message, on one line, into err; -1. */
static int
pg_fail(struct pgjournal *pg, const char *msg, const char *pqmsg, char *err,
    size_t errlen)
{
	char line[400];
	size_t n;

	util_strlcpy(line, pqmsg != NULL && *pqmsg ? pqmsg :
	    PQerrorMessage(pg->conn), sizeof(line));
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\t')
			line[i] = ' ';
	if (PQstatus(pg->conn) == CONNECTION_BAD)
		pg->broken = 1;
	return util_fail(err, errlen, "%s: %s", msg, line);
}

/* exec_ok - run sql; 0 if it succeeded with want, -1 with err. */
static int
exec_ok(struct pgjournal *pg, const char *sql, ExecStatusType want,
    const char *what, char *err, size_t errlen)
{
	PGresult *r = PQexec(pg->conn, sql);
	int rc = 0;

	if (PQresultStatus(r) != want)
		rc = pg_fail(pg, what, PQresultErrorMessage(r), err, errlen);
	PQclear(r);
	return rc;
}

/* --- connections -------------------------------------------------------- */

static int	remote_ok(struct pgjournal *, char *, size_t);

/* quiet - the server's notices ("already exists, skipping"): not ours. */
static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int
pgj_connect(struct pgjournal **pp, const char *conninfo, const char *appname,
    char *err, size_t errlen)
{
	/* Defaults first: the expanded conninfo, last, overrides them. */
	const char *kw[] = { "connect_timeout", "keepalives_idle",
	    "keepalives_interval", "keepalives_count",
	    "fallback_application_name", "client_encoding", "dbname", NULL };
	const char *val[] = { "10", "30", "10", "3", appname, "UTF8", conninfo,
	    NULL };
	struct pgjournal *pg;

	*pp = NULL;
	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		return util_fail(err, errlen, "out of memory");
	pg->conn = PQconnectdbParams(kw, val, 1);
	if (pg->conn != NULL)
		PQsetNoticeProcessor(pg->conn, quiet, NULL);
	if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
		if (pg->conn == NULL)
			util_fail(err, errlen, "the fleet database: out of memory");
		else
			pg_fail(pg, "the fleet database", NULL, err, errlen);
		pgj_close(pg);
		return -1;
	}
	if (remote_ok(pg, err, errlen) == -1) {
		pgj_close(pg);
		return -1;
	}
	/* Our own clock and formats, whatever the role's defaults. */
	if (exec_ok(pg, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; "
	    "SET search_path = pg_catalog", PGRES_COMMAND_OK, "session set-up",
	    err, errlen) == -1) {
		pgj_close(pg);
		return -1;
	}
	*pp = pg;
	return 0;
}

/*
 * remote_ok - a database reached over the network must be on TLS with
 * the server's name checked (sslmode=verify-full): the journal is the
 * legal record, and its rows decide who gets mail.  A unix socket or the
 * loopback address needs nothing.  0, or -1 with err.
 */
static int
remote_ok(struct pgjournal *pg, char *err, size_t errlen)
{
	const char *host = PQhost(pg->conn), *mode = NULL;
	PQconninfoOption *opts, *o;
	int ok;

	if (host == NULL || host[0] == '/' || host[0] == '@' ||
	    strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	    strcmp(host, "::1") == 0)
		return 0;
	if ((opts = PQconninfo(pg->conn)) == NULL)
		return util_fail(err, errlen, "out of memory");
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "sslmode") == 0)
			mode = o->val;
	ok = mode != NULL && strcmp(mode, "verify-full") == 0 &&
	    PQsslInUse(pg->conn);
	PQconninfoFree(opts);
	if (!ok)
		return util_fail(err, errlen, "the fleet database at %s is "
		    "reached over the network without sslmode=verify-full: set "
		    "it in the connection string or the service file", host);
	return 0;
}

void
pgj_close(struct pgjournal *pg)
{
	if (pg == NULL)
		return;
	PQfinish(pg->conn);
	free(pg->buf);
	free(pg);
}

int
pgj_broken(const struct pgjournal *pg)
{
	return pg->broken || PQstatus(pg->conn) != CONNECTION_OK;
}

int
pgj_socket(const struct pgjournal *pg)
{
	return PQsocket(pg->conn);
}

int
pgj_pos_cmp(const struct pgj_pos *a, const struct pgj_pos *b)
{
	if (a->xid != b->xid)
		return a->xid < b->xid ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return 0;
}

/* --- the schema --------------------------------------------------------- */

/* The table and the rest; %s: the values, then the sources (names_in). */
static const char schema_sql[] =
"CREATE SCHEMA IF NOT EXISTS consent;\n"
"REVOKE ALL ON SCHEMA consent FROM PUBLIC;\n"
"CREATE TABLE IF NOT EXISTS consent.fleet (\n"
"  one boolean PRIMARY KEY DEFAULT true CHECK (one),\n"
"  format integer NOT NULL,\n"
"  case_sensitive_local boolean NOT NULL,\n"
"  created timestamptz NOT NULL DEFAULT now());\n"
"CREATE TABLE IF NOT EXISTS consent.change (\n"
"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
"  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),\n"
"  recorded timestamptz NOT NULL DEFAULT now(),\n"
"  kind text NOT NULL CHECK (kind IN ('consent', 'confirm', 'suppress',\n"
"    'unsuppress')),\n"
"  key text NOT NULL CHECK (octet_length(key) BETWEEN 1 AND 254),\n"
"  list text NOT NULL DEFAULT '' CHECK (list ~ '^[a-z0-9._-]{0,64}$'),\n"
"  value text NOT NULL DEFAULT '' CHECK (value IN (%s)),\n"
"  event_time bigint NOT NULL DEFAULT 0,\n"
"  time_known boolean NOT NULL DEFAULT true,\n"
"  source text NOT NULL DEFAULT 'unknown' CHECK (source IN (%s)),\n"
"  ip text NOT NULL DEFAULT '' CHECK (octet_length(ip) <= 45),\n"
"  note text NOT NULL DEFAULT '' CHECK (octet_length(note) <= 200),\n"
"  ref text NOT NULL DEFAULT '' CHECK (octet_length(ref) <= 250),\n"
"  expires bigint NOT NULL DEFAULT 0 CHECK (expires >= 0),\n"
"  made bigint NOT NULL,\n"
"  origin_host text NOT NULL CHECK (origin_host ~ '^[A-Za-z0-9._-]{1,64}$'),\n"
"  origin_id uuid NOT NULL,\n"
"  UNIQUE (origin_host, origin_id));\n"
"COMMENT ON TABLE consent.change IS 'consent-milter: the record of consent "
"changes, append-only; replicas read it in (xid, id) order';\n"
"CREATE INDEX IF NOT EXISTS change_order ON consent.change (xid, id);\n"
"CREATE INDEX IF NOT EXISTS change_key ON consent.change (key, xid, id);\n"
"CREATE OR REPLACE VIEW consent.changes AS SELECT id, xid, recorded, kind,\n"
"  key, list, value, CASE WHEN time_known THEN to_timestamp(event_time) END\n"
"  AS event_time, source, ip, note, ref, CASE WHEN expires > 0 THEN\n"
"  to_timestamp(expires) END AS expires, to_timestamp(made) AS made,\n"
"  origin_host, origin_id FROM consent.change;\n"
"CREATE OR REPLACE FUNCTION consent.refuse() RETURNS trigger\n"
"  LANGUAGE plpgsql AS $f$ BEGIN RAISE EXCEPTION\n"
"  'consent.%%: the record of changes is append-only (%% refused)',\n"
"  TG_TABLE_NAME, TG_OP; END $f$;\n"
"CREATE OR REPLACE FUNCTION consent.wake() RETURNS trigger\n"
"  LANGUAGE plpgsql AS $f$ BEGIN PERFORM pg_notify('consent_change', '');\n"
"  RETURN NULL; END $f$;\n"
"CREATE OR REPLACE TRIGGER append_only BEFORE UPDATE OR DELETE ON\n"
"  consent.change FOR EACH ROW EXECUTE FUNCTION consent.refuse();\n"
"CREATE OR REPLACE TRIGGER no_truncate BEFORE TRUNCATE ON consent.change\n"
"  FOR EACH STATEMENT EXECUTE FUNCTION consent.refuse();\n"
"CREATE OR REPLACE TRIGGER append_only BEFORE UPDATE OR DELETE ON\n"
"  consent.fleet FOR EACH ROW EXECUTE FUNCTION consent.refuse();\n"
"CREATE OR REPLACE TRIGGER no_truncate BEFORE TRUNCATE ON consent.fleet\n"
"  FOR EACH STATEMENT EXECUTE FUNCTION consent.refuse();\n"
"CREATE OR REPLACE TRIGGER wake AFTER INSERT ON consent.change\n"
"  FOR EACH STATEMENT EXECUTE FUNCTION consent.wake();\n";

/* role_ok - a plain role name: [a-z_][a-z0-9_]*, at most PGJ_ROLE_MAX. */
static int
role_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PGJ_ROLE_MAX || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/*
 * names_in - record.c's names of statuses and reasons (with ''), or of
 * sources, as an SQL IN list into buf: cheaper per row than a regular
 * expression, and never out of step with the record.
 */
static void
names_in(char *buf, size_t len, int sources)
{
	size_t o = (size_t)snprintf(buf, len, "%s", sources ? "" : "''");

	for (int i = sources ? 0 : 1; sources ? i < SRC_MAX_ : i < CS_MAX_ +
	    SR_MAX_ - 1; i++) {
		const char *n = sources ? record_source_name(i) : i < CS_MAX_ ?
		    record_status_name(i) : record_reason_name(i - CS_MAX_ + 1);

		o += (size_t)snprintf(buf + o, len - o, "%s'%s'", o ? ", " : "",
		    n);
	}
}

/* grants_sql - the roles and what each may do, into buf. */
static void
grants_sql(char *buf, size_t len, const char *rr, const char *wr)
{
	snprintf(buf, len,
	    "DO $r$ BEGIN CREATE ROLE %s LOGIN; EXCEPTION WHEN duplicate_object "
	    "THEN NULL; END $r$;\n"
	    "DO $r$ BEGIN CREATE ROLE %s LOGIN; EXCEPTION WHEN duplicate_object "
	    "THEN NULL; END $r$;\n"
	    "REVOKE ALL ON consent.change, consent.fleet, consent.changes "
	    "FROM PUBLIC;\n"
	    "GRANT USAGE ON SCHEMA consent TO %s, %s;\n"
	    "GRANT SELECT ON consent.change, consent.fleet, consent.changes "
	    "TO %s;\n"
	    "GRANT SELECT ON consent.fleet TO %s;\n"
	    /* ON CONFLICT reads the arbiter's columns: those and no more. */
	    "GRANT SELECT (origin_host, origin_id) ON consent.change TO %s;\n"
	    "GRANT INSERT (%s) ON consent.change TO %s;\n"
	    /* An open transaction holds every replica's horizon back. */
	    "ALTER ROLE %s SET idle_in_transaction_session_timeout = '60s';\n"
	    "ALTER ROLE %s SET idle_in_transaction_session_timeout = '60s';\n",
	    rr, wr, rr, wr, rr, wr, wr, cols, wr, rr, wr);
}

int
pgj_init(struct pgjournal *pg, const char *replica_role,
    const char *writer_role, int addr_flags, char *err, size_t errlen)
{
	char grants[2048], fleet[256], values[512], sources[512], *schema;
	size_t len;
	int rc;

	if (!role_ok(replica_role) || !role_ok(writer_role))
		return util_fail(err, errlen, "role names are lowercase letters, "
		    "digits and '_'");
	if (strcmp(replica_role, writer_role) == 0)
		return util_fail(err, errlen, "the replica and writer roles must "
		    "differ: one only reads, the other only inserts");
	grants_sql(grants, sizeof(grants), replica_role, writer_role);
	snprintf(fleet, sizeof(fleet), "INSERT INTO consent.fleet (format, "
	    "case_sensitive_local) VALUES (%d, %s) ON CONFLICT DO NOTHING;\n",
	    PGJ_FORMAT, (addr_flags & ADDR_CASE_SENSITIVE) ? "true" : "false");
	names_in(values, sizeof(values), 0);
	names_in(sources, sizeof(sources), 1);
	len = sizeof(schema_sql) + strlen(values) + strlen(sources);
	if ((schema = malloc(len)) == NULL)
		return util_fail(err, errlen, "out of memory");
	snprintf(schema, len, schema_sql, values, sources);
	if (exec_ok(pg, "BEGIN", PGRES_COMMAND_OK, "begin", err, errlen) == -1) {
		free(schema);
		return -1;
	}
	rc = exec_ok(pg, schema, PGRES_COMMAND_OK, "creating the schema", err,
	    errlen);
	free(schema);
	if (rc == -1 || exec_ok(pg, fleet, PGRES_COMMAND_OK, "the fleet's "
	    "settings", err, errlen) == -1 || exec_ok(pg, grants,
	    PGRES_COMMAND_OK, "the roles", err, errlen) == -1) {
		(void)exec_ok(pg, "ROLLBACK", PGRES_COMMAND_OK, "rollback", NULL, 0);
		return -1;
	}
	if (exec_ok(pg, "COMMIT", PGRES_COMMAND_OK, "commit", err, errlen) == -1)
		return -1;
	return pgj_fleet_check(pg, addr_flags, err, errlen);
}

int
pgj_fleet_check(struct pgjournal *pg, int addr_flags, char *err, size_t errlen)
{
	PGresult *r = PQexec(pg->conn, "SELECT format, case_sensitive_local "
	    "FROM consent.fleet");
	int rc = 0, fmt, cs;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = pg_fail(pg, "the fleet journal (run 'consentctl sync init')",
		    PQresultErrorMessage(r), err, errlen);
	} else if (PQntuples(r) != 1) {
		rc = util_fail(err, errlen, "the fleet journal has no settings "
		    "row: run 'consentctl sync init'");
	} else {
		fmt = atoi(PQgetvalue(r, 0, 0));
		cs = PQgetvalue(r, 0, 1)[0] == 't';
		if (fmt != PGJ_FORMAT)
			rc = util_fail(err, errlen, "the fleet journal has layout "
			    "%d; this build reads %d%s", fmt, PGJ_FORMAT, fmt >
			    PGJ_FORMAT ? ": upgrade consent-milter" : "");
		else if (cs != ((addr_flags & ADDR_CASE_SENSITIVE) != 0))
			rc = util_fail(err, errlen, "the fleet keeps %s local "
			    "parts but this host's store.case_sensitive_local says "
			    "otherwise: keys would not match", cs ?
			    "case-sensitive" : "case-insensitive");
	}
	PQclear(r);
	return rc;
}

/* --- writing ------------------------------------------------------------ */

/* The 14 column values of a change as text. */
struct row_text {
	const char *v[NCOLS];
	char	et[24], ex[24], md[24], id[CHANGE_ID_TEXT];
};

static void
row_text(const struct change *c, struct row_text *t)
{
	int consent = c->kind == CHANGE_CONSENT || c->kind == CHANGE_CONFIRM;
	int supp = c->kind == CHANGE_SUPPRESS;
	int flags = consent ? c->ev.flags : supp ? c->supp.flags : 0;

	snprintf(t->et, sizeof(t->et), "%" PRId64, consent ? c->ev.time :
	    supp ? c->supp.created : 0);
	snprintf(t->ex, sizeof(t->ex), "%" PRId64, supp ? c->supp.expires : 0);
	snprintf(t->md, sizeof(t->md), "%" PRId64, c->made);
	change_id_format(c->id, t->id);
	t->v[0] = change_kind_name(c->kind);
	t->v[1] = c->key;
	t->v[2] = c->list;
	t->v[3] = consent ? record_status_name(c->ev.status) : supp ?
	    record_reason_name(c->supp.reason) : "";
	t->v[4] = t->et;
	t->v[5] = (flags & REC_F_TIME_UNKNOWN) ? "f" : "t";
	t->v[6] = record_source_name(consent ? c->ev.source : supp ?
	    c->supp.source : SRC_UNKNOWN);
	t->v[7] = consent ? c->ev.ip : "";
	t->v[8] = consent ? c->ev.note : supp ? c->supp.note : "";
	t->v[9] = supp ? c->supp.ref : "";
	t->v[10] = t->ex;
	t->v[11] = t->md;
	t->v[12] = c->origin;
	t->v[13] = t->id;
}

long
pgj_insert(struct pgjournal *pg, const struct change *ch, size_t n,
    char *err, size_t errlen)
{
	struct row_text *rt;
	const char **vals;
	PGresult *r;
	char *sql, *p;
	size_t cap = 256 + n * (NCOLS * 8 + 4);
	long rows = -1;

	if (n == 0)
		return 0;
	rt = calloc(n, sizeof(*rt));
	vals = calloc(n * NCOLS, sizeof(*vals));
	sql = malloc(cap);
	if (rt == NULL || vals == NULL || sql == NULL) {
		util_fail(err, errlen, "out of memory");
		goto done;
	}
	p = sql + snprintf(sql, cap, "INSERT INTO consent.change (%s) VALUES ",
	    cols);
	for (size_t i = 0; i < n; i++) {
		row_text(&ch[i], &rt[i]);
		for (int k = 0; k < NCOLS; k++) {
			vals[i * NCOLS + (size_t)k] = rt[i].v[k];
			p += snprintf(p, cap - (size_t)(p - sql), "%s$%zu",
			    k == 0 ? (i ? ",(" : "(") : ",", i * NCOLS + (size_t)k + 1);
		}
		*p++ = ')';
	}
	snprintf(p, cap - (size_t)(p - sql), " ON CONFLICT (origin_host, "
	    "origin_id) DO NOTHING");
	r = PQexecParams(pg->conn, sql, (int)(n * NCOLS), NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_COMMAND_OK)
		rows = atol(PQcmdTuples(r));
	else
		pg_fail(pg, "inserting into the fleet journal",
		    PQresultErrorMessage(r), err, errlen);
	PQclear(r);
done:
	free(rt);
	free(vals);
	free(sql);
	return rows;
}

/* copy_flush - send what is buffered; 0 / -1. */
static int
copy_flush(struct pgjournal *pg, char *err, size_t errlen)
{
	if (pg->len > 0 && PQputCopyData(pg->conn, pg->buf, (int)pg->len) != 1)
		return pg_fail(pg, "sending to the fleet journal", NULL, err, errlen);
	pg->len = 0;
	return 0;
}

int
pgj_copy_begin(struct pgjournal *pg, char *err, size_t errlen)
{
	char sql[512];
	PGresult *r;

	if (pg->buf == NULL && (pg->buf = malloc(COPYBUF)) == NULL)
		return util_fail(err, errlen, "out of memory");
	pg->len = 0;
	snprintf(sql, sizeof(sql), "COPY consent.change (%s) FROM STDIN", cols);
	r = PQexec(pg->conn, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		pg_fail(pg, "importing into the fleet journal",
		    PQresultErrorMessage(r), err, errlen);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	pg->in_copy = 1;
	return 0;
}

/* escape - s in COPY's text form at buf + *len (room for 2 * strlen). */
static void
escape(char *buf, size_t *len, const char *s)
{
	for (; *s != '\0'; s++) {
		char e = *s == '\\' ? '\\' : *s == '\t' ? 't' : *s == '\n' ?
		    'n' : *s == '\r' ? 'r' : 0;

		if (e) {
			buf[(*len)++] = '\\';
			buf[(*len)++] = e;
		} else
			buf[(*len)++] = *s;
	}
}

/* row_put - the columns of c, escaped, tab-separated, at buf + *len. */
static void
row_put(char *buf, size_t *len, const struct change *c)
{
	struct row_text t;

	row_text(c, &t);
	for (int k = 0; k < NCOLS; k++) {
		if (k > 0)
			buf[(*len)++] = '\t';
		escape(buf, len, t.v[k]);
	}
}

int
pgj_copy_put(struct pgjournal *pg, const struct change *c, char *err,
    size_t errlen)
{
	if (!pg->in_copy)
		return util_fail(err, errlen, "no COPY in progress");
	/* A row is under PGJ_ROW_MAX even with every octet escaped. */
	if (pg->len > COPYBUF - PGJ_ROW_MAX && copy_flush(pg, err, errlen) == -1)
		return -1;
	row_put(pg->buf, &pg->len, c);
	pg->buf[pg->len++] = '\n';
	return 0;
}

size_t
pgj_row_encode(const struct change *c, const struct pgj_pos *pos, char *buf)
{
	size_t len = (size_t)snprintf(buf, 48, "%" PRIu64 "\t%" PRId64 "\t",
	    pos->xid, pos->id);

	row_put(buf, &len, c);
	buf[len] = '\0';
	return len;
}

int
pgj_copy_end(struct pgjournal *pg, int commit, char *err, size_t errlen)
{
	PGresult *r;
	int rc = 0;

	if (!pg->in_copy)
		return util_fail(err, errlen, "no COPY in progress");
	pg->in_copy = 0;
	if (commit && copy_flush(pg, err, errlen) == -1)
		commit = 0, rc = -1;
	if (PQputCopyEnd(pg->conn, commit ? NULL : "consentctl: import "
	    "abandoned") != 1)
		return pg_fail(pg, "ending the import", NULL, err, errlen);
	while ((r = PQgetResult(pg->conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && commit && rc == 0)
			rc = pg_fail(pg, "importing into the fleet journal",
			    PQresultErrorMessage(r), err, errlen);
		PQclear(r);
	}
	return commit ? rc : -1;
}

/* --- reading ------------------------------------------------------------ */

int
pgj_listen(struct pgjournal *pg, char *err, size_t errlen)
{
	return exec_ok(pg, "LISTEN consent_change", PGRES_COMMAND_OK,
	    "LISTEN", err, errlen);
}

int
pgj_notified(struct pgjournal *pg, char *err, size_t errlen)
{
	PGnotify *n;
	int got = 0;

	if (PQconsumeInput(pg->conn) != 1)
		return pg_fail(pg, "the fleet database", NULL, err, errlen);
	while ((n = PQnotifies(pg->conn)) != NULL) {
		got = 1;
		PQfreemem(n);
	}
	return got;
}

/* copy_out - run a COPY ... TO STDOUT and hand each row to fn. */
static long
copy_out(struct pgjournal *pg, const char *sql,
    int (*fn)(const struct change *, const struct pgj_pos *, void *),
    void *arg, char *err, size_t errlen)
{
	struct change c;
	struct pgj_pos pos;
	PGresult *r = PQexec(pg->conn, sql);
	char *line;
	long rows = 0;
	int n, failed = 0;

	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		pg_fail(pg, "reading the fleet journal", PQresultErrorMessage(r),
		    err, errlen);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	while ((n = PQgetCopyData(pg->conn, &line, 0)) > 0) {
		if (!failed && pgj_row_decode(line, (size_t)n - (line[n - 1] ==
		    '\n'), &c, &pos, err, errlen) == -1)
			failed = 1;	/* read on to the end: the connection stays usable */
		else if (!failed && fn(&c, &pos, arg) != 0) {
			if (err != NULL && err[0] == '\0')
				util_fail(err, errlen, "stopped");
			failed = 1;
		}
		rows++;
		PQfreemem(line);
	}
	if (n == -2)
		return pg_fail(pg, "reading the fleet journal", NULL, err, errlen);
	while ((r = PQgetResult(pg->conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && !failed)
			failed = pg_fail(pg, "reading the fleet journal",
			    PQresultErrorMessage(r), err, errlen);
		PQclear(r);
	}
	return failed ? -1 : rows;
}

long
pgj_fetch(struct pgjournal *pg, const struct pgj_pos *after, long limit,
    int (*fn)(const struct change *, const struct pgj_pos *, void *),
    void *arg, char *err, size_t errlen)
{
	char sql[768], lim[32] = "";

	if (limit > 0)
		snprintf(lim, sizeof(lim), " LIMIT %ld", limit);
	/* The horizon: no transaction below it can still commit. */
	snprintf(sql, sizeof(sql), "COPY (SELECT %s FROM consent.change WHERE "
	    "(xid, id) > ('%" PRIu64 "'::xid8, %" PRId64 ") AND xid < "
	    "pg_snapshot_xmin(pg_current_snapshot()) ORDER BY xid, id%s) TO "
	    "STDOUT", rcols, after->xid, after->id, lim);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return copy_out(pg, sql, fn, arg, err, errlen);
}

long
pgj_history(struct pgjournal *pg, const char *key, const struct pgj_pos *upto,
    int (*fn)(const struct change *, const struct pgj_pos *, void *),
    void *arg, char *err, size_t errlen)
{
	char sql[1280], *lit;
	long rows;

	if ((lit = PQescapeLiteral(pg->conn, key, strlen(key))) == NULL)
		return pg_fail(pg, "quoting a key", NULL, err, errlen);
	snprintf(sql, sizeof(sql), "COPY (SELECT %s FROM consent.change WHERE "
	    "key = %s AND (xid, id) <= ('%" PRIu64 "'::xid8, %" PRId64 ") "
	    "ORDER BY xid, id) TO STDOUT", rcols, lit, upto->xid, upto->id);
	PQfreemem(lit);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	rows = copy_out(pg, sql, fn, arg, err, errlen);
	return rows;
}

int
pgj_row_is(struct pgjournal *pg, const struct pgj_pos *pos,
    const unsigned char *origin_id, char *err, size_t errlen)
{
	char sql[384], hex[2 * CHANGE_ID_LEN + 1] = "";
	PGresult *r;
	int rc;

	for (int i = 0; origin_id != NULL && i < CHANGE_ID_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", origin_id[i]);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM consent.change WHERE "
	    "xid = '%" PRIu64 "'::xid8 AND id = %" PRId64 "%s%s%s", pos->xid,
	    pos->id, origin_id != NULL ? " AND origin_id = '" : "", hex,
	    origin_id != NULL ? "'::uuid" : "");
	r = PQexec(pg->conn, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		rc = strcmp(PQgetvalue(r, 0, 0), "0") != 0;
	else
		rc = pg_fail(pg, "finding the replica's last row",
		    PQresultErrorMessage(r), err, errlen);
	PQclear(r);
	return rc;
}

int
pgj_behind(struct pgjournal *pg, const struct pgj_pos *after, int64_t *rows,
    char *err, size_t errlen)
{
	char sql[256];
	PGresult *r;
	int rc = 0;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM consent.change WHERE "
	    "(xid, id) > ('%" PRIu64 "'::xid8, %" PRId64 ")", after->xid,
	    after->id);
	r = PQexec(pg->conn, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		*rows = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else
		rc = pg_fail(pg, "counting rows", PQresultErrorMessage(r), err,
		    errlen);
	PQclear(r);
	return rc;
}

/* --- the row decoder ---------------------------------------------------- */

/*
 * field - the next tab-separated field of COPY text at *pp (end at end),
 * unescaped into out (cap octets with its NUL).  0, or -1: too long, a
 * NUL, a NULL (\N), or no field left.
 */
static int
field(const char **pp, const char *end, char *out, size_t cap)
{
	const char *p = *pp;
	size_t o = 0;

	if (p == NULL)
		return -1;
	if (end - p >= 2 && p[0] == '\\' && p[1] == 'N' &&
	    (end - p == 2 || p[2] == '\t'))
		return -1;	/* NULL: no column of ours is ever NULL */
	while (p < end && *p != '\t') {
		int ch = (unsigned char)*p++;

		if (ch == '\\') {
			if (p == end)
				return -1;
			ch = (unsigned char)*p++;
			switch (ch) {
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'v': ch = '\v'; break;
			case 'x':
				if (p == end || util_hexval(*p) < 0)
					break;	/* a plain 'x' */
				ch = util_hexval(*p++);
				if (p < end && util_hexval(*p) >= 0)
					ch = ch << 4 | util_hexval(*p++);
				break;
			default:
				if (ch >= '0' && ch <= '7') {
					ch -= '0';
					for (int i = 0; i < 2 && p < end &&
					    *p >= '0' && *p <= '7'; i++)
						ch = ch << 3 | (*p++ - '0');
					ch &= 0xff;
				}
			}
		}
		if (ch == 0 || o + 1 >= cap)
			return -1;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	*pp = p < end ? p + 1 : NULL;	/* past the tab, or no more fields */
	return 0;
}

/* num - a decimal integer field (optionally negative) into *v; 0 / -1. */
static int
num(const char *s, int64_t *v)
{
	char *e;
	long long x;

	if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	x = strtoll(s, &e, 10);
	if (errno != 0 || *e != '\0')
		return -1;
	*v = x;
	return 0;
}

/* The fields of a row, as text, before they are checked. */
struct row_fields {
	char	xid[24], id[24], kind[16], key[CHANGE_KEY_MAX + 1];
	char	list[REC_LIST_MAX + 1], value[40], et[24], tk[4], source[40];
	char	ip[REC_IP_MAX + 1], note[REC_NOTE_MAX + 1], ref[REC_REF_MAX + 1];
	char	ex[24], md[24], host[CHANGE_HOST_MAX + 1], uuid[CHANGE_ID_TEXT];
};

static int
split_row(const char *line, size_t len, struct row_fields *f)
{
	const char *p = line, *end = line + len;
	struct { char *buf; size_t cap; } fs[] = {
		{ f->xid, sizeof(f->xid) }, { f->id, sizeof(f->id) },
		{ f->kind, sizeof(f->kind) }, { f->key, sizeof(f->key) },
		{ f->list, sizeof(f->list) }, { f->value, sizeof(f->value) },
		{ f->et, sizeof(f->et) }, { f->tk, sizeof(f->tk) },
		{ f->source, sizeof(f->source) }, { f->ip, sizeof(f->ip) },
		{ f->note, sizeof(f->note) }, { f->ref, sizeof(f->ref) },
		{ f->ex, sizeof(f->ex) }, { f->md, sizeof(f->md) },
		{ f->host, sizeof(f->host) }, { f->uuid, sizeof(f->uuid) },
	};

	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
		if (field(&p, end, fs[i].buf, fs[i].cap) == -1)
			return (int)i + 1;
	return p == NULL ? 0 : 17;	/* 17: more fields than ours */
}

int
pgj_row_decode(const char *line, size_t len, struct change *c,
    struct pgj_pos *pos, char *err, size_t errlen)
{
	struct row_fields f;
	int64_t xid, id, et, ex, md;
	int kind, v, src, bad, consent;

	memset(c, 0, sizeof(*c));
	if ((bad = split_row(line, len, &f)) != 0)
		return util_fail(err, errlen, "journal row: field %d is missing, "
		    "too long or holds a NUL", bad);
	if (num(f.xid, &xid) == -1 || xid <= 0 || num(f.id, &id) == -1 ||
	    id <= 0 || num(f.et, &et) == -1 || num(f.ex, &ex) == -1 ||
	    num(f.md, &md) == -1)
		return util_fail(err, errlen, "journal row: a number is not one");
	pos->xid = (uint64_t)xid;
	pos->id = id;
	if ((kind = change_kind_parse(f.kind)) == -1)
		return util_fail(err, errlen, "journal row %" PRId64 ": unknown "
		    "kind", id);
	consent = kind == CHANGE_CONSENT || kind == CHANGE_CONFIRM;
	if (kind == CHANGE_UNSUPPRESS)
		v = f.value[0] == '\0' ? 0 : -1;
	else
		v = consent ? record_status_parse(f.value) :
		    record_reason_parse(f.value);
	src = record_source_parse(f.source);
	if (v == -1 || src == -1 || (f.tk[0] != 't' && f.tk[0] != 'f') ||
	    f.tk[1] != '\0')
		return util_fail(err, errlen, "journal row %" PRId64 ": unknown "
		    "value, source or time flag", id);
	change_init(c, kind, f.key, md);
	util_strlcpy(c->list, f.list, sizeof(c->list));
	util_strlcpy(c->origin, f.host, sizeof(c->origin));
	if (change_id_parse(f.uuid, strlen(f.uuid), c->id) == -1)
		return util_fail(err, errlen, "journal row %" PRId64 ": bad "
		    "origin id", id);
	if (consent) {
		c->ev.status = (uint8_t)v;
		c->ev.source = (uint8_t)src;
		c->ev.flags = f.tk[0] == 'f' ? REC_F_TIME_UNKNOWN : 0;
		c->ev.time = et;
		util_strlcpy(c->ev.ip, f.ip, sizeof(c->ev.ip));
		util_strlcpy(c->ev.note, f.note, sizeof(c->ev.note));
	} else if (kind == CHANGE_SUPPRESS) {
		c->supp.reason = (uint8_t)v;
		c->supp.source = (uint8_t)src;
		c->supp.flags = f.tk[0] == 'f' ? REC_F_TIME_UNKNOWN : 0;
		c->supp.created = et;
		c->supp.expires = ex;
		util_strlcpy(c->supp.ref, f.ref, sizeof(c->supp.ref));
		util_strlcpy(c->supp.note, f.note, sizeof(c->supp.note));
	}
	if (change_check(c, f.note, sizeof(f.note)) == -1)
		return util_fail(err, errlen, "journal row %" PRId64 ": %s", id,
		    f.note);
	return 0;
}
