-- STAC: Item Search against any STAC API (EarthSearch, ...), items kept in geoetl.stac_item.

CREATE TABLE geoetl.stac_item (
  collection text NOT NULL,
  item_id text NOT NULL,
  datetime timestamptz,
  geometry geometry(Geometry, 4326) NOT NULL,
  properties jsonb NOT NULL DEFAULT '{}',
  assets jsonb NOT NULL DEFAULT '{}',
  api_url text NOT NULL,
  fetched_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, item_id)
);
CREATE INDEX stac_item_geometry_idx ON geoetl.stac_item USING gist (geometry);
CREATE INDEX stac_item_datetime_idx ON geoetl.stac_item (collection, datetime);
SELECT pg_catalog.pg_extension_config_dump('geoetl.stac_item', '');
COMMENT ON TABLE geoetl.stac_item IS 'STAC items found by geoetl.stac_search (one row per collection and item id)';
COMMENT ON COLUMN geoetl.stac_item.collection IS 'The item''s collection';
COMMENT ON COLUMN geoetl.stac_item.item_id IS 'The item''s id';
COMMENT ON COLUMN geoetl.stac_item.datetime IS 'properties.datetime (NULL for items with a start and end only)';
COMMENT ON COLUMN geoetl.stac_item.geometry IS 'The item''s footprint, WGS 84';
COMMENT ON COLUMN geoetl.stac_item.properties IS 'The item''s properties';
COMMENT ON COLUMN geoetl.stac_item.assets IS 'The item''s assets (key -> href, type, roles, ...)';
COMMENT ON COLUMN geoetl.stac_item.api_url IS 'The STAC API it came from';
COMMENT ON COLUMN geoetl.stac_item.fetched_at IS 'When it was last seen';
COMMENT ON INDEX geoetl.stac_item_pkey IS 'One row per collection and item';
COMMENT ON INDEX geoetl.stac_item_geometry_idx IS 'Items by footprint';
COMMENT ON INDEX geoetl.stac_item_datetime_idx IS 'Items by collection and time';

-- Items a search returned that could not be kept, and why.
CREATE TABLE geoetl.stac_skipped (
  collection text NOT NULL,
  item_id text NOT NULL,
  reason text NOT NULL,
  api_url text NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, item_id)
);
SELECT pg_catalog.pg_extension_config_dump('geoetl.stac_skipped', '');
COMMENT ON TABLE geoetl.stac_skipped IS 'Items a STAC search returned but geoetl could not keep (e.g. without geometry)';
COMMENT ON COLUMN geoetl.stac_skipped.collection IS 'The item''s collection';
COMMENT ON COLUMN geoetl.stac_skipped.item_id IS 'The item''s id';
COMMENT ON COLUMN geoetl.stac_skipped.reason IS 'Why it was not kept';
COMMENT ON COLUMN geoetl.stac_skipped.api_url IS 'The STAC API it came from';
COMMENT ON COLUMN geoetl.stac_skipped.seen_at IS 'When it was last seen';
COMMENT ON INDEX geoetl.stac_skipped_pkey IS 'One row per collection and item';

