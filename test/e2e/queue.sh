#!/usr/bin/env bash
# The job queue across sessions, on a cluster of its own: exactly-once execution by 4 concurrent
# workers, progress seen from another session before the job commits, a worker killed by
# pg_terminate_backend and by kill -9 (the server restarts), a job that outlives its lease,
# cancelling a running job, NOTIFY payloads, and the pg_cron wrappers. Prints TAP.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export GEOETL_PGDIR=${TMPDIR:-/tmp}/geoetl-queue-test-$$
PGC=$ROOT/scripts/pgcluster.sh
OUT=$GEOETL_PGDIR.out
. "$ROOT/test/e2e/lib/tap.sh"
trap 'kill $(jobs -p) 2>/dev/null; "$PGC" destroy >/dev/null 2>&1; [[ -n ${KEEP:-} ]] || rm -f "$OUT".*' EXIT
q() { "$PGC" psql -XAtqc "$1"; }
is() { local got; got=$(q "$1"); [[ $got == "$2" ]] || { echo "  got: $got, want: $2" >&2; return 1; }; }
until_true() {  # seconds, query: polls until the query returns t
  local i
  for ((i = 0; i < $1 * 5; i++)); do [[ $(q "$2") == t ]] && return 0; sleep 0.2; done
  return 1
}
run_until_done() {  # job_id: runs the queue until the job has finished (20 s at most)
  local i
  for ((i = 0; i < 40; i++)); do
    q "CALL geoetl.run_jobs(max_seconds => 5)" >/dev/null 2>&1
    [[ $(q "SELECT state IN ('completed', 'failed', 'cancelled') FROM geoetl.job WHERE job_id = $1") == t ]] && return 0
    sleep 0.5
  done
  return 1
}
server_up() { local i; for ((i = 0; i < 100; i++)); do q "SELECT 1" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }

"$PGC" start >/dev/null || { echo "not ok 1 - cluster starts"; exit 1; }
q "SET client_min_messages = warning; CREATE EXTENSION geoetl CASCADE; CREATE EXTENSION pg_cron" >/dev/null
q "
CREATE TABLE ran (job_id bigint, args jsonb, pid int DEFAULT pg_backend_pid(), ran_as name DEFAULT current_user);
CREATE FUNCTION log_job(args jsonb) RETURNS jsonb LANGUAGE sql AS
  \$\$ INSERT INTO ran (job_id, args) VALUES (current_setting('geoetl.job_id')::bigint, args) RETURNING '{}'::jsonb \$\$;
-- writes its row, reports progress, sleeps args->sleep seconds, reports again
CREATE FUNCTION slow_job(args jsonb) RETURNS jsonb LANGUAGE plpgsql AS \$\$
BEGIN
  INSERT INTO ran (job_id, args) VALUES (current_setting('geoetl.job_id')::bigint, args);
  PERFORM geoetl.report_progress('step 1 of 2');
  PERFORM pg_sleep((args->>'sleep')::float8);
  PERFORM geoetl.report_progress('step 2 of 2');
  RETURN '{\"slept\": true}';
END \$\$;
SELECT geoetl.register_job_kind('log', 'log_job(jsonb)');
SELECT geoetl.register_job_kind('slow', 'slow_job(jsonb)', backoff => '1 s');
SELECT geoetl.register_job_kind('short_lease', 'slow_job(jsonb)', lease => '2 s', backoff => '1 s');" >/dev/null

# exactly once: 4 workers over 500 jobs
q "SELECT count(geoetl.enqueue('log', jsonb_build_object('i', i))) FROM generate_series(1, 500) i" >/dev/null
for w in 1 2 3 4; do
  "$PGC" psql -XAtqc "CALL geoetl.run_jobs(max_jobs => 1000, max_seconds => 60)" >"$OUT.w$w" 2>&1 &
