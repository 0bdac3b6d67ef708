-- Night-light metrics: one month of Black Marble for one area.

CREATE TYPE geoetl.nightlight_metrics_result AS (
  area_id          bigint,
  month            date,
  product          text,
  layer            text,
  threshold        float8,
  days_in_month    int,
  days_with_data   int,
  coverage         float8,
  valid_area_km2   float8,
  sum_of_lights    float8,
  mean_radiance    float8,
  median_radiance  float8,
  p90_radiance     float8,
  max_radiance     float8,
  stddev_radiance  float8,
  lit_share        float8,
  lit_area_km2     float8,
  tiles_used       text[],
  tiles_missing    text[],
  files_invalid    text[]
);
COMMENT ON TYPE geoetl.nightlight_metrics_result IS
  'One month of night-light metrics for one area (see geoetl.nightlight_metrics)';

CREATE TYPE geoetl._nightlight_stats AS (
  files_used text[], files_invalid text[], weight float8, count float8, sum float8, mean float8,
  median float8, p90 float8, max float8, stddev float8, lit_share float8, valid_area_km2 float8,
  lit_area_km2 float8, night_weight float8);
COMMENT ON TYPE geoetl._nightlight_stats IS 'Internal: what geoetl._nightlight_stats returns';

CREATE FUNCTION geoetl._nightlight_stats(geom geometry, uris text[], threshold float8, layer text,
                                         quality int[], cloud boolean, snow boolean, negative text,
                                         min_valid_nights int, median boolean, coverage text)
RETURNS geoetl._nightlight_stats
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'geoetl_nightlight_stats';
COMMENT ON FUNCTION geoetl._nightlight_stats(geometry, text[], float8, text, int[], boolean, boolean, text, int, boolean, text) IS
  'Internal: composite and zonal statistics of the given granules inside a WGS 84 polygon';

-- Geometry arguments: their type named as a user knows it ("a CurvePolygon"), what to do instead
-- of a polygon, and an SRID PostGIS knows (an unknown one would fail inside ST_Transform).
CREATE FUNCTION geoetl._geometry_type_name(geom geometry) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN t ~* '^[aeiou]' THEN 'an ' ELSE 'a ' END || t
    FROM substr(ST_GeometryType(geom), 4) t
$$;
COMMENT ON FUNCTION geoetl._geometry_type_name(geometry) IS
  'Internal: a geometry''s type with its article, for messages (a Point, a CurvePolygon)';

CREATE FUNCTION geoetl._polygon_hint(geom geometry) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN GeometryType(geom) = 'GEOMETRYCOLLECTION' THEN 'Take its polygons with ST_CollectionExtract(geom, 3).'
              WHEN ST_HasArc(geom) OR GeometryType(geom) IN ('CURVEPOLYGON', 'MULTISURFACE', 'COMPOUNDCURVE', 'MULTICURVE')
                THEN 'Turn its curves into lines first, e.g. with ST_CurveToLine(geom).'
              WHEN GeometryType(geom) IN ('POLYHEDRALSURFACE', 'TIN', 'TRIANGLE') THEN 'Take its polygons first, e.g. with ST_Dump(geom).'
              ELSE 'Buffer points and lines into polygons first, e.g. with ST_Buffer.' END
$$;
COMMENT ON FUNCTION geoetl._polygon_hint(geometry) IS
  'Internal: what to do with a geometry where a polygon is needed';

CREATE FUNCTION geoetl._check_srid(geom geometry, srid_0 text) RETURNS void LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF ST_SRID(geom) <> 0 AND NOT EXISTS (SELECT 1 FROM spatial_ref_sys s WHERE s.srid = ST_SRID(geom)) THEN
    RAISE EXCEPTION 'SRID % is not in spatial_ref_sys', ST_SRID(geom) USING ERRCODE = 'invalid_parameter_value',
      HINT = format('Use a known SRID, or %s.', srid_0);
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._check_srid(geometry, text) IS
  'Internal: raises 22023 when a geometry''s SRID is not in spatial_ref_sys (srid_0 says what SRID 0 means)';

-- Dates of Black Marble calls: the record starts with VIIRS on Suomi NPP in January 2012 and a
-- call may reach a year ahead at most; infinite dates are refused (a loop over their months or
-- days would never end).
CREATE FUNCTION geoetl._check_dates(what text, from_date date, to_date date) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
  first date := '2012-01-01';
  last date := (date_trunc('month', now()) + interval '13 months - 1 day')::date;
