#!/usr/bin/env bash
# Stops the PostgreSQL and Redis that scripts/services.sh started for this checkout. Data stays in
# .data/ (`make clean-data` removes it). Running it when nothing runs is fine.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DATA="$ROOT/.data"
REDIS_DIR="$DATA/redis"

# The cluster may sit behind a symlink (see services.sh); the postgres user cannot always follow
# the link's own path, so the resolved target is used.
PG_DIR=$(readlink -f "$DATA/pg" 2>/dev/null || true)
if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/postmaster.pid" ]; then
	# The cluster's own version picks the matching pg_ctl, whatever else is installed since.
	PG_BIN="/usr/lib/postgresql/$(cat "$PG_DIR/PG_VERSION" 2>/dev/null)/bin"
	if [ ! -x "$PG_BIN/pg_ctl" ]; then
		PG_BIN=$(pg_config --bindir 2>/dev/null || true)
	fi
	[ -x "$PG_BIN/pg_ctl" ] || {
		echo "stop-services.sh: found no pg_ctl to stop the cluster in $PG_DIR" >&2
		exit 1
	}
	# pg_ctl refuses to run as root, so it runs as whoever owns the cluster, as it was started.
	owner=$(stat -c %U "$PG_DIR")
	if [ "$owner" = "$(id -un)" ]; then
		as_owner=()
	elif command -v runuser >/dev/null 2>&1; then
		as_owner=(runuser -u "$owner" --)
	else
		as_owner=(sudo -u "$owner")
	fi
	# A stale postmaster.pid (after a reboot, say) makes status fail, and then there is nothing to stop.
	if (cd / && "${as_owner[@]}" "$PG_BIN/pg_ctl" status -D "$PG_DIR" >/dev/null 2>&1); then
		(cd / && "${as_owner[@]}" "$PG_BIN/pg_ctl" stop -D "$PG_DIR" -m fast -w >/dev/null)
		echo "stopped PostgreSQL ($PG_DIR)" >&2
	fi
fi

# services.sh records the port it started Redis on, so a port override need not be repeated here.
# The directory Redis reports tells ours from another Redis that may have taken the port since.
port=$(cat "$REDIS_DIR/port" 2>/dev/null || true)
if [ -n "$port" ] &&
	[ "$(redis-cli -h 127.0.0.1 -p "$port" config get dir 2>/dev/null | sed -n 2p || true)" = "$REDIS_DIR" ]; then
	redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
	for _ in $(seq 1 50); do
		[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)" = PONG ] || break
		sleep 0.1
	done
	if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)" = PONG ]; then
		echo "stop-services.sh: Redis on 127.0.0.1:$port did not stop" >&2
		exit 1
	fi
	echo "stopped Redis (127.0.0.1:$port)" >&2
fi