done
wait
check "4 concurrent workers end without error (no deadlock)" test -z "$(cat "$OUT".w*)"
check "every one of the 500 jobs ran exactly once" is \
  "SELECT count(*), count(DISTINCT job_id), count(DISTINCT args) FROM ran" "500|500|500"
check "all 500 are completed" is "SELECT count(*) FROM geoetl.job WHERE kind = 'log' AND state = 'completed'" 500
check "the work was shared between workers" is "SELECT count(DISTINCT pid) > 1 FROM ran" t
q "TRUNCATE ran"

# a job runs with the privileges of the role that enqueued it, not the worker's (a superuser here)
q "CREATE ROLE queue_writer LOGIN IN ROLE geoetl_writer; GRANT INSERT ON ran TO queue_writer;
   CREATE TABLE secret (x int); GRANT EXECUTE ON FUNCTION log_job(jsonb) TO queue_writer;
   CREATE FUNCTION write_secret(args jsonb) RETURNS jsonb LANGUAGE sql AS 'INSERT INTO secret VALUES (1) RETURNING NULL::jsonb';
   SELECT geoetl.register_job_kind('secret', 'write_secret(jsonb)', max_attempts => 1)" >/dev/null
as_writer() { "$PGC" psql -XAtq -U queue_writer -c "$1"; }
mine=$(as_writer "SELECT geoetl.enqueue('log', '{\"as\": \"writer\"}')")
sneaky=$(as_writer "SELECT geoetl.enqueue('secret', '{}')")
q "CALL geoetl.run_jobs()"
check "a writer's job runs as the writer" is "SELECT ran_as FROM ran WHERE job_id = ${mine:-0}" queue_writer
check "a writer's job cannot do what the writer may not, though a superuser runs the worker" is \
  "SELECT state, errors->0->>'sqlstate', (SELECT count(*) FROM secret) FROM geoetl.job WHERE job_id = ${sneaky:-0}" "failed|42501|0"
# a handler that tries to become the worker again
q "CREATE FUNCTION escape_role(args jsonb) RETURNS jsonb LANGUAGE plpgsql AS \$\$
   BEGIN PERFORM set_config('role', 'none', true); INSERT INTO secret VALUES (2); RETURN '{}'; END \$\$;
   GRANT EXECUTE ON FUNCTION escape_role(jsonb) TO queue_writer;
   SELECT geoetl.register_job_kind('escape', 'escape_role(jsonb)', max_attempts => 1)" >/dev/null
escape=$(as_writer "SELECT geoetl.enqueue('escape', '{}')")
q "CALL geoetl.run_jobs()"
check "a handler cannot SET ROLE back to the worker" is \
  "SELECT state, errors->0->>'sqlstate', (SELECT count(*) FROM secret) FROM geoetl.job WHERE job_id = ${escape:-0}" "failed|42501|0"
# a superuser's job does not run someone else's code
q "CREATE FUNCTION writers_code(args jsonb) RETURNS jsonb LANGUAGE sql AS 'SELECT args';
   ALTER FUNCTION writers_code(jsonb) OWNER TO queue_writer;
   SELECT geoetl.register_job_kind('writers', 'writers_code(jsonb)', max_attempts => 1)" >/dev/null
theirs=$(q "SELECT geoetl.enqueue('writers', '{}')")
q "CALL geoetl.run_jobs()"
check "a superuser's job refuses a handler owned by a non-superuser" is \
  "SELECT state, errors->0->>'message' FROM geoetl.job WHERE job_id = ${theirs:-0}" \
  "failed|a superuser's job does not run a handler owned by \"queue_writer\", who is not one"
# only a job's enqueuer (or an admin) changes it
q "CREATE ROLE queue_other LOGIN IN ROLE geoetl_writer" >/dev/null
waiting=$(as_writer "SELECT geoetl.enqueue('log', '{}', run_after => now() + interval '1 day')")
check "another writer cannot cancel someone else's job (42501)" bash -c \
  "'$PGC' psql -XAtq -U queue_other -c 'SELECT geoetl.cancel_job(${waiting:-0})' 2>&1 | grep -q 'belongs to queue_writer'"
