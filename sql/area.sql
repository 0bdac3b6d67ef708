-- Areas of interest: adding, listing, updating and deleting.
\set SHOW_CONTEXT never
-- a GeoJSON Polygon: 1 x 1 degree at the equator, about 12,309 km2 on the WGS 84 ellipsoid
SELECT geoetl.add_area('equator square',
  '{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1],[0,0]]]}') AS area_id;
SELECT area_id, name, properties, ST_AsText(geom) AS wkt, ST_SRID(geom) AS srid,
       round(area_km2::numeric, 1) AS area_km2, created_by = current_user AS by_me
  FROM geoetl.area WHERE name = 'equator square';
-- a Feature: its properties are kept, explicit properties win over them
SELECT geoetl.add_area('feature',
  '{"type": "Feature", "properties": {"admin": "KE-17", "pop": 1200},
    "geometry": {"type": "Polygon", "coordinates": [[[36,-1],[36.1,-1],[36.1,-0.9],[36,-1]]]}}',
  '{"pop": 1300, "source": "survey"}') IS NOT NULL AS added;
SELECT properties FROM geoetl.area WHERE name = 'feature';
-- a FeatureCollection of exactly one feature
SELECT geoetl.add_area('collection of one',
  '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": null,
    "geometry": {"type": "Polygon", "coordinates": [[[10,10],[10.5,10],[10.5,10.5],[10,10]]]}}]}')
  IS NOT NULL AS added;
-- a MultiPolygon with a hole: the hole is not counted
SELECT geoetl.add_area('with hole',
  '{"type": "MultiPolygon", "coordinates": [
     [[[20,0],[22,0],[22,2],[20,2],[20,0]], [[20.5,0.5],[21.5,0.5],[21.5,1.5],[20.5,1.5],[20.5,0.5]]],
     [[[30,0],[31,0],[31,1],[30,1],[30,0]]]]}') IS NOT NULL AS added;
SELECT ST_NumGeometries(geom) AS parts, ST_NRings(geom) AS rings,
       round((area_km2 / (SELECT area_km2 FROM geoetl.area WHERE name = 'equator square'))::numeric, 2)
         AS squares
  FROM geoetl.area WHERE name = 'with hole';
-- 3D coordinates are flattened; a polygon touching the antimeridian and the poles is fine
SELECT geoetl.add_area('3d', '{"type": "Polygon", "coordinates": [[[5,5,100],[6,5,100],[6,6,90],[5,5,100]]]}')
  IS NOT NULL AS added;
SELECT ST_NDims(geom) AS dims FROM geoetl.area WHERE name = '3d';
SELECT geoetl.add_area('edge of the world',
  '{"type": "Polygon", "coordinates": [[[179,80],[180,80],[180,90],[179,90],[179,80]]]}') IS NOT NULL AS added;
-- a self-intersecting bow tie, repaired on request into two triangles
SELECT geoetl.add_area('bow tie repaired',
  '{"type": "Polygon", "coordinates": [[[0,10],[2,12],[2,10],[0,12],[0,10]]]}', make_valid => true)
  IS NOT NULL AS added;
SELECT ST_NumGeometries(geom) AS parts, ST_IsValid(geom) AS valid,
       GeometryType(geom) AS type FROM geoetl.area WHERE name = 'bow tie repaired';
-- make_valid leaves valid polygons exactly as they are; NULL make_valid means false
SELECT geoetl.add_area('valid untouched',
  '{"type": "Polygon", "coordinates": [[[40,0],[41,0],[41,1],[40,0]]]}', NULL, true) IS NOT NULL AS added;
SELECT ST_AsText(geom) FROM geoetl.area WHERE name = 'valid untouched';
-- NULL properties means none
SELECT geoetl.add_area('null props',
  '{"type": "Polygon", "coordinates": [[[50,0],[51,0],[51,1],[50,0]]]}', NULL, NULL) IS NOT NULL AS added;
SELECT properties FROM geoetl.area WHERE name = 'null props';

-- add_areas: every feature, named by a property, ids in feature order
SELECT count(*) AS added, bool_and(id IS NOT NULL) AS all_ids,
       array_agg(id ORDER BY id) = array_agg(id) AS in_order
  FROM geoetl.add_areas('{"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"village": "Kalobeyei", "id": 1},
     "geometry": {"type": "Polygon", "coordinates": [[[34.7,3.7],[34.8,3.7],[34.8,3.8],[34.7,3.7]]]}},
    {"type": "Feature", "properties": {"village": "Lokichoggio", "id": 2},
     "geometry": {"type": "Polygon", "coordinates": [[[34.3,4.2],[34.4,4.2],[34.4,4.3],[34.3,4.2]]]}},
    {"type": "Feature", "properties": {"village": "Kakuma", "id": 3},
     "geometry": {"type": "MultiPolygon", "coordinates": [[[[34.8,3.7],[34.9,3.7],[34.9,3.8],[34.8,3.7]]]]}}
  ]}', 'village') AS id;
SELECT name, properties FROM geoetl.area WHERE name IN ('Kalobeyei', 'Lokichoggio', 'Kakuma') ORDER BY area_id;
-- an empty collection adds nothing
SELECT count(*) AS added FROM geoetl.add_areas('{"type": "FeatureCollection", "features": []}', 'name');

-- update_area: geometry only, properties only, both
SELECT geoetl.update_area((SELECT area_id FROM geoetl.area WHERE name = 'Kakuma'),
  '{"type": "Polygon", "coordinates": [[[34.8,3.7],[35.0,3.7],[35.0,3.9],[34.8,3.7]]]}');
SELECT ST_AsText(geom), properties FROM geoetl.area WHERE name = 'Kakuma';
SELECT geoetl.update_area((SELECT area_id FROM geoetl.area WHERE name = 'Kakuma'),
  properties => '{"camp": true}');
SELECT ST_AsText(geom), properties, round(area_km2::numeric) AS km2 FROM geoetl.area WHERE name = 'Kakuma';
SELECT geoetl.update_area((SELECT area_id FROM geoetl.area WHERE name = 'Kakuma'),
  '{"type": "Polygon", "coordinates": [[[34,3],[35,3],[35,4],[34,3]]]}', '{}');
SELECT ST_AsText(geom), properties, round(area_km2::numeric) AS km2 FROM geoetl.area WHERE name = 'Kakuma';

-- plain SQL works too: rename, delete
UPDATE geoetl.area SET name = 'Kakuma camp' WHERE name = 'Kakuma';
DELETE FROM geoetl.area WHERE name = 'Kakuma camp';
SELECT count(*) AS kakuma_left FROM geoetl.area WHERE name LIKE 'Kakuma%';

-- the spatial index answers "which areas does this tile touch"
SELECT name FROM geoetl.area WHERE geom && ST_MakeEnvelope(30, 0, 40, 10, 4326) ORDER BY name;

DELETE FROM geoetl.area;
