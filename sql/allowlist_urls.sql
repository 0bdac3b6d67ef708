-- The allow-list has no side door for URLs: every redirect GDAL would follow is checked as
-- http_get checks it, and escaped dot segments do not climb out of an allowed prefix.
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv http GEOETL_HTTP
CREATE ROLE geoetl_url_admin IN ROLE geoetl_admin;
CREATE FUNCTION pg_temp.as_admin(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
  SET LOCAL ROLE geoetl_url_admin;
  result := regexp_replace(pg_temp.err(stmt), 'http://127\.0\.0\.1:\d+', 'http://127.0.0.1:PORT', 'g');
  RESET ROLE;
  RETURN result;
END $$;
CREATE FUNCTION pg_temp.zonal(url text) RETURNS text LANGUAGE sql AS $$
  SELECT pg_temp.as_admin(format('SELECT count > 0 FROM geoetl.zonal_stats(%L, ST_MakeEnvelope(30.5, 0.5, 31.5, 1.5, 4326))', url)) $$;
CREATE FUNCTION pg_temp.fetch(url text) RETURNS text LANGUAGE sql AS $$
  SELECT pg_temp.as_admin(format('SELECT status FROM geoetl.http_get(%L)', url)) $$;

BEGIN;
-- only what lies below /redirect-to/, /redirect/, /switch/ and /pub, and /lights.tif itself, is allowed
SELECT set_config('geoetl.allowed_sources', :'http' || '/redirect-to/, ' || :'http' || '/redirect/, '
                  || :'http' || '/switch/, ' || :'http' || '/pub, ' || :'http' || '/lights.tif', true) IS NOT NULL AS allowed;
-- an allowed URL redirecting outside the prefixes: GDAL's reads are refused like http_get's
SELECT pg_temp.zonal(:'http' || '/redirect-to/' || :'http' || '/red.tif');
SELECT pg_temp.zonal(:'http' || '/redirect-to/' || :'http' || '/hello.json');
SELECT pg_temp.zonal(:'http' || '/redirect-to/http://localhost:1/lights.tif');
SELECT pg_temp.fetch(:'http' || '/redirect-to/' || :'http' || '/hello.json');
SELECT pg_temp.zonal(:'http' || '/redirect/2/hello.json');
-- a server that answers the size and the first bytes, then redirects later range requests
-- outside the prefixes (to /red.tif): every request GDAL makes is checked, not only the first
SELECT pg_temp.zonal(:'http' || '/switch/2/red.tif?late');
-- the same, on a file already open: a first call reads a corner (the server's first 4 answers,
-- the size and the first bytes), the next needs more tiles, whose requests are redirected to
-- /sidecars/lights.tif (outside the prefixes) and refused
SELECT pg_temp.as_admin(format('SELECT count FROM geoetl.zonal_stats(%L, ST_MakeEnvelope(30.0, 1.9, 30.05, 2, 4326))',
                               :'http' || '/switch/4/sidecars/lights.tif?open'));
SELECT pg_temp.zonal(:'http' || '/switch/4/sidecars/lights.tif?open');
-- redirects that stay inside the prefixes are followed (two hops, then /lights.tif)
SELECT pg_temp.zonal(:'http' || '/redirect/2/lights.tif');
SELECT pg_temp.zonal(:'http' || '/redirect-to/' || :'http' || '/lights.tif');
-- escaped dot segments, slashes and backslashes do not climb out of /pub
SELECT pg_temp.zonal(:'http' || '/pub/%2e%2e/lights.tif');
SELECT pg_temp.zonal(:'http' || '/pub/%2E%2e/lights.tif');
SELECT pg_temp.zonal(:'http' || '/pub/.%2e/lights.tif');
SELECT pg_temp.zonal(:'http' || '/pub%2f..%2flights.tif');
SELECT pg_temp.zonal(:'http' || '/pub/%5c..%5clights.tif');
SELECT pg_temp.fetch(:'http' || '/pub/%2e%2e/hello.json');
SELECT pg_temp.fetch(:'http' || '/pub/..%2Fhello.json');
ROLLBACK;
DROP ROLE geoetl_url_admin;
