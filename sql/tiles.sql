-- Monthly composites kept (save_composite) and night-light map tiles (render_tiles, tile), on the
-- generated February 2024 of scripts/check.sh (VNP46A2 and VNP46A3, tiles h21v08 and h22v08, 60
-- pixels a side), as the roles the README names; what the viewer reads (areas_geojson,
-- nightlight_series, viewer_manifest); every bad input.
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv fixtures GEOETL_FIXTURES
\set folder :fixtures '/nightlights'
\set store :fixtures '/tiles_store'
SELECT set_config('geoetl.store', :'store', false) IS NOT NULL AS store_set;
SELECT set_config('geoetl_test.fixtures', :'fixtures', false) IS NOT NULL AS ready;
-- a store of its own, empty at the start
SELECT format('COPY (SELECT 1) TO PROGRAM %L', 'rm -rf ' || :'store') AS empty_store \gset
:empty_store;
CREATE FUNCTION pg_temp.e(stmt text) RETURNS text LANGUAGE sql AS $$
  SELECT replace(pg_temp.err(stmt), current_setting('geoetl_test.fixtures'), '<fixtures>') $$;
\i sql/include/as_role.psql
-- an object's bytes on disk (the store is a local folder), NULL when there is none
CREATE FUNCTION pg_temp.object(key text) RETURNS bytea LANGUAGE sql AS $$
  SELECT pg_read_binary_file(current_setting('geoetl.store') || '/' || key, 0, 100000000, true) $$;
SELECT geoetl.register_rasters('VNP46A2', :'folder') >= 0 AS daily, geoetl.register_rasters('VNP46A3', :'folder') >= 0 AS monthly;
SELECT count(*) AS february_granules FROM geoetl.raster WHERE uri LIKE :'folder' || '/%' AND date < '2024-03-01';
TRUNCATE geoetl.job, geoetl.composite, geoetl.tile_render RESTART IDENTITY;
CREATE ROLE tiles_writer IN ROLE geoetl_writer;
CREATE ROLE tiles_reader IN ROLE geoetl_reader;

-- A composite: the file, its row, its grid
SELECT replace(geoetl.save_composite('VNP46A2', '2024-02-17', 'h21v08'), :'store', '<store>') AS uri;
SELECT product, month, tile, key, tile_size, valid_pixels, cardinality(files_used) AS files_used, files_invalid,
       options, bytes = length(pg_temp.object(key)) AS bytes_ok,
       sha256 = encode(sha256(pg_temp.object(key)), 'hex') AS sha256_ok
  FROM geoetl.composite;
-- the same numbers as nightlight_metrics: zonal_stats over the saved composite of the area's tile
-- (exact coverage, threshold 0.5, median and p90) equals the month's metrics of an area inside it
SELECT geoetl.add_area('tiles inside', '{"type":"Polygon","coordinates":[[[33.2,2.1],[37.9,2.3],[36.4,6.8],[33.2,2.1]]]}') AS inside \gset
SELECT abs(z.sum - n.sum_of_lights) <= 1e-9 * abs(n.sum_of_lights) AS sum_equal,
       abs(z.mean - n.mean_radiance) <= 1e-9 * abs(n.mean_radiance) AS mean_equal,
       z.max = n.max_radiance AS max_equal,
       abs(z.quantiles[1] - n.median_radiance) <= 1e-9 AS median_equal,
       abs(z.quantiles[2] - n.p90_radiance) <= 1e-9 AS p90_equal,
       abs(z.lit_share - n.lit_share) <= 1e-12 AS lit_share_equal,
       abs(z.stddev - n.stddev_radiance) <= 1e-9 * n.stddev_radiance AS stddev_equal,
       n.sum_of_lights > 0 AS lit
  FROM geoetl.nightlight_metrics(:inside, '2024-02-01') n,
       geoetl.zonal_stats((SELECT uri FROM geoetl.composite WHERE tile = 'h21v08'),
                          (SELECT geom FROM geoetl.area WHERE area_id = :inside), threshold => 0.5) z;
-- the same month again: nothing written (the file keeps its time and bytes)
SELECT saved_at AS first_saved FROM geoetl.composite WHERE tile = 'h21v08' \gset
SELECT geoetl._save_composite_month('VNP46A2', '2024-02-01', 'h21v08', '{}') - 'uri' AS again,
       geoetl._save_composite_month('VNP46A2', '2024-02-01', 'h21v08', '{"composite": "mean", "quality": [1, 0]}') - 'uri' AS same_options;
