-- C++ exceptions become PostgreSQL errors with the right SQLSTATE, message, detail and hint,
-- PostgreSQL errors raised under the C++ guard come back unchanged, cancellation stops core
-- work, and the session keeps working after every one of them.
\set SHOW_CONTEXT never
\i sql/include/err.psql

-- every kind of core error, with its SQLSTATE
SELECT k, pg_temp.err(format('SELECT geoetl.selftest_raise(%L)', k)) AS error
  FROM unnest(ARRAY['invalid_argument', 'not_found', 'data_corrupted', 'io_error',
                    'network_error', 'permission_denied', 'not_supported', 'limit_exceeded',
                    'internal']) AS k;
-- a cancelled core error with no interrupt pending is still a query_canceled error
SELECT pg_temp.err($$SELECT geoetl.selftest_raise('cancelled')$$);
-- standard and foreign C++ exceptions are internal errors, never a crash
SELECT pg_temp.err($$SELECT geoetl.selftest_raise('std_exception')$$);
SELECT pg_temp.err($$SELECT geoetl.selftest_raise('bad_alloc')$$);
SELECT pg_temp.err($$SELECT geoetl.selftest_raise('foreign')$$);
-- a PostgreSQL error caught by the C++ guard is re-raised as it was
SELECT pg_temp.err($$SELECT geoetl.selftest_raise('pg_error')$$);
-- unknown names get a hint listing the valid ones
SELECT pg_temp.err($$SELECT geoetl.selftest_raise('nonsense')$$);
-- STRICT: NULL in, NULL out
SELECT geoetl.selftest_raise(NULL) IS NULL AS null_is_null;

-- the errors above unwound every C++ object they held
SELECT geoetl.selftest_live_objects() AS live_after_errors;

-- errors not caught by PL/pgSQL abort the statement, not the session
SELECT geoetl.selftest_raise('io_error');
SELECT geoetl.selftest_raise('pg_error');
SELECT 'session still works' AS status, geoetl.selftest_live_objects() AS live;

-- and an error inside a transaction aborts just that transaction
BEGIN;
SELECT geoetl.selftest_raise('data_corrupted');
ROLLBACK;
SELECT jsonb_typeof(geoetl.version()) AS after_rollback;

-- core work finishes normally when nothing cancels it
SELECT geoetl.selftest_wait(0.05) > 0 AS waited;
SELECT pg_temp.err('SELECT geoetl.selftest_wait(-1)');
SELECT pg_temp.err($$SELECT geoetl.selftest_wait('NaN')$$);

-- statement_timeout stops long core work (a 60 s wait) and reports it as a timeout
SET statement_timeout = '200ms';
SELECT pg_temp.err('SELECT geoetl.selftest_wait(60)');
RESET statement_timeout;
SELECT geoetl.selftest_live_objects() AS live_after_timeout;

-- pg_cancel_backend from another session stops it too
\set slow_query 'SELECT geoetl.selftest_wait(60)::text'
\i sql/include/cancel_from_other_session.psql
