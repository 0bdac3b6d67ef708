-- Night-light map tiles: a month's composites (62_composite.sql) rendered as Web Mercator
-- (EPSG:3857) 256x256 RGBA PNG tiles, XYZ numbering, into the store (tiles/<product>/<YYYY-MM>/
-- {z}/{x}/{y}.png, or one PMTiles archive tiles/<product>/<YYYY-MM>.pmtiles) by jobs; one tile
-- rendered on demand (geoetl.tile); and what the viewer page reads (areas, series, months).

CREATE TABLE geoetl.tile_render (
  product     text NOT NULL REFERENCES geoetl.dataset,
  month       date NOT NULL CHECK (month = date_trunc('month', month)),
  format      text NOT NULL CHECK (format IN ('xyz', 'pmtiles')),
  area_id     bigint REFERENCES geoetl.area ON DELETE CASCADE,
  min_zoom    int NOT NULL,
  max_zoom    int NOT NULL,
  boxes       float8[] NOT NULL,
  key         text NOT NULL,
  inputs      text NOT NULL,
  tiles       bigint NOT NULL,
  written     bigint NOT NULL,
  empty       bigint NOT NULL,
  bytes       bigint NOT NULL,
  rendered_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tile_render_key ON geoetl.tile_render (product, month, format, coalesce(area_id, 0));
SELECT pg_catalog.pg_extension_config_dump('geoetl.tile_render', '');
COMMENT ON TABLE geoetl.tile_render IS
  'The map tiles rendered into the store per product, month, format and area (all of the product''s '
  'tiles when area_id is NULL), written by the render_tiles jobs';
COMMENT ON COLUMN geoetl.tile_render.product IS 'The product';
COMMENT ON COLUMN geoetl.tile_render.month IS 'First day of the month';
COMMENT ON COLUMN geoetl.tile_render.format IS 'xyz (one PNG file per tile) or pmtiles (one archive)';
COMMENT ON COLUMN geoetl.tile_render.area_id IS 'The area rendered, or NULL for every tile of the month';
COMMENT ON COLUMN geoetl.tile_render.min_zoom IS 'Lowest zoom rendered';
COMMENT ON COLUMN geoetl.tile_render.max_zoom IS 'Highest zoom rendered';
COMMENT ON COLUMN geoetl.tile_render.boxes IS '{west, south, east, north[, ...]} in degrees: the boxes whose tiles were rendered (each Black Marble tile''s, or the area''s)';
COMMENT ON COLUMN geoetl.tile_render.key IS 'Store key of the tiles: tiles/<product>/<YYYY-MM> (xyz, then /{z}/{x}/{y}.png) or tiles/<product>/<YYYY-MM>.pmtiles';
COMMENT ON COLUMN geoetl.tile_render.inputs IS 'Fingerprint of the composites and parameters behind the tiles';
COMMENT ON COLUMN geoetl.tile_render.tiles IS 'Tiles rendered';
COMMENT ON COLUMN geoetl.tile_render.written IS 'Tiles written by the last render that changed anything';
COMMENT ON COLUMN geoetl.tile_render.empty IS 'Tiles without light (no file in xyz; one shared transparent tile in pmtiles)';
COMMENT ON COLUMN geoetl.tile_render.bytes IS 'Bytes written by the last render that changed anything';
COMMENT ON COLUMN geoetl.tile_render.rendered_at IS 'When the tiles last changed';
COMMENT ON INDEX geoetl.tile_render_key IS 'One render per product, month, format and area';

CREATE TYPE geoetl._tile_counts AS (
  tiles bigint, written bigint, unchanged bigint, empty bigint, removed bigint, bytes bigint);
COMMENT ON TYPE geoetl._tile_counts IS 'Internal: what the tile renderers return';

-- boxes: {west, south, east, north[, west, south, east, north ...]} in degrees
CREATE FUNCTION geoetl._render_xyz(keys text[], prefix text, boxes float8[], z int)
RETURNS geoetl._tile_counts LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'geoetl_render_xyz';
COMMENT ON FUNCTION geoetl._render_xyz(text[], text, float8[], int) IS
  'Internal: the tiles of zoom z over the boxes rendered from the composites (store keys) into prefix/z/x/y.png';

CREATE FUNCTION geoetl._render_pmtiles(keys text[], key text, boxes float8[], min_zoom int, max_zoom int,
                                       metadata text)
RETURNS geoetl._tile_counts LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'geoetl_render_pmtiles';
COMMENT ON FUNCTION geoetl._render_pmtiles(text[], text, float8[], int, int, text) IS
  'Internal: the tiles of zooms min_zoom..max_zoom over the boxes in one PMTiles archive (following the transaction)';

CREATE FUNCTION geoetl._render_tile(keys text[], z int, x int, y int) RETURNS bytea
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'geoetl_render_tile';
COMMENT ON FUNCTION geoetl._render_tile(text[], int, int, int) IS
  'Internal: one tile rendered from the composites (store keys); NULL without light';

CREATE FUNCTION geoetl._tile_lonlat(z int, x int, y int) RETURNS float8[]
LANGUAGE C IMMUTABLE AS 'MODULE_PATHNAME', 'geoetl_tile_lonlat';
COMMENT ON FUNCTION geoetl._tile_lonlat(int, int, int) IS
  'Internal: an XYZ tile''s {west, south, east, north} in degrees';

CREATE FUNCTION geoetl._tile_count(boxes float8[], min_zoom int, max_zoom int) RETURNS bigint
LANGUAGE C IMMUTABLE AS 'MODULE_PATHNAME', 'geoetl_tile_count';
COMMENT ON FUNCTION geoetl._tile_count(float8[], int, int) IS
  'Internal: how many tiles of zooms min_zoom..max_zoom the boxes cover (an upper bound where they overlap)';

-- A Black Marble tile's box {west, south, east, north}.
CREATE FUNCTION geoetl._tile_box(tile text) RETURNS float8[] LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT ARRAY[-180 + 10 * t.h, 80 - 10 * t.v, -170 + 10 * t.h, 90 - 10 * t.v]::float8[] FROM geoetl._tile_hv(tile) t
$$;
COMMENT ON FUNCTION geoetl._tile_box(text) IS 'Internal: a Black Marble tile''s {west, south, east, north}';

-- The Black Marble tiles a render covers: those with granules in the month, under the area if one
-- is given.
CREATE FUNCTION geoetl._render_tiles_of(product text, month date, area_id bigint) RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(DISTINCT geoetl._tile_name(r.tile_h, r.tile_v)), '{}')
    FROM geoetl.raster r
   WHERE r.product = _render_tiles_of.product
     AND r.date >= month AND r.date < month + interval '1 month'
     AND (area_id IS NULL OR geoetl._tile_name(r.tile_h, r.tile_v) = ANY (
            geoetl._tiles_of((SELECT a.geom FROM geoetl.area a WHERE a.area_id = _render_tiles_of.area_id))))
