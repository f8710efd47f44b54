# shellcheck shell=sh disable=SC3043
# tests/lib/pg.sh - a private PostgreSQL 15 cluster for tests and
# benchmarks: its own data directory, a unix socket in a directory of its
# own, no TCP, never the system's cluster.  Source it from sh or bash.
#
#   . tests/lib/pg.sh
#   pg_setup "$dir"            # initdb as postgres in $dir/pg (about 1.5 s)
#   pg_start                   # pg_ctl start; PG_HOST is the socket dir
#   pg_sql "SELECT 1"          # psql as the superuser, on the test database
#   pg_conninfo [ROLE]         # "host=... dbname=consent user=ROLE"
#   pg_stop / pg_restart / pg_kill
#
# initdb and pg_ctl refuse root: they run as postgres (su), so $dir and
# every directory above it must be traversable by postgres (pf_tmpdir's
# 0755 directories are).  Local connections are trusted: the tests switch
# roles with user=, which is what the least-privilege checks need; the
# README says what a real cluster should use (peer, cert, scram).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DB=consent
PG_OPTS=${PG_OPTS:-}	# more server options, such as "-c fsync=off"

# pg_require [TOOL...] : end the calling script, skipped when not root
# (initdb runs as postgres), failed when PostgreSQL 15 or a TOOL is missing.
pg_require() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "skipped: needs root (initdb and pg_ctl run as postgres)"
		echo "0 passed, 0 failed"
		exit 0
	fi
	for t in "$PG_BIN/initdb" "$@"; do
		command -v "$t" >/dev/null 2>&1 && continue
		echo "FAIL: $t is missing (PostgreSQL 15 is in $PG_BIN): make deps" >&2
		echo "0 passed, 1 failed"
		exit 1
	done
}

# pg__su CMD... : run a command as postgres, in a directory it may enter.
pg__su() {
	(cd / && su postgres -s /bin/sh -c "$*")
}

# pg_setup DIR : a new cluster under DIR/pg and a database "consent".
pg_setup() {
	PG_DIR=$1/pg
	PG_DATA=$PG_DIR/data
	PG_HOST=$PG_DIR/sock
	PG_LOG=$PG_DIR/log/pg.log
	export PG_DIR PG_DATA PG_HOST PG_LOG
	mkdir -p "$PG_DATA" "$PG_HOST" "$PG_DIR/log" || return 1
	chown -R postgres:postgres "$PG_DIR" && chmod 0700 "$PG_DATA" || return 1
	pg__su "$PG_BIN/initdb -D '$PG_DATA' -A trust -U postgres -E UTF8 \
	    --locale=C.UTF-8 >'$PG_DIR/log/initdb.log' 2>&1" || {
		echo "pg.sh: initdb failed:" >&2
		cat "$PG_DIR/log/initdb.log" >&2
		return 1
	}
	pg_start && pg_sql_db postgres "CREATE DATABASE $PG_DB" >/dev/null
}

# pg_start : start the cluster on its unix socket; wait until it answers.
pg_start() {
	pg__su "$PG_BIN/pg_ctl -D '$PG_DATA' -w -t 30 -l '$PG_LOG' \
	    -o \"-k '$PG_HOST' -c listen_addresses='' $PG_OPTS\" start" \
	    >/dev/null || {
		echo "pg.sh: pg_ctl start failed:" >&2
		tail -20 "$PG_LOG" >&2
		return 1
	}
}

# pg_stop [MODE] : stop the cluster (fast by default); nothing if stopped.
pg_stop() {
	[ -n "${PG_DATA:-}" ] && [ -f "$PG_DATA/postmaster.pid" ] || return 0
	pg__su "$PG_BIN/pg_ctl -D '$PG_DATA' -w -t 30 -m ${1:-fast} stop" \
	    >/dev/null
}

# pg_restart : stop and start again (connections are cut).
pg_restart() {
	pg_stop && pg_start
}

# pg_kill : SIGKILL the postmaster (crash recovery at the next start).
pg_kill() {
	local pid
	pid=$(head -1 "$PG_DATA/postmaster.pid" 2>/dev/null) || return 0
	kill -KILL "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	# Its children go when they notice; the next start waits for them.
	sleep 0.2
}

# pg_conninfo [ROLE] : a libpq connection string for the test database.
pg_conninfo() {
	echo "host=$PG_HOST dbname=$PG_DB user=${1:-postgres}"
}

# pg_sql SQL : run SQL as the superuser on the test database; rows on
# stdout, unaligned, no headers.
pg_sql() {
	pg_sql_db "$PG_DB" "$1"
}

# pg_sql_as ROLE SQL : the same as ROLE.
pg_sql_as() {
	psql -X -q -v ON_ERROR_STOP=1 -At -h "$PG_HOST" -U "$1" -d "$PG_DB" \
	    -c "$2"
}

pg_sql_db() {
	psql -X -q -v ON_ERROR_STOP=1 -At -h "$PG_HOST" -U postgres -d "$1" \
	    -c "$2"
}

# pg_cleanup : stop the cluster (for traps); keeps its files.
pg_cleanup() {
	pg_stop immediate 2>/dev/null
	return 0
}
