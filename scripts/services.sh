#!/usr/bin/env bash
# Starts the PostgreSQL and Redis that Sportello needs for development and tests, and writes
# .data/env with DATABASE_URL and REDIS_URL for `make run`, `make test` and `make bench`.
#
# It is idempotent: a second run finds both servers up and only rewrites .data/env. Runs that
# overlap are serialised by a lock, so `make -j` or two terminals cannot initdb the same cluster
# twice. Ports: SPORTELLO_PG_PORT (default 54329) and SPORTELLO_REDIS_PORT (default 63799), chosen
# away from the usual 5432 and 6379 so a system-wide server never collides with these.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DATA="$ROOT/.data"
PG_PORT=${SPORTELLO_PG_PORT:-54329}
REDIS_PORT=${SPORTELLO_REDIS_PORT:-63799}
PG_LOG="$DATA/pg.log"
REDIS_DIR="$DATA/redis"
REDIS_LOG="$DATA/redis.log"
# The application connects as the role sportello, which owns its database but is no superuser:
# superusers bypass row-level security, which keeps each municipality's rows from the others.
DB_ROLE=sportello
R_URL="redis://127.0.0.1:$REDIS_PORT/0"

die() {
	echo "services.sh: $*" >&2
	exit 1
}

# Shows the end of a server's log before failing, because "did not start" alone is never enough to
# know why.
die_with_log() {
	local log=$1
	shift
	echo "services.sh: $*" >&2
	if [ -s "$log" ]; then
		echo "--- last lines of ${log#"$ROOT"/} ---" >&2
		tail -n 30 "$log" >&2
	fi
	exit 1
}

# Quotes a value for .data/env only when it needs it, so the usual URLs stay readable and a URL
# given from outside with '&' or spaces still survives being sourced.
env_line() {
	local name=$1 value=$2 plain='^[A-Za-z0-9_@%+=:,./?~-]*$'
	if [[ $value =~ $plain ]]; then
		printf 'export %s=%s\n' "$name" "$value"
	else
		printf "export %s='%s'\n" "$name" "${value//\'/\'\\\'\'}"
	fi
}

# Writes through a temporary file and a rename so a concurrent `. .data/env` never reads half a file.
write_env() {
	local tmp="$DATA/env.$$"
	{
		env_line DATABASE_URL "$1"
		env_line REDIS_URL "$2"
	} >"$tmp"
	mv -f "$tmp" "$DATA/env"
}

mkdir -p "$DATA"

# Our own DATABASE_URL reaches the cluster through its Unix socket (see the end of this script),
# and an older .data/env through loopback TCP.
ours_db_url() {
	[[ $1 == "postgres://$DB_ROLE@127.0.0.1:$PG_PORT/sportello?sslmode=disable" ]] ||
		[[ $1 == "postgres://$DB_ROLE@/sportello?host="*"&port=$PG_PORT&sslmode=disable" ]]
}

# Someone who already has servers (a CI service, a shared database) points us at them and we stay
# out of the way: nothing is installed or started. URLs equal to our own are what a shell gets
# from sourcing .data/env; they must not stop us from starting servers that have been stopped.
if [ -n "${DATABASE_URL:-}" ] && [ -n "${REDIS_URL:-}" ] &&
	{ ! ours_db_url "$DATABASE_URL" || [ "$REDIS_URL" != "$R_URL" ]; }; then
	write_env "$DATABASE_URL" "$REDIS_URL"
	echo "services: using DATABASE_URL and REDIS_URL from the environment; wrote .data/env" >&2
	exit 0
fi

# The lock is on file descriptor 9. Every daemon below is started with 9>&- because a server that
# inherited it would hold the lock for as long as it runs and block every later run.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$DATA/.lock"
	flock -w 600 9 || die "another scripts/services.sh has held $DATA/.lock for 10 minutes"
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=()
elif command -v sudo >/dev/null 2>&1; then
	SUDO=(sudo)
else
	SUDO=(false)
fi

