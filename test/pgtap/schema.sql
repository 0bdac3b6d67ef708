-- The extension's objects exist, have the shape the README documents, and are all commented.
BEGIN;
SELECT plan(60);

SELECT has_schema('geoetl');
SELECT has_extension('geoetl');
SELECT has_table('geoetl', 'area', 'table geoetl.area');
SELECT col_is_pk('geoetl', 'area', 'area_id', 'area_id is the primary key');
SELECT col_type_is('geoetl', 'area', 'area_id', 'bigint', 'area.area_id is bigint');
SELECT col_type_is('geoetl', 'area', 'name', 'text', 'area.name is text');
SELECT col_type_is('geoetl', 'area', 'properties', 'jsonb', 'area.properties is jsonb');
SELECT col_type_is('geoetl', 'area', 'geom', 'geometry(MultiPolygon,4326)', 'area.geom is geometry(MultiPolygon,4326)');
SELECT col_type_is('geoetl', 'area', 'area_km2', 'double precision', 'area.area_km2 is double precision');
SELECT col_type_is('geoetl', 'area', 'created_at', 'timestamp with time zone', 'area.created_at is timestamp with time zone');
SELECT col_type_is('geoetl', 'area', 'created_by', 'name', 'area.created_by is name');
SELECT col_not_null('geoetl', 'area', c, 'geoetl.area.' || c || ' is NOT NULL')
  FROM unnest(ARRAY['name', 'properties', 'geom', 'created_at', 'created_by']) AS c;
SELECT col_is_unique('geoetl', 'area', ARRAY['name'], 'area names are unique');
SELECT is((SELECT attidentity::text FROM pg_attribute
            WHERE attrelid = 'geoetl.area'::regclass AND attname = 'area_id'), 'a',
          'area_id is GENERATED ALWAYS AS IDENTITY');
SELECT has_index('geoetl', 'area', 'area_geom_idx', ARRAY['geom'], 'areas have a spatial index');
SELECT has_index('geoetl', 'area', 'area_slug_idx', 'areas are found by the slug of their name (package names)');
SELECT has_index('geoetl', 'package', 'package_area_idx', ARRAY['area_id'], 'packages are found by their area');
SELECT has_trigger('geoetl', 'area', 'area_check', 'area geometries are checked by a trigger');

SELECT has_function('geoetl', 'version', ARRAY[]::text[]);
SELECT function_returns('geoetl', 'version', ARRAY[]::text[], 'jsonb');
SELECT function_returns('geoetl', 'add_area', ARRAY['text', 'jsonb', 'jsonb', 'boolean'], 'bigint');
SELECT function_returns('geoetl', 'add_areas', ARRAY['jsonb', 'text', 'boolean'], 'setof bigint');
SELECT function_returns('geoetl', 'update_area', ARRAY['bigint', 'jsonb', 'jsonb', 'boolean'], 'void');
SELECT function_lang_is('geoetl', 'version', ARRAY[]::text[], 'c');
SELECT has_type('geoetl', 'zonal_stats_result', 'type geoetl.zonal_stats_result');
SELECT function_returns('geoetl', 'zonal_stats', ARRAY['text', 'geometry', 'integer', 'text', 'double precision', 'double precision[]'], 'geoetl.zonal_stats_result');
SELECT function_returns('geoetl', 'zonal_stats_many', ARRAY['text', 'bigint[]', 'geometry[]', 'integer', 'text', 'double precision', 'double precision[]'], 'setof record');
SELECT function_returns('geoetl', 'zonal_stats_areas', ARRAY['text', 'integer', 'text', 'double precision', 'double precision[]', 'bigint[]'], 'setof record');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = (SELECT typrelid FROM pg_type WHERE oid = 'geoetl.zonal_stats_result'::regtype) AND attnum > 0),
          ARRAY['count', 'sum', 'mean', 'min', 'max', 'stddev', 'quantiles', 'lit_share',
                'valid_area_km2', 'lit_area_km2', 'nodata_share'],
          'zonal_stats_result has the documented columns in order');
