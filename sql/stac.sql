-- geoetl.stac_search against the test STAC API on 127.0.0.1 (test/fixtures/stac_server.py:
-- EarthSearch-shaped items, 36 sentinel-2-l2a items every 5 days of 2024 on two squares, 6
-- landsat-c2-l2 items, 2 items without geometry; pages linked with next, POST bodies).
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv stac GEOETL_STAC
SELECT set_config('geoetl_test.stac', :'stac', false) IS NOT NULL AS ready;
CREATE FUNCTION pg_temp.e(stmt text) RETURNS text LANGUAGE sql AS $$
  SELECT replace(pg_temp.err(stmt), current_setting('geoetl_test.stac'), 'http://<stac>')
$$;
\set aoi 'ST_MakeEnvelope(33, -1, 35, 1, 4326)'

-- February and March over both squares: 12 items, in pages of 5 (limit), all kept
SELECT geoetl.stac_search(:'stac', '{sentinel-2-l2a}', :aoi, '[2024-02-01, 2024-03-31]', max_items => 5) AS first_five;
SELECT geoetl.stac_search(:'stac', '{sentinel-2-l2a}', :aoi, '[2024-02-01, 2024-03-31]') AS kept;
SELECT count(*), min(datetime)::date, max(datetime)::date, count(DISTINCT properties->>'mgrs:grid_square') AS squares,
       bool_and(assets ?& '{red,nir,scl}') AS has_bands, bool_and(ST_SRID(geometry) = 4326) AS wgs84
  FROM geoetl.stac_item WHERE collection = 'sentinel-2-l2a';
-- more than one page: every page's items, no duplicates (the API pages by 100 at most)
SELECT geoetl.stac_search(:'stac', '{sentinel-2-l2a,landsat-c2-l2}', :aoi, NULL) AS everything;
SELECT collection, count(*) FROM geoetl.stac_item GROUP BY 1 ORDER BY 1;
-- open ends: everything up to the end of January
TRUNCATE geoetl.stac_item;
SELECT geoetl.stac_search(:'stac', '{sentinel-2-l2a}', :aoi, '(,2024-01-31]') AS january;
SELECT item_id FROM geoetl.stac_item ORDER BY datetime;
-- the area decides: only the northern square
SELECT geoetl.stac_search(:'stac', '{sentinel-2-l2a}', ST_MakeEnvelope(34.1, 0.2, 34.3, 0.4, 4326), '[2024-01-01, 2024-01-31]') AS north;
-- an area in another CRS is transformed (UTM 36S around the southern square)
SELECT geoetl.stac_search(:'stac', '{sentinel-2-l2a}', ST_Transform(ST_MakeEnvelope(33.2, -0.8, 33.4, -0.6, 4326), 32736),
                          '[2024-01-01, 2024-01-31]') AS south_in_utm;
-- running again changes nothing but the time seen
SELECT count(*) AS before FROM geoetl.stac_item \gset
SELECT geoetl.stac_search(:'stac', '{sentinel-2-l2a}', :aoi, '(,2024-01-31]') AS again, count(*) = :before AS same_rows
  FROM geoetl.stac_item;

-- items without geometry are not kept, and are listed with the reason
SELECT geoetl.stac_search(:'stac', '{no-geometry}', :aoi, NULL) AS kept_without_geometry;
SELECT geoetl.stac_search(:'stac', '{no-geometry}', ST_MakeEnvelope(-180, -90, 180, 90, 4326), NULL) AS everywhere;
SELECT collection, item_id, reason FROM geoetl.stac_skipped ORDER BY item_id;
-- an unknown collection finds nothing
SELECT geoetl.stac_search(:'stac', '{no-such-collection}', :aoi, NULL) AS unknown;

