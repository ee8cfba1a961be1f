#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests and prints the environment they
# need (source its output). Installs PostgreSQL from Debian's packages if missing.
#   eval "$(bash .ci/postgres.sh)"
set -euo pipefail
PORT=${SIMMER_PG_PORT:-54329}
DATA=${SIMMER_PG_DATA:-/tmp/simmer-pg}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

# The server refuses to run as root: run it as the postgres user when we are root.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ -f "$DATA/postmaster.pid" ]; then
  as_pg "$bin/pg_ctl" -D "$DATA" -m immediate stop >&2 || true
fi
rm -rf "$DATA"
mkdir -p "$DATA"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DATA"
as_pg "$bin/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 >/dev/null
cat > "$DATA/pg_hba.conf" <<HBA
local all all                     trust
host  all simmer_trust 127.0.0.1/32 trust
host  all simmer_plain 127.0.0.1/32 password
host  all simmer_md5   127.0.0.1/32 md5
host  all all          127.0.0.1/32 scram-sha-256
HBA
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DATA/pg_hba.conf"
as_pg "$bin/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
  -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200" start >&2
psql_pg() { as_pg "$bin/psql" -h /tmp -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -q "$@"; }
psql_pg <<SQL
SET password_encryption = 'scram-sha-256';
CREATE USER simmer PASSWORD 'simmer-secret';
CREATE USER simmer_plain PASSWORD 'plain-secret';
CREATE USER simmer_trust;
SET password_encryption = 'md5';
CREATE USER simmer_md5 PASSWORD 'md5-secret';
CREATE DATABASE simmer OWNER simmer;
GRANT ALL ON DATABASE simmer TO simmer_md5, simmer_plain, simmer_trust;
SQL
psql_pg -d simmer -c "GRANT ALL ON SCHEMA public TO PUBLIC;"

echo "export DATABASE_URL=postgres://simmer:simmer-secret@127.0.0.1:$PORT/simmer"
echo "export SIMMER_PG_PORT=$PORT"
# The restarted server logs to a file: it must not inherit (and hold open) the test's output.
echo "export SIMMER_PG_RESTART='$( [ "$(id -u)" -eq 0 ] && echo "runuser -u postgres -- ")$bin/pg_ctl -D $DATA -l $DATA/server.log -w -m fast restart -o \"-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200\"'"
