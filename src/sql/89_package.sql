-- Data packages: registered sources (dataset versions) clipped to an area and published with a
-- frictionless datapackage.json. Sources are written by admins (add_source), and every row names
-- a location its writer may read (trigger source_check), so that package jobs, which run as the
-- writers who asked for them, read only what an admin allowed.

CREATE TABLE geoetl.source (
  source_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name          text NOT NULL,
  version       text NOT NULL,
  kind          text NOT NULL,
  location      text NOT NULL,
  options       jsonb NOT NULL DEFAULT '{}',
  info          jsonb NOT NULL DEFAULT '{}',
  registered_at timestamptz NOT NULL DEFAULT now(),
  registered_by name NOT NULL DEFAULT current_user,
  CONSTRAINT source_name_version_key UNIQUE (name, version),
  CONSTRAINT source_name_check CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
  CONSTRAINT source_version_check CHECK (version ~ '^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$'),
  CONSTRAINT source_kind_check CHECK (kind IN ('raster', 'vector', 'table')),
  CONSTRAINT source_options_is_object CHECK (jsonb_typeof(options) = 'object')
);
SELECT pg_catalog.pg_extension_config_dump('geoetl.source', '');
SELECT pg_catalog.pg_extension_config_dump('geoetl.source_source_id_seq', '');
COMMENT ON TABLE geoetl.source IS
  'Data package sources: one row per dataset version (add_source); packages copy what they use';
COMMENT ON COLUMN geoetl.source.source_id IS 'Identifier';
COMMENT ON COLUMN geoetl.source.name IS 'Dataset name, lowercase [a-z0-9._-], e.g. ntl-annual';
COMMENT ON COLUMN geoetl.source.version IS 'Dataset version, [A-Za-z0-9._+-], e.g. v1 or 2024; a path part of the package';
COMMENT ON COLUMN geoetl.source.kind IS 'raster, vector (a file OGR reads) or table (pg:schema.table)';
COMMENT ON COLUMN geoetl.source.location IS 'A raster or vector file (path, URL, s3://), or pg:schema.table';
COMMENT ON COLUMN geoetl.source.options IS 'Descriptor fields and clip options, checked by add_source';
COMMENT ON COLUMN geoetl.source.info IS 'What opening the source found: driver, CRS, bands or layers, signature';
COMMENT ON COLUMN geoetl.source.registered_at IS 'When the row was written';
COMMENT ON COLUMN geoetl.source.registered_by IS 'Who wrote it';
COMMENT ON INDEX geoetl.source_pkey IS 'Primary key of geoetl.source';
COMMENT ON INDEX geoetl.source_name_version_key IS 'A dataset version is registered once';

