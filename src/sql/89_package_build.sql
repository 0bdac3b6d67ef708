-- Data packages, built as jobs: create_package records a package (one area, a set of source
-- versions) and enqueues one package_resource job per source; each clips its source to the
-- area into a staging key of the store (or reuses the file already published when nothing
-- changed); the last one to finish enqueues the package_publish job (89_package_publish.sql),
-- which puts the files in place and writes datapackage.json last. Nobody writes these tables
-- directly: the functions below write them through geoetl._trusted_call, which checks who calls.

CREATE TABLE geoetl.package (
  package_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  area_id      bigint REFERENCES geoetl.area ON DELETE SET NULL,
  name         text NOT NULL,
  uuid         uuid NOT NULL,
  title        text NOT NULL,
  area_geom    geometry(MultiPolygon, 4326) NOT NULL,
  area_hash    text NOT NULL,
  sources      text[] NOT NULL,
  options      jsonb NOT NULL DEFAULT '{}',
  state        text NOT NULL DEFAULT 'running',
  version      text,
  changed      boolean,
  descriptor   jsonb,
  uri          text,
  publish_job  bigint,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  created_by   regrole NOT NULL,
  CONSTRAINT package_name_check CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,79}$'),
  CONSTRAINT package_state_check CHECK (state IN ('running', 'published')),
  CONSTRAINT package_published CHECK ((state = 'published') = (published_at IS NOT NULL AND version IS NOT NULL
                                                              AND descriptor IS NOT NULL AND uri IS NOT NULL)),
  CONSTRAINT package_version_check CHECK (version ~ '^[0-9]+\.[0-9]+\.[0-9]+$')
);
CREATE INDEX package_name_idx ON geoetl.package (name, published_at DESC NULLS LAST, package_id DESC);
CREATE INDEX package_area_idx ON geoetl.package (area_id);
SELECT pg_catalog.pg_extension_config_dump('geoetl.package', '');
SELECT pg_catalog.pg_extension_config_dump('geoetl.package_package_id_seq', '');
COMMENT ON TABLE geoetl.package IS
  'Data packages (create_package): one row per build of an area''s package; published rows are its versions';
COMMENT ON COLUMN geoetl.package.package_id IS 'Identifier';
COMMENT ON COLUMN geoetl.package.area_id IS 'The area (NULL once the area is deleted; the package keeps its geometry)';
COMMENT ON COLUMN geoetl.package.name IS 'The area''s slug: the descriptor''s name and the folder packages/<name>/';
COMMENT ON COLUMN geoetl.package.uuid IS 'The descriptor''s id: the same for every version of a package name';
COMMENT ON COLUMN geoetl.package.title IS 'The descriptor''s title (option title, else the area''s name)';
COMMENT ON COLUMN geoetl.package.area_geom IS 'The area''s geometry when the package was created (what every clip used)';
COMMENT ON COLUMN geoetl.package.area_hash IS 'MD5 of that geometry (EWKB): part of every resource''s fingerprint';
COMMENT ON COLUMN geoetl.package.sources IS 'The source versions it holds, as name@version';
COMMENT ON COLUMN geoetl.package.options IS 'Descriptive options: title, description, keywords, licenses, sources, homepage';
COMMENT ON COLUMN geoetl.package.state IS 'running until its publishing job wrote it, then published (geoetl.package_status tells failed ones)';
COMMENT ON COLUMN geoetl.package.version IS 'Semantic version: major when a resource was dropped, minor when one changed or was added, patch for metadata';
COMMENT ON COLUMN geoetl.package.changed IS 'Whether publishing changed the files (false: the previous version still stands, nothing was written)';
COMMENT ON COLUMN geoetl.package.descriptor IS 'The datapackage.json it published';
COMMENT ON COLUMN geoetl.package.uri IS 'Where datapackage.json is (the store''s uri for packages/<name>/datapackage.json)';
COMMENT ON COLUMN geoetl.package.publish_job IS 'The package_publish job, once every resource is done';
COMMENT ON COLUMN geoetl.package.created_at IS 'When create_package was called';
COMMENT ON COLUMN geoetl.package.published_at IS 'When it was published';
COMMENT ON COLUMN geoetl.package.created_by IS 'The role that called create_package: its jobs run as this role';
COMMENT ON INDEX geoetl.package_pkey IS 'Primary key of geoetl.package';
COMMENT ON INDEX geoetl.package_name_idx IS 'The versions of a package name, newest first';
COMMENT ON INDEX geoetl.package_area_idx IS 'The packages of an area (its package name; deleting an area)';

