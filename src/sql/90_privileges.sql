-- Privileges, and a fixed search_path for every SQL-language function (so a caller's
-- search_path can neither break nor hijack them). Runs last: it covers everything above.

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA geoetl FROM PUBLIC;
REVOKE ALL ON ALL PROCEDURES IN SCHEMA geoetl FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA geoetl FROM PUBLIC;

GRANT USAGE ON SCHEMA geoetl TO geoetl_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA geoetl TO geoetl_reader;
REVOKE ALL ON geoetl.secret FROM geoetl_reader;  -- superusers only; read by the C code as one
GRANT EXECUTE ON FUNCTION geoetl.version() TO geoetl_reader;
GRANT EXECUTE ON FUNCTION geoetl.espi_fetch_end(timestamptz, int) TO geoetl_reader;
GRANT EXECUTE ON FUNCTION geoetl._package_failure(bigint) TO geoetl_reader;  -- in package_status
-- what the viewer page and BI tools read (tile() renders from geoetl's own composites only)
GRANT EXECUTE ON FUNCTION geoetl.tile(text, date, int, int, int),
                          geoetl.areas_geojson(text),
                          geoetl.nightlight_series(bigint, text),
                          geoetl.viewer_manifest(text) TO geoetl_reader;
GRANT EXECUTE ON FUNCTION geoetl._check_extent(float8, float8, float8, float8, text, text),
                          geoetl._check_coordinates(geometry, text) TO geoetl_reader;
-- reads as the caller: the source table's own privileges and row security apply
GRANT EXECUTE ON FUNCTION
  geoetl.aggregate_window(regclass, name, text[], interval, timestamptz, timestamptz, timestamptz, name)
TO geoetl_reader;

GRANT INSERT, UPDATE, DELETE ON geoetl.area TO geoetl_writer;
-- the expression of the index area_slug_idx, run as whoever writes an area
GRANT EXECUTE ON FUNCTION geoetl._area_slug(text, bigint) TO geoetl_writer;
GRANT INSERT, UPDATE, DELETE ON geoetl.nightlight_monthly TO geoetl_writer;
-- The tables whose rows steer code (job, job_kind, window_pipeline, window_late) are written
-- only through geoetl._trusted_call (02_trusted.sql), which checks the role that calls.
GRANT EXECUTE ON FUNCTION geoetl._trusted_call(regprocedure, jsonb) TO geoetl_writer;
-- what the admins' functions write (register_rasters, fetch_blackmarble and its jobs,
-- stac_search, stac_ingest), and no more: a row of geoetl.raster must name a file its writer may
-- read (trigger raster_check); a fetch request's creator and time take their defaults
GRANT INSERT, UPDATE, DELETE ON geoetl.raster, geoetl.raster_invalid TO geoetl_admin;
-- a row of geoetl.source must name a location its writer may read (trigger source_check)
GRANT INSERT (name, version, kind, location, options), UPDATE (location, options), DELETE
  ON geoetl.source TO geoetl_admin;
