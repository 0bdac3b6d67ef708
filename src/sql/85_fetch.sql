-- Black Marble granules from NASA's LAADS DAAC into the store (84_store.sql), as jobs.

CREATE FUNCTION geoetl._laads_get(path text) RETURNS TABLE (status int, body bytea)
AS 'MODULE_PATHNAME', 'geoetl_laads_get' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION geoetl._laads_get(text) IS 'GET geoetl.laads_url/path with the LAADS bearer token';

-- One row per (product, day, tile) a fetch job settled: fetched (with where it is) or missing
-- from the archive.
CREATE TABLE geoetl.granule_fetch (
  product text NOT NULL REFERENCES geoetl.dataset,
  date date NOT NULL,
  tile_h int NOT NULL CHECK (tile_h BETWEEN 0 AND 35),
  tile_v int NOT NULL CHECK (tile_v BETWEEN 0 AND 17),
  state text NOT NULL CHECK (state IN ('fetched', 'missing')),
  name text,
  uri text,
  bytes bigint,
  sha256 text,
  local_path text,
  detail text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (product, date, tile_h, tile_v),
  CONSTRAINT granule_fetch_where CHECK ((state = 'fetched') = (uri IS NOT NULL AND bytes IS NOT NULL AND sha256 IS NOT NULL))
);
SELECT pg_catalog.pg_extension_config_dump('geoetl.granule_fetch', '');
COMMENT ON TABLE geoetl.granule_fetch IS
  'Black Marble granules fetched from LAADS DAAC into the store, or known to be missing there';
COMMENT ON COLUMN geoetl.granule_fetch.product IS 'The product (geoetl.dataset)';
COMMENT ON COLUMN geoetl.granule_fetch.date IS 'The granule''s first day (of a monthly product: the first of the month)';
COMMENT ON COLUMN geoetl.granule_fetch.tile_h IS 'Tile column (hHH)';
COMMENT ON COLUMN geoetl.granule_fetch.tile_v IS 'Tile row (vVV)';
COMMENT ON COLUMN geoetl.granule_fetch.state IS 'fetched, or missing from the archive';
COMMENT ON COLUMN geoetl.granule_fetch.name IS 'The file name in the archive';
COMMENT ON COLUMN geoetl.granule_fetch.uri IS 'Where the store keeps it';
COMMENT ON COLUMN geoetl.granule_fetch.bytes IS 'Its size';
COMMENT ON COLUMN geoetl.granule_fetch.sha256 IS 'SHA-256 of the file, computed while it downloaded';
COMMENT ON COLUMN geoetl.granule_fetch.local_path IS 'The local file it is registered from (with an S3 store: the copy kept in the data directory)';
COMMENT ON COLUMN geoetl.granule_fetch.detail IS 'Why it is missing, or how it was registered';
COMMENT ON COLUMN geoetl.granule_fetch.updated_at IS 'When the row last changed';
COMMENT ON INDEX geoetl.granule_fetch_pkey IS 'One row per product, day and tile';

