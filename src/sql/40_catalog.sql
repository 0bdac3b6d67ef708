-- The catalog: what can be processed (datasets) and the files at hand (rasters).

CREATE TABLE geoetl.dataset (
  product       text PRIMARY KEY,
  title         text NOT NULL,
  cadence       text NOT NULL CHECK (cadence IN ('daily', 'monthly', 'yearly')),
  default_layer text NOT NULL,
  licence       text NOT NULL,
  citation      text NOT NULL,
  source        text NOT NULL
);
COMMENT ON TABLE geoetl.dataset IS 'Products geoetl can register and process, with licence and citation';
COMMENT ON COLUMN geoetl.dataset.product IS 'Short name, e.g. VNP46A2';
COMMENT ON COLUMN geoetl.dataset.title IS 'What the product is';
COMMENT ON COLUMN geoetl.dataset.cadence IS 'daily, monthly or yearly granules';
COMMENT ON COLUMN geoetl.dataset.default_layer IS 'The layer metrics read unless told otherwise';
COMMENT ON COLUMN geoetl.dataset.licence IS 'Terms of use of the data';
COMMENT ON COLUMN geoetl.dataset.citation IS 'How to cite the data in publications';
COMMENT ON COLUMN geoetl.dataset.source IS 'Where the files come from';
COMMENT ON INDEX geoetl.dataset_pkey IS 'Primary key of geoetl.dataset';

INSERT INTO geoetl.dataset VALUES
  ('VNP46A2', 'VIIRS/NPP Lunar BRDF-Adjusted Nighttime Lights, daily, 15 arc-second tiles (Black Marble)',
   'daily', 'DNB_BRDF-Corrected_NTL',
   'NASA Earth science data: free and open, without restriction (NASA Earthdata data use policy); cite the data',
   'Román, M.O., Wang, Z., Sun, Q., et al. (2018). NASA''s Black Marble nighttime lights product suite. '
   'Remote Sensing of Environment 210, 113-143. doi:10.1016/j.rse.2018.03.006',
   'NASA LAADS DAAC, archive collection 5200 (collection 2) or 5000 (collection 1)'),
  ('VNP46A3', 'VIIRS/NPP Lunar BRDF-Adjusted Nighttime Lights, monthly composites, 15 arc-second tiles (Black Marble)',
   'monthly', 'NearNadir_Composite_Snow_Free',
   'NASA Earth science data: free and open, without restriction (NASA Earthdata data use policy); cite the data',
   'Román, M.O., Wang, Z., Sun, Q., et al. (2018). NASA''s Black Marble nighttime lights product suite. '
   'Remote Sensing of Environment 210, 113-143. doi:10.1016/j.rse.2018.03.006',
   'NASA LAADS DAAC, archive collection 5200 (collection 2) or 5000 (collection 1)');
SELECT pg_catalog.pg_extension_config_dump('geoetl.dataset', 'WHERE product NOT IN (''VNP46A2'', ''VNP46A3'')');

