#!/usr/bin/env bash
# geoetl.aggregate_window against PostgreSQL's own GROUP BY date_bin(...), in one run on one
# cluster, with the results compared; then the cost of a pipeline run after late data.
#
#   bench/window.sh [ROWS=10000000] [GROUP_ROWS=2000000]   (as root on Debian bookworm)
#
# 1. ROWS one-minute readings of one sensor, 3 value columns (one column with NULLs), primary key
#    on time; and GROUP_ROWS readings of 200 sensors (long format, primary key (sensor_id, ts)).
#    10-minute windows with count/mean/min/max/stddev of every column:
#    - geoetl:    SELECT ... FROM geoetl.aggregate_window(...)
#    - SQL wide:  GROUP BY date_bin(...) with count/avg/min/max/stddev per column (one row per window)
#    - SQL long:  the same, unpivoted to aggregate_window's rows (one row per window and column)
#    Each consumed by count(*) and sums of every statistic (so nothing can be skipped), best of 3
#    after a warm-up, default settings (work_mem 4 MB, parallel query on). Goal: >= 3x.
#    Then every row of aggregate_window is compared with the long SQL (1e-12 relative).
# 2. Peak memory of the backend (VmHWM above the idle backend's VmRSS), and without the shared
#    buffers it mapped (RssShmem): its private memory.
# 3. A window pipeline over the 200 sensors, written up to the end of its first day; then 1,000
#    late rows spread over 50 windows of that day: the run that rewrites them against a backfill
#    of the whole day. Then aggregate_window over the 200 sensors again, those late rows stored at
#    the end of the table.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ROWS=${1:-10000000}
GROUP_ROWS=${2:-2000000}
. bench/lib/setup.sh
bench_build
bench_cluster

echo "== data: $ROWS rows x 3 columns (one sensor), $GROUP_ROWS rows x 3 columns (200 sensors)"
psql -X -q -v ON_ERROR_STOP=1 -v rows="$ROWS" -v grows="$GROUP_ROWS" <<'SQL'
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS geoetl CASCADE;  -- this cluster's own: the installed version, fresh
CREATE EXTENSION geoetl CASCADE;
DROP TABLE IF EXISTS bench_one, bench_many CASCADE;
DROP SCHEMA IF EXISTS bench_target CASCADE;
CREATE TABLE bench_one (ts timestamptz PRIMARY KEY, wind_speed float8, power float8, temperature float8);
INSERT INTO bench_one
SELECT '2024-01-01'::timestamptz + i * interval '1 minute', 8 + 4 * sin(i / 300.0) + random(),
       1500 + 800 * sin(i / 300.0) + 50 * random(),
       CASE WHEN i % 97 = 0 THEN NULL ELSE 10 + 8 * sin(i / 1440.0) + random() END
FROM generate_series(0, :rows - 1) i;
CREATE TABLE bench_many (ts timestamptz, sensor_id int, wind_speed float8, power float8,
                         temperature float8, PRIMARY KEY (sensor_id, ts));
INSERT INTO bench_many
SELECT '2024-01-01'::timestamptz + (i / 200) * interval '1 minute', i % 200,
       8 + 4 * sin(i / 60000.0) + random(), 1500 + 50 * random(),
       CASE WHEN i % 97 = 0 THEN NULL ELSE 10 + random() END
FROM generate_series(0, :grows - 1) i;
VACUUM ANALYZE bench_one;
VACUUM ANALYZE bench_many;
\i bench/lib/window_peers.sql
\echo '== aggregate_window vs GROUP BY date_bin (best of 3, seconds)'
SELECT format('%-22s geoetl %s s   SQL wide %s s (%sx)   SQL long %s s (%sx)', label, round(g::numeric, 3),
              round(w::numeric, 3), round((w / g)::numeric, 2), round(l::numeric, 3), round((l / g)::numeric, 2)) AS result
FROM (VALUES ('one sensor', 'bench_one', NULL), ('200 sensors, group_by', 'bench_many', 'sensor_id')) AS c(label, src, grp),
LATERAL (SELECT pg_temp.best(pg_temp.q_geoetl(src, grp)) g, pg_temp.best(pg_temp.q_wide(src, grp)) w,
                pg_temp.best(pg_temp.q_long(src, grp)) l) t;
\echo '== results against the long SQL'
SELECT 'one sensor:  ' || pg_temp.compare('bench_one', NULL) AS result
UNION ALL SELECT '200 sensors: ' || pg_temp.compare('bench_many', 'sensor_id');
SQL

