-- The built-in job kinds: night-light months and registering granules. Handlers take the job's
-- args and return what they did; their errors make the attempt fail (and retry).

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

-- {"product": "VNP46A2", "location": "/data/blackmarble"} -> {"registered": n}
CREATE FUNCTION geoetl._job_register_rasters(args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  IF args->>'product' IS NULL OR args->>'location' IS NULL THEN
    RAISE EXCEPTION 'a register_rasters job needs product and location' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  RETURN jsonb_build_object('registered', geoetl.register_rasters(args->>'product', args->>'location'));
END
$$;
COMMENT ON FUNCTION geoetl._job_register_rasters(jsonb) IS 'Handler of job kind register_rasters: register_rasters for args product, location';

INSERT INTO geoetl.job_kind (kind, handler, lease, max_attempts, description) VALUES
  ('nightlight_month', 'geoetl._job_nightlight_month(jsonb)', '30 minutes', 5,
   'Computes and upserts geoetl.nightlight_monthly for one area and month (or month..to_month) through refresh_nightlights'),
  ('register_rasters', 'geoetl._job_register_rasters(jsonb)', '30 minutes', 5,
   'Registers the granules of a product found in a folder (geoetl.register_rasters); admins only');

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
  IF NOT EXISTS (SELECT 1 FROM geoetl.dataset d WHERE d.product = enqueue_nightlights.product) THEN
    RAISE EXCEPTION 'unknown product "%"', product USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Known: ' || (SELECT string_agg(d.product, ', ' ORDER BY d.product) FROM geoetl.dataset d) || '.';
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
