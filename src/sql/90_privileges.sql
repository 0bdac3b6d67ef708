-- Privileges, and a fixed search_path for every SQL-language function (so a caller's
-- search_path can neither break nor hijack them). Runs last: it covers everything above.

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA geoetl FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA geoetl FROM PUBLIC;

GRANT USAGE ON SCHEMA geoetl TO geoetl_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA geoetl TO geoetl_reader;
GRANT EXECUTE ON FUNCTION geoetl.version() TO geoetl_reader;

GRANT INSERT, UPDATE, DELETE ON geoetl.area TO geoetl_writer;
GRANT INSERT, UPDATE, DELETE ON geoetl.nightlight_monthly TO geoetl_writer;
GRANT EXECUTE ON FUNCTION
  geoetl.refresh_nightlights(bigint, date, date, text, float8, jsonb),
  geoetl._nightlight_inputs(bigint, date, text, float8, jsonb),
  geoetl.nightlight_metrics(geometry, date, text, float8, jsonb),
  geoetl.nightlight_metrics(bigint, date, text, float8, jsonb),
  geoetl._tiles_of(geometry),
  geoetl._parse_area_geojson(jsonb, boolean),
  geoetl._check_properties(jsonb),
  geoetl.add_area(text, jsonb, jsonb, boolean),
  geoetl.add_areas(jsonb, text, boolean),
  geoetl.update_area(bigint, jsonb, jsonb, boolean)
TO geoetl_writer;

GRANT EXECUTE ON FUNCTION
  geoetl._scan_granules(text, text),
  geoetl.register_rasters(text, text),
  geoetl.zonal_stats(text, geometry, int, text, float8, float8[]),
  geoetl.zonal_stats_many(text, bigint[], geometry[], int, text, float8, float8[]),
  geoetl.zonal_stats_areas(text, int, text, float8, float8[], bigint[]),
  geoetl.selftest_raise(text),
  geoetl.selftest_wait(float8),
  geoetl.selftest_live_objects()
TO geoetl_admin;

DO $search_path$
DECLARE
  postgis_schema name := (SELECT n.nspname FROM pg_catalog.pg_extension e
                          JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
                          WHERE e.extname = 'postgis');
  fn regprocedure;
BEGIN
  FOR fn IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
            JOIN pg_catalog.pg_language l ON l.oid = p.prolang
            WHERE p.pronamespace = 'geoetl'::regnamespace AND l.lanname IN ('sql', 'plpgsql') LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = geoetl, %I, pg_catalog, pg_temp',
                   fn, postgis_schema);
  END LOOP;
END
$search_path$;
