-- Night-light results that BI tools read: one row per area, month and product.

CREATE TABLE geoetl.nightlight_monthly (
  area_id         bigint NOT NULL REFERENCES geoetl.area ON DELETE CASCADE,
  month           date NOT NULL CHECK (month = date_trunc('month', month)::date),
  product         text NOT NULL REFERENCES geoetl.dataset ON UPDATE CASCADE,
  layer           text NOT NULL,
  threshold       float8 NOT NULL,
  options         jsonb NOT NULL DEFAULT '{}',
  days_in_month   int NOT NULL,
  days_with_data  int NOT NULL,
  coverage        float8,
  valid_area_km2  float8,
  sum_of_lights   float8,
  mean_radiance   float8,
  median_radiance float8,
  p90_radiance    float8,
  max_radiance    float8,
  stddev_radiance float8,
  lit_share       float8,
  lit_area_km2    float8,
  tiles_used      text[] NOT NULL,
  tiles_missing   text[] NOT NULL,
  files_invalid   text[] NOT NULL,
  inputs          text NOT NULL,
  computed_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (area_id, month, product)
);
SELECT pg_catalog.pg_extension_config_dump('geoetl.nightlight_monthly', '');
COMMENT ON TABLE geoetl.nightlight_monthly IS
  'Monthly night-light metrics per area and product (written by geoetl.refresh_nightlights); '
  'deleting an area deletes its rows';
COMMENT ON COLUMN geoetl.nightlight_monthly.area_id IS 'The area (geoetl.area)';
COMMENT ON COLUMN geoetl.nightlight_monthly.month IS 'First day of the month';
COMMENT ON COLUMN geoetl.nightlight_monthly.product IS 'The product (geoetl.dataset): daily nights composited, or a monthly composite';
COMMENT ON COLUMN geoetl.nightlight_monthly.layer IS 'The radiance layer read';
COMMENT ON COLUMN geoetl.nightlight_monthly.threshold IS 'Lit means radiance >= threshold (nW/cm2/sr)';
COMMENT ON COLUMN geoetl.nightlight_monthly.options IS 'The options of geoetl.nightlight_metrics used';
COMMENT ON COLUMN geoetl.nightlight_monthly.days_in_month IS 'Days in the month';
COMMENT ON COLUMN geoetl.nightlight_monthly.days_with_data IS 'Days with at least one usable granule over the area';
COMMENT ON COLUMN geoetl.nightlight_monthly.coverage IS 'Valid pixel-nights / all pixel-nights inside the area (area-weighted)';
COMMENT ON COLUMN geoetl.nightlight_monthly.valid_area_km2 IS 'Area with a valid composite, km2';
COMMENT ON COLUMN geoetl.nightlight_monthly.sum_of_lights IS 'Σ composite radiance x cell weight (nW/cm2/sr per 15" cell)';
COMMENT ON COLUMN geoetl.nightlight_monthly.mean_radiance IS 'Area-weighted mean of the composite (nW/cm2/sr)';
COMMENT ON COLUMN geoetl.nightlight_monthly.median_radiance IS 'Area-weighted median of the composite';
COMMENT ON COLUMN geoetl.nightlight_monthly.p90_radiance IS 'Area-weighted 90th percentile of the composite';
COMMENT ON COLUMN geoetl.nightlight_monthly.max_radiance IS 'Brightest composite pixel touching the area';
COMMENT ON COLUMN geoetl.nightlight_monthly.stddev_radiance IS 'Area-weighted population standard deviation';
COMMENT ON COLUMN geoetl.nightlight_monthly.lit_share IS 'Share of the valid area that is lit';
COMMENT ON COLUMN geoetl.nightlight_monthly.lit_area_km2 IS 'Lit area, km2';
COMMENT ON COLUMN geoetl.nightlight_monthly.tiles_used IS 'Tiles with usable granules';
COMMENT ON COLUMN geoetl.nightlight_monthly.tiles_missing IS 'Tiles the area covers without any usable granule';
COMMENT ON COLUMN geoetl.nightlight_monthly.files_invalid IS 'Granules of the month that could not be used, with the reason';
COMMENT ON COLUMN geoetl.nightlight_monthly.inputs IS 'Fingerprint of the granules and (normalised) parameters behind the row';
COMMENT ON COLUMN geoetl.nightlight_monthly.computed_at IS 'When the row last changed';
COMMENT ON INDEX geoetl.nightlight_monthly_pkey IS 'One row per area, month and product';

