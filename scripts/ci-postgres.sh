#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on a loopback port for the decision
# log's PostgreSQL tests, installing Debian's postgresql package when it is
# missing. It prints the one line to eval:
#
#   eval "$(scripts/ci-postgres.sh)"    # exports COSTGATE_TEST_POSTGRES_DSN
#   scripts/ci-postgres.sh stop         # stops the server again
#
# The data directory is $COSTGATE_PG_DIR (default /tmp/costgate-pg); the
# port is $COSTGATE_PG_PORT (default 25432: below Linux's ephemeral range,
# 32768-60999, so that no client connection of another test or benchmark
# holds it when the server binds). All progress goes to stderr.
set -euo pipefail

dir="${COSTGATE_PG_DIR:-/tmp/costgate-pg}"
port="${COSTGATE_PG_PORT:-25432}"
log() { echo "ci-postgres: $*" >&2; }

find_bin() {
	local name=$1 d
	if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
	for d in /usr/lib/postgresql/*/bin; do
		if [ -x "$d/$name" ]; then echo "$d/$name"; return; fi
	done
	return 1
}

if [ "${1:-}" = "stop" ]; then
	if pg_ctl=$(find_bin pg_ctl) && [ -f "$dir/postmaster.pid" ]; then
		runuser -u postgres -- "$pg_ctl" -D "$dir" -m fast -w stop >&2 || true
	fi
	exit 0
fi

if ! find_bin initdb >/dev/null || ! find_bin pg_ctl >/dev/null; then
	log "installing Debian's postgresql"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq postgresql >&2
fi
initdb=$(find_bin initdb)
pg_ctl=$(find_bin pg_ctl)
psql=$(find_bin psql)
id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres

dsn="postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable"

# Already running from an earlier call: reuse it.
if [ -f "$dir/postmaster.pid" ] && runuser -u postgres -- "$pg_ctl" -D "$dir" status >/dev/null 2>&1; then
	if "$psql" "$dsn" -Atc 'select 1' >/dev/null 2>&1; then
		log "reusing the server in $dir on port $port"
		echo "export COSTGATE_TEST_POSTGRES_DSN='$dsn'"
		exit 0
	fi
	log "the server in $dir does not answer on port $port: stopping it"
	runuser -u postgres -- "$pg_ctl" -D "$dir" -m fast -w stop >&2 || true
fi

rm -rf "$dir"
mkdir -p "$dir"
chown postgres:postgres "$dir"
chmod 700 "$dir"
log "initdb $dir"
runuser -u postgres -- "$initdb" -D "$dir" --auth=trust --username=postgres --encoding=UTF8 --no-sync >&2
log "starting PostgreSQL on 127.0.0.1:$port"
runuser -u postgres -- "$pg_ctl" -D "$dir" -l "$dir/server.log" \
	-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" -w -t 60 start >&2
for _ in $(seq 1 30); do
	if "$psql" "$dsn" -Atc 'select 1' >/dev/null 2>&1; then
		echo "export COSTGATE_TEST_POSTGRES_DSN='$dsn'"
		exit 0
	fi
	sleep 1
done
log "the server did not answer; its log:"
cat "$dir/server.log" >&2
exit 1
