-- Who may do what: PUBLIC nothing, readers read, writers manage areas, admins run diagnostics.
BEGIN;
SELECT plan(44);

-- runs stmt as role r (with search_path sp if given); an error comes back as it was, with
-- role and search_path already restored by the rollback of the block's subtransaction
CREATE FUNCTION pg_temp.as_role(r text, stmt text, sp text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  old_sp text := current_setting('search_path');
BEGIN
  EXECUTE format('SET LOCAL ROLE %I', r);
  IF sp IS NOT NULL THEN PERFORM set_config('search_path', sp, true); END IF;
  EXECUTE stmt;
  PERFORM set_config('search_path', old_sp, true);
  RESET ROLE;
END $$;

CREATE ROLE geoetl_tap_nobody LOGIN;
CREATE ROLE geoetl_tap_reader LOGIN IN ROLE geoetl_reader;
CREATE ROLE geoetl_tap_writer LOGIN IN ROLE geoetl_writer;
CREATE ROLE geoetl_tap_admin LOGIN IN ROLE geoetl_admin;

SELECT is_empty($$SELECT p.oid::regprocedure::text FROM pg_proc p
                  WHERE p.pronamespace = 'geoetl'::regnamespace
                    AND has_function_privilege('public', p.oid, 'EXECUTE')$$,
                'PUBLIC can execute no geoetl function');
SELECT is_empty($$SELECT c.relname FROM pg_class c
                  WHERE c.relnamespace = 'geoetl'::regnamespace AND c.relkind IN ('r', 'v', 'm')
                    AND has_table_privilege('public', c.oid, 'SELECT,INSERT,UPDATE,DELETE')$$,
                'PUBLIC has no privilege on any geoetl table');
SELECT ok(pg_has_role('geoetl_admin', 'geoetl_writer', 'MEMBER')
          AND pg_has_role('geoetl_writer', 'geoetl_reader', 'MEMBER'),
          'admin includes writer includes reader');
SELECT ok(NOT pg_has_role('geoetl_reader', 'geoetl_writer', 'MEMBER')
          AND NOT pg_has_role('geoetl_writer', 'geoetl_admin', 'MEMBER'),
          'but not the other way round');

-- a role with no geoetl grant
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_nobody', 'SELECT count(*) FROM geoetl.area')$$,
                 '42501', NULL, 'a role without geoetl grants cannot read areas');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_nobody', 'SELECT geoetl.version()')$$,
                 '42501', NULL, '... nor call geoetl.version()');

-- reader
SELECT lives_ok($$SELECT pg_temp.as_role('geoetl_tap_reader', 'SELECT count(*) FROM geoetl.area')$$,
                'a reader reads areas');
SELECT lives_ok($$SELECT pg_temp.as_role('geoetl_tap_reader', 'SELECT geoetl.version()')$$,
                'a reader calls geoetl.version()');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_reader',
                   'SELECT geoetl.add_area(''r'', ''{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}'')')$$,
                 '42501', NULL, 'a reader cannot add areas');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_reader',
                   'INSERT INTO geoetl.area(name, geom) VALUES (''r'', ''SRID=4326;MULTIPOLYGON(((0 0,1 0,1 1,0 0)))'')')$$,
                 '42501', NULL, '... not even with plain INSERT');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_reader', 'DELETE FROM geoetl.area')$$,
                 '42501', NULL, '... nor delete them');

-- writer
SELECT lives_ok($$SELECT pg_temp.as_role('geoetl_tap_writer',
                  'SELECT geoetl.add_area(''w'', ''{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}'')')$$,
                'a writer adds an area');
SELECT is((SELECT created_by::text FROM geoetl.area WHERE name = 'w'), 'geoetl_tap_writer',
          'created_by records the writer');
SELECT lives_ok($$SELECT pg_temp.as_role('geoetl_tap_writer',
                  'SELECT geoetl.update_area((SELECT area_id FROM geoetl.area WHERE name = ''w''), properties => ''{"a": 1}'')')$$,
                'a writer updates an area');
