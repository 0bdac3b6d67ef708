-- Monthly composites kept: the month's quality-masked composite radiance of one Black Marble tile
-- (the rules and options of nightlight_metrics, checked by the same _nightlight_options) as a
-- Cloud-Optimized GeoTIFF in the store, recorded with its inputs' fingerprint so that an
-- unchanged month is not written again. The map tiles are rendered from them (64_tiles.sql).

CREATE TABLE geoetl.composite (
  product       text NOT NULL REFERENCES geoetl.dataset,
  month         date NOT NULL CHECK (month = date_trunc('month', month)),
  tile          text NOT NULL CHECK (tile ~ '^h([0-2][0-9]|3[0-5])v(0[0-9]|1[0-7])$'),
  key           text NOT NULL,
  uri           text NOT NULL,
  options       jsonb NOT NULL,
  inputs        text NOT NULL,
  bytes         bigint NOT NULL,
  sha256        text NOT NULL,
  tile_size     int NOT NULL,
  valid_pixels  bigint NOT NULL,
  files_used    text[] NOT NULL,
  files_invalid text[] NOT NULL,
  saved_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (product, month, tile)
);
SELECT pg_catalog.pg_extension_config_dump('geoetl.composite', '');
COMMENT ON TABLE geoetl.composite IS
  'Monthly composites of Black Marble tiles kept in the store (written by geoetl.save_composite)';
COMMENT ON COLUMN geoetl.composite.product IS 'The product (VNP46A2 nights composited, or VNP46A3)';
COMMENT ON COLUMN geoetl.composite.month IS 'First day of the month';
COMMENT ON COLUMN geoetl.composite.tile IS 'The Black Marble tile, e.g. h21v08';
COMMENT ON COLUMN geoetl.composite.key IS 'Its key in the store: composites/<product>/<YYYY-MM>/<product>.<YYYY-MM>.<tile>.tif';
COMMENT ON COLUMN geoetl.composite.uri IS 'Where it is (a local path, or s3://bucket/prefix/key)';
COMMENT ON COLUMN geoetl.composite.options IS 'The options of nightlight_metrics it was made with, normalised';
COMMENT ON COLUMN geoetl.composite.inputs IS 'Fingerprint of the granules and options behind it';
COMMENT ON COLUMN geoetl.composite.bytes IS 'Size of the file';
COMMENT ON COLUMN geoetl.composite.sha256 IS 'SHA-256 of the file (lower-case hex)';
COMMENT ON COLUMN geoetl.composite.tile_size IS 'Pixels per side (2400 for 15 arc-seconds)';
COMMENT ON COLUMN geoetl.composite.valid_pixels IS 'Pixels with a composite value (the others are NaN: no valid night)';
COMMENT ON COLUMN geoetl.composite.files_used IS 'The granules it was made of';
COMMENT ON COLUMN geoetl.composite.files_invalid IS 'Granules of the month that could not be read, with the reason';
COMMENT ON COLUMN geoetl.composite.saved_at IS 'When the file was last written';
COMMENT ON INDEX geoetl.composite_pkey IS 'One composite per product, month and tile';

-- The product and month of a composite or a map, checked: 22004 for NULLs, 22023 for another
-- product or a month outside the record.
CREATE FUNCTION geoetl._check_composite_month(product text, month date) RETURNS date LANGUAGE plpgsql AS $$
BEGIN
  IF product IS NULL OR month IS NULL THEN
    RAISE EXCEPTION 'product and month must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF coalesce(geoetl._product_cadence(product), '') NOT IN ('daily', 'monthly') THEN
    RAISE EXCEPTION 'composites are made of %, not "%"', geoetl._product_names(' or ', ARRAY['daily', 'monthly']), product
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM geoetl._check_dates('month', month, month);
  RETURN date_trunc('month', month)::date;
END
$$;
COMMENT ON FUNCTION geoetl._check_composite_month(text, date) IS
  'Internal: the first day of a map''s month, after checking the product and the month';

CREATE TYPE geoetl._saved_composite AS (
  uri text, bytes bigint, sha256 text, tile_size int, valid_pixels bigint, files_used text[],
  files_invalid text[]);
COMMENT ON TYPE geoetl._saved_composite IS 'Internal: what geoetl._save_composite returns';

CREATE FUNCTION geoetl._save_composite(uris text[], key text, layer text, quality int[], cloud boolean,
                                       snow boolean, negative text, min_valid_nights int, median boolean)
RETURNS geoetl._saved_composite
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'geoetl_save_composite';
COMMENT ON FUNCTION geoetl._save_composite(text[], text, text, int[], boolean, boolean, text, int, boolean) IS
  'Internal: the whole-tile composite of the given granules (one tile) written to the store as key '
  '(following the transaction)';

-- {"uri", "written": whether the file was (re)written}. The work of save_composite and of the
-- render jobs, which also want to know what changed.
CREATE FUNCTION geoetl._save_composite_month(product text, month date, tile text, options jsonb)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  m date;
  opts jsonb;
  k text;
  uris text[];
  fp text;
  s geoetl._saved_composite;
