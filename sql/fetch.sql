-- Black Marble from LAADS DAAC into the store, through the queue, against the test HTTP server
-- (scripts/check.sh lays February 2024 out as LAADS does, with h22v08 missing on Feb 1, and
-- serves it under /bearer/, which wants the token "t0ken" in an Authorization header).
\set SHOW_CONTEXT never
\i sql/include/err.psql
\i sql/include/write_file.psql
\getenv http GEOETL_HTTP
\getenv fixtures GEOETL_FIXTURES
SELECT set_config('geoetl_test.http', :'http', false) IS NOT NULL AS ready,
       set_config('geoetl_test.fixtures', :'fixtures', false) IS NOT NULL AS ready2;
CREATE FUNCTION pg_temp.e(stmt text) RETURNS text LANGUAGE sql AS $$
  SELECT replace(replace(pg_temp.err(stmt), current_setting('geoetl_test.http'), 'http://<server>'),
                 current_setting('geoetl_test.fixtures'), '<fixtures>')
$$;
SELECT set_config('geoetl.laads_url', :'http' || '/bearer/laads', false) IS NOT NULL AS laads_url;
SELECT geoetl.set_secret('laads_token', 't0ken');
SELECT set_config('geoetl.store', :'fixtures' || '/store', false) IS NOT NULL AS store;
SELECT geoetl.add_area('fetched', '{"type":"Polygon","coordinates":[[[38,1],[42,1],[42,4],[38,4],[38,1]]]}') AS area \gset

-- bad input
SELECT pg_temp.e($$SELECT geoetl.fetch_blackmarble(NULL, 1, '2024-02-01', '2024-02-01')$$);
SELECT pg_temp.e($$SELECT geoetl.fetch_blackmarble('VNP46A1', 1, '2024-02-01', '2024-02-01')$$);
SELECT pg_temp.e(format('SELECT geoetl.fetch_blackmarble(%L, %s, %L, %L)', 'VNP46A2', :area, '2024-02-10', '2024-02-01'));
SELECT pg_temp.e($$SELECT geoetl.fetch_blackmarble('VNP46A2', -1, '2024-02-01', '2024-02-01')$$);

-- February for an area on two tiles: 29 days x 2 tiles
SELECT geoetl.fetch_blackmarble('VNP46A2', :area, '2024-02-01', '2024-02-29') AS jobs;
SELECT geoetl.fetch_blackmarble('VNP46A2', :area, '2024-02-01', '2024-02-29') AS same_jobs_again;
SELECT count(*) AS pending_fetches FROM geoetl.job WHERE kind = 'fetch_blackmarble' AND state = 'pending';
CALL geoetl.run_jobs(max_jobs => 100);
SELECT kind, state, count(*) FROM geoetl.job WHERE kind IN ('fetch_blackmarble', 'nightlight_month', 'save_composite')
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT state, count(*), count(DISTINCT sha256) AS hashes, sum(bytes) > 0 AS has_bytes
  FROM geoetl.granule_fetch GROUP BY state ORDER BY state;
SELECT date, tile_h, tile_v, detail FROM geoetl.granule_fetch WHERE state = 'missing';
-- every fetched file is in the store, whole, and registered from there
SELECT count(*) AS in_store, bool_and(s.size = g.bytes) AS sizes_agree
  FROM geoetl.granule_fetch g JOIN geoetl.store_list('blackmarble/VNP46A2/') s ON s.uri = g.uri;
SELECT count(*) AS registered FROM geoetl.raster r JOIN geoetl.granule_fetch g ON g.uri = r.uri;
-- the month was complete (fetched or missing): its metrics followed by themselves
SELECT to_char(month, 'YYYY-MM') AS month, days_with_data, tiles_used, sum_of_lights > 0 AS lights
  FROM geoetl.nightlight_monthly WHERE area_id = :area;
