-- Every function of the README's "Function reference" as each documented role (a login role in
-- geoetl_reader, geoetl_writer, geoetl_admin, and one with no geoetl role), never as superuser:
-- roles the README names may call it and it works; the others get 42501.
-- scripts/check.sh exports the fixtures folder and the local HTTP and STAC servers.
\getenv fixtures GEOETL_FIXTURES
\getenv http GEOETL_HTTP
\getenv stac GEOETL_STAC
BEGIN;
-- geoetl.version() loads the library, whose settings follow
SELECT set_config('tap.fixtures', :'fixtures', true), set_config('tap.http', :'http', true),
       set_config('tap.stac', :'stac', true), geoetl.version() \gset
SELECT set_config('geoetl.allowed_sources', concat_ws(',', :'fixtures', :'http', :'stac'), true),
       set_config('geoetl.store', :'fixtures' || '/store', true),
       set_config('geoetl.laads_url', :'http' || '/laads', true) \gset

CREATE ROLE geoetl_roles_nobody LOGIN;
CREATE ROLE geoetl_roles_reader LOGIN IN ROLE geoetl_reader;
CREATE ROLE geoetl_roles_writer LOGIN IN ROLE geoetl_writer;
CREATE ROLE geoetl_roles_admin LOGIN IN ROLE geoetl_admin;

-- what the calls need: a schema of its own for every role, with a table of readings in it that
-- every geoetl role may read; a job handler
CREATE FUNCTION pg_temp.setup() RETURNS void LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['nobody', 'reader', 'writer', 'admin'] LOOP
    EXECUTE format('CREATE SCHEMA roles_%s AUTHORIZATION geoetl_roles_%1$s', r);
    EXECUTE format('CREATE TABLE roles_%s.readings (ts timestamptz NOT NULL, v float8)', r);
    EXECUTE format('INSERT INTO roles_%s.readings SELECT t, 1 FROM generate_series(''2024-01-01''::timestamptz, ''2024-01-01 01:00'', ''1 minute'') t', r);
    EXECUTE format('ALTER TABLE roles_%s.readings OWNER TO geoetl_roles_%1$s', r);
    EXECUTE format('GRANT USAGE ON SCHEMA roles_%s TO PUBLIC', r);
    EXECUTE format('GRANT SELECT ON roles_%s.readings TO PUBLIC', r);
  END LOOP;
