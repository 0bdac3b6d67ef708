-- The job queue in one session: kinds, enqueue (errors, dedupe), run_jobs (outcomes, retries
-- with growing backoff, max_attempts), cancel, retry, prune, the summary, the built-in kinds.
-- Concurrency, crashes, leases, NOTIFY and pg_cron: test/e2e/queue.sh.
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv fixtures GEOETL_FIXTURES
\set folder :fixtures '/nightlights'

CREATE TABLE q_log (job_args jsonb, ran_as name, at timestamptz DEFAULT clock_timestamp());
CREATE FUNCTION q_log(args jsonb) RETURNS jsonb LANGUAGE sql AS $$
  INSERT INTO q_log (job_args, ran_as) VALUES (args, current_user) RETURNING jsonb_build_object('n', args->'n')
$$;
-- fails its first args->fails attempts (the attempt number is in its job's row)
CREATE FUNCTION q_flaky(args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT attempt FROM geoetl.job WHERE job_id = current_setting('geoetl.job_id')::bigint)
     <= (args->>'fails')::int THEN
    RAISE EXCEPTION 'flaky: attempt failed' USING ERRCODE = 'connection_failure';
  END IF;
  RETURN '{"ok": true}';
END $$;
CREATE FUNCTION q_fail(args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'no luck with %', args->>'n' USING ERRCODE = 'division_by_zero';
END $$;
CREATE FUNCTION q_wrong(args text) RETURNS jsonb LANGUAGE sql AS 'SELECT NULL::jsonb';

-- kinds: the built-in ones, and users' own
SELECT kind, handler, lease, max_attempts FROM geoetl.job_kind ORDER BY kind;
SELECT geoetl.register_job_kind('q_log', 'q_log(jsonb)');
SELECT geoetl.register_job_kind('q_fail', 'q_fail(jsonb)', max_attempts => 3, backoff => '0.2 s', backoff_max => '0.3 s');
SELECT pg_temp.err($$SELECT geoetl.register_job_kind('q_wrong', 'q_wrong(text)')$$);
SELECT pg_temp.err($$SELECT geoetl.register_job_kind('Bad Name', 'q_log(jsonb)')$$);
SELECT pg_temp.err($$SELECT geoetl.register_job_kind('q_x', 'q_log(jsonb)', lease => '0 s')$$);
SELECT pg_temp.err($$SELECT geoetl.register_job_kind('q_x', 'q_log(jsonb)', backoff => '1 h', backoff_max => '1 s')$$);
SELECT pg_temp.err($$SELECT geoetl.register_job_kind('q_x', NULL)$$);

-- enqueue: bad input
SELECT pg_temp.err($$SELECT geoetl.enqueue('nope', '{}')$$);
SELECT pg_temp.err($$SELECT geoetl.enqueue(NULL, '{}')$$);
SELECT pg_temp.err($$SELECT geoetl.enqueue('q_log', NULL)$$);
SELECT pg_temp.err($$SELECT geoetl.enqueue('q_log', '[1, 2]')$$);
SELECT pg_temp.err($$SELECT geoetl.enqueue('q_log', '{}', max_attempts => 0)$$);
SELECT pg_temp.err($$SELECT geoetl.enqueue('q_log', '{}', priority => NULL)$$);
SELECT pg_temp.err($$SELECT geoetl.enqueue('q_log', '{}', run_after => 'infinity')$$);
SELECT pg_temp.err($$SELECT geoetl.enqueue('q_log', '{}', run_after => '-infinity')$$);
SELECT count(*) AS jobs_after_bad_input FROM geoetl.job;

-- dedupe: while a job with the key is pending, its id comes back and nothing is added
SELECT geoetl.enqueue('q_log', '{"n": 1}', dedupe_key => 'k1') AS k1 \gset
SELECT geoetl.enqueue('q_log', '{"n": 2}', dedupe_key => 'k1') = :k1 AS same_job,
       (SELECT count(*) FROM geoetl.job WHERE dedupe_key = 'k1') AS jobs_with_key;
SELECT geoetl.enqueue('q_log', '{"n": 3}', priority => 5) AS urgent \gset
SELECT geoetl.enqueue('q_log', '{"n": 4}', run_after => now() + interval '1 hour') AS later \gset
SELECT state, attempt, max_attempts, enqueued_by = current_user::regrole AS enqueued_by_me, errors, result
  FROM geoetl.job WHERE job_id = :k1;

-- run_jobs: the urgent job first, the later one not yet; handlers run as the role that enqueued
CALL geoetl.run_jobs();
SELECT job_args->>'n' AS n, ran_as = current_user AS ran_as_enqueuer FROM q_log ORDER BY at;
SELECT job_id = :urgent AS urgent, job_id = :later AS later, state, attempt, result,
       finished_at >= started_at AS timed, worker IS NULL AND lease_until IS NULL AS released
  FROM geoetl.job WHERE kind = 'q_log' ORDER BY job_id;
-- the key is free once its job finished
SELECT geoetl.enqueue('q_log', '{"n": 5}', dedupe_key => 'k1') <> :k1 AS new_job_for_free_key;
CALL geoetl.run_jobs();

-- a handler that always fails: retried (delays capped at backoff_max), then failed after max_attempts
SELECT geoetl.enqueue('q_fail', '{"n": 7}') AS doomed \gset
CALL geoetl.run_jobs();
SELECT state, attempt, run_after > now() AS waits FROM geoetl.job WHERE job_id = :doomed;
SELECT pg_sleep(0.3);
CALL geoetl.run_jobs();
SELECT pg_sleep(0.5);
CALL geoetl.run_jobs();
SELECT state, attempt, finished_at IS NOT NULL AS finished, jsonb_array_length(errors) AS errors
  FROM geoetl.job WHERE job_id = :doomed;
SELECT e->>'attempt' AS attempt, e->>'sqlstate' AS sqlstate, e->>'message' AS message,
       round(extract(epoch FROM (e->>'retry_at')::timestamptz - (e->>'at')::timestamptz)::numeric, 1) BETWEEN 0.1 AND 0.3 AS delay_ok
  FROM geoetl.job, jsonb_array_elements(errors) e WHERE job_id = :doomed;
-- a handler that fails twice, then succeeds: completed, both errors kept, delays doubling
-- (0.2 s, then 0.4 s, each +-25%)
SELECT geoetl.register_job_kind('q_flaky', 'q_flaky(jsonb)', backoff => '0.2 s');
SELECT geoetl.enqueue('q_flaky', '{"fails": 2}') AS flaky \gset
CALL geoetl.run_jobs();
SELECT pg_sleep(0.3);
CALL geoetl.run_jobs();
SELECT pg_sleep(0.6);
CALL geoetl.run_jobs();
SELECT state, attempt, result, jsonb_array_length(errors) AS errors FROM geoetl.job WHERE job_id = :flaky;
SELECT e->>'attempt' AS attempt, e->>'sqlstate' AS sqlstate, e->>'message' AS message,
       extract(epoch FROM (e->>'retry_at')::timestamptz - (e->>'at')::timestamptz)
         BETWEEN 0.15 * 2 ^ ((e->>'attempt')::int - 1) AND 0.25 * 2 ^ ((e->>'attempt')::int - 1) AS delay_in_range
  FROM geoetl.job, jsonb_array_elements(errors) e WHERE job_id = :flaky;
SELECT (errors->1->>'retry_at')::timestamptz - (errors->1->>'at')::timestamptz
     > (errors->0->>'retry_at')::timestamptz - (errors->0->>'at')::timestamptz AS spacing_grows
  FROM geoetl.job WHERE job_id = :flaky;

-- cancel: a pending job is cancelled; a finished one is not (false, with a notice)
SELECT geoetl.cancel_job(:later) AS cancelled;
SELECT state, finished_at IS NOT NULL AS finished FROM geoetl.job WHERE job_id = :later;
SELECT geoetl.cancel_job(:urgent) AS cancelled;
SELECT pg_temp.err($$SELECT geoetl.cancel_job(-1)$$);
SELECT pg_temp.err($$SELECT geoetl.cancel_job(NULL)$$);

-- retry: a failed or cancelled job goes back to pending with a fresh set of attempts
SELECT geoetl.retry_job(:doomed);
SELECT state, attempt, jsonb_array_length(errors) AS errors_kept, finished_at IS NULL AS unfinished
  FROM geoetl.job WHERE job_id = :doomed;
SELECT geoetl.retry_job(:later);
SELECT pg_temp.err(format('SELECT geoetl.retry_job(%s)', :urgent));
SELECT pg_temp.err($$SELECT geoetl.retry_job(-1)$$);
-- a retried job whose key was taken meanwhile would make two: refused
SELECT geoetl.enqueue('q_log', '{"n": 9}', dedupe_key => 'k2') AS k2 \gset
SELECT geoetl.cancel_job(:k2) AS cancelled;
SELECT geoetl.enqueue('q_log', '{"n": 10}', dedupe_key => 'k2') <> :k2 AS new_job;
SELECT regexp_replace(pg_temp.err(format('SELECT geoetl.retry_job(%s)', :k2)), 'job [0-9]+', 'job N', 'g') AS retry_taken_key;
SELECT geoetl.cancel_job(:doomed), geoetl.cancel_job(:later);
CALL geoetl.run_jobs();

-- the summary
SELECT kind, state, jobs, oldest_pending_age IS NOT NULL AS has_pending_age, failures_24h,
       mean_run_time IS NOT NULL AS has_run_time
  FROM geoetl.job_summary WHERE kind LIKE 'q\_%' ORDER BY kind, state;

-- run_jobs: bad arguments; inside a transaction block it cannot commit
SELECT pg_temp.err($$CALL geoetl.run_jobs(max_jobs => 0)$$);
SELECT pg_temp.err($$CALL geoetl.run_jobs(max_seconds => NULL)$$);
BEGIN;
SELECT geoetl.enqueue('q_log', '{"n": 11}') AS in_block \gset
CALL geoetl.run_jobs();
ROLLBACK;
-- max_jobs bounds one run
SELECT count(geoetl.enqueue('q_log', jsonb_build_object('n', 100 + i))) FROM generate_series(1, 3) i;
CALL geoetl.run_jobs(max_jobs => 2);
SELECT count(*) FILTER (WHERE state = 'pending') AS pending_left FROM geoetl.job WHERE kind = 'q_log';
CALL geoetl.run_jobs();

-- report_progress outside a job does nothing
SELECT geoetl.report_progress('3 of 4'), current_setting('application_name') NOT LIKE 'geoetl job%' AS unchanged;

-- a kind whose handler was dropped: the attempt fails with a clear error
CREATE FUNCTION q_gone(args jsonb) RETURNS jsonb LANGUAGE sql AS 'SELECT args';
SELECT geoetl.register_job_kind('q_gone', 'q_gone(jsonb)', max_attempts => 1);
SELECT geoetl.enqueue('q_gone', '{}') AS gone \gset
DROP FUNCTION q_gone(jsonb);
CALL geoetl.run_jobs();
SELECT state, errors->0->>'sqlstate' AS sqlstate, errors->0->>'message' AS message FROM geoetl.job WHERE job_id = :gone;

-- built-in kinds: register the February granules, then night lights through the queue
SELECT geoetl.enqueue('register_rasters', jsonb_build_object('product', 'VNP46A2', 'location', :'folder')) AS reg \gset
CALL geoetl.run_jobs();
SELECT state, result->'registered' IS NOT NULL AS registered FROM geoetl.job WHERE job_id = :reg;
SELECT geoetl.add_area('queued', '{"type":"Polygon","coordinates":[[[38,1],[42,1],[42,4],[38,4],[38,1]]]}') AS area \gset
SELECT count(*) AS jobs FROM geoetl.enqueue_nightlights(:area, '2024-01-10', '2024-03-05');
SELECT count(*) AS same_jobs_again, count(DISTINCT j) AS distinct_jobs FROM geoetl.enqueue_nightlights(:area, '2024-01-01', '2024-03-01') j;
CALL geoetl.run_jobs();
SELECT args->>'month' AS month, state, result, regexp_replace(progress, 'area [0-9]+', 'area N') AS progress
  FROM geoetl.job WHERE kind = 'nightlight_month' ORDER BY job_id;
SELECT to_char(month, 'YYYY-MM') AS month, days_with_data, sum_of_lights IS NOT NULL AS has_lights
  FROM geoetl.nightlight_monthly WHERE area_id = :area ORDER BY month;
-- a range in one job reports its progress month by month
SELECT geoetl.enqueue('nightlight_month', jsonb_build_object('area_id', :area, 'month', '2024-01-01', 'to_month', '2024-04-01')) AS range_job \gset
CALL geoetl.run_jobs();
SELECT state, result, regexp_replace(progress, 'area [0-9]+', 'area N') AS progress FROM geoetl.job WHERE job_id = :range_job;
SELECT pg_temp.err(format('SELECT geoetl.enqueue_nightlights(%s, %L, %L)', :area, '2024-03-01', '2024-01-01'));
SELECT pg_temp.err($$SELECT geoetl.enqueue_nightlights(-5, '2024-01-01', '2024-01-01')$$);
SELECT pg_temp.err(format('SELECT geoetl.enqueue_nightlights(%s, %L, %L, %L)', :area, '2024-01-01', '2024-01-01', 'VNP99'));
SELECT pg_temp.err($$SELECT geoetl.enqueue_nightlights(NULL, '2024-01-01', '2024-01-01')$$);
-- bad job arguments fail the attempt with the handler's error
SELECT geoetl.enqueue('nightlight_month', '{"area_id": 1, "colour": "red"}', max_attempts => 1) AS bad_args \gset
SELECT geoetl.enqueue('nightlight_month', '{"month": "2024-01-01"}', max_attempts => 1) AS no_area \gset
CALL geoetl.run_jobs();
SELECT state, errors->0->>'sqlstate' AS sqlstate, errors->0->>'message' AS message
  FROM geoetl.job WHERE job_id IN (:bad_args, :no_area) ORDER BY job_id;

-- prune: finished jobs older than the interval go; pending and running ones stay
UPDATE geoetl.job SET finished_at = now() - interval '40 days', created_at = now() - interval '41 days',
                      started_at = now() - interval '40 days'
 WHERE job_id = :k1;
SELECT * FROM geoetl.prune_jobs('30 days');
SELECT count(*) AS k1_left FROM geoetl.job WHERE job_id = :k1;
SELECT pg_temp.err($$SELECT * FROM geoetl.prune_jobs(NULL)$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.prune_jobs('-1 day')$$);

-- pg_cron is not installed in this database: a clear error
SELECT pg_temp.err($$SELECT geoetl.schedule_worker()$$);
SELECT pg_temp.err($$SELECT geoetl.unschedule_worker()$$);

-- impossible states are impossible, even for the table's owner (SQLSTATE and constraint shown)
CREATE FUNCTION pg_temp.violates(stmt text) RETURNS text LANGUAGE sql AS $$
  SELECT split_part(pg_temp.err(stmt), ' | ', 1) || ' ' || coalesce(substring(pg_temp.err(stmt) FROM 'constraint "[a-z_]+"'), '')
$$;
SELECT geoetl.enqueue('q_log', '{"n": 12}', run_after => now() + interval '1 day') AS waiting \gset
SELECT pg_temp.violates(format('UPDATE geoetl.job SET state = %L, attempt = 1 WHERE job_id = %s', 'running', :waiting)) AS running_without_worker;
SELECT pg_temp.violates(format('UPDATE geoetl.job SET state = %L, finished_at = now() WHERE job_id = %s', 'completed', :waiting)) AS completed_never_ran;
SELECT pg_temp.violates(format('UPDATE geoetl.job SET state = %L WHERE job_id = %s', 'failed', :waiting)) AS failed_unfinished;
SELECT pg_temp.violates(format('UPDATE geoetl.job SET worker = 1 WHERE job_id = %s', :waiting)) AS pending_with_worker;
SELECT pg_temp.violates(format('UPDATE geoetl.job SET attempt = 9 WHERE job_id = %s', :waiting)) AS attempts_beyond_max;
SELECT pg_temp.violates(format('UPDATE geoetl.job SET result = %L WHERE job_id = %s', '{}', :waiting)) AS result_unfinished;
SELECT pg_temp.violates($$INSERT INTO geoetl.job (kind, args, max_attempts) VALUES ('q_log', '{}', 0)$$) AS no_attempts;
SELECT pg_temp.violates($$INSERT INTO geoetl.job (kind, args, max_attempts, state) VALUES ('q_log', '{}', 1, 'done')$$) AS unknown_state;
SELECT pg_temp.violates($$INSERT INTO geoetl.job (kind, args, max_attempts) VALUES ('q_nope', '{}', 1)$$) AS unknown_kind;
SELECT geoetl.cancel_job(:waiting);

DELETE FROM geoetl.area WHERE area_id = :area;