$$;
COMMENT ON FUNCTION geoetl._render_tiles_of(text, date, bigint) IS
  'Internal: the tiles with granules in the month (under the area when given)';

-- The boxes a render covers: each Black Marble tile's with granules (tiles far apart leave the sea
-- between them out), or the area's.
CREATE FUNCTION geoetl._render_boxes(product text, month date, area_id bigint) RETURNS float8[]
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN area_id IS NULL THEN
           (SELECT array_agg(b.v ORDER BY u.t, b.i)
              FROM unnest(geoetl._render_tiles_of(product, month, NULL)) u(t),
                   unnest(geoetl._tile_box(u.t)) WITH ORDINALITY b(v, i))
         ELSE (SELECT ARRAY[ST_XMin(a.geom), ST_YMin(a.geom), ST_XMax(a.geom), ST_YMax(a.geom)]
                 FROM geoetl.area a WHERE a.area_id = _render_boxes.area_id) END
$$;
COMMENT ON FUNCTION geoetl._render_boxes(text, date, bigint) IS
  'Internal: {west, south, east, north, ...}: the boxes whose tiles a render covers';

CREATE FUNCTION geoetl.render_tiles(product text, month date, area_id bigint DEFAULT NULL,
                                    min_zoom int DEFAULT 0, max_zoom int DEFAULT 8, format text DEFAULT 'xyz')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  m date := geoetl._check_composite_month(product, month);
