#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 for the benchmark: TLS on with a leaf
# certificate for 127.0.0.1 signed by a CA made here (workerd verifies the
# server's certificate; NODE_EXTRA_CA_CERTS=$DIR/ca-bundle.pem trusts it),
# SCRAM-SHA-256 for user `bench` (password in $DIR/password), a database
# `shop` with 1,000 rows in `products`, on a free port of 127.0.0.1.
#   bench/pg.sh DIR   → prints the port; `bench/pg.sh stop DIR` stops it.
set -euo pipefail
if [ "${1:-}" = stop ]; then
  dir=$2; PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
  [ -f "$dir/data/postmaster.pid" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  exit 0
fi
dir=$1
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
[ -x "$PGBIN/initdb" ] || { echo "[bench] PostgreSQL is not installed (scripts/db-servers.sh)" >&2; exit 1; }
mkdir -p "$dir"; chmod 755 "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench test CA" \
  -keyout "$dir/ca.key" -out "$dir/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$dir/ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
  -extfile "$dir/ext" -out "$dir/server.pem" >/dev/null 2>&1
cat /etc/ssl/certs/ca-certificates.crt "$dir/ca.pem" > "$dir/ca-bundle.pem"
head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$dir/password"
chown postgres "$dir" "$dir/server.key" "$dir/server.pem" "$dir/password"; chmod 600 "$dir/server.key"
runuser -u postgres -- "$PGBIN/initdb" -D "$dir/data" -U bench --auth=scram-sha-256 --pwfile="$dir/password" >/dev/null
echo "hostssl all all 127.0.0.1/32 scram-sha-256" > "$dir/data/pg_hba.conf"
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
  "-p $port -k $dir -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$dir/server.pem -c ssl_key_file=$dir/server.key -c max_connections=200" \
  start >/dev/null
PGPASSWORD=$(cat "$dir/password") psql -q "host=127.0.0.1 port=$port user=bench dbname=postgres sslmode=verify-full sslrootcert=$dir/ca.pem" \
  -c "CREATE DATABASE shop" >/dev/null
PGPASSWORD=$(cat "$dir/password") psql -q "host=127.0.0.1 port=$port user=bench dbname=shop sslmode=verify-full sslrootcert=$dir/ca.pem" \
  -c "CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2)); INSERT INTO products SELECT g, 'item ' || g, g * 1.25 FROM generate_series(1, 1000) g" >/dev/null
echo "$port"
