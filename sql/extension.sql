-- The extension's life cycle: drop and re-create, roles created once and kept, PostGIS required.
\set SHOW_CONTEXT never
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'geoetl\_%' ORDER BY rolname;
SELECT geoetl.add_area('gone', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}') > 0 AS added;
DROP EXTENSION geoetl;
-- the schema and everything in it went with the extension; the roles stay
SELECT count(*) AS geoetl_schemas FROM pg_namespace WHERE nspname = 'geoetl';
SELECT count(*) AS geoetl_functions FROM pg_proc WHERE proname IN ('add_area', 'add_areas', 'selftest_raise');
SELECT count(*) AS roles_left FROM pg_roles WHERE rolname IN ('geoetl_reader', 'geoetl_writer', 'geoetl_admin');
-- re-creating finds the roles and neither fails nor duplicates grants
CREATE EXTENSION geoetl;
SELECT count(*) AS areas FROM geoetl.area;
SELECT r.rolname, m.rolname AS member_of FROM pg_auth_members am
  JOIN pg_roles r ON r.oid = am.member JOIN pg_roles m ON m.oid = am.roleid
 WHERE r.rolname LIKE 'geoetl\_%' ORDER BY 1, 2;
-- a schema called geoetl that is not ours is never taken over
DROP EXTENSION geoetl;
CREATE SCHEMA geoetl;
CREATE TABLE geoetl.mine(x int);
CREATE EXTENSION geoetl;
DROP SCHEMA geoetl CASCADE;
-- PostGIS is required: without it a clear error, with CASCADE it is installed
DROP EXTENSION postgis CASCADE;
CREATE EXTENSION geoetl;
CREATE EXTENSION geoetl CASCADE;
SELECT extname FROM pg_extension WHERE extname IN ('postgis', 'geoetl') ORDER BY 1;