SELECT lives_ok($$SELECT pg_temp.as_role('geoetl_tap_writer',
                  'SELECT * FROM geoetl.add_areas(''{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"n":"w2"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}'', ''n'')')$$,
                'a writer adds a collection');
SELECT lives_ok($$SELECT pg_temp.as_role('geoetl_tap_writer', 'DELETE FROM geoetl.area WHERE name = ''w2''')$$,
                'a writer deletes an area with plain SQL');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_writer', 'SELECT geoetl.selftest_live_objects()')$$,
                 '42501', NULL, 'a writer cannot run diagnostics');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_writer', 'ALTER TABLE geoetl.area ADD COLUMN x int')$$,
                 '42501', NULL, 'a writer cannot alter the table');

SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_writer',
                   'SELECT geoetl.zonal_stats(''/x.tif'', ''POLYGON((0 0,1 0,1 1,0 0))'')')$$,
                 '42501', NULL, 'a writer cannot read rasters');

-- admin
SELECT ok(has_function_privilege('geoetl_tap_admin',
          'geoetl.zonal_stats(text, geometry, integer, text, double precision, double precision[])', 'EXECUTE')
          AND has_function_privilege('geoetl_tap_admin',
          'geoetl.zonal_stats_areas(text, integer, text, double precision, double precision[], bigint[])', 'EXECUTE'),
          'an admin may call the zonal functions');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_admin',
                   'SELECT geoetl.zonal_stats(''/etc/passwd'', ''POLYGON((0 0,1 0,1 1,0 0))'')')$$,
                 '42501', 'raster source "/etc/passwd" is not allowed',
                 '... but only below geoetl.allowed_sources');
SELECT lives_ok($$SELECT pg_temp.as_role('geoetl_tap_admin', 'SELECT geoetl.selftest_live_objects()')$$,
                'an admin runs diagnostics');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_admin', 'SELECT geoetl.selftest_raise(''io_error'')')$$,
                 '58030', 'selftest: io_error raised by the core', 'core errors reach an admin with their SQLSTATE');
SELECT lives_ok($$SELECT pg_temp.as_role('geoetl_tap_admin',
                  'SELECT geoetl.add_area(''a'', ''{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}'')')$$,
                'an admin can do what a writer can');

-- the job queue: writers enqueue what they may run themselves; admins register kinds and run workers
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_reader', 'SELECT geoetl.enqueue(''nightlight_month'', ''{}'')')$$,
                 '42501', NULL, 'a reader cannot enqueue');
SELECT lives_ok($$SELECT pg_temp.as_role('geoetl_tap_writer',
                  'SELECT geoetl.enqueue(''nightlight_month'', ''{"area_id": 1, "month": "2024-01-01"}'', dedupe_key => ''tap'')')$$,
                'a writer enqueues a night-light job');
SELECT is((SELECT enqueued_by::text FROM geoetl.job WHERE dedupe_key = 'tap'), 'geoetl_tap_writer',
          '... which will run as the writer');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_writer',
                   'SELECT geoetl.enqueue(''register_rasters'', ''{"product": "VNP46A2", "location": "/etc"}'')')$$,
                 '42501', 'permission denied to enqueue jobs of kind "register_rasters"',
                 'a writer cannot enqueue what only admins may do');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_writer', 'UPDATE geoetl.job SET priority = 9')$$,
                 '42501', NULL, 'a writer cannot change jobs with plain SQL');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_writer',
                   'SELECT geoetl.register_job_kind(''mine'', ''geoetl.version()'')')$$,
                 '42501', NULL, 'a writer cannot register job kinds');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_writer', 'CALL geoetl.run_jobs()')$$,
                 '42501', NULL, 'a writer cannot run the worker');
SELECT ok(has_function_privilege('geoetl_tap_admin', 'geoetl.register_job_kind(text, regprocedure, interval, int, interval, interval, text)', 'EXECUTE')
          AND has_function_privilege('geoetl_tap_admin', 'geoetl.run_jobs(int, int)', 'EXECUTE')
          AND has_function_privilege('geoetl_tap_admin', 'geoetl.schedule_worker(text, text, int)', 'EXECUTE'),
          'an admin registers kinds, runs and schedules workers');