BEGIN
  IF NOT isfinite(from_date) OR NOT isfinite(to_date) OR from_date < first OR to_date > last THEN
    RAISE EXCEPTION '% must lie between January 2012 and a year from now, not %', what,
      concat_ws(' .. ', CASE WHEN isfinite(from_date) THEN to_char(from_date, 'YYYY-MM-DD') ELSE from_date::text END,
                CASE WHEN to_date IS DISTINCT FROM from_date THEN
                  CASE WHEN isfinite(to_date) THEN to_char(to_date, 'YYYY-MM-DD') ELSE to_date::text END END)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Black Marble (VIIRS on Suomi NPP) begins in January 2012, and a call reaches a year '
                   'ahead at most; infinite dates are not allowed.';
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._check_dates(text, date, date) IS
  'Internal: raises 22023 unless the dates are finite, from January 2012 to a year ahead';

-- The products nightlight_metrics reads: the daily and monthly ones of geoetl.dataset.
CREATE FUNCTION geoetl._nightlight_product(product text) RETURNS geoetl.dataset
LANGUAGE plpgsql STABLE AS $$
DECLARE
  product_info geoetl.dataset;
BEGIN
  SELECT * INTO product_info FROM geoetl.dataset d
   WHERE d.product = _nightlight_product.product AND d.cadence IN ('daily', 'monthly');
  IF NOT FOUND THEN
    RAISE EXCEPTION 'nightlight_metrics reads %, not "%"', geoetl._product_names(' or ', ARRAY['daily', 'monthly']),
      product USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN product_info;
END
$$;
COMMENT ON FUNCTION geoetl._nightlight_product(text) IS
  'Internal: the geoetl.dataset row of a product nightlight_metrics reads (daily or monthly); raises 22023 otherwise';

