-- The job queue: pg_cron calls CALL geoetl.run_jobs() every minute; it claims pending jobs with
-- FOR UPDATE SKIP LOCKED, commits each claim (state running, a lease) before it runs the job's
-- handler, and commits the outcome with the handler's own changes, so that a job's effects and
-- its `completed` commit together or not at all. A handler runs with the privileges of the role
-- that enqueued the job, never those of the worker, and cannot SET ROLE back.

CREATE TABLE geoetl.job_kind (
  kind text PRIMARY KEY CHECK (kind ~ '^[a-z][a-z0-9_]*$'),
  handler regprocedure NOT NULL,
  lease interval NOT NULL DEFAULT '15 minutes' CHECK (lease > interval '0'),
  max_attempts int NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
  backoff interval NOT NULL DEFAULT '10 seconds' CHECK (backoff >= interval '0'),
  backoff_max interval NOT NULL DEFAULT '1 hour',
  description text,
  builtin boolean NOT NULL DEFAULT false,
  registered_by regrole,
  CONSTRAINT job_kind_backoff_max CHECK (backoff_max >= backoff)
);
COMMENT ON TABLE geoetl.job_kind IS
  'Kinds of job: the SQL handler (args jsonb) RETURNS jsonb that runs one, the longest it may run '
  '(lease), its attempts and the retry delay (backoff doubling per attempt up to backoff_max, '
  'with jitter)';

-- users' kinds survive pg_dump (the built-in ones have their handlers in the geoetl schema)
SELECT pg_catalog.pg_extension_config_dump('geoetl.job_kind', 'WHERE NOT builtin');
COMMENT ON COLUMN geoetl.job_kind.kind IS 'Name of the kind (lower-case letters, digits, _)';
COMMENT ON COLUMN geoetl.job_kind.handler IS 'The function (args jsonb) RETURNS jsonb that runs a job of the kind';
COMMENT ON COLUMN geoetl.job_kind.lease IS 'The longest a job may run: past it, the next run_jobs cancels it and retries it';
COMMENT ON COLUMN geoetl.job_kind.max_attempts IS 'Attempts of a job before it is failed (enqueue can set its own)';
COMMENT ON COLUMN geoetl.job_kind.backoff IS 'Delay before the first retry; doubled for each further attempt';
COMMENT ON COLUMN geoetl.job_kind.backoff_max IS 'The longest delay between attempts';
COMMENT ON COLUMN geoetl.job_kind.description IS 'What a job of the kind does';
COMMENT ON COLUMN geoetl.job_kind.builtin IS 'Built into geoetl (created with the extension): nobody changes it through the API';
COMMENT ON COLUMN geoetl.job_kind.registered_by IS 'The role that registered the kind: only its members (and superusers) may change it';
COMMENT ON INDEX geoetl.job_kind_pkey IS 'One row per kind';

CREATE FUNCTION geoetl._check_job_kind() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
                  WHERE p.oid = NEW.handler AND p.prokind = 'f' AND NOT p.proretset
                    AND p.prorettype = 'jsonb'::regtype AND p.pronargs = 1
                    AND p.proargtypes[0] = 'jsonb'::regtype) THEN
    RAISE EXCEPTION 'the handler of job kind "%" must be a function (args jsonb) RETURNS jsonb', NEW.kind
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('%s is not.', NEW.handler);
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION geoetl._check_job_kind() IS 'Trigger: a job kind''s handler is a function (args jsonb) RETURNS jsonb';
CREATE TRIGGER job_kind_handler BEFORE INSERT OR UPDATE OF handler ON geoetl.job_kind
  FOR EACH ROW EXECUTE FUNCTION geoetl._check_job_kind();

CREATE TYPE geoetl.job_state AS ENUM ('pending', 'running', 'completed', 'failed', 'cancelled');
COMMENT ON TYPE geoetl.job_state IS 'The states of a job: pending, running, then completed, failed or cancelled';