BEGIN
  IF min_zoom IS NULL OR max_zoom IS NULL OR format IS NULL THEN
    RAISE EXCEPTION 'min_zoom, max_zoom and format must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF format NOT IN ('xyz', 'pmtiles') THEN
    RAISE EXCEPTION 'format must be xyz or pmtiles, not "%"', format USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT (0 <= min_zoom AND min_zoom <= max_zoom AND max_zoom <= 16) THEN
    RAISE EXCEPTION 'zooms must satisfy 0 <= min_zoom <= max_zoom <= 16, not % .. %', min_zoom, max_zoom
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'The composites'' pixels are about zoom 8 (15 arc-seconds); zoom 16 shows each as 256 screen pixels.';
  END IF;
  IF area_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM geoetl.area a WHERE a.area_id = render_tiles.area_id) THEN
    RAISE EXCEPTION 'area % does not exist', area_id USING ERRCODE = 'no_data_found';
  END IF;
  IF cardinality(geoetl._render_tiles_of(product, m, area_id)) = 0 THEN
    RAISE EXCEPTION '%', format('no granules of %s in %s%s', product, to_char(m, 'YYYY-MM'),
                                CASE WHEN area_id IS NULL THEN '' ELSE format(' under area %s', area_id) END)
      USING ERRCODE = 'no_data_found',
            HINT = 'Register them with geoetl.register_rasters or fetch them with geoetl.fetch_blackmarble.';
  END IF;
  IF geoetl._tile_count(geoetl._render_boxes(product, m, area_id), min_zoom, max_zoom) > 1000000 THEN
    RAISE EXCEPTION 'render_tiles of % tiles is too big (at most 1,000,000)',
      geoetl._tile_count(geoetl._render_boxes(product, m, area_id), min_zoom, max_zoom)
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Render fewer zooms, or an area (area_id).';
  END IF;
  RETURN geoetl.enqueue('render_tiles',
    jsonb_build_object('product', product, 'month', m, 'area_id', area_id, 'min_zoom', min_zoom,
                       'max_zoom', max_zoom, 'format', format),
    dedupe_key => format('render_tiles:%s:%s:%s:%s:%s-%s', product, to_char(m, 'YYYY-MM'), format,
                         coalesce(area_id, 0), min_zoom, max_zoom));
END
$$;
COMMENT ON FUNCTION geoetl.render_tiles(text, date, bigint, int, int, text) IS
  'Enqueues the job that saves the month''s composites (all tiles of the product, or those under an '
  'area) and renders them as map tiles into the store: XYZ PNG files at tiles/<product>/<YYYY-MM>/'
  '{z}/{x}/{y}.png, or one PMTiles archive tiles/<product>/<YYYY-MM>.pmtiles; returns the job id. '
  'An unchanged month writes nothing';

-- The job kind render_tiles: {"product", "month", "area_id", "min_zoom", "max_zoom", "format"}
--   -> {"composites_written", "skipped" (true: nothing changed since the last render, nothing
--   written), "tiles", "written", "unchanged", "empty", "removed", "bytes", "key"}
CREATE FUNCTION geoetl._render_month(args jsonb) RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  unknown text := (SELECT string_agg(k, ', ') FROM jsonb_object_keys(args) k
                    WHERE k NOT IN ('product', 'month', 'area_id', 'min_zoom', 'max_zoom', 'format'));
  prod text := coalesce(args->>'product', 'VNP46A2');
  m date;
  area bigint := (args->>'area_id')::bigint;
  min_zoom int := coalesce((args->>'min_zoom')::int, 0);
  max_zoom int := coalesce((args->>'max_zoom')::int, 8);
  fmt text := coalesce(args->>'format', 'xyz');
  tiles text[];
  t text;
  saved int := 0;
  keys text[];
  box float8[];
  k text;
  fp text;
  c geoetl._tile_counts;
  total geoetl._tile_counts := ROW(0, 0, 0, 0, 0, 0);