apt_updated=
apt_install() {
	[ "${SUDO[0]:-}" != false ] || die "$* is missing and installing it needs root (or sudo); install it and run again"
	# Another apt-get (an unattended upgrade, a colleague's install) may hold the dpkg lock; waiting
	# for it beats failing. `update` takes the lists lock, which the timeout option does not cover
	# on every apt version, hence the retries.
	if [ -z "$apt_updated" ]; then
		local try
		for try in 1 2 3 4 5 6 7 8 9 10; do
			if "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 update >/dev/null; then
				apt_updated=1
				break
			fi
			echo "services.sh: apt-get update failed (attempt $try), retrying in 15 s" >&2
			sleep 15
		done
		[ -n "$apt_updated" ] || die "apt-get update kept failing"
	fi
	echo "services.sh: installing $* with apt-get" >&2
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o DPkg::Lock::Timeout=300 \
		install --no-install-recommends "$@" >/dev/null ||
		die "apt-get install $* failed"
}

# ---------------------------------------------------------------------------------------------
# Tools.

find_pg_bin() {
	local dir
	if command -v pg_config >/dev/null 2>&1; then
		# pg_config may come from libpq-dev alone, without a server beside it; only trust it when
		# initdb is really there.
		dir=$(pg_config --bindir 2>/dev/null || true)
		if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
			echo "$dir"
			return
		fi
	fi
	# Debian keeps server binaries off PATH, one directory per major version.
	dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
		echo "$dir"
	fi
}

PG_BIN=$(find_pg_bin)
if [ -z "$PG_BIN" ]; then
	apt_install postgresql
	PG_BIN=$(find_pg_bin)
	[ -n "$PG_BIN" ] || die "installed postgresql but found no initdb under /usr/lib/postgresql"
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
	apt_install redis-server
	command -v redis-server >/dev/null 2>&1 || die "installed redis-server but it is not on PATH"
fi

# ---------------------------------------------------------------------------------------------
# PostgreSQL.

# PostgreSQL refuses to run as root, so root runs the cluster as the postgres system user and
# everything that user must touch is chowned to it. Anyone else runs it as themselves.
if [ "$(id -u)" -eq 0 ]; then
	PG_USER=postgres
	id -u "$PG_USER" >/dev/null 2>&1 || die "running as root needs a 'postgres' system user to own the cluster"
else
	PG_USER=$(id -un)
fi

as_pg() {
	# The caller's directory may be closed to the postgres user, and initdb fails when it cannot
	# read its own working directory, so every command starts from /.
	if [ "$PG_USER" = "$(id -un)" ]; then
		(cd / && "$@")
	elif command -v runuser >/dev/null 2>&1; then
		(cd / && runuser -u "$PG_USER" -- "$@")
	else
		(cd / && su -s /bin/bash "$PG_USER" -c "$(printf '%q ' "$@")")
	fi
}

# Where the cluster lives. Normally .data/pg. Two things can make that impossible, and then the
# cluster goes to /tmp/sportello-pg-<hash of the repo path> with .data/pg a symlink to it:
#   - the postgres user cannot traverse the path to the repo (a clone under /root, mode 700).
#     Opening up directories outside the repo, such as a home directory, is not this script's
#     business, so it does not chmod them;
#   - the path is so long that the unix socket inside the cluster directory would exceed the
#     kernel's 107-byte limit for socket paths.
# The choice is made once, when .data/pg does not exist yet, and the symlink remembers it. /tmp may
# be emptied at boot; a dangling symlink just means a new cluster.
chmod 755 "$DATA"
if [ -L "$DATA/pg" ]; then
	PG_DIR=$(readlink "$DATA/pg")
elif [ -d "$DATA/pg" ]; then
	PG_DIR="$DATA/pg"
