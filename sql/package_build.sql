-- Data packages built as jobs (create_package, the package_resource and package_publish jobs),
-- as the roles the README names: an admin registers sources, a writer builds packages, a reader
-- reads their status. The files and the descriptor, reuse of unchanged files, version numbers,
-- every bad input, faults that leave the previous version intact, and hostile callers.
\set SHOW_CONTEXT never
\i sql/include/err.psql
\i sql/include/write_file.psql
\getenv fixtures GEOETL_FIXTURES
\set lights :fixtures '/lights.tif'
\set villages :fixtures '/pkgb_villages.geojson'
\set store :fixtures '/pkgb_store'
SELECT set_config('geoetl.store', :'store', false) IS NOT NULL AS store_set;
SELECT set_config('geoetl_test.fixtures', :'fixtures', false) IS NOT NULL AS ready;
CREATE FUNCTION pg_temp.e(stmt text) RETURNS text LANGUAGE sql AS $$
  SELECT replace(pg_temp.err(stmt), current_setting('geoetl_test.fixtures'), '<fixtures>') $$;
\i sql/include/as_role.psql
-- the value stmt returns, run as role r
CREATE FUNCTION pg_temp.run_as(r text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
  EXECUTE format('SET LOCAL ROLE %I', r);
  EXECUTE stmt INTO result;
  RESET ROLE;
  RETURN result;
END $$;
-- an object's bytes on disk (the store is a local folder)
CREATE FUNCTION pg_temp.object(key text) RETURNS bytea LANGUAGE sql AS $$
  SELECT pg_read_binary_file(current_setting('geoetl.store') || '/' || key) $$;
CREATE FUNCTION pg_temp.descriptor(name text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT convert_from(pg_temp.object('packages/' || name || '/datapackage.json'), 'UTF8')::jsonb $$;
-- every resource the descriptor on disk names is there, with its bytes and hash
CREATE FUNCTION pg_temp.descriptor_ok(name text) RETURNS boolean LANGUAGE sql AS $$
  SELECT bool_and(length(pg_temp.object('packages/' || name || '/' || (r->>'path'))) = (r->>'bytes')::bigint
                  AND 'sha256:' || encode(sha256(pg_temp.object('packages/' || name || '/' || (r->>'path'))), 'hex') = r->>'hash')
    FROM jsonb_array_elements(pg_temp.descriptor(name)->'resources') r $$;
TRUNCATE geoetl.job, geoetl.package_resource, geoetl.package, geoetl.source RESTART IDENTITY;
CREATE ROLE pkgb_admin IN ROLE geoetl_admin;
CREATE ROLE pkgb_writer IN ROLE geoetl_writer;
CREATE ROLE pkgb_other IN ROLE geoetl_writer;
CREATE ROLE pkgb_reader IN ROLE geoetl_reader;

-- sources, registered by an admin: a raster, a vector file (as CSV) and a table
SELECT pg_temp.write_file(:'villages', '{"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {"name": "in", "pop": 120}, "geometry": {"type": "Point", "coordinates": [30.01, 1.95]}},
  {"type": "Feature", "properties": {"name": "out", "pop": 7}, "geometry": {"type": "Point", "coordinates": [35, 5]}}]}');
CREATE TABLE public.pkgb_roads (id int PRIMARY KEY, kind text, geom geometry(LineString, 4326));
INSERT INTO public.pkgb_roads VALUES (1, 'main', 'SRID=4326;LINESTRING(30.0 1.9, 30.05 2.0)'),
                                     (2, 'far', 'SRID=4326;LINESTRING(40 1, 41 2)');
GRANT SELECT ON public.pkgb_roads TO pkgb_admin, pkgb_writer;
BEGIN;
SELECT set_config('geoetl.allowed_sources', :'fixtures' || '/', true) IS NOT NULL AS allowed;
SELECT pg_temp.as_role('pkgb_admin', format('SELECT geoetl.add_source(%L, %L, %L, %L)', 'lights', 'v1', :'lights',
  '{"title": "Night lights", "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}],
    "sources": [{"title": "NASA Black Marble"}], "keywords": ["night lights"]}'));
SELECT pg_temp.as_role('pkgb_admin', format('SELECT geoetl.add_source(%L, %L, %L, %L)', 'villages', '2024', :'villages',
  '{"format": "CSV", "clip": false, "description": "Villages"}'));
SELECT pg_temp.as_role('pkgb_admin', format('SELECT geoetl.add_source(%L, %L, %L)', 'roads', 'v1', 'pg:public.pkgb_roads'));
COMMIT;
SELECT pg_temp.as_role('pkgb_writer', $$SELECT geoetl.add_area('Test Town', '{"type": "Polygon", "coordinates":
  [[[30.003, 1.905], [30.047, 1.912], [30.041, 1.993], [30.008, 1.986], [30.003, 1.905]]]}')$$);
SELECT pg_temp.as_role('pkgb_writer', $$SELECT geoetl.add_area('Far Away', '{"type": "Polygon", "coordinates":
  [[[100, 50], [101, 50], [101, 51], [100, 51], [100, 50]]]}')$$);
SELECT area_id AS town FROM geoetl.area WHERE name = 'Test Town' \gset
SELECT area_id AS far FROM geoetl.area WHERE name = 'Far Away' \gset

-- a writer builds the package of an area from every source; the same call while it runs
-- returns the same package
BEGIN;
SET LOCAL ROLE pkgb_writer;
SELECT geoetl.create_package(:town) AS p1 \gset
SELECT geoetl.create_package(:town) = :p1 AS same_package,
       geoetl.create_package(:town, '{roads,lights@v1,villages@2024}') = :p1 AS same_sources_same_package;
COMMIT;
SELECT kind, state, args - 'package_id' AS args, enqueued_by FROM geoetl.job ORDER BY job_id;
-- a reader may look, not build
SELECT pg_temp.as_role('pkgb_reader', format('SELECT geoetl.create_package(%s)', :town)) AS reader_builds;
SELECT pg_temp.as_role('pkgb_reader', 'SELECT count(*) FROM geoetl.package_status') AS reader_reads;
-- nobody writes the tables directly, nor calls the store functions behind the jobs
SELECT pg_temp.as_role('pkgb_writer', format('INSERT INTO geoetl.package (name, uuid, title, area_geom, area_hash, sources, created_by) '
                                             'SELECT %L, gen_random_uuid(), %L, geom, %L, %L, %L FROM geoetl.area LIMIT 1',
                                             'x', 'x', 'x', '{}', 'pkgb_writer')) AS insert_package;
SELECT pg_temp.as_role('pkgb_writer', format('UPDATE geoetl.package_resource SET sha256 = %L', 'x')) AS update_resource;
SELECT pg_temp.as_role('pkgb_writer', format('SELECT geoetl._package_put_text(%L, %L)', 'packages/x/datapackage.json', '{}')) AS put_text;
SELECT pg_temp.as_role('pkgb_writer', format('SELECT geoetl._package_remove(%L)', 'packages/test-town/datapackage.json')) AS remove;
SELECT pg_temp.as_role('pkgb_writer', format('SELECT geoetl._package_promote(%L, %L, %L)', 'a/b.tif', 'a/c.tif', 'x')) AS promote;
-- another writer may not run or publish this writer's package; its owner may not publish it early
SELECT pg_temp.as_role('pkgb_other', format('SELECT geoetl._trusted_call(%L, %L)', 'geoetl._trusted_package_resource(regrole, jsonb)',
                                            jsonb_build_object('package_id', :p1, 'source', 'lights', 'version', 'v1'))) AS other_runs;
SELECT pg_temp.as_role('pkgb_other', format('SELECT geoetl._trusted_call(%L, %L)', 'geoetl._trusted_package_publish(regrole, jsonb)',
                                            jsonb_build_object('package_id', :p1))) AS other_publishes;
SELECT pg_temp.as_role('pkgb_writer', format('SELECT geoetl._trusted_call(%L, %L)', 'geoetl._trusted_package_publish(regrole, jsonb)',
                                             jsonb_build_object('package_id', :p1))) AS early_publish;

-- the jobs: resources, then the publishing job the last of them enqueued
CALL geoetl.run_jobs();
SELECT kind, state, args - 'package_id' AS args, enqueued_by, errors FROM geoetl.job ORDER BY job_id;
SELECT name, version, state, resources, resources_done, resources_failed, last_error, changed, created_by
  FROM geoetl.package_status WHERE package_id = :p1;
SELECT source_name, source_version, key, format, mediatype, reused, items, staged_key, columns
  FROM geoetl.package_resource WHERE package_id = :p1 ORDER BY source_name;
-- the store holds the files and the descriptor, nothing staged is left
SELECT key FROM geoetl.store_list('packages/test-town/') ORDER BY key;
-- the descriptor: on disk as in the table, its fields, every file with its bytes and hash
SELECT pg_temp.descriptor('test-town') = descriptor AS file_is_row, uri = :'store' || '/packages/test-town/datapackage.json' AS uri_ok
  FROM geoetl.package WHERE package_id = :p1;
SELECT d->>'$schema' AS schema, d->>'name' AS name, d->>'title' AS title, d->>'version' AS version,
       d->>'id' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' AS id_is_uuid,
       d->>'created' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$' AS created_rfc3339,
       d->'licenses' AS licenses, d->'sources' AS sources, d->'keywords' AS keywords, d->'spatial' AS spatial,
       d#>'{geoetl,area,geometry_md5}' IS NOT NULL AS area_hash, d#>>'{geoetl,versions,gdal}' <> '' AS gdal_version
  FROM pg_temp.descriptor('test-town') d;
SELECT r->>'name' AS name, r->>'path' AS path, r->>'format' AS format, r->>'type' AS type, r->>'title' AS title,
       r->>'description' AS description, r->'licenses' AS licenses, r->'schema' AS schema,
       r#>>'{geoetl,source,location}' LIKE '%lights.tif' OR r#>>'{geoetl,source,kind}' <> 'raster' AS provenance
  FROM jsonb_array_elements(pg_temp.descriptor('test-town')->'resources') r;
SELECT pg_temp.descriptor_ok('test-town') AS files_match;
-- the raster holds the cells zonal_stats counts inside the area; the CSV the village inside, the
-- GeoPackage the road that crosses the area, cut at its boundary
SELECT r.items = (SELECT z.count FROM geoetl.zonal_stats(:'lights', a.geom, coverage => 'center', quantiles => '{}') z) AS cells_ok
  FROM geoetl.package_resource r, geoetl.area a WHERE r.package_id = :p1 AND r.source_name = 'lights' AND a.area_id = :town;
SELECT convert_from(pg_temp.object('packages/test-town/villages/2024/villages-2024-test-town.csv'), 'UTF8') AS csv;

-- nothing changed: the same version, nothing written (the files keep their modification time)
CREATE TEMP TABLE before AS
  SELECT key, (pg_stat_file(:'store' || '/' || key)).modification FROM geoetl.store_list('packages/test-town/');
SELECT pg_temp.run_as('pkgb_writer', format('SELECT geoetl.create_package(%s)', :town)) AS p2 \gset
CALL geoetl.run_jobs();
SELECT version, state, changed FROM geoetl.package_status WHERE package_id = :p2;
SELECT source_name, reused FROM geoetl.package_resource WHERE package_id = :p2 ORDER BY 1;
SELECT count(*) AS rewritten FROM before b
 WHERE b.modification <> (pg_stat_file(:'store' || '/' || b.key)).modification;

-- the area changes: the files are clipped again and replaced in place, the minor version grows
SELECT pg_temp.as_role('pkgb_writer', format($$SELECT geoetl.update_area(%s, '{"type": "Polygon", "coordinates":
  [[[30.003, 1.905], [30.047, 1.912], [30.041, 1.993], [30.003, 1.905]]]}')$$, :town)) AS area_changed;
SELECT pg_temp.run_as('pkgb_writer', format('SELECT geoetl.create_package(%s)', :town)) AS p3 \gset
CALL geoetl.run_jobs();
SELECT version, state, changed FROM geoetl.package_status WHERE package_id = :p3;
SELECT p.uuid = (SELECT uuid FROM geoetl.package WHERE package_id = :p1) AS same_uuid,
       pg_temp.descriptor('test-town')->>'version' AS version_on_disk, pg_temp.descriptor_ok('test-town') AS files_match
  FROM geoetl.package p WHERE p.package_id = :p3;
-- a metadata change only: the patch version grows; a dropped resource: the major version
UPDATE geoetl.source SET options = options || '{"title": "Night lights (VIIRS)"}' WHERE name = 'lights';
SELECT pg_temp.run_as('pkgb_writer', format('SELECT geoetl.create_package(%s)', :town)) AS p4 \gset
CALL geoetl.run_jobs();
SELECT version, changed FROM geoetl.package_status WHERE package_id = :p4;
SELECT pg_temp.run_as('pkgb_writer', format('SELECT geoetl.create_package(%s, %L)', :town, '{lights@v1,villages}')) AS p5 \gset
CALL geoetl.run_jobs();
SELECT version, changed FROM geoetl.package_status WHERE package_id = :p5;
SELECT key FROM geoetl.store_list('packages/test-town/') ORDER BY key;
SELECT pg_temp.descriptor_ok('test-town') AS files_match;

-- a table is read as the writer who asked: its privileges apply, and code in a view runs as them
CREATE FUNCTION public.pkgb_who() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT current_user::text $$;
CREATE VIEW public.pkgb_roads_who AS SELECT r.id, public.pkgb_who() AS read_by, r.geom FROM public.pkgb_roads r;
GRANT SELECT ON public.pkgb_roads_who TO pkgb_admin, pkgb_writer;
GRANT EXECUTE ON FUNCTION public.pkgb_who() TO pkgb_writer;
SELECT geoetl.add_source('roads-who', 'v1', 'pg:public.pkgb_roads_who', '{"format": "CSV"}') > 0 AS registered;
SELECT pg_temp.run_as('pkgb_writer', format('SELECT geoetl.create_package(%s, %L)', :town, '{roads-who}')) AS p6 \gset
CALL geoetl.run_jobs();
SELECT convert_from(pg_temp.object(key), 'UTF8') AS csv FROM geoetl.package_resource WHERE package_id = :p6;
SELECT pg_temp.run_as('pkgb_other', format('SELECT geoetl.create_package(%s, %L)', :town, '{roads}')) AS p7 \gset
CALL geoetl.run_jobs();
SELECT state, resources_failed, last_error FROM geoetl.package_status WHERE package_id = :p7;
SELECT j.state, j.attempt, j.errors->-1->>'sqlstate' AS sqlstate, j.errors->-1->>'message' AS message
  FROM geoetl.job j JOIN geoetl.package_resource r ON r.job_id = j.job_id WHERE r.package_id = :p7;

-- an area outside the raster: the job fails with the reason once its attempts are used up
SELECT pg_temp.run_as('pkgb_writer', format('SELECT geoetl.create_package(%s, %L)', :far, '{lights}')) AS p8 \gset
CALL geoetl.run_jobs();
UPDATE geoetl.job SET run_after = now() WHERE state = 'pending';
CALL geoetl.run_jobs();
UPDATE geoetl.job SET run_after = now() WHERE state = 'pending';
CALL geoetl.run_jobs();
SELECT name, state, resources_failed, replace(last_error, :'fixtures', '<fixtures>') AS last_error
  FROM geoetl.package_status WHERE package_id = :p8;
SELECT count(*) AS far_away_files FROM geoetl.store_list('packages/far-away/');

-- a read-only store: the clip fails and leaves nothing; the previous version stays; a retry
-- once the store is back completes the package
SELECT pg_temp.as_role('pkgb_writer', format('SELECT geoetl.update_area(%s, %L)', :town,
  '{"type": "Polygon", "coordinates": [[[30.003, 1.905], [30.047, 1.912], [30.041, 1.993], [30.008, 1.986], [30.003, 1.905]]]}')) AS area_back;
SELECT pg_temp.run_as('pkgb_writer', format('SELECT geoetl.create_package(%s, %L)', :town, '{lights@v1,villages}')) AS p9 \gset
-- (and a staged file a killed attempt of a published build left behind: the next publishing removes it)
SELECT pg_temp.write_file(:'store' || '/packages/test-town/_staging/1/left-by-a-killed-worker.csv', 'x');
SELECT set_config('geoetl.store', :'fixtures' || '/readonly-store', false) IS NOT NULL AS read_only_store;
CALL geoetl.run_jobs(max_jobs => 1);
SELECT set_config('geoetl.store', :'store', false) IS NOT NULL AS store_back;
SELECT j.state, j.errors->-1->>'sqlstate' AS sqlstate, j.errors->-1->>'message' LIKE 'cannot create%' AS message
  FROM geoetl.job j JOIN geoetl.package_resource r ON r.job_id = j.job_id
 WHERE r.package_id = :p9 AND j.attempt = 1;
SELECT pg_temp.descriptor('test-town')->>'version' AS still_published, pg_temp.descriptor_ok('test-town') AS files_match;
UPDATE geoetl.job SET run_after = now() WHERE state = 'pending';
CALL geoetl.run_jobs();
SELECT version, state, changed FROM geoetl.package_status WHERE package_id = :p9;
SELECT count(*) AS staged_left FROM geoetl.store_list('packages/test-town/_staging/');
SELECT pg_temp.descriptor_ok('test-town') AS files_match;

-- a staged file that vanished before publishing: the publishing job fails, and everything it
-- did (the old descriptor taken away, files replaced in place) is taken back
SELECT pg_temp.as_role('pkgb_writer', format('SELECT geoetl.update_area(%s, %L)', :town,
  '{"type": "Polygon", "coordinates": [[[30.003, 1.905], [30.047, 1.912], [30.041, 1.993], [30.003, 1.905]]]}')) AS area_changed_again;
SELECT pg_temp.run_as('pkgb_writer', format('SELECT geoetl.create_package(%s, %L)', :town, '{lights@v1,villages}')) AS p10 \gset
SELECT pg_temp.descriptor('test-town') AS old_descriptor \gset
CALL geoetl.run_jobs(max_jobs => 2);
SELECT geoetl._package_remove(staged_key) AS staged_removed
  FROM geoetl.package_resource WHERE package_id = :p10 AND source_name = 'villages';
CALL geoetl.run_jobs();
SELECT j.state, j.errors->-1->>'sqlstate' AS sqlstate, j.errors->-1->>'message' AS message
  FROM geoetl.job j WHERE j.job_id = (SELECT publish_job FROM geoetl.package WHERE package_id = :p10);
SELECT pg_temp.descriptor('test-town') = :'old_descriptor'::jsonb AS previous_descriptor, pg_temp.descriptor_ok('test-town') AS files_match;

-- bad input
SELECT pg_temp.as_role('pkgb_writer', s) FROM (VALUES
  ('SELECT geoetl.create_package(NULL)'),
  ('SELECT geoetl.create_package(987654)'),
  (format('SELECT geoetl.create_package(%s, %L)', :town, '{}')),
  (format('SELECT geoetl.create_package(%s, %L)', :town, '{NULL}')),
  (format('SELECT geoetl.create_package(%s, %L)', :town, '{nope}')),
  (format('SELECT geoetl.create_package(%s, %L)', :town, '{lights@v9}')),
  (format('SELECT geoetl.create_package(%s, NULL, %L)', :town, '{"format": "GPKG"}')),
  (format('SELECT geoetl.create_package(%s, NULL, %L)', :town, '{"licenses": [{"title": "no name"}]}')),
  (format('SELECT geoetl.create_package(%s, NULL, %L)', :town, '[]'))) t(s);
SELECT count(*) AS packages_left_by_errors FROM geoetl.package WHERE package_id > :p10;

TRUNCATE geoetl.job, geoetl.package_resource, geoetl.package, geoetl.source RESTART IDENTITY;
DELETE FROM geoetl.area WHERE area_id IN (:town, :far);
DROP VIEW public.pkgb_roads_who;
DROP FUNCTION public.pkgb_who();
DROP TABLE public.pkgb_roads;
DROP ROLE pkgb_admin, pkgb_writer, pkgb_other, pkgb_reader;