-- The options of a source of `kind` (or of a package: kind 'package', the descriptive ones
-- only), checked: unknown keys and wrong types are errors (22023).
CREATE FUNCTION geoetl._source_options(kind text, options jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  common constant text[] := ARRAY['title', 'description', 'licenses', 'sources', 'homepage', 'keywords'];
  own text[] := CASE kind WHEN 'raster' THEN ARRAY['bands', 'format', 'compression', 'all_touched']
                          WHEN 'vector' THEN ARRAY['layer', 'clip', 'format']
                          WHEN 'package' THEN '{}'::text[]
                          ELSE ARRAY['geometry_column', 'clip', 'format'] END;
  unknown text;
  item jsonb;
BEGIN
  IF options IS NULL OR jsonb_typeof(options) <> 'object' THEN
    RAISE EXCEPTION '% options must be a JSON object', CASE kind WHEN 'package' THEN 'package' ELSE 'source' END
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT string_agg(k, ', ' ORDER BY k) INTO unknown
    FROM jsonb_object_keys(options) k WHERE k <> ALL (common || own);
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'unknown option(s) for a %: %', CASE kind WHEN 'package' THEN kind ELSE kind || ' source' END, unknown
      USING ERRCODE = 'invalid_parameter_value',
            HINT = format('Options: %s.', array_to_string(common || own, ', '));
  END IF;
  IF EXISTS (SELECT FROM jsonb_each(options) e
              WHERE e.key IN ('title', 'description', 'homepage', 'layer', 'format', 'compression', 'geometry_column')
                AND jsonb_typeof(e.value) <> 'string')
     OR EXISTS (SELECT FROM jsonb_each(options) e
                 WHERE e.key IN ('clip', 'all_touched') AND jsonb_typeof(e.value) <> 'boolean')
     OR EXISTS (SELECT FROM jsonb_each(options) e
                 WHERE e.key IN ('licenses', 'sources', 'keywords', 'bands') AND jsonb_typeof(e.value) <> 'array') THEN
    RAISE EXCEPTION 'source options have a value of the wrong type'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'title, description, homepage, layer, format, compression and geometry_column are strings; '
                   'clip and all_touched booleans; licenses, sources, keywords and bands arrays.';
  END IF;
  FOR item IN SELECT jsonb_array_elements(coalesce(options->'licenses', '[]')) LOOP
    IF jsonb_typeof(item) <> 'object' OR NOT (item ? 'name' OR item ? 'path')
       OR (item ? 'name' AND (jsonb_typeof(item->'name') <> 'string' OR item->>'name' !~ '^[-a-zA-Z0-9._]+$')) THEN
      RAISE EXCEPTION 'a licence must be an object with a name (an Open Definition identifier) or a path'
        USING ERRCODE = 'invalid_parameter_value', DETAIL = format('Got %s.', item),
              HINT = 'For example {"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}.';
    END IF;
  END LOOP;
  FOR item IN SELECT jsonb_array_elements(coalesce(options->'sources', '[]')) LOOP
    IF jsonb_typeof(item) <> 'object' OR jsonb_typeof(item->'title') IS DISTINCT FROM 'string' THEN
      RAISE EXCEPTION 'a source citation must be an object with a title'
        USING ERRCODE = 'invalid_parameter_value', DETAIL = format('Got %s.', item),
              HINT = 'For example {"title": "NASA Black Marble VNP46A3", "path": "https://..."}.';
    END IF;
  END LOOP;
  IF EXISTS (SELECT FROM jsonb_array_elements(coalesce(options->'keywords', '[]')) k WHERE jsonb_typeof(k) <> 'string') THEN
    RAISE EXCEPTION 'keywords must be strings' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF EXISTS (SELECT FROM jsonb_array_elements(coalesce(options->'bands', '[]')) b
              WHERE jsonb_typeof(b) <> 'number' OR b::numeric <> trunc(b::numeric) OR b::numeric < 1) THEN
    RAISE EXCEPTION 'bands must be band numbers (1, 2, ...)' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF kind = 'raster' AND coalesce(options->>'format', 'COG') <> 'COG' THEN
    RAISE EXCEPTION 'a raster source is written as COG, not %', options->>'format'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF kind = 'raster' AND coalesce(options->>'compression', 'DEFLATE') NOT IN ('DEFLATE', 'ZSTD', 'LZW', 'LERC_ZSTD', 'NONE') THEN
    RAISE EXCEPTION 'unknown compression %', options->>'compression'
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Use DEFLATE, ZSTD, LZW, LERC_ZSTD or NONE.';
  END IF;
  IF kind <> 'raster' AND coalesce(options->>'format', 'GPKG') NOT IN ('GPKG', 'FlatGeobuf', 'GeoJSON', 'CSV') THEN
    RAISE EXCEPTION 'unknown vector format %', options->>'format'
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Use GPKG, FlatGeobuf, GeoJSON or CSV.';
  END IF;
  RETURN options;
END
$$;
COMMENT ON FUNCTION geoetl._source_options(text, jsonb) IS
  'Internal: the options of a data package source of a kind, checked (22023 with a hint)';

-- What opening a source file finds (C: package/source_probe.h): {"kind", "driver", "crs",
-- "bands" | "layers", "signature"}. Refuses (42501) a location the caller may not read.
CREATE FUNCTION geoetl._probe_source(location text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'geoetl_probe_source' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION geoetl._probe_source(text) IS
  'Internal: opens a source file once (a raster, else a vector dataset) and says what it is';

-- A pg:schema.table source: the relation, which the caller may read, and its geometry column.
CREATE FUNCTION geoetl._probe_table_source(location text, options jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  rel regclass := to_regclass(substr(location, 4));
  geom_columns text[];
  chosen text;
  srid int;
BEGIN
  IF rel IS NULL THEN
    RAISE EXCEPTION 'relation % does not exist', substr(location, 4)
      USING ERRCODE = 'undefined_table', HINT = 'Name a table or view as pg:schema.table.';
  END IF;
  IF NOT pg_catalog.has_table_privilege(rel, 'SELECT') THEN
    RAISE EXCEPTION 'permission denied for %', rel USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO geom_columns
    FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
     AND a.atttypid = 'geometry'::regtype;
  chosen := coalesce(options->>'geometry_column', geom_columns[1]);
  IF geom_columns IS NULL OR chosen <> ALL (geom_columns) THEN
    RAISE EXCEPTION '% has no geometry column%', rel,
                    coalesce(' ' || quote_ident(options->>'geometry_column'), '')
      USING ERRCODE = 'undefined_column',
            HINT = CASE WHEN geom_columns IS NULL THEN 'A table source needs a column of type geometry.'
                        ELSE format('Its geometry columns: %s.', array_to_string(geom_columns, ', ')) END;
  END IF;
  IF cardinality(geom_columns) > 1 AND options->>'geometry_column' IS NULL THEN
    RAISE EXCEPTION '% has % geometry columns', rel, cardinality(geom_columns)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = format('Name one with the option geometry_column: %s.', array_to_string(geom_columns, ', '));
  END IF;
  SELECT g.srid INTO srid FROM public.geometry_columns g
   WHERE format('%I.%I', g.f_table_schema, g.f_table_name)::regclass = rel AND g.f_geometry_column = chosen;
  IF coalesce(srid, 0) = 0 THEN  -- the rows' coordinates would have no CRS in the package
    RAISE EXCEPTION 'column % of % has no SRID', quote_ident(chosen), rel
      USING ERRCODE = 'invalid_parameter_value',
            HINT = format('Give the column one: ALTER TABLE %s ALTER COLUMN %I TYPE geometry(Geometry, 4326) USING ST_SetSRID(%I, 4326).',
                          rel, chosen, chosen);
  END IF;
  RETURN jsonb_build_object('kind', 'table',
                            'relation', (SELECT format('%I.%I', n.nspname, c.relname)
                                           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                                          WHERE c.oid = rel),
                            'geometry_column', chosen,
                            'srid', srid);
END
$$;
COMMENT ON FUNCTION geoetl._probe_table_source(text, jsonb) IS
  'Internal: checks a pg:schema.table source (exists, readable, one geometry column or the one named)';

CREATE FUNCTION geoetl._source_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.location LIKE 'pg:%' THEN
    NEW.info := geoetl._probe_table_source(NEW.location, NEW.options);
  ELSE
    NEW.info := geoetl._probe_source(NEW.location);
  END IF;
  NEW.kind := NEW.info->>'kind';
  NEW.options := geoetl._source_options(NEW.kind, NEW.options);
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION geoetl._source_check() IS
  'Internal trigger: a source row names a location its writer may read, opened once, with checked options';

CREATE TRIGGER source_check BEFORE INSERT OR UPDATE OF location, options ON geoetl.source
  FOR EACH ROW EXECUTE FUNCTION geoetl._source_check();
COMMENT ON TRIGGER source_check ON geoetl.source IS
  'Every row written, whichever way, names a source its writer may read, and says what it is';

CREATE FUNCTION geoetl.add_source(name text, version text, location text, options jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  new_id bigint;
BEGIN
  IF name IS NULL OR version IS NULL OR location IS NULL THEN
    RAISE EXCEPTION 'name, version and location must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF name !~ '^[a-z0-9][a-z0-9._-]{0,99}$' THEN
    RAISE EXCEPTION 'invalid source name %', quote_literal(name) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Lowercase letters, digits, ".", "_" and "-", starting with a letter or digit (at most 100).';
  END IF;
  IF version !~ '^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$' THEN
    RAISE EXCEPTION 'invalid source version %', quote_literal(version) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Letters, digits, ".", "_", "+" and "-", starting with a letter or digit (it names a folder).';
  END IF;
  INSERT INTO geoetl.source (name, version, kind, location, options)
  VALUES (add_source.name, add_source.version, 'raster', add_source.location, coalesce(add_source.options, '{}'))
  RETURNING source_id INTO new_id;
  RETURN new_id;
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION 'source %@% is already registered', add_source.name, add_source.version
    USING ERRCODE = 'unique_violation',
          HINT = 'Register the new data as a new version; packages already published keep the old one.';
END
$$;
COMMENT ON FUNCTION geoetl.add_source(text, text, text, jsonb) IS
  'Registers one dataset version as a data package source (admins): a raster, a vector file or '
  'pg:schema.table, opened once; returns source_id';

CREATE FUNCTION geoetl.remove_source(name text, version text) RETURNS boolean
LANGUAGE sql AS $$
  WITH gone AS (DELETE FROM geoetl.source s WHERE s.name = remove_source.name AND s.version = remove_source.version
                RETURNING 1)
  SELECT EXISTS (SELECT FROM gone)
$$;
COMMENT ON FUNCTION geoetl.remove_source(text, text) IS
  'Removes a source version (admins); packages already published are not touched';

-- A source clipped to an area and published into the store as `key` (taken back if the
-- transaction fails): {"uri", "bytes", "sha256", "items"} (cells inside, or features written).
-- No role but the extension's owner may call them: the package jobs do, for sources an admin
-- registered.
CREATE FUNCTION geoetl._package_clip_raster(location text, area geometry, key text, bands int[],
                                            all_touched boolean, compression text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'geoetl_package_clip_raster' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION geoetl._package_clip_raster(text, geometry, text, int[], boolean, text) IS
  'Internal: a raster cropped to the area in its own grid, cells outside set to nodata, as a COG '
  'in the store at key; returns uri, bytes, sha256 and the cells inside';

CREATE FUNCTION geoetl._package_clip_vector(location text, area geometry, key text, layer text,
                                            clip boolean, format text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'geoetl_package_clip_vector' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION geoetl._package_clip_vector(text, geometry, text, text, boolean, text) IS
  'Internal: the features of a vector file that intersect the area (cut or whole) in the store '
  'at key; returns uri, bytes, sha256 and the features written (layer NULL: the only layer)';
