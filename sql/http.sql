-- geoetl.http_get against the test HTTP server on 127.0.0.1 (scripts/check.sh starts it over
-- GEOETL_FIXTURES, with the fault paths of test/fixtures/http_server.py).
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv http GEOETL_HTTP
\getenv fixtures GEOETL_FIXTURES
SELECT set_config('geoetl_test.http', :'http', false) IS NOT NULL AS ready;
CREATE FUNCTION pg_temp.e(stmt text) RETURNS text LANGUAGE sql AS $$
  SELECT replace(pg_temp.err(stmt), current_setting('geoetl_test.http'), 'http://<server>')
$$;
\i sql/include/write_file.psql
SELECT pg_temp.write_file(:'fixtures' || '/hello.json', '{"hello": "world"}');

-- a JSON API: status, headers (lower-case names), body
SELECT status, headers->>'content-type' AS content_type, headers->>'content-length' AS length,
       convert_from(body, 'UTF8')::jsonb AS body
  FROM geoetl.http_get(:'http' || '/hello.json');
-- the request carries the given headers
SELECT convert_from(body, 'UTF8')::jsonb->>'authorization' AS authorization,
       convert_from(body, 'UTF8')::jsonb->>'accept' AS accept
  FROM geoetl.http_get(:'http' || '/echo', '{"Authorization": "Bearer t0ken", "Accept": "application/json"}');
-- client errors are answers, not errors; server errors are retried, then answered
SELECT status, length(body) > 0 AS has_body FROM geoetl.http_get(:'http' || '/status/404/x');
SELECT status, convert_from(body, 'UTF8')::jsonb AS body FROM geoetl.http_get(:'http' || '/flaky/2/hello.json');
SELECT status FROM geoetl.http_get(:'http' || '/flaky/20/hello.json');
-- redirects are followed
SELECT status, convert_from(body, 'UTF8') AS body FROM geoetl.http_get(:'http' || '/redirect/2/hello.json');

-- bad input
SELECT pg_temp.e($$SELECT * FROM geoetl.http_get(NULL)$$);
SELECT pg_temp.e($$SELECT * FROM geoetl.http_get('file:///etc/passwd')$$);
SELECT pg_temp.e($$SELECT * FROM geoetl.http_get('ftp://127.0.0.1/x')$$);
SELECT pg_temp.e(format('SELECT * FROM geoetl.http_get(%L, %L)', :'http' || '/echo', '["a"]'));
SELECT pg_temp.e(format('SELECT * FROM geoetl.http_get(%L, %L)', :'http' || '/echo', '{"X-N": 1, "X-B": true}'));
SELECT pg_temp.e(format('SELECT * FROM geoetl.http_get(%L, %L)', :'http' || '/echo', '{"X-Bad": "a\r\nHost: elsewhere"}'));
SELECT pg_temp.e(format('SELECT * FROM geoetl.http_get(%L)', :'http' || '/redirect/loop/hello.json'));
SELECT regexp_replace(pg_temp.e($$SELECT * FROM geoetl.http_get('http://127.0.0.1:1/nothing-listens-here')$$),
                      'after [0-9]+ ms', 'after N ms') AS refused;
-- timeouts and limits
SET geoetl.http_timeout = 1;
SELECT regexp_replace(pg_temp.e(format('SELECT * FROM geoetl.http_get(%L)', :'http' || '/slow/3/hello.json')),
                      'after [0-9]+ milliseconds', 'after N milliseconds') AS timed_out;
RESET geoetl.http_timeout;
-- a cancelled query stops the transfer at once
SET statement_timeout = 300;
SELECT status FROM geoetl.http_get(:'http' || '/slow/5/hello.json');
RESET statement_timeout;
SELECT pg_temp.write_file(:'fixtures' || '/big.txt', repeat('x', 2 * 1024 * 1024));
SET geoetl.http_max_body_mb = 1;
SELECT pg_temp.e(format('SELECT * FROM geoetl.http_get(%L)', :'http' || '/big.txt'));
RESET geoetl.http_max_body_mb;
SELECT length(body) FROM geoetl.http_get(:'http' || '/big.txt');

-- who may fetch: admins, below geoetl.allowed_sources, every redirect target too
CREATE ROLE geoetl_http_admin IN ROLE geoetl_admin;
CREATE ROLE geoetl_http_writer IN ROLE geoetl_writer;
CREATE FUNCTION pg_temp.as_role(r text, url text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
  EXECUTE format('SET LOCAL ROLE %I', r);
  result := pg_temp.e(format('SELECT status FROM geoetl.http_get(%L)', url));
  RESET ROLE;
  RETURN result;
END $$;
BEGIN;
SELECT pg_temp.as_role('geoetl_http_writer', :'http' || '/hello.json');
SELECT pg_temp.as_role('geoetl_http_admin', :'http' || '/hello.json');
SELECT set_config('geoetl.allowed_sources', :'http' || '/', true) IS NOT NULL AS allowed;
SELECT pg_temp.as_role('geoetl_http_admin', :'http' || '/hello.json');
SELECT pg_temp.as_role('geoetl_http_admin', :'http' || '/redirect-to/http://localhost:1/secret');
ROLLBACK;
DROP ROLE geoetl_http_admin;
DROP ROLE geoetl_http_writer;