-- What a month's result depends on: the granules (and invalid files) of the tiles the area
-- covers, and the parameters, options normalised (so that '{}' and '{"composite": "mean"}',
-- which compute the same, fingerprint the same). Equal fingerprints mean an unchanged result.
CREATE FUNCTION geoetl._nightlight_inputs(area_id bigint, month date, product text, threshold float8,
                                          options jsonb)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
  normalised jsonb := geoetl._nightlight_options(options, (geoetl._nightlight_product(product)).default_layer);
  area_geom geometry := (SELECT a.geom FROM geoetl.area a WHERE a.area_id = _nightlight_inputs.area_id);
  touched text[] := geoetl._tiles_of(area_geom);  -- once: it intersects polygons
BEGIN
  RETURN md5(concat_ws('|', threshold::text, normalised::text, area_geom::text,
           (SELECT string_agg(r.uri || ':' || r.production || ':' || r.bytes, ',' ORDER BY r.uri)
              FROM geoetl._month_granules(product, month, touched) r),
           (SELECT string_agg(i.uri || ':' || i.reason, ',' ORDER BY i.uri)
              FROM geoetl._month_invalid_granules(product, month, touched) i)));
END
$$;
COMMENT ON FUNCTION geoetl._nightlight_inputs(bigint, date, text, float8, jsonb) IS
  'Internal: fingerprint of what a month''s night-light result depends on';

-- The area exists and to_month is not before from_month (any day means its month).
CREATE FUNCTION geoetl._check_area_months(area_id bigint, from_month date, to_month date)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM geoetl.area a WHERE a.area_id = _check_area_months.area_id) THEN
    RAISE EXCEPTION 'area % does not exist', area_id USING ERRCODE = 'no_data_found';
  END IF;
  PERFORM geoetl._check_dates('from_month and to_month', from_month, to_month);
  IF date_trunc('month', to_month) < date_trunc('month', from_month) THEN
    RAISE EXCEPTION 'to_month % is before from_month %', to_month, from_month
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._check_area_months(bigint, date, date) IS
  'Raises when the area does not exist, a month is infinite or outside the Black Marble record, or '
  'to_month is before from_month';

CREATE FUNCTION geoetl.refresh_nightlights(area_id bigint, from_month date, to_month date,
                                           product text DEFAULT 'VNP46A2', threshold float8 DEFAULT 0.5,
                                           options jsonb DEFAULT '{}')
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  m date;
  fp text;
  r geoetl.nightlight_metrics_result;
  changed int;
  n int := 0;
  months int;
  done int := 0;