else
	PG_DIR="$DATA/pg"
	if [ ${#PG_DIR} -gt 90 ] || ! as_pg test -x "$DATA"; then
		PG_DIR="/tmp/sportello-pg-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
		ln -sfn "$PG_DIR" "$DATA/pg"
		echo "services.sh: $DATA/pg is closed to $PG_USER or too long a path for a socket; the cluster lives in $PG_DIR" >&2
	fi
fi

# Anyone can create a directory in /tmp, so one that is already there must belong to us.
if [ -e "$PG_DIR" ] && [ "$(stat -c %U "$PG_DIR")" != "$PG_USER" ]; then
	if [ "$PG_DIR" = "$DATA/pg" ] && [ "$(id -u)" -eq 0 ]; then
		# A cluster made by an older run as another user: hand it over rather than start afresh.
		chown -R "$PG_USER": "$PG_DIR"
	else
		die "$PG_DIR belongs to $(stat -c %U "$PG_DIR"), not $PG_USER; remove it or run 'make clean-data'"
	fi
fi

pg_running() {
	as_pg "$PG_BIN/pg_ctl" status -D "$PG_DIR" >/dev/null 2>&1
}

# pg_isready exits 0 (accepting) or 1 (starting up or shutting down) when some server answers.
port_answers_pg() {
	local rc=0
	"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -t 2 || rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 1 ]
}

if [ ! -f "$PG_DIR/PG_VERSION" ]; then
	# initdb into a side directory and rename it into place, so an interrupted initdb never
	# leaves a half-made cluster that a later run would try to start.
	stage="$PG_DIR.init"
	rm -rf "$stage"
	mkdir -m 700 "$stage"
	[ "$(id -u)" -ne 0 ] || chown "$PG_USER": "$stage"
	locale=C
	if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		locale=C.UTF-8
	fi
	echo "services.sh: creating a PostgreSQL cluster in ${PG_DIR#"$ROOT"/}" >&2
	as_pg "$PG_BIN/initdb" -D "$stage" -A trust -U postgres --encoding=UTF8 --locale="$locale" \
		>>"$PG_LOG" 2>&1 || die_with_log "$PG_LOG" "initdb failed"
	# Settings live in a file of our own, rewritten on every run, so a changed port takes effect
	# without editing the postgresql.conf that initdb wrote.
	echo "include_if_exists = 'sportello.conf'" >>"$stage/postgresql.conf"
	rm -rf "$PG_DIR"
	mv "$stage" "$PG_DIR"
fi

# fsync, synchronous_commit and full_page_writes are off because this cluster holds only
# development and test data, which a crash may lose; tests create and drop many databases and
# that is far faster without flushing. 200 connections leave room for parallel test packages,
# each with its own pool.
pg_conf=$(
	cat <<EOF
# Written by scripts/services.sh on every run; edits here are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '${PG_DIR//\'/\'\'}'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
)
conf_changed=
if [ "$(cat "$PG_DIR/sportello.conf" 2>/dev/null || true)" != "$pg_conf" ]; then
	printf '%s\n' "$pg_conf" >"$PG_DIR/sportello.conf"
	[ "$(id -u)" -ne 0 ] || chown "$PG_USER": "$PG_DIR/sportello.conf"
	conf_changed=1
fi

if pg_running && [ -n "$conf_changed" ]; then
	echo "services.sh: restarting PostgreSQL for its new settings" >&2
	as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DIR" -m fast -w >/dev/null 9>&- ||
		die_with_log "$PG_LOG" "could not stop PostgreSQL to apply new settings"
fi

if ! pg_running; then
	# A server we did not start already answering on our port would take our connections, and
	# ours would fail to bind; say so plainly instead of showing a bind error.
	if port_answers_pg; then
		die "another PostgreSQL already answers on 127.0.0.1:$PG_PORT (not the cluster in $PG_DIR); stop it or set SPORTELLO_PG_PORT"
	fi
	# No -l: the server keeps the output this shell opened for it, because the postgres user may
	# not be allowed to open .data/pg.log itself (see the /tmp case above).
	as_pg "$PG_BIN/pg_ctl" start -D "$PG_DIR" -w -t 60 >>"$PG_LOG" 2>&1 9>&- ||
		die_with_log "$PG_LOG" "PostgreSQL did not start on 127.0.0.1:$PG_PORT"
fi

ready=
for _ in $(seq 1 60); do
	if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -t 2; then
		ready=1
		break
	fi
	sleep 0.5
done
[ -n "$ready" ] || die_with_log "$PG_LOG" "PostgreSQL is running but not accepting connections on 127.0.0.1:$PG_PORT"

psql_admin() {
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"
}
# CREATEDB lets the tests make their databases (db/dbtest); pg_read_all_stats lets the live feed
# see other roles' transactions in pg_stat_activity, which keeps a long transaction in another
# database from holding it back (db/events.go).
if [ -z "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_ROLE'")" ]; then
	psql_admin -c "CREATE ROLE $DB_ROLE LOGIN CREATEDB" >/dev/null || die "could not create role $DB_ROLE"
fi
psql_admin -c "GRANT pg_read_all_stats TO $DB_ROLE" >/dev/null || die "could not grant pg_read_all_stats to $DB_ROLE"
if [ -z "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = 'sportello'")" ]; then
	psql_admin -c "CREATE DATABASE sportello OWNER $DB_ROLE" >/dev/null || die "could not create database sportello"
fi
# A database made before the role existed was migrated as postgres: it and what the migrations
# created in it are handed to the role, which runs the later migrations (the extensions stay
# with their owner; their objects are not ours to alter).
psql_admin -d sportello >/dev/null <<SQL || die "could not hand database sportello over to $DB_ROLE"
ALTER DATABASE sportello OWNER TO $DB_ROLE;
DO \$\$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT format('ALTER %s %s OWNER TO $DB_ROLE',
            CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' WHEN c.relkind IN ('v', 'm') THEN 'VIEW' ELSE 'TABLE' END,
            c.oid::regclass) AS cmd
        FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v')
        AND c.relowner <> '$DB_ROLE'::regrole
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
        UNION ALL
        SELECT format('ALTER ROUTINE %s OWNER TO $DB_ROLE', p.oid::regprocedure)
        FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> '$DB_ROLE'::regrole
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        UNION ALL
        SELECT format('ALTER TEXT SEARCH CONFIGURATION %s OWNER TO $DB_ROLE', t.oid::regconfig)
        FROM pg_ts_config t
        WHERE t.cfgnamespace = 'public'::regnamespace AND t.cfgowner <> '$DB_ROLE'::regrole
    LOOP
        EXECUTE r.cmd;
    END LOOP;
END
\$\$;
SQL

# ---------------------------------------------------------------------------------------------
# Redis.

mkdir -p "$REDIS_DIR"

redis_cli() {
	redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@" 2>/dev/null
}

if [ "$(redis_cli ping || true)" = PONG ]; then
	# Redis reports the directory it was started in; that tells ours from someone else's.
	their_dir=$(redis_cli config get dir | sed -n 2p || true)
	if [ "$their_dir" != "$REDIS_DIR" ]; then
		die "another Redis already answers on 127.0.0.1:$REDIS_PORT (dir '${their_dir:-unknown}'); stop it or set SPORTELLO_REDIS_PORT"
	fi
else
	# No persistence: the tests and the dev server treat Redis as a bus, never as storage.
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes \
		--save '' --appendonly no \
		--dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_LOG" \
		</dev/null >>"$REDIS_LOG" 2>&1 9>&- ||
		die_with_log "$REDIS_LOG" "redis-server failed to start"
	ready=
	for _ in $(seq 1 50); do
		if [ "$(redis_cli ping || true)" = PONG ]; then
			ready=1
			break
		fi
		sleep 0.2
	done
	[ -n "$ready" ] || die_with_log "$REDIS_LOG" "Redis did not answer PONG on 127.0.0.1:$REDIS_PORT"
fi
# stop-services.sh reads the port from here, so it needs no SPORTELLO_REDIS_PORT of its own.
echo "$REDIS_PORT" >"$REDIS_DIR/port"

# The application, the tests and the benchmark reach PostgreSQL through its Unix socket, which the
# cluster keeps in its own directory: on the same machine it costs both sides less CPU a statement
# than loopback TCP (see Performance in the README). Bytes a URL cannot hold are escaped.
socket_dir=$(LC_ALL=C awk 'BEGIN {
	for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i
	s = ARGV[1]
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c ~ /[A-Za-z0-9\/._~-]/) printf "%s", c
		else printf "%%%02X", ord[c]
	}
}' "$PG_DIR")
DB_URL="postgres://$DB_ROLE@/sportello?host=$socket_dir&port=$PG_PORT&sslmode=disable"
write_env "$DB_URL" "$R_URL"
echo "services: PostgreSQL $DB_URL, Redis $R_URL (logs in .data/*.log, env in .data/env)" >&2