SELECT state, result->>'rows_changed' AS rows_changed FROM geoetl.job WHERE kind = 'nightlight_month';
-- ... and the month's composites of its tiles, for the map
SELECT c.tile, cardinality(c.files_used) AS nights, j.result->'written' AS written
  FROM geoetl.job j JOIN geoetl.composite c ON c.uri = j.result->>'uri'
 WHERE j.kind = 'save_composite' ORDER BY c.tile;

-- again: nothing is downloaded twice (keyed on product, day and tile)
SELECT geoetl.fetch_blackmarble('VNP46A2', :area, '2024-02-01', '2024-02-03') AS jobs;
CALL geoetl.run_jobs();
SELECT result->>'state' AS outcome, count(*) FROM geoetl.job
 WHERE kind = 'fetch_blackmarble' AND job_id > (SELECT max(job_id) - 6 FROM geoetl.job WHERE kind = 'fetch_blackmarble')
 GROUP BY 1;

-- a server that fails twice per request: the retries recover
TRUNCATE geoetl.granule_fetch;
SELECT set_config('geoetl.laads_url', :'http' || '/flaky/2/bearer/laads', false) IS NOT NULL AS laads_url;
SELECT geoetl.enqueue('fetch_blackmarble', '{"product": "VNP46A2", "date": "2024-02-05", "tile": "h21v08"}', max_attempts => 1) AS flaky \gset
CALL geoetl.run_jobs();
SELECT state, result->>'state' AS outcome FROM geoetl.job WHERE job_id = :flaky;

-- a body cut short, an answer slower than the timeout, a 404 for the file: the job fails after
-- its retries, and nothing lands in the store or the catalog
SET geoetl.http_timeout = 1;
CREATE FUNCTION pg_temp.fault(f text, day date) RETURNS bigint LANGUAGE sql AS $$
  SELECT set_config('geoetl.laads_url', format('%s/h5faults/%s/bearer/laads', current_setting('geoetl_test.http'), f), false);
  SELECT geoetl.enqueue('fetch_blackmarble', jsonb_build_object('product', 'VNP46A2', 'date', day, 'tile', 'h21v08'),
                        max_attempts => 1);
$$;
CREATE FUNCTION pg_temp.outcome(job bigint) RETURNS TABLE (state geoetl.job_state, sqlstate text, message text, detail text,
                                                            staged bigint, recorded bigint)
LANGUAGE sql AS $$
  SELECT j.state, j.errors->0->>'sqlstate',
         regexp_replace(j.errors->0->>'message', 'http://[^"]*/', 'http://<server>/.../'),
         regexp_replace(j.errors->0->>'detail', '[0-9]+ (milliseconds|ms|bytes)', 'N \1', 'g'),
         (SELECT count(*) FROM pg_ls_dir(current_setting('geoetl_test.fixtures') || '/store/.staging')),
         (SELECT count(*) FROM geoetl.granule_fetch g WHERE g.date = (j.args->>'date')::date)
    FROM geoetl.job j WHERE j.job_id = job
$$;
SELECT pg_temp.fault('truncated', '2024-02-10') AS cut \gset
CALL geoetl.run_jobs();
SELECT * FROM pg_temp.outcome(:cut);
SELECT pg_temp.fault('slow-3', '2024-02-11') AS slow \gset
CALL geoetl.run_jobs();
SELECT * FROM pg_temp.outcome(:slow);
SELECT pg_temp.fault('status-404', '2024-02-12') AS gone \gset
CALL geoetl.run_jobs();
SELECT * FROM pg_temp.outcome(:gone);
RESET geoetl.http_timeout;
SELECT set_config('geoetl.laads_url', :'http' || '/bearer/laads', false) IS NOT NULL AS laads_url;

-- a wrong token: the job fails, saying so, and nothing is recorded
SELECT set_config('geoetl.laads_url', :'http' || '/bearer/laads', false) IS NOT NULL AS laads_url;
SELECT geoetl.set_secret('laads_token', 'wrong');
SELECT geoetl.enqueue('fetch_blackmarble', '{"product": "VNP46A2", "date": "2024-02-06", "tile": "h21v08"}', max_attempts => 1) AS refused \gset
CALL geoetl.run_jobs();
SELECT state, errors->0->>'sqlstate' AS sqlstate, errors->0->>'message' AS message, errors->0->>'message' LIKE '%t0ken%' AS shows_token
  FROM geoetl.job WHERE job_id = :refused;