-- time windows: readers aggregate what they can read; writers run the pipelines they own
CREATE TABLE public.tap_readings (ts timestamptz, v float8);
INSERT INTO public.tap_readings VALUES ('2025-01-01 00:01', 1), ('2025-01-01 00:02', 3);
GRANT SELECT ON public.tap_readings TO geoetl_tap_reader;
CREATE SCHEMA tap_target;
GRANT CREATE, USAGE ON SCHEMA tap_target TO geoetl_tap_writer;
CREATE TABLE public.tap_writer_readings (ts timestamptz, v float8);
ALTER TABLE public.tap_writer_readings OWNER TO geoetl_tap_writer;
SELECT lives_ok($$SELECT pg_temp.as_role('geoetl_tap_reader',
                  'SELECT * FROM geoetl.aggregate_window(''public.tap_readings'', ''ts'', ''{v}'', ''10 minutes'', ''2025-01-01'', ''2025-01-02'')')$$,
                'a reader aggregates windows of a table it may read');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_nobody',
                   'SELECT * FROM geoetl.aggregate_window(''public.tap_readings'', ''ts'', ''{v}'', ''10 minutes'', ''2025-01-01'', ''2025-01-02'')')$$,
                 '42501', NULL, '... a role without geoetl grants cannot');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_reader',
                   'SELECT geoetl.create_window_pipeline(''r'', ''public.tap_readings'', ''ts'', ''{v}'', ''10 minutes'', ''tap_target'')')$$,
                 '42501', NULL, 'a reader cannot create window pipelines');
SELECT lives_ok($$SELECT pg_temp.as_role('geoetl_tap_writer',
                  'SELECT geoetl.create_window_pipeline(''w'', ''public.tap_writer_readings'', ''ts'', ''{v}'', ''10 minutes'', ''tap_target'')')$$,
                'a writer creates a pipeline on its own table');
SELECT is((SELECT owner::text FROM geoetl.window_pipeline WHERE name = 'w'), 'geoetl_tap_writer',
          '... which it owns');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_writer',
                   'SELECT geoetl.create_window_pipeline(''w2'', ''public.tap_readings'', ''ts'', ''{v}'', ''10 minutes'', ''tap_target'', ''{count}'')')$$,
                 '42501', NULL, '... but not on a table it does not own (the triggers need it)');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_writer',
                   'INSERT INTO geoetl.window_pipeline (name, source, time_column, value_columns, width, target_schema, aggregates, owner) VALUES (''x'', ''public.tap_readings'', ''ts'', ''{v}'', ''1 hour'', ''tap_target'', ''{mean}'', ''geoetl_tap_admin'')')$$,
                 '42501', NULL, 'a writer cannot record a pipeline for another role');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_writer',
                   'INSERT INTO geoetl.window_late (pipeline, window_start) VALUES (''w'', now())')$$,
                 '42501', NULL, '... nor write late windows itself');

-- credentials: superusers only
SELECT ok(NOT has_table_privilege('geoetl_tap_admin', 'geoetl.secret', 'SELECT')
          AND NOT has_table_privilege('geoetl_tap_reader', 'geoetl.secret', 'SELECT'),
          'not even an admin reads geoetl.secret');
SELECT throws_ok($$SELECT pg_temp.as_role('geoetl_tap_admin', 'SELECT geoetl.set_secret(''laads_token'', ''x'')')$$,
                 '42501', NULL, '... nor sets a secret');
SELECT lives_ok($$SELECT geoetl.set_secret('laads_token', 'x'), geoetl.set_secret('laads_token', NULL)$$,
                'a superuser sets and removes one');

-- a caller's search_path cannot break or hijack the functions
SELECT lives_ok($$SELECT pg_temp.as_role('geoetl_tap_writer',
                  'SELECT geoetl.add_area(''sp'', ''{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}'')',
                  'pg_catalog')$$,
                'functions work with nothing but pg_catalog on the search_path');

SELECT * FROM finish();
ROLLBACK;