BEGIN
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'unknown argument(s) of a render_tiles job: %', unknown USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Known: product, month, area_id, min_zoom, max_zoom, format.';
  END IF;
  m := geoetl._check_composite_month(prod, (args->>'month')::date);
  IF fmt NOT IN ('xyz', 'pmtiles') OR NOT (0 <= min_zoom AND min_zoom <= max_zoom AND max_zoom <= 16) THEN
    RAISE EXCEPTION 'invalid render_tiles job: %', args USING ERRCODE = 'invalid_parameter_value',
      HINT = 'format is xyz or pmtiles; zooms satisfy 0 <= min_zoom <= max_zoom <= 16 (geoetl.render_tiles checks them).';
  END IF;
  -- one render of a month and format at a time
  IF area IS NOT NULL AND NOT EXISTS (SELECT 1 FROM geoetl.area a WHERE a.area_id = area) THEN
    RAISE EXCEPTION 'area % does not exist', area USING ERRCODE = 'no_data_found';
  END IF;
  tiles := geoetl._render_tiles_of(prod, m, area);
  IF cardinality(tiles) = 0 THEN  -- the granules went away after the job was enqueued
    RAISE EXCEPTION 'no granules of % in %', prod, to_char(m, 'YYYY-MM') USING ERRCODE = 'no_data_found',
      HINT = 'Register or fetch the month''s granules, then render again.';
  END IF;
  box := geoetl._render_boxes(prod, m, area);
  IF geoetl._tile_count(box, min_zoom, max_zoom) > 1000000 THEN
    RAISE EXCEPTION 'a render_tiles job of % tiles is too big (at most 1,000,000)',
      geoetl._tile_count(box, min_zoom, max_zoom) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Render fewer zooms, or an area (area_id).';
  END IF;
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    format('geoetl.tiles:%s:%s:%s', prod, to_char(m, 'YYYY-MM'), fmt), 0));
  FOREACH t IN ARRAY tiles LOOP
    PERFORM geoetl.report_progress(format('%s %s: composite of %s', prod, to_char(m, 'YYYY-MM'), t));
    IF (geoetl._save_composite_month(prod, m, t, '{}')->>'written')::boolean THEN
      saved := saved + 1;
    END IF;
  END LOOP;
  -- every composite of the month: a tile at the area's edge shows its neighbours too, as tile() does
  SELECT array_agg(x.key ORDER BY x.key) INTO keys FROM geoetl.composite x
   WHERE x.product = prod AND x.month = m;
  -- an area's archive is its own: the month's whole archive is never replaced by a part of it
  k := format('tiles/%s/%s', prod, to_char(m, 'YYYY-MM'))
       || CASE WHEN fmt = 'xyz' THEN '' WHEN area IS NULL THEN '.pmtiles' ELSE format('.area-%s.pmtiles', area) END;
  -- the versions of the colour ramp (src/core/tiles/ramp.h) and of the tiles' PNG encoding
  -- (encode_png, src/core/tiles/render.h: tile() must return the files' very bytes) are part of
  -- what the tiles depend on
  fp := md5(concat_ws('|', 'ramp 1', 'png 2', min_zoom, max_zoom,
                      (SELECT string_agg(v::numeric::text, ',' ORDER BY i) FROM unnest(box) WITH ORDINALITY b(v, i)),
                      (SELECT string_agg(x.key || ':' || x.sha256, ',' ORDER BY x.key) FROM geoetl.composite x
                        WHERE x.product = prod AND x.month = m)));
  IF EXISTS (SELECT 1 FROM geoetl.tile_render r
              WHERE r.product = prod AND r.month = m AND r.format = fmt
                AND r.area_id IS NOT DISTINCT FROM area AND r.inputs = fp)
     AND (fmt = 'xyz' OR EXISTS (SELECT 1 FROM geoetl.store_list(k) o WHERE o.key = k)) THEN
    RETURN jsonb_build_object('composites_written', saved, 'skipped', true, 'tiles', 0, 'written', 0,
                              'unchanged', 0, 'empty', 0, 'removed', 0, 'bytes', 0, 'key', k);
  END IF;
  IF fmt = 'xyz' THEN
    FOR z IN min_zoom .. max_zoom LOOP
      PERFORM geoetl.report_progress(format('%s %s: zoom %s of %s..%s', prod, to_char(m, 'YYYY-MM'), z, min_zoom, max_zoom));
      c := geoetl._render_xyz(keys, k, box, z);
      total := ROW(total.tiles + c.tiles, total.written + c.written, total.unchanged + c.unchanged,
                   total.empty + c.empty, total.removed + c.removed, total.bytes + c.bytes);
    END LOOP;
  ELSE
    PERFORM geoetl.report_progress(format('%s %s: zooms %s..%s', prod, to_char(m, 'YYYY-MM'), min_zoom, max_zoom));
    total := geoetl._render_pmtiles(keys, k, box, min_zoom, max_zoom, jsonb_build_object(
               'name', format('%s %s night lights', prod, to_char(m, 'YYYY-MM')),
               'description', 'Monthly composite radiance (nW/cm2/sr), colour t = log10(1 + v) / log10(101)',
               'attribution', 'NASA Black Marble (' || prod || ')', 'format', 'png', 'type', 'overlay',
               'generator', 'geoetl ' || (geoetl.version()->>'geoetl'))::text);
  END IF;
  INSERT INTO geoetl.tile_render AS r (product, month, format, area_id, min_zoom, max_zoom, boxes, key, inputs,
                                       tiles, written, empty, bytes)
  VALUES (prod, m, fmt, area, min_zoom, max_zoom, box, k, fp, total.tiles, total.written, total.empty, total.bytes)
  ON CONFLICT (product, month, format, coalesce(area_id, 0)) DO UPDATE
     SET min_zoom = EXCLUDED.min_zoom, max_zoom = EXCLUDED.max_zoom, boxes = EXCLUDED.boxes, key = EXCLUDED.key,
         inputs = EXCLUDED.inputs, tiles = EXCLUDED.tiles, written = EXCLUDED.written, empty = EXCLUDED.empty,
         bytes = EXCLUDED.bytes, rendered_at = now();
  RETURN jsonb_build_object('composites_written', saved, 'skipped', false, 'tiles', total.tiles, 'written', total.written,
                            'unchanged', total.unchanged, 'empty', total.empty, 'removed', total.removed,
                            'bytes', total.bytes, 'key', k);
END
$$;
COMMENT ON FUNCTION geoetl._render_month(jsonb) IS
  'Internal: the work of a render_tiles job: composites saved, tiles rendered, geoetl.tile_render written';

CREATE FUNCTION geoetl._job_render_tiles(args jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT geoetl._render_month(args)
$$;
COMMENT ON FUNCTION geoetl._job_render_tiles(jsonb) IS
  'Handler of job kind render_tiles: the month''s composites saved and its map tiles rendered (geoetl.render_tiles)';
INSERT INTO geoetl.job_kind (kind, handler, lease, max_attempts, backoff, description) VALUES
  ('render_tiles', 'geoetl._job_render_tiles(jsonb)', '2 hours', 3, '1 minute',
   'Saves a month''s composites and renders its map tiles into the store (geoetl.render_tiles)');

CREATE FUNCTION geoetl.tile(product text, month date, z int, x int, y int) RETURNS bytea
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  m date := geoetl._check_composite_month(product, month);
  t float8[];  -- the tile's {west, south, east, north}
  keys text[];
BEGIN
  IF z IS NULL OR x IS NULL OR y IS NULL THEN
    RAISE EXCEPTION 'z, x and y must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  -- (every operator here has its exact types in pg_catalog: none of a caller's can match better)
  IF z NOT BETWEEN 0 AND 30 OR x < 0 OR y < 0 OR x::bigint >= (1::bigint << z) OR y::bigint >= (1::bigint << z) THEN
    RAISE EXCEPTION 'there is no tile %/%/%', z, x, y USING ERRCODE = 'invalid_parameter_value',
      HINT = 'z is 0..30, x and y 0..2^z - 1 (XYZ numbering: y from the north).';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM geoetl.composite c WHERE c.product = tile.product AND c.month = m) THEN
    RAISE EXCEPTION 'no composites of % in %', product, to_char(m, 'YYYY-MM') USING ERRCODE = 'no_data_found',
      HINT = 'Save them first with geoetl.save_composite or geoetl.render_tiles.';
  END IF;
  t := geoetl._tile_lonlat(z, x, y);
  -- the composites reaching into the tile (a degree of margin: the renderer decides exactly)
  SELECT array_agg(c.key ORDER BY c.key) INTO keys FROM geoetl.composite c, geoetl._tile_box(c.tile) b
   WHERE c.product = tile.product AND c.month = m
     AND b[1] < t[3] + 1::float8 AND b[3] > t[1] - 1::float8 AND b[2] < t[4] + 1::float8 AND b[4] > t[2] - 1::float8;
  IF keys IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN geoetl._render_tile(keys, z, x, y);
