-- geoetl.aggregate_window: equal to GROUP BY date_bin(...) with count/avg/min/max/stddev, on
-- random data with NULLs, along every read path; edge cases of the window definition; bad input.
\set SHOW_CONTEXT never
\i sql/include/err.psql
SET timezone = 'UTC';

-- a and b equal within 1e-12 relative (both NULL, or both NaN, counts as equal)
CREATE FUNCTION pg_temp.close(a float8, b float8) RETURNS boolean LANGUAGE sql AS $$
  SELECT CASE WHEN a IS NULL OR b IS NULL THEN a IS NULL AND b IS NULL
              WHEN a = b THEN true
              ELSE abs(a - b) <= 1e-12 * greatest(abs(a), abs(b)) END
$$;

-- 'rows N, differing D': aggregate_window against the plain GROUP BY on the same rows
CREATE FUNCTION pg_temp.compare(src text, tcol text, cols text[], width interval,
                                f timestamptz, t timestamptz,
                                origin timestamptz DEFAULT '2000-01-01 00:00:00+00',
                                grp text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE ref text; total bigint; bad bigint;
BEGIN
  SELECT string_agg(format(
    'SELECT %s AS g, date_bin(%L, %I, %L::timestamptz) AS w, %L AS c, count(%I) AS n, avg(%I)::float8 AS mean, '
    'min(%I)::float8 AS mn, max(%I)::float8 AS mx, stddev(%I)::float8 AS sd '
    'FROM %s WHERE %I >= %L::timestamptz AND %I < %L::timestamptz GROUP BY 1, 2',
    coalesce(quote_ident(grp) || '::text', 'NULL::text'), width, tcol, origin, c, c, c, c, c, c,
    src, tcol, f, tcol, t), ' UNION ALL ') INTO ref FROM unnest(cols) c;
  EXECUTE format($q$
    WITH a AS (SELECT * FROM geoetl.aggregate_window(%L, %L, %L, %L, %L, %L, %L, %L)), r AS (%s)
    SELECT count(*), count(*) FILTER (WHERE a.n IS DISTINCT FROM r.n OR a.window_start IS NULL
        OR r.w IS NULL OR NOT pg_temp.close(a.mean, r.mean) OR NOT pg_temp.close(a.min, r.mn)
        OR NOT pg_temp.close(a.max, r.mx) OR NOT pg_temp.close(a.stddev, r.sd))
    FROM a FULL JOIN r ON coalesce(a.group_key, '<null>') = coalesce(r.g, '<null>')
                      AND a.window_start = r.w AND a.column_name = r.c$q$,
    src, tcol, cols, width, f, t, origin, grp, ref) INTO total, bad;
  RETURN format('rows %s, differing %s', total, bad);
END $$;

-- Random long-format readings, stored in random order: 6 sensors (and NULL), NULLs in every
-- column, fractional seconds, three value types.
SELECT setseed(0.42);
CREATE TABLE wr (ts timestamptz, sensor int, a float8, b int4, c numeric(12, 4), note text);
INSERT INTO wr
SELECT '2024-03-01'::timestamptz + random() * interval '3 days',
       CASE WHEN random() < 0.02 THEN NULL ELSE (random() * 5)::int END,
       CASE WHEN random() < 0.1 THEN NULL ELSE random() * 100 - 50 END,
       CASE WHEN random() < 0.1 THEN NULL ELSE (random() * 1000)::int END,
       CASE WHEN random() < 0.1 THEN NULL ELSE round((random() * 1e4)::numeric, 4) END,
       'x'
FROM generate_series(1, 20000);
INSERT INTO wr VALUES (NULL, 1, 1, 1, 1, 'no time');
ANALYZE wr;

-- One sensor every minute for two days, in time order, with a primary key.
CREATE TABLE wo (ts timestamptz PRIMARY KEY, a float8, b float8, c float8);
INSERT INTO wo
SELECT '2024-03-01'::timestamptz + i * interval '1 minute',
       10 + 5 * sin(i / 100.0) + random(),
       CASE WHEN i % 37 = 0 THEN NULL ELSE random() * 1e6 END,
       CASE WHEN i BETWEEN 600 AND 640 THEN NULL ELSE random() END
FROM generate_series(0, 2 * 1440 - 1) i;
ANALYZE wo;

-- every path gives the GROUP BY's answer
SET client_min_messages = debug1;
SELECT pg_temp.compare('wo', 'ts', '{a,b,c}', '10 minutes', '2024-03-01', '2024-03-03');
SELECT pg_temp.compare('wo', 'ts', '{a,c}', '10 minutes', '2024-03-01 05:00', '2024-03-01 06:00');
SELECT pg_temp.compare('wr', 'ts', '{a,b,c}', '15 minutes', '-infinity', 'infinity');
SELECT pg_temp.compare('wr', 'ts', '{a,b,c}', '15 minutes', '-infinity', 'infinity', grp => 'sensor');
SET max_parallel_workers_per_gather = 0;  -- the direct read in this backend (no worker)
SELECT pg_temp.compare('wr', 'ts', '{a,b,c}', '15 minutes', '-infinity', 'infinity', grp => 'sensor');
SET work_mem = '64kB';  -- too small for every window at once: read again, in time order
SELECT pg_temp.compare('wr', 'ts', '{a,b,c}', '15 minutes', '-infinity', 'infinity', grp => 'sensor');
RESET max_parallel_workers_per_gather;
SELECT pg_temp.compare('wr', 'ts', '{a,b,c}', '15 minutes', '-infinity', 'infinity', grp => 'sensor');
RESET work_mem;
-- A table stored in time order (8 sensors every 20 s for 2 days, 3 MB): parallel workers read
-- parts of it (block ranges) side by side; the windows on the parts' edges are joined. Widths
-- that cut windows at the edges, and windows longer than a part (shared by three parts). On the
-- second day the sensors come in the opposite order and some rows have no sensor (NULL), so the
-- workers number the groups differently.
CREATE TABLE wp (ts timestamptz, sensor int, a float8, b float8);
INSERT INTO wp
SELECT '2024-03-01'::timestamptz + (i / 8) * interval '20 seconds',
       CASE WHEN i < 8 * 4320 THEN i % 8 WHEN i % 101 = 0 THEN NULL ELSE 7 - i % 8 END,
       CASE WHEN i % 53 = 0 THEN NULL ELSE random() * 100 END, sin(i / 1000.0)
FROM generate_series(0, 8 * 2 * 4320 - 1) i;
SET client_min_messages = debug1;
SELECT pg_temp.compare('wp', 'ts', '{a,b}', '7 minutes', '-infinity', 'infinity', grp => 'sensor');
SET max_parallel_workers_per_gather = 4;
SELECT pg_temp.compare('wp', 'ts', '{a,b}', '7 minutes', '-infinity', 'infinity', grp => 'sensor');
SELECT pg_temp.compare('wp', 'ts', '{a,b}', '1 day', '-infinity', 'infinity',
                       origin => '2024-03-01 05:00:00+00');
SELECT pg_temp.compare('wp', 'ts', '{a}', '10 minutes', '2024-03-02 10:00', 'infinity', grp => 'sensor');
RESET max_parallel_workers_per_gather;
-- the same rows stored backwards, not analysed: the parts overlap in time, so one worker reads
-- the table instead; once analysed (correlation -1) one worker reads it at once
CREATE TABLE wback (LIKE wp) WITH (autovacuum_enabled = false);
INSERT INTO wback SELECT * FROM wp ORDER BY ts DESC, sensor;
SELECT pg_temp.compare('wback', 'ts', '{a,b}', '10 minutes', '-infinity', 'infinity', grp => 'sensor');
ANALYZE wback;
SELECT pg_temp.compare('wback', 'ts', '{a,b}', '10 minutes', '-infinity', 'infinity', grp => 'sensor');
-- late data: a few rows stored at the end of the table for windows emitted long before. Only
-- those windows are read again (by workers in parts, and in this backend); with more than 1,024
-- such windows the whole table is read in time order.
INSERT INTO wp SELECT ts + interval '3 seconds', sensor, a + 1, -b FROM wp
WHERE ts IN ('2024-03-01 01:00', '2024-03-01 13:37:20', '2024-03-02 03:00');
SET work_mem = '64kB';  -- windows are emitted while the table is read
SELECT pg_temp.compare('wp', 'ts', '{a,b}', '7 minutes', '-infinity', 'infinity', grp => 'sensor');
SET max_parallel_workers_per_gather = 0;
SELECT pg_temp.compare('wp', 'ts', '{a,b}', '7 minutes', '-infinity', 'infinity', grp => 'sensor');
RESET max_parallel_workers_per_gather;
SELECT pg_temp.compare('wr', 'ts', '{a}', '1 minute', '-infinity', 'infinity');
RESET work_mem;
DROP TABLE wp, wback;
CREATE VIEW wr_view AS SELECT ts, sensor, a, b FROM wr WHERE b > 100;
SELECT pg_temp.compare('wr_view', 'ts', '{a,b}', '1 hour', '2024-03-01', '2024-03-04', grp => 'sensor');
RESET client_min_messages;
-- only some groups (what a pipeline reads for late windows): as the same groups of the whole
CREATE FUNCTION pg_temp.only_groups() RETURNS text LANGUAGE sql AS $$
  SELECT format('rows %s, differing %s', count(*),
                count(*) FILTER (WHERE a.n IS DISTINCT FROM b.n OR NOT pg_temp.close(a.mean, b.mean)
                                 OR NOT pg_temp.close(a.stddev, b.stddev) OR a.min IS DISTINCT FROM b.min))
  FROM geoetl._aggregate_window_groups('wr', 'ts', '{a,b}', '15 minutes', '2024-03-01', '2024-03-02',
                                       '2000-01-01 00:00:00+00', 'sensor', '{1,3}') a
  FULL JOIN (SELECT * FROM geoetl.aggregate_window('wr', 'ts', '{a,b}', '15 minutes', '2024-03-01',
                                                   '2024-03-02', group_by => 'sensor')
             WHERE group_key IN ('1', '3')) b USING (group_key, window_start, column_name)
$$;
SET client_min_messages = debug1;
SELECT pg_temp.only_groups();
RESET client_min_messages;
CREATE INDEX wr_sensor_ts ON wr (sensor, ts);
ANALYZE wr;
SET client_min_messages = debug1;
SELECT pg_temp.only_groups();
RESET client_min_messages;
DROP INDEX wr_sensor_ts;
SELECT pg_temp.err($$SELECT * FROM geoetl._aggregate_window_groups('wr', 'ts', '{a}', '15 minutes', '2024-03-01', '2024-03-02', '2000-01-01', NULL, '{1}')$$);
-- an origin off the round hour, windows across it, a day-long width, a text group key
SELECT pg_temp.compare('wr', 'ts', '{a}', '7 minutes 30 seconds', '2024-03-01', '2024-03-04',
                       origin => '2024-03-02 00:03:17.25+00');
SELECT pg_temp.compare('wr', 'ts', '{a,b}', '1 day', '2024-03-01 12:00', '2024-03-03', grp => 'note');
-- timestamp without time zone (read as timestamptz in the session's time zone)
CREATE TABLE wl AS SELECT ts::timestamp AS ts, sensor, a FROM wr;
SELECT pg_temp.compare('wl', 'ts', '{a}', '30 minutes', '2024-03-01', '2024-03-04', grp => 'sensor');
-- ... read across a change to summer time (local 02:00-03:00 does not exist; 01:00 UTC is both
-- 02:15 and 03:00 local): still equal, in time order or not
SET timezone = 'Europe/Berlin';
CREATE TABLE wdst AS SELECT '2024-03-31 00:00'::timestamp + i * interval '5 minutes' AS ts, i::float8 AS v
FROM generate_series(0, 60) i;
SELECT pg_temp.compare('wdst', 'ts', '{v}', '20 minutes', '2024-03-30', '2024-04-01');
CREATE INDEX ON wdst (ts);
ANALYZE wdst;
SELECT pg_temp.compare('wdst', 'ts', '{v}', '20 minutes', '2024-03-31 00:30', '2024-03-31 02:00');
SET timezone = 'UTC';
DROP TABLE wdst;
-- row security: rows the user may not see are not counted
CREATE ROLE window_reader IN ROLE geoetl_reader;
GRANT SELECT ON wr TO window_reader;
ALTER TABLE wr ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_sensor_1 ON wr FOR SELECT TO window_reader USING (sensor = 1);
SET ROLE window_reader;
SELECT count(DISTINCT group_key) AS sensors_seen, sum(n) AS values_seen
FROM geoetl.aggregate_window('wr', 'ts', '{a}', '1 hour', '-infinity', 'infinity', group_by => 'sensor');
RESET ROLE;
SELECT sum(n) FILTER (WHERE group_key = '1') AS sensor_1_values FROM
  geoetl.aggregate_window('wr', 'ts', '{a}', '1 hour', '-infinity', 'infinity', group_by => 'sensor');
ALTER TABLE wr DISABLE ROW LEVEL SECURITY;

-- the definition's edges, one by one
CREATE TABLE we (t timestamptz, v float8, g text);
INSERT INTO we VALUES
  ('2024-01-01 00:00:00', 1, 'k'),           -- on a window start: in that window, and in from_ts
  ('2024-01-01 00:09:59.999999', 3, 'k'),
  ('2024-01-01 00:10:00', NULL, 'k'),        -- a window with rows but no values: n = 0
  ('2024-01-01 00:20:00', 5, 'k'),           -- one value: no stddev
  ('2024-01-01 00:40:00', 7, 'k'),           -- to_ts: not included
  ('1999-12-31 23:55:00', 2, NULL),          -- before the origin, NULL group
  ('-infinity', 9, NULL);                    -- its own window, as date_bin says
SELECT group_key, window_start, n, mean, min, max, stddev
FROM geoetl.aggregate_window('we', 't', '{v}', '10 minutes', '-infinity', '2024-01-01 00:40',
                             group_by => 'g')
ORDER BY window_start;
SELECT count(*) AS rows_when_from_equals_to
FROM geoetl.aggregate_window('we', 't', '{v}', '10 minutes', '2024-01-01', '2024-01-01');
SELECT count(*) AS rows_when_from_after_to
FROM geoetl.aggregate_window('we', 't', '{v}', '10 minutes', '2024-01-02', '2024-01-01');
SELECT count(*) AS rows_outside_the_data
FROM geoetl.aggregate_window('we', 't', '{v}', '10 minutes', '2030-01-01', '2030-01-02');
-- NaN and infinity as PostgreSQL's aggregates
CREATE TABLE wn (t timestamptz, v float8);
INSERT INTO wn VALUES ('2024-01-01 00:01', 1), ('2024-01-01 00:02', 'NaN'), ('2024-01-01 00:03', -2),
                      ('2024-01-01 00:11', 'Infinity'), ('2024-01-01 00:12', 3);
SELECT window_start, n, mean, min, max, stddev
FROM geoetl.aggregate_window('wn', 't', '{v}', '10 minutes', '2024-01-01', '2024-01-02') ORDER BY 1;
SELECT pg_temp.compare('wn', 't', '{v}', '10 minutes', '2024-01-01', '2024-01-02');
INSERT INTO wn VALUES ('2024-01-01 00:21', 1.5e308), ('2024-01-01 00:22', 1.5e308);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wn', 't', '{v}', '10 minutes', '2024-01-01', '2024-01-02')$$);

-- identifiers are names, never SQL
CREATE TABLE "we ird" ("x""; drop table wo; --" float8, "Time" timestamptz, "grp'" text);
INSERT INTO "we ird" VALUES (1, '2024-01-01 00:01', 'a'), (2, '2024-01-01 00:02', 'a');
SELECT group_key, column_name, n, mean FROM geoetl.aggregate_window('"we ird"', 'Time',
  ARRAY['x"; drop table wo; --'], '10 minutes', '2024-01-01', '2024-01-02', group_by => 'grp''');
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', ARRAY['a"; drop table wo; --'], '10 minutes', '2024-01-01', '2024-01-02')$$);
SELECT count(*) AS wo_still_there FROM wo;

-- bad input
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo_pkey', 'ts', '{a}', '10 minutes', '2024-01-01', '2024-01-02')$$);
CREATE SEQUENCE wseq;
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wseq', 'ts', '{a}', '10 minutes', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('no_such_table', 'ts', '{a}', '10 minutes', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'tz', '{a}', '10 minutes', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wr', 'sensor', '{a}', '10 minutes', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{a,zz}', '10 minutes', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wr', 'ts', '{a,note}', '10 minutes', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{a,a}', '10 minutes', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{}', '10 minutes', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{a,NULL}', '10 minutes', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{a}', '0 minutes', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{a}', '-10 minutes', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{a}', '1 month', '2024-01-01', '2024-01-02')$$);
-- 23 hours, as date_bin takes it
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{a}', '1 day -1 hour', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{a}', '10 minutes', '2024-01-01', '2024-01-02', origin => 'infinity')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wr', 'ts', '{a}', '10 minutes', '2024-01-01', '2024-01-02', group_by => 'sensor_id')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window(NULL, 'ts', '{a}', '10 minutes', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', NULL, '{a}', '10 minutes', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', NULL, '10 minutes', '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{a}', NULL, '2024-01-01', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{a}', '10 minutes', NULL, '2024-01-02')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{a}', '10 minutes', '2024-01-01', NULL)$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{a}', '10 minutes', '2024-01-01', '2024-01-02', origin => NULL)$$);
-- privileges are the table's: no SELECT, no rows
SET ROLE window_reader;
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{a}', '10 minutes', '2024-01-01', '2024-01-02')$$);
RESET ROLE;
GRANT SELECT (ts, a) ON wo TO window_reader;  -- column privileges are enough for those columns
SET ROLE window_reader;
SELECT sum(n) AS a_values FROM geoetl.aggregate_window('wo', 'ts', '{a}', '1 day', '2024-03-01', '2024-03-05');
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('wo', 'ts', '{a,b}', '10 minutes', '2024-01-01', '2024-01-02')$$);
RESET ROLE;
-- a temporary table of more than 1 MB (no parallel worker can read it)
CREATE TEMP TABLE wtemp AS SELECT '2024-01-01'::timestamptz + i * interval '1 second' AS ts, i::float8 AS v
FROM generate_series(1, 100000) i;
SELECT count(*), sum(n) FROM geoetl.aggregate_window('wtemp', 'ts', '{v}', '1 hour', '-infinity', 'infinity');
-- numeric values beyond double's range are +-Infinity, those too small for it 0: precision is
-- lost, the call is not (and no 400-digit value appears anywhere)
CREATE TABLE wbignum (ts timestamptz, v numeric);
INSERT INTO wbignum VALUES ('2024-01-01 00:00+00', 1e400), ('2024-01-01 00:01+00', 2),
  ('2024-01-01 00:10+00', 1e-400), ('2024-01-01 00:11+00', -1e-400), ('2024-01-01 00:12+00', 3),
  ('2024-01-01 00:20+00', -1e400), ('2024-01-01 00:30+00', 'Infinity'), ('2024-01-01 00:31+00', 1);
