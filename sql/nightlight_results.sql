-- geoetl.refresh_nightlights fills geoetl.nightlight_monthly; geoetl.nightlight_trend reads it.
-- Uses the February 2024 granules scripts/check.sh writes to GEOETL_FIXTURES/nightlights.
\set SHOW_CONTEXT never
\i sql/include/err.psql
\getenv fixtures GEOETL_FIXTURES
\set folder :fixtures '/nightlights'
SELECT geoetl.register_rasters('VNP46A2', :'folder') AS daily;
SELECT geoetl.add_area('across', '{"type":"Polygon","coordinates":[[[38,1],[42,1],[42,4],[38,4],[38,1]]]}') AS across_id \gset
SELECT geoetl.add_area('inside', '{"type":"Polygon","coordinates":[[[41,2],[42,2],[42,3],[41,3],[41,2]]]}') AS inside_id \gset

-- one month: one row, equal to what nightlight_metrics returns
SELECT geoetl.refresh_nightlights(:across_id, '2024-02-01', '2024-02-29') AS changed;
SELECT n.month, n.product, n.layer, n.threshold, n.options, n.days_in_month, n.days_with_data,
       n.sum_of_lights = m.sum_of_lights AS same_sum, n.coverage = m.coverage AS same_coverage,
       n.lit_share = m.lit_share AS same_share, n.tiles_used, n.tiles_missing, n.files_invalid
  FROM geoetl.nightlight_monthly n, geoetl.nightlight_metrics(:across_id::bigint, '2024-02-01') m
 WHERE n.area_id = :across_id;
-- nothing changed: nothing recomputed, the row keeps its time
SELECT computed_at AS first_computed FROM geoetl.nightlight_monthly WHERE area_id = :across_id \gset
SELECT geoetl.refresh_nightlights(:across_id, '2024-02-01', '2024-02-01') AS changed;
SELECT computed_at = :'first_computed' AS untouched FROM geoetl.nightlight_monthly WHERE area_id = :across_id;
-- a range: months without files get a row that says so (no data, NULL metrics); February is skipped
SELECT geoetl.refresh_nightlights(:across_id, '2024-01-15', '2024-03-03') AS changed;
SELECT month, days_with_data, sum_of_lights IS NULL AS no_lights, coverage FROM geoetl.nightlight_monthly
 WHERE area_id = :across_id ORDER BY month;
SELECT geoetl.refresh_nightlights(:across_id, '2024-01-01', '2024-03-01') AS changed;
-- other options replace the month's row; the options are kept with it
SELECT geoetl.refresh_nightlights(:across_id, '2024-02-01', '2024-02-01', options => '{"composite": "median"}') AS changed;
SELECT options, sum_of_lights = (geoetl.nightlight_metrics(:across_id::bigint, '2024-02-01', options => '{"composite": "median"}')).sum_of_lights AS median_sum
  FROM geoetl.nightlight_monthly WHERE area_id = :across_id AND month = '2024-02-01';
-- granules leaving or joining the month change the fingerprint: the month is recomputed
DELETE FROM geoetl.raster WHERE uri LIKE '%A2024060.%';
SELECT geoetl.refresh_nightlights(:across_id, '2024-02-01', '2024-02-01', options => '{"composite": "median"}') AS changed;
SELECT days_with_data FROM geoetl.nightlight_monthly WHERE area_id = :across_id AND month = '2024-02-01';
SELECT geoetl.register_rasters('VNP46A2', :'folder') AS daily;
SELECT geoetl.refresh_nightlights(:across_id, '2024-02-01', '2024-02-01', options => '{"composite": "median"}') AS changed;
SELECT days_with_data FROM geoetl.nightlight_monthly WHERE area_id = :across_id AND month = '2024-02-01';

-- the fingerprint hashes the normalised options: options that compute the same result give the
-- same fingerprint (and a second run with them recomputes nothing), others a different one
SELECT geoetl._nightlight_inputs(:across_id, '2024-02-01', 'VNP46A2', 0.5, '{}')
     = geoetl._nightlight_inputs(:across_id, '2024-02-01', 'VNP46A2', 0.5, '{"composite": "mean"}') AS mean_is_the_default,
       geoetl._nightlight_inputs(:across_id, '2024-02-01', 'VNP46A2', 0.5, '{}')
     = geoetl._nightlight_inputs(:across_id, '2024-02-01', 'VNP46A2', 0.5,
         '{"quality": [1, 0], "cloud": true, "negative": "clamp", "layer": "DNB_BRDF-Corrected_NTL", "coverage": null}') AS all_defaults_spelt_out,
       geoetl._nightlight_inputs(:across_id, '2024-02-01', 'VNP46A2', 0.5, '{}')
    <> geoetl._nightlight_inputs(:across_id, '2024-02-01', 'VNP46A2', 0.5, '{"negative": "keep"}') AS keep_differs,
       geoetl._nightlight_inputs(:across_id, '2024-02-01', 'VNP46A2', 0.5, '{}')
    <> geoetl._nightlight_inputs(:across_id, '2024-02-01', 'VNP46A2', 0.5, '{"quality": [0]}') AS fewer_flags_differ;