-- zonal_stats_many and zonal_stats_areas return those columns after their ids, as defined from the type
SELECT is(pg_get_function_result('geoetl.zonal_stats_many(text, bigint[], geometry[], integer, text, double precision, double precision[])'::regprocedure),
          'TABLE(id bigint, ' || (SELECT string_agg(quote_ident(attname) || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
                                    FROM pg_attribute WHERE attrelid = 'geoetl.zonal_stats_result'::regclass AND attnum > 0) || ')',
          'zonal_stats_many returns an id, then the columns of zonal_stats_result');
SELECT is(pg_get_function_result('geoetl.zonal_stats_areas(text, integer, text, double precision, double precision[], bigint[])'::regprocedure),
          'TABLE(area_id bigint, name text, ' || (SELECT string_agg(quote_ident(attname) || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
                                    FROM pg_attribute WHERE attrelid = 'geoetl.zonal_stats_result'::regclass AND attnum > 0) || ')',
          'zonal_stats_areas returns an area id and name, then the columns of zonal_stats_result');

SELECT has_role(r) FROM unnest(ARRAY['geoetl_reader', 'geoetl_writer', 'geoetl_admin']) AS r;
SELECT is(array_agg(rolname ORDER BY rolname), NULL, 'the geoetl roles cannot log in')
  FROM pg_roles WHERE rolname LIKE 'geoetl\_%' AND rolname IN ('geoetl_reader', 'geoetl_writer', 'geoetl_admin')
   AND rolcanlogin;

-- everything is documented: \df+ geoetl.* and \d+ geoetl.area are part of the manual
SELECT is_empty($$SELECT p.oid::regprocedure::text FROM pg_proc p
                  WHERE p.pronamespace = 'geoetl'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL$$,
                'every function has a comment');
SELECT is_empty($$SELECT c.relname FROM pg_class c
                  WHERE c.relnamespace = 'geoetl'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'i')
                    AND obj_description(c.oid, 'pg_class') IS NULL$$,
                'every table, view and index has a comment');
SELECT is_empty($$SELECT c.relname || '.' || a.attname FROM pg_class c
                  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                  WHERE c.relnamespace = 'geoetl'::regnamespace AND c.relkind IN ('r', 'v', 'm')
                    AND col_description(c.oid, a.attnum) IS NULL$$,
                'every column has a comment');
SELECT is_empty($$SELECT p.oid::regprocedure::text FROM pg_proc p
                  JOIN pg_language l ON l.oid = p.prolang
                  WHERE p.pronamespace = 'geoetl'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
                    AND p.prokind = 'f'  -- a procedure with SET could not COMMIT
                    AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) s WHERE s LIKE 'search_path=%')$$,
                'every SQL function pins its search_path');

-- night-light results
SELECT col_is_pk('geoetl', 'nightlight_monthly', ARRAY['area_id', 'month', 'product'],
                 'one nightlight_monthly row per area, month and product');
SELECT has_view('geoetl', 'nightlight_trend', 'view geoetl.nightlight_trend');
SELECT has_function('geoetl', 'refresh_nightlights',
                    ARRAY['bigint', 'date', 'date', 'text', 'double precision', 'jsonb'],
                    'geoetl.refresh_nightlights(area_id, from_month, to_month, product, threshold, options)');
-- the job queue
SELECT has_table('geoetl', 'job', 'table geoetl.job');
SELECT has_table('geoetl', 'job_kind', 'table geoetl.job_kind');
SELECT col_is_pk('geoetl', 'job', 'job_id', 'job_id is the primary key');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'geoetl.job'::regclass AND attnum > 0 AND NOT attisdropped),
          ARRAY['job_id', 'kind', 'args', 'state', 'priority', 'attempt', 'max_attempts', 'run_after',
                'lease_until', 'worker', 'dedupe_key', 'progress', 'result', 'errors', 'enqueued_by',
                'created_at', 'started_at', 'finished_at'],
          'geoetl.job has the documented columns in order');
SELECT has_index('geoetl', 'job', 'job_claim', ARRAY['priority', 'run_after', 'job_id'],
                 'the claim query has its index');
SELECT is((SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = 'geoetl.job_claim'::regclass),
          '(state = ''pending''::geoetl.job_state)', '... over pending jobs only');
SELECT is((SELECT indisunique FROM pg_index WHERE indexrelid = 'geoetl.job_dedupe'::regclass), true,
          'dedupe keys are unique among pending and running jobs');
SELECT has_function('geoetl', 'enqueue', ARRAY['text', 'jsonb', 'integer', 'timestamp with time zone', 'text', 'integer'],
                    'geoetl.enqueue(kind, args, priority, run_after, dedupe_key, max_attempts)');
SELECT is((SELECT prokind::text FROM pg_proc WHERE oid = 'geoetl.run_jobs(int, int)'::regprocedure), 'p',
          'run_jobs is a procedure (it commits)');
SELECT is((SELECT proconfig FROM pg_proc WHERE oid = 'geoetl.run_jobs(int, int)'::regprocedure), NULL,
          '... without SET clauses, which would forbid its COMMITs');
SELECT has_view('geoetl', 'job_summary', 'view geoetl.job_summary');
SELECT has_view('geoetl', 'running_jobs', 'view geoetl.running_jobs');
-- what users put in the tables survives pg_dump / restore
SELECT is_empty($$SELECT c.oid::regclass::text FROM pg_class c
                  WHERE c.relnamespace = 'geoetl'::regnamespace AND c.relkind = 'r'
                    AND c.oid <> 'geoetl.secret'::regclass
                    AND c.oid <> ALL ((SELECT extconfig FROM pg_extension WHERE extname = 'geoetl')::oid[])$$,
                'pg_dump includes the data of every geoetl table but the credentials');
SELECT ok(NOT 'geoetl.secret'::regclass = ANY ((SELECT extconfig FROM pg_extension WHERE extname = 'geoetl')::oid[]),
          '... which it leaves out');

SELECT * FROM finish();
ROLLBACK;
