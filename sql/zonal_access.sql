-- Who may read rasters: superusers anything; geoetl_admin members below geoetl.allowed_sources.
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv fixtures GEOETL_FIXTURES
\set small :fixtures '/small.tif'
CREATE ROLE geoetl_zonal_admin IN ROLE geoetl_admin;
CREATE ROLE geoetl_zonal_writer IN ROLE geoetl_writer;
CREATE FUNCTION pg_temp.as_role(r text, raster text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
  EXECUTE format('SET LOCAL ROLE %I', r);
  result := replace(pg_temp.err(format('SELECT count FROM geoetl.zonal_stats(%L, ST_MakeEnvelope(0, 0, 3, 3))', raster)),
                    current_setting('geoetl_test.fixtures'), '<fixtures>');
  RESET ROLE;
  RETURN result;
END $$;
SELECT set_config('geoetl_test.fixtures', :'fixtures', false) IS NOT NULL AS ready;

-- a writer may not read rasters at all
BEGIN;
SELECT pg_temp.as_role('geoetl_zonal_writer', :'small');
ROLLBACK;
-- an admin with no allowed source reads nothing
BEGIN;
SELECT pg_temp.as_role('geoetl_zonal_admin', :'small');
SELECT pg_temp.as_role('geoetl_zonal_admin', '/etc/passwd');
ROLLBACK;
-- with the fixtures folder allowed
SELECT set_config('geoetl.allowed_sources', '/nonexistent/, ' || :'fixtures', false) IS NOT NULL AS allowed;
BEGIN;
SELECT pg_temp.as_role('geoetl_zonal_admin', :'small');
SELECT pg_temp.as_role('geoetl_zonal_admin', :'fixtures' || '/missing.tif');
SELECT pg_temp.as_role('geoetl_zonal_admin', :'fixtures' || '/../../../../etc/passwd');
SELECT pg_temp.as_role('geoetl_zonal_admin', '/etc/passwd');
SELECT pg_temp.as_role('geoetl_zonal_admin', 'HDF5:"/etc/passwd"://x');
-- GDAL reads quotes as toggles: these name files outside the allowed folder
SELECT pg_temp.as_role('geoetl_zonal_admin', 'HDF5:"' || :'fixtures' || '/"../../../etc/passwd""://x');
SELECT pg_temp.as_role('geoetl_zonal_admin', 'NETCDF:"' || :'fixtures' || '/"../../../etc/passwd"":Band1');
SELECT pg_temp.as_role('geoetl_zonal_admin', '/vsicurl/http://127.0.0.1:1/x.tif');
SELECT pg_temp.as_role('geoetl_zonal_admin', 'http://127.0.0.1:1/x.tif');
ROLLBACK;
RESET geoetl.allowed_sources;
-- only superusers may change the allow-list
BEGIN;
SET LOCAL ROLE geoetl_zonal_admin;
SELECT pg_temp.err('SET geoetl.allowed_sources = ''/''');
ROLLBACK;
-- secrets are hidden from everyone but superusers
SELECT count(*) AS secrets_listed FROM pg_settings WHERE name IN ('geoetl.s3_secret_key', 'geoetl.s3_access_key');
BEGIN;
SET LOCAL ROLE geoetl_zonal_admin;
SELECT pg_temp.err('SHOW geoetl.s3_secret_key');
ROLLBACK;
DROP ROLE geoetl_zonal_admin;
DROP ROLE geoetl_zonal_writer;
