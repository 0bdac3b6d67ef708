-- Rasters over HTTP: range requests to a real server on 127.0.0.1 (test/fixtures/http_server.py,
-- started by scripts/check.sh as GEOETL_HTTP), and every way a server can fail.
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv fixtures GEOETL_FIXTURES
\getenv http GEOETL_HTTP
\set stats :fixtures '/http_stats.json'
CREATE FUNCTION pg_temp.z(url text, extra text DEFAULT '') RETURNS text LANGUAGE sql AS $$
  SELECT regexp_replace(regexp_replace(
           pg_temp.err(format('SELECT count FROM geoetl.zonal_stats(%L, ST_MakeEnvelope(30.5, 0.5, 31.5, 1.5, 4326)%s)', url, extra)),
           'http://127\.0\.0\.1:\d+', 'http://127.0.0.1:PORT', 'g'),
         'after \d+ (ms|milliseconds)', 'after N \1', 'g')  -- timings vary
$$;
CREATE FUNCTION pg_temp.bytes_served(stats text) RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce((pg_read_file(stats, 0, 1000, true)::jsonb ->> 'bytes')::bigint, 0) $$;

-- the same statistics as the local file
SELECT r.count = l.count AS same_count, r.sum = l.sum AS same_sum, r.quantiles = l.quantiles AS same_quantiles
  FROM geoetl.zonal_stats(:'http' || '/lights.tif', ST_MakeEnvelope(30.5, 0.5, 31.5, 1.5, 4326)) r,
       geoetl.zonal_stats(:'fixtures' || '/lights.tif', ST_MakeEnvelope(30.5, 0.5, 31.5, 1.5, 4326)) l;
-- a small polygon reads a few ranges of the file, not the whole file
SELECT pg_temp.bytes_served(:'stats') AS before \gset
SELECT count > 0 AS has_cells FROM geoetl.zonal_stats(:'http' || '/lights.tif?small', ST_MakeEnvelope(32.9, 0.05, 32.95, 0.1, 4326));
SELECT pg_temp.bytes_served(:'stats') - :before < (pg_stat_file(:'fixtures' || '/lights.tif')).size / 2 AS read_less_than_half;

-- failures, each with its own SQLSTATE
SELECT pg_temp.z(:'http' || '/status/401/lights.tif');
SELECT pg_temp.z(:'http' || '/status/403/lights.tif');
SELECT pg_temp.z(:'http' || '/status/404/lights.tif');
SELECT pg_temp.z(:'http' || '/missing.tif');
SELECT pg_temp.z(:'http' || '/status/500/lights.tif');
SELECT pg_temp.z(:'http' || '/not_a_raster.tif');
SELECT pg_temp.z(:'http' || '/truncated/lights.tif');
SELECT pg_temp.z('http://127.0.0.1:1/lights.tif');
SET geoetl.http_timeout = 1;
SELECT pg_temp.z(:'http' || '/slow/3/lights.tif');
RESET geoetl.http_timeout;
-- a cancelled call stops a waiting request within a second (the server would answer after 5)
SELECT clock_timestamp() AS before_cancel \gset
SET statement_timeout = '300ms';
SELECT pg_temp.z(:'http' || '/slow/5/lights.tif?cancel');
RESET statement_timeout;
SELECT clock_timestamp() - :'before_cancel'::timestamptz < interval '1.3 seconds' AS stopped_within_a_second;
-- after a failure the same URL works again once the server does
SELECT count > 0 AS works FROM geoetl.zonal_stats(:'http' || '/lights.tif', ST_MakeEnvelope(30.5, 0.5, 31.5, 1.5, 4326));

-- geoetl_admin members read URLs below an allowed prefix only
CREATE ROLE geoetl_remote_admin IN ROLE geoetl_admin;
SELECT set_config('geoetl.allowed_sources', :'http' || '/', false) IS NOT NULL AS allowed;
BEGIN;
SET LOCAL ROLE geoetl_remote_admin;
SELECT count > 0 AS admin_reads_allowed_url FROM geoetl.zonal_stats(:'http' || '/lights.tif', ST_MakeEnvelope(30.5, 0.5, 31.5, 1.5, 4326));
SELECT pg_temp.z('http://127.0.0.1:1/lights.tif');
ROLLBACK;
RESET geoetl.allowed_sources;
DROP ROLE geoetl_remote_admin;