END
$$;
COMMENT ON FUNCTION geoetl.tile(text, date, int, int, int) IS
  'One night-light map tile (XYZ numbering) as PNG, rendered on demand from the month''s saved '
  'composites: the same bytes as the file render_tiles writes; NULL where the tile has no light '
  '(render_tiles writes no file there)';

-- What the viewer page reads.
CREATE FUNCTION geoetl.areas_geojson(product text DEFAULT 'VNP46A2') RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('type', 'FeatureCollection', 'features', coalesce(jsonb_agg(
           jsonb_build_object('type', 'Feature', 'id', a.area_id,
                              'geometry', ST_AsGeoJSON(a.geom, 6)::jsonb,
                              'properties', jsonb_build_object(
                                'area_id', a.area_id, 'name', a.name, 'area_km2', a.area_km2,
                                'product', areas_geojson.product, 'month', to_char(n.month, 'YYYY-MM'),
                                'sum_of_lights', n.sum_of_lights, 'lit_share', n.lit_share,
                                'lit_area_km2', n.lit_area_km2, 'mean_radiance', n.mean_radiance,
                                'coverage', n.coverage))
           ORDER BY a.area_id), '[]'))
    FROM geoetl.area a
    LEFT JOIN LATERAL (SELECT x.* FROM geoetl.nightlight_monthly x
                        WHERE x.area_id = a.area_id AND x.product = areas_geojson.product
                        ORDER BY x.month DESC LIMIT 1) n ON true
