#!/usr/bin/env bash
# Install (Debian packages) and start a local PostgreSQL for the store and gateway tests, then print the
# line to export. Usage:  eval "$(bash .ci/postgres.sh)"   (progress goes to stderr, the export to stdout)
set -euo pipefail
log() { echo "postgres.sh: $*" >&2; }

DB=${CHILDSAFE_PG_DB:-childsafe_test}
USER_NAME=${CHILDSAFE_PG_USER:-childsafe}
PASSWORD=${CHILDSAFE_PG_PASSWORD:-childsafe}
PORT=${CHILDSAFE_PG_PORT:-5432}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "installing postgresql from Debian packages"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
fi

VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  log "pg_lsclusters missing (postgresql-common not installed)"; exit 1
fi
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$VERSION main"; then
  log "creating cluster $VERSION/main"
  $SUDO pg_createcluster "$VERSION" main --port "$PORT" >&2
fi
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $4}' | grep -qx online; then
  log "starting cluster $VERSION/main"
  $SUDO pg_ctlcluster "$VERSION" main start >&2
fi
PORT=$(pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $3}')

for _ in $(seq 1 30); do
  if $SUDO -u postgres psql -p "$PORT" -Atqc "SELECT 1" >/dev/null 2>&1 || su postgres -c "psql -p $PORT -Atqc 'SELECT 1'" >/dev/null 2>&1; then
    break
  fi
  sleep 1
done

psql_admin() {
  if [ -z "$SUDO" ]; then su postgres -c "psql -p $PORT -v ON_ERROR_STOP=1 -Atq -c \"$1\""; else sudo -u postgres psql -p "$PORT" -v ON_ERROR_STOP=1 -Atq -c "$1"; fi
}
if [ "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname='$USER_NAME'")" != "1" ]; then
  psql_admin "CREATE ROLE $USER_NAME LOGIN PASSWORD '$PASSWORD' CREATEDB" >&2
fi
if [ "$(psql_admin "SELECT 1 FROM pg_database WHERE datname='$DB'")" != "1" ]; then
  psql_admin "CREATE DATABASE $DB OWNER $USER_NAME" >&2
fi
log "PostgreSQL $VERSION ready on 127.0.0.1:$PORT, database $DB"
echo "export CHILDSAFE_TEST_PG_URL=postgresql+psycopg://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB"