-- The options of nightlight_metrics, checked and normalised in this one place: every option
-- present with its default filled in (layer: the product's default layer), JSON null meaning
-- the default, quality flags sorted without repeats. Options that compute the same result
-- normalise to the same object (the result fingerprint relies on it).
CREATE FUNCTION geoetl._nightlight_options(options jsonb, default_layer text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  given jsonb := coalesce(options, '{}');
  unknown text;
  bad_value boolean;
BEGIN
  IF jsonb_typeof(given) <> 'object' THEN
    RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT string_agg(k, ', ') INTO unknown FROM jsonb_object_keys(given) k
   WHERE k NOT IN ('layer', 'composite', 'quality', 'cloud', 'snow', 'negative', 'min_valid_nights', 'coverage');
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'unknown option(s): %', unknown USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Options: layer, composite (mean|median), quality (array of flags), cloud, snow (true|false), '
             'negative (clamp|keep|drop), min_valid_nights (>= 1), coverage (exact|center|touched).';
  END IF;
  given := jsonb_strip_nulls(given);
  bad_value := coalesce(given->>'composite', 'mean') NOT IN ('mean', 'median')
     OR coalesce(given->>'negative', 'clamp') NOT IN ('clamp', 'keep', 'drop')
     OR coalesce(given->>'coverage', 'exact') NOT IN ('exact', 'center', 'touched')
     OR coalesce(jsonb_typeof(given->'composite'), 'string') <> 'string'
     OR coalesce(jsonb_typeof(given->'negative'), 'string') <> 'string'
     OR coalesce(jsonb_typeof(given->'coverage'), 'string') <> 'string'
     OR coalesce(jsonb_typeof(given->'layer'), 'string') <> 'string' OR btrim(given->>'layer') = ''
     OR coalesce(jsonb_typeof(given->'cloud'), 'boolean') <> 'boolean'
     OR coalesce(jsonb_typeof(given->'snow'), 'boolean') <> 'boolean'
     OR CASE coalesce(jsonb_typeof(given->'min_valid_nights'), 'absent')
          WHEN 'absent' THEN false
          WHEN 'number' THEN NOT (given->'min_valid_nights')::numeric BETWEEN 1 AND 2147483647
                          OR (given->'min_valid_nights')::numeric <> trunc((given->'min_valid_nights')::numeric)
          ELSE true END
     OR coalesce(jsonb_typeof(given->'quality'), 'array') <> 'array'
     OR jsonb_path_exists(coalesce(given->'quality', '[]'),
                          'strict $[*] ? (@.type() != "number" || @ < 0 || @ > 255 || @.floor() != @)');
  IF bad_value THEN
    RAISE EXCEPTION 'invalid options: %', options USING ERRCODE = 'invalid_parameter_value',
      HINT = 'layer is a layer''s name (leave it out for the product''s default); composite is mean or '
             'median; negative clamp, keep or drop; quality an array of flags (whole numbers 0-255); '
             'cloud and snow true or false; min_valid_nights a whole number >= 1; coverage exact, '
             'center or touched.';
  END IF;
  RETURN jsonb_build_object(
    'layer', coalesce(given->>'layer', default_layer),
    'composite', coalesce(given->>'composite', 'mean'),
    'quality', coalesce((SELECT jsonb_agg(DISTINCT e::numeric::int ORDER BY e::numeric::int)
                           FROM jsonb_array_elements(given->'quality') e),
                        CASE WHEN given ? 'quality' THEN '[]' ELSE '[0, 1]' END::jsonb),
    'cloud', coalesce((given->'cloud')::boolean, true),
    'snow', coalesce((given->'snow')::boolean, true),
    'negative', coalesce(given->>'negative', 'clamp'),
    'min_valid_nights', coalesce((given->'min_valid_nights')::numeric::int, 1),
    'coverage', coalesce(given->>'coverage', 'exact'));
END
$$;
COMMENT ON FUNCTION geoetl._nightlight_options(jsonb, text) IS
  'Internal: the options of nightlight_metrics checked (22023 with a hint on an unknown key or a bad '
  'value) and normalised: every option present, defaults filled in (layer: the given default layer)';

CREATE FUNCTION geoetl.nightlight_metrics(geom geometry, month date, product text DEFAULT 'VNP46A2',
                                          threshold float8 DEFAULT 0.5, options jsonb DEFAULT '{}')
RETURNS geoetl.nightlight_metrics_result
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
  month_start date;
  wgs84 geometry;
  product_info geoetl.dataset;
  result geoetl.nightlight_metrics_result;
  stats geoetl._nightlight_stats;
  opts jsonb;  -- normalised: every option present
  bad text;
  touched text[];
  uris text[];
  daily boolean;
BEGIN
  IF geom IS NULL OR month IS NULL OR product IS NULL THEN
    RAISE EXCEPTION 'geom, month and product must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM geoetl._check_dates('month', month, month);
  product_info := geoetl._nightlight_product(product);
  opts := geoetl._nightlight_options(options, product_info.default_layer);
  IF GeometryType(geom) NOT IN ('POLYGON', 'MULTIPOLYGON') THEN
    RAISE EXCEPTION 'nightlight_metrics needs a Polygon or MultiPolygon, not %', geoetl._geometry_type_name(geom)
      USING ERRCODE = 'invalid_parameter_value', HINT = geoetl._polygon_hint(geom);
  END IF;
  PERFORM geoetl._check_srid(geom, 'SRID 0 for WGS 84 longitude/latitude');
  SELECT v.reason INTO bad FROM ST_IsValidDetail(geom) v WHERE NOT v.valid;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'invalid geometry' USING ERRCODE = 'invalid_parameter_value', DETAIL = bad,
      HINT = 'Repair it first, e.g. with ST_MakeValid(geom).';
  END IF;
  month_start := date_trunc('month', month)::date;  -- any day of the month means that month
  daily := product_info.cadence = 'daily';
  wgs84 := geoetl._check_coordinates(CASE ST_SRID(geom) WHEN 0 THEN ST_SetSRID(geom, 4326) ELSE geom END,
                                 'the geometry');
  IF ST_SRID(wgs84) <> 4326 THEN
    wgs84 := ST_Transform(wgs84, 4326);
  END IF;
  IF ST_XMin(wgs84) < -180 OR ST_XMax(wgs84) > 180 OR ST_YMin(wgs84) < -90 OR ST_YMax(wgs84) > 90 THEN
    RAISE EXCEPTION 'geom has coordinates outside longitude -180..180 / latitude -90..90'
      USING ERRCODE = 'invalid_parameter_value', DETAIL = format('Bounding box in WGS 84: %s.', Box2D(wgs84)),
            HINT = 'Coordinates are longitude, latitude in WGS 84 (or give the geometry its SRID): check for '
                   'swapped axes or projected coordinates.';
  END IF;
  touched := geoetl._tiles_of(wgs84);
  SELECT coalesce(array_agg(x.uri ORDER BY x.date, x.tile_v, x.tile_h), '{}') INTO uris
    FROM geoetl._month_granules(product_info.product, month_start, touched) x;
  stats := geoetl._nightlight_stats(wgs84, uris, threshold, opts->>'layer',
         ARRAY(SELECT jsonb_array_elements_text(opts->'quality')::int),
         (opts->>'cloud')::boolean, (opts->>'snow')::boolean, opts->>'negative',
         (opts->>'min_valid_nights')::int, opts->>'composite' = 'median', opts->>'coverage');
  result.month := month_start;
  result.product := product_info.product;
  result.layer := opts->>'layer';
  result.threshold := threshold;
  result.days_in_month := extract(day FROM month_start + interval '1 month' - interval '1 day');
  SELECT count(DISTINCT x.date) INTO result.days_with_data
    FROM geoetl.raster x WHERE x.uri = ANY (stats.files_used);
  IF NOT daily AND result.days_with_data > 0 THEN result.days_with_data := result.days_in_month; END IF;
  -- a share: rounding in the two weighted sums must not push it past 1
  result.coverage := CASE WHEN stats.weight > 0 THEN
                  least(1.0, CASE WHEN daily THEN stats.night_weight / (stats.weight * result.days_in_month)
                                  ELSE coalesce(stats.count, 0) / stats.weight END)
                END;
  IF result.days_with_data > 0 AND stats.count > 0 THEN
    result.valid_area_km2 := stats.valid_area_km2;
    result.sum_of_lights := stats.sum;
    result.mean_radiance := stats.mean;
    result.median_radiance := stats.median;
    result.p90_radiance := stats.p90;
    result.max_radiance := stats.max;
    result.stddev_radiance := stats.stddev;
    result.lit_share := stats.lit_share;
    result.lit_area_km2 := stats.lit_area_km2;
  END IF;
  SELECT coalesce(array_agg(DISTINCT geoetl._tile_name(x.tile_h, x.tile_v)), '{}')
    INTO result.tiles_used FROM geoetl.raster x WHERE x.uri = ANY (stats.files_used);
  result.tiles_missing := ARRAY(SELECT t FROM unnest(touched) t WHERE t <> ALL (result.tiles_used) ORDER BY t);
  result.files_invalid := stats.files_invalid || ARRAY(
    SELECT i.uri || ': ' || i.reason FROM geoetl._month_invalid_granules(product_info.product, month_start, touched) i
     ORDER BY i.uri);
  RETURN result;
END
$$;
COMMENT ON FUNCTION geoetl.nightlight_metrics(geometry, date, text, float8, jsonb) IS
  'One month of night-light metrics for a polygon (WGS 84; SRID 0 is taken as WGS 84) from the '
  'registered Black Marble granules: quality-masked composite, exact coverage weighting; missing '
  'tiles and invalid files are listed, not fatal';

CREATE FUNCTION geoetl.nightlight_metrics(area_id bigint, month date, product text DEFAULT 'VNP46A2',
                                          threshold float8 DEFAULT 0.5, options jsonb DEFAULT '{}')
RETURNS geoetl.nightlight_metrics_result
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  r geoetl.nightlight_metrics_result;
  g geometry;
BEGIN
  IF area_id IS NULL THEN
    RAISE EXCEPTION 'area_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT a.geom INTO g FROM geoetl.area a WHERE a.area_id = nightlight_metrics.area_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'area % does not exist', area_id USING ERRCODE = 'no_data_found',
      HINT = 'List the areas with: SELECT area_id, name FROM geoetl.area;';
  END IF;
  r := geoetl.nightlight_metrics(g, month, product, threshold, options);
  r.area_id := nightlight_metrics.area_id;
  RETURN r;
END
$$;
COMMENT ON FUNCTION geoetl.nightlight_metrics(bigint, date, text, float8, jsonb) IS
  'One month of night-light metrics for an area of geoetl.area (see the geometry form)';
