-- geoetl.nightlight_metrics on a generated month of Black Marble granules (scripts/check.sh
-- writes GEOETL_FIXTURES/nightlights: VNP46A2 and VNP46A3, tiles h21v08 and h22v08, February 2024).
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv fixtures GEOETL_FIXTURES
\set folder :fixtures '/nightlights'
SELECT geoetl.register_rasters('VNP46A2', :'folder') AS daily, geoetl.register_rasters('VNP46A3', :'folder') AS monthly;
-- an area crossing the two tiles' border (40 E), and one reaching into tile h21v09, which has no data
SELECT geoetl.add_area('across', '{"type":"Polygon","coordinates":[[[38,1],[42,1],[42,4],[38,4],[38,1]]]}') > 0 AS added,
       geoetl.add_area('south', '{"type":"Polygon","coordinates":[[[36,-2],[39,-2],[39,2],[36,2],[36,-2]]]}') > 0 AS added,
       geoetl.add_area('europe', '{"type":"Polygon","coordinates":[[[10,45],[11,45],[11,46],[10,46],[10,45]]]}') > 0 AS added;
CREATE FUNCTION pg_temp.m(area_name text, month date, product text DEFAULT 'VNP46A2', options jsonb DEFAULT '{}')
RETURNS geoetl.nightlight_metrics_result LANGUAGE sql AS $$
  SELECT geoetl.nightlight_metrics((SELECT a.area_id FROM geoetl.area a WHERE a.name = area_name), month, product, 0.5, options) $$;
\i sql/include/write_file.psql

-- a month of daily files: every night used, metrics in plausible ranges
SELECT month, product, layer, threshold, days_in_month, days_with_data,
       round(coverage::numeric, 4) BETWEEN 0.5 AND 1 AS coverage_plausible,
       round(valid_area_km2::numeric) AS valid_km2, sum_of_lights > 0 AS lights,
       median_radiance <= p90_radiance AND p90_radiance <= max_radiance AS ordered,
       lit_share BETWEEN 0 AND 1 AS share_ok, tiles_used, tiles_missing, files_invalid
  FROM pg_temp.m('across', '2024-02-01');
-- any day of the month means that month
SELECT (pg_temp.m('across', '2024-02-17')).sum_of_lights = (pg_temp.m('across', '2024-02-01')).sum_of_lights AS same_month;
-- the geometry form gives the same numbers, without an area_id
SELECT g.area_id IS NULL AS no_area, g.sum_of_lights = a.sum_of_lights AS same_sum, g.coverage = a.coverage AS same_coverage
  FROM geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), '2024-02-01') g, pg_temp.m('across', '2024-02-01') a;
-- a tile without data is listed, not fatal; the coverage says how much is missing
SELECT days_with_data, tiles_used, tiles_missing, coverage < (pg_temp.m('across', '2024-02-01')).coverage AS less_covered
  FROM pg_temp.m('south', '2024-02-01');
-- outside every registered tile, or a month without files: no data, NULL metrics
SELECT days_with_data, coverage, sum_of_lights, lit_share, tiles_used, tiles_missing FROM pg_temp.m('europe', '2024-02-01');
SELECT days_with_data, coverage, sum_of_lights, tiles_missing FROM pg_temp.m('across', '2019-01-01');

-- each rule changes the result the way it should
SELECT (pg_temp.m('across', '2024-02-01', options => '{"quality": [0,1,2], "cloud": false, "snow": false}')).coverage
     > (pg_temp.m('across', '2024-02-01')).coverage AS fewer_rules_more_nights,
       (pg_temp.m('across', '2024-02-01', options => '{"composite": "median"}')).sum_of_lights
    <> (pg_temp.m('across', '2024-02-01')).sum_of_lights AS median_differs,
       (pg_temp.m('across', '2024-02-01', options => '{"min_valid_nights": 30}')).sum_of_lights IS NULL AS thirty_nights_never;
-- negative radiance (noise over the lakes): kept < clamped to 0 < left out, over the two tiles
WITH o(name, options) AS (VALUES ('keep', '{"negative": "keep", "cloud": false, "snow": false}'::jsonb),
                                 ('clamp', '{"cloud": false, "snow": false}'),
                                 ('drop', '{"negative": "drop", "cloud": false, "snow": false}'))