GRANT INSERT (area_id, product, from_date, to_date, tiles) ON geoetl.fetch_request TO geoetl_admin;
GRANT INSERT, UPDATE ON geoetl.granule_fetch, geoetl.stac_item, geoetl.stac_skipped, geoetl.stac_asset
TO geoetl_admin;
-- what the ESPI jobs write as the admin who enqueued them (feeds and their tokens only through
-- geoetl._trusted_call)
GRANT INSERT ON geoetl.espi_run TO geoetl_admin;
GRANT INSERT, UPDATE ON geoetl.energy_reading, geoetl.espi_file, geoetl.espi_usage_point TO geoetl_admin;
GRANT EXECUTE ON FUNCTION
  geoetl.refresh_nightlights(bigint, date, date, text, float8, jsonb),
  geoetl._nightlight_inputs(bigint, date, text, float8, jsonb),
  geoetl._nightlight_options(jsonb, text),
  geoetl._nightlight_product(text),
  geoetl._product_cadence(text),
  geoetl._product_names(text, text[]),
  geoetl._tile_name(int, int),
  geoetl._month_granules(text, date, text[]),
  geoetl._month_invalid_granules(text, date, text[]),
  geoetl._check_area_months(bigint, date, date),
  geoetl._check_dates(text, date, date),
  geoetl._check_finite(text, timestamptz),
  geoetl.nightlight_metrics(geometry, date, text, float8, jsonb),
  geoetl.nightlight_metrics(bigint, date, text, float8, jsonb),
  geoetl._tiles_of(geometry),
  geoetl._geometry_type_name(geometry),
  geoetl._polygon_hint(geometry),
  geoetl._check_srid(geometry, text),
  geoetl._geojson_srid(jsonb),
  geoetl._geojson_geometry(jsonb),
  geoetl._area_name_text(text),
  geoetl._parse_area_geojson(jsonb, boolean),
  geoetl._check_properties(jsonb),
  geoetl.add_area(text, jsonb, jsonb, boolean),
  geoetl.add_areas(jsonb, text, boolean),
  geoetl.update_area(bigint, jsonb, jsonb, boolean),
  geoetl.enqueue(text, jsonb, int, timestamptz, text, int),
  geoetl.enqueue_nightlights(bigint, date, date, text, int),
  geoetl.report_progress(text),
  geoetl.cancel_job(bigint),
  geoetl.retry_job(bigint),
  geoetl._job_nightlight_month(jsonb),
  geoetl.save_composite(text, date, text, jsonb),
  geoetl._save_composite_month(text, date, text, jsonb),
  geoetl._job_save_composite(jsonb),
  geoetl.render_tiles(text, date, bigint, int, int, text),
  geoetl._check_composite_month(text, date),
  geoetl._render_tiles_of(text, date, bigint),
  geoetl._render_boxes(text, date, bigint),
  geoetl._tile_box(text),
  geoetl._tile_hv(text),
  geoetl._tile_count(float8[], int, int),
  geoetl._render_month(jsonb),
  geoetl._job_render_tiles(jsonb),
  geoetl.create_window_pipeline(text, regclass, name, text[], interval, name, text[], name, interval),
  geoetl.run_window_pipeline(text, timestamptz),
  geoetl.backfill_window_pipeline(text, timestamptz, timestamptz),
  geoetl.drop_window_pipeline(text),
  geoetl._window_mark_late(),
  geoetl._window_signals(text[], text[]),
  geoetl._window_write(geoetl.window_pipeline, timestamptz, timestamptz, text[]),
  geoetl._aggregate_window_groups(regclass, name, text[], interval, timestamptz, timestamptz, timestamptz, name, text[]),
  geoetl._window_target(name, name, text),
  geoetl._window_lock(text, boolean),
  geoetl._window_check_source(text, regclass, name),
  geoetl._window_check_name(text),
  geoetl._window_check_settings(interval, text[], interval),
  geoetl._window_foreign(text),
  geoetl._window_op(jsonb),
  geoetl._window_as_owner(jsonb),
  geoetl._window_rewrite_late(geoetl.window_pipeline),
  geoetl._job_window_pipeline(jsonb),
  geoetl.create_package(bigint, text[], jsonb),
  geoetl._job_package_resource(jsonb),
  geoetl._job_package_publish(jsonb),
  geoetl._package_table_features(jsonb)
TO geoetl_writer;