SELECT count(*) AS recorded FROM geoetl.granule_fetch WHERE date = '2024-02-06';
SELECT geoetl.set_secret('laads_token', 't0ken');

-- an HTML page instead of the granule: never stored, never registered
SELECT pg_temp.write_file(:'fixtures' || '/laads/5200/VNP46A3/2024/032.json',
                          '{"content": [{"name": "VNP46A3.A2024032.h21v08.002.2024099000000.h5", "size": 60}]}');
SELECT pg_temp.write_file(:'fixtures' || '/laads/5200/VNP46A3/2024/032/VNP46A3.A2024032.h21v08.002.2024099000000.h5',
                          '<!DOCTYPE html><html><body>Please accept the licence</body></html>');
SELECT geoetl.enqueue('fetch_blackmarble', '{"product": "VNP46A3", "date": "2024-02-01", "tile": "h21v08"}', max_attempts => 1) AS html \gset
CALL geoetl.run_jobs();
SELECT state, errors->0->>'sqlstate' AS sqlstate, errors->0->>'message' AS message FROM geoetl.job WHERE job_id = :html;
SELECT count(*) AS stored FROM geoetl.store_list('blackmarble/VNP46A3/');
SELECT count(*) AS staged_leftovers FROM pg_ls_dir(:'fixtures' || '/store/.staging') f;
-- a download cancelled by statement_timeout, and a store the server cannot write (read-only
-- folder: as a full disk would): clear errors, no file, no row
SELECT set_config('geoetl.laads_url', :'http' || '/h5faults/slow-5/bearer/laads', false) IS NOT NULL AS laads_url;
SELECT regexp_replace(key, '^.*/', '') AS slow_name FROM geoetl.store_list('blackmarble/VNP46A2/2024/036/') LIMIT 1 \gset
SET statement_timeout = 1000;
SELECT * FROM geoetl._store_fetch(current_setting('geoetl.laads_url') || '/5200/VNP46A2/2024/036/' || :'slow_name',
                                  'blackmarble/cancelled.h5', 'hdf5', true);
RESET statement_timeout;
SELECT count(*) AS cancelled_in_store FROM geoetl.store_list('blackmarble/cancelled');
SELECT set_config('geoetl.laads_url', :'http' || '/bearer/laads', false) IS NOT NULL AS laads_url;
SELECT count(*) AS staged_leftovers FROM pg_ls_dir(:'fixtures' || '/store/.staging') f;
SELECT set_config('geoetl.store', :'fixtures' || '/readonly-store', false) IS NOT NULL AS store;
SELECT geoetl.enqueue('fetch_blackmarble', '{"product": "VNP46A2", "date": "2024-02-16", "tile": "h21v08"}', max_attempts => 1) AS ro \gset
CALL geoetl.run_jobs();
SELECT state, errors->0->>'sqlstate' AS sqlstate, replace(errors->0->>'message', :'fixtures', '<fixtures>') AS message,
       (SELECT count(*) FROM geoetl.granule_fetch WHERE date = '2024-02-16') AS recorded,
       (SELECT count(*) FROM pg_ls_dir(:'fixtures' || '/readonly-store') f) AS files
  FROM geoetl.job WHERE job_id = :ro;