SELECT saved_at = :'first_saved' AS unchanged FROM geoetl.composite WHERE tile = 'h21v08';
-- other options make another composite: the median, kept in the same place
SELECT sha256 AS mean_sha FROM geoetl.composite WHERE tile = 'h21v08' \gset
SELECT geoetl._save_composite_month('VNP46A2', '2024-02-01', 'h21v08', '{"composite": "median"}') - 'uri' AS median;
SELECT sha256 <> :'mean_sha' AS changed, options->>'composite' AS composite, encode(sha256(pg_temp.object(key)), 'hex') = sha256 AS file_ok
  FROM geoetl.composite WHERE tile = 'h21v08';
SELECT geoetl._save_composite_month('VNP46A2', '2024-02-01', 'h21v08', '{}') - 'uri' AS back_to_mean;
-- a file removed behind geoetl's back is written again
SELECT format('COPY (SELECT 1) TO PROGRAM %L', 'rm ' || :'store' || '/' || key) AS rm FROM geoetl.composite WHERE tile = 'h21v08' \gset
:rm;
SELECT pg_temp.object(key) IS NULL AS gone FROM geoetl.composite WHERE tile = 'h21v08';
SELECT geoetl._save_composite_month('VNP46A2', '2024-02-01', 'h21v08', '{}') - 'uri' AS rewritten;
SELECT encode(sha256(pg_temp.object(key)), 'hex') = sha256 AS back FROM geoetl.composite WHERE tile = 'h21v08';
-- the monthly product (one granule per tile-month)
SELECT replace(geoetl.save_composite('VNP46A3', '2024-02-01', 'h22v08'), :'store', '<store>') AS monthly_uri;

-- Bad input: a clear error, nothing written
SELECT pg_temp.e($$SELECT geoetl.save_composite(NULL, '2024-02-01', 'h21v08')$$) AS null_product,
       pg_temp.e($$SELECT geoetl.save_composite('VNP46A2', NULL, 'h21v08')$$) AS null_month,
       pg_temp.e($$SELECT geoetl.save_composite('VNP46A2', '2024-02-01', NULL)$$) AS null_tile,
       pg_temp.e($$SELECT geoetl.save_composite('VNP46A2', '2024-02-01', 'h21v08', NULL)$$) AS null_options;
SELECT pg_temp.e($$SELECT geoetl.save_composite('VNP46A1', '2024-02-01', 'h21v08')$$) AS other_product,
       pg_temp.e($$SELECT geoetl.save_composite('vnp46a2', '2024-02-01', 'h21v08')$$) AS lower_case;
SELECT pg_temp.e($$SELECT geoetl.save_composite('VNP46A2', '2024-02-01', 'h36v08')$$) AS no_such_tile,
       pg_temp.e($$SELECT geoetl.save_composite('VNP46A2', '2024-02-01', 'h21v08/../../x')$$) AS path_in_tile,
       pg_temp.e($$SELECT geoetl.save_composite('VNP46A2', '2024-02-01', '')$$) AS empty_tile;
SELECT pg_temp.e($$SELECT geoetl.save_composite('VNP46A2', '2011-12-01', 'h21v08')$$) AS before_the_record,
       pg_temp.e($$SELECT geoetl.save_composite('VNP46A2', 'infinity', 'h21v08')$$) AS infinite;
SELECT pg_temp.e($$SELECT geoetl.save_composite('VNP46A2', '2024-02-01', 'h21v08', '{"composite": "max"}')$$) AS bad_option,
       pg_temp.e($$SELECT geoetl.save_composite('VNP46A2', '2024-02-01', 'h21v08', '[]')$$) AS not_an_object;
SELECT pg_temp.e($$SELECT geoetl.save_composite('VNP46A2', '2024-03-01', 'h21v08')$$) AS no_granules,
       pg_temp.e($$SELECT geoetl.save_composite('VNP46A2', '2024-02-01', 'h20v08')$$) AS tile_without_granules;