BEGIN
  IF area_id IS NULL OR from_month IS NULL OR to_month IS NULL OR product IS NULL OR threshold IS NULL OR options IS NULL THEN
    RAISE EXCEPTION 'area_id, from_month, to_month, product, threshold and options must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM geoetl._check_area_months(area_id, from_month, to_month);
  months := (extract(year FROM age(date_trunc('month', to_month), date_trunc('month', from_month))) * 12
             + extract(month FROM age(date_trunc('month', to_month), date_trunc('month', from_month))) + 1)::int;
  FOR m IN SELECT g::date FROM generate_series(date_trunc('month', from_month), date_trunc('month', to_month), interval '1 month') g LOOP
    done := done + 1;
    PERFORM geoetl.report_progress(format('area %s: month %s, %s of %s months', area_id, to_char(m, 'YYYY-MM'), done, months));
    fp := geoetl._nightlight_inputs(area_id, m, product, threshold, options);
    CONTINUE WHEN EXISTS (SELECT 1 FROM geoetl.nightlight_monthly x
                           WHERE x.area_id = refresh_nightlights.area_id AND x.month = m
                             AND x.product = refresh_nightlights.product AND x.inputs = fp);
    r := geoetl.nightlight_metrics(area_id, m, product, threshold, options);
    INSERT INTO geoetl.nightlight_monthly AS x
      (area_id, month, product, layer, threshold, options, days_in_month, days_with_data, coverage,
       valid_area_km2, sum_of_lights, mean_radiance, median_radiance, p90_radiance, max_radiance,
       stddev_radiance, lit_share, lit_area_km2, tiles_used, tiles_missing, files_invalid, inputs)
    VALUES (r.area_id, r.month, r.product, r.layer, r.threshold, options, r.days_in_month, r.days_with_data,
            r.coverage, r.valid_area_km2, r.sum_of_lights, r.mean_radiance, r.median_radiance,
            r.p90_radiance, r.max_radiance, r.stddev_radiance, r.lit_share, r.lit_area_km2,
            r.tiles_used, r.tiles_missing, r.files_invalid, fp)
    ON CONFLICT ON CONSTRAINT nightlight_monthly_pkey DO UPDATE
       SET layer = EXCLUDED.layer, threshold = EXCLUDED.threshold, options = EXCLUDED.options,
           days_in_month = EXCLUDED.days_in_month, days_with_data = EXCLUDED.days_with_data,
           coverage = EXCLUDED.coverage, valid_area_km2 = EXCLUDED.valid_area_km2,
           sum_of_lights = EXCLUDED.sum_of_lights, mean_radiance = EXCLUDED.mean_radiance,
           median_radiance = EXCLUDED.median_radiance, p90_radiance = EXCLUDED.p90_radiance,
           max_radiance = EXCLUDED.max_radiance, stddev_radiance = EXCLUDED.stddev_radiance,
           lit_share = EXCLUDED.lit_share, lit_area_km2 = EXCLUDED.lit_area_km2,
           tiles_used = EXCLUDED.tiles_used, tiles_missing = EXCLUDED.tiles_missing,
           files_invalid = EXCLUDED.files_invalid, inputs = EXCLUDED.inputs, computed_at = now()
     WHERE x.inputs IS DISTINCT FROM EXCLUDED.inputs;
    GET DIAGNOSTICS changed = ROW_COUNT;
    n := n + changed;
  END LOOP;
  RETURN n;
END
$$;
COMMENT ON FUNCTION geoetl.refresh_nightlights(bigint, date, date, text, float8, jsonb) IS
  'Computes and upserts one geoetl.nightlight_monthly row per month from_month..to_month; a month whose '
  'granules and parameters did not change is skipped; returns the rows added or changed';

CREATE VIEW geoetl.nightlight_trend AS
SELECT n.area_id, a.name, n.month, n.product, n.days_with_data, n.coverage, n.sum_of_lights, n.lit_share,
       n.lit_area_km2,
       n.sum_of_lights - p.sum_of_lights AS sum_of_lights_mom,
       n.sum_of_lights / nullif(p.sum_of_lights, 0) - 1 AS sum_of_lights_mom_pct,
       n.sum_of_lights - y.sum_of_lights AS sum_of_lights_yoy,
       n.sum_of_lights / nullif(y.sum_of_lights, 0) - 1 AS sum_of_lights_yoy_pct,
       n.lit_share - p.lit_share AS lit_share_mom,
       n.lit_share - y.lit_share AS lit_share_yoy
  FROM geoetl.nightlight_monthly n
  JOIN geoetl.area a USING (area_id)
  LEFT JOIN geoetl.nightlight_monthly p
         ON p.area_id = n.area_id AND p.product = n.product AND p.month = (n.month - interval '1 month')::date
  LEFT JOIN geoetl.nightlight_monthly y
         ON y.area_id = n.area_id AND y.product = n.product AND y.month = (n.month - interval '1 year')::date;
COMMENT ON VIEW geoetl.nightlight_trend IS
  'Monthly night lights with area names and month-over-month (mom) and year-over-year (yoy) changes of '
  'sum_of_lights (absolute and relative) and lit_share (points); NULL where the earlier month is missing';