END $$;
SELECT pg_temp.setup() \gset
CREATE FUNCTION public.roles_tap_handler(args jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT args $$;

-- Each case: the function, the least role that may call it, and a statement in which {r} stands
-- for the role's short name (nobody, reader, writer, admin).
CREATE TEMP TABLE cases (n serial, fn text, least_role text, stmt text);
INSERT INTO cases (fn, least_role, stmt) VALUES
  ('version', 'reader', $$SELECT geoetl.version()$$),
  ('aggregate_window', 'reader',
   $$SELECT count(*) FROM geoetl.aggregate_window('roles_{r}.readings', 'ts', '{v}', '10 minutes', '2024-01-01', '2024-01-02')$$),
  ('add_area', 'writer',
   $$SELECT geoetl.add_area('roles {r}', '{"type":"Polygon","coordinates":[[[38,1],[42,1],[42,4],[38,4],[38,1]]]}')$$),
  ('add_areas', 'writer',
   $$SELECT * FROM geoetl.add_areas('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"n":"roles many {r}"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}', 'n')$$),
  ('update_area', 'writer',
   $$SELECT geoetl.update_area((SELECT area_id FROM geoetl.area WHERE name = 'roles {r}'), properties => '{"a": 1}')$$),
  ('nightlight_metrics(area_id)', 'writer',
   $$SELECT (geoetl.nightlight_metrics((SELECT area_id FROM geoetl.area WHERE name = 'roles {r}'), '2024-02-01')).tiles_used$$),
  ('nightlight_metrics(geom)', 'writer',
   $$SELECT (geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), '2024-02-01')).tiles_used$$),
  ('refresh_nightlights', 'writer',
   $$SELECT geoetl.refresh_nightlights((SELECT area_id FROM geoetl.area WHERE name = 'roles {r}'), '2024-02-01', '2024-02-01')$$),
  ('enqueue', 'writer',
   $$SELECT geoetl.enqueue('nightlight_month', '{"area_id": 1, "month": "2024-01-01"}', dedupe_key => 'roles {r}')$$),
  ('enqueue_nightlights', 'writer',
   $$SELECT count(*) FROM geoetl.enqueue_nightlights((SELECT area_id FROM geoetl.area WHERE name = 'roles {r}'), '2024-01-01', '2024-03-01')$$),
  ('report_progress', 'writer', $$SELECT geoetl.report_progress('outside a job')$$),
  ('cancel_job, retry_job', 'writer',
   $c$DO $do$ DECLARE j bigint := geoetl.enqueue('nightlight_month', '{"area_id": 1, "month": "2024-05-01"}');
     BEGIN
       IF NOT geoetl.cancel_job(j) THEN RAISE 'not cancelled'; END IF;
       PERFORM geoetl.retry_job(j);
     END $do$$c$),
  ('create_window_pipeline', 'writer',
   $$SELECT geoetl.create_window_pipeline('roles_{r}', 'roles_{r}.readings', 'ts', '{v}', '10 minutes', 'roles_{r}')$$),
  ('run_window_pipeline', 'writer', $$SELECT geoetl.run_window_pipeline('roles_{r}', '2024-01-02')$$),
  ('backfill_window_pipeline', 'writer',
   $$SELECT geoetl.backfill_window_pipeline('roles_{r}', '2024-01-01', '2024-01-01 00:30')$$),
  ('drop_window_pipeline', 'writer', $$SELECT geoetl.drop_window_pipeline('roles_{r}')$$),
  ('zonal_stats', 'admin',
   $$SELECT (geoetl.zonal_stats(current_setting('tap.fixtures') || '/lights.tif', ST_MakeEnvelope(31, 0.5, 32, 1.5, 4326))).count$$),
  ('zonal_stats_many', 'admin',
   $$SELECT count(*) FROM geoetl.zonal_stats_many(current_setting('tap.fixtures') || '/lights.tif', '{1}', ARRAY[ST_MakeEnvelope(31, 0.5, 32, 1.5, 4326)])$$),
  ('zonal_stats_areas', 'admin',
   $$SELECT count(*) FROM geoetl.zonal_stats_areas(current_setting('tap.fixtures') || '/lights.tif', area_ids => '{}')$$),
  ('shared_cache_stats', 'admin', $$SELECT enabled FROM geoetl.shared_cache_stats()$$),
  ('register_rasters', 'admin',
   $$SELECT geoetl.register_rasters('VNP46A2', current_setting('tap.fixtures') || '/blackmarble')$$),
  ('save_composite', 'writer', $$SELECT geoetl.save_composite('VNP46A2', '2024-02-01', 'h21v08')$$),
  ('render_tiles', 'writer', $$SELECT geoetl.render_tiles('VNP46A2', '2024-02-01', max_zoom => 2)$$),
  ('tile', 'reader', $$SELECT geoetl.tile('VNP46A2', '2024-02-01', 8, 153, 127)$$),
  ('areas_geojson', 'reader', $$SELECT geoetl.areas_geojson()$$),
  ('nightlight_series', 'reader',
   $$SELECT geoetl.nightlight_series((SELECT min(area_id) FROM geoetl.area))$$),
  ('viewer_manifest', 'reader', $$SELECT geoetl.viewer_manifest()$$),
  ('register_job_kind', 'admin',
   $$SELECT geoetl.register_job_kind('roles_{r}', 'public.roles_tap_handler(jsonb)')$$),
  ('prune_jobs', 'admin', $$SELECT * FROM geoetl.prune_jobs('100 years')$$),
  ('http_get', 'admin', $$SELECT status FROM geoetl.http_get(current_setting('tap.http') || '/hello.json')$$),
  ('http_post', 'admin', $$SELECT status FROM geoetl.http_post(current_setting('tap.http') || '/echo', 'x')$$),
  ('stac_search', 'admin',
   $$SELECT geoetl.stac_search(current_setting('tap.stac'), '{sentinel-2-l2a}', ST_MakeEnvelope(34.1, 0.2, 34.3, 0.4, 4326), '[2024-01-01, 2024-01-31]')$$),
  ('stac_ingest', 'admin',
   $$SELECT geoetl.stac_ingest('sentinel-2-l2a', '{red}', ST_MakeEnvelope(34.1, 0.2, 34.3, 0.4, 4326), '[2024-01-01, 2024-01-31]', 'copy')$$),
  ('stac_verify', 'admin', $$SELECT count(*) FROM geoetl.stac_verify()$$),
  ('store_list', 'admin', $$SELECT count(*) FROM geoetl.store_list()$$),
  ('store_sweep', 'admin', $$SELECT geoetl.store_sweep()$$),
  ('fetch_blackmarble', 'admin',
   $$SELECT geoetl.fetch_blackmarble('VNP46A2', (SELECT area_id FROM geoetl.area WHERE name = 'roles {r}'), '2024-02-01', '2024-02-02')$$),
  ('add_source', 'admin',
   $$SELECT geoetl.add_source('roles-{r}', 'v1', current_setting('tap.fixtures') || '/lights.tif')$$),
  ('create_package', 'writer',
   $$SELECT geoetl.create_package((SELECT area_id FROM geoetl.area WHERE name = 'roles {r}'), '{roles-admin}')$$),
  ('remove_source', 'admin', $$SELECT geoetl.remove_source('roles-{r}', 'v1')$$),
  ('add_espi_feed', 'admin',
   $$SELECT geoetl.add_espi_feed('roles-{r}', 'http://127.0.0.1:9/espi/1_1/resource/Batch/Subscription/1/UsagePoint/{r}', 'token')$$),
  ('set_espi_token', 'admin',
   $$SELECT geoetl.set_espi_token((SELECT feed_id FROM geoetl.espi_feed WHERE project_id = 'roles-{r}'), 'token2')$$),
  ('fetch_espi', 'admin',
   $$SELECT geoetl.fetch_espi((SELECT feed_id FROM geoetl.espi_feed WHERE project_id = 'roles-{r}'))$$),
  ('parse_espi', 'admin', $$SELECT geoetl.parse_espi()$$),
  ('remove_espi_feed', 'admin',
   $$SELECT geoetl.remove_espi_feed((SELECT feed_id FROM geoetl.espi_feed WHERE project_id = 'roles-{r}'))$$),
  ('espi_fetch_end', 'reader', $$SELECT geoetl.espi_fetch_end(now())$$),
  ('selftest_raise', 'admin',  -- works: the core's own error reaches the caller
   $c$DO $do$ BEGIN PERFORM geoetl.selftest_raise('io_error'); EXCEPTION WHEN io_error THEN NULL; END $do$$c$),
  ('selftest_wait', 'admin', $$SELECT geoetl.selftest_wait(0)$$),
  ('selftest_live_objects', 'admin', $$SELECT geoetl.selftest_live_objects()$$),
  ('set_secret', 'superuser', $$SELECT geoetl.set_secret('laads_token', NULL)$$);