SELECT count(*) AS composites, count(*) FILTER (WHERE month <> '2024-02-01') AS others FROM geoetl.composite;
SELECT key FROM geoetl.store_list('composites/') ORDER BY key;

-- Map tiles: render_tiles enqueues one job per product, month, format and area (deduplicated)
SELECT geoetl.render_tiles('VNP46A2', '2024-02-10') AS job \gset
SELECT kind, args, dedupe_key, state FROM geoetl.job WHERE job_id = :job;
SELECT geoetl.render_tiles('VNP46A2', '2024-02-01') = :job AS same_job,
       geoetl.render_tiles('VNP46A2', '2024-02-01', format => 'pmtiles') <> :job AS pmtiles_job,
       geoetl.render_tiles('VNP46A2', '2024-02-01', :inside, 3, 9) <> :job AS area_job;
CALL geoetl.run_jobs(max_jobs => 10);
SELECT kind, args->>'format' AS format, args->>'area_id' IS NOT NULL AS area, state,
       result - 'bytes' - 'key' AS result, result->'bytes' > '0' AS bytes
  FROM geoetl.job ORDER BY job_id;
SELECT product, month, format, area_id IS NOT NULL AS area, min_zoom, max_zoom, boxes, key, tiles, written, empty,
       bytes > 0 AS bytes FROM geoetl.tile_render ORDER BY format, area_id NULLS FIRST;
-- the files: one per lit tile, none for the dark ones (the area's render, zooms 3-9, found its
-- tiles up to zoom 8 in place and added zoom 9); each the same bytes as tile()
SELECT count(*) AS files, sum(size) = (SELECT bytes FROM geoetl.tile_render WHERE format = 'xyz' AND area_id IS NULL) AS bytes,
       count(*) = (SELECT written FROM geoetl.tile_render WHERE format = 'xyz' AND area_id IS NULL) AS written
  FROM geoetl.store_list('tiles/VNP46A2/2024-02/') WHERE key !~ '/9/';
SELECT count(*) = (SELECT written FROM geoetl.tile_render WHERE format = 'xyz' AND area_id IS NOT NULL) AS zoom_9_written
  FROM geoetl.store_list('tiles/VNP46A2/2024-02/9/');
SELECT count(*) AS checked, bool_and(pg_temp.object(o.key) = geoetl.tile('VNP46A2', '2024-02-01', t[1]::int, t[2]::int, t[3]::int)) AS same_bytes
  FROM geoetl.store_list('tiles/VNP46A2/2024-02/') o,
       regexp_match(o.key, '^tiles/VNP46A2/2024-02/(\d+)/(\d+)/(\d+)\.png$') t
 WHERE o.key ~ '/(0|5|8)/';
-- a PNG of 256 x 256 RGBA pixels (bytes 16-25 of the header: width, height, bit depth 8, colour type 6)
SELECT substr(p, 1, 8) = '\x89504e470d0a1a0a'::bytea AS png, substr(p, 17, 10) = '\x0000010000000100 0806'::bytea AS rgba_256
  FROM geoetl.tile('VNP46A2', '2024-02-01', 8, 153, 127) p;
-- a tile without light: NULL, and no file; over no composite at all: NULL too
SELECT geoetl.tile('VNP46A2', '2024-02-01', 8, 10, 10) IS NULL AS far_away,
       pg_temp.object('tiles/VNP46A2/2024-02/8/10/10.png') IS NULL AS no_file;
-- the PMTiles archive: version 3, the size the row says
SELECT substr(p, 1, 8) = convert_to('PMTiles', 'UTF8') || '\x03'::bytea AS pmtiles_v3,
       length(p) = (SELECT bytes FROM geoetl.tile_render WHERE format = 'pmtiles') AS size_ok
  FROM pg_temp.object('tiles/VNP46A2/2024-02.pmtiles') p;
-- again: an unchanged month writes nothing
SELECT geoetl._render_month('{"product": "VNP46A2", "month": "2024-02-01"}') - 'key' AS xyz_again,
       geoetl._render_month('{"product": "VNP46A2", "month": "2024-02-01", "format": "pmtiles"}') - 'key' AS pmtiles_again;
