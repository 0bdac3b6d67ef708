-- The catalog: datasets, registering Black Marble granules, and every kind of bad file.
-- Granules written by scripts/check.sh (test/fixtures/make_blackmarble.cpp) into
-- GEOETL_FIXTURES/blackmarble: VNP46A2, collection 2, tiles h21v08 and h22v08, 2024-02-28..03-01.
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv fixtures GEOETL_FIXTURES
\set folder :fixtures '/blackmarble'
SELECT set_config('geoetl_test.folder', :'folder', false) IS NOT NULL AS ready;
CREATE FUNCTION pg_temp.copy_file(src text, dst text, keep_bytes int DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  content bytea := pg_read_binary_file(src);
  o oid;
BEGIN
  IF keep_bytes IS NOT NULL THEN content := substring(content FROM 1 FOR keep_bytes); END IF;
  o := lo_from_bytea(0, content);
  PERFORM lo_export(o, dst);
  PERFORM lo_unlink(o);
END $$;
\i sql/include/write_file.psql
CREATE FUNCTION pg_temp.short(uri text) RETURNS text LANGUAGE sql AS $$
  SELECT replace(uri, current_setting('geoetl_test.folder'), '<folder>') $$;

-- the datasets seeded at install
SELECT product, cadence, default_layer, citation LIKE 'Román%' AS cited FROM geoetl.dataset ORDER BY product;

-- register the folder: two tiles x three days, 29 February included
SELECT geoetl.register_rasters('VNP46A2', :'folder') AS registered;
SELECT product, date, tile_h, tile_v, collection, production, bytes > 0 AS has_bytes,
       ST_AsText(footprint) AS footprint
  FROM geoetl.raster ORDER BY date, tile_h;
-- again: nothing changes
SELECT geoetl.register_rasters('VNP46A2', :'folder') AS registered_again;

-- a reprocessed file (newer production) replaces its date and tile; an older one does not
SELECT pg_temp.copy_file(:'folder' || '/VNP46A2.A2024060.h21v08.002.2024069123456.h5',
                         :'folder' || '/VNP46A2.A2024060.h21v08.002.2024099000000.h5'),
       pg_temp.copy_file(:'folder' || '/VNP46A2.A2024060.h22v08.002.2024069123456.h5',
                         :'folder' || '/VNP46A2.A2024060.h22v08.002.2024001000000.h5');
SELECT geoetl.register_rasters('VNP46A2', :'folder') AS replaced;
SELECT date, tile_h, production, pg_temp.short(uri) AS uri FROM geoetl.raster
 WHERE date = '2024-02-29' ORDER BY tile_h;

-- bad files are recorded with the reason and never registered
SELECT pg_temp.write_file(:'folder' || '/VNP46A2.A2024062.h21v08.002.2024071000000.h5',
                          '<html><body>Please log in to Earthdata</body></html>'),
       pg_temp.copy_file(:'folder' || '/VNP46A2.A2024061.h22v08.002.2024070123456.h5',
                         :'folder' || '/VNP46A2.A2024062.h22v08.002.2024071000000.h5', 3000),
       pg_temp.write_file(:'folder' || '/VNP46A2.A2023366.h21v08.002.2024001000000.h5', 'x'),
       pg_temp.write_file(:'folder' || '/VNP46A2_notes.txt', 'ignored: another name'),
       pg_temp.write_file(:'folder' || '/README.txt', 'ignored: another name');
SELECT geoetl.register_rasters('VNP46A2', :'folder') AS registered_with_bad_files;
SELECT pg_temp.short(uri) AS uri, product, date, regexp_replace(pg_temp.short(reason), ': .*', '') AS reason
  FROM geoetl.raster_invalid ORDER BY uri;
SELECT count(*) AS usable FROM geoetl.raster;

-- a registered file that breaks is taken out of use at the next registration, and the older
-- production of its date and tile, still good, takes its place
SELECT pg_temp.copy_file(:'folder' || '/VNP46A2.A2024060.h21v08.002.2024099000000.h5',
                         :'folder' || '/VNP46A2.A2024060.h21v08.002.2024099000000.h5', 5000);
SELECT geoetl.register_rasters('VNP46A2', :'folder') AS after_breaking;
SELECT date, tile_h, production FROM geoetl.raster WHERE date = '2024-02-29' ORDER BY tile_h;
SELECT count(*) AS usable FROM geoetl.raster;
SELECT count(*) AS invalid FROM geoetl.raster_invalid;

-- product and tile rules, each stated once: a product's cadence is geoetl.dataset's, and the
-- core (which reads the files by it) agrees for every product listed
SELECT d.product, d.cadence, geoetl._product_cadence(d.product) = d.cadence AS from_dataset,
       (geoetl._granule(d.product || '.A2024060.h21v08.002.2024069123456.h5')).cadence = d.cadence AS core_agrees
  FROM geoetl.dataset d ORDER BY d.product;
SELECT geoetl._product_cadence('VNP99') IS NULL AS unknown_product, geoetl._product_names(', ') AS products,
       geoetl._product_names(' or ', ARRAY['monthly']) AS monthly;
-- a granule's file name, read by the core's parser; anything else is NULL
SELECT * FROM geoetl._granule('/data/blackmarble/VNP46A2.A2024060.h21v08.002.2024069123456.h5');
SELECT geoetl._granule(n) IS NULL AS not_a_granule, n
  FROM unnest(ARRAY['VNP46A2.A2024060.h21v08.h5', 'VNP46A2.A2024060.h36v08.002.2024069123456.h5',
                    'VNP46A2.A2023366.h21v08.002.2024069123456.h5', 'VNP46A2_notes.txt', '']) n;
-- a tile's name and back
SELECT geoetl._tile_name(21, 8) AS h21v08, geoetl._tile_name(0, 17) AS h00v17, geoetl._tile_name(NULL, 8) AS null_h;
SELECT t AS tile, (geoetl._tile_hv(t)).* FROM unnest(ARRAY['h21v08', 'h35v17', 'h36v08', 'h21v18', 'h1v8', 'x']) t;
-- the days of a product's granules by its cadence
SELECT count(*) AS daily_days FROM geoetl._product_days('VNP46A2', '2024-02-01', '2024-03-31');
SELECT array_agg(d) AS monthly_days FROM geoetl._product_days('VNP46A3', '2024-01-15', '2024-03-31') d;
SELECT pg_temp.err($$SELECT geoetl._product_days('VNP99', '2024-01-01', '2024-01-02')$$);
-- the granules of a month: the month's usable and invalid files of the given tiles
SELECT geoetl._tile_name(tile_h, tile_v) AS tile, date FROM geoetl._month_granules('VNP46A2', '2024-02-10', '{h22v08}') ORDER BY date;
SELECT count(*) AS none_of_h21v09 FROM geoetl._month_granules('VNP46A2', '2024-02-01', '{h21v09}');
SELECT count(*) AS march_h21v08 FROM geoetl._month_granules('VNP46A2', '2024-03-31', '{h21v08,h22v08}');
SELECT regexp_replace(uri, '^.*/', '') AS invalid_in_march
  FROM geoetl._month_invalid_granules('VNP46A2', '2024-03-01', '{h21v08,h22v08}') ORDER BY uri;

-- bad calls
SELECT pg_temp.err('SELECT geoetl.register_rasters(''VNP99'', ''/tmp'')');
SELECT pg_temp.err('SELECT geoetl.register_rasters(NULL, ''/tmp'')');
SELECT pg_temp.short(pg_temp.err(format('SELECT geoetl.register_rasters(%L, %L)', 'VNP46A2', :'folder' || '/nope')));
SELECT pg_temp.err('SELECT geoetl.register_rasters(''VNP46A2'', ''relative/folder'')');
-- only admins register, and only below geoetl.allowed_sources
CREATE ROLE geoetl_catalog_writer IN ROLE geoetl_writer;
BEGIN;
SET LOCAL ROLE geoetl_catalog_writer;
SELECT pg_temp.err('SELECT geoetl.register_rasters(''VNP46A2'', ''/tmp'')');
SELECT count(*) >= 0 AS writer_reads_the_catalog FROM geoetl.raster;
ROLLBACK;
DROP ROLE geoetl_catalog_writer;

DELETE FROM geoetl.raster;
DELETE FROM geoetl.raster_invalid;