-- A STAC period: NULL ends are open; an end must be a finite time STAC can write (RFC 3339:
-- years 0001 to 9999).
CREATE FUNCTION geoetl._check_period(period tstzrange) RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  e timestamptz;
BEGIN
  FOREACH e IN ARRAY ARRAY[lower(period), upper(period)] LOOP
    IF e IS NOT NULL AND (NOT isfinite(e) OR e < '0001-01-01 00:00:00+00' OR e >= '10000-01-01 00:00:00+00') THEN
      RAISE EXCEPTION 'period has an end STAC cannot express: %',
        CASE WHEN isfinite(e) THEN to_char(e AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') ELSE e::text END
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Leave an end open instead of infinite, e.g. tstzrange(''2024-01-01'', NULL); '
                     'STAC times lie in the years 0001 to 9999.';
    END IF;
  END LOOP;
END
$$;
COMMENT ON FUNCTION geoetl._check_period(tstzrange) IS
  'Internal: raises 22023 when an end of a STAC period is infinite or outside the years 0001-9999';

-- "2024-01-01T00:00:00Z/.." from a range: open ends as "..".
CREATE FUNCTION geoetl._stac_datetime(period tstzrange) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN period IS NULL OR period = '(,)'::tstzrange THEN NULL
              ELSE coalesce(to_char(lower(period) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '..') || '/' ||
                   coalesce(to_char(upper(period) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '..') END
$$;
COMMENT ON FUNCTION geoetl._stac_datetime(tstzrange) IS 'A tstzrange as a STAC datetime interval (open ends as ..)';

-- One page: its items kept (or skipped), its next link returned (NULL at the end).
CREATE FUNCTION geoetl._stac_page(api_url text, page jsonb, max_items int, kept int, OUT added int, OUT next jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  f jsonb;
BEGIN
  added := 0;
  IF jsonb_typeof(page->'features') IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'the STAC API''s answer is not an ItemCollection (no "features" array)'
      USING ERRCODE = 'invalid_parameter_value', DETAIL = left(page::text, 200);
  END IF;
  FOR f IN SELECT * FROM jsonb_array_elements(page->'features') LOOP
    EXIT WHEN kept + added >= max_items;
    IF f->>'id' IS NULL OR f->>'collection' IS NULL THEN
      CONTINUE;  -- not an item of a collection: nothing to key it on
    ELSIF jsonb_typeof(f->'geometry') IS DISTINCT FROM 'object' THEN
      INSERT INTO geoetl.stac_skipped AS s (collection, item_id, reason, api_url)
      VALUES (f->>'collection', f->>'id', 'the item has no geometry', api_url)
      ON CONFLICT ON CONSTRAINT stac_skipped_pkey DO UPDATE SET reason = EXCLUDED.reason, seen_at = now();
    ELSE
      INSERT INTO geoetl.stac_item AS i (collection, item_id, datetime, geometry, properties, assets, api_url)
      VALUES (f->>'collection', f->>'id', (f->'properties'->>'datetime')::timestamptz,
              ST_SetSRID(ST_GeomFromGeoJSON(f->'geometry'), 4326), coalesce(f->'properties', '{}'),
              coalesce(f->'assets', '{}'), api_url)
      ON CONFLICT ON CONSTRAINT stac_item_pkey DO UPDATE
         SET datetime = EXCLUDED.datetime, geometry = EXCLUDED.geometry, properties = EXCLUDED.properties,
             assets = EXCLUDED.assets, api_url = EXCLUDED.api_url, fetched_at = now();
      added := added + 1;
    END IF;
  END LOOP;
  SELECT l INTO next FROM jsonb_array_elements(coalesce(page->'links', '[]')) l WHERE l->>'rel' = 'next' LIMIT 1;
END
$$;
COMMENT ON FUNCTION geoetl._stac_page(text, jsonb, int, int) IS 'Keeps the items of one STAC search page; returns its next link';

CREATE FUNCTION geoetl.stac_search(api_url text, collections text[], aoi geometry, period tstzrange,
                                   query jsonb DEFAULT NULL, max_items int DEFAULT 1000)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  base text := rtrim(api_url, '/');
  area geometry;
  body jsonb;
  url text;
  method text := 'POST';
  r record;
  page jsonb;
  p record;
  kept int := 0;
  pages int := 0;
BEGIN
  IF api_url IS NULL OR collections IS NULL OR aoi IS NULL OR max_items IS NULL THEN
    RAISE EXCEPTION 'api_url, collections, aoi and max_items must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF cardinality(collections) = 0 OR max_items < 1 THEN
    RAISE EXCEPTION 'collections must name at least one collection and max_items be at least 1'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM geoetl._check_period(period);
  IF query IS NOT NULL AND jsonb_typeof(query) <> 'object' THEN
    RAISE EXCEPTION 'query must be a JSON object (STAC query extension)' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  area := geoetl._stac_area(aoi);
  body := jsonb_strip_nulls(jsonb_build_object(
    'collections', to_jsonb(collections),
    'intersects', ST_AsGeoJSON(area)::jsonb,
    'datetime', geoetl._stac_datetime(period),
    'query', query,
    'limit', least(max_items, 100)));
  url := base || '/search';
  LOOP
    IF method = 'POST' THEN
      SELECT * INTO r FROM geoetl.http_post(url, body::text, '{"Content-Type": "application/json", "Accept": "application/geo+json"}');
    ELSE
      SELECT * INTO r FROM geoetl.http_get(url, '{"Accept": "application/geo+json"}');
    END IF;
    BEGIN
      page := convert_from(r.body, 'UTF8')::jsonb;
    EXCEPTION WHEN OTHERS THEN
      RAISE EXCEPTION 'the STAC API''s answer to % is not JSON', url USING ERRCODE = 'invalid_text_representation',
        DETAIL = format('status %s: %s', r.status, left(convert_from(r.body, 'UTF8'), 200));
    END;
    IF r.status <> 200 THEN
      RAISE EXCEPTION 'the STAC API answered % to %', r.status, url
        USING ERRCODE = CASE WHEN r.status IN (401, 403) THEN 'insufficient_privilege'
                             WHEN r.status = 404 THEN 'undefined_object' ELSE 'external_routine_exception' END,
              DETAIL = coalesce(page->>'description', page->>'detail', left(page::text, 200));
    END IF;
    SELECT * INTO p FROM geoetl._stac_page(base, page, max_items, kept);
    kept := kept + p.added;
    pages := pages + 1;
    PERFORM geoetl.report_progress(format('%s pages, %s items', pages, kept));
    EXIT WHEN p.next IS NULL OR kept >= max_items;
    url := p.next->>'href';
    method := upper(coalesce(p.next->>'method', 'GET'));
    IF method = 'POST' THEN
      body := CASE WHEN (p.next->>'merge')::boolean THEN body || coalesce(p.next->'body', '{}') ELSE coalesce(p.next->'body', body) END;
    END IF;
  END LOOP;
  RETURN kept;
END
$$;
COMMENT ON FUNCTION geoetl.stac_search(text, text[], geometry, tstzrange, jsonb, int) IS
  'Item Search (POST, intersects, datetime interval with open ends, query extension), following '
  'next links; upserts the items into geoetl.stac_item and returns how many it kept';

-- {"api_url", "collections": [...], "aoi": GeoJSON with "crs" or WGS 84, "period": [from, to], "query", "max_items"}
CREATE FUNCTION geoetl._job_stac_search(args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  IF args->>'api_url' IS NULL OR jsonb_typeof(args->'collections') IS DISTINCT FROM 'array' OR args->'aoi' IS NULL THEN
    RAISE EXCEPTION 'a stac_search job needs api_url, collections (an array) and aoi (GeoJSON)'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN jsonb_build_object('items', geoetl.stac_search(
    args->>'api_url', ARRAY(SELECT jsonb_array_elements_text(args->'collections')),
    geoetl._geojson_geometry(args->'aoi'),
    tstzrange((args->'period'->>0)::timestamptz, (args->'period'->>1)::timestamptz, '[]'),
    args->'query', coalesce((args->>'max_items')::int, 1000)));
END
$$;
COMMENT ON FUNCTION geoetl._job_stac_search(jsonb) IS 'Handler of job kind stac_search: geoetl.stac_search with the job''s arguments';

INSERT INTO geoetl.job_kind (kind, handler, lease, max_attempts, backoff, description) VALUES
  ('stac_search', 'geoetl._job_stac_search(jsonb)', '1 hour', 3, '1 minute',
   'A STAC Item Search into geoetl.stac_item (geoetl.stac_search); admins only');

-- Assets: referenced in place (GDAL reads them by range requests) or copied into the store.
CREATE TABLE geoetl.stac_asset (
  collection text NOT NULL,
  item_id text NOT NULL,
  asset_key text NOT NULL,
  href text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('reference', 'copy')),
  uri text NOT NULL,
  bytes bigint,
  sha256 text,
  ingested_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, item_id, asset_key),
  FOREIGN KEY (collection, item_id) REFERENCES geoetl.stac_item ON DELETE CASCADE,
  CONSTRAINT stac_asset_copy CHECK ((mode = 'copy') = (bytes IS NOT NULL AND sha256 IS NOT NULL))
);
SELECT pg_catalog.pg_extension_config_dump('geoetl.stac_asset', '');
COMMENT ON TABLE geoetl.stac_asset IS 'Assets of STAC items made readable: in place (reference) or copied into the store';
COMMENT ON COLUMN geoetl.stac_asset.collection IS 'The item''s collection';
COMMENT ON COLUMN geoetl.stac_asset.item_id IS 'The item';
COMMENT ON COLUMN geoetl.stac_asset.asset_key IS 'The collection''s own asset key (red, nir, scl, ...)';
COMMENT ON COLUMN geoetl.stac_asset.href IS 'Where the STAC item says the asset is';
COMMENT ON COLUMN geoetl.stac_asset.mode IS 'reference (read in place) or copy (in the store)';
COMMENT ON COLUMN geoetl.stac_asset.uri IS 'What geoetl reads: the href, or the store''s copy';
COMMENT ON COLUMN geoetl.stac_asset.bytes IS 'Size of the copy';
COMMENT ON COLUMN geoetl.stac_asset.sha256 IS 'SHA-256 of the copy, computed while it downloaded';
COMMENT ON COLUMN geoetl.stac_asset.ingested_at IS 'When it was ingested';
COMMENT ON INDEX geoetl.stac_asset_pkey IS 'One row per item and asset';

-- The area of a STAC call in WGS 84, checked.
CREATE FUNCTION geoetl._stac_area(aoi geometry) RETURNS geometry LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF ST_SRID(aoi) = 0 THEN
    RAISE EXCEPTION 'aoi has no SRID' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Give it one, e.g. ST_SetSRID(geom, 4326).';
  END IF;
  PERFORM geoetl._check_srid(aoi, 'ST_SetSRID(geom, 4326) for longitude/latitude');
  IF NOT ST_IsValid(aoi) OR ST_IsEmpty(aoi) THEN
    RAISE EXCEPTION 'aoi is not a valid, non-empty geometry' USING ERRCODE = 'invalid_parameter_value',
      DETAIL = ST_IsValidReason(aoi), HINT = 'Repair it first, e.g. with ST_MakeValid(geom).';
  END IF;
  RETURN ST_Transform(geoetl._check_coordinates(aoi, 'aoi'), 4326);
END
$$;
COMMENT ON FUNCTION geoetl._stac_area(geometry) IS 'A STAC area of interest, checked and in WGS 84';

CREATE FUNCTION geoetl.stac_ingest(collection text, asset_keys text[], aoi geometry, period tstzrange,
                                   mode text DEFAULT 'reference')
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  area geometry;
  unknown text;
  a record;
  got record;
  n int := 0;
BEGIN
  IF collection IS NULL OR asset_keys IS NULL OR aoi IS NULL OR mode IS NULL THEN
    RAISE EXCEPTION 'collection, asset_keys, aoi and mode must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF mode NOT IN ('reference', 'copy') THEN
    RAISE EXCEPTION 'mode must be reference or copy, not "%"', mode USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF cardinality(asset_keys) = 0 THEN
    RAISE EXCEPTION 'asset_keys must name at least one asset' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM geoetl._check_period(period);
  area := geoetl._stac_area(aoi);
  CREATE TEMP TABLE IF NOT EXISTS pg_temp.geoetl_stac_pick (collection text, item_id text, assets jsonb) ON COMMIT DROP;
  TRUNCATE pg_temp.geoetl_stac_pick;
  INSERT INTO pg_temp.geoetl_stac_pick
  SELECT i.collection, i.item_id, i.assets FROM geoetl.stac_item i
   WHERE i.collection = stac_ingest.collection AND ST_Intersects(i.geometry, area)
     AND (period IS NULL OR i.datetime <@ period);
  SELECT string_agg(k, ', ') INTO unknown FROM unnest(asset_keys) k
   WHERE EXISTS (SELECT 1 FROM pg_temp.geoetl_stac_pick)
     AND NOT EXISTS (SELECT 1 FROM pg_temp.geoetl_stac_pick p WHERE p.assets ? k);
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'no item of % in the area and period has the asset(s) %', collection, unknown
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'This collection''s asset keys: ' || (SELECT string_agg(DISTINCT k, ', ' ORDER BY k)
                                                         FROM pg_temp.geoetl_stac_pick p, jsonb_object_keys(p.assets) k) || '.';
  END IF;
  FOR a IN SELECT p.collection, p.item_id, k AS asset_key, p.assets->k->>'href' AS href, p.assets->k->>'type' AS type
             FROM pg_temp.geoetl_stac_pick p, unnest(asset_keys) k
            WHERE p.assets->k->>'href' IS NOT NULL ORDER BY p.item_id, k LOOP
    IF mode = 'reference' THEN
      got := NULL;
      INSERT INTO geoetl.stac_asset AS s (collection, item_id, asset_key, href, mode, uri)
      VALUES (a.collection, a.item_id, a.asset_key, a.href, 'reference', a.href)
      ON CONFLICT ON CONSTRAINT stac_asset_pkey DO UPDATE
         SET href = EXCLUDED.href, mode = 'reference', uri = EXCLUDED.uri, bytes = NULL, sha256 = NULL, ingested_at = now();
    ELSE
      SELECT * INTO got FROM geoetl._store_fetch(a.href,
        format('stac/%s/%s/%s%s', a.collection, a.item_id, a.asset_key,
               CASE WHEN a.type ILIKE '%tiff%' OR a.href ~* '\.tiff?$' THEN '.tif' ELSE '' END),
        CASE WHEN a.type ILIKE '%tiff%' OR a.href ~* '\.tiff?$' THEN 'tiff' ELSE 'any' END, false);
      INSERT INTO geoetl.stac_asset AS s (collection, item_id, asset_key, href, mode, uri, bytes, sha256)
      VALUES (a.collection, a.item_id, a.asset_key, a.href, 'copy', got.uri, got.bytes, got.sha256)
      ON CONFLICT ON CONSTRAINT stac_asset_pkey DO UPDATE
         SET href = EXCLUDED.href, mode = 'copy', uri = EXCLUDED.uri, bytes = EXCLUDED.bytes,
             sha256 = EXCLUDED.sha256, ingested_at = now();
    END IF;
    n := n + 1;
    PERFORM geoetl.report_progress(format('%s assets', n));
  END LOOP;
  RETURN n;
END
$$;
COMMENT ON FUNCTION geoetl.stac_ingest(text, text[], geometry, tstzrange, text) IS
  'Makes the given assets of a collection''s items (in geoetl.stac_item, in the area and period) '
  'readable: reference keeps the href (read in place), copy downloads into the store (checked, hashed)';

CREATE FUNCTION geoetl._store_sha256(key text) RETURNS text
AS 'MODULE_PATHNAME', 'geoetl_store_sha256' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION geoetl._store_sha256(text) IS 'SHA-256 of a store object, read again';

CREATE FUNCTION geoetl.stac_verify()
RETURNS TABLE (problem text, collection text, item_id text, asset text, detail text) LANGUAGE plpgsql AS $$
BEGIN
  CREATE TEMP TABLE IF NOT EXISTS pg_temp.geoetl_stac_store (key text, size bigint, uri text) ON COMMIT DROP;
  TRUNCATE pg_temp.geoetl_stac_store;
  INSERT INTO pg_temp.geoetl_stac_store SELECT * FROM geoetl.store_list('stac/');
  RETURN QUERY
  SELECT 'missing from the store', a.collection, a.item_id, a.asset_key, a.uri
    FROM geoetl.stac_asset a
   WHERE a.mode = 'copy' AND NOT EXISTS (SELECT 1 FROM pg_temp.geoetl_stac_store s WHERE s.uri = a.uri)
  UNION ALL
  SELECT 'size mismatch', a.collection, a.item_id, a.asset_key, format('%s bytes recorded, %s in the store', a.bytes, s.size)
    FROM geoetl.stac_asset a JOIN pg_temp.geoetl_stac_store s ON s.uri = a.uri
   WHERE a.mode = 'copy' AND s.size <> a.bytes
  UNION ALL
  SELECT 'checksum mismatch', a.collection, a.item_id, a.asset_key, 'the copy''s SHA-256 is not the one recorded'
    FROM geoetl.stac_asset a JOIN pg_temp.geoetl_stac_store s ON s.uri = a.uri
   WHERE a.mode = 'copy' AND s.size = a.bytes AND geoetl._store_sha256(s.key) <> a.sha256
  UNION ALL
  SELECT 'object without item', NULL, NULL, NULL, s.uri
    FROM pg_temp.geoetl_stac_store s
   WHERE NOT EXISTS (SELECT 1 FROM geoetl.stac_asset a WHERE a.uri = s.uri)
  ORDER BY 1, 2, 3, 4, 5;
END
$$;
COMMENT ON FUNCTION geoetl.stac_verify() IS
  'Where geoetl.stac_asset and the store disagree: copies missing from the store, size or checksum '
  'mismatches, and store objects under stac/ that no asset row names';