-- What fetch_blackmarble was asked for: when all of a month's days are settled for an area,
-- its nightlight_month job is enqueued.
CREATE TABLE geoetl.fetch_request (
  request_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  area_id bigint NOT NULL REFERENCES geoetl.area ON DELETE CASCADE,
  product text NOT NULL REFERENCES geoetl.dataset,
  from_date date NOT NULL,
  to_date date NOT NULL CHECK (to_date >= from_date),
  tiles text[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by name NOT NULL DEFAULT current_user
);
SELECT pg_catalog.pg_extension_config_dump('geoetl.fetch_request', '');
SELECT pg_catalog.pg_extension_config_dump('geoetl.fetch_request_request_id_seq', '');
COMMENT ON TABLE geoetl.fetch_request IS 'Calls of geoetl.fetch_blackmarble, for chaining fetches to metrics';
COMMENT ON COLUMN geoetl.fetch_request.request_id IS 'The request';
COMMENT ON COLUMN geoetl.fetch_request.area_id IS 'The area whose tiles are fetched';
COMMENT ON COLUMN geoetl.fetch_request.product IS 'The product';
COMMENT ON COLUMN geoetl.fetch_request.from_date IS 'First day';
COMMENT ON COLUMN geoetl.fetch_request.to_date IS 'Last day';
COMMENT ON COLUMN geoetl.fetch_request.tiles IS 'The tiles the area needs (hHHvVV)';
COMMENT ON COLUMN geoetl.fetch_request.created_at IS 'When it was asked for';
COMMENT ON COLUMN geoetl.fetch_request.created_by IS 'Who asked';
COMMENT ON INDEX geoetl.fetch_request_pkey IS 'One row per request';

CREATE FUNCTION geoetl.fetch_blackmarble(product text, area_id bigint, from_date date, to_date date)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  tiles text[];
  n int := 0;
BEGIN
  IF product IS NULL OR area_id IS NULL OR from_date IS NULL OR to_date IS NULL THEN
    RAISE EXCEPTION 'product, area_id, from_date and to_date must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF geoetl._product_cadence(product) IS NULL THEN
    RAISE EXCEPTION 'cannot fetch product "%"', product USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Known: ' || geoetl._product_names(', ') || '.';
  END IF;
  PERFORM geoetl._check_dates('from_date and to_date', from_date, to_date);
  IF to_date < from_date THEN
    RAISE EXCEPTION 'to_date % is before from_date %', to_date, from_date USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT geoetl._tiles_of(a.geom) INTO tiles FROM geoetl.area a WHERE a.area_id = fetch_blackmarble.area_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'area % does not exist', area_id USING ERRCODE = 'no_data_found';
  END IF;
  -- one call enqueues at most 100,000 jobs
  n := (SELECT count(*) FROM geoetl._product_days(product, from_date, to_date)) * cardinality(tiles);
  IF n > 100000 THEN
    RAISE EXCEPTION 'fetching % days x tiles in one call is too many (at most 100000)', n
      USING ERRCODE = 'program_limit_exceeded',
            HINT = 'Fetch a shorter range at a time, e.g. a year per call.';
  END IF;
  INSERT INTO geoetl.fetch_request (area_id, product, from_date, to_date, tiles)
  VALUES (area_id, product, from_date, to_date, tiles);
  SELECT count(geoetl.enqueue('fetch_blackmarble',
                              jsonb_build_object('product', product, 'date', d, 'tile', t),
                              dedupe_key => format('fetch_blackmarble:%s:%s:%s', product, d, t)))
    INTO n
    FROM geoetl._product_days(product, from_date, to_date) d, unnest(tiles) t;
  RETURN n;
END
$$;
COMMENT ON FUNCTION geoetl.fetch_blackmarble(text, bigint, date, date) IS
  'Enqueues one deduplicated fetch_blackmarble job per day and tile the area needs; returns how '
  'many. When all days of a month are settled, the area''s nightlight_month job follows by itself';

-- {"product", "date", "tile"[, "collection"]} -> {"state": fetched | already | missing, ...}
CREATE FUNCTION geoetl._job_fetch_blackmarble(args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  product text := args->>'product';
  day date := (args->>'date')::date;
  tile text := args->>'tile';
  collection text := coalesce(args->>'collection', '5200');
  column_h int;  -- the tile's numbers: NULL for a bad tile name
  row_v int;
  folder text;
  listing record;
  entries jsonb;
  name text;
  got record;
  outcome jsonb;
BEGIN
  SELECT t.h, t.v INTO column_h, row_v FROM geoetl._tile_hv(tile) t;
  IF product IS NULL OR day IS NULL OR column_h IS NULL THEN
    RAISE EXCEPTION 'a fetch_blackmarble job needs product, date and tile (hHHvVV)' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  folder := format('%s/%s/%s/%s', collection, product, to_char(day, 'YYYY'), to_char(day, 'DDD'));
  -- keyed on product, day and tile: a file of that tile already in the store is kept
  SELECT s.key, s.size, s.uri INTO got
    FROM geoetl.store_list(format('blackmarble/%s/%s/', product, to_char(day, 'YYYY/DDD'))) s, geoetl._granule(s.key) g
   WHERE g.product = args->>'product' AND g.date = day
     AND g.tile_h = column_h AND g.tile_v = row_v
   ORDER BY s.key DESC LIMIT 1;
  IF got.key IS NOT NULL AND EXISTS (SELECT 1 FROM geoetl.granule_fetch g WHERE g.uri = got.uri AND g.bytes = got.size) THEN
    outcome := jsonb_build_object('state', 'already', 'uri', got.uri,
                                  'local_path', (SELECT g.local_path FROM geoetl.granule_fetch g WHERE g.uri = got.uri));
  ELSE
    SELECT * INTO listing FROM geoetl._laads_get(folder || '.json');
    IF listing.status = 404 THEN
      entries := '[]';
    ELSIF listing.status <> 200 THEN
      RAISE EXCEPTION 'LAADS DAAC answered % for the listing of %', listing.status, folder
        USING ERRCODE = CASE WHEN listing.status IN (401, 403) THEN 'insufficient_privilege' ELSE 'external_routine_exception' END,
              HINT = CASE WHEN listing.status IN (401, 403) THEN 'Check the Earthdata bearer token stored with geoetl.set_secret(''laads_token'', ...).' END;
    ELSE
      BEGIN
        entries := convert_from(listing.body, 'UTF8')::jsonb;
      EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'the listing of % is not JSON', folder USING ERRCODE = 'invalid_text_representation',
          HINT = 'An HTML page here usually means the token was refused.';
      END;
      IF jsonb_typeof(entries) = 'object' THEN
        entries := coalesce(entries->'content', '[]');
      END IF;
    END IF;
    SELECT e->>'name' INTO name
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(entries) = 'array' THEN entries ELSE '[]' END) e,
           geoetl._granule(e->>'name') g
     WHERE e->>'name' !~ '/'  -- a plain file name: it becomes part of a URL and a store key
       AND g.product = args->>'product' AND g.date = day
       AND g.tile_h = column_h AND g.tile_v = row_v
     ORDER BY e->>'name' DESC LIMIT 1;  -- the newest production
    IF name IS NULL THEN
      INSERT INTO geoetl.granule_fetch AS g (product, date, tile_h, tile_v, state, detail)
      VALUES (product, day, column_h, row_v, 'missing',
              CASE WHEN listing.status = 404 THEN 'the archive has no listing for the day'
                   ELSE 'the day''s listing has no file of the tile' END)
      ON CONFLICT ON CONSTRAINT granule_fetch_pkey DO UPDATE
         SET state = 'missing', detail = EXCLUDED.detail, name = NULL, uri = NULL, bytes = NULL, sha256 = NULL,
             updated_at = now()
       WHERE g.state = 'missing';
      outcome := jsonb_build_object('state', 'missing');
    ELSE
      SELECT * INTO got FROM geoetl._store_fetch(
        format('%s/%s/%s', current_setting('geoetl.laads_url'), folder, name),
        format('blackmarble/%s/%s/%s', product, to_char(day, 'YYYY/DDD'), name), 'hdf5', true);
      INSERT INTO geoetl.granule_fetch AS g (product, date, tile_h, tile_v, state, name, uri, bytes, sha256, local_path, detail)
      VALUES (product, day, column_h, row_v, 'fetched', name, got.uri, got.bytes,
              got.sha256, got.local_path, NULL)
      ON CONFLICT ON CONSTRAINT granule_fetch_pkey DO UPDATE
         SET state = 'fetched', name = EXCLUDED.name, uri = EXCLUDED.uri, bytes = EXCLUDED.bytes,
             sha256 = EXCLUDED.sha256, local_path = EXCLUDED.local_path, detail = NULL, updated_at = now();
      outcome := jsonb_build_object('state', 'fetched', 'uri', got.uri, 'bytes', got.bytes, 'local_path', got.local_path);
    END IF;
  END IF;
  IF outcome->>'local_path' IS NOT NULL THEN  -- the day's local files (GDAL 3.6 reads HDF5 only from those)
    PERFORM geoetl.register_rasters(product, regexp_replace(outcome->>'local_path', '/[^/]+$', ''));
  END IF;
  PERFORM geoetl._chain_nightlights(product, day);
  RETURN outcome;
END
$$;
COMMENT ON FUNCTION geoetl._job_fetch_blackmarble(jsonb) IS
  'Handler of job kind fetch_blackmarble: one granule from LAADS DAAC into the store, registered; '
  'or recorded as missing';

-- Enqueues nightlight_month for every requested area whose month of `day` is now settled: every
-- day of the month and every tile of the area fetched or known missing.
CREATE FUNCTION geoetl._chain_nightlights(product text, day date) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  m date := date_trunc('month', day);
  r record;
  n int := 0;
BEGIN
  -- the last two fetches of a month, committing at once, would each miss the other's row
  PERFORM pg_advisory_xact_lock(hashtext(format('geoetl chain %s %s', product, m)));
  FOR r IN SELECT DISTINCT q.area_id, q.tiles FROM geoetl.fetch_request q
            WHERE q.product = _chain_nightlights.product AND m BETWEEN date_trunc('month', q.from_date) AND q.to_date LOOP
    CONTINUE WHEN EXISTS (
      SELECT 1 FROM geoetl._product_days(product, m, (m + interval '1 month - 1 day')::date) d, unnest(r.tiles) t
       WHERE NOT EXISTS (SELECT 1 FROM geoetl.granule_fetch g
                          WHERE g.product = _chain_nightlights.product AND g.date = d
                            AND geoetl._tile_name(g.tile_h, g.tile_v) = t));
    PERFORM geoetl.enqueue_nightlights(r.area_id, m, m, product);
    -- the month's composites of the area's tiles, kept for the map (geoetl.save_composite)
    PERFORM geoetl.enqueue('save_composite', jsonb_build_object('product', product, 'month', m, 'tile', t),
                           dedupe_key => format('save_composite:%s:%s:%s', product, to_char(m, 'YYYY-MM'), t))
       FROM unnest(r.tiles) t WHERE EXISTS (SELECT 1 FROM geoetl._month_granules(product, m, ARRAY[t]));
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;
COMMENT ON FUNCTION geoetl._chain_nightlights(text, date) IS
  'After a fetch: enqueues the nightlight_month jobs of areas whose month is now fully fetched or known '
  'missing, and the save_composite jobs of their tiles';

INSERT INTO geoetl.job_kind (kind, handler, lease, max_attempts, backoff, description) VALUES
  ('fetch_blackmarble', 'geoetl._job_fetch_blackmarble(jsonb)', '30 minutes', 5, '30 seconds',
   'Fetches one Black Marble granule (product, date, tile) from LAADS DAAC into the store and registers it; admins only');