CREATE TABLE geoetl.job (
  job_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL REFERENCES geoetl.job_kind ON UPDATE CASCADE,
  args jsonb NOT NULL CHECK (jsonb_typeof(args) = 'object'),
  state geoetl.job_state NOT NULL DEFAULT 'pending',
  priority int NOT NULL DEFAULT 0,
  attempt int NOT NULL DEFAULT 0,
  max_attempts int NOT NULL,
  run_after timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz,
  worker int,
  dedupe_key text,
  progress text,
  result jsonb,
  errors jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(errors) = 'array'),
  enqueued_by regrole NOT NULL DEFAULT current_user::regrole,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  CONSTRAINT job_attempts CHECK (max_attempts >= 1 AND attempt BETWEEN 0 AND max_attempts),
  -- a running job has a worker and a lease, and only a running job has them
  CONSTRAINT job_running CHECK ((state = 'running') = (worker IS NOT NULL)
                                AND (state = 'running') = (lease_until IS NOT NULL)
                                AND (state <> 'running' OR started_at IS NOT NULL)),
  -- finished exactly when completed, failed or cancelled
  CONSTRAINT job_finished CHECK ((state IN ('completed', 'failed', 'cancelled')) = (finished_at IS NOT NULL)),
  CONSTRAINT job_result CHECK (result IS NULL OR state = 'completed'),
  CONSTRAINT job_ran CHECK (state NOT IN ('running', 'completed', 'failed') OR attempt >= 1)
);
COMMENT ON TABLE geoetl.job IS
  'Jobs of the queue: enqueued by geoetl.enqueue, run by CALL geoetl.run_jobs(); errors holds one entry '
  'per failed attempt (at, attempt, sqlstate, message, detail, retry_at)';
SELECT pg_catalog.pg_extension_config_dump('geoetl.job', '');
SELECT pg_catalog.pg_extension_config_dump('geoetl.job_job_id_seq', '');
COMMENT ON COLUMN geoetl.job.job_id IS 'The job';
COMMENT ON COLUMN geoetl.job.kind IS 'Its kind (geoetl.job_kind): the handler that runs it';
COMMENT ON COLUMN geoetl.job.args IS 'The JSON object passed to the handler';
COMMENT ON COLUMN geoetl.job.state IS 'pending, running, completed, failed or cancelled';
COMMENT ON COLUMN geoetl.job.priority IS 'Higher runs first';
COMMENT ON COLUMN geoetl.job.attempt IS 'Attempts started so far';
COMMENT ON COLUMN geoetl.job.max_attempts IS 'After this many failed attempts the job is failed';
COMMENT ON COLUMN geoetl.job.run_after IS 'Not run before this time (set by enqueue, and by the backoff after a failed attempt)';
COMMENT ON COLUMN geoetl.job.lease_until IS 'While running: when its lease ends';
COMMENT ON COLUMN geoetl.job.worker IS 'While running: the process id of the backend running it';
COMMENT ON COLUMN geoetl.job.dedupe_key IS 'At most one pending or running job of a kind and enqueuer has a given key';
COMMENT ON COLUMN geoetl.job.progress IS 'The last progress the handler reported (live: geoetl.running_jobs)';
COMMENT ON COLUMN geoetl.job.result IS 'What the handler returned (completed jobs)';
COMMENT ON COLUMN geoetl.job.errors IS 'One entry per failed attempt: at, attempt, sqlstate, message, detail (if any), retry_at';
COMMENT ON COLUMN geoetl.job.enqueued_by IS 'The role that enqueued the job: its handler runs with this role''s privileges';
COMMENT ON COLUMN geoetl.job.created_at IS 'When it was enqueued';
COMMENT ON COLUMN geoetl.job.started_at IS 'When its latest attempt started';
COMMENT ON COLUMN geoetl.job.finished_at IS 'When it was completed, failed or cancelled';
COMMENT ON INDEX geoetl.job_pkey IS 'One row per job';
-- what run_jobs claims next: the highest priority, then the earliest run_after, then the oldest
CREATE INDEX job_claim ON geoetl.job (priority DESC, run_after, job_id) WHERE state = 'pending';
COMMENT ON INDEX geoetl.job_claim IS 'The order in which run_jobs claims pending jobs';
CREATE INDEX job_running ON geoetl.job (lease_until) WHERE state = 'running';
COMMENT ON INDEX geoetl.job_running IS 'Running jobs, for recovery';
CREATE INDEX job_finished ON geoetl.job (finished_at) WHERE finished_at IS NOT NULL;
COMMENT ON INDEX geoetl.job_finished IS 'Finished jobs, for pruning';
CREATE UNIQUE INDEX job_dedupe ON geoetl.job (kind, enqueued_by, dedupe_key) WHERE state IN ('pending', 'running');
COMMENT ON INDEX geoetl.job_dedupe IS 'At most one pending or running job per kind, enqueuer and dedupe key';

-- Every state change is announced on the channel geoetl_jobs (delivered when it commits).
CREATE FUNCTION geoetl._notify_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('geoetl_jobs', pg_catalog.json_build_object(
    'job_id', NEW.job_id, 'kind', NEW.kind, 'state', NEW.state)::text);
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION geoetl._notify_job() IS 'Trigger: NOTIFY geoetl_jobs with job_id, kind and state on every state change';
CREATE TRIGGER job_notify_insert AFTER INSERT ON geoetl.job
  FOR EACH ROW EXECUTE FUNCTION geoetl._notify_job();
