#!/usr/bin/env bash
# No-op jobs per second through the geoetl queue, against a bare SKIP LOCKED loop in plain SQL
# doing the same state changes, in one run on one cluster.
#
#   bench/queue.sh [JOBS=20000]   (as root on Debian bookworm, like make check)
#
# geoetl: JOBS jobs of a kind whose handler returns NULL, enqueued with geoetl.enqueue, then
# CALL geoetl.run_jobs() by 1 and by 2 concurrent workers until none is left (claim with a lease
# committed, handler run in a subtransaction as the enqueuer, outcome committed, NOTIFY on each
# state change).
# Bare loop: a table like geoetl.job (same columns, constraints and indexes; no NOTIFY trigger)
# and a procedure that claims one row with FOR UPDATE SKIP LOCKED in the same order, sets it
# running (attempt, worker, lease) and commits, sets it completed and commits: the same state
# changes with nothing else (no handler, no role switch, no recovery, no progress). Both run with
# synchronous_commit = off, as run_jobs does.
# Goal: at least 2,000 jobs/s per worker and at least half the bare loop's rate.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
JOBS=${1:-20000}
. bench/lib/setup.sh
bench_build
bench_cluster

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS geoetl CASCADE;  -- this cluster's own: the installed version, fresh
CREATE EXTENSION geoetl CASCADE;
CREATE OR REPLACE FUNCTION public.bench_noop(args jsonb) RETURNS jsonb LANGUAGE sql AS 'SELECT NULL::jsonb';
SELECT geoetl.register_job_kind('bench_noop', 'public.bench_noop(jsonb)') \g /dev/null
DROP TABLE IF EXISTS public.bare_job;
-- the same columns, constraints, defaults and indexes as geoetl.job (no triggers: no NOTIFY)
CREATE TABLE public.bare_job (LIKE geoetl.job INCLUDING ALL);
CREATE OR REPLACE PROCEDURE public.bare_loop() LANGUAGE plpgsql AS $$
DECLARE
  claimed bigint;
BEGIN
  LOOP
    PERFORM set_config('synchronous_commit', 'off', true);
    UPDATE public.bare_job SET state = 'running', attempt = attempt + 1, started_at = now(),
                               worker = pg_backend_pid(), lease_until = now() + interval '15 minutes'
     WHERE job_id = (SELECT job_id FROM public.bare_job WHERE state = 'pending' AND run_after <= now()
                      ORDER BY priority DESC, run_after, job_id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING job_id INTO claimed;
    EXIT WHEN claimed IS NULL;
    COMMIT;
    PERFORM set_config('synchronous_commit', 'off', true);
    UPDATE public.bare_job SET state = 'completed', result = 'null', finished_at = now(), worker = NULL,
                               lease_until = NULL
     WHERE job_id = claimed;
    COMMIT;
  END LOOP;
END $$;
SQL

now_ms() { date +%s%3N; }
# runs $2 in $1 concurrent sessions; prints the elapsed milliseconds
in_parallel() {
  local start w
  start=$(now_ms)
  for ((w = 0; w < $1; w++)); do psql -X -q -v ON_ERROR_STOP=1 -c "$2" & done
  wait
  echo $(($(now_ms) - start))
}
declare -A rate
for workers in 1 2; do
  psql -X -q -c "TRUNCATE geoetl.job; TRUNCATE public.bare_job" >/dev/null
  start=$(now_ms)
  psql -X -q -At -c "SELECT count(geoetl.enqueue('bench_noop', '{}')) FROM generate_series(1, $JOBS)" >/dev/null
  enqueue_ms=$(($(now_ms) - start))
  psql -X -q -c "INSERT INTO public.bare_job (kind, args, max_attempts) SELECT 'bench_noop', '{}', 5 FROM generate_series(1, $JOBS)" -c "VACUUM ANALYZE geoetl.job, public.bare_job" >/dev/null
  ms=$(in_parallel "$workers" "CALL geoetl.run_jobs(max_jobs => $JOBS, max_seconds => 600)")
  done_jobs=$(psql -X -q -At -c "SELECT count(*) FROM geoetl.job WHERE state = 'completed'")
  [[ $done_jobs == "$JOBS" ]] || { echo "only $done_jobs of $JOBS jobs completed" >&2; exit 1; }
  bare_ms=$(in_parallel "$workers" "CALL public.bare_loop()")
  bare_done=$(psql -X -q -At -c "SELECT count(*) FROM public.bare_job WHERE state = 'completed'")
  [[ $bare_done == "$JOBS" ]] || { echo "the bare loop completed $bare_done of $JOBS" >&2; exit 1; }
  rate[$workers]=$((JOBS * 1000 / ms))
  bare=$((JOBS * 1000 / bare_ms))
  printf '%d worker(s), %d jobs: geoetl %6d jobs/s (%d per worker; enqueue %d jobs/s)   bare SKIP LOCKED loop %6d jobs/s   ratio %s (goal >= 0.5)\n' \
    "$workers" "$JOBS" "${rate[$workers]}" $((rate[$workers] / workers)) $((JOBS * 1000 / enqueue_ms)) "$bare" \
    "$(awk -v a="${rate[$workers]}" -v b="$bare" 'BEGIN { printf "%.2f", a / b }')"
done
echo "2 workers / 1 worker: $(awk -v a="${rate[2]}" -v b="${rate[1]}" 'BEGIN { printf "%.2f", a / b }') ($(nproc) cores)"
