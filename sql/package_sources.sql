-- Data package sources (add_source): rasters, vector files and tables, opened once when
-- registered; every bad input, and who may register what.
\set SHOW_CONTEXT never
\i sql/include/err.psql
\i sql/include/write_file.psql
\getenv fixtures GEOETL_FIXTURES
\set lights :fixtures '/lights.tif'
\set villages :fixtures '/pkg_villages.geojson'
SELECT set_config('geoetl_test.fixtures', :'fixtures', false) IS NOT NULL AS ready;
CREATE FUNCTION pg_temp.e(stmt text) RETURNS text LANGUAGE sql AS $$
  SELECT replace(pg_temp.err(stmt), current_setting('geoetl_test.fixtures'), '<fixtures>') $$;
SELECT pg_temp.write_file(:'villages', '{"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {"name": "a", "pop": 120},
   "geometry": {"type": "Point", "coordinates": [30.01, 1.95]}}]}');
SELECT pg_temp.write_file(:'fixtures' || '/pkg_cut.geojson', '{"type": "FeatureCollection", "feat');

-- a raster, a vector file and a table
SELECT geoetl.add_source('ntl-annual', 'v1', :'lights',
  '{"title": "Night lights", "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}],
    "sources": [{"title": "NASA Black Marble"}], "compression": "ZSTD"}') AS raster_id;
SELECT geoetl.add_source('villages', '2024', :'villages', '{"clip": false, "format": "CSV"}') AS vector_id;
CREATE TABLE public.pkg_roads (id int PRIMARY KEY, kind text, geom geometry(LineString, 4326));
SELECT geoetl.add_source('roads', '2024.1', 'pg:public.pkg_roads') AS table_id;
SELECT name, version, kind, options, info - 'crs' - 'signature' AS info, info ? 'crs' AS has_crs,
       info->>'signature' <> '' AS has_signature
  FROM geoetl.source ORDER BY source_id;

-- names and versions become folders: only safe ones
SELECT pg_temp.e(format('SELECT geoetl.add_source(%L, %L, %L)', n, v, :'lights'))
  FROM (VALUES ('Bad Name', 'v1'), ('../x', 'v1'), ('', 'v1'), ('.hidden', 'v1'), ('x', '../v1'),
               ('x', 'v1/2'), ('x', ''), (repeat('a', 101), 'v1')) t(n, v);
SELECT pg_temp.e(format('SELECT geoetl.add_source(%s, %s, %s)', n, v, l))
  FROM (VALUES ('NULL', '''v1''', '''x'''), ('''x''', 'NULL', '''x'''), ('''x''', '''v1''', 'NULL')) t(n, v, l);
-- a version is registered once
SELECT pg_temp.e(format('SELECT geoetl.add_source(%L, %L, %L)', 'ntl-annual', 'v1', :'lights'));
-- options: unknown keys, wrong types, bad licences and citations, formats
SELECT pg_temp.e(format('SELECT geoetl.add_source(%L, %L, %L, %L)', 'x', 'v1', l, o))
  FROM (VALUES (:'lights', '{"layer": "a"}'), (:'villages', '{"bands": [1]}'),
               (:'lights', '{"title": 3}'), (:'lights', '{"all_touched": "yes"}'),
               (:'lights', '{"licenses": {"name": "CC0-1.0"}}'),
               (:'lights', '{"licenses": [{"title": "no name, no path"}]}'),
               (:'lights', '{"licenses": [{"name": "CC BY 4.0"}]}'),
               (:'lights', '{"sources": [{"path": "https://x"}]}'),
               (:'lights', '{"keywords": ["a", 1]}'),
               (:'lights', '{"bands": [0]}'), (:'lights', '{"bands": [1.5]}'),
               (:'lights', '{"format": "PNG"}'), (:'lights', '{"compression": "JPEG"}'),
               (:'villages', '{"format": "KML"}'), (:'lights', '[]')) t(l, o);
