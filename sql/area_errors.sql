-- Areas of interest: every bad input gets a clear error and leaves nothing behind.
\set SHOW_CONTEXT never
\i sql/include/err.psql
CREATE FUNCTION pg_temp.add(geojson text, make_valid boolean DEFAULT false) RETURNS text
LANGUAGE sql AS $$
  SELECT pg_temp.err(format('SELECT geoetl.add_area(%L, %L::jsonb, make_valid => %L)',
                            'bad', geojson, make_valid))
$$;

-- NULLs
SELECT pg_temp.err($$SELECT geoetl.add_area(NULL, '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}')$$);
SELECT pg_temp.err($$SELECT geoetl.add_area('x', NULL)$$);
SELECT pg_temp.add('null');
-- not GeoJSON-shaped
SELECT pg_temp.add('[1, 2, 3]');
SELECT pg_temp.add('"Polygon"');
SELECT pg_temp.add('{"coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}');
SELECT pg_temp.add('{"type": "polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}');
SELECT pg_temp.add('{"type": "Polygon"}');
SELECT pg_temp.add('{"type": "Polygon", "coordinates": "nope"}');
SELECT pg_temp.add('{"type": "Polygon", "coordinates": [[[0,0],[1,0]]]}');
SELECT pg_temp.add('{"type": "Polygon", "coordinates": [[["a","b"],[1,0],[1,1],["a","b"]]]}');
SELECT pg_temp.add('{"type": "MultiPolygon", "coordinates": [[[[0,0],[1,0],[1,true],[0,0]]]]}');
SELECT pg_temp.add('{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1e400],[0,0]]]}');
SELECT pg_temp.add('{"type": "Polygon", "coordinates": [[[0],[1],[1],[0]]]}');
SELECT pg_temp.add('{"type": "Feature", "properties": {}}');
SELECT pg_temp.add('{"type": "Feature", "properties": {}, "geometry": null}');
SELECT pg_temp.add('{"type": "FeatureCollection"}');
SELECT pg_temp.add('{"type": "FeatureCollection", "features": [{"type": "Polygon", "coordinates": []}]}');
-- only Polygon and MultiPolygon
SELECT pg_temp.add('{"type": "Point", "coordinates": [36.8, -1.3]}');
SELECT pg_temp.add('{"type": "LineString", "coordinates": [[0,0],[1,1]]}');
SELECT pg_temp.add('{"type": "MultiPoint", "coordinates": [[0,0],[1,1]]}');
SELECT pg_temp.add('{"type": "GeometryCollection", "geometries": []}');
SELECT pg_temp.add('{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [0,0]}}');
-- empty geometries
SELECT pg_temp.add('{"type": "Polygon", "coordinates": []}');
SELECT pg_temp.add('{"type": "MultiPolygon", "coordinates": []}');
-- coordinates outside -180..180 / -90..90: swapped axes, projected metres
SELECT pg_temp.add('{"type": "Polygon", "coordinates": [[[-1.3,36.8],[-1.2,36.8],[-1.2,136.9],[-1.3,36.8]]]}');
SELECT pg_temp.add('{"type": "Polygon", "coordinates": [[[4000000,-140000],[4010000,-140000],[4010000,-130000],[4000000,-140000]]]}');
SELECT pg_temp.add('{"type": "Polygon", "coordinates": [[[179,0],[181,0],[181,1],[179,0]]]}');
-- a CRS other than WGS 84 (old GeoJSON "crs" member)
SELECT pg_temp.add('{"type": "Polygon", "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}, "coordinates": [[[0,0],[1000,0],[1000,1000],[0,0]]]}');
-- self-intersecting: PostGIS's reason in the detail, make_valid in the hint
SELECT pg_temp.add('{"type": "Polygon", "coordinates": [[[0,0],[2,2],[2,0],[0,2],[0,0]]]}');
-- a ring that is not closed
SELECT pg_temp.add('{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1]]]}');
-- a polygon with no area: invalid, and make_valid cannot save it
SELECT pg_temp.add('{"type": "Polygon", "coordinates": [[[0,0],[1,1],[2,2],[0,0]]]}');
SELECT pg_temp.add('{"type": "Polygon", "coordinates": [[[0,0],[1,1],[2,2],[0,0]]]}', true);
-- blank name
SELECT pg_temp.err($$SELECT geoetl.add_area('  ', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}')$$);
-- properties that are not an object
SELECT pg_temp.err($$SELECT geoetl.add_area('p', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}', '[1]')$$);
SELECT pg_temp.err($$SELECT geoetl.add_area('p', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}', '"x"')$$);
-- plain INSERT of a blank name is refused by a constraint
SELECT pg_temp.err($$INSERT INTO geoetl.area(name, geom) VALUES ('', 'SRID=4326;MULTIPOLYGON(((0 0,1 0,1 1,0 0)))')$$) ~ '^23514 \| .*"area_name_not_blank"' AS refused;
-- a collection of several features given to add_area
SELECT pg_temp.add('{"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}},
  {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[2,0],[3,0],[3,1],[2,0]]]}}]}');
