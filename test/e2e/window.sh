#!/usr/bin/env bash
# Window pipelines under concurrency, on a cluster of its own: two runs of one pipeline at once
# (the second waits, then writes nothing), a late row inserted while a run moves the watermark
# past it (recorded once the run commits, not lost), and a run cancelled half-way (nothing
# written, watermark unchanged). Prints TAP.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export GEOETL_PGDIR=${TMPDIR:-/tmp}/geoetl-window-test-$$
PGC=$ROOT/scripts/pgcluster.sh
OUT=$GEOETL_PGDIR.out
. "$ROOT/test/e2e/lib/tap.sh"
trap 'kill $(jobs -p) 2>/dev/null; "$PGC" destroy >/dev/null 2>&1; rm -f "$OUT".*' EXIT
q() { "$PGC" psql -XAtqc "$1"; }
is() { local got; got=$(q "$1"); [[ $got == "$2" ]] || { echo "  got: $got, want: $2" >&2; return 1; }; }
# waits up to 10 s until a session with application_name $1 waits for a lock
waits_for_lock() {
  for _ in $(seq 100); do
    [[ $(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1' AND wait_event_type = 'Lock'") == 1 ]] && return 0
    sleep 0.1
  done
  return 1
}
# hold/release: while held, sessions that run "SELECT pg_advisory_lock_shared(1)" keep their
# transaction open (deterministic, unlike a sleep on a loaded machine)
hold() {
  PGAPPNAME=holder "$PGC" psql -XAtq -c "SELECT pg_advisory_lock(1)" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
  for _ in $(seq 100); do
    [[ $(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted") == 1 ]] && return 0
    sleep 0.1
  done
  return 1
}
release() { q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'holder'" >/dev/null; }
# the pipeline's target equals aggregate_window over everything before its watermark
consistent() {
  is "WITH p AS (SELECT * FROM geoetl.window_pipeline WHERE name = '$1'),
       want AS (SELECT a.group_key::int AS g, a.window_start, s.name, CASE s.aggregate WHEN 'mean' THEN a.mean ELSE a.max END AS value
                FROM p, geoetl.aggregate_window(p.source, p.time_column, p.value_columns, p.width, '-infinity', p.watermark, group_by => p.group_by) a
                JOIN geoetl._window_signals(p.value_columns, p.aggregates) s ON s.column_name = a.column_name),
       have AS (SELECT d.sensor_id AS g, d.\"timestamp\" AS window_start, s.name, d.value FROM farm.data d JOIN farm.signal s ON s.id = d.signal_id)
  SELECT count(*) FROM want FULL JOIN have USING (g, window_start, name)
  WHERE want.value IS DISTINCT FROM have.value AND NOT coalesce(abs(want.value - have.value) <= 1e-12 * abs(want.value), false)" 0
}

"$PGC" start >/dev/null || { echo "not ok 1 - cluster starts"; exit 1; }
q "SET client_min_messages = warning; CREATE EXTENSION geoetl CASCADE" >/dev/null
q "CREATE TABLE readings (ts timestamptz NOT NULL, sensor_id int NOT NULL, wind_speed float8, PRIMARY KEY (sensor_id, ts));
   INSERT INTO readings SELECT '2025-01-02'::timestamptz + i * interval '1 minute', s, s + sin(i / 30.0)
   FROM generate_series(0, 2 * 1440 - 1) i, generate_series(1, 3) s;
   CREATE SCHEMA farm;
   SELECT geoetl.create_window_pipeline('farm', 'readings', 'ts', '{wind_speed}', '10 minutes', 'farm',
                                        '{mean,max}', group_by => 'sensor_id')" >/dev/null

# two runs at once
hold
PGAPPNAME=run_a "$PGC" psql -XAtq -c "BEGIN" -c "SELECT geoetl.run_window_pipeline('farm', '2025-01-02 12:00')" \
  -c "SELECT pg_advisory_lock_shared(1)" -c "COMMIT" > "$OUT.a" 2>&1 &
waits_for_lock run_a  # run_a ran and keeps its transaction open
PGAPPNAME=run_b "$PGC" psql -XAtqc "SELECT geoetl.run_window_pipeline('farm', '2025-01-02 12:00')" > "$OUT.b" 2>&1 &
check "a second run of the same pipeline waits for the first" waits_for_lock run_b
release
wait
check "the first run writes the morning (72 windows x 3 sensors x 2 signals)" grep -qx 432 "$OUT.a"
check "the second, once the first committed, writes nothing" grep -qx 0 "$OUT.b"
check "rows_written counts each row once" is "SELECT rows_written, watermark FROM geoetl.window_pipeline" "432|2025-01-02 12:00:00+00"
check "the target equals aggregate_window" consistent farm

# a late row inserted while a run moves the watermark past it
hold
PGAPPNAME=run_c "$PGC" psql -XAtq -c "BEGIN" -c "SELECT geoetl.run_window_pipeline('farm', '2025-01-03')" \
  -c "SELECT pg_advisory_lock_shared(1)" -c "COMMIT" > "$OUT.c" 2>&1 &
waits_for_lock run_c  # the run is done and keeps its transaction open
PGAPPNAME=late_insert "$PGC" psql -XAtqc "INSERT INTO readings VALUES ('2025-01-02 18:03:30', 2, 99)" > "$OUT.d" 2>&1 &
check "an insert behind the new watermark waits for the run to commit" waits_for_lock late_insert
release
wait
check "the run wrote the afternoon" grep -qx 432 "$OUT.c"
check "the late row is recorded for its window and sensor only" is \
  "SELECT window_start, group_key FROM geoetl.window_late" "2025-01-02 18:00:00+00|2"
check "the next run rewrites that window's two values" is "SELECT geoetl.run_window_pipeline('farm', '2025-01-03')" 2
check "and the target equals aggregate_window again" consistent farm

# a run cancelled half-way leaves nothing behind
q "CREATE TABLE big AS SELECT '2025-01-01'::timestamptz + i * interval '1 second' AS ts, (i % 7)::int AS sensor_id, i::float8 AS wind_speed FROM generate_series(1, 3000000) i;
   CREATE SCHEMA bigt;
   SELECT geoetl.create_window_pipeline('big', 'big', 'ts', '{wind_speed}', '1 minute', 'bigt', group_by => 'sensor_id')" >/dev/null
check "a run stopped by statement_timeout is an error" bash -c \
  "'$PGC' psql -XAtq -c \"SET statement_timeout = '300ms'\" -c \"SELECT geoetl.run_window_pipeline('big', '2025-02-01')\" 2>&1 | grep -q 'canceling statement due to statement timeout'"
check "... that wrote no row and kept the watermark" is \
  "SELECT (SELECT count(*) FROM bigt.data), watermark IS NULL, rows_written FROM geoetl.window_pipeline WHERE name = 'big'" "0|t|0"
check "the same run without a timeout completes" is \
  "SELECT geoetl.run_window_pipeline('big', '2025-02-01') > 0, (SELECT count(*) FROM geoetl.window_late)" "t|0"

finish