BEGIN
  IF product IS NULL OR month IS NULL OR tile IS NULL OR options IS NULL THEN
    RAISE EXCEPTION 'product, month, tile and options must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  m := geoetl._check_composite_month(product, month);
  IF (geoetl._tile_hv(tile)).h IS NULL THEN
    RAISE EXCEPTION 'tile must name a Black Marble tile (h00v00 .. h35v17), not "%"', tile
      USING ERRCODE = 'invalid_parameter_value', HINT = 'For example h21v08: column 21, row 8 of the 10-degree grid.';
  END IF;
  opts := geoetl._nightlight_options(options, (SELECT d.default_layer FROM geoetl.dataset d WHERE d.product = _save_composite_month.product));
  k := format('composites/%1$s/%2$s/%1$s.%2$s.%3$s.tif', product, to_char(m, 'YYYY-MM'), tile);
  -- one writer of a tile-month at a time; the second then finds the first one's row
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('geoetl.composite:' || k, 0));
  SELECT array_agg(r.uri ORDER BY r.date, r.uri) INTO uris FROM geoetl._month_granules(product, m, ARRAY[tile]) r;
  IF uris IS NULL THEN
    RAISE EXCEPTION 'no granules of % for tile % in %', product, tile, to_char(m, 'YYYY-MM')
      USING ERRCODE = 'no_data_found',
            HINT = 'Register them with geoetl.register_rasters or fetch them with geoetl.fetch_blackmarble.';
  END IF;
  fp := md5(concat_ws('|', opts::text,
         (SELECT string_agg(r.uri || ':' || r.production || ':' || r.bytes::text, ',' ORDER BY r.uri)
            FROM geoetl._month_granules(product, m, ARRAY[tile]) r),
         (SELECT string_agg(i.uri || ':' || i.reason, ',' ORDER BY i.uri)
            FROM geoetl._month_invalid_granules(product, m, ARRAY[tile]) i)));
  IF EXISTS (SELECT 1 FROM geoetl.composite c, geoetl.store_list(k) o
              WHERE c.product = _save_composite_month.product AND c.month = m AND c.tile = _save_composite_month.tile
                AND c.inputs = fp AND o.key = k AND o.size = c.bytes) THEN
    RETURN jsonb_build_object('uri', (SELECT c.uri FROM geoetl.composite c
                                       WHERE c.product = _save_composite_month.product AND c.month = m
                                         AND c.tile = _save_composite_month.tile),
                              'written', false);
  END IF;
  s := geoetl._save_composite(uris, k, opts->>'layer',
         ARRAY(SELECT jsonb_array_elements_text(opts->'quality')::int),
         (opts->>'cloud')::boolean, (opts->>'snow')::boolean, opts->>'negative',
         (opts->>'min_valid_nights')::int, opts->>'composite' = 'median');
  INSERT INTO geoetl.composite AS c (product, month, tile, key, uri, options, inputs, bytes, sha256, tile_size,
                                     valid_pixels, files_used, files_invalid)
  VALUES (product, m, tile, k, s.uri, opts, fp, s.bytes, s.sha256, s.tile_size, s.valid_pixels, s.files_used,
          s.files_invalid || ARRAY(SELECT i.uri || ': ' || i.reason
                                     FROM geoetl._month_invalid_granules(product, m, ARRAY[tile]) i ORDER BY i.uri))
  ON CONFLICT ON CONSTRAINT composite_pkey DO UPDATE
     SET key = EXCLUDED.key, uri = EXCLUDED.uri, options = EXCLUDED.options, inputs = EXCLUDED.inputs,
         bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256, tile_size = EXCLUDED.tile_size,
         valid_pixels = EXCLUDED.valid_pixels, files_used = EXCLUDED.files_used,
         files_invalid = EXCLUDED.files_invalid, saved_at = now();
  RETURN jsonb_build_object('uri', s.uri, 'written', true);
END
$$;
COMMENT ON FUNCTION geoetl._save_composite_month(text, date, text, jsonb) IS
  'Internal: save_composite, returning {"uri", "written"} (false when the month was unchanged)';

CREATE FUNCTION geoetl.save_composite(product text, month date, tile text, options jsonb DEFAULT '{}')
RETURNS text LANGUAGE sql AS $$
  SELECT geoetl._save_composite_month(product, month, tile, options)->>'uri'
$$;
COMMENT ON FUNCTION geoetl.save_composite(text, date, text, jsonb) IS
  'Writes the month''s quality-masked composite radiance of one Black Marble tile to the store as a '
  'Cloud-Optimized GeoTIFF (Float32, NaN where no valid night, EPSG:4326, with overviews) at '
  'composites/<product>/<YYYY-MM>/<product>.<YYYY-MM>.<tile>.tif, with the rules and options of '
  'nightlight_metrics; returns its URI. An unchanged month (same granules and options) is not written again';

-- The job kind save_composite: {"product", "month", "tile"[, "options"]} -> {"uri", "written"}
CREATE FUNCTION geoetl._job_save_composite(args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  unknown text := (SELECT string_agg(k, ', ') FROM jsonb_object_keys(args) k
                    WHERE k NOT IN ('product', 'month', 'tile', 'options'));
BEGIN
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'unknown argument(s) of a save_composite job: %', unknown
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Known: product, month, tile, options.';
  END IF;
  RETURN geoetl._save_composite_month(coalesce(args->>'product', 'VNP46A2'), (args->>'month')::date,
                                      args->>'tile', coalesce(args->'options', '{}'));
END
$$;
COMMENT ON FUNCTION geoetl._job_save_composite(jsonb) IS
  'Handler of job kind save_composite: save_composite for args product, month, tile[, options]';
INSERT INTO geoetl.job_kind (kind, handler, lease, max_attempts, backoff, description) VALUES
  ('save_composite', 'geoetl._job_save_composite(jsonb)', '30 minutes', 3, '1 minute',
   'Writes one tile''s monthly composite to the store (geoetl.save_composite)');