SELECT set_config('geoetl.store', :'fixtures' || '/store', false) IS NOT NULL AS store;
-- what a backend that died leaves in the store (a staged file, an unfinished copy beside an
-- object) is removed by store_sweep once not modified for older_than; objects stay. Never files
-- younger than the longest a download may run ((4 attempts + 5 redirects) x geoetl.http_timeout
-- + 3 waits of 30 s), nor files whose writer (the pid in their names) still runs.
SELECT count(*) AS stored_before FROM geoetl.store_list() \gset
-- 4194305: above Linux's largest pid, so no process that runs
SELECT pg_temp.write_file(:'fixtures' || '/store/.staging/blackmarble_x.h5.4194305', 'left by a crash');
SELECT pg_temp.write_file(:'fixtures' || '/store/blackmarble/VNP46A2/2024/032/x.h5.part-Ab12Cd', 'unfinished');
SELECT pg_temp.write_file(:'fixtures' || '/store/.staging/blackmarble_y.h5.' || pg_backend_pid() || '.part-Qw34Er', 'this backend''s');
SELECT geoetl.store_sweep('0') AS swept_at_once;
\set leftovers :fixtures '/store/.staging/* ' :fixtures '/store/blackmarble/VNP46A2/2024/032/*.part-*'
\set touch_5_minutes 'touch -d "5 minutes ago" ' :leftovers
COPY (SELECT) TO PROGRAM :'touch_5_minutes';
SELECT geoetl.store_sweep('0') AS swept_after_5_minutes;  -- 630 s with geoetl.http_timeout = 60 s
\set touch_2_hours 'touch -d "2 hours ago" ' :leftovers
COPY (SELECT) TO PROGRAM :'touch_2_hours';
SELECT geoetl.store_sweep() AS swept_before_a_day;
SELECT geoetl.store_sweep('0') AS swept;
SELECT count(*) = :stored_before AS objects_kept FROM geoetl.store_list();
SELECT replace(f, pg_backend_pid()::text, '<this backend>') AS staged_leftovers FROM pg_ls_dir(:'fixtures' || '/store/.staging') f ORDER BY 1;
SELECT count(*) AS part_files FROM pg_ls_dir(:'fixtures' || '/store/blackmarble/VNP46A2/2024/032') f
WHERE f LIKE '%.part-%';
SELECT pg_temp.e($$SELECT geoetl.store_sweep(NULL)$$);
SELECT pg_temp.e($$SELECT geoetl.store_sweep('-1 day')$$);

-- a day the archive does not have: missing, and the rest goes on
SELECT geoetl.enqueue('fetch_blackmarble', '{"product": "VNP46A2", "date": "2023-07-01", "tile": "h21v08"}') AS absent \gset
CALL geoetl.run_jobs();
SELECT state, result, (SELECT detail FROM geoetl.granule_fetch WHERE date = '2023-07-01') FROM geoetl.job WHERE job_id = :absent;
-- bad job arguments
SELECT geoetl.enqueue('fetch_blackmarble', '{"product": "VNP46A2", "date": "2024-02-01", "tile": "x"}', max_attempts => 1) AS bad \gset
CALL geoetl.run_jobs();
SELECT state, errors->0->>'sqlstate' AS sqlstate, errors->0->>'message' AS message FROM geoetl.job WHERE job_id = :bad;

-- who may: writers cannot fetch
CREATE ROLE geoetl_fetch_writer IN ROLE geoetl_writer;
BEGIN;
SET LOCAL ROLE geoetl_fetch_writer;
SELECT pg_temp.e(format('SELECT geoetl.fetch_blackmarble(%L, %s, %L, %L)', 'VNP46A2', :area, '2024-02-01', '2024-02-01'));
SELECT pg_temp.e($$SELECT * FROM geoetl.store_list()$$);
SELECT pg_temp.e($$SELECT geoetl.store_sweep()$$);
SELECT pg_temp.e($$SELECT current_setting('geoetl.laads_token')$$);
ROLLBACK;
DROP ROLE geoetl_fetch_writer;

DELETE FROM geoetl.area WHERE area_id = :area;
DELETE FROM geoetl.raster;
-- leave the queue as the next tests expect it
TRUNCATE geoetl.job, geoetl.granule_fetch, geoetl.fetch_request RESTART IDENTITY;
SELECT geoetl.set_secret('laads_token', NULL);