SELECT array_agg(name ORDER BY (geoetl.nightlight_metrics(ST_MakeEnvelope(30, 0, 50, 10, 4326), '2024-02-01', options => options)).sum_of_lights)
         AS by_sum_of_lights
  FROM o;

-- the options, checked and normalised in one place: every option present with its default
-- (layer: the product's default layer), JSON null meaning the default, flags sorted once each
SELECT geoetl._nightlight_options('{}', 'DNB_BRDF-Corrected_NTL') AS defaults;
SELECT geoetl._nightlight_options(NULL, 'DNB_BRDF-Corrected_NTL') = geoetl._nightlight_options('{}', 'DNB_BRDF-Corrected_NTL') AS null_is_empty;
SELECT geoetl._nightlight_options('{"quality": [2, 0, 2.0], "cloud": null, "min_valid_nights": 3.0, "layer": "Gap_Filled_DNB_BRDF-Corrected_NTL"}',
                                  'DNB_BRDF-Corrected_NTL') AS normalised;
SELECT geoetl._nightlight_options('{"quality": []}', 'x')->'quality' AS no_quality_rule;
SELECT p.proname, p.provolatile, p.proparallel FROM pg_proc p
 WHERE p.oid = 'geoetl._nightlight_options(jsonb, text)'::regprocedure;

-- the monthly product
SELECT product, layer, days_with_data, coverage BETWEEN 0.5 AND 1 AS coverage_plausible, sum_of_lights > 0 AS lights, tiles_used
  FROM pg_temp.m('across', '2024-02-01', 'VNP46A3');

-- an invalid file of the month is listed in the row
SELECT pg_temp.write_file(:'folder' || '/VNP46A2.A2024040.h22v08.002.2024099000000.h5', '<html>Please log in</html>');
SELECT geoetl.register_rasters('VNP46A2', :'folder') AS registered;
SELECT days_with_data, array_length(files_invalid, 1) AS invalid_files,
       files_invalid[1] LIKE '%A2024040.h22v08%not a readable HDF5 file%' AS named
  FROM pg_temp.m('across', '2024-02-01');

-- bad calls
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(-1::bigint, ''2024-02-01'')');
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(NULL::bigint, ''2024-02-01'')');
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), NULL)');
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), ''2024-02-01'', ''VNP99'')');
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), ''2024-02-01'', options => ''{"colour": 1}'')');
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), ''2024-02-01'', options => ''{"composite": "max"}'')');
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), ''2024-02-01'', options => ''{"min_valid_nights": 0}'')');
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), ''2024-02-01'', options => ''{"quality": ["good"]}'')');
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), ''2024-02-01'', options => ''{"negative": "zero"}'')');
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), ''2024-02-01'', options => ''{"coverage": "most"}'')');
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), ''2024-02-01'', options => ''{"quality": [0.5]}'')');
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), ''2024-02-01'', options => ''{"min_valid_nights": 1.5}'')');
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), ''2024-02-01'', options => ''{"min_valid_nights": "3"}'')');
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(ST_MakeEnvelope(38, 1, 42, 4, 4326), ''2024-02-01'', options => ''[]'')');
-- the C++ side refuses an unknown negative-radiance rule too, whoever calls it
SELECT pg_temp.err($$SELECT geoetl._nightlight_stats(ST_MakeEnvelope(38, 1, 42, 4, 4326), '{}', 0.5, 'DNB_BRDF-Corrected_NTL',
                                                      '{0,1}', true, true, 'zero', 1, false, 'exact')$$);
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(''POINT(40 2)''::geometry, ''2024-02-01'')');
SELECT pg_temp.err('SELECT geoetl.nightlight_metrics(''SRID=4326;POLYGON((38 1,42 4,42 1,38 4,38 1))''::geometry, ''2024-02-01'')');

DELETE FROM geoetl.area;
DELETE FROM geoetl.raster;
DELETE FROM geoetl.raster_invalid;