-- bad input
SELECT pg_temp.e($$SELECT geoetl.stac_search(NULL, '{a}', ST_MakeEnvelope(0, 0, 1, 1, 4326), NULL)$$);
SELECT pg_temp.e(format('SELECT geoetl.stac_search(%L, %L, ST_MakeEnvelope(0, 0, 1, 1, 4326), NULL)', :'stac', '{}'));
SELECT pg_temp.e(format('SELECT geoetl.stac_search(%L, %L, ST_MakeEnvelope(0, 0, 1, 1), NULL)', :'stac', '{a}'));
SELECT pg_temp.e(format('SELECT geoetl.stac_search(%L, %L, %L::geometry, NULL)', :'stac', '{a}', 'SRID=4326;POLYGON((0 0,1 1,1 0,0 1,0 0))'));
SELECT pg_temp.e(format('SELECT geoetl.stac_search(%L, %L, ST_MakeEnvelope(0, 0, 1, 1, 4326), NULL, %L)', :'stac', '{a}', '[1]'));
SELECT pg_temp.e(format('SELECT geoetl.stac_search(%L, %L, ST_MakeEnvelope(0, 0, 1, 1, 4326), NULL, max_items => 0)', :'stac', '{a}'));
SELECT pg_temp.e(format('SELECT geoetl.stac_search(%L, %L, ST_MakeEnvelope(0, 0, 1, 1, 4326), NULL)', :'stac' || '/broken', '{a}'));
SELECT pg_temp.e(format('SELECT geoetl.stac_search(%L, %L, ST_MakeEnvelope(0, 0, 1, 1, 4326), NULL)', :'stac' || '/nowhere/x', '{a}'));
SELECT pg_temp.e($$SELECT geoetl.stac_search('file:///etc', '{a}', ST_MakeEnvelope(0, 0, 1, 1, 4326), NULL)$$);

-- as a job
SELECT geoetl.enqueue('stac_search', jsonb_build_object('api_url', :'stac', 'collections', '["landsat-c2-l2"]'::jsonb,
                      'aoi', ST_AsGeoJSON(:aoi)::jsonb, 'period', '["2024-02-01T00:00:00Z", "2024-02-10T00:00:00Z"]'::jsonb)) AS job \gset
CALL geoetl.run_jobs();
SELECT state, result, progress FROM geoetl.job WHERE job_id = :job;
SELECT geoetl.enqueue('stac_search', '{"api_url": "x"}', max_attempts => 1) AS bad \gset
CALL geoetl.run_jobs();
SELECT state, errors->0->>'sqlstate' AS sqlstate, errors->0->>'message' AS message FROM geoetl.job WHERE job_id = :bad;

-- http_post as SQL pipelines use it
SELECT status, jsonb_array_length(convert_from(body, 'UTF8')::jsonb->'features') AS features
  FROM geoetl.http_post(:'stac' || '/search', '{"collections": ["landsat-c2-l2"], "limit": 2}',
                        '{"Content-Type": "application/json"}');

-- ingest: January's items over the northern square, assets red and nir
TRUNCATE geoetl.stac_item CASCADE;
\getenv fixtures GEOETL_FIXTURES
SELECT set_config('geoetl.store', :'fixtures' || '/store', false) IS NOT NULL AS store;
SELECT geoetl.stac_search(:'stac', '{sentinel-2-l2a}', :aoi, '[2024-01-01, 2024-01-31]') AS items;
\set north 'ST_MakeEnvelope(34.1, 0.2, 34.3, 0.4, 4326)'
SELECT geoetl.stac_ingest('sentinel-2-l2a', '{red,nir}', :north, '[2024-01-01, 2024-01-31]') AS referenced;
SELECT item_id, asset_key, mode, uri = href AS in_place, bytes IS NULL AS no_copy FROM geoetl.stac_asset ORDER BY 1, 2;
SELECT geoetl.stac_ingest('sentinel-2-l2a', '{red}', :north, '[2024-01-01, 2024-01-31]', 'copy') AS copied;
SELECT item_id, asset_key, mode, uri LIKE '%/store/stac/sentinel-2-l2a/' || item_id || '/red.tif' AS in_store,
       bytes = (pg_stat_file(uri)).size AS size_ok, length(sha256) AS sha_length
  FROM geoetl.stac_asset WHERE asset_key = 'red' ORDER BY 1;
-- read in place and read from the copy: the same statistics
SELECT a.item_id, z_remote.count = z_copy.count AND z_remote.sum = z_copy.sum AND z_remote.mean = z_copy.mean AS same_stats,
       z_copy.count > 0 AS cells
  FROM geoetl.stac_asset a,
       LATERAL geoetl.zonal_stats(a.href, ST_MakeEnvelope(31, 0.5, 32, 1.5, 4326)) z_remote,
       LATERAL geoetl.zonal_stats(a.uri, ST_MakeEnvelope(31, 0.5, 32, 1.5, 4326)) z_copy
 WHERE a.asset_key = 'red' ORDER BY 1;