CREATE TRIGGER job_notify_state AFTER UPDATE OF state ON geoetl.job
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION geoetl._notify_job();

CREATE FUNCTION geoetl.register_job_kind(kind text, handler regprocedure, lease interval DEFAULT '15 minutes',
                                         max_attempts int DEFAULT 5, backoff interval DEFAULT '10 seconds',
                                         backoff_max interval DEFAULT '1 hour', description text DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
  SELECT FROM geoetl._trusted_call('geoetl._trusted_register_job_kind(regrole, jsonb)',
    jsonb_build_object('kind', kind, 'handler', handler::oid, 'lease', lease, 'max_attempts', max_attempts,
                       'backoff', backoff, 'backoff_max', backoff_max, 'description', description))
$$;
COMMENT ON FUNCTION geoetl.register_job_kind(text, regprocedure, interval, int, interval, interval, text) IS
  'Adds or changes a job kind: handler is a function (args jsonb) RETURNS jsonb. Built-in kinds and '
  'kinds another role registered cannot be changed';

CREATE FUNCTION geoetl._trusted_register_job_kind(caller regrole, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
#variable_conflict use_column
<<fn>>
DECLARE
  kind text := a->>'kind';
  handler regprocedure := (a->>'handler')::oid;
  lease interval := a->>'lease';
  max_attempts int := a->>'max_attempts';
  backoff interval := a->>'backoff';
  backoff_max interval := a->>'backoff_max';
  old geoetl.job_kind;
BEGIN
  PERFORM geoetl._require_member(caller, 'geoetl_admin', 'register job kinds');
  IF kind IS NULL OR handler IS NULL OR lease IS NULL OR max_attempts IS NULL OR backoff IS NULL
     OR backoff_max IS NULL THEN
    RAISE EXCEPTION 'kind, handler, lease, max_attempts, backoff and backoff_max must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF kind !~ '^[a-z][a-z0-9_]*$' THEN
    RAISE EXCEPTION 'invalid job kind name "%"', kind USING ERRCODE = 'invalid_parameter_value',
      HINT = 'A kind is named with lower-case letters, digits and _, starting with a letter.';
  END IF;
  IF lease <= interval '0' OR max_attempts < 1 OR backoff < interval '0' OR backoff_max < backoff THEN
    RAISE EXCEPTION 'invalid settings for job kind "%"', kind USING ERRCODE = 'invalid_parameter_value',
      DETAIL = format('lease %s, max_attempts %s, backoff %s, backoff_max %s', lease, max_attempts, backoff, backoff_max),
      HINT = 'lease must be positive, max_attempts at least 1, backoff at least 0 and backoff_max at least backoff.';
  END IF;
  IF NOT pg_catalog.has_function_privilege(caller, handler, 'EXECUTE') THEN
    RAISE EXCEPTION 'permission denied to register % as a job handler', handler USING ERRCODE = 'insufficient_privilege',
      DETAIL = format('%s may not execute it.', caller);
  END IF;
  SELECT * INTO old FROM geoetl.job_kind k WHERE k.kind = fn.kind FOR UPDATE;
  IF old.builtin THEN
    RAISE EXCEPTION 'job kind "%" is built into geoetl and cannot be changed', kind
      USING ERRCODE = 'insufficient_privilege', HINT = 'Register your handler as a kind of another name.';
  END IF;
  IF FOUND AND NOT pg_catalog.pg_has_role(caller, coalesce(old.registered_by, 'geoetl_admin'::regrole), 'MEMBER') THEN
    RAISE EXCEPTION 'job kind "%" was registered by %', kind, old.registered_by USING ERRCODE = 'insufficient_privilege',
      HINT = 'Only members of the role that registered a kind (and superusers) may change it.';
  END IF;
  INSERT INTO geoetl.job_kind AS k (kind, handler, lease, max_attempts, backoff, backoff_max, description, registered_by)
  VALUES (kind, handler, lease, max_attempts, backoff, backoff_max, a->>'description', caller)
  ON CONFLICT ON CONSTRAINT job_kind_pkey DO UPDATE
     SET handler = EXCLUDED.handler, lease = EXCLUDED.lease, max_attempts = EXCLUDED.max_attempts,
         backoff = EXCLUDED.backoff, backoff_max = EXCLUDED.backoff_max, description = EXCLUDED.description;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION geoetl._trusted_register_job_kind(regrole, jsonb) IS
  'register_job_kind, for caller (geoetl_admin): never a built-in kind or one another role registered';

CREATE FUNCTION geoetl.enqueue(kind text, args jsonb, priority int DEFAULT 0, run_after timestamptz DEFAULT now(),
                               dedupe_key text DEFAULT NULL, max_attempts int DEFAULT NULL)
RETURNS bigint LANGUAGE sql AS $$
  SELECT (geoetl._trusted_call('geoetl._trusted_enqueue(regrole, jsonb)',
            jsonb_build_object('kind', kind, 'args', args, 'priority', priority, 'run_after', run_after,
                               'dedupe_key', dedupe_key, 'max_attempts', max_attempts)))::bigint
$$;
COMMENT ON FUNCTION geoetl.enqueue(text, jsonb, int, timestamptz, text, int) IS
  'Adds a job (returns its id); with a dedupe_key, returns instead the pending or running job of the '
  'same kind that the caller enqueued with that key, if there is one. The job runs with the '
  'privileges of the role that enqueued it';

CREATE FUNCTION geoetl._trusted_enqueue(caller regrole, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
#variable_conflict use_column
<<fn>>
DECLARE
  kind text := a->>'kind';
  args jsonb := nullif(a->'args', 'null');
  priority int := a->>'priority';
  run_after timestamptz := a->>'run_after';
  dedupe_key text := a->>'dedupe_key';
  max_attempts int := a->>'max_attempts';
  k geoetl.job_kind;
  id bigint;
BEGIN
  PERFORM geoetl._require_member(caller, 'geoetl_writer', 'enqueue jobs');
  IF kind IS NULL OR args IS NULL OR priority IS NULL OR run_after IS NULL THEN
    RAISE EXCEPTION 'kind, args, priority and run_after must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT * INTO k FROM geoetl.job_kind j WHERE j.kind = fn.kind;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown job kind "%"', kind USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Known kinds: ' || coalesce((SELECT string_agg(j.kind, ', ' ORDER BY j.kind) FROM geoetl.job_kind j), 'none')
             || '. geoetl.register_job_kind adds one.';
  END IF;
  IF jsonb_typeof(args) <> 'object' THEN
    RAISE EXCEPTION 'args must be a JSON object, not %', jsonb_typeof(args) USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF max_attempts < 1 THEN
    RAISE EXCEPTION 'max_attempts must be at least 1, not %', max_attempts USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT isfinite(run_after) THEN
    RAISE EXCEPTION 'run_after must be a finite time, not %', run_after USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Give the time a job may start, e.g. now() + interval ''1 day''.';
  END IF;
  IF NOT pg_catalog.has_function_privilege(caller, k.handler, 'EXECUTE') THEN
    RAISE EXCEPTION 'permission denied to enqueue jobs of kind "%"', kind USING ERRCODE = 'insufficient_privilege',
      DETAIL = format('The job would run as %s, who may not execute %s.', caller, k.handler);
  END IF;
  LOOP  -- with a dedupe key: the caller's pending or running job of the kind that has it, or a new one
    INSERT INTO geoetl.job AS j (kind, args, priority, run_after, dedupe_key, max_attempts, enqueued_by)
    VALUES (kind, args, priority, run_after, dedupe_key, coalesce(max_attempts, k.max_attempts), caller)
    ON CONFLICT (kind, enqueued_by, dedupe_key) WHERE state IN ('pending', 'running') DO NOTHING
    RETURNING j.job_id INTO id;
    IF id IS NOT NULL THEN
      RETURN to_jsonb(id);
    END IF;
    SELECT j.job_id INTO id FROM geoetl.job j
     WHERE j.kind = fn.kind AND j.enqueued_by = caller AND j.dedupe_key = fn.dedupe_key
       AND j.state IN ('pending', 'running');
    IF id IS NOT NULL THEN
      RETURN to_jsonb(id);
    END IF;
  END LOOP;
END
$$;
COMMENT ON FUNCTION geoetl._trusted_enqueue(regrole, jsonb) IS
  'enqueue, for caller (geoetl_writer): the job is enqueued_by caller; dedupe keys are the caller''s own per kind';

-- Progress of the running job, visible to other sessions before it commits: kept in the
-- session's application_name (pg_stat_activity shows it at once) and stored with the outcome.
CREATE FUNCTION geoetl.report_progress(message text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  job text := current_setting('geoetl.job_id', true);
BEGIN
  IF coalesce(job, '') = '' OR message IS NULL THEN
    RETURN;  -- not inside a job: nothing to report
  END IF;
  PERFORM set_config('geoetl.job_progress', message, true);
  PERFORM set_config('application_name', format('geoetl job %s: %s', job, message), true);
END
$$;
COMMENT ON FUNCTION geoetl.report_progress(text) IS
  'Called by job handlers: shows message (e.g. "7 of 12 months") as the running job''s progress in '
  'geoetl.running_jobs at once, and keeps it in geoetl.job.progress; does nothing outside a job';

CREATE VIEW geoetl.running_jobs AS
SELECT j.job_id, j.kind, j.args, j.attempt, j.max_attempts, j.worker, j.started_at,
       now() - j.started_at AS running_for, j.lease_until,
       coalesce(substring(a.application_name FROM '^geoetl job [0-9]+: (.*)$'), j.progress) AS progress
  FROM geoetl.job j
  LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = j.worker
 WHERE j.state = 'running';
COMMENT ON VIEW geoetl.running_jobs IS
  'Running jobs with their live progress (as reported by geoetl.report_progress before the job commits)';
COMMENT ON COLUMN geoetl.running_jobs.job_id IS 'The job';
COMMENT ON COLUMN geoetl.running_jobs.kind IS 'Its kind';
COMMENT ON COLUMN geoetl.running_jobs.args IS 'Its arguments';
COMMENT ON COLUMN geoetl.running_jobs.attempt IS 'The attempt running';
COMMENT ON COLUMN geoetl.running_jobs.max_attempts IS 'Attempts allowed';
COMMENT ON COLUMN geoetl.running_jobs.worker IS 'The backend running it';
COMMENT ON COLUMN geoetl.running_jobs.started_at IS 'When the attempt started';
COMMENT ON COLUMN geoetl.running_jobs.running_for IS 'How long it has run';
COMMENT ON COLUMN geoetl.running_jobs.lease_until IS 'When its lease ends';
COMMENT ON COLUMN geoetl.running_jobs.progress IS 'The progress its handler last reported, live';

CREATE VIEW geoetl.job_summary AS
SELECT j.kind, j.state, count(*) AS jobs,
       now() - min(j.created_at) FILTER (WHERE j.state = 'pending') AS oldest_pending_age,
       coalesce(sum((SELECT count(*) FROM jsonb_array_elements(j.errors) e
                       WHERE (e->>'at')::timestamptz > now() - interval '24 hours')), 0)::bigint AS failures_24h,
       avg(j.finished_at - j.started_at) FILTER (WHERE j.state = 'completed') AS mean_run_time
  FROM geoetl.job j
 GROUP BY j.kind, j.state;
COMMENT ON VIEW geoetl.job_summary IS
  'Per kind and state: jobs, the age of the oldest pending one, failed attempts in the last 24 hours '
  '(of jobs now in that state), mean run time of completed jobs';
COMMENT ON COLUMN geoetl.job_summary.kind IS 'The kind';
COMMENT ON COLUMN geoetl.job_summary.state IS 'The state';
COMMENT ON COLUMN geoetl.job_summary.jobs IS 'Jobs of the kind in the state';
COMMENT ON COLUMN geoetl.job_summary.oldest_pending_age IS 'Pending: how long ago the oldest was enqueued';
COMMENT ON COLUMN geoetl.job_summary.failures_24h IS 'Failed attempts in the last 24 hours';
COMMENT ON COLUMN geoetl.job_summary.mean_run_time IS 'Completed: mean time from the last attempt''s start to the end';

-- Internal steps of run_jobs (SECURITY DEFINER: workers never write geoetl.job directly).

-- Whether backend `pid` still exists and is the one that started at or before `since`.
CREATE FUNCTION geoetl._run_handler(handler regprocedure, args jsonb, role regrole) RETURNS jsonb
AS 'MODULE_PATHNAME', 'geoetl_run_handler' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION geoetl._run_handler(regprocedure, jsonb, regrole) IS
  'run_jobs: calls a handler as the role that enqueued the job (which must be one the caller could '
  'become; a superuser''s job only runs superuser-owned handlers); the handler cannot SET ROLE';

CREATE FUNCTION geoetl._backend_alive(pid int, since timestamptz) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a
                  WHERE a.pid = _backend_alive.pid AND (a.backend_start IS NULL OR a.backend_start <= since))
$$;
COMMENT ON FUNCTION geoetl._backend_alive(int, timestamptz) IS 'Whether a backend process still exists and started no later than since';

-- An error entry, and the state a job goes to after a failed attempt: pending again after
-- backoff * 2^(attempt - 1) (at most backoff_max) with +-25% jitter, or failed.
CREATE FUNCTION geoetl._fail_attempt(j geoetl.job, code text, message text, detail text DEFAULT NULL) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  k geoetl.job_kind;
  retry timestamptz;
  failed_at constant timestamptz := clock_timestamp();  -- one instant: the delay is exact
BEGIN
  SELECT * INTO k FROM geoetl.job_kind WHERE kind = j.kind;
  IF j.attempt < j.max_attempts THEN
    retry := failed_at + least(coalesce(k.backoff, '10 seconds') * power(2, j.attempt - 1) * (0.75 + random() / 2),
                           coalesce(k.backoff_max, '1 hour'));
  END IF;
  UPDATE geoetl.job x
     SET state = CASE WHEN retry IS NULL THEN 'failed' ELSE 'pending' END::geoetl.job_state,
         run_after = coalesce(retry, x.run_after), finished_at = CASE WHEN retry IS NULL THEN failed_at END,
         worker = NULL, lease_until = NULL,
         errors = x.errors || (jsonb_strip_nulls(jsonb_build_object('at', failed_at, 'attempt', j.attempt, 'sqlstate', code,
                                                                    'message', message, 'detail', nullif(detail, '')))
                               || jsonb_build_object('retry_at', retry))
   WHERE x.job_id = j.job_id;
END
$$;
COMMENT ON FUNCTION geoetl._fail_attempt(geoetl.job, text, text, text) IS 'run_jobs: records a failed attempt; pending after backoff, or failed';

-- Puts back running jobs whose worker is gone, or whose lease expired while nobody holds them
-- (the attempt counts); cancels the worker of a job still held past its lease (the job comes
-- back on a later pass). Returns the jobs put back.
CREATE FUNCTION geoetl._recover_jobs() RETURNS int LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  j geoetl.job;
  n int := 0;
BEGIN
  FOR j IN SELECT * FROM geoetl.job WHERE state = 'running' ORDER BY job_id FOR UPDATE SKIP LOCKED LOOP
    -- this session runs no job while it recovers: a job it left running was abandoned
    IF j.worker = pg_catalog.pg_backend_pid() OR NOT geoetl._backend_alive(j.worker, j.started_at) THEN
      PERFORM geoetl._fail_attempt(j, '08006', format('its worker (pid %s) ended before the job did', j.worker));
      n := n + 1;
    ELSIF j.lease_until < clock_timestamp() THEN
      PERFORM geoetl._fail_attempt(j, '57014', format('its lease expired (%s) and its worker (pid %s) no longer holds it',
                                                      j.lease_until, j.worker));
      n := n + 1;
    END IF;
  END LOOP;
  -- held past the lease: the handler is still running
  FOR j IN SELECT * FROM geoetl.job WHERE state = 'running' AND lease_until < clock_timestamp() LOOP
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a
                WHERE a.pid = j.worker AND (a.application_name = format('geoetl job %s', j.job_id)
                                            OR a.application_name LIKE format('geoetl job %s: %%', j.job_id))) THEN
      RAISE WARNING 'job % (%) ran past its lease: cancelling its worker (pid %)', j.job_id, j.kind, j.worker;
      PERFORM pg_catalog.pg_cancel_backend(j.worker);
    END IF;
  END LOOP;
  RETURN n;
END
$$;
COMMENT ON FUNCTION geoetl._recover_jobs() IS 'run_jobs: puts back jobs whose worker died or lost its lease; cancels workers past their lease';

-- Claims the next runnable job: running, one more attempt, a lease; NULL when there is none.
CREATE FUNCTION geoetl._claim_job() RETURNS geoetl.job LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  j geoetl.job;
BEGIN
  UPDATE geoetl.job x
     SET state = 'running', attempt = x.attempt + 1, started_at = clock_timestamp(), worker = pg_catalog.pg_backend_pid(),
         lease_until = clock_timestamp() + (SELECT k.lease FROM geoetl.job_kind k WHERE k.kind = x.kind), progress = NULL
   WHERE x.job_id = (SELECT c.job_id FROM geoetl.job c
                      WHERE c.state = 'pending' AND c.run_after <= clock_timestamp()
                      ORDER BY c.priority DESC, c.run_after, c.job_id
                      LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING * INTO j;
  RETURN j;
END
$$;
COMMENT ON FUNCTION geoetl._claim_job() IS 'run_jobs: claims the next runnable job (FOR UPDATE SKIP LOCKED)';

-- Locks the claimed job for the transaction that runs it: its row lock tells _recover_jobs that
-- the worker is alive. False when the job is no longer this worker's.
CREATE FUNCTION geoetl._hold_job(job_id bigint) RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM 1 FROM geoetl.job j
   WHERE j.job_id = _hold_job.job_id AND j.state = 'running' AND j.worker = pg_catalog.pg_backend_pid()
     FOR UPDATE;
  RETURN FOUND;
END
$$;
COMMENT ON FUNCTION geoetl._hold_job(bigint) IS 'run_jobs: locks the claimed job while it runs';

-- Records a job's outcome: completed with the handler's result, or a failed attempt.
CREATE FUNCTION geoetl._finish_job(job_id bigint, ok boolean, result jsonb, code text, message text, detail text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  j geoetl.job;
  last_progress text := nullif(current_setting('geoetl.job_progress', true), '');
BEGIN
  SELECT * INTO j FROM geoetl.job x WHERE x.job_id = _finish_job.job_id;
  IF ok THEN
    UPDATE geoetl.job x
       SET state = 'completed', result = coalesce(_finish_job.result, 'null'::jsonb), finished_at = clock_timestamp(),
           worker = NULL, lease_until = NULL, progress = last_progress
     WHERE x.job_id = _finish_job.job_id;
  ELSE
    UPDATE geoetl.job x SET progress = last_progress WHERE x.job_id = _finish_job.job_id;
    PERFORM geoetl._fail_attempt(j, code, message, detail);
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._finish_job(bigint, boolean, jsonb, text, text, text) IS 'run_jobs: records a job''s outcome';

-- The worker. A procedure (it commits), so it has no SET search_path: every name is qualified.
CREATE PROCEDURE geoetl.run_jobs(max_jobs int DEFAULT 100, max_seconds int DEFAULT 50)
LANGUAGE plpgsql AS $$
DECLARE
  deadline timestamptz;
  done int := 0;
  j geoetl.job;
  handler regprocedure;
  outcome jsonb;
  ok boolean;
  err_code text;
  err_message text;
  err_detail text;
  cancelled_job bigint;
  handler_kind text;
BEGIN
  IF max_jobs IS NULL OR max_seconds IS NULL OR max_jobs < 1 OR max_seconds < 0 THEN
    RAISE EXCEPTION 'max_jobs must be at least 1 and max_seconds at least 0, not % and %', max_jobs, max_seconds
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  deadline := pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => max_seconds);
  PERFORM geoetl._recover_jobs();
  COMMIT;
  LOOP
    -- a claim or an outcome lost in a crash only makes the job run again: no fsync wait
    PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
    IF j.job_id IS NOT NULL THEN  -- the job just run: its outcome commits with the next claim
      PERFORM geoetl._finish_job(j.job_id, ok, outcome, err_code, err_message, err_detail);
      done := done + 1;
      j := NULL;
    END IF;
    IF cancelled_job IS NULL AND done < max_jobs AND pg_catalog.clock_timestamp() < deadline THEN
      j := geoetl._claim_job();
    END IF;
    COMMIT;
    EXIT WHEN j.job_id IS NULL;
    PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
    IF NOT geoetl._hold_job(j.job_id) THEN
      j := NULL;
      CONTINUE;
    END IF;
    IF handler_kind IS DISTINCT FROM j.kind THEN
      SELECT k.handler INTO handler FROM geoetl.job_kind k WHERE k.kind = j.kind;
      handler_kind := j.kind;
    END IF;
    PERFORM pg_catalog.set_config('geoetl.job_id', j.job_id::text, true);
    PERFORM pg_catalog.set_config('geoetl.job_progress', '', true);
    PERFORM pg_catalog.set_config('application_name', pg_catalog.format('geoetl job %s', j.job_id), true);
    BEGIN
      -- as the enqueuer, who cannot SET ROLE back to the worker (see geoetl._run_handler)
      outcome := geoetl._run_handler(handler, j.args, j.enqueued_by);
      ok := true;
    EXCEPTION
      WHEN query_canceled THEN  -- recorded as a failed attempt; then the worker stops
        GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                                err_detail = PG_EXCEPTION_DETAIL;
        ok := false;
        cancelled_job := j.job_id;
      WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                                err_detail = PG_EXCEPTION_DETAIL;
        ok := false;
    END;
  END LOOP;
  IF cancelled_job IS NOT NULL THEN
    RAISE EXCEPTION 'run_jobs stopped: job % was cancelled while it ran', cancelled_job USING ERRCODE = 'query_canceled';
  END IF;
END
$$;
COMMENT ON PROCEDURE geoetl.run_jobs(int, int) IS
  'Runs pending jobs, one transaction each (its outcome commits with the next claim), until none is '
  'runnable, max_jobs ran or max_seconds passed; '
  'puts back jobs whose worker died first. Schedule it with geoetl.schedule_worker (pg_cron)';

-- Whoever cancels or retries a job is its enqueuer (or a member of that role) or an admin: the
-- role that called, as _trusted_call passes it (inside a job, the job's enqueuer; never the
-- worker's session user).
CREATE FUNCTION geoetl._check_job_owner(j geoetl.job, caller regrole) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT (pg_catalog.pg_has_role(caller, j.enqueued_by, 'MEMBER')
          OR pg_catalog.pg_has_role(caller, 'geoetl_admin', 'MEMBER')) THEN
    RAISE EXCEPTION 'job % belongs to %', j.job_id, j.enqueued_by USING ERRCODE = 'insufficient_privilege',
      HINT = 'Only its enqueuer (or a member of that role) and geoetl_admin members may change it.';
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._check_job_owner(geoetl.job, regrole) IS
  'Raises unless caller enqueued the job (or is a member of that role) or is an admin';

CREATE FUNCTION geoetl.cancel_job(job_id bigint) RETURNS boolean LANGUAGE sql AS $$
  SELECT (geoetl._trusted_call('geoetl._trusted_cancel_job(regrole, jsonb)',
                               jsonb_build_object('job_id', job_id)))::boolean
$$;
COMMENT ON FUNCTION geoetl.cancel_job(bigint) IS
  'Cancels a pending or running job (a running one''s handler is interrupted and its changes rolled '
  'back); false, with a notice, when the job had already finished';

CREATE FUNCTION geoetl._trusted_cancel_job(caller regrole, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  id bigint := a->>'job_id';
  j geoetl.job;
  signalled boolean := false;
BEGIN
  PERFORM geoetl._require_member(caller, 'geoetl_writer', 'cancel jobs');
  IF id IS NULL THEN
    RAISE EXCEPTION 'job_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT * INTO j FROM geoetl.job x WHERE x.job_id = id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'job % does not exist', id USING ERRCODE = 'no_data_found';
  END IF;
  PERFORM geoetl._check_job_owner(j, caller);
  IF j.state = 'running' AND EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity s
                  WHERE s.pid = j.worker AND (s.application_name = format('geoetl job %s', j.job_id)
                        OR s.application_name LIKE format('geoetl job %s: %%', j.job_id))) THEN
    -- its handler stops, its changes roll back, and run_jobs records the attempt and stops
    signalled := pg_catalog.pg_cancel_backend(j.worker);
  END IF;
  SELECT * INTO j FROM geoetl.job x WHERE x.job_id = id FOR UPDATE;  -- waits for the worker
  IF NOT (j.state IN ('pending', 'running')
          OR (signalled AND j.state = 'failed' AND j.errors->-1->>'sqlstate' = '57014')) THEN
    RAISE NOTICE 'job % is already %', id, j.state;
    RETURN to_jsonb(false);
  END IF;
  UPDATE geoetl.job x SET state = 'cancelled', finished_at = clock_timestamp(), worker = NULL, lease_until = NULL
   WHERE x.job_id = id;
  RETURN to_jsonb(true);
END
$$;
COMMENT ON FUNCTION geoetl._trusted_cancel_job(regrole, jsonb) IS 'cancel_job, for caller: its own jobs, or any as an admin';

CREATE FUNCTION geoetl.retry_job(job_id bigint) RETURNS void LANGUAGE sql AS $$
  SELECT FROM geoetl._trusted_call('geoetl._trusted_retry_job(regrole, jsonb)', jsonb_build_object('job_id', job_id))
$$;
COMMENT ON FUNCTION geoetl.retry_job(bigint) IS
  'Puts a failed or cancelled job back to pending with a fresh set of attempts (its errors are kept)';

CREATE FUNCTION geoetl._trusted_retry_job(caller regrole, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  id bigint := a->>'job_id';
  j geoetl.job;
  other bigint;
BEGIN
  PERFORM geoetl._require_member(caller, 'geoetl_writer', 'retry jobs');
  IF id IS NULL THEN
    RAISE EXCEPTION 'job_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT * INTO j FROM geoetl.job x WHERE x.job_id = id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'job % does not exist', id USING ERRCODE = 'no_data_found';
  END IF;
  PERFORM geoetl._check_job_owner(j, caller);
  IF j.state NOT IN ('failed', 'cancelled') THEN
    RAISE EXCEPTION 'job % is %, not failed or cancelled', id, j.state
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  SELECT x.job_id INTO other FROM geoetl.job x
   WHERE x.kind = j.kind AND x.enqueued_by = j.enqueued_by AND x.dedupe_key = j.dedupe_key
     AND x.state IN ('pending', 'running');
  IF other IS NOT NULL THEN
    RAISE EXCEPTION 'job % cannot be retried: job % with the same dedupe key is pending or running', id, other
      USING ERRCODE = 'unique_violation';
  END IF;
  UPDATE geoetl.job x SET state = 'pending', attempt = 0, run_after = now(), finished_at = NULL, result = NULL
   WHERE x.job_id = id;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION geoetl._trusted_retry_job(regrole, jsonb) IS 'retry_job, for caller: its own jobs, or any as an admin';
