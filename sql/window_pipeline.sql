-- Window pipelines: runs, watermark, late inserts/updates/deletes per window and group,
-- backfill, truncate, the job kind, the status view, ownership and bad input.
\set SHOW_CONTEXT never
\i sql/include/err.psql
SET timezone = 'UTC';

-- 'N windows, M differ': the target against aggregate_window over [from_ts, to_ts)
CREATE FUNCTION pg_temp.check_target(pipeline text, from_ts timestamptz, to_ts timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE p geoetl.window_pipeline; g text; total bigint; bad bigint;
BEGIN
  SELECT * INTO p FROM geoetl.window_pipeline WHERE name = pipeline;
  g := CASE WHEN p.group_by IS NULL THEN 'NULL::text' ELSE format('format(''%%s'', d.%I)', p.group_by) END;
  EXECUTE format($q$
    WITH want AS (
      SELECT a.group_key, a.window_start, s.name,
             CASE s.aggregate WHEN 'mean' THEN a.mean WHEN 'min' THEN a.min WHEN 'max' THEN a.max
                              WHEN 'std' THEN a.stddev ELSE a.n END AS value
      FROM geoetl.aggregate_window($1, $2, $3, $4, $5, $6, $7, $8) a
      JOIN geoetl._window_signals($3, $9) s ON s.column_name = a.column_name
      WHERE $8 IS NULL OR a.group_key IS NOT NULL),
    have AS (SELECT %2$s AS group_key, d."timestamp" AS window_start, t.name, d.value
             FROM %1$I.data d JOIN %1$I.signal t ON t.id = d.signal_id
             WHERE d."timestamp" >= $5 AND d."timestamp" < $6
               AND t.name IN (SELECT name FROM geoetl._window_signals($3, $9)))
    SELECT count(*) FILTER (WHERE want.value IS NOT NULL),
           count(*) FILTER (WHERE want.value IS DISTINCT FROM have.value AND NOT coalesce(
                            abs(want.value - have.value) <= 1e-12 * greatest(abs(want.value), abs(have.value)), false))
    FROM (SELECT * FROM want WHERE value IS NOT NULL) want
    FULL JOIN have ON coalesce(want.group_key, '') = coalesce(have.group_key, '')
                  AND want.window_start = have.window_start AND want.name = have.name$q$,
    p.target_schema, g)
  INTO total, bad
  USING p.source, p.time_column, p.value_columns, p.width, from_ts, to_ts, p.origin, p.group_by, p.aggregates;
  RETURN format('%s values, %s differ', total, bad);
END $$;

-- one turbine, one day of 1-minute readings; two turbines in long format
CREATE TABLE turbine (ts timestamptz PRIMARY KEY, wind_speed float8, power float8);
INSERT INTO turbine
SELECT '2025-01-02'::timestamptz + i * interval '1 minute', 8 + 3 * sin(i / 90.0),
       CASE WHEN i % 50 = 7 THEN NULL ELSE 1500 + 700 * sin(i / 90.0) END
FROM generate_series(0, 1439) i;
CREATE TABLE farm (ts timestamptz, sensor_id int, wind_speed float8, PRIMARY KEY (sensor_id, ts));
INSERT INTO farm
SELECT '2025-01-02'::timestamptz + i * interval '1 minute', s, s + (i % 17) / 3.0
FROM generate_series(0, 1439) i, generate_series(1, 3) s;
CREATE SCHEMA wind;
CREATE SCHEMA wind_farm;

SELECT geoetl.create_window_pipeline('turbine', 'turbine', 'ts', '{wind_speed,power}', '10 minutes', 'wind');
SELECT name FROM wind.signal ORDER BY id;
\d wind.data
SELECT geoetl.create_window_pipeline('farm', 'farm', 'ts', '{wind_speed}', '10 minutes', 'wind_farm',
                                     '{mean,max,count}', group_by => 'sensor_id', lateness => '20 minutes');
\d wind_farm.data
SELECT name, watermark, pending_late_windows, last_run_rows FROM geoetl.window_pipeline_status ORDER BY name;

-- first runs: every complete window; the second run writes nothing
SELECT geoetl.run_window_pipeline('turbine', until => '2025-01-02 12:05');
SELECT geoetl.run_window_pipeline('turbine', until => '2025-01-02 12:05') AS second_run;
SELECT name, watermark, source_newest, lag, last_run_rows, rows_written
FROM geoetl.window_pipeline_status WHERE name = 'turbine';
SELECT pg_temp.check_target('turbine', '-infinity', '2025-01-02 12:00');
SELECT count(*) AS rows_after_watermark FROM wind.data WHERE "timestamp" >= '2025-01-02 12:00';
SELECT s.name, d."timestamp", round(d.value::numeric, 6) AS value
FROM wind.data d JOIN wind.signal s ON s.id = d.signal_id
WHERE d."timestamp" < '2025-01-02 00:20' ORDER BY 2, 1;
-- lateness holds back the windows that may still get data
SELECT geoetl.run_window_pipeline('farm', until => '2025-01-02 12:05');
SELECT watermark FROM geoetl.window_pipeline WHERE name = 'farm';
SELECT pg_temp.check_target('farm', '-infinity', '2025-01-02 11:40');

-- late data behind the watermark: only the windows (and groups) it touched are recomputed
INSERT INTO farm VALUES ('2025-01-02 01:03:30', 2, 100), ('2025-01-02 01:04:30', 2, 101),
                        ('2025-01-02 05:55:30', 3, -5),
                        ('2025-01-02 23:00:30', 1, 7);  -- after the watermark: not late
SELECT window_start, group_key FROM geoetl.window_late WHERE pipeline = 'farm' ORDER BY 1, 2;
SELECT pending_late_windows FROM geoetl.window_pipeline_status WHERE name = 'farm';
SELECT geoetl.run_window_pipeline('farm', until => '2025-01-02 12:05') AS rewritten;
SELECT last_run_late_windows, pending_late_windows FROM geoetl.window_pipeline_status WHERE name = 'farm';
SELECT pg_temp.check_target('farm', '-infinity', '2025-01-02 11:40');
-- updates and deletes behind the watermark, one window emptied completely
UPDATE turbine SET power = power + 1 WHERE ts = '2025-01-02 03:00';
DELETE FROM turbine WHERE ts >= '2025-01-02 04:00' AND ts < '2025-01-02 04:10';
UPDATE turbine SET wind_speed = NULL, power = NULL WHERE ts >= '2025-01-02 05:00' AND ts < '2025-01-02 05:10';
SELECT window_start FROM geoetl.window_late WHERE pipeline = 'turbine' ORDER BY 1;
SELECT geoetl.run_window_pipeline('turbine', until => '2025-01-02 12:05') AS rewritten;
SELECT count(*) AS rows_left_in_emptied_windows FROM wind.data
WHERE "timestamp" IN ('2025-01-02 04:00', '2025-01-02 05:00');
SELECT pg_temp.check_target('turbine', '-infinity', '2025-01-02 12:00');
-- an update that moves a row to another window re-opens both
UPDATE turbine SET ts = '2025-01-02 06:15:30' WHERE ts = '2025-01-02 02:00';
SELECT window_start FROM geoetl.window_late WHERE pipeline = 'turbine' ORDER BY 1;
SELECT geoetl.run_window_pipeline('turbine', until => '2025-01-02 12:05') > 0 AS rewritten;
SELECT pg_temp.check_target('turbine', '-infinity', '2025-01-02 12:00');

-- the rest of the day, then a backfill of the whole day that finds nothing to change,
-- then one that repairs a value changed behind the pipeline's back
SELECT geoetl.run_window_pipeline('turbine', until => '2025-01-03');
SELECT geoetl.backfill_window_pipeline('turbine', '2025-01-02', '2025-01-03') AS backfill_unchanged;
UPDATE wind.data SET value = -1 WHERE "timestamp" = '2025-01-02 07:00'
  AND signal_id = (SELECT id FROM wind.signal WHERE name = 'power_max');
DELETE FROM wind.data WHERE "timestamp" = '2025-01-02 08:00';
SELECT geoetl.backfill_window_pipeline('turbine', '2025-01-02', '2025-01-03') AS backfill_repaired;
SELECT pg_temp.check_target('turbine', '-infinity', 'infinity');

-- a backfill over part of a window rewrites the whole window
UPDATE wind.data SET value = -1 WHERE "timestamp" = '2025-01-02 09:20';
SELECT geoetl.backfill_window_pipeline('turbine', '2025-01-02 09:05', '2025-01-02 09:25') AS backfill_partial_range;
SELECT pg_temp.check_target('turbine', '-infinity', 'infinity');

-- through the queue
SELECT geoetl.enqueue('window_pipeline', '{"name": "farm", "until": "2025-01-03T00:20:00Z"}') AS job \gset
CALL geoetl.run_jobs();
SELECT state, result FROM geoetl.job WHERE job_id = :job;
SELECT watermark FROM geoetl.window_pipeline WHERE name = 'farm';
SELECT pg_temp.err($$SELECT geoetl._job_window_pipeline('{"name": "farm", "untill": "2025-01-03"}')$$);
SELECT pg_temp.err($$SELECT geoetl._job_window_pipeline('{}')$$);

-- a truncated source empties the target
TRUNCATE turbine;
SELECT geoetl.run_window_pipeline('turbine', until => '2025-01-03') AS rows_removed;
SELECT count(*) AS rows_left, (SELECT watermark FROM geoetl.window_pipeline WHERE name = 'turbine') AS watermark
FROM wind.data;

-- timestamp without time zone, and a float group key, changed from a session with other settings
CREATE TABLE local_readings (t timestamp, probe float8, v float8);
INSERT INTO local_readings SELECT '2025-01-02'::timestamp + i * interval '1 minute', 0.1 * (i % 2), i
FROM generate_series(0, 59) i;
CREATE SCHEMA local_target;
SELECT geoetl.create_window_pipeline('local', 'local_readings', 't', '{v}', '30 minutes', 'local_target',
                                     '{count,max}', group_by => 'probe');
SET timezone = 'America/New_York';
SELECT geoetl.run_window_pipeline('local', until => '2025-01-02 01:00+00') AS rows_written;
SET extra_float_digits = 3;
SET datestyle = 'German';
INSERT INTO local_readings VALUES ('2025-01-02 00:10:30', 0.1, 1000);
SELECT window_start AT TIME ZONE 'UTC' AS window_start_utc, group_key FROM geoetl.window_late WHERE pipeline = 'local';
SELECT geoetl.run_window_pipeline('local', until => '2025-01-02 01:00+00') AS rewritten;
RESET extra_float_digits;
RESET datestyle;
SET timezone = 'UTC';
SELECT d."timestamp", d.probe, s.name, d.value FROM local_target.data d JOIN local_target.signal s ON s.id = d.signal_id
ORDER BY 1, 2, 3;
SELECT geoetl.drop_window_pipeline('local');
DROP TABLE local_readings;
DROP SCHEMA local_target CASCADE;

-- boolean and char(n) group keys: late windows find their groups (direct read and index read)
CREATE TABLE flags (ts timestamptz, ok boolean, code char(4), v float8);
INSERT INTO flags SELECT '2025-01-02'::timestamptz + i * interval '1 minute', i % 3 = 0,
                         CASE WHEN i % 2 = 0 THEN 'AB' ELSE 'CDEF' END, i
FROM generate_series(0, 119) i;
CREATE SCHEMA flag_ok;
CREATE SCHEMA flag_code;
SELECT geoetl.create_window_pipeline('flag_ok', 'flags', 'ts', '{v}', '30 minutes', 'flag_ok', '{count,max}', group_by => 'ok');
SELECT geoetl.create_window_pipeline('flag_code', 'flags', 'ts', '{v}', '30 minutes', 'flag_code', '{count,max}', group_by => 'code');
SELECT geoetl.run_window_pipeline('flag_ok', '2025-01-02 02:00') AS ok_rows, geoetl.run_window_pipeline('flag_code', '2025-01-02 02:00') AS code_rows;
INSERT INTO flags VALUES ('2025-01-02 00:31:30', true, 'AB', 500);
SELECT pipeline, window_start, group_key FROM geoetl.window_late WHERE pipeline LIKE 'flag%' ORDER BY 1;
SELECT geoetl.run_window_pipeline('flag_ok', '2025-01-02 02:00') AS ok_rewritten,
       geoetl.run_window_pipeline('flag_code', '2025-01-02 02:00') AS code_rewritten;
SELECT pg_temp.check_target('flag_ok', '-infinity', '2025-01-02 02:00') AS flag_ok,
       pg_temp.check_target('flag_code', '-infinity', '2025-01-02 02:00') AS flag_code;
CREATE INDEX flags_code_ts ON flags (code, ts);
ANALYZE flags;
DELETE FROM flags WHERE ts = '2025-01-02 01:02';
SELECT geoetl.run_window_pipeline('flag_code', '2025-01-02 02:00') AS code_rewritten_by_index;
SELECT pg_temp.check_target('flag_code', '-infinity', '2025-01-02 02:00') AS flag_code;
SELECT geoetl.drop_window_pipeline('flag_ok'), geoetl.drop_window_pipeline('flag_code');
DROP TABLE flags;
DROP SCHEMA flag_ok, flag_code CASCADE;

-- changes after a backfill made before any run are tracked too
CREATE TABLE early (ts timestamptz, v float8);
INSERT INTO early SELECT '2025-01-02'::timestamptz + i * interval '1 minute', i FROM generate_series(0, 59) i;
CREATE SCHEMA early_target;
SELECT geoetl.create_window_pipeline('early', 'early', 'ts', '{v}', '10 minutes', 'early_target', '{count}');
SELECT geoetl.backfill_window_pipeline('early', '2025-01-02', '2025-01-02 01:00') AS backfilled;
DELETE FROM early WHERE ts < '2025-01-02 00:10';
SELECT window_start FROM geoetl.window_late WHERE pipeline = 'early';
SELECT geoetl.run_window_pipeline('early', '2025-01-02 00:30') AS rewritten;
SELECT pg_temp.check_target('early', '-infinity', '2025-01-02 01:00');
SELECT geoetl.drop_window_pipeline('early');
DROP TABLE early;
DROP SCHEMA early_target CASCADE;

-- owners: another writer sees the pipeline but cannot run or drop it, nor change what it reads,
-- nor turn the trigger function against it from a table of its own
CREATE ROLE window_writer IN ROLE geoetl_writer;
CREATE SCHEMA writer_space AUTHORIZATION window_writer;
SET ROLE window_writer;
SELECT count(*) AS pipelines_seen FROM geoetl.window_pipeline_status;
SELECT pg_temp.err($$SELECT geoetl.run_window_pipeline('farm')$$);
SELECT pg_temp.err($$SELECT geoetl.drop_window_pipeline('farm')$$);
SELECT pg_temp.err($$UPDATE geoetl.window_pipeline SET watermark = NULL$$);
SELECT pg_temp.err($$UPDATE geoetl.window_pipeline SET time_column = 'sensor_id'$$);
CREATE TABLE writer_space.decoy (ts timestamptz, sensor_id int, wind_speed float8);
CREATE TRIGGER geoetl_window_farm_insert AFTER INSERT ON writer_space.decoy REFERENCING NEW TABLE AS geoetl_new
  FOR EACH STATEMENT EXECUTE FUNCTION geoetl._window_mark_late('farm');
CREATE TRIGGER geoetl_window_farm_truncate AFTER TRUNCATE ON writer_space.decoy
  FOR EACH STATEMENT EXECUTE FUNCTION geoetl._window_mark_late('farm');
SELECT pg_temp.err($$INSERT INTO writer_space.decoy VALUES ('2025-01-02 00:00:30', 1, 1)$$);
SELECT pg_temp.err($$TRUNCATE writer_space.decoy$$);
RESET ROLE;
SELECT watermark IS NOT NULL AS farm_watermark_kept, NOT truncated AS farm_not_truncated,
       (SELECT count(*) FROM geoetl.window_late WHERE pipeline = 'farm') AS farm_late_windows
FROM geoetl.window_pipeline WHERE name = 'farm';
DROP SCHEMA writer_space CASCADE;

-- bad input
CREATE VIEW farm_view AS SELECT * FROM farm;
CREATE TABLE weird ("Time" timestamptz, "x""; drop table farm; --" float8);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm_view', 'ts', '{wind_speed}', '10 minutes', 'wind')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm_pkey', 'ts', '{wind_speed}', '10 minutes', 'wind')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm', 'ts', '{gust}', '10 minutes', 'wind')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm', 'ts', '{ts}', '10 minutes', 'wind')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm', 'ts', '{wind_speed}', '1 mon', 'wind')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm', 'ts', '{wind_speed}', '0', 'wind')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm', 'ts', '{wind_speed}', '10 minutes', 'no_schema')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm', 'ts', '{wind_speed}', '10 minutes', 'wind', group_by => 'turbine_id')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm', 'ts', '{wind_speed}', '10 minutes', 'wind', '{mean,median}')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm', 'ts', '{wind_speed}', '10 minutes', 'wind', '{}')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm', 'ts', '{wind_speed}', '10 minutes', 'wind', '{mean,mean}')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm', 'ts', '{wind_speed}', '10 minutes', 'wind', lateness => '-1 minute')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('farm', 'farm', 'ts', '{wind_speed}', '10 minutes', 'wind')$$);
CREATE TABLE parted (ts timestamptz, v float8) PARTITION BY RANGE (ts);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'parted', 'ts', '{v}', '10 minutes', 'wind')$$);
DROP TABLE parted;
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('Farm; drop', 'farm', 'ts', '{wind_speed}', '10 minutes', 'wind')$$);
-- a grouped pipeline into the ungrouped target, and a signal another pipeline writes
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm', 'ts', '{wind_speed}', '10 minutes', 'wind', group_by => 'sensor_id')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm', 'ts', '{wind_speed}', '10 minutes', 'wind')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline(NULL, 'farm', 'ts', '{wind_speed}', '10 minutes', 'wind')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('v', 'farm', 'ts', '{wind_speed}', NULL, 'wind')$$);
SELECT count(*) AS pipelines_after_bad_input FROM geoetl.window_pipeline;
-- an injection attempt is just a column name
SELECT geoetl.create_window_pipeline('weird', 'weird', 'Time', ARRAY['x"; drop table farm; --'], '1 hour',
                                     'wind', '{max}');