CREATE TABLE geoetl.package_resource (
  package_id     bigint NOT NULL REFERENCES geoetl.package ON DELETE CASCADE,
  source_name    text NOT NULL,
  source_version text NOT NULL,
  source         jsonb NOT NULL,
  key            text NOT NULL,
  format         text NOT NULL,
  mediatype      text NOT NULL,
  job_id         bigint,
  state          text NOT NULL DEFAULT 'pending',
  staged_key     text,
  fingerprint    text,
  reused         boolean,
  bytes          bigint,
  sha256         text,
  items          bigint,
  columns        jsonb,
  finished_at    timestamptz,
  PRIMARY KEY (package_id, source_name, source_version),
  CONSTRAINT package_resource_state_check CHECK (state IN ('pending', 'done')),
  CONSTRAINT package_resource_done CHECK ((state = 'done') = (sha256 IS NOT NULL AND bytes IS NOT NULL
                                                             AND fingerprint IS NOT NULL AND finished_at IS NOT NULL))
);
SELECT pg_catalog.pg_extension_config_dump('geoetl.package_resource', '');
COMMENT ON TABLE geoetl.package_resource IS 'The resources of a package: one source version clipped to its area';
COMMENT ON COLUMN geoetl.package_resource.package_id IS 'The package';
COMMENT ON COLUMN geoetl.package_resource.source_name IS 'The source''s name';
COMMENT ON COLUMN geoetl.package_resource.source_version IS 'The source''s version';
COMMENT ON COLUMN geoetl.package_resource.source IS 'The source row when the package was created (kind, location, options, info)';
COMMENT ON COLUMN geoetl.package_resource.key IS 'Its published key: packages/<name>/<source>/<version>/<source>-<version>-<name>.<ext>';
COMMENT ON COLUMN geoetl.package_resource.format IS 'The descriptor''s format (the file extension: tif, gpkg, fgb, geojson, csv)';
COMMENT ON COLUMN geoetl.package_resource.mediatype IS 'Its media type';
COMMENT ON COLUMN geoetl.package_resource.job_id IS 'The package_resource job that makes it';
COMMENT ON COLUMN geoetl.package_resource.state IS 'pending, or done (clipped and staged, or reused)';
COMMENT ON COLUMN geoetl.package_resource.staged_key IS 'Where its job staged the clip until the package is published (NULL: reused, or published)';
COMMENT ON COLUMN geoetl.package_resource.fingerprint IS 'MD5 of what the clip depends on (area, source file or rows, options): equal means the same file';
COMMENT ON COLUMN geoetl.package_resource.reused IS 'Whether the file already published was kept (the same fingerprint)';
COMMENT ON COLUMN geoetl.package_resource.bytes IS 'Size of the file';
COMMENT ON COLUMN geoetl.package_resource.sha256 IS 'SHA-256 of the file (lower-case hex)';
COMMENT ON COLUMN geoetl.package_resource.items IS 'Raster cells inside the area, or features written';
COMMENT ON COLUMN geoetl.package_resource.columns IS 'Vector output: its columns as Table Schema fields';
COMMENT ON COLUMN geoetl.package_resource.finished_at IS 'When its job finished';
COMMENT ON INDEX geoetl.package_resource_pkey IS 'A source version once per package';