COMMENT ON COLUMN geoetl.nightlight_trend.area_id IS 'The area';
COMMENT ON COLUMN geoetl.nightlight_trend.name IS 'The area''s name';
COMMENT ON COLUMN geoetl.nightlight_trend.month IS 'First day of the month';
COMMENT ON COLUMN geoetl.nightlight_trend.product IS 'The product';
COMMENT ON COLUMN geoetl.nightlight_trend.days_with_data IS 'Days with data';
COMMENT ON COLUMN geoetl.nightlight_trend.coverage IS 'Valid pixel-night share';
COMMENT ON COLUMN geoetl.nightlight_trend.sum_of_lights IS 'Sum of lights';
COMMENT ON COLUMN geoetl.nightlight_trend.lit_share IS 'Lit share';
COMMENT ON COLUMN geoetl.nightlight_trend.lit_area_km2 IS 'Lit area, km2';
COMMENT ON COLUMN geoetl.nightlight_trend.sum_of_lights_mom IS 'Change of sum_of_lights since the month before';
COMMENT ON COLUMN geoetl.nightlight_trend.sum_of_lights_mom_pct IS 'Relative change since the month before (0.1 = +10%)';
COMMENT ON COLUMN geoetl.nightlight_trend.sum_of_lights_yoy IS 'Change of sum_of_lights since the same month a year before';
COMMENT ON COLUMN geoetl.nightlight_trend.sum_of_lights_yoy_pct IS 'Relative change since a year before';
COMMENT ON COLUMN geoetl.nightlight_trend.lit_share_mom IS 'Change of lit_share since the month before';
COMMENT ON COLUMN geoetl.nightlight_trend.lit_share_yoy IS 'Change of lit_share since a year before';

-- The job kind nightlight_month, and enqueueing it month by month.
-- {"area_id": 3, "month": "2024-05-01", "to_month": (optional, for a range), "product": "VNP46A2",
--  "threshold": 0.5, "options": {}} -> {"from_month", "to_month", "rows_changed": n}
CREATE FUNCTION geoetl._job_nightlight_month(args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  unknown text := (SELECT string_agg(k, ', ') FROM jsonb_object_keys(args) k
                    WHERE k NOT IN ('area_id', 'month', 'to_month', 'product', 'threshold', 'options'));
  from_month date := (args->>'month')::date;
  to_month date := coalesce((args->>'to_month')::date, from_month);
  changed int;
BEGIN
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'unknown argument(s) of a nightlight_month job: %', unknown
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Known: area_id, month, to_month, product, threshold, options.';
  END IF;
  IF args->'area_id' IS NULL OR from_month IS NULL THEN
    RAISE EXCEPTION 'a nightlight_month job needs area_id and month' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  changed := geoetl.refresh_nightlights((args->>'area_id')::bigint, from_month, to_month,
                                        coalesce(args->>'product', 'VNP46A2'),
                                        coalesce((args->>'threshold')::float8, 0.5),
                                        coalesce(args->'options', '{}'));
  RETURN jsonb_build_object('from_month', date_trunc('month', from_month)::date,
                            'to_month', date_trunc('month', to_month)::date, 'rows_changed', changed);
END
$$;
COMMENT ON FUNCTION geoetl._job_nightlight_month(jsonb) IS 'Handler of job kind nightlight_month: refresh_nightlights for args area_id, month[, to_month, product, threshold, options]';
INSERT INTO geoetl.job_kind (kind, handler, lease, max_attempts, description) VALUES
  ('nightlight_month', 'geoetl._job_nightlight_month(jsonb)', '30 minutes', 5,
   'Computes and upserts geoetl.nightlight_monthly for one area and month (or month..to_month) through refresh_nightlights');

CREATE FUNCTION geoetl.enqueue_nightlights(area_id bigint, from_month date, to_month date,
                                           product text DEFAULT 'VNP46A2', priority int DEFAULT 0)
RETURNS SETOF bigint LANGUAGE plpgsql AS $$
DECLARE
  m date;
BEGIN
  IF area_id IS NULL OR from_month IS NULL OR to_month IS NULL OR product IS NULL OR priority IS NULL THEN
    RAISE EXCEPTION 'area_id, from_month, to_month, product and priority must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM geoetl._check_area_months(area_id, from_month, to_month);
  IF geoetl._product_cadence(product) IS NULL THEN
    RAISE EXCEPTION 'unknown product "%"', product USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Known: ' || geoetl._product_names(', ') || '.';
  END IF;
  m := date_trunc('month', from_month);
  WHILE m <= to_month LOOP
    RETURN NEXT geoetl.enqueue('nightlight_month',
                               jsonb_build_object('area_id', area_id, 'month', m, 'product', product),
                               priority => priority,
                               dedupe_key => format('nightlight_month:%s:%s:%s', area_id, m, product));
    m := m + interval '1 month';
  END LOOP;
END
$$;
COMMENT ON FUNCTION geoetl.enqueue_nightlights(bigint, date, date, text, int) IS
  'Enqueues one nightlight_month job per month from_month..to_month for an area (deduplicated: a month '
  'already pending or running is not enqueued twice); returns the job ids';