echo "== peak memory of one backend (VmHWM above the idle backend's VmRSS; the shared buffers it mapped"
echo "   (RssShmem, which only grows) taken out give an estimate of its private peak)"
for way in geoetl wide; do
  for src in bench_one bench_many; do
    grp=$([[ $src == bench_many ]] && echo sensor_id || echo "")
    psql -X -q -v ON_ERROR_STOP=1 -v way="$way" -v src="$src" -v grp="$grp" <<'SQL'
SELECT pg_backend_pid() AS pid \gset
\set idle `grep VmRSS /proc/:pid/status | tr -dc 0-9`
\set idle_shm `grep RssShmem /proc/:pid/status | tr -dc 0-9`
SELECT CASE :'way' WHEN 'geoetl' THEN
  format('SELECT count(*), sum(mean), sum(stddev) FROM geoetl.aggregate_window(%L, ''ts'', ''{wind_speed,power,temperature}'', ''10 minutes'', ''-infinity'', ''infinity'', group_by => %L)', :'src', nullif(:'grp', ''))
  ELSE format('SELECT count(*), sum(a + b + c), sum(d + e + f) FROM (SELECT avg(wind_speed) a, avg(power) b, avg(temperature) c, stddev(wind_speed) d, stddev(power) e, stddev(temperature) f FROM %I GROUP BY %s date_bin(''10 minutes'', ts, ''2000-01-01 00:00:00+00'')) s', :'src', CASE WHEN :'grp' = '' THEN '' ELSE :'grp' || ',' END)
  END AS q \gset
SELECT clock_timestamp() AS t0 \gset
:q \g /dev/null
\set hwm `grep VmHWM /proc/:pid/status | tr -dc 0-9`
\set shm `grep RssShmem /proc/:pid/status | tr -dc 0-9`
SELECT format('%-7s %-10s peak %4s MB above idle, of which shared buffers %4s MB: private %4s MB  (%s s)',
              :'way', :'src', (:hwm - :idle) / 1024, (:shm - :idle_shm) / 1024,
              (:hwm - :idle - (:shm - :idle_shm)) / 1024,
              round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 2)) AS result;
SQL
  done
done

echo "== incremental: 1,000 late rows over 50 windows of a day, then a run, against a backfill of the day"
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA bench_target;
SELECT geoetl.create_window_pipeline('bench', 'bench_many', 'ts', '{wind_speed,power,temperature}', '10 minutes',
                                     'bench_target', group_by => 'sensor_id') \g /dev/null
SELECT clock_timestamp() AS t0 \gset
SELECT geoetl.run_window_pipeline('bench', '2024-01-02') AS first_rows \gset
SELECT format('first run, day 1 (%s rows written): %s s', :first_rows,
              round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 3)) AS result;
-- 20 late readings (new times, 30 s past the minute) for 20 sensors in each of 50 windows
INSERT INTO bench_many
SELECT '2024-01-01'::timestamptz + w * interval '20 minutes' + (k % 10) * interval '1 minute' + interval '30 seconds',
       k * 10 % 200, 100, 100, 100
FROM generate_series(0, 49) w, generate_series(0, 19) k;
SELECT count(DISTINCT window_start) AS windows, count(*) AS window_groups FROM geoetl.window_late \gset
SELECT clock_timestamp() AS t0 \gset
SELECT geoetl.run_window_pipeline('bench', '2024-01-02') AS late_rows \gset
SELECT extract(epoch FROM clock_timestamp() - :'t0') AS late_s \gset
SELECT format('late run: %s windows (%s window-sensor pairs) recomputed, %s rows written: %s s',
              :windows, :window_groups, :late_rows, round(:late_s::numeric, 3)) AS result;
SELECT clock_timestamp() AS t0 \gset
SELECT geoetl.backfill_window_pipeline('bench', '2024-01-01', '2024-01-02') AS full_rows \gset
SELECT extract(epoch FROM clock_timestamp() - :'t0') AS full_s \gset
SELECT format('backfill of the whole day: %s rows written (nothing left to change): %s s = %sx the late run',
              :full_rows, round(:full_s::numeric, 3), round((:full_s / :late_s)::numeric, 1)) AS result;
SELECT geoetl.drop_window_pipeline('bench') \g /dev/null
DROP SCHEMA bench_target CASCADE;
SQL

echo "== the 200 sensors again, with those 1,000 late rows stored at the end of the table (their 50"
echo "   windows are read again)"
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
\i bench/lib/window_peers.sql
SELECT format('geoetl %s s   SQL wide %s s (%sx)   %s', round(g::numeric, 3), round(w::numeric, 3),
              round((w / g)::numeric, 2), pg_temp.compare('bench_many', 'sensor_id')) AS result
FROM (SELECT pg_temp.best(pg_temp.q_geoetl('bench_many', 'sensor_id')) g,
             pg_temp.best(pg_temp.q_wide('bench_many', 'sensor_id')) w) t;
SQL