-- sources that are not there, or not data
SELECT pg_temp.e(format('SELECT geoetl.add_source(%L, %L, %L)', 'x', 'v1', l))
  FROM (VALUES (:'fixtures' || '/missing.tif'), ('/etc/passwd'), (:'fixtures' || '/pkg_cut.geojson')) t(l);
-- tables: missing, without geometry, with two geometry columns
CREATE TABLE public.pkg_plain (id int);
CREATE TABLE public.pkg_two (id int, a geometry(Point, 4326), b geometry(Polygon, 3857));
SELECT pg_temp.e(format('SELECT geoetl.add_source(%L, %L, %L, %L)', 'x', 'v1', l, o))
  FROM (VALUES ('pg:public.nope', '{}'), ('pg:public.pkg_plain', '{}'), ('pg:public.pkg_two', '{}'),
               ('pg:public.pkg_two', '{"geometry_column": "c"}'), ('pg:public.pkg_roads', '{"bands": [1]}')) t(l, o);
SELECT geoetl.add_source('two', 'v1', 'pg:public.pkg_two', '{"geometry_column": "b"}') > 0 AS two_ok;
SELECT info FROM geoetl.source WHERE name = 'two';

-- removing a source
SELECT geoetl.remove_source('two', 'v1') AS removed, geoetl.remove_source('two', 'v1') AS again;

-- who may register: admins, reading only below geoetl.allowed_sources; writers not at all
CREATE ROLE pkg_admin IN ROLE geoetl_admin;
CREATE ROLE pkg_writer IN ROLE geoetl_writer;
\i sql/include/as_role.psql
BEGIN;
SELECT pg_temp.as_role('pkg_writer', format('SELECT geoetl.add_source(%L, %L, %L)', 'w', 'v1', :'lights'));
SELECT pg_temp.as_role('pkg_writer', format('INSERT INTO geoetl.source (name, version, kind, location) VALUES (%L, %L, %L, %L)',
                                            'w', 'v1', 'raster', :'lights'));
SELECT pg_temp.as_role('pkg_writer', 'SELECT count(*) FROM geoetl.source');
SELECT pg_temp.as_role('pkg_admin', format('SELECT geoetl.add_source(%L, %L, %L)', 'a', 'v1', :'lights'));
SELECT set_config('geoetl.allowed_sources', :'fixtures' || '/', true) IS NOT NULL AS allowed;
SELECT pg_temp.as_role('pkg_admin', format('SELECT geoetl.add_source(%L, %L, %L)', 'a', 'v1', :'lights'));
SELECT pg_temp.as_role('pkg_admin', format('SELECT geoetl.add_source(%L, %L, %L)', 'b', 'v1', '/etc/passwd'));
SELECT pg_temp.as_role('pkg_admin', format('SELECT geoetl.add_source(%L, %L, %L)', 'b', 'v1', :'fixtures' || '/../../../../etc/passwd'));
-- a table the admin may not read; then a direct INSERT and an UPDATE go through the same check
SELECT pg_temp.as_role('pkg_admin', format('SELECT geoetl.add_source(%L, %L, %L)', 'c', 'v1', 'pg:public.pkg_roads'));
SELECT pg_temp.as_role('pkg_admin', format('INSERT INTO geoetl.source (name, version, kind, location) VALUES (%L, %L, %L, %L)',
                                           'd', 'v1', 'table', '/etc/passwd'));
SELECT pg_temp.as_role('pkg_admin', format('UPDATE geoetl.source SET location = %L WHERE name = %L', '/etc/shadow', 'a'));
SELECT pg_temp.as_role('pkg_admin', format('UPDATE geoetl.source SET info = %L WHERE name = %L', '{}', 'a'));
SELECT name, kind FROM geoetl.source ORDER BY source_id;
ROLLBACK;
DROP TABLE public.pkg_roads, public.pkg_plain, public.pkg_two;
DROP ROLE pkg_admin, pkg_writer;
