-- Rasters in S3-compatible storage: s3://bucket/key through a real S3 server on 127.0.0.1
-- (s3rver, started by scripts/check.sh as GEOETL_S3_ENDPOINT with bucket GEOETL_S3_BUCKET).
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv fixtures GEOETL_FIXTURES
\getenv endpoint GEOETL_S3_ENDPOINT
\getenv bucket GEOETL_S3_BUCKET
SELECT set_config('geoetl.s3_endpoint', :'endpoint', false) IS NOT NULL AS endpoint_set;
SET geoetl.s3_https = off;
SELECT geoetl.set_secret('s3_access_key', 'S3RVER');
SELECT geoetl.set_secret('s3_secret_key', 'S3RVER');
\set s3 's3://' :bucket
CREATE FUNCTION pg_temp.z(url text) RETURNS text LANGUAGE sql AS $$
  SELECT regexp_replace(
           pg_temp.err(format('SELECT count FROM geoetl.zonal_stats(%L, ST_MakeEnvelope(30, 0, 31, 1, 4326))', url)),
           'after \d+ ms', 'after N ms', 'g')  -- timings vary
$$;

-- the same statistics as the local file
SELECT r.count = l.count AS same_count, r.sum = l.sum AS same_sum, r.quantiles = l.quantiles AS same_quantiles
  FROM geoetl.zonal_stats(:'s3' || '/lights.tif', ST_MakeEnvelope(30.5, 0.5, 31.5, 1.5, 4326)) r,
       geoetl.zonal_stats(:'fixtures' || '/lights.tif', ST_MakeEnvelope(30.5, 0.5, 31.5, 1.5, 4326)) l;
-- PostGIS resetting GDAL (its driver manager and every config option) does not lose the settings
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS postgis_raster;
RESET client_min_messages;
SET postgis.gdal_enabled_drivers = 'ENABLE_ALL';
SELECT count > 0 AS still_reads_s3 FROM geoetl.zonal_stats(:'s3' || '/lights.tif', ST_MakeEnvelope(30.5, 0.5, 31.5, 1.5, 4326));
RESET postgis.gdal_enabled_drivers;
-- a missing key and a missing bucket; the secret never shows in an error
SELECT pg_temp.z(:'s3' || '/missing.tif') AS missing_key;
SELECT pg_temp.z('s3://no-such-bucket/a.tif') AS missing_bucket;
SELECT pg_temp.z(:'s3' || '/missing.tif') LIKE '%S3RVER%' AS secret_shown;
-- an unreachable endpoint
SET geoetl.s3_endpoint = '127.0.0.1:1';
SET geoetl.http_connect_timeout = 1;
SELECT pg_temp.z(:'s3' || '/lights2.tif') AS unreachable;
RESET ALL;
SELECT geoetl.set_secret('s3_access_key', NULL), geoetl.set_secret('s3_secret_key', NULL);