SELECT geoetl.refresh_nightlights(:across_id, '2024-02-01', '2024-02-01', options => '{}') AS changed;
SELECT computed_at AS default_computed FROM geoetl.nightlight_monthly WHERE area_id = :across_id AND month = '2024-02-01' \gset
SELECT geoetl.refresh_nightlights(:across_id, '2024-02-01', '2024-02-01', options => '{"composite": "mean"}') AS changed;
SELECT geoetl.refresh_nightlights(:across_id, '2024-02-01', '2024-02-01',
                                  options => '{"quality": [1, 0, 1], "snow": true, "min_valid_nights": 1}') AS changed;
SELECT computed_at = :'default_computed' AS untouched, options FROM geoetl.nightlight_monthly
 WHERE area_id = :across_id AND month = '2024-02-01';
SELECT geoetl.refresh_nightlights(:across_id, '2024-02-01', '2024-02-01', options => '{"negative": "drop"}') AS changed;
-- the job runs the same check: an equivalent month in a job recomputes nothing either
SELECT geoetl._job_nightlight_month(jsonb_build_object('area_id', :across_id, 'month', '2024-02-01',
                                                       'options', '{"negative": "drop", "composite": "mean"}'::jsonb)) AS job_result;

-- the trend view: month-over-month and year-over-year from rows in the table
SELECT geoetl.refresh_nightlights(:inside_id, '2024-02-01', '2024-02-01') AS changed;
UPDATE geoetl.nightlight_monthly SET sum_of_lights = 100, lit_share = 0.25 WHERE area_id = :inside_id;
INSERT INTO geoetl.nightlight_monthly (area_id, month, product, layer, threshold, days_in_month, days_with_data,
                                       sum_of_lights, lit_share, tiles_used, tiles_missing, files_invalid, inputs)
VALUES (:inside_id, '2024-01-01', 'VNP46A2', 'DNB_BRDF-Corrected_NTL', 0.5, 31, 31, 80, 0.2, '{}', '{}', '{}', 'manual'),
       (:inside_id, '2023-02-01', 'VNP46A2', 'DNB_BRDF-Corrected_NTL', 0.5, 28, 28, 50, 0.1, '{}', '{}', '{}', 'manual');
SELECT name, month, sum_of_lights, sum_of_lights_mom, sum_of_lights_mom_pct, sum_of_lights_yoy, sum_of_lights_yoy_pct,
       round(lit_share_mom::numeric, 6) AS lit_share_mom, round(lit_share_yoy::numeric, 6) AS lit_share_yoy
  FROM geoetl.nightlight_trend WHERE area_id = :inside_id ORDER BY month;

-- bad rows and calls change nothing
SELECT count(*) AS rows_before FROM geoetl.nightlight_monthly;
SELECT split_part(pg_temp.err($$INSERT INTO geoetl.nightlight_monthly (area_id, month, product, layer, threshold, days_in_month,
  days_with_data, tiles_used, tiles_missing, files_invalid, inputs)
  VALUES ($$ || :inside_id || $$, '2024-05-02', 'VNP46A2', 'x', 0.5, 31, 0, '{}', '{}', '{}', 'x')$$), ' | Failing row', 1) AS err;
SELECT pg_temp.err('SELECT geoetl.refresh_nightlights(-1, ''2024-01-01'', ''2024-02-01'')');
SELECT pg_temp.err('SELECT geoetl.refresh_nightlights(NULL, ''2024-01-01'', ''2024-02-01'')');
SELECT pg_temp.err(format('SELECT geoetl.refresh_nightlights(%s, ''2024-03-01'', ''2024-02-01'')', :inside_id));
SELECT pg_temp.err(format('SELECT geoetl.refresh_nightlights(%s, ''2024-02-01'', ''2024-02-01'', ''VNP99'')', :inside_id));
SELECT pg_temp.err(format('SELECT geoetl.refresh_nightlights(%s, ''2024-02-01'', ''2024-02-01'', options => ''{"colour": 1}'')', :inside_id));
SELECT pg_temp.err(format('SELECT geoetl.refresh_nightlights(%s, ''2024-04-01'', ''2024-06-01'', options => ''{"composite": "max"}'')', :inside_id));
SELECT count(*) AS rows_after FROM geoetl.nightlight_monthly;

-- deleting an area deletes its results
DELETE FROM geoetl.area WHERE area_id = :inside_id;
SELECT count(*) AS inside_rows FROM geoetl.nightlight_monthly WHERE area_id = :inside_id;

DELETE FROM geoetl.area;
DELETE FROM geoetl.raster;
DELETE FROM geoetl.raster_invalid;