as_writer "SELECT geoetl.cancel_job(${waiting:-0})" >/dev/null
check "its enqueuer can cancel it" is "SELECT state FROM geoetl.job WHERE job_id = ${waiting:-0}" cancelled
q "TRUNCATE ran"

# progress is visible from another session while the job runs, before it commits
job=$(q "SELECT geoetl.enqueue('slow', '{\"sleep\": 3}')")
"$PGC" psql -XAtqc "CALL geoetl.run_jobs(max_jobs => 1)" >"$OUT.p" 2>&1 &
check "another session sees the job running with its progress" until_true 10 \
  "SELECT progress = 'step 1 of 2' FROM geoetl.running_jobs WHERE job_id = $job"
check "... while its row of results is not committed yet" is "SELECT count(*) FROM ran WHERE job_id = $job" 0
wait
check "the job completed with its last progress kept" is \
  "SELECT state, progress, result FROM geoetl.job WHERE job_id = $job" 'completed|step 2 of 2|{"slept": true}'

# a worker terminated in the middle of a job
crash_test() {  # how: terminate | kill9
  local job worker
  job=$(q "SELECT geoetl.enqueue('slow', '{\"sleep\": 30, \"how\": \"$1\"}')")
  "$PGC" psql -XAtqc "CALL geoetl.run_jobs(max_jobs => 1)" >"$OUT.c" 2>&1 &
  until_true 10 "SELECT EXISTS (SELECT 1 FROM geoetl.running_jobs WHERE job_id = $job AND progress = 'step 1 of 2')" || return 1
  worker=$(q "SELECT worker FROM geoetl.job WHERE job_id = $job")
  if [[ $1 == terminate ]]; then
    q "SELECT pg_terminate_backend($worker)" >/dev/null
  else
    kill -9 "$worker"
  fi
  wait
  server_up || return 1
  q "UPDATE geoetl.job SET args = args || '{\"sleep\": 0}' WHERE job_id = $job" >/dev/null  # the rerun is quick
  run_until_done "$job" || return 1
  echo "$job"
}
job=$(crash_test terminate)
check "a job whose worker was terminated (pg_terminate_backend) is reclaimed and completed" is \
  "SELECT state FROM geoetl.job WHERE job_id = ${job:-0}" completed
check "... on its second attempt, the first one recorded as the worker's end" is \
  "SELECT attempt, errors->0->>'sqlstate' FROM geoetl.job WHERE job_id = ${job:-0}" "2|08006"
check "... and its results hold exactly one row" is "SELECT count(*) FROM ran WHERE job_id = ${job:-0}" 1
job=$(crash_test kill9)
check "a job whose backend was killed with kill -9 (server restart) is reclaimed and completed" is \
  "SELECT state FROM geoetl.job WHERE job_id = ${job:-0}" completed
check "... and its results hold exactly one row" is "SELECT count(*) FROM ran WHERE job_id = ${job:-0}" 1
check "no job is left running" is "SELECT count(*) FROM geoetl.job WHERE state = 'running'" 0

# a job that runs past its lease: the next run_jobs cancels it, and it is retried
job=$(q "SELECT geoetl.enqueue('short_lease', '{\"sleep\": 30}')")
"$PGC" psql -XAtqc "CALL geoetl.run_jobs(max_jobs => 1)" >"$OUT.l" 2>&1 &
check "a job runs past its 2 s lease" until_true 10 \
  "SELECT lease_until < now() FROM geoetl.job WHERE job_id = $job AND state = 'running'"
q "CALL geoetl.run_jobs(max_seconds => 0)" >/dev/null 2>&1  # recovery only
wait
check "the next run_jobs cancelled its worker, which stopped" grep -q "run_jobs stopped: job $job was cancelled" "$OUT.l"
check "the attempt is recorded (57014) and the job is pending again" is \
  "SELECT state, attempt, errors->0->>'sqlstate' FROM geoetl.job WHERE job_id = $job" "pending|1|57014"
