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
#    of the whole day.
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
-- the three ways, each consumed the same way
CREATE FUNCTION pg_temp.q_geoetl(src text, grp text) RETURNS text LANGUAGE sql AS $$
  SELECT format('SELECT count(*), sum(n), sum(mean), sum(min), sum(max), sum(stddev) FROM '
                'geoetl.aggregate_window(%L, ''ts'', ''{wind_speed,power,temperature}'', ''10 minutes'', '
                '''-infinity'', ''infinity'', group_by => %L)', src, grp) $$;
CREATE FUNCTION pg_temp.stats(c text) RETURNS text LANGUAGE sql AS $$
  SELECT format('count(%1$s) n_%1$s, avg(%1$s) mean_%1$s, min(%1$s) min_%1$s, max(%1$s) max_%1$s, stddev(%1$s) sd_%1$s', c) $$;
CREATE FUNCTION pg_temp.grouped(src text, grp text) RETURNS text LANGUAGE sql AS $$
  SELECT format('SELECT %s AS g, date_bin(''10 minutes'', ts, ''2000-01-01 00:00:00+00'') AS w, %s, %s, %s '
                'FROM %s GROUP BY 1, 2', coalesce(grp || '::text', 'NULL::text'),
                pg_temp.stats('wind_speed'), pg_temp.stats('power'), pg_temp.stats('temperature'), src) $$;
CREATE FUNCTION pg_temp.q_wide(src text, grp text) RETURNS text LANGUAGE sql AS $$
  SELECT format('SELECT count(*), sum(n_wind_speed + n_power + n_temperature), '
                'sum(mean_wind_speed + mean_power + mean_temperature), sum(min_wind_speed + min_power + min_temperature), '
                'sum(max_wind_speed + max_power + max_temperature), sum(sd_wind_speed + sd_power + sd_temperature) '
                'FROM (%s) s', pg_temp.grouped(src, grp)) $$;
CREATE FUNCTION pg_temp.long(src text, grp text) RETURNS text LANGUAGE sql AS $$
  SELECT format('SELECT s.g AS group_key, s.w AS window_start, c.* FROM (%s) s CROSS JOIN LATERAL (VALUES '
                '(''wind_speed'', n_wind_speed, mean_wind_speed, min_wind_speed, max_wind_speed, sd_wind_speed), '
                '(''power'', n_power, mean_power, min_power, max_power, sd_power), '
                '(''temperature'', n_temperature, mean_temperature, min_temperature, max_temperature, sd_temperature)) '
                'AS c(column_name, n, mean, min, max, stddev)', pg_temp.grouped(src, grp)) $$;
CREATE FUNCTION pg_temp.q_long(src text, grp text) RETURNS text LANGUAGE sql AS $$
  SELECT format('SELECT count(*), sum(n), sum(mean), sum(min), sum(max), sum(stddev) FROM (%s) l',
                pg_temp.long(src, grp)) $$;
-- best of 3 after a warm-up, in seconds
CREATE FUNCTION pg_temp.best(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; best float8 := 'Infinity'; i int;
BEGIN
  FOR i IN 0..3 LOOP
    t0 := clock_timestamp();
    EXECUTE q;
    IF i > 0 THEN best := least(best, extract(epoch FROM clock_timestamp() - t0)); END IF;
  END LOOP;
  RETURN best;
END $$;
CREATE FUNCTION pg_temp.compare(src text, grp text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE total bigint; bad bigint;
BEGIN
  EXECUTE format($q$
    WITH a AS (SELECT * FROM geoetl.aggregate_window(%L, 'ts', '{wind_speed,power,temperature}', '10 minutes',
                                                     '-infinity', 'infinity', group_by => %L)),
         r AS (%s)
    SELECT count(*), count(*) FILTER (WHERE a.n IS DISTINCT FROM r.n
      OR a.mean IS DISTINCT FROM r.mean AND NOT coalesce(abs(a.mean - r.mean) <= 1e-12 * greatest(abs(a.mean), abs(r.mean)), false)
      OR a.min IS DISTINCT FROM r.min OR a.max IS DISTINCT FROM r.max
      OR a.stddev IS DISTINCT FROM r.stddev AND NOT coalesce(abs(a.stddev - r.stddev) <= 1e-12 * greatest(abs(a.stddev), abs(r.stddev)), false))
    FROM a FULL JOIN r ON coalesce(a.group_key, '') = coalesce(r.group_key, '')
                      AND a.window_start = r.window_start AND a.column_name = r.column_name$q$,
    src, grp, pg_temp.long(src, grp)) INTO total, bad;
  RETURN format('%s rows compared, %s differ (1e-12 relative)', total, bad);
END $$;
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
