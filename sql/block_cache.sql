-- The shared block cache (geoetl preloaded, geoetl.shared_cache_mb at its default): blocks one
-- backend decoded serve the next backend; a file changed in place is read again; a cancelled or
-- terminated read leaves no slot pinned; remote sources and other readers keep out of it.
\set SHOW_CONTEXT never
\getenv fixtures GEOETL_FIXTURES
-- a copy of lights.tif (300 x 200 Float32 cells in 64 x 64 tiles: 20 blocks) no other test reads
\set copy :fixtures '/block_cache_lights.tif'
\! cp "$GEOETL_FIXTURES/lights.tif" "$GEOETL_FIXTURES/block_cache_lights.tif"
SELECT enabled, size_mb, slots, pinned FROM geoetl.shared_cache_stats();
SHOW geoetl.shared_cache_mb;

-- a first call reads one block, and keeps the answers that cost PROJ's database (the file's CRS,
-- the geometry CRS's bounds, that both CRSs are the same, the raster CRS's units)
SELECT count FROM geoetl.zonal_stats(:'copy', ST_MakeEnvelope(30, 1.99, 30.01, 2, 4326), coverage => 'center', quantiles => '{}');
CREATE TABLE block_cache_base AS SELECT * FROM geoetl.shared_cache_stats();
CREATE TABLE block_cache_first AS
  SELECT s.count, s.sum, s.min, s.max FROM geoetl.zonal_stats(:'copy', ST_MakeEnvelope(29, 0, 34, 3, 4326), quantiles => '{}') s;
-- every other block decoded once, one 64 kB slot each
SELECT s.inserts - b.inserts AS inserted, s.misses - b.misses AS missed, s.hits - b.hits AS hit, s.pinned, s.used >= 20 AS kept
  FROM geoetl.shared_cache_stats() s, block_cache_base b;

-- a new backend decodes nothing and asks PROJ nothing: 20 blocks and the 4 answers found (hit
-- counts the first backend's 1 too), and
-- gets the same statistics
\c
\set copy :fixtures '/block_cache_lights.tif'
SELECT (SELECT row(s.count, s.sum, s.min, s.max) FROM geoetl.zonal_stats(:'copy', ST_MakeEnvelope(29, 0, 34, 3, 4326), quantiles => '{}') s)
     = (SELECT row(f.count, f.sum, f.min, f.max) FROM block_cache_first f) AS same_statistics;
SELECT s.inserts - b.inserts AS inserted, s.hits - b.hits AS hit
  FROM geoetl.shared_cache_stats() s, block_cache_base b;

-- the file changed in place (same inode, GDAL's update mode): its first block now holds 1000
-- everywhere, and a new backend reads the new cells, not the cached ones
\! /usr/bin/python3 -c 'import os; from osgeo import gdal; import numpy as np; d = gdal.Open(os.environ["GEOETL_FIXTURES"] + "/block_cache_lights.tif", gdal.GA_Update); d.GetRasterBand(1).WriteArray(np.full((64, 64), 1000, np.float32)); d = None'
\c
\set copy :fixtures '/block_cache_lights.tif'
SELECT count, sum, min, max FROM geoetl.zonal_stats(:'copy', ST_MakeEnvelope(30, 1.36, 30.64, 2, 4326), coverage => 'center', quantiles => '{}');
SELECT (SELECT s.sum FROM geoetl.zonal_stats(:'copy', ST_MakeEnvelope(29, 0, 34, 3, 4326), quantiles => '{}') s)
    <> (SELECT sum FROM block_cache_first) AS whole_raster_changed;
\i sql/include/err.psql

-- a cancelled read (statement_timeout) and a terminated one (pg_terminate_backend from another
-- session, while it reads 1 MB blocks) leave no slot pinned; the cache goes on serving
\set slow :fixtures '/slow.tif'
SET statement_timeout = '300ms';
SELECT pg_temp.err(format('SELECT geoetl.zonal_stats(%L, ST_MakeEnvelope(0, 0, 20000, 20000), quantiles => ''{}'')', :'slow'));
RESET statement_timeout;
SELECT pinned FROM geoetl.shared_cache_stats();
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SELECT dblink_connect('reader', format('host=%s port=%s dbname=%s',
  split_part(current_setting('unix_socket_directories'), ',', 1),
  current_setting('port'), current_database())) AS connected;
SELECT dblink_exec('reader', 'SET application_name = ''geoetl_block_cache_test''') AS set;
SELECT dblink_send_query('reader', format('SELECT count::text FROM geoetl.zonal_stats(%L, ST_MakeEnvelope(0, 0, 20000, 20000), quantiles => ''{}'')', :'slow')) AS sent;
DO $$
DECLARE reader int;
BEGIN
  FOR i IN 1..600 LOOP
    PERFORM pg_stat_clear_snapshot();
    SELECT pid INTO reader FROM pg_stat_activity
     WHERE application_name = 'geoetl_block_cache_test' AND state = 'active';
    EXIT WHEN reader IS NOT NULL;
    PERFORM pg_sleep(0.05);
  END LOOP;
  PERFORM pg_sleep(0.3);
  PERFORM pg_terminate_backend(reader, 10000);  -- waits until it has gone
END $$;
SELECT pg_temp.err($$SELECT * FROM dblink_get_result('reader') AS r(x text)$$) ~ 'terminat|closed|server' AS reader_ended;
SELECT dblink_disconnect('reader') AS disconnected;
SELECT pinned FROM geoetl.shared_cache_stats();
SELECT count FROM geoetl.zonal_stats(:'copy', ST_MakeEnvelope(30, 1.36, 30.64, 2, 4326), coverage => 'center', quantiles => '{}');

-- remote sources are not kept (no file identity to key them by)
\getenv http GEOETL_HTTP
SELECT inserts AS before_remote FROM geoetl.shared_cache_stats() \gset
SELECT count FROM geoetl.zonal_stats(:'http' || '/lights.tif', ST_MakeEnvelope(29, 0, 34, 3, 4326), quantiles => '{}');
SELECT inserts - :before_remote AS inserted_for_remote FROM geoetl.shared_cache_stats();

-- only admins see the cache's figures
SET ROLE geoetl_reader;
SELECT pg_temp.err('SELECT * FROM geoetl.shared_cache_stats()');
RESET ROLE;
SET ROLE geoetl_admin;
SELECT enabled FROM geoetl.shared_cache_stats();
RESET ROLE;
DROP TABLE block_cache_base, block_cache_first;
\! rm -f "$GEOETL_FIXTURES/block_cache_lights.tif"