-- Product rules, each stated once: a product's cadence comes from geoetl.dataset (the core's
-- product_cadence says the same for the files' layout; a regression test holds them equal).
CREATE FUNCTION geoetl._product_cadence(product text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT d.cadence FROM geoetl.dataset d WHERE d.product = _product_cadence.product
$$;
COMMENT ON FUNCTION geoetl._product_cadence(text) IS
  'Internal: daily, monthly or yearly, as geoetl.dataset says; NULL for a product it does not list';

CREATE FUNCTION geoetl._product_names(separator text, cadences text[] DEFAULT NULL) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT string_agg(d.product, separator ORDER BY d.product) FROM geoetl.dataset d
   WHERE cadences IS NULL OR d.cadence = ANY (cadences)
$$;
COMMENT ON FUNCTION geoetl._product_names(text, text[]) IS
  'Internal: the products of geoetl.dataset (of the given cadences), for messages';

-- The days of a product's granules between two dates: every day (daily), the first of each
-- month (monthly) or of each year (yearly).
CREATE FUNCTION geoetl._product_days(product text, from_date date, to_date date) RETURNS SETOF date
LANGUAGE plpgsql STABLE AS $$
DECLARE
  cadence text := geoetl._product_cadence(product);
BEGIN
  PERFORM geoetl._check_dates('from_date and to_date', from_date, to_date);
  IF cadence IS NULL THEN
    RAISE EXCEPTION 'unknown product "%"', product USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Known: ' || geoetl._product_names(', ') || '.';
  END IF;
  RETURN QUERY SELECT d::date FROM generate_series(from_date, to_date, interval '1 day') d
                WHERE cadence = 'daily' OR (cadence = 'monthly' AND extract(day FROM d) = 1)
                   OR (cadence = 'yearly' AND extract(doy FROM d) = 1);
END
$$;
COMMENT ON FUNCTION geoetl._product_days(text, date, date) IS
  'The dates of a product''s granules between two days (every day, or the first of each month or year, '
  'by the cadence in geoetl.dataset)';

-- Tile rules, each stated once: a tile's name (hHHvVV) from its numbers and back, and the tiles
-- a polygon covers.
CREATE FUNCTION geoetl._tile_name(h int, v int) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT format('h%sv%s', lpad(h::text, 2, '0'), lpad(v::text, 2, '0'))
$$;
COMMENT ON FUNCTION geoetl._tile_name(int, int) IS 'Internal: a Black Marble tile''s name, e.g. h21v08';

CREATE FUNCTION geoetl._tile_hv(tile text, OUT h int, OUT v int)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT m[1]::int, m[2]::int FROM regexp_match(tile, '^h([0-2][0-9]|3[0-5])v(0[0-9]|1[0-7])$') m
$$;
COMMENT ON FUNCTION geoetl._tile_hv(text) IS
  'Internal: the column and row of a tile name (h00v00..h35v17); NULLs when it is not one';

-- The tiles (hHHvVV) a WGS 84 polygon covers with a positive area, north to south, west to
-- east. Loops, not generate_series: with a parameter as bound the planner guesses 1000 x 1000
-- rows and JIT-compiles the query, 100 ms per call for a few microseconds of work.
CREATE FUNCTION geoetl._tiles_of(geom geometry) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  tiles text[] := '{}';
BEGIN
  IF geom IS NULL OR ST_IsEmpty(geom) THEN
    RETURN tiles;
  END IF;
  -- clamped before the casts: a coordinate far outside -180..180 / -90..90 is no tile, not an
  -- integer overflow
  FOR v IN greatest(0, floor((90 - least(90, ST_YMax(geom))) / 10))::int
           .. least(18, ceil((90 - greatest(-90, ST_YMin(geom))) / 10))::int - 1 LOOP
    FOR h IN greatest(0, floor((greatest(-180, ST_XMin(geom)) + 180) / 10))::int
             .. least(36, ceil((least(180, ST_XMax(geom)) + 180) / 10))::int - 1 LOOP
      IF ST_Area(ST_Intersection(geom, ST_MakeEnvelope(-180 + 10 * h, 80 - 10 * v, -170 + 10 * h, 90 - 10 * v, 4326))) > 0 THEN
        tiles := tiles || geoetl._tile_name(h, v);
      END IF;
    END LOOP;
  END LOOP;
  RETURN tiles;
END
$$;
COMMENT ON FUNCTION geoetl._tiles_of(geometry) IS 'Internal: the Black Marble tiles a WGS 84 polygon covers';

-- A granule's file name read by the core's parser (the one statement of the name's pattern).
CREATE TYPE geoetl._granule AS (
  product text, date date, tile_h int, tile_v int, collection int, production text, cadence text);
COMMENT ON TYPE geoetl._granule IS 'Internal: a Black Marble file name, read (geoetl._granule)';

CREATE FUNCTION geoetl._granule(name text) RETURNS geoetl._granule
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'geoetl_granule';
COMMENT ON FUNCTION geoetl._granule(text) IS
  'Internal: product, first day, tile, collection, production and (by the product''s number) cadence '
  'of a Black Marble file name or path, e.g. VNP46A2.A2024060.h21v08.002.2024069123456.h5; NULL '
  'when it is not one';

CREATE TABLE geoetl.raster (
  raster_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  product       text NOT NULL REFERENCES geoetl.dataset ON UPDATE CASCADE,
  date          date NOT NULL,
  tile_h        smallint NOT NULL CHECK (tile_h BETWEEN 0 AND 35),
  tile_v        smallint NOT NULL CHECK (tile_v BETWEEN 0 AND 17),
  collection    smallint NOT NULL CHECK (collection IN (1, 2)),
  production    text NOT NULL,
  uri           text NOT NULL,
  bytes         bigint NOT NULL CHECK (bytes > 0),
  footprint     geometry(Polygon, 4326) NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT raster_granule_key UNIQUE (product, date, tile_h, tile_v),
  CONSTRAINT raster_uri_key UNIQUE (uri)
);
CREATE INDEX raster_footprint_idx ON geoetl.raster USING gist (footprint);
SELECT pg_catalog.pg_extension_config_dump('geoetl.raster', '');
SELECT pg_catalog.pg_extension_config_dump('geoetl.raster_raster_id_seq', '');
COMMENT ON TABLE geoetl.raster IS
  'Usable granules: one per (product, date, tile), the newest production of those that passed every check';
COMMENT ON COLUMN geoetl.raster.raster_id IS 'Identifier';
COMMENT ON COLUMN geoetl.raster.product IS 'The dataset';
COMMENT ON COLUMN geoetl.raster.date IS 'First day the granule covers (the month''s first day for monthly products)';
COMMENT ON COLUMN geoetl.raster.tile_h IS 'Tile column: west edge at -180 + 10 * tile_h degrees';
COMMENT ON COLUMN geoetl.raster.tile_v IS 'Tile row: north edge at 90 - 10 * tile_v degrees';
COMMENT ON COLUMN geoetl.raster.collection IS '1 (uint16 radiance x 0.1) or 2 (float radiance)';
COMMENT ON COLUMN geoetl.raster.production IS 'Production time YYYYDDDHHMMSS from the file name; reprocessing makes it newer';
COMMENT ON COLUMN geoetl.raster.uri IS 'Where the file is (a path on the database server, or s3://...)';
COMMENT ON COLUMN geoetl.raster.bytes IS 'File size when registered';
COMMENT ON COLUMN geoetl.raster.footprint IS 'The tile''s 10 x 10 degree square';
COMMENT ON COLUMN geoetl.raster.registered_at IS 'When the file was registered';
COMMENT ON INDEX geoetl.raster_pkey IS 'Primary key of geoetl.raster';
COMMENT ON INDEX geoetl.raster_granule_key IS 'One usable file per product, date and tile';
COMMENT ON INDEX geoetl.raster_uri_key IS 'A file is registered once';
COMMENT ON INDEX geoetl.raster_footprint_idx IS 'Finds the tiles an area touches';

-- nightlight_metrics reads these files for every writer: whoever writes a row (register_rasters,
-- or plain SQL) must be allowed to read the file (below geoetl.allowed_sources, or the store).
CREATE FUNCTION geoetl._check_raster_source(uri text) RETURNS void
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'geoetl_check_raster_source';
COMMENT ON FUNCTION geoetl._check_raster_source(text) IS
  'Internal: raises 42501 unless the current user may read the file (superusers, or geoetl_admin '
  'members below geoetl.allowed_sources or in the store)';

CREATE FUNCTION geoetl._raster_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM geoetl._check_raster_source(NEW.uri);
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION geoetl._raster_check() IS
  'Internal trigger: a row of geoetl.raster names a file its writer may read';

CREATE TRIGGER raster_check BEFORE INSERT OR UPDATE OF uri ON geoetl.raster
  FOR EACH ROW EXECUTE FUNCTION geoetl._raster_check();
COMMENT ON TRIGGER raster_check ON geoetl.raster IS
  'Every row written, whichever way, names a file the writer may read';

CREATE TABLE geoetl.raster_invalid (
  uri        text PRIMARY KEY,
  product    text,
  date       date,
  tile_h     smallint,
  tile_v     smallint,
  reason     text NOT NULL,
  found_at   timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('geoetl.raster_invalid', '');
COMMENT ON TABLE geoetl.raster_invalid IS
  'Files that failed a check (not HDF5, truncated, layer missing, badly named), with the reason; never used';
COMMENT ON COLUMN geoetl.raster_invalid.uri IS 'Where the file is';
COMMENT ON COLUMN geoetl.raster_invalid.product IS 'Product, when the name could be read';
COMMENT ON COLUMN geoetl.raster_invalid.date IS 'Date, when the name could be read';
COMMENT ON COLUMN geoetl.raster_invalid.tile_h IS 'Tile column, when the name could be read';
COMMENT ON COLUMN geoetl.raster_invalid.tile_v IS 'Tile row, when the name could be read';
COMMENT ON COLUMN geoetl.raster_invalid.reason IS 'What is wrong with it';
COMMENT ON COLUMN geoetl.raster_invalid.found_at IS 'When it was last checked';
COMMENT ON INDEX geoetl.raster_invalid_pkey IS 'Primary key of geoetl.raster_invalid';

-- The granules of a month: a product's usable files (and those that failed a check) dated in
-- the month of `month` (any day means its month), of the given tiles.
CREATE FUNCTION geoetl._month_granules(product text, month date, tiles text[])
RETURNS SETOF geoetl.raster LANGUAGE sql STABLE AS $$
  SELECT r.* FROM geoetl.raster r
   WHERE r.product = _month_granules.product
     AND r.date >= date_trunc('month', month) AND r.date < date_trunc('month', month) + interval '1 month'
     AND geoetl._tile_name(r.tile_h, r.tile_v) = ANY (tiles)
$$;
COMMENT ON FUNCTION geoetl._month_granules(text, date, text[]) IS
  'Internal: the usable granules (geoetl.raster) of a product, month and tiles';

CREATE FUNCTION geoetl._month_invalid_granules(product text, month date, tiles text[])
RETURNS SETOF geoetl.raster_invalid LANGUAGE sql STABLE AS $$
  SELECT i.* FROM geoetl.raster_invalid i
   WHERE i.product = _month_invalid_granules.product
     AND i.date >= date_trunc('month', month) AND i.date < date_trunc('month', month) + interval '1 month'
     AND geoetl._tile_name(i.tile_h, i.tile_v) = ANY (tiles)
$$;
COMMENT ON FUNCTION geoetl._month_invalid_granules(text, date, text[]) IS
  'Internal: the files of a product, month and tiles that failed a check (geoetl.raster_invalid)';

CREATE TYPE geoetl._scanned_file AS (
  uri text, product text, date date, tile_h int, tile_v int, collection int, production text,
  bytes bigint, valid boolean, reason text);
COMMENT ON TYPE geoetl._scanned_file IS 'Internal: one file found by geoetl._scan_granules';

CREATE FUNCTION geoetl._scan_granules(product text, location text)
RETURNS SETOF geoetl._scanned_file
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'geoetl_scan_granules';
COMMENT ON FUNCTION geoetl._scan_granules(text, text) IS
  'Internal: the files of a product in a folder, each checked (name, HDF5, layer, every block readable)';

CREATE FUNCTION geoetl.register_rasters(product text, location text) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  files geoetl._scanned_file[];
  f geoetl._scanned_file;
  changed int;
  n int := 0;
BEGIN
  IF product IS NULL OR location IS NULL THEN
    RAISE EXCEPTION 'product and location must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF geoetl._product_cadence(product) IS NULL THEN
    RAISE EXCEPTION 'unknown product "%"', product
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Known products: ' || geoetl._product_names(', ') || '.';
  END IF;
  files := ARRAY(SELECT s FROM geoetl._scan_granules(product, location) s);
  -- bad files first: recorded, and out of use if they were registered
  FOREACH f IN ARRAY files LOOP
    CONTINUE WHEN f.valid;
    INSERT INTO geoetl.raster_invalid AS i (uri, product, date, tile_h, tile_v, reason)
    VALUES (f.uri, f.product, f.date, f.tile_h, f.tile_v, f.reason)
    ON CONFLICT (uri) DO UPDATE SET reason = EXCLUDED.reason, found_at = now();
    DELETE FROM geoetl.raster r WHERE r.uri = f.uri;
  END LOOP;
  -- then good ones, oldest production first: the newest one of each date and tile wins,
  -- collection 2 over 1; a file registered unchanged changes nothing
  FOR f IN SELECT * FROM unnest(files) u WHERE u.valid ORDER BY u.collection, u.production LOOP
    INSERT INTO geoetl.raster AS r (product, date, tile_h, tile_v, collection, production, uri, bytes, footprint)
    VALUES (f.product, f.date, f.tile_h, f.tile_v, f.collection, f.production, f.uri, f.bytes,
            ST_MakeEnvelope(-180 + 10 * f.tile_h, 80 - 10 * f.tile_v, -170 + 10 * f.tile_h, 90 - 10 * f.tile_v, 4326))
    ON CONFLICT ON CONSTRAINT raster_granule_key DO UPDATE
       SET collection = EXCLUDED.collection, production = EXCLUDED.production, uri = EXCLUDED.uri,
           bytes = EXCLUDED.bytes, registered_at = now()
     WHERE (EXCLUDED.collection, EXCLUDED.production) > (r.collection, r.production)
        OR (r.uri = EXCLUDED.uri AND r.bytes <> EXCLUDED.bytes);
    GET DIAGNOSTICS changed = ROW_COUNT;
    n := n + changed;
    DELETE FROM geoetl.raster_invalid i WHERE i.uri = f.uri;
  END LOOP;
  RETURN n;
END
$$;
COMMENT ON FUNCTION geoetl.register_rasters(text, text) IS
  'Registers the product''s granules in a folder: each is checked; usable ones go to geoetl.raster (newest '
  'production per date and tile), the others to geoetl.raster_invalid with the reason; returns how many '
  'rows of geoetl.raster were added or replaced';

-- The job kind register_rasters.
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
  ('register_rasters', 'geoetl._job_register_rasters(jsonb)', '30 minutes', 5,
   'Registers the granules of a product found in a folder (geoetl.register_rasters); admins only');
