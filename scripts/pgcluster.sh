#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster inside the checkout, for the demo and the tests.
#
#   scripts/pgcluster.sh start|stop|status|psql [args]|url|env|destroy
#
# GEOETL_PGDIR   the cluster's folder (default: <checkout>/.pgdata, git-ignored)
# GEOETL_PGDB    the database created and used by pg_cron (default: geoetl)
# GEOETL_PGPORT  a fixed port (default: a free one, kept across restarts)
# GEOETL_PGLISTEN  listen_addresses (default: 127.0.0.1; docker/ uses '*')
#
# Layout: $GEOETL_PGDIR/{data/, run/ (socket), port, server.log}. The server listens on
# 127.0.0.1 at a free port and on a socket in run/, with pg_cron and geoetl preloaded (geoetl's
# shared block cache; geoetl must be installed first) and local trust authentication (pg_cron
# connects through the socket). As root the server runs as the
# `postgres` user, since initdb refuses root. `start` is idempotent and recovers from a
# cluster left behind by a killed run; `stop` leaves no process behind.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LINK=${GEOETL_PGDIR:-$ROOT/.pgdata}
DB=${GEOETL_PGDB:-geoetl}
LISTEN=${GEOETL_PGLISTEN:-127.0.0.1}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

die() { echo "pgcluster: $*" >&2; exit 1; }
[[ -x $PGBIN/pg_ctl ]] || die "PostgreSQL 15 not found in $PGBIN: run scripts/install-deps.sh"

if [[ $(id -u) -eq 0 ]]; then
  OWNER=postgres
  id "$OWNER" >/dev/null 2>&1 || die "user postgres missing: run scripts/install-deps.sh"
  as_owner() { runuser -u "$OWNER" -- "$@"; }
else
  OWNER=$(id -un)
  as_owner() { "$@"; }
fi

# The socket lives in run/, unless that path is too long for a Unix socket (107 bytes).
socket_dir() {
  if [[ ${#DIR} -le 80 ]]; then echo "$DIR/run"
  else echo "/tmp/geoetl-pg-$(printf %s "$DIR" | cksum | cut -d' ' -f1)"; fi
}
# The real folder behind $LINK (a symlink when the server's user cannot reach $LINK itself).
set_paths() {
  DIR=$(readlink -f "$LINK" 2>/dev/null || echo "$LINK")
  DATA=$DIR/data
  LOG=$DIR/server.log
  RUN=$(socket_dir)
}
set_paths

pid_of_server() {  # prints the postmaster pid if our server is running
  [[ -f $DATA/postmaster.pid ]] || return 1
  local pid; pid=$(head -n1 "$DATA/postmaster.pid")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ $(readlink -f "/proc/$pid/cwd" 2>/dev/null) == "$(readlink -f "$DATA")" ]] || return 1
  echo "$pid"
}
port() { cat "$DIR/port" 2>/dev/null || true; }

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
pick_port() {  # a free port, starting from one derived from the folder name
  local p=$((54000 + $(printf %s "$DIR" | cksum | cut -d' ' -f1) % 900)) i
  for ((i = 0; i < 200; i++)); do
    port_free "$p" && { echo "$p"; return; }
    p=$((p + 1))
  done
  die "no free port found in 54000-55100"
}

# The folder must be reachable by the server's user; else keep the data in /var/tmp.
prepare_dir() {
  mkdir -p "$DIR"
  if [[ $OWNER != "$(id -un)" ]] && ! as_owner test -x "$DIR"; then
    local real; real=/var/tmp/geoetl-pg-$(printf %s "$DIR" | cksum | cut -d' ' -f1)
    echo "pgcluster: $OWNER cannot reach $DIR; keeping the cluster in $real" >&2
    rm -rf "$DIR"; mkdir -p "$real"; ln -s "$real" "$LINK"
    set_paths
  fi
  mkdir -p "$RUN"
  chown "$OWNER" "$DIR" "$RUN"
}

init_cluster() {
  rm -rf "$DATA" "$DIR/.initialized"
  as_owner "$PGBIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
  cat >>"$DATA/postgresql.conf" <<CONF

# geoetl throwaway cluster (scripts/pgcluster.sh)
listen_addresses = '$LISTEN'
unix_socket_directories = '$RUN'
shared_preload_libraries = 'pg_cron,geoetl'
cron.database_name = '$DB'
cron.host = '$RUN'
max_connections = 40
log_min_messages = warning
CONF
  cat >"$DATA/pg_hba.conf" <<HBA
local all all trust
host  all all 127.0.0.1/32 trust
host  all all ::1/128 trust
HBA
  touch "$DIR/.initialized"
}

start() {
  if pid_of_server >/dev/null; then echo "pgcluster: running on port $(port) ($DIR)"; return; fi
  prepare_dir
  [[ -f $DIR/.initialized && -f $DATA/PG_VERSION ]] || init_cluster
  # a cluster made before geoetl was preloaded
  sed -i "s/^shared_preload_libraries = 'pg_cron'\$/shared_preload_libraries = 'pg_cron,geoetl'/" "$DATA/postgresql.conf"
  # A killed run leaves postmaster.pid and socket lock files behind, whose pid may now belong
  # to another process (or a zombie): none of our servers is running, so they are stale.
  rm -f "$DATA/postmaster.pid" "$RUN"/.s.PGSQL.*
  local attempt p
  for attempt in 1 2 3; do
    p=${GEOETL_PGPORT:-$(port)}
    [[ -n $p ]] && port_free "$p" || p=$(pick_port)
    echo "$p" >"$DIR/port"
    if as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 -o "-p $p" start >/dev/null; then
      as_owner "$PGBIN/psql" -h "$RUN" -p "$p" -U postgres -d postgres -XAtqc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
        || as_owner "$PGBIN/createdb" -h "$RUN" -p "$p" -U postgres "$DB"
      echo "pgcluster: started on port $p ($DIR)"
      return
    fi
    rm -f "$DIR/port"
  done
  tail -n 20 "$LOG" >&2 || true
  die "server did not start (log: $LOG)"
}

stop() {
  local pid children
  pid=$(pid_of_server) || { echo "pgcluster: not running ($DIR)"; return; }
  as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1 \
    || as_owner "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
  if kill -0 "$pid" 2>/dev/null; then
    # pg_ctl could not stop it: kill it, and its backends and workers, which must not outlive it
    children=$(pgrep -P "$pid" || true)
    kill -9 "$pid" 2>/dev/null || true
    for child in $children; do kill -9 "$child" 2>/dev/null || true; done
  fi
  echo "pgcluster: stopped ($DIR)"
}

status() {
  if pid_of_server >/dev/null; then echo "pgcluster: running on port $(port) ($DIR)"
  else echo "pgcluster: not running ($DIR)"; return 3; fi
}

require_running() { pid_of_server >/dev/null || die "not running: scripts/pgcluster.sh start"; }

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  psql) require_running; shift; exec "$PGBIN/psql" -h "$RUN" -p "$(port)" -U postgres -d "$DB" "$@" ;;
  url) require_running; echo "postgresql://postgres@127.0.0.1:$(port)/$DB" ;;
  env) require_running
       printf 'export PGHOST=%q PGPORT=%q PGUSER=postgres PGDATABASE=%q\n' "$RUN" "$(port)" "$DB" ;;
  destroy) stop; rm -rf "$DIR" "$LINK" ;;
  *) echo "usage: $0 start|stop|status|psql [psql args]|url|env|destroy" >&2; exit 2 ;;
esac