INSERT INTO weird VALUES ('2025-01-01 00:10', 3), ('2025-01-01 00:20', 4);
SELECT geoetl.run_window_pipeline('weird', until => '2025-01-02');
SELECT s.name, d.value FROM wind.data d JOIN wind.signal s ON s.id = d.signal_id WHERE s.name LIKE 'x%';
SELECT count(*) AS farm_rows FROM farm;
-- runs
SELECT pg_temp.err($$SELECT geoetl.run_window_pipeline('nope')$$);
SELECT pg_temp.err($$SELECT geoetl.run_window_pipeline(NULL)$$);
SELECT pg_temp.err($$SELECT geoetl.run_window_pipeline('farm', NULL)$$);
SELECT pg_temp.err($$SELECT geoetl.backfill_window_pipeline('farm', '2025-01-03', '2025-01-02')$$);
SELECT pg_temp.err($$SELECT geoetl.backfill_window_pipeline('farm', NULL, '2025-01-02')$$);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.err($$SELECT geoetl.run_window_pipeline('farm')$$);
ROLLBACK;
DROP TABLE weird;
SELECT pg_temp.err($$SELECT geoetl.run_window_pipeline('weird')$$);
-- the status keeps what the last run saw: it never reads a user's table itself
SELECT name, source_newest, lag FROM geoetl.window_pipeline_status WHERE name = 'weird';

-- dropping a pipeline removes its triggers and keeps the target
SELECT geoetl.drop_window_pipeline('weird');
SELECT geoetl.drop_window_pipeline('farm');
SELECT count(*) AS farm_triggers FROM pg_trigger WHERE tgrelid = 'farm'::regclass;
SELECT count(*) > 0 AS target_kept FROM wind_farm.data;

SELECT geoetl.drop_window_pipeline('turbine');
TRUNCATE geoetl.job RESTART IDENTITY;
DROP TABLE turbine, farm CASCADE;
DROP SCHEMA wind, wind_farm CASCADE;
DROP ROLE window_writer;
