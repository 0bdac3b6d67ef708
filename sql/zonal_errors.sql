-- geoetl.zonal_stats: every bad input gets a clear error (SQLSTATE | message | detail | hint).
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv fixtures GEOETL_FIXTURES
\set small :fixtures '/small.tif'
\set geo :fixtures '/geo.tif'
CREATE FUNCTION pg_temp.z(raster text, geom text, extra text DEFAULT '') RETURNS text
LANGUAGE sql AS $$
  SELECT replace(pg_temp.err(format('SELECT geoetl.zonal_stats(%L, %L::geometry%s)', raster, geom, extra)),
                 current_setting('geoetl_test.fixtures'), '<fixtures>')
$$;
SELECT set_config('geoetl_test.fixtures', :'fixtures', false) IS NOT NULL AS ready;

-- sources
SELECT pg_temp.z(:'fixtures' || '/missing.tif', 'POLYGON((0 0,1 0,1 1,0 0))');
SELECT pg_temp.z(:'fixtures' || '/not_a_raster.tif', 'POLYGON((0 0,1 0,1 1,0 0))');
SELECT pg_temp.z(:'fixtures' || '/truncated.tif', 'POLYGON((0 0,512 0,512 512,0 0))');
SELECT pg_temp.z('relative/path.tif', 'POLYGON((0 0,1 0,1 1,0 0))');
SELECT pg_temp.z('', 'POLYGON((0 0,1 0,1 1,0 0))');
-- bands and options
SELECT pg_temp.z(:'small', 'POLYGON((0 0,1 0,1 1,0 0))', ', band => 2');
SELECT pg_temp.z(:'small', 'POLYGON((0 0,1 0,1 1,0 0))', ', band => 0');
SELECT pg_temp.z(:'small', 'POLYGON((0 0,1 0,1 1,0 0))', ', band => NULL');
SELECT pg_temp.z(:'small', 'POLYGON((0 0,1 0,1 1,0 0))', ', coverage => ''all''');
SELECT pg_temp.z(:'small', 'POLYGON((0 0,1 0,1 1,0 0))', ', coverage => NULL');
SELECT pg_temp.z(:'small', 'POLYGON((0 0,1 0,1 1,0 0))', ', quantiles => ''{0.5, 1.5}''');
SELECT pg_temp.z(:'small', 'POLYGON((0 0,1 0,1 1,0 0))', ', quantiles => ''{-0.1}''');
SELECT pg_temp.z(:'small', 'POLYGON((0 0,1 0,1 1,0 0))', ', quantiles => ''{NaN}''');
SELECT pg_temp.z(:'small', 'POLYGON((0 0,1 0,1 1,0 0))', ', quantiles => ''{0.5, NULL}''');
-- geometries
SELECT pg_temp.z(:'small', 'POINT(1 1)');
SELECT pg_temp.z(:'small', 'LINESTRING(0 0,2 2)');
SELECT pg_temp.z(:'small', 'GEOMETRYCOLLECTION(POLYGON((0 0,1 0,1 1,0 0)))');
SELECT pg_temp.z(:'small', 'POLYGON((0 0,2 2,2 0,0 2,0 0))');
-- CRS: unknown SRID; a geometry with an SRID over a raster without a CRS
SELECT pg_temp.z(:'small', 'SRID=990000;POLYGON((0 0,1 0,1 1,0 0))');
SELECT pg_temp.z(:'small', 'SRID=4326;POLYGON((0 0,1 0,1 1,0 0))');
-- ids and geometries must pair up
SELECT pg_temp.err(format('SELECT * FROM geoetl.zonal_stats_many(%L, ''{1,2}'', ARRAY[''POLYGON((0 0,1 0,1 1,0 0))''::geometry])', :'small'));
SELECT pg_temp.err(format('SELECT * FROM geoetl.zonal_stats_many(%L, ''{NULL}'', ARRAY[''POLYGON((0 0,1 0,1 1,0 0))''::geometry])', :'small'));
-- one bad geometry among many fails the call
SELECT pg_temp.err(format('SELECT * FROM geoetl.zonal_stats_many(%L, ''{1,2}'', ARRAY[''POLYGON((0 0,1 0,1 1,0 0))'', ''POINT(0 0)'']::geometry[])', :'small'));

-- cancellation: statement_timeout stops a long call and the session goes on
\set slow :fixtures '/slow.tif'
SET statement_timeout = '300ms';
SELECT pg_temp.err(format('SELECT geoetl.zonal_stats(%L, ST_MakeEnvelope(0, 0, 20000, 20000), quantiles => ''{}'')', :'slow'));
RESET statement_timeout;
SELECT count FROM geoetl.zonal_stats(:'small', ST_MakeEnvelope(0, 0, 3, 3));
SELECT geoetl.selftest_live_objects() AS live;
-- and so does pg_cancel_backend from another session
SELECT format('SELECT count::text FROM geoetl.zonal_stats(%L, ST_MakeEnvelope(0, 0, 20000, 20000), quantiles => ''{}'')', :'slow') AS slow_query \gset
\i sql/include/cancel_from_other_session.psql

-- quantiles over more cells than geoetl.quantile_memory_mb allows: a clear error
SET geoetl.quantile_memory_mb = 1;
SELECT pg_temp.err(format('SELECT geoetl.zonal_stats(%L, ST_MakeEnvelope(0, 0, 300, 300))', :'slow'));
RESET geoetl.quantile_memory_mb;