SELECT window_start, n, mean, min, max, stddev
  FROM geoetl.aggregate_window('wbignum', 'ts', '{v}', '10 minutes', '-infinity', 'infinity') ORDER BY 1;
-- the same as PostgreSQL's float8 aggregates over the values as doubles
SELECT date_bin('10 minutes', ts, '2000-01-01') AS window_start, count(d), avg(d), min(d), max(d), stddev(d)
  FROM (SELECT ts, CASE WHEN v > 1e308 THEN 'Infinity' WHEN v < -1e308 THEN '-Infinity'
                        WHEN abs(v) < 1e-308 THEN sign(v)::float8 * 0 ELSE v::float8 END AS d FROM wbignum) s
 GROUP BY 1 ORDER BY 1;
DROP TABLE wbignum;
-- an error in the parallel worker reaches the caller
CREATE TABLE wover AS SELECT '2024-01-01'::timestamptz + i * interval '1 second' AS ts, 1.5e308::float8 AS v
FROM generate_series(1, 100000) i;
SELECT pg_temp.err($$SELECT count(*) FROM geoetl.aggregate_window('wover', 'ts', '{v}', '1 hour', '-infinity', 'infinity')$$);
DROP TABLE wtemp, wover;
-- a cancelled query stops the scan (in the worker, or here)
CREATE TABLE wbig AS SELECT '2024-01-01'::timestamptz + i * interval '1 second' AS ts, i::float8 AS v
FROM generate_series(1, 2000000) i;
SET statement_timeout = '20ms';
SELECT pg_temp.err($$SELECT count(*) FROM geoetl.aggregate_window('wbig', 'ts', '{v}', '1 minute', '-infinity', 'infinity')$$);
RESET statement_timeout;

DROP TABLE wr, wo, wl, we, wn, "we ird", wbig CASCADE;
DROP SEQUENCE wseq;
DROP OWNED BY window_reader;
DROP ROLE window_reader;
