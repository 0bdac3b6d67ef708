-- The allow-list has no side door beside a file: sidecars planted next to a raster below an
-- allowed folder (a .msk VRT mask, an .aux.xml with a scale and an OVERVIEW_FILE, a .ovr symlink,
-- all naming <fixtures>/outside/zeros.tif, test/fixtures/tiff_writer.h) are never read: the
-- statistics are those of the file alone, for admins and superusers alike. The .ovr and the
-- OVERVIEW_FILE would be opened only for overviews, which geoetl's full-resolution reads never
-- use: what is checked here is what a read would show, the mask (every cell masked) and the scale.
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv fixtures GEOETL_FIXTURES
\getenv http GEOETL_HTTP
CREATE ROLE geoetl_sidecar_admin IN ROLE geoetl_admin;
CREATE FUNCTION pg_temp.stats(raster text) RETURNS text LANGUAGE sql AS $$
  SELECT format('%s cells, sum %s', count::numeric(12, 3), sum::numeric(14, 3))
    FROM geoetl.zonal_stats(raster, ST_MakeEnvelope(30.5, 0.5, 31.5, 1.5, 4326)) $$;
CREATE FUNCTION pg_temp.as_admin(raster text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
  SET LOCAL ROLE geoetl_sidecar_admin;
  result := pg_temp.stats(raster);
  RESET ROLE;
  RETURN result;
END $$;

-- only the folder with the sidecars is allowed, not <fixtures>/outside
SELECT set_config('geoetl.allowed_sources', :'fixtures' || '/sidecars/', false) IS NOT NULL AS allowed;
SELECT pg_temp.as_admin(:'fixtures' || '/sidecars/lights.tif') = pg_temp.stats(:'fixtures' || '/lights.tif')
       AS admin_reads_the_file_alone;
SELECT pg_temp.stats(:'fixtures' || '/sidecars/lights.tif') = pg_temp.stats(:'fixtures' || '/lights.tif')
       AS superuser_reads_the_file_alone;
-- (a read that honoured the .msk would see no cell, the .aux.xml's scale a sum 1000 times this)
SELECT pg_temp.as_admin(:'fixtures' || '/sidecars/lights.tif') AS admin_sees;
-- over HTTP the same (no folder is listed, no sidecar asked for)
SELECT pg_temp.stats(:'http' || '/sidecars/lights.tif') = pg_temp.stats(:'fixtures' || '/lights.tif')
       AS remote_reads_the_file_alone;
RESET geoetl.allowed_sources;
DROP ROLE geoetl_sidecar_admin;
