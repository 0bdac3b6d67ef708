-- Values that are refused with a clear error (SQLSTATE, message, hint) instead of looping,
-- answering nonsense or failing deep inside: infinite and absurd dates.
\set SHOW_CONTEXT never
\i sql/include/err.psql
SELECT geoetl.add_area('bad values', '{"type":"Polygon","coordinates":[[[38,1],[42,1],[42,4],[38,4],[38,1]]]}') AS area \gset
-- 60 x 60 degrees: 36 tiles
SELECT geoetl.add_area('bad values, large', '{"type":"Polygon","coordinates":[[[0,0],[60,0],[60,60],[0,60],[0,0]]]}') AS large \gset

-- dates of Black Marble calls: finite, from January 2012 to a year ahead
SELECT pg_temp.err(format('SELECT geoetl.refresh_nightlights(%s, %L, %L)', :area, 'infinity', 'infinity'));
SELECT pg_temp.err(format('SELECT geoetl.refresh_nightlights(%s, %L, %L)', :area, '-infinity', '2024-01-01'));
SELECT pg_temp.err(format('SELECT geoetl.enqueue_nightlights(%s, %L, %L)', :area, '2024-01-01', 'infinity'));
SELECT pg_temp.err(format('SELECT geoetl.enqueue_nightlights(%s, %L, %L)', :area, '2024-01-01', '5000-01-01'));
SELECT count(*) AS jobs_enqueued FROM geoetl.job;
SELECT pg_temp.err(format('SELECT geoetl.nightlight_metrics(%s::bigint, %L)', :area, 'infinity'));
SELECT pg_temp.err(format('SELECT geoetl.nightlight_metrics(%s::bigint, %L)', :area, '-infinity'));
SELECT pg_temp.err(format('SELECT geoetl.nightlight_metrics(%s::bigint, %L)', :area, '2011-12-01'));
SELECT pg_temp.err($$SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), 'infinity')$$);
SELECT pg_temp.err(format('SELECT geoetl.fetch_blackmarble(%L, %s, %L, %L)', 'VNP46A2', :area, '2024-01-01', 'infinity'));
SELECT pg_temp.err(format('SELECT geoetl.fetch_blackmarble(%L, %s, %L, %L)', 'VNP46A3', :area, '-infinity', '2024-01-01'));
SELECT pg_temp.err($$SELECT count(*) FROM geoetl._product_days('VNP46A2', '2024-01-01', 'infinity')$$);
-- one call enqueues 100,000 jobs at most
SELECT pg_temp.err(format('SELECT geoetl.fetch_blackmarble(%L, %s, %L, %L)', 'VNP46A2', :large, '2012-01-01', '2022-12-31'));
SELECT count(*) AS jobs_enqueued, (SELECT count(*) FROM geoetl.fetch_request) AS requests FROM geoetl.job;
-- more than a year ahead
SELECT regexp_replace(pg_temp.err(format('SELECT geoetl.nightlight_metrics(%s::bigint, %L)', :area,
                                         (date_trunc('month', now()) + interval '14 months')::date)),
                      '[0-9]{4}-[0-9]{2}-[0-9]{2}', '<14 months ahead>') AS err;
-- the last day allowed is fine
SELECT (geoetl.nightlight_metrics(:area::bigint, (date_trunc('month', now()) + interval '12 months')::date)).month IS NOT NULL AS a_year_ahead;

-- STAC periods: open ends are NULL, not infinite; times STAC can write
SELECT pg_temp.err($$SELECT geoetl.stac_search('http://127.0.0.1:9/', '{a}', ST_MakeEnvelope(0, 0, 1, 1, 4326), tstzrange('2024-01-01', 'infinity'))$$);
SELECT pg_temp.err($$SELECT geoetl.stac_search('http://127.0.0.1:9/', '{a}', ST_MakeEnvelope(0, 0, 1, 1, 4326), tstzrange('-infinity', '2024-01-01'))$$);
SELECT pg_temp.err($$SELECT geoetl.stac_search('http://127.0.0.1:9/', '{a}', ST_MakeEnvelope(0, 0, 1, 1, 4326), tstzrange('2024-01-01', '12000-01-01'))$$);
SELECT pg_temp.err($$SELECT geoetl.stac_ingest('a', '{red}', ST_MakeEnvelope(0, 0, 1, 1, 4326), tstzrange('-infinity', NULL))$$);
SELECT geoetl.stac_ingest('a', '{red}', ST_MakeEnvelope(0, 0, 1, 1, 4326), tstzrange('2024-01-01', NULL)) AS open_end_is_fine;

