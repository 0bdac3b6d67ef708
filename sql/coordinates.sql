-- Absurd coordinates are refused before anything transforms them. PROJ 9.1 never returns from
-- EPSG:3857 coordinates around 1e20 and beyond and checks no interrupt (statement_timeout and
-- pg_cancel_backend do nothing): so each entry point that transforms is tested for the refusal,
-- never run into the loop.
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv fixtures GEOETL_FIXTURES
\getenv stac GEOETL_STAC
\set geo :fixtures '/geo.tif'
\set utm :fixtures '/utm.tif'
CREATE FUNCTION pg_temp.z(raster text, geom text) RETURNS text LANGUAGE sql AS $$
  SELECT pg_temp.err(format('SELECT count FROM geoetl.zonal_stats(%L, %s)', raster, geom)) $$;
SET statement_timeout = '20s';  -- were a refusal missing, fail instead of hanging the run

-- zonal_stats: far beyond any projected CRS, in EPSG:3857 and in UTM
SELECT pg_temp.z(:'geo', 'ST_MakeEnvelope(-1e30, -1e30, 1e30, 1e30, 3857)');
SELECT pg_temp.z(:'geo', 'ST_MakeEnvelope(1e20, 1e20, 1.1e20, 1.1e20, 3857)');
SELECT pg_temp.z(:'geo', 'ST_MakeEnvelope(0, 0, 1e10, 10, 32637)');
-- degrees beyond one wrap of longitude or beyond +-180 latitude, into a UTM raster
SELECT pg_temp.z(:'utm', 'ST_MakeEnvelope(36, 0, 400, 1, 4326)');
SELECT pg_temp.z(:'utm', 'ST_MakeEnvelope(36, -1e30, 37, 1, 4326)');
-- infinity
SELECT pg_temp.z(:'geo', 'ST_MakeEnvelope(0, 0, ''Infinity''::float8, 1, 3857)');
SELECT pg_temp.z(:'geo', 'ST_MakeEnvelope(0, 0, ''Infinity''::float8, 1, 0)');
-- generous bounds: a polygon over the whole Web Mercator square still works
SELECT count > 0 AS whole_square
  FROM geoetl.zonal_stats(:'geo', ST_MakeEnvelope(-20037508, -20037508, 20037508, 20037508, 3857));
SELECT count > 0 AS wrapped_once
  FROM geoetl.zonal_stats(:'geo', ST_MakeEnvelope(36.2, 0.2, 36.5, 0.5, 4326));
-- zonal_stats_many and zonal_stats_areas (whose areas are WGS 84 and checked on the way in)
SELECT pg_temp.err(format('SELECT * FROM geoetl.zonal_stats_many(%L, ''{1,2}'', ARRAY[%s, %s])', :'geo',
       'ST_MakeEnvelope(36.2, 0.2, 36.5, 0.5, 3857)', 'ST_MakeEnvelope(-1e30, -1e30, 1e30, 1e30, 3857)'));
SELECT pg_temp.err($$SELECT geoetl.add_area('huge', '{"type": "Polygon", "coordinates": [[[0, 0], [1e30, 0], [1e30, 1e30], [0, 0]]]}')$$);
SELECT pg_temp.err($$SELECT geoetl.add_area('inf', '{"type": "Polygon", "coordinates": [[[0, 0], [1e400, 0], [1, 1], [0, 0]]]}')$$);
SELECT pg_temp.err($$SELECT geoetl.add_areas('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"n": "a"},
  "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1e30, 0], [1e30, 1e30], [0, 0]]]}}]}', 'n')$$);
SELECT count(*) AS areas_left FROM geoetl.area;
-- nightlight_metrics (PostGIS's ST_Transform to WGS 84); SRID 0 is read as WGS 84
SELECT pg_temp.err($$SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(-1e30, -1e30, 1e30, 1e30, 3857), '2024-02-01')$$);
SELECT pg_temp.err($$SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(0, 0, 1e300, 1, 0), '2024-02-01')$$);
SELECT pg_temp.err($$SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(0, 0, 1, 'Infinity'::float8, 4326), '2024-02-01')$$);
-- the STAC functions' areas of interest (refused before any request)
SELECT pg_temp.err(format('SELECT geoetl.stac_search(%L, ''{sentinel-2-l2a}'', ST_MakeEnvelope(-1e30, -1e30, 1e30, 1e30, 3857), NULL)', :'stac'));
SELECT pg_temp.err($$SELECT geoetl.stac_ingest('sentinel-2-l2a', '{red}', ST_MakeEnvelope(1e25, 0, 1e26, 1, 3857), NULL)$$);
SELECT pg_temp.err($$SELECT geoetl.stac_ingest('sentinel-2-l2a', '{red}', ST_MakeEnvelope(0, 0, 1000, 1, 4326), NULL)$$);
RESET statement_timeout;