-- the procedure run_jobs and the pg_cron wrappers (schedule_worker, unschedule_worker,
-- schedule_pruning) commit or need pg_cron in the database: test/e2e/roles.sh runs them

SELECT plan((SELECT count(*)::int * 4 + 3 FROM cases));

-- runs stmt as role r; an error comes back as it was, the role restored by the rollback of the
-- block's subtransaction
CREATE FUNCTION pg_temp.as_role(r text, stmt text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SET LOCAL ROLE %I', r);
  EXECUTE stmt;
  RESET ROLE;
END $$;

CREATE FUNCTION pg_temp.who(r text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE r WHEN 'nobody' THEN 'a role with no geoetl role' WHEN 'admin' THEN 'an admin' ELSE 'a ' || r END
$$;

CREATE FUNCTION pg_temp.rank_of(r text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT array_position(ARRAY['nobody', 'reader', 'writer', 'admin', 'superuser'], r)
$$;

-- one case as one role: lives_ok, or throws_ok 42501
CREATE FUNCTION pg_temp.check_case(c cases, r text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  stmt text := format('SELECT pg_temp.as_role(%L, %L)', 'geoetl_roles_' || r, replace(c.stmt, '{r}', r));
BEGIN
  IF pg_temp.rank_of(r) >= pg_temp.rank_of(c.least_role) THEN
    RETURN lives_ok(stmt, format('%s works for %s', c.fn, pg_temp.who(r)));
  END IF;
  RETURN throws_ok(stmt, '42501', NULL, format('%s is refused to %s with 42501', c.fn, pg_temp.who(r)));
END $$;

SELECT pg_temp.check_case(c, r)
  FROM cases c, unnest(ARRAY['nobody', 'reader', 'writer', 'admin']) WITH ORDINALITY AS u(r, o)
 ORDER BY c.n, u.o;

-- what the admin's calls wrote is there
SELECT ok((SELECT count(*) FROM geoetl.raster) > 0 AND (SELECT count(*) FROM geoetl.stac_asset WHERE mode = 'copy') > 0
          AND (SELECT count(*) FROM geoetl.fetch_request WHERE created_by = 'geoetl_roles_admin') = 1,
          'an admin''s register_rasters, stac_ingest and fetch_blackmarble wrote their rows');
-- a row of geoetl.raster names a file its writer may read, whichever way it is written
SELECT throws_ok(format('SELECT pg_temp.as_role(%L, %L)', 'geoetl_roles_admin',
                        $$UPDATE geoetl.raster SET uri = '/etc/passwd' WHERE raster_id = (SELECT min(raster_id) FROM geoetl.raster)$$),
                 '42501', 'raster source "/etc/passwd" is not allowed',
                 'an admin cannot point a granule at a file outside geoetl.allowed_sources');
SELECT throws_ok(format('SELECT pg_temp.as_role(%L, %L)', 'geoetl_roles_admin',
                        $$INSERT INTO geoetl.fetch_request (area_id, product, from_date, to_date, tiles, created_by)
                          SELECT area_id, 'VNP46A2', '2024-01-01', '2024-01-01', '{}', 'someone_else' FROM geoetl.area LIMIT 1$$),
                 '42501', NULL, 'an admin cannot write a fetch request in another role''s name');

SELECT * FROM finish();
ROLLBACK;