SELECT pg_temp.add('{"type": "FeatureCollection", "features": []}');
-- none of the above left a row behind
SELECT count(*) AS areas FROM geoetl.area;

-- a duplicate name
SELECT geoetl.add_area('taken', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}') > 0 AS added;
SELECT regexp_replace(pg_temp.err($$SELECT geoetl.add_area('taken', '{"type":"Polygon","coordinates":[[[5,0],[6,0],[6,1],[5,0]]]}')$$),
                      'Area \d+', 'Area N') AS duplicate;
SELECT count(*) AS areas FROM geoetl.area;

-- plain INSERT and UPDATE are checked the same way
SELECT pg_temp.err($$INSERT INTO geoetl.area(name, geom) VALUES ('direct', 'SRID=4326;MULTIPOLYGON(((0 0,2 2,2 0,0 2,0 0)))')$$);
SELECT pg_temp.err($$INSERT INTO geoetl.area(name, geom) VALUES ('direct', 'SRID=4326;MULTIPOLYGON EMPTY')$$);
SELECT pg_temp.err($$UPDATE geoetl.area SET geom = 'SRID=4326;MULTIPOLYGON(((0 0,200 0,200 1,0 0)))' WHERE name = 'taken'$$);
SELECT pg_temp.err($$INSERT INTO geoetl.area(name, geom) VALUES ('direct', 'SRID=3857;MULTIPOLYGON(((0 0,1 0,1 1,0 0)))')$$);
SELECT pg_temp.err($$INSERT INTO geoetl.area(name, geom) VALUES ('direct', 'SRID=4326;POLYGON((0 0,1 0,1 1,0 0))')$$);

-- add_areas: bad collections, a bad feature in the middle undoes the whole call
SELECT pg_temp.err($$SELECT geoetl.add_areas(NULL, 'name')$$);
SELECT pg_temp.err($$SELECT geoetl.add_areas('{"type":"FeatureCollection","features":[]}', NULL)$$);
SELECT pg_temp.err($$SELECT geoetl.add_areas('{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}', 'name')$$);
SELECT pg_temp.err($$SELECT geoetl.add_areas('{"type":"FeatureCollection","features":{}}', 'name')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.add_areas('{"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {"name": "ok 1"}, "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}},
  {"type": "Feature", "properties": {"name": "ok 2"}, "geometry": {"type": "Polygon", "coordinates": [[[2,0],[3,0],[3,1],[2,0]]]}},
  {"type": "Feature", "properties": {"name": "bow tie"}, "geometry": {"type": "Polygon", "coordinates": [[[0,0],[2,2],[2,0],[0,2],[0,0]]]}}]}', 'name')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.add_areas('{"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {"name": "ok 1"}, "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}},
  {"type": "Feature", "properties": {"title": "no name"}, "geometry": {"type": "Polygon", "coordinates": [[[2,0],[3,0],[3,1],[2,0]]]}}]}', 'name')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.add_areas('{"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {"name": "twice"}, "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}},
  {"type": "Feature", "properties": {"name": "twice"}, "geometry": {"type": "Polygon", "coordinates": [[[2,0],[3,0],[3,1],[2,0]]]}}]}', 'name')$$);
SELECT pg_temp.err($$SELECT * FROM geoetl.add_areas('{"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {"name": "new"}, "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}},
  {"type": "Feature", "properties": {"name": "taken"}, "geometry": {"type": "Polygon", "coordinates": [[[2,0],[3,0],[3,1],[2,0]]]}}]}', 'name')$$);
SELECT name FROM geoetl.area ORDER BY name;

-- update_area
SELECT pg_temp.err($$SELECT geoetl.update_area(NULL, '{}')$$);
SELECT pg_temp.err($$SELECT geoetl.update_area(-1, properties => '{}')$$);
SELECT pg_temp.err($$SELECT geoetl.update_area((SELECT area_id FROM geoetl.area WHERE name = 'taken'))$$);
SELECT pg_temp.err($$SELECT geoetl.update_area((SELECT area_id FROM geoetl.area WHERE name = 'taken'),
  '{"type": "Point", "coordinates": [0, 0]}')$$);
SELECT pg_temp.err($$SELECT geoetl.update_area((SELECT area_id FROM geoetl.area WHERE name = 'taken'),
  properties => '[]')$$);
SELECT pg_temp.err($$SELECT geoetl.update_area((SELECT area_id FROM geoetl.area WHERE name = 'taken'),
  '{"type": "Polygon", "coordinates": [[[0,0],[2,2],[2,0],[0,2],[0,0]]]}')$$);
SELECT ST_AsText(geom) AS unchanged FROM geoetl.area WHERE name = 'taken';

DELETE FROM geoetl.area;
