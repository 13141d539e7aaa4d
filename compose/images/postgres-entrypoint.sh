#!/bin/sh
# Initialises the cluster on first start, then runs the server in the foreground (its log on
# stderr: "database system is ready to accept connections").
set -e
PGBIN=/usr/lib/postgresql/15/bin
PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  printf '%s\n' "${POSTGRES_PASSWORD:-postgres}" > /tmp/pgpass
  chown postgres /tmp/pgpass
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -U "${POSTGRES_USER:-postgres}" \
    --pwfile=/tmp/pgpass --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f /tmp/pgpass
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
mkdir -p /var/run/postgresql && chown postgres:postgres /var/run/postgresql
exec runuser -u postgres -- "$PGBIN/postgres" -D "$PGDATA" -c listen_addresses='*'