-- window pipelines: a finite watermark
CREATE TABLE bad_values_readings (ts timestamptz NOT NULL, v float8);
INSERT INTO bad_values_readings VALUES ('2024-01-01 00:05', 1);
CREATE SCHEMA bad_values_target;
SELECT geoetl.create_window_pipeline('bad_values', 'bad_values_readings', 'ts', '{v}', '10 minutes', 'bad_values_target');
SELECT pg_temp.err($$SELECT geoetl.run_window_pipeline('bad_values', 'infinity')$$);
SELECT pg_temp.err($$SELECT geoetl.run_window_pipeline('bad_values', '-infinity')$$);
SELECT pg_temp.err($$SELECT geoetl.backfill_window_pipeline('bad_values', '-infinity', '2024-01-02')$$);
SELECT pg_temp.err($$SELECT geoetl.backfill_window_pipeline('bad_values', '2024-01-01', 'infinity')$$);
SELECT watermark FROM geoetl.window_pipeline WHERE name = 'bad_values';
SELECT geoetl.run_window_pipeline('bad_values', '2024-01-02') AS rows_written;
SELECT geoetl.drop_window_pipeline('bad_values');
DROP SCHEMA bad_values_target CASCADE;
DROP TABLE bad_values_readings;


-- Clear errors for values that failed deep inside before
\getenv fixtures GEOETL_FIXTURES
\set lights :fixtures '/lights.tif'
-- quantiles: the value given, exactly
SELECT pg_temp.err(format('SELECT geoetl.zonal_stats(%L, ST_MakeEnvelope(31, 0.5, 32, 1.5, 4326), quantiles => %L)', :'lights', '{1.0000001}'));
SELECT pg_temp.err(format('SELECT geoetl.zonal_stats(%L, ST_MakeEnvelope(31, 0.5, 32, 1.5, 4326), quantiles => %L)', :'lights', '{-1e-9}'));
SELECT pg_temp.err(format('SELECT geoetl.zonal_stats(%L, ST_MakeEnvelope(31, 0.5, 32, 1.5, 4326), quantiles => %L)', :'lights', '{NaN}'));
-- geometry types by their names, with what to do
SELECT pg_temp.err(format('SELECT geoetl.zonal_stats(%L, %L::geometry)', :'lights', 'SRID=4326;CURVEPOLYGON(CIRCULARSTRING(31 0.5,31.5 1,32 0.5,31.5 0,31 0.5))'));
SELECT pg_temp.err(format('SELECT geoetl.zonal_stats(%L, %L::geometry)', :'lights', 'SRID=4326;TRIANGLE((31 0.5,32 0.5,31 1.5,31 0.5))'));
SELECT pg_temp.err($$SELECT geoetl.nightlight_metrics('SRID=4326;CURVEPOLYGON(CIRCULARSTRING(38 1,40 3,42 1,40 -1,38 1))'::geometry, '2024-02-01')$$);
SELECT pg_temp.err($$SELECT geoetl.nightlight_metrics('SRID=4326;MULTISURFACE(((38 1,42 1,42 4,38 1)))'::geometry, '2024-02-01')$$);
SELECT pg_temp.err($$SELECT geoetl.nightlight_metrics('SRID=4326;POINT(40 2)'::geometry, '2024-02-01')$$);
-- area names: 1 to 200 characters, however written; messages show at most 60 of them
SELECT pg_temp.err($$SELECT geoetl.add_area(repeat('x', 1000000), '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}')$$);
SELECT pg_temp.err($$SELECT geoetl.add_area(repeat('x', 201), '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}')$$);
SELECT pg_temp.err($$INSERT INTO geoetl.area (name, geom) VALUES (repeat('y', 300), 'SRID=4326;MULTIPOLYGON(((0 0,1 0,1 1,0 0)))')$$);
SELECT pg_temp.err(format('UPDATE geoetl.area SET name = repeat(%L, 5000) WHERE area_id = %s', 'z', :area));
SELECT pg_temp.err(format('SELECT * FROM geoetl.add_areas(%L, %L)', jsonb_build_object('type', 'FeatureCollection', 'features', jsonb_build_array(jsonb_build_object('type', 'Feature', 'properties', jsonb_build_object('n', repeat('w', 100000)), 'geometry', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}'::jsonb))), 'n'));
SELECT geoetl.add_area(repeat('v', 200), '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}') AS id \gset
SELECT char_length(name) AS longest_name FROM geoetl.area WHERE area_id = :id;
-- group keys need equality and order
CREATE TABLE bad_values_points (ts timestamptz NOT NULL, p point, v float8);
CREATE SCHEMA bad_values_target;
SELECT pg_temp.err($$SELECT * FROM geoetl.aggregate_window('bad_values_points', 'ts', '{v}', '10 minutes', '2024-01-01', '2024-01-02', group_by => 'p')$$);
SELECT pg_temp.err($$SELECT geoetl.create_window_pipeline('points', 'bad_values_points', 'ts', '{v}', '10 minutes', 'bad_values_target', group_by => 'p')$$);
DROP SCHEMA bad_values_target CASCADE;
DROP TABLE bad_values_points;
-- an SRID PostGIS does not know: 22023 everywhere, as zonal_stats says it
SELECT pg_temp.err(format('SELECT geoetl.zonal_stats(%L, ST_SetSRID(ST_MakeEnvelope(31, 0.5, 32, 1.5), 990001))', :'lights'));
SELECT pg_temp.err($$SELECT geoetl.nightlight_metrics(ST_SetSRID(ST_MakeEnvelope(38, 1, 42, 4), 990001), '2024-02-01')$$);
SELECT pg_temp.err($$SELECT geoetl.stac_search('http://127.0.0.1:9/', '{a}', ST_SetSRID(ST_MakeEnvelope(38, 1, 42, 4), 990001), NULL)$$);
-- coordinates far outside longitude/latitude
SELECT pg_temp.err($$SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(0, 0, 1e300, 1, 4326), '2024-02-01')$$);
SELECT pg_temp.err($$SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(-1e300, -1e300, 0, 0, 4326), '2024-02-01')$$);
SELECT pg_temp.err($$SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(0, 100, 1, 101, 4326), '2024-02-01')$$);
SELECT geoetl._tiles_of(ST_MakeEnvelope(170, -95, 1e300, -85, 4326)) AS tiles_of_a_far_box;
-- the layer option: a name
SELECT pg_temp.err($$SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), '2024-02-01', options => '{"layer": ""}')$$);
SELECT pg_temp.err($$SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), '2024-02-01', options => '{"layer": "  "}')$$);
SELECT pg_temp.err($$SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), '2024-02-01', options => '{"layer": 5}')$$);
-- GeoJSON "crs": a coordinate system spatial_ref_sys knows, or none
SELECT pg_temp.err($$SELECT geoetl.add_area('crs junk', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]],"crs":{"type":"name","properties":{"name":"junk"}}}')$$);
SELECT pg_temp.err($$SELECT geoetl.add_area('crs unknown', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]],"crs":{"type":"name","properties":{"name":"EPSG:999999"}}}')$$);
SELECT pg_temp.err($$SELECT geoetl.add_area('crs link', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]],"crs":{"type":"link","properties":{"href":"http://example.com/crs"}}}')$$);
SELECT pg_temp.err($$SELECT geoetl.add_area('crs not an object', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]],"crs":5}')$$);
SELECT pg_temp.err($$SELECT geoetl.add_area('crs on the feature', '{"type":"Feature","crs":{"type":"name","properties":{"name":"nonsense"}},"properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}')$$);
SELECT pg_temp.err($$SELECT geoetl.add_area('crs web mercator', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]],"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3857"}}}')$$);
SELECT geoetl.add_area('crs84', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]],"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}}}') AS id \gset
SELECT ST_SRID(geom) AS crs84 FROM geoetl.area WHERE area_id = :id;
SELECT geoetl.add_area('crs 4326', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]],"crs":{"type":"name","properties":{"name":"EPSG:4326"}}}') AS id \gset
SELECT ST_SRID(geom) AS epsg_4326 FROM geoetl.area WHERE area_id = :id;
SELECT geoetl.enqueue('stac_search', '{"api_url": "http://127.0.0.1:9", "collections": ["a"], "aoi": {"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]],"crs":{"type":"name","properties":{"name":"junk"}}}}', max_attempts => 1) AS job \gset
CALL geoetl.run_jobs();
SELECT state, errors->0->>'sqlstate' AS sqlstate, errors->0->>'message' AS message FROM geoetl.job WHERE job_id = :job;
-- a registered granule deleted from disk: missing, not "not HDF5"
\set folder :fixtures '/bad-values-granules'
\set copy_granule 'mkdir -p ' :folder ' && cp ' :fixtures '/blackmarble/VNP46A2.A2024059.h21v08.* ' :folder '/'
COPY (SELECT) TO PROGRAM :'copy_granule';
SELECT geoetl.register_rasters('VNP46A2', :'folder') AS registered;
\set remove_granule 'rm -rf ' :folder
COPY (SELECT) TO PROGRAM :'remove_granule';
SELECT replace(f, :'fixtures', '<fixtures>') AS files_invalid
  FROM unnest((geoetl.nightlight_metrics(ST_MakeEnvelope(31, 1, 32, 2, 4326), '2024-02-01')).files_invalid) f;
DELETE FROM geoetl.raster;
DELETE FROM geoetl.area WHERE area_id IN (:area, :large) OR name IN ('crs84', 'crs 4326') OR name LIKE 'vvvv%';
TRUNCATE geoetl.job, geoetl.fetch_request RESTART IDENTITY;
