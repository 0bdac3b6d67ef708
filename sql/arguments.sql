-- Arguments and results of the C entry points (src/pg/args.h, src/pg/result_row.h): a required
-- argument that is NULL is refused with 22004 naming it, an array's NULL elements are refused
-- naming the array, and a result is filled by column name, so a row type that does not match
-- the library is an error that says which column, never values in the wrong columns.
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv fixtures GEOETL_FIXTURES
\set small :fixtures '/small.tif'

-- NULL arguments, each named
SELECT pg_temp.err($$SELECT geoetl._run_handler(NULL, '{}', current_user::regrole)$$);
SELECT pg_temp.err($$SELECT geoetl._run_handler('geoetl.version()', NULL, current_user::regrole)$$);
SELECT pg_temp.err($$SELECT geoetl._run_handler('geoetl.version()', '{}', NULL)$$);
SELECT pg_temp.err($$SELECT geoetl._trusted_call(NULL, '{}')$$);
SELECT pg_temp.err($$SELECT geoetl._trusted_call('geoetl._trusted_window_create(regrole, jsonb)', NULL)$$);
SELECT pg_temp.err($$SELECT geoetl._nightlight_stats(NULL, '{}', NULL, NULL, NULL, false, false, 'clamp', 1, false, 'exact')$$);
SELECT pg_temp.err($$SELECT geoetl._nightlight_stats(ST_MakeEnvelope(0, 0, 1, 1, 4326), '{}', NULL, NULL, NULL, false, false, 'clamp', NULL, false, 'exact')$$);
SELECT pg_temp.err(format('SELECT geoetl.zonal_stats(%L, ST_MakeEnvelope(0, 0, 1, 1), band => NULL)', :'small'));
-- a NULL raster or geometry is no error: NULL, and no rows for the set-returning forms
SELECT geoetl.zonal_stats(NULL, ST_MakeEnvelope(0, 0, 1, 1)) IS NULL AS null_raster,
       geoetl.zonal_stats(:'small', NULL) IS NULL AS null_geometry;
SELECT count(*) AS no_rows FROM geoetl.zonal_stats_many(:'small', NULL, '{}');

-- NULL elements of arrays
SELECT pg_temp.err($$SELECT geoetl._nightlight_stats(ST_MakeEnvelope(0, 0, 1, 1, 4326), '{NULL}', NULL, NULL, NULL, false, false, 'clamp', 1, false, 'exact')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl._http('GET', 'http://127.0.0.1:9/', '{accept}', '{NULL}', '')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl._http('GET', 'http://127.0.0.1:9/', '{NULL}', '{x}', '')$$);
SELECT pg_temp.err(format('SELECT * FROM geoetl.zonal_stats(%L, ST_MakeEnvelope(0, 0, 1, 1), quantiles => ''{0.5,NULL}'')', :'small'));
-- header names and values come in pairs
SELECT pg_temp.err($$SELECT * FROM geoetl._http('GET', 'http://127.0.0.1:9/', '{accept,range}', '{x}', '')$$);

-- Results by column name: the same C function behind row types that do not match it
CREATE TYPE pg_temp.renamed AS (count float8, sum float8, mean float8, min float8, max float8,
  stddev float8, quantiles float8[], lit_share float8, valid_area_km2 float8, lit_area_km2 float8,
  nodata float8);
CREATE FUNCTION pg_temp.zonal_renamed(raster text, geom geometry, band int DEFAULT 1,
  coverage text DEFAULT 'exact', threshold float8 DEFAULT NULL, quantiles float8[] DEFAULT '{0.5}')
RETURNS pg_temp.renamed AS '$libdir/geoetl', 'geoetl_zonal_stats' LANGUAGE C;
SELECT pg_temp.err(format('SELECT pg_temp.zonal_renamed(%L, ST_MakeEnvelope(0.5, 0.5, 2.5, 2.5))', :'small'));
CREATE TYPE pg_temp.retyped AS (count bigint, sum float8, mean float8, min float8, max float8,
  stddev float8, quantiles float8[], lit_share float8, valid_area_km2 float8, lit_area_km2 float8,
  nodata_share float8);
CREATE FUNCTION pg_temp.zonal_retyped(raster text, geom geometry, band int DEFAULT 1,
  coverage text DEFAULT 'exact', threshold float8 DEFAULT NULL, quantiles float8[] DEFAULT '{0.5}')
RETURNS pg_temp.retyped AS '$libdir/geoetl', 'geoetl_zonal_stats' LANGUAGE C;
SELECT pg_temp.err(format('SELECT pg_temp.zonal_retyped(%L, ST_MakeEnvelope(0.5, 0.5, 2.5, 2.5))', :'small'));
CREATE FUNCTION pg_temp.zonal_many_extra(raster text, ids bigint[], geoms geometry[], band int DEFAULT 1,
  coverage text DEFAULT 'exact', threshold float8 DEFAULT NULL, quantiles float8[] DEFAULT '{0.5}')
RETURNS TABLE (id bigint, count float8, sum float8, mean float8, min float8, max float8,
  stddev float8, quantiles float8[], lit_share float8, valid_area_km2 float8, lit_area_km2 float8,
  nodata_share float8, median float8)
AS '$libdir/geoetl', 'geoetl_zonal_stats_many' LANGUAGE C;
SELECT pg_temp.err(format('SELECT * FROM pg_temp.zonal_many_extra(%L, ''{1}'', ARRAY[ST_MakeEnvelope(0.5, 0.5, 2.5, 2.5)])', :'small'));
-- the declared order is free: columns are matched by name
CREATE FUNCTION pg_temp.zonal_many_reordered(raster text, ids bigint[], geoms geometry[], band int DEFAULT 1,
  coverage text DEFAULT 'exact', threshold float8 DEFAULT NULL, quantiles float8[] DEFAULT '{0.5}')
RETURNS TABLE (nodata_share float8, lit_area_km2 float8, valid_area_km2 float8, lit_share float8,
  quantiles float8[], stddev float8, max float8, min float8, mean float8, sum float8, count float8,
  id bigint)
AS '$libdir/geoetl', 'geoetl_zonal_stats_many' LANGUAGE C;
SELECT id, count, sum, mean, min, max, quantiles
  FROM pg_temp.zonal_many_reordered(:'small', '{7,8}', ARRAY[ST_MakeEnvelope(0.5, 0.5, 2.5, 2.5), NULL]);