-- verify: all agree; then a copy goes missing, another changes, stray objects appear
SELECT * FROM geoetl.stac_verify();
-- a call that fails after copying leaves the store as it was: a new copy (nir) is removed, a
-- replaced one (red) is put back (the same file: its modification time too); also when the
-- failure is caught in a subtransaction
CREATE VIEW pg_temp.store_now AS
SELECT key, size, geoetl._store_sha256(key) AS sha, (pg_stat_file(uri)).modification FROM geoetl.store_list('stac/');
CREATE TEMP TABLE store_before AS SELECT * FROM pg_temp.store_now;
CREATE FUNCTION public.refuse_asset() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'asset rows refused (test)'; END $$;
CREATE TRIGGER refuse_asset BEFORE INSERT OR UPDATE ON geoetl.stac_asset FOR EACH ROW EXECUTE FUNCTION public.refuse_asset();
SELECT pg_temp.e($$SELECT geoetl.stac_ingest('sentinel-2-l2a', '{nir}', ST_MakeEnvelope(34.1, 0.2, 34.3, 0.4, 4326), '[2024-01-01, 2024-01-31]', 'copy')$$);
SELECT pg_temp.e($$SELECT geoetl.stac_ingest('sentinel-2-l2a', '{red}', ST_MakeEnvelope(34.1, 0.2, 34.3, 0.4, 4326), '[2024-01-01, 2024-01-31]', 'copy')$$);
DO $$
BEGIN
  PERFORM geoetl.stac_ingest('sentinel-2-l2a', '{nir,red}', ST_MakeEnvelope(34.1, 0.2, 34.3, 0.4, 4326), '[2024-01-01, 2024-01-31]', 'copy');
EXCEPTION WHEN raise_exception THEN
  RAISE NOTICE 'caught: %', SQLERRM;
END $$;
DROP TRIGGER refuse_asset ON geoetl.stac_asset;
DROP FUNCTION public.refuse_asset();
SELECT (SELECT count(*) FROM (SELECT * FROM pg_temp.store_now EXCEPT SELECT * FROM store_before) x) AS objects_new_or_changed,
       (SELECT count(*) FROM (SELECT * FROM store_before EXCEPT SELECT * FROM pg_temp.store_now) x) AS objects_gone,
       (SELECT count(*) FROM store_before) AS objects,
       (SELECT count(*) FROM pg_ls_dir(:'fixtures' || '/store/.staging') f WHERE f LIKE 'undo-%') AS kept_aside;
SELECT * FROM geoetl.stac_verify();
SELECT uri AS first_copy FROM geoetl.stac_asset WHERE mode = 'copy' ORDER BY item_id LIMIT 1 \gset
SELECT uri AS second_copy FROM geoetl.stac_asset WHERE mode = 'copy' ORDER BY item_id OFFSET 1 LIMIT 1 \gset
\i sql/include/write_file.psql
-- the second copy rewritten with as many bytes, the first one's row pointing at nothing
SELECT pg_temp.write_file(:'second_copy', repeat('x', (pg_stat_file(:'second_copy')).size::int));
UPDATE geoetl.stac_asset SET uri = replace(uri, '/red.tif', '/gone.tif') WHERE uri = :'first_copy';
SELECT pg_temp.write_file(:'fixtures' || '/store/stac/sentinel-2-l2a/stray.tif', 'nobody''s');
SELECT problem, item_id, asset, regexp_replace(detail, '^.*/store/', '<store>/') AS detail FROM geoetl.stac_verify();
-- bad input
SELECT pg_temp.e($$SELECT geoetl.stac_ingest('sentinel-2-l2a', '{B04}', ST_MakeEnvelope(33, -1, 35, 1, 4326), NULL)$$);
SELECT pg_temp.e($$SELECT geoetl.stac_ingest('sentinel-2-l2a', '{red}', ST_MakeEnvelope(33, -1, 35, 1, 4326), NULL, 'move')$$);
SELECT pg_temp.e($$SELECT geoetl.stac_ingest('sentinel-2-l2a', '{}', ST_MakeEnvelope(33, -1, 35, 1, 4326), NULL)$$);
SELECT pg_temp.e($$SELECT geoetl.stac_ingest(NULL, '{red}', ST_MakeEnvelope(33, -1, 35, 1, 4326), NULL)$$);
SELECT geoetl.stac_ingest('sentinel-2-l2a', '{red}', ST_MakeEnvelope(100, 10, 101, 11, 4326), NULL) AS outside_every_item;

TRUNCATE geoetl.stac_item, geoetl.stac_skipped CASCADE;
TRUNCATE geoetl.job RESTART IDENTITY;