-- a changed month re-renders: a night of h22v08 less changes its composite and the tiles over
-- it, which are written; the tiles over h21v08 alone are left as they are
DELETE FROM geoetl.raster WHERE product = 'VNP46A2' AND tile_h = 22 AND date = '2024-02-14';
SELECT r->'composites_written' AS composites_written, r->'skipped' AS skipped, (r->>'written')::int > 0 AS some_written,
       (r->>'unchanged')::int > 0 AS some_unchanged
  FROM geoetl._render_month('{"product": "VNP46A2", "month": "2024-02-01"}') r;
SELECT geoetl.register_rasters('VNP46A2', :'folder') > 0 AS registered_again;
SELECT count(*) AS checked, bool_and(pg_temp.object(o.key) = geoetl.tile('VNP46A2', '2024-02-01', t[1]::int, t[2]::int, t[3]::int)) AS same_bytes
  FROM geoetl.store_list('tiles/VNP46A2/2024-02/') o,
       regexp_match(o.key, '^tiles/VNP46A2/2024-02/(\d+)/(\d+)/(\d+)\.png$') t;

-- Different zooms are another job; an area's archive is its own, the month's stays whole
SELECT geoetl.render_tiles('VNP46A2', '2024-02-01', max_zoom => 6) <> geoetl.render_tiles('VNP46A2', '2024-02-01') AS other_zooms_other_job;
TRUNCATE geoetl.job;
SELECT encode(sha256(pg_temp.object('tiles/VNP46A2/2024-02.pmtiles')), 'hex') AS month_archive \gset
SELECT replace(r->>'key', 'area-' || :inside, 'area-<id>') AS area_archive, (r->>'tiles')::int > 0 AS rendered
  FROM geoetl._render_month(format('{"month": "2024-02-01", "format": "pmtiles", "area_id": %s, "min_zoom": 5}', :inside)::jsonb) r;
SELECT encode(sha256(pg_temp.object('tiles/VNP46A2/2024-02.pmtiles')), 'hex') = :'month_archive' AS month_archive_whole,
       geoetl._render_month('{"month": "2024-02-01", "format": "pmtiles"}')->'skipped' AS month_skipped;
-- A render too big for one job is refused before a tile is listed: a whole-world area at zoom 16
SELECT geoetl.add_area('tiles world', '{"type":"Polygon","coordinates":[[[-179,-80],[179,-80],[179,80],[-179,80],[-179,-80]]]}') AS world \gset
SELECT pg_temp.e(format('SELECT geoetl.render_tiles(%L, %L, %s, 0, 16)', 'VNP46A2', '2024-02-01', :world)) AS too_big,
       pg_temp.e(format('SELECT geoetl._render_month(%L)', format('{"month": "2024-02-01", "area_id": %s, "max_zoom": 16}', :world))) AS too_big_job;
-- An area deleted after its job was enqueued
SELECT geoetl.render_tiles('VNP46A2', '2024-02-01', :world, 0, 2) AS gone_job \gset
DELETE FROM geoetl.area WHERE area_id = :world;
SELECT replace(pg_temp.e(format('SELECT geoetl._render_month(%L)', (SELECT args FROM geoetl.job WHERE job_id = :gone_job))),
               'area ' || :world, 'area <id>') AS area_gone;
TRUNCATE geoetl.job;

-- Bad input
SELECT pg_temp.e($$SELECT geoetl.render_tiles(NULL, '2024-02-01')$$) AS null_product,
       pg_temp.e($$SELECT geoetl.render_tiles('VNP46A2', '2024-02-01', min_zoom => NULL)$$) AS null_zoom,
       pg_temp.e($$SELECT geoetl.render_tiles('VNP46A2', '2024-02-01', format => 'mbtiles')$$) AS bad_format;
SELECT pg_temp.e($$SELECT geoetl.render_tiles('VNP46A2', '2024-02-01', min_zoom => 5, max_zoom => 4)$$) AS zooms_reversed,
       pg_temp.e($$SELECT geoetl.render_tiles('VNP46A2', '2024-02-01', min_zoom => -1)$$) AS negative_zoom,
       pg_temp.e($$SELECT geoetl.render_tiles('VNP46A2', '2024-02-01', max_zoom => 17)$$) AS too_deep;
