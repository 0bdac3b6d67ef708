-- The schema belongs to the extension (created here, not by the control file), so
-- DROP EXTENSION removes it with everything in it.
CREATE SCHEMA geoetl;
-- Roles. Global objects: created only when missing, never dropped with the extension.
--   geoetl_reader  reads results (areas, metrics, time series)
--   geoetl_writer  reader + manages areas and enqueues work
--   geoetl_admin   writer + manages sources, credentials and diagnostics
DO $roles$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['geoetl_reader', 'geoetl_writer', 'geoetl_admin'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
  IF NOT pg_catalog.pg_has_role('geoetl_writer', 'geoetl_reader', 'MEMBER') THEN
    GRANT geoetl_reader TO geoetl_writer;
  END IF;
  IF NOT pg_catalog.pg_has_role('geoetl_admin', 'geoetl_writer', 'MEMBER') THEN
    GRANT geoetl_writer TO geoetl_admin;
  END IF;
END
$roles$;

COMMENT ON ROLE geoetl_reader IS 'geoetl: may read areas and results';
COMMENT ON ROLE geoetl_writer IS 'geoetl: geoetl_reader plus managing areas and enqueueing work';
COMMENT ON ROLE geoetl_admin IS 'geoetl: geoetl_writer plus sources, credentials and diagnostics';