GRANT EXECUTE ON FUNCTION
  geoetl._scan_granules(text, text),
  geoetl._check_raster_source(text),
  geoetl.register_rasters(text, text),
  geoetl.zonal_stats(text, geometry, int, text, float8, float8[]),
  geoetl.zonal_stats_many(text, bigint[], geometry[], int, text, float8, float8[]),
  geoetl.zonal_stats_areas(text, int, text, float8, float8[], bigint[]),
  geoetl.selftest_raise(text),
  geoetl.selftest_wait(float8),
  geoetl.selftest_live_objects(),
  geoetl.shared_cache_stats(),
  geoetl.register_job_kind(text, regprocedure, interval, int, interval, interval, text),
  geoetl._run_handler(regprocedure, jsonb, regrole),
  geoetl.http_get(text, jsonb),
  geoetl._http(text, text, text[], text[], text),
  geoetl.http_post(text, text, jsonb),
  geoetl._http_request(text, jsonb),
  geoetl.store_list(text),
  geoetl._store_sweep(bigint),
  geoetl.store_sweep(interval),
  geoetl._store_fetch(text, text, text, boolean),
  geoetl._laads_get(text),
  geoetl._product_days(text, date, date),
  geoetl._tile_hv(text),
  geoetl._granule(text),
  geoetl.fetch_blackmarble(text, bigint, date, date),
  geoetl._job_fetch_blackmarble(jsonb),
  geoetl._chain_nightlights(text, date),
  geoetl._stac_datetime(tstzrange),
  geoetl._check_period(tstzrange),
  geoetl._stac_page(text, jsonb, int, int),
  geoetl.stac_search(text, text[], geometry, tstzrange, jsonb, int),
  geoetl._job_stac_search(jsonb),
  geoetl._stac_area(geometry),
  geoetl.stac_ingest(text, text[], geometry, tstzrange, text),
  geoetl._store_sha256(text),
  geoetl.stac_verify(),
  geoetl._job_register_rasters(jsonb),
  geoetl._recover_jobs(),
  geoetl._claim_job(),
  geoetl._hold_job(bigint),
  geoetl._finish_job(bigint, boolean, jsonb, text, text, text),
  geoetl.prune_jobs(interval),
  geoetl._require_pg_cron(),
  geoetl.schedule_pruning(interval, text),
  geoetl.schedule_worker(text, text, int),
  geoetl.unschedule_worker(text),
  geoetl._source_options(text, jsonb),
  geoetl._probe_source(text),
  geoetl._probe_table_source(text, jsonb),
  geoetl._source_check(),
  geoetl.add_source(text, text, text, jsonb),
  geoetl.remove_source(text, text),
  geoetl._espi_usage_point(text),
  geoetl._espi_raw_name(text),
  geoetl.add_espi_feed(text, text, text, int, interval, text, text, text),
  geoetl.set_espi_token(bigint, text),
  geoetl.remove_espi_feed(bigint),
  geoetl._espi_fetch(bigint, timestamptz, timestamptz, text, timestamptz),
  geoetl.fetch_espi(bigint, timestamptz),
  geoetl._job_espi_fetch(jsonb),
  geoetl._espi_load(text, bigint, text, int, timestamptz),
  geoetl._job_espi_parse(jsonb),
  geoetl.parse_espi(text)
TO geoetl_admin;
GRANT EXECUTE ON PROCEDURE geoetl.run_jobs(int, int) TO geoetl_admin;
-- schedule_worker and schedule_pruning as pg_cron's documentation lets other users schedule
-- (their jobs then run as them); a pg_cron created later needs this GRANT from a superuser
DO $cron$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
    GRANT USAGE ON SCHEMA cron TO geoetl_admin;
  END IF;
END
$cron$;

-- Every job kind this script created is built in: register_job_kind cannot change it.
UPDATE geoetl.job_kind SET builtin = true;

DO $search_path$
DECLARE
  postgis_schema name := (SELECT n.nspname FROM pg_catalog.pg_extension e
                          JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
                          WHERE e.extname = 'postgis');
  fn regprocedure;
BEGIN
  FOR fn IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
            JOIN pg_catalog.pg_language l ON l.oid = p.prolang
            WHERE p.pronamespace = 'geoetl'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
              AND p.prokind = 'f' LOOP  -- not run_jobs: a procedure with SET cannot COMMIT
    -- pg_catalog first: nothing in a writable schema may stand in for a built-in function
    EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, geoetl, %I, pg_temp',
                   fn, postgis_schema);
  END LOOP;
  -- an IMMUTABLE helper reads nothing and writes nothing: parallel queries may call it
  FOR fn IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'geoetl'::regnamespace AND p.provolatile = 'i' AND p.proparallel <> 's' LOOP
    EXECUTE format('ALTER FUNCTION %s PARALLEL SAFE', fn);
  END LOOP;
END
$search_path$;
