#!/usr/bin/env bash
# Installs the database servers the end-to-end suite starts for itself
# (tests/support/db.rs): PostgreSQL 15 and MariaDB from Debian, their
# clients, openssl (the suite's test CA) and setpriv (util-linux: starts each
# server as its own user, stopped if the suite dies). Idempotent: when they
# are present it reads a few paths and prints nothing.
#
# The packages' own services are never left running: the suite starts its
# servers on free ports with temporary data, and nothing else on this
# machine should listen on 5432 or 3306.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
need=(
  "$PG_BIN/initdb" "$PG_BIN/postgres" "$PG_BIN/psql"
  /usr/sbin/mariadbd /usr/bin/mariadb-install-db /usr/bin/mariadb
  /usr/bin/openssl /usr/bin/setpriv
)
missing=0
for f in "${need[@]}"; do [ -x "$f" ] || missing=1; done
[ "$missing" = 0 ] && exit 0

printf '[db-servers] installing postgresql, mariadb-server, openssl\n' >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-upgrade postgresql mariadb-server mariadb-client openssl util-linux >&2

# Where the packages started their services (a machine whose policy-rc.d
# allows it), stop them and keep them from starting at boot.
for svc in postgresql mariadb mysql; do
  [ -e "/etc/init.d/$svc" ] || continue
  service "$svc" stop >/dev/null 2>&1 || true
  update-rc.d "$svc" disable >/dev/null 2>&1 || true
done
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now postgresql mariadb >/dev/null 2>&1 || true
fi
# The Debian cluster (pg_ctlcluster) and a stray mariadbd, if any still runs.
command -v pg_ctlcluster >/dev/null && pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
for pidfile in /run/mysqld/mysqld.pid /var/run/mysqld/mysqld.pid; do
  [ -s "$pidfile" ] && kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
done
for f in "${need[@]}"; do
  [ -x "$f" ] || { echo "[db-servers] still missing after install: $f" >&2; exit 1; }
done