SELECT pg_temp.e($$SELECT geoetl.render_tiles('VNP46A2', '2024-02-01', area_id => -5)$$) AS no_area,
       pg_temp.e($$SELECT geoetl.render_tiles('VNP46A2', '2024-05-01')$$) AS no_granules,
       pg_temp.e($$SELECT geoetl.render_tiles('VNP46A1', '2024-02-01')$$) AS bad_product;
SELECT pg_temp.e($$SELECT geoetl._render_month('{"month": "2024-04-01"}')$$) AS job_without_granules,
       pg_temp.e($$SELECT geoetl._render_month('{"month": "2024-02-01", "zoom": 3}')$$) AS unknown_argument,
       pg_temp.e($$SELECT geoetl._render_month('{"month": "2024-02-01", "max_zoom": 40}')$$) AS bad_job;
SELECT pg_temp.e($$SELECT geoetl.tile('VNP46A2', '2024-02-01', 31, 0, 0)$$) AS zoom_31,
       pg_temp.e($$SELECT geoetl.tile('VNP46A2', '2024-02-01', 2, 4, 0)$$) AS x_outside,
       pg_temp.e($$SELECT geoetl.tile('VNP46A2', '2024-02-01', 2, 0, -1)$$) AS y_negative;
SELECT pg_temp.e($$SELECT geoetl.tile('VNP46A2', '2024-02-01', NULL, 0, 0)$$) AS null_z,
       pg_temp.e($$SELECT geoetl.tile('VNP46A2', '2024-06-01', 0, 0, 0)$$) AS no_composites,
       pg_temp.e($$SELECT geoetl.tile('VNP46A3', '2011-01-01', 0, 0, 0)$$) AS before_the_record;

-- What the viewer reads
SELECT geoetl.refresh_nightlights(:inside, '2024-02-01', '2024-02-01') AS rows_changed;
SELECT f->'type' AS type, f->'geometry'->'type' AS geometry,
       (f->'properties') - '{area_id,area_km2,sum_of_lights,lit_share,lit_area_km2,mean_radiance,coverage}'::text[] AS properties,
       (f->'properties'->>'area_id')::bigint = :inside AS area_id_ok,
       (f->'properties'->>'sum_of_lights')::float8 = (SELECT sum_of_lights FROM geoetl.nightlight_monthly WHERE area_id = :inside) AS sum_ok
  FROM jsonb_array_elements(geoetl.areas_geojson()->'features') f WHERE (f->>'id')::bigint = :inside;
SELECT geoetl.areas_geojson()->>'type' AS type,
       jsonb_array_length(geoetl.areas_geojson()->'features') = (SELECT count(*) FROM geoetl.area) AS every_area,
       geoetl.areas_geojson('VNP46A3')->'features'->0->'properties'->'month' AS no_metrics_month;
SELECT s->'name' AS name, s->'product' AS product, jsonb_array_length(s->'months') AS months,
       s->'months'->0->>'month' AS first, (s->'months'->0->>'lit_share')::float8 >= 0 AS lit_share
  FROM geoetl.nightlight_series(:inside) s;
SELECT pg_temp.e($$SELECT geoetl.nightlight_series(NULL)$$) AS null_area,
       pg_temp.e($$SELECT geoetl.nightlight_series(-1)$$) AS no_area,
       jsonb_array_length(geoetl.nightlight_series(:inside, 'VNP46A3')->'months') AS no_months;
SELECT geoetl.viewer_manifest();
SELECT geoetl.viewer_manifest('VNP46A3');

-- Roles: readers see tiles and the viewer's data, writers save composites and render, only the
-- extension's owner runs the C functions behind them
SELECT pg_temp.as_role('tiles_reader', $$SELECT length(geoetl.tile('VNP46A2', '2024-02-01', 8, 153, 127)) > 0$$) AS reader_tile,
       pg_temp.as_role('tiles_reader', format('SELECT geoetl.areas_geojson(), geoetl.nightlight_series(%s), geoetl.viewer_manifest()', :inside)) AS reader_viewer;
SELECT pg_temp.as_role('tiles_reader', $$SELECT geoetl.save_composite('VNP46A2', '2024-02-01', 'h21v08')$$) AS reader_save,
       pg_temp.as_role('tiles_reader', $$SELECT geoetl.render_tiles('VNP46A2', '2024-02-01')$$) AS reader_render;
