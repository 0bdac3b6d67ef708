-- Package clips published into the store (the internal functions the package jobs call): the
-- object's size and hash as reported, the cells zonal_stats counts, nothing left after a failed
-- or rolled-back clip.
\set SHOW_CONTEXT never
\i sql/include/err.psql
\i sql/include/write_file.psql
\getenv fixtures GEOETL_FIXTURES
\set lights :fixtures '/lights.tif'
\set villages :fixtures '/pkg_clip_villages.geojson'
-- a store of its own, so that other tests' listings never see these objects
SELECT set_config('geoetl.store', :'fixtures' || '/pkg_store', false) IS NOT NULL AS store_set;
SELECT set_config('geoetl_test.fixtures', :'fixtures', false) IS NOT NULL AS ready;
CREATE FUNCTION pg_temp.e(stmt text) RETURNS text LANGUAGE sql AS $$
  SELECT replace(pg_temp.err(stmt), current_setting('geoetl_test.fixtures'), '<fixtures>') $$;
SELECT pg_temp.write_file(:'villages', '{"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {"name": "in", "pop": 120}, "geometry": {"type": "Point", "coordinates": [30.01, 1.95]}},
  {"type": "Feature", "properties": {"name": "out", "pop": 7}, "geometry": {"type": "Point", "coordinates": [35, 5]}}]}');
CREATE TEMP TABLE area AS SELECT ST_GeomFromText(
  'POLYGON((30.003 1.905, 30.047 1.912, 30.041 1.993, 30.008 1.986, 30.003 1.905))', 4326) AS geom;

-- a raster clip: the object is there, with the size and hash reported, holding the cells that
-- zonal_stats counts
SELECT geoetl._package_clip_raster(:'lights', geom, 'packages/t/lights/v1/lights-v1-t.tif', '{}', false, 'DEFLATE') AS r
  FROM area \gset
SELECT (:'r'::jsonb->>'bytes')::bigint = s.size AS size_ok,
       :'r'::jsonb->>'sha256' = geoetl._store_sha256(s.key) AS hash_ok,
       (:'r'::jsonb->>'items')::float8 = (SELECT z.count FROM area a, geoetl.zonal_stats(:'lights', a.geom, coverage => 'center', quantiles => '{}') z) AS cells_ok,
       (:'r'::jsonb->>'items')::int > 0 AS some_cells
  FROM geoetl.store_list('packages/t/') s WHERE s.key = 'packages/t/lights/v1/lights-v1-t.tif';
-- all_touched takes more cells (written with ZSTD)
SELECT (geoetl._package_clip_raster(:'lights', geom, 'packages/t/lights/v1/touched.tif', '{1}', true, 'ZSTD')->>'items')::int
       > (:'r'::jsonb->>'items')::int AS touched_more
  FROM area;

-- a vector clip: the feature inside, as GeoPackage and as CSV
SELECT geoetl._package_clip_vector(:'villages', geom, 'packages/t/villages/2024/villages-2024-t.gpkg', NULL, true, 'GPKG')->>'items' AS gpkg_features,
       geoetl._package_clip_vector(:'villages', geom, 'packages/t/villages/2024/villages-2024-t.csv', NULL, false, 'CSV')->>'items' AS csv_features
  FROM area;
SELECT key FROM geoetl.store_list('packages/t/') ORDER BY key;

-- rolled back, failed: nothing stays
BEGIN;
SELECT geoetl._package_clip_raster(:'lights', geom, 'packages/t/lights/v1/rolled-back.tif', '{}', false, 'DEFLATE')->>'items' AS rolled_back_items FROM area;
ROLLBACK;
SELECT pg_temp.e(format('SELECT geoetl._package_clip_raster(%L, ST_MakeEnvelope(100, 50, 101, 51, 4326), %L, %L, false, %L)',
                          :'lights', 'packages/t/lights/v1/outside.tif', '{}', 'DEFLATE')) AS outside;
SELECT pg_temp.e(format('SELECT geoetl._package_clip_raster(%L, ST_MakeEnvelope(30.01, 1.91, 30.02, 1.92, 4326), %L, %L, false, %L)',
                          :'lights', 'packages/t/lights/v1/band.tif', '{2}', 'DEFLATE')) AS no_band;
SELECT pg_temp.e(format('SELECT geoetl._package_clip_raster(%L, ST_MakeEnvelope(30.01, 1.91, 30.02, 1.92, 4326), %L, %L, false, %L)',
                          :'lights', '../escape.tif', '{}', 'DEFLATE')) AS bad_key;
SELECT pg_temp.e(format('SELECT geoetl._package_clip_vector(%L, ST_MakeEnvelope(30.01, 1.91, 30.02, 1.92, 4326), %L, %L, true, %L)',
                          :'villages', 'packages/t/villages/2024/x.gpkg', 'nope', 'GPKG')) AS no_layer;
SELECT key FROM geoetl.store_list('packages/t/') ORDER BY key;
SELECT count(*) AS staged_left FROM pg_ls_dir(:'fixtures' || '/pkg_store/.staging') f;

-- only the extension's owner may call them
CREATE ROLE pkg_clip_admin IN ROLE geoetl_admin;
BEGIN;
SET LOCAL ROLE pkg_clip_admin;
SELECT pg_temp.e(format('SELECT geoetl._package_clip_raster(%L, ST_MakeEnvelope(30.01, 1.91, 30.02, 1.92, 4326), %L, %L, false, %L)',
                          :'lights', 'packages/t/x.tif', '{}', 'DEFLATE')) AS as_admin;
ROLLBACK;
DROP ROLE pkg_clip_admin;