$$;
COMMENT ON FUNCTION geoetl.areas_geojson(text) IS
  'The areas as a GeoJSON FeatureCollection (id: area_id), each with its latest month''s night-light '
  'metrics of the product (month, sum_of_lights, lit_share, lit_area_km2, mean_radiance, coverage; '
  'null where none)';

CREATE FUNCTION geoetl.nightlight_series(area_id bigint, product text DEFAULT 'VNP46A2') RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  a geoetl.area;
BEGIN
  IF area_id IS NULL OR product IS NULL THEN
    RAISE EXCEPTION 'area_id and product must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT * INTO a FROM geoetl.area x WHERE x.area_id = nightlight_series.area_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'area % does not exist', area_id USING ERRCODE = 'no_data_found';
  END IF;
  RETURN jsonb_build_object('area_id', a.area_id, 'name', a.name, 'product', product, 'months', coalesce(
    (SELECT jsonb_agg(jsonb_build_object(
              'month', to_char(n.month, 'YYYY-MM'), 'sum_of_lights', n.sum_of_lights, 'lit_share', n.lit_share,
              'lit_area_km2', n.lit_area_km2, 'mean_radiance', n.mean_radiance, 'coverage', n.coverage,
              'days_with_data', n.days_with_data) ORDER BY n.month)
       FROM geoetl.nightlight_monthly n
      WHERE n.area_id = a.area_id AND n.product = nightlight_series.product), '[]'));
END
$$;
COMMENT ON FUNCTION geoetl.nightlight_series(bigint, text) IS
  'An area''s monthly night-light metrics of the product as JSON: {"area_id", "name", "product", '
  '"months": [{"month": "YYYY-MM", "sum_of_lights", "lit_share", "lit_area_km2", "mean_radiance", '
  '"coverage", "days_with_data"}, ...]} in month order';

CREATE FUNCTION geoetl.viewer_manifest(product text DEFAULT 'VNP46A2') RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'product', viewer_manifest.product,
    'bounds', (SELECT to_jsonb(ARRAY[min(b.v) FILTER (WHERE b.i % 4 = 1), min(b.v) FILTER (WHERE b.i % 4 = 2),
                                     max(b.v) FILTER (WHERE b.i % 4 = 3), max(b.v) FILTER (WHERE b.i % 4 = 0)])
                 FROM geoetl.tile_render r, unnest(r.boxes) WITH ORDINALITY b(v, i)
                WHERE r.product = viewer_manifest.product),
    'months', coalesce((
      SELECT jsonb_agg(jsonb_build_object(
               'month', to_char(r.month, 'YYYY-MM'), 'format', r.format,
               'tiles', 'store/' || r.key || CASE r.format WHEN 'xyz' THEN '/{z}/{x}/{y}.png' ELSE '' END,
               'min_zoom', r.min_zoom, 'max_zoom', r.max_zoom) ORDER BY r.month)
        FROM (SELECT DISTINCT ON (x.month) x.* FROM geoetl.tile_render x
               WHERE x.product = viewer_manifest.product
               ORDER BY x.month, x.format = 'pmtiles' DESC, x.area_id NULLS FIRST, x.max_zoom DESC) r), '[]'))
$$;
COMMENT ON FUNCTION geoetl.viewer_manifest(text) IS
  'What the viewer page (viewer/, scripts/viewer.sh) reads: the months with rendered tiles of the '
  'product, each with its format (a month rendered both ways: its PMTiles archive) and tile URL '
  'under store/, and the box they cover';
