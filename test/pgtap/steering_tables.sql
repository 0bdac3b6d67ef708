-- The tables whose rows steer code (which handler runs, as whom; which table and column a
-- trigger and a run read; where an ESPI feed's token is sent) are written by nobody but the
-- extension's owner: the API writes them through geoetl._trusted_call, which checks the role that
-- calls. Also: the audited SECURITY DEFINER functions, and IMMUTABLE helpers marked PARALLEL SAFE.
BEGIN;
SELECT plan(8);

SELECT is_empty($$SELECT r.rolname, c.relname, p.privilege_type
                  FROM unnest(ARRAY['geoetl_reader', 'geoetl_writer', 'geoetl_admin']) r(rolname)
                  CROSS JOIN unnest(ARRAY['job', 'job_kind', 'window_pipeline', 'window_late', 'secret',
                                          'package', 'package_resource', 'espi_feed']) c(relname)
                  CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(privilege_type)
                  WHERE has_table_privilege(r.rolname, format('geoetl.%I', c.relname), p.privilege_type)$$,
                'no geoetl role may write job, job_kind, window_pipeline, window_late, secret, package, package_resource or espi_feed directly');
SELECT is_empty($$SELECT r.rolname, a.attname
                  FROM unnest(ARRAY['geoetl_reader', 'geoetl_writer', 'geoetl_admin']) r(rolname)
                  CROSS JOIN unnest(ARRAY['job', 'job_kind', 'window_pipeline', 'package', 'package_resource', 'espi_feed']) c(relname)
                  JOIN pg_attribute a ON a.attrelid = format('geoetl.%I', c.relname)::regclass AND a.attnum > 0
                  WHERE has_column_privilege(r.rolname, a.attrelid, a.attname, 'INSERT,UPDATE')$$,
                '... not even a column of them');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                  WHERE p.pronamespace = 'geoetl'::regnamespace AND p.proname LIKE '\_trusted\_%'
                    AND p.proname <> '_trusted_call'
                    AND (has_function_privilege('geoetl_admin', p.oid, 'EXECUTE')
                         OR has_function_privilege('public', p.oid, 'EXECUTE'))$$,
                'the trusted functions are callable only through geoetl._trusted_call');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                  WHERE p.pronamespace = 'geoetl'::regnamespace AND p.proname LIKE '\_trusted\_%'
                    AND p.proname <> '_trusted_call'
                    AND NOT (p.pronargs = 2 AND p.proargtypes[0] = 'regrole'::regtype
                             AND p.proargtypes[1] = 'jsonb'::regtype AND p.prorettype = 'jsonb'::regtype
                             AND p.proconfig::text LIKE '%search_path=pg_catalog%')$$,
                'every trusted function takes (caller regrole, args jsonb), returns jsonb and pins search_path');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                  WHERE p.pronamespace = 'geoetl'::regnamespace AND p.prosecdef
                    AND p.oid::regprocedure::text NOT IN (
                      'geoetl._window_mark_late()', 'geoetl._recover_jobs()', 'geoetl._claim_job()',
                      'geoetl._hold_job(bigint)', 'geoetl._finish_job(bigint,boolean,jsonb,text,text,text)',
                      'geoetl.prune_jobs(interval)',
                      'geoetl.nightlight_metrics(geometry,date,text,double precision,jsonb)',
                      -- the map's: they write and read only keys made of checked arguments (product,
                      -- month, a tile's name, an area's id); sql/trust.sql attack 9 is their hostile caller
                      'geoetl._save_composite_month(text,date,text,jsonb)', 'geoetl._render_month(jsonb)',
                      'geoetl.tile(text,date,integer,integer,integer)')$$,
                'no SECURITY DEFINER function beyond the audited ones');
SELECT is(count(*)::int, 0, 'every SECURITY DEFINER function pins search_path with pg_catalog first')
  FROM pg_proc p WHERE p.pronamespace = 'geoetl'::regnamespace AND p.prosecdef
   AND coalesce(p.proconfig::text, '') NOT LIKE '%search_path=pg_catalog%';
SELECT is(count(*)::int, (SELECT count(*)::int FROM geoetl.job_kind), 'every kind created with the extension is built in')
  FROM geoetl.job_kind WHERE builtin;

SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                  WHERE p.pronamespace = 'geoetl'::regnamespace AND p.provolatile = 'i' AND p.proparallel <> 's'$$,
                'every IMMUTABLE geoetl function is PARALLEL SAFE');

SELECT * FROM finish();
ROLLBACK;
