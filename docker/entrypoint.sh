#!/usr/bin/env bash
# Container entry: the throwaway-cluster script in a persistent volume, reachable from the
# network with a password (POSTGRES_PASSWORD), geoetl and pg_cron created, then wait.
set -euo pipefail
cd /opt/geoetl
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"

scripts/pgcluster.sh start
eval "$(scripts/pgcluster.sh env)"
hba=$GEOETL_PGDIR/data/pg_hba.conf
grep -q '^host all all all scram-sha-256' "$hba" || echo 'host all all all scram-sha-256' >>"$hba"
psql -X -q -v ON_ERROR_STOP=1 -v pw="$POSTGRES_PASSWORD" <<'SQL'
SET client_min_messages = warning;
ALTER ROLE postgres PASSWORD :'pw';
SELECT pg_reload_conf();
CREATE EXTENSION IF NOT EXISTS geoetl CASCADE;
ALTER EXTENSION geoetl UPDATE;
CREATE EXTENSION IF NOT EXISTS pg_cron;
SQL

trap 'scripts/pgcluster.sh stop; exit 0' TERM INT
tail -n +1 -F "$GEOETL_PGDIR/server.log" &
wait $!
