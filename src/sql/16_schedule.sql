-- Scheduling the queue's worker and its pruning with pg_cron, and pruning itself.

CREATE FUNCTION geoetl.prune_jobs(older_than interval) RETURNS TABLE (jobs bigint, cron_runs bigint)
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  IF older_than IS NULL OR older_than < interval '0' THEN
    RAISE EXCEPTION 'older_than must be a positive interval, not %', coalesce(older_than::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  DELETE FROM geoetl.job j WHERE j.finished_at < now() - older_than;
  GET DIAGNOSTICS jobs = ROW_COUNT;
  cron_runs := 0;
  IF pg_catalog.to_regclass('cron.job_run_details') IS NOT NULL THEN
    EXECUTE 'DELETE FROM cron.job_run_details WHERE end_time < now() - $1' USING older_than;
    GET DIAGNOSTICS cron_runs = ROW_COUNT;
  END IF;
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION geoetl.prune_jobs(interval) IS
  'Deletes jobs that finished longer ago than older_than, and pg_cron''s run history as old';

-- pg_cron. The worker runs as the role that schedules it, in this database.
CREATE FUNCTION geoetl._require_pg_cron() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF pg_catalog.to_regnamespace('cron') IS NULL
     OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
    RAISE EXCEPTION 'pg_cron is not installed in this database' USING ERRCODE = 'feature_not_supported',
      HINT = format('Set shared_preload_libraries = ''pg_cron'' and cron.database_name = ''%s'' in '
                    'postgresql.conf, restart, then CREATE EXTENSION pg_cron; or run CALL geoetl.run_jobs() '
                    'from any other scheduler.', current_database());
  END IF;
  IF NOT pg_catalog.has_schema_privilege('cron', 'USAGE') THEN
    RAISE EXCEPTION 'permission denied for schema cron (pg_cron)' USING ERRCODE = 'insufficient_privilege',
      HINT = 'A superuser lets geoetl admins schedule, as pg_cron''s documentation says: '
             'GRANT USAGE ON SCHEMA cron TO geoetl_admin; (CREATE EXTENSION geoetl does it when pg_cron is there first).';
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._require_pg_cron() IS
  'Raises a clear error when pg_cron is not installed in this database, or the caller may not use it';

CREATE FUNCTION geoetl.schedule_pruning(keep interval DEFAULT '14 days', schedule text DEFAULT '30 3 * * *')
RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  PERFORM geoetl._require_pg_cron();
  IF keep IS NULL OR schedule IS NULL THEN
    RAISE EXCEPTION 'keep and schedule must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  RETURN cron.schedule('geoetl-prune', schedule, format('SELECT * FROM geoetl.prune_jobs(%L)', keep));
END
$$;
COMMENT ON FUNCTION geoetl.schedule_pruning(interval, text) IS
  'Schedules (pg_cron job geoetl-prune) the daily deletion of jobs and pg_cron run history older than keep';

CREATE FUNCTION geoetl.schedule_worker(name text DEFAULT 'geoetl-worker', schedule text DEFAULT '* * * * *',
                                       max_seconds int DEFAULT 50)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  id bigint;
BEGIN
  PERFORM geoetl._require_pg_cron();
  IF name IS NULL OR schedule IS NULL OR max_seconds IS NULL THEN
    RAISE EXCEPTION 'name, schedule and max_seconds must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF max_seconds < 1 THEN
    RAISE EXCEPTION 'max_seconds must be at least 1, not %', max_seconds USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF name = 'geoetl-prune' THEN
    RAISE EXCEPTION 'the name geoetl-prune is taken by the pruning job' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- a procedure that commits must be the job's only command
  id := cron.schedule(name, schedule, format('CALL geoetl.run_jobs(max_seconds => %s)', max_seconds));
  IF NOT EXISTS (SELECT 1 FROM cron.job WHERE jobname = 'geoetl-prune' AND username = current_user) THEN
    PERFORM geoetl.schedule_pruning();
  END IF;
  RETURN id;
END
$$;
COMMENT ON FUNCTION geoetl.schedule_worker(text, text, int) IS
  'Schedules CALL geoetl.run_jobs() with pg_cron (one job per name; several names run in parallel) and, '
  'if not yet there, the daily pruning; returns the pg_cron job id';

CREATE FUNCTION geoetl.unschedule_worker(name text DEFAULT 'geoetl-worker') RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM geoetl._require_pg_cron();
  IF NOT EXISTS (SELECT 1 FROM cron.job j WHERE j.jobname = unschedule_worker.name AND j.username = current_user) THEN
    RAISE EXCEPTION 'no pg_cron job named "%" of %', name, current_user USING ERRCODE = 'no_data_found';
  END IF;
  RETURN cron.unschedule(name);
END
$$;
COMMENT ON FUNCTION geoetl.unschedule_worker(text) IS 'Removes a worker scheduled by geoetl.schedule_worker';