-- Store and format helpers (C: src/pg/package.cpp, package_store.cpp); the extension's owner only.
CREATE FUNCTION geoetl._package_format(format text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'geoetl_package_format' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION geoetl._package_format(text) IS
  'Internal: the file extension and media type of an output format (COG, GPKG, FlatGeobuf, GeoJSON, CSV)';
CREATE FUNCTION geoetl._package_clip_features(features text, area geometry, key text, clip boolean, format text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'geoetl_package_clip_features' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION geoetl._package_clip_features(text, geometry, text, boolean, text) IS
  'Internal: _package_clip_vector of a GeoJSON FeatureCollection (the rows of a table source)';
CREATE FUNCTION geoetl._package_promote(staged_key text, key text, sha256 text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'geoetl_package_promote' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION geoetl._package_promote(text, text, text) IS
  'Internal: copies a staged object to its key (checking its SHA-256), taken back if the transaction fails';
CREATE FUNCTION geoetl._package_put_text(key text, content text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'geoetl_package_put_text' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION geoetl._package_put_text(text, text) IS
  'Internal: writes text as an object of the store, taken back if the transaction fails';
CREATE FUNCTION geoetl._package_remove(key text) RETURNS boolean
AS 'MODULE_PATHNAME', 'geoetl_package_remove' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION geoetl._package_remove(text) IS
  'Internal: removes an object of the store, put back if the transaction fails; whether it was there';

-- The slug of an area's name: in lower case, runs of other characters as "-", at most 60
-- characters; "area-<id>" when nothing is left.
CREATE FUNCTION geoetl._area_slug(name text, area_id bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(nullif(btrim(left(regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g'), 60), '-'), ''),
                  'area-' || area_id)
$$;
COMMENT ON FUNCTION geoetl._area_slug(text, bigint) IS
  'Internal: the slug of an area''s name (before telling areas of the same slug apart)';
-- areas of a slug, found without computing every area's (create_package runs once per area)
CREATE INDEX area_slug_idx ON geoetl.area (geoetl._area_slug(name, area_id));
COMMENT ON INDEX geoetl.area_slug_idx IS 'Areas by the slug of their name (package names)';

-- The package name of an area: its slug, with "-<id>" added when an area of a smaller id has the
-- same slug or a package of another area holds it. An area that has packages keeps their name
-- (renaming the area does not move its package).
CREATE FUNCTION geoetl._package_slug(area_id bigint) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
  kept text := (SELECT p.name FROM geoetl.package p WHERE p.area_id = _package_slug.area_id
                 ORDER BY p.package_id DESC LIMIT 1);
  slug text;
BEGIN
  IF kept IS NOT NULL THEN
    RETURN kept;
  END IF;
  SELECT geoetl._area_slug(a.name, a.area_id) INTO slug FROM geoetl.area a WHERE a.area_id = _package_slug.area_id;
  IF EXISTS (SELECT FROM geoetl.area o
              WHERE geoetl._area_slug(o.name, o.area_id) = slug AND o.area_id < _package_slug.area_id)
     OR EXISTS (SELECT FROM geoetl.package p WHERE p.name = slug AND p.area_id IS DISTINCT FROM _package_slug.area_id) THEN
    slug := slug || '-' || area_id;
  END IF;
  RETURN slug;
END
$$;
COMMENT ON FUNCTION geoetl._package_slug(bigint) IS 'Internal: the package name (folder and descriptor name) of an area';

-- Why a package failed: the last error of one of its jobs that failed or was cancelled; NULL
-- while none has.
CREATE FUNCTION geoetl._package_failure(package_id bigint) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce(j.errors->-1->>'message', format('job %s was %s', j.job_id, j.state))
    FROM (SELECT r.job_id FROM geoetl.package_resource r WHERE r.package_id = _package_failure.package_id
          UNION ALL
          SELECT p.publish_job FROM geoetl.package p WHERE p.package_id = _package_failure.package_id) ids
    JOIN geoetl.job j ON j.job_id = ids.job_id
   WHERE j.state IN ('failed', 'cancelled')
   ORDER BY j.finished_at DESC LIMIT 1
$$;
COMMENT ON FUNCTION geoetl._package_failure(bigint) IS 'Internal: the error of a package''s failed or cancelled job, if any';

CREATE FUNCTION geoetl.create_package(area_id bigint, sources text[] DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS bigint LANGUAGE sql AS $$
  SELECT (geoetl._trusted_call('geoetl._trusted_package_create(regrole, jsonb)',
            jsonb_build_object('area_id', area_id, 'sources', to_jsonb(sources), 'options', options)))::bigint
$$;
COMMENT ON FUNCTION geoetl.create_package(bigint, text[], jsonb) IS
  'Builds a data package of an area (writers): one job per source (NULL: every source''s newest '
  'version; name@version or a bare name for its newest), then one that publishes datapackage.json. '
  'Returns the package id; the same call while that package runs returns the same id';

-- {"area_id", "sources": [..] | null, "options"}: the package's row and resources, and its jobs
-- enqueued as caller.
CREATE FUNCTION geoetl._trusted_package_create(caller regrole, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  area geoetl.area;
  opts jsonb := geoetl._source_options('package', coalesce(nullif(a->'options', 'null'), '{}'));
  wanted text[];
  picked geoetl.source[];
  s geoetl.source;
  slug text;
  id bigint;
  job bigint;
  fmt jsonb;
  ext_name text;
BEGIN
  PERFORM geoetl._require_member(caller, 'geoetl_writer', 'create packages');
  IF a->>'area_id' IS NULL THEN
    RAISE EXCEPTION 'area_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT * INTO area FROM geoetl.area x WHERE x.area_id = (a->>'area_id')::bigint;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'area % does not exist', a->>'area_id' USING ERRCODE = 'no_data_found';
  END IF;
  IF jsonb_typeof(a->'sources') = 'array' THEN
    IF jsonb_array_length(a->'sources') = 0 THEN
      RAISE EXCEPTION 'a package needs at least one source' USING ERRCODE = 'invalid_parameter_value',
        HINT = 'Name sources as name@version or name (its newest version), or pass NULL for all of them.';
    END IF;
    IF EXISTS (SELECT FROM jsonb_array_elements(a->'sources') e WHERE jsonb_typeof(e) <> 'string') THEN
      RAISE EXCEPTION 'sources must not hold NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    wanted := ARRAY(SELECT DISTINCT e FROM jsonb_array_elements_text(a->'sources') e ORDER BY e);
    FOR i IN 1 .. cardinality(wanted) LOOP
      SELECT * INTO s FROM geoetl.source x
       WHERE x.name = split_part(wanted[i], '@', 1)
         AND (strpos(wanted[i], '@') = 0 OR x.version = substr(wanted[i], strpos(wanted[i], '@') + 1))
       ORDER BY x.source_id DESC LIMIT 1;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown source %', wanted[i] USING ERRCODE = 'no_data_found',
          HINT = coalesce('Registered: ' || (SELECT string_agg(x.name || '@' || x.version, ', ' ORDER BY x.name, x.version)
                                               FROM geoetl.source x) || '.',
                          'No source is registered: an admin adds them with geoetl.add_source.');
      END IF;
      picked := picked || s;
    END LOOP;
  ELSE
    picked := ARRAY(SELECT x FROM geoetl.source x
                     WHERE x.source_id = (SELECT max(y.source_id) FROM geoetl.source y WHERE y.name = x.name)
                     ORDER BY x.name);
    IF cardinality(picked) = 0 THEN
      RAISE EXCEPTION 'no source is registered' USING ERRCODE = 'no_data_found',
        HINT = 'An admin adds sources with geoetl.add_source.';
    END IF;
  END IF;
  -- each source version once (a bare name and name@version may name the same one)
  picked := ARRAY(SELECT DISTINCT ON (x.source_id) x FROM unnest(picked) x ORDER BY x.source_id);
  slug := geoetl._package_slug(area.area_id);
  -- the same package still being built: its id (a second call never builds it twice)
  SELECT p.package_id INTO id FROM geoetl.package p
   WHERE p.name = slug AND p.state = 'running' AND p.created_by = caller
     AND p.area_hash = md5(ST_AsEWKB(area.geom)::text) AND p.options = opts
     AND p.sources = ARRAY(SELECT x.name || '@' || x.version FROM unnest(picked) x ORDER BY 1)
     AND geoetl._package_failure(p.package_id) IS NULL
   ORDER BY p.package_id DESC LIMIT 1;
  IF id IS NOT NULL THEN
    RETURN to_jsonb(id);
  END IF;
  INSERT INTO geoetl.package (area_id, name, uuid, title, area_geom, area_hash, sources, options, created_by)
  VALUES (area.area_id, slug,
          coalesce((SELECT p.uuid FROM geoetl.package p WHERE p.name = slug ORDER BY p.package_id LIMIT 1), gen_random_uuid()),
          coalesce(opts->>'title', area.name), area.geom, md5(ST_AsEWKB(area.geom)::text),
          ARRAY(SELECT x.name || '@' || x.version FROM unnest(picked) x ORDER BY 1), opts, caller)
  RETURNING package_id INTO id;
  FOREACH s IN ARRAY picked LOOP
    fmt := geoetl._package_format(CASE s.kind WHEN 'raster' THEN 'COG' ELSE coalesce(s.options->>'format', 'GPKG') END);
    ext_name := format('%s-%s-%s.%s', s.name, s.version, slug, fmt->>'extension');
    job := geoetl._trusted_enqueue(caller, jsonb_build_object(
             'kind', 'package_resource', 'priority', 0, 'run_after', now(),
             'args', jsonb_build_object('package_id', id, 'source', s.name, 'version', s.version),
             'dedupe_key', format('package:%s:%s@%s', id, s.name, s.version)))::text::bigint;
    INSERT INTO geoetl.package_resource (package_id, source_name, source_version, source, key, format, mediatype, job_id)
    VALUES (id, s.name, s.version,
            jsonb_build_object('kind', s.kind, 'location', s.location, 'options', s.options, 'info', s.info,
                               'registered_at', s.registered_at),
            format('packages/%s/%s/%s/%s', slug, s.name, s.version, ext_name),
            fmt->>'extension', fmt->>'mediatype', job);
  END LOOP;
  RETURN to_jsonb(id);
END
$$;
COMMENT ON FUNCTION geoetl._trusted_package_create(regrole, jsonb) IS
  'create_package, for caller (geoetl_writer): the package, its resources and their jobs';

-- The package named in args when caller made it (or is an admin), locked with lock.
CREATE FUNCTION geoetl._package_owned(caller regrole, package_id bigint, lock boolean)
RETURNS geoetl.package LANGUAGE plpgsql AS $$
DECLARE
  p geoetl.package;
BEGIN
  IF lock THEN
    SELECT * INTO p FROM geoetl.package x WHERE x.package_id = _package_owned.package_id FOR UPDATE;
  ELSE
    SELECT * INTO p FROM geoetl.package x WHERE x.package_id = _package_owned.package_id;
  END IF;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'package % does not exist', package_id USING ERRCODE = 'no_data_found';
  END IF;
  IF NOT (pg_catalog.pg_has_role(caller, p.created_by, 'MEMBER') OR pg_catalog.pg_has_role(caller, 'geoetl_admin', 'MEMBER')) THEN
    RAISE EXCEPTION 'package % belongs to %', package_id, p.created_by USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN p;
END
$$;
COMMENT ON FUNCTION geoetl._package_owned(regrole, bigint, boolean) IS
  'Internal: a package''s row when caller created it or is an admin (locked with lock), else 42501';

-- The rows of a table source that intersect the area, as a GeoJSON FeatureCollection (text in a
-- JSON string) whose "crs" member names the column's SRID and whose "name" is the table's (GDAL
-- names the layer it reads, and so the package file's layer, after it). Runs as the role that
-- asked for the package (the table's privileges and row security apply to it); args: relation,
-- geometry_column, srid, area (EWKT). The features are in the order of their text, not of the
-- table's storage: the same rows give the same text, and so the same fingerprint (no new version),
-- wherever the table keeps them (after an UPDATE that changed nothing, a reload, a VACUUM FULL).
CREATE FUNCTION geoetl._package_table_features(args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  features text;
BEGIN
  EXECUTE format('SELECT json_build_object(''type'', ''FeatureCollection'', ''name'', %L, '
                 '''crs'', json_build_object(''type'', ''name'', ''properties'', json_build_object(''name'', %L)), '
                 '''features'', coalesce(json_agg(f.feature::json ORDER BY f.feature COLLATE "C"), ''[]''::json))::text '
                 'FROM (SELECT ST_AsGeoJSON(t.*, %L, 15) AS feature '
                 '        FROM %s t WHERE ST_Intersects(t.%I, ST_Transform(ST_GeomFromEWKT(%L), %s))) f',
                 (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = (args->>'relation')::regclass),
                 'EPSG:' || (args->>'srid'), args->>'geometry_column', args->>'relation',
                 args->>'geometry_column', args->>'area', (args->>'srid')::int)
    INTO features;
  RETURN to_jsonb(features);
END
$$;
COMMENT ON FUNCTION geoetl._package_table_features(jsonb) IS
  'Internal: the rows of a table source that intersect an area as GeoJSON, read as the role that asked';

-- The options of a source that change its clip (the others only describe it).
CREATE FUNCTION geoetl._package_clip_options(options jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}') FROM jsonb_each(options) e
   WHERE e.key IN ('bands', 'all_touched', 'compression', 'layer', 'clip', 'format', 'geometry_column')
$$;
COMMENT ON FUNCTION geoetl._package_clip_options(jsonb) IS
  'Internal: the options of a package source that change its clip (bands, compression, clip, format, ...)';

-- What a resource's file depends on, for a source of `kind` at `location` whose file signature
-- (or rows, for a table) is `content`: equal fingerprints mean the same file.
CREATE FUNCTION geoetl._package_fingerprint(area_hash text, source jsonb, content text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT md5(concat_ws('|', 'geoetl-package-1', area_hash, source->>'kind', source->>'location', content,
                       geoetl._package_clip_options(source->'options')::text))
$$;
COMMENT ON FUNCTION geoetl._package_fingerprint(text, jsonb, text) IS
  'Internal: fingerprint of a package resource''s file (area, source, its content and the clip options)';

CREATE FUNCTION geoetl._job_package_resource(args jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT geoetl._trusted_call('geoetl._trusted_package_resource(regrole, jsonb)', args)
$$;
COMMENT ON FUNCTION geoetl._job_package_resource(jsonb) IS
  'Job handler: clips one source of a package (args package_id, source, version)';

-- {"package_id", "source", "version"}: clips the source to the package's area into a staging key,
-- or keeps the file already published when its fingerprint is the same; the last resource to
-- finish enqueues the package's publishing job.
CREATE FUNCTION geoetl._trusted_package_resource(caller regrole, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  p geoetl.package := geoetl._package_owned(caller, (a->>'package_id')::bigint, false);
  r geoetl.package_resource;
  prev geoetl.package_resource;
  o jsonb;
  content text;
  features text;
  fp text;
  staged text;
  clip jsonb;
  left_to_do int;
  job bigint;
BEGIN
  SELECT * INTO r FROM geoetl.package_resource x
   WHERE x.package_id = p.package_id AND x.source_name = a->>'source' AND x.source_version = a->>'version'
     FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'package % has no source %@%', p.package_id, a->>'source', a->>'version'
      USING ERRCODE = 'no_data_found';
  END IF;
  IF r.state = 'done' OR p.state = 'published' THEN
    RETURN jsonb_build_object('package_id', p.package_id, 'source', r.source_name, 'version', r.source_version,
                              'state', 'done');
  END IF;
  o := r.source->'options';
  -- the same area, source and version is clipped by one job at a time
  PERFORM pg_catalog.pg_advisory_xact_lock(hashtextextended(
    format('geoetl.package:%s:%s@%s', p.name, r.source_name, r.source_version), 0));
  PERFORM geoetl.report_progress(format('%s@%s: reading the source', r.source_name, r.source_version));
  IF r.source->>'kind' = 'table' THEN
    features := geoetl._run_handler('geoetl._package_table_features(jsonb)',
                  jsonb_build_object('relation', r.source#>>'{info,relation}',
                                     'geometry_column', r.source#>>'{info,geometry_column}',
                                     'srid', r.source#>>'{info,srid}', 'area', ST_AsEWKT(p.area_geom)),
                  caller) #>> '{}';
    content := md5(features);
  ELSE
    -- opened again: a source that became unreadable fails here, with the reason
    content := geoetl._probe_source(r.source->>'location')->>'signature';
  END IF;
  fp := geoetl._package_fingerprint(p.area_hash, r.source, content);
  -- the file the package's newest published version holds, when it is the same
  SELECT x.* INTO prev FROM geoetl.package_resource x
   WHERE x.package_id = (SELECT q.package_id FROM geoetl.package q WHERE q.name = p.name AND q.state = 'published'
                          ORDER BY q.published_at DESC, q.package_id DESC LIMIT 1)
     AND x.source_name = r.source_name AND x.source_version = r.source_version;
  IF prev.fingerprint = fp THEN
    UPDATE geoetl.package_resource x
       SET state = 'done', fingerprint = fp, reused = true, bytes = prev.bytes, sha256 = prev.sha256,
           items = prev.items, columns = prev.columns, finished_at = clock_timestamp()
     WHERE x.package_id = r.package_id AND x.source_name = r.source_name AND x.source_version = r.source_version;
  ELSE
    PERFORM geoetl.report_progress(format('%s@%s: clipping', r.source_name, r.source_version));
    staged := format('packages/%s/_staging/%s/%s', p.name, p.package_id, regexp_replace(r.key, '^.*/', ''));
    clip := CASE r.source->>'kind'
      WHEN 'raster' THEN geoetl._package_clip_raster(
        r.source->>'location', p.area_geom, staged,
        ARRAY(SELECT b::int FROM jsonb_array_elements_text(coalesce(o->'bands', '[]')) b),
        coalesce((o->>'all_touched')::boolean, false), coalesce(o->>'compression', 'DEFLATE'))
      WHEN 'vector' THEN geoetl._package_clip_vector(
        r.source->>'location', p.area_geom, staged, o->>'layer',
        coalesce((o->>'clip')::boolean, true), coalesce(o->>'format', 'GPKG'))
      ELSE geoetl._package_clip_features(
        features, p.area_geom, staged, coalesce((o->>'clip')::boolean, true), coalesce(o->>'format', 'GPKG')) END;
    UPDATE geoetl.package_resource x
       SET state = 'done', staged_key = staged, fingerprint = fp, reused = false, bytes = (clip->>'bytes')::bigint,
           sha256 = clip->>'sha256', items = (clip->>'items')::bigint, columns = clip->'columns',
           finished_at = clock_timestamp()
     WHERE x.package_id = r.package_id AND x.source_name = r.source_name AND x.source_version = r.source_version;
  END IF;
  -- the last resource to finish enqueues the publishing job (the package's row lock orders them)
  PERFORM 1 FROM geoetl.package x WHERE x.package_id = p.package_id FOR UPDATE;
  SELECT count(*) INTO left_to_do FROM geoetl.package_resource x
   WHERE x.package_id = p.package_id AND x.state <> 'done';
  IF left_to_do = 0 THEN
    job := geoetl._trusted_enqueue(p.created_by, jsonb_build_object(
             'kind', 'package_publish', 'priority', 0, 'run_after', now(),
             'args', jsonb_build_object('package_id', p.package_id),
             'dedupe_key', format('package:%s', p.package_id)))::text::bigint;
    UPDATE geoetl.package x SET publish_job = job WHERE x.package_id = p.package_id;
  END IF;
  RETURN jsonb_build_object('package_id', p.package_id, 'source', r.source_name, 'version', r.source_version,
                            'reused', prev.fingerprint IS NOT DISTINCT FROM fp,
                            'bytes', coalesce((clip->>'bytes')::bigint, prev.bytes),
                            'sha256', coalesce(clip->>'sha256', prev.sha256), 'publish_job', job);
END
$$;
COMMENT ON FUNCTION geoetl._trusted_package_resource(regrole, jsonb) IS
  'A package_resource job, for caller (the package''s creator or an admin): one source clipped and staged, or reused';

INSERT INTO geoetl.job_kind (kind, handler, lease, max_attempts, backoff, description) VALUES
  ('package_resource', 'geoetl._job_package_resource(jsonb)', '1 hour', 3, '30 seconds',
   'Clips one source of a data package to its area (geoetl.create_package)');