SELECT pg_temp.as_role('tiles_writer', $$SELECT geoetl.save_composite('VNP46A2', '2024-02-01', 'h21v08')$$) AS writer_save,
       pg_temp.as_role('tiles_writer', $$SELECT geoetl.render_tiles('VNP46A2', '2024-02-01', max_zoom => 2)$$) AS writer_render;
SELECT pg_temp.as_role('tiles_writer', $$SELECT geoetl._render_tile('{composites/VNP46A2/2024-02/VNP46A2.2024-02.h21v08.tif}', 0, 0, 0)$$) AS writer_render_tile,
       pg_temp.as_role('tiles_writer', $$SELECT geoetl._save_composite('{/etc/passwd}', 'x.tif', NULL, NULL, true, true, 'clamp', 1, false)$$) AS writer_c,
       pg_temp.as_role('tiles_writer', $$SELECT geoetl._render_xyz('{x}', 'tiles/x', '{0,0,1,1}', 0)$$) AS writer_xyz;
-- the C functions' own checks (as the owner)
SELECT pg_temp.e($$SELECT geoetl._render_xyz('{composites/VNP46A2/2024-02/VNP46A2.2024-02.h21v08.tif}', 'tiles/x', '{0,0,1}', 0)$$) AS three_numbers,
       pg_temp.e($$SELECT geoetl._render_xyz('{composites/VNP46A2/2024-02/VNP46A2.2024-02.h21v08.tif}', '../x', '{0,0,1,1}', 0)$$) AS bad_prefix,
       pg_temp.e($$SELECT geoetl._render_tile('{composites/nothing.tif}', 0, 0, 0)$$) AS missing_composite;
SELECT pg_temp.as_role('tiles_writer', $$INSERT INTO geoetl.composite VALUES ('VNP46A2', '2024-03-01', 'h21v08', 'k', '/etc/passwd', '{}', '', 0, '', 1, 0, '{}', '{}')$$) AS writer_forges_composite,
       pg_temp.as_role('tiles_writer', $$UPDATE geoetl.composite SET key = '../../etc/passwd'$$) AS writer_moves_composite;
-- a writer's job runs as the writer, and still writes the store
CALL geoetl.run_jobs(max_jobs => 10);
SELECT state, enqueued_by, result->'tiles' AS tiles FROM geoetl.job WHERE args->>'max_zoom' = '2';

-- A cancelled render (statement_timeout) leaves the archive as it was, and nothing staged
SELECT encode(sha256(pg_temp.object('tiles/VNP46A2/2024-02.pmtiles')), 'hex') AS archive_sha \gset
DELETE FROM geoetl.tile_render WHERE format = 'pmtiles';
SET statement_timeout = '300ms';
SELECT pg_temp.e($$SELECT geoetl._render_month('{"month": "2024-02-01", "format": "pmtiles", "max_zoom": 13}')$$) AS cancelled;
RESET statement_timeout;
SELECT encode(sha256(pg_temp.object('tiles/VNP46A2/2024-02.pmtiles')), 'hex') = :'archive_sha' AS archive_unchanged,
       (SELECT count(*) FROM geoetl.tile_render WHERE format = 'pmtiles') AS pmtiles_rows;
-- A damaged composite: tile() says which file; save_composite writes it again (its size changed)
SELECT format('COPY (SELECT 1) TO PROGRAM %L', 'truncate -s 500 ' || :'store' || '/' || key) AS cut
  FROM geoetl.composite WHERE product = 'VNP46A2' AND tile = 'h21v08' \gset
:cut;
SELECT pg_temp.e($$SELECT geoetl.tile('VNP46A2', '2024-02-01', 8, 153, 127)$$) AS damaged;
SELECT geoetl._save_composite_month('VNP46A2', '2024-02-01', 'h21v08', '{}') - 'uri' AS mended;
SELECT length(geoetl.tile('VNP46A2', '2024-02-01', 8, 153, 127)) > 0 AS tile_again;

-- Nothing staged left behind
SELECT count(*) AS staged FROM pg_ls_dir(:'store' || '/.staging') f;
DELETE FROM geoetl.area WHERE area_id = :inside;
SELECT count(*) AS renders_of_the_area FROM geoetl.tile_render WHERE area_id IS NOT NULL;
TRUNCATE geoetl.job;
DROP ROLE tiles_writer, tiles_reader;