check "the cancelled attempt's results were rolled back" is "SELECT count(*) FROM ran WHERE job_id = $job" 0
q "SELECT geoetl.cancel_job($job)" >/dev/null

# cancel_job on a running job
job=$(q "SELECT geoetl.enqueue('slow', '{\"sleep\": 30}')")
"$PGC" psql -XAtqc "CALL geoetl.run_jobs(max_jobs => 1)" >"$OUT.x" 2>&1 &
until_true 10 "SELECT EXISTS (SELECT 1 FROM geoetl.running_jobs WHERE job_id = $job AND progress = 'step 1 of 2')"
start=$(date +%s)
check "cancel_job on a running job returns true" is "SELECT geoetl.cancel_job($job)" t
wait
check "... at once, not after the 30 s the job would take" test $(($(date +%s) - start)) -lt 10
check "... the job is cancelled, with nothing of it committed" is \
  "SELECT state, (SELECT count(*) FROM ran WHERE job_id = $job) FROM geoetl.job WHERE job_id = $job" "cancelled|0"
check "... and its worker stopped with SQLSTATE 57014" grep -q "run_jobs stopped: job $job was cancelled" "$OUT.x"

# NOTIFY geoetl_jobs: every state change of a job, when it commits
{ echo "LISTEN geoetl_jobs;"; sleep 3; echo "SELECT 1;"; } | "$PGC" psql -Xq >"$OUT.n" 2>&1 &
sleep 1
job=$(q "SELECT geoetl.enqueue('log', '{\"notify\": 1}')")
q "CALL geoetl.run_jobs()"
wait
payloads() { grep "^Asynchronous notification \"geoetl_jobs\" with payload \"{\"job_id\" : $job," "$OUT.n" | sed 's/.*"state" : "\([a-z]*\)".*/\1/' | tr '\n' ' '; }
check "NOTIFY geoetl_jobs sent pending, running, completed for one job" test "$(payloads)" = "pending running completed "
check "... with job_id, kind and state in a JSON payload" grep -q "{\"job_id\" : $job, \"kind\" : \"log\", \"state\" : \"pending\"}" "$OUT.n"

# pg_cron wrappers (the runs themselves: test/e2e/demo.sh)
check "schedule_worker schedules CALL geoetl.run_jobs with pg_cron" is \
  "SELECT geoetl.schedule_worker() > 0; SELECT command FROM cron.job WHERE jobname = 'geoetl-worker'" \
  "t
CALL geoetl.run_jobs(max_seconds => 50)"
check "... and the daily pruning" is "SELECT schedule, command FROM cron.job WHERE jobname = 'geoetl-prune'" \
  "30 3 * * *|SELECT * FROM geoetl.prune_jobs('14 days')"
check "a second worker with its own name and schedule" is \
  "SELECT geoetl.schedule_worker('geoetl-worker-2', '*/2 * * * *', 30) > 0; SELECT count(*) FROM cron.job" "t
3"
check "unschedule_worker removes one" is \
  "SELECT geoetl.unschedule_worker('geoetl-worker-2'); SELECT count(*) FROM cron.job" "t
2"
check "unscheduling an unknown worker is an error (P0002)" is \
  "SELECT geoetl.unschedule_worker('nope') IS NULL" ""
check "the error says which" bash -c "'$PGC' psql -XAtqc \"SELECT geoetl.unschedule_worker('nope')\" 2>&1 | grep -q 'no pg_cron job named \"nope\"'"
check "prune_jobs also prunes pg_cron's run history" is "SELECT cron_runs >= 0 FROM geoetl.prune_jobs('0 s')" t
q "SELECT geoetl.unschedule_worker()" >/dev/null

finish
