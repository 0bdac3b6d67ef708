-- Publishing a data package version (the package_publish job): its descriptor (Data Package
-- v2.0), its version number, and the files put in place so that a reader never sees a
-- datapackage.json that names a missing file or one of other bytes: a file replaced in place
-- takes the old descriptor away first, the new descriptor is written last, and everything
-- (files, descriptor, rows) is taken back if the job fails.

-- A resource's name in the descriptor: its source and version, lower case ([-a-z0-9._]).
CREATE FUNCTION geoetl._package_resource_name(source_name text, source_version text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT lower(regexp_replace(source_name || '-' || source_version, '[^A-Za-z0-9._-]', '-', 'g'))
$$;
COMMENT ON FUNCTION geoetl._package_resource_name(text, text) IS 'Internal: a package resource''s name';

-- Each resource of a package against the one of the same source version in package `prev`
-- (NULL: none): the same file at the same key, or a file of other bytes at the same key.
CREATE FUNCTION geoetl._package_diff(package_id bigint, prev bigint)
RETURNS TABLE (source_name text, source_version text, key text, staged_key text, sha256 text,
               same boolean, in_place boolean)
LANGUAGE sql STABLE AS $$
  SELECT r.source_name, r.source_version, r.key, r.staged_key, r.sha256,
         pr.sha256 IS NOT DISTINCT FROM r.sha256 AND pr.key IS NOT DISTINCT FROM r.key,
         coalesce(pr.key = r.key AND pr.sha256 IS DISTINCT FROM r.sha256, false)
    FROM geoetl.package_resource r
    LEFT JOIN geoetl.package_resource pr
      ON pr.package_id = _package_diff.prev AND pr.source_name = r.source_name AND pr.source_version = r.source_version
   WHERE r.package_id = _package_diff.package_id
$$;
COMMENT ON FUNCTION geoetl._package_diff(bigint, bigint) IS
  'Internal: a package''s resources against those of another version (same file, or replaced in place)';

-- The descriptor of package `p` as version `version`, created at `created`.
CREATE FUNCTION geoetl._package_descriptor(p geoetl.package, version text, created timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  resources jsonb;
  licenses jsonb;
  sources jsonb;
  keywords jsonb;
  v jsonb := geoetl.version();
BEGIN
  SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
           'name', geoetl._package_resource_name(r.source_name, r.source_version),
           'path', substr(r.key, char_length(format('packages/%s/', p.name)) + 1),
           'type', CASE WHEN r.format = 'csv' THEN 'table' END,
           'format', r.format, 'mediatype', r.mediatype, 'bytes', r.bytes, 'hash', 'sha256:' || r.sha256,
           'title', coalesce(r.source#>>'{options,title}', r.source_name || ' ' || r.source_version),
           'description', r.source#>>'{options,description}',
           'homepage', r.source#>>'{options,homepage}',
           'licenses', nullif(r.source#>'{options,licenses}', '[]'),
           'sources', r.source#>'{options,sources}',
           'schema', CASE WHEN r.format = 'csv' THEN jsonb_build_object('fields', r.columns) END,
           'geoetl', jsonb_build_object(
             'source', jsonb_build_object('name', r.source_name, 'version', r.source_version,
                                          'kind', r.source->>'kind', 'location', r.source->>'location',
                                          'signature', r.source#>>'{info,signature}',
                                          'registered_at', r.source->'registered_at'),
             'options', geoetl._package_clip_options(r.source->'options'),
             'items', r.items, 'fingerprint', r.fingerprint, 'reused', r.reused,
             'job_id', r.job_id, 'finished_at', r.finished_at)))
           ORDER BY r.source_name, r.source_version)
    INTO resources
    FROM geoetl.package_resource r WHERE r.package_id = p.package_id;
  -- the package's own licences, sources and keywords, else those of its resources (each once)
  licenses := coalesce(nullif(p.options->'licenses', '[]'),
                       (SELECT jsonb_agg(DISTINCT l) FROM geoetl.package_resource r,
                               jsonb_array_elements(coalesce(r.source#>'{options,licenses}', '[]')) l
                         WHERE r.package_id = p.package_id));
  sources := (SELECT jsonb_agg(DISTINCT s) FROM (
                SELECT jsonb_array_elements(coalesce(p.options->'sources', '[]')) s
                UNION ALL
                SELECT jsonb_array_elements(coalesce(r.source#>'{options,sources}', '[]'))
                  FROM geoetl.package_resource r WHERE r.package_id = p.package_id) x);
  keywords := (SELECT jsonb_agg(DISTINCT k) FROM (
                 SELECT jsonb_array_elements(coalesce(p.options->'keywords', '[]')) k
                 UNION ALL
                 SELECT jsonb_array_elements(coalesce(r.source#>'{options,keywords}', '[]'))
                   FROM geoetl.package_resource r WHERE r.package_id = p.package_id) x);
  RETURN jsonb_strip_nulls(jsonb_build_object(
    '$schema', 'https://datapackage.org/profiles/2.0/datapackage.json',
    'name', p.name, 'id', p.uuid::text, 'title', p.title,
    'description', p.options->>'description', 'homepage', p.options->>'homepage',
    'version', version,
    'created', to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'licenses', licenses, 'sources', sources, 'keywords', keywords,
    'spatial', jsonb_build_object('bbox', jsonb_build_array(ST_XMin(p.area_geom), ST_YMin(p.area_geom),
                                                            ST_XMax(p.area_geom), ST_YMax(p.area_geom)),
                                  'crs', 'EPSG:4326'),
    'resources', resources,
    'geoetl', jsonb_build_object(
      'versions', jsonb_build_object('geoetl', v->'geoetl', 'gdal', v->'gdal', 'proj', v->'proj',
                                     'postgresql', v->'postgresql'),
      'package_id', p.package_id,
      'area', jsonb_build_object('area_id', p.area_id, 'geometry_md5', p.area_hash),
      'created_at', p.created_at, 'publish_job', p.publish_job)));
END
$$;
COMMENT ON FUNCTION geoetl._package_descriptor(geoetl.package, text, timestamptz) IS
  'Internal: the Data Package v2.0 descriptor of a package version';

-- What two versions' descriptors are compared on: everything but the version, the time and
-- geoetl's provenance.
CREATE FUNCTION geoetl._package_comparable(d jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT (d - 'version' - 'created' - 'geoetl')
         || jsonb_build_object('resources', (SELECT jsonb_agg(r - 'geoetl' ORDER BY r->>'name')
                                               FROM jsonb_array_elements(d->'resources') r))
$$;
COMMENT ON FUNCTION geoetl._package_comparable(jsonb) IS
  'Internal: a descriptor without version, created and provenance (metadata changes bump the patch version)';

CREATE FUNCTION geoetl._job_package_publish(args jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT geoetl._trusted_call('geoetl._trusted_package_publish(regrole, jsonb)', args)
$$;
COMMENT ON FUNCTION geoetl._job_package_publish(jsonb) IS
  'Job handler: publishes a package whose resources are all done (args package_id)';

-- {"package_id"}: the package's files put in place and datapackage.json written, or nothing
-- written when the newest published version holds the same.
CREATE FUNCTION geoetl._trusted_package_publish(caller regrole, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  p geoetl.package := geoetl._package_owned(caller, (a->>'package_id')::bigint, true);
  prev geoetl.package;
  item record;
  not_done int;
  n_dropped int;
  n_changed int;
  n_in_place int;
  old_version int[];
  new_version text;
  d jsonb;
  put jsonb;
  descriptor_key text := format('packages/%s/datapackage.json', p.name);
BEGIN
  IF p.state = 'published' THEN
    RETURN jsonb_build_object('package_id', p.package_id, 'version', p.version, 'uri', p.uri);
  END IF;
  SELECT count(*) INTO not_done FROM geoetl.package_resource x WHERE x.package_id = p.package_id AND x.state <> 'done';
  IF not_done > 0 THEN
    RAISE EXCEPTION 'package % is not ready: % of its resources are not done', p.package_id, not_done
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  -- versions of one package name are published one at a time
  PERFORM pg_catalog.pg_advisory_xact_lock(hashtextextended('geoetl.package:' || p.name, 0));
  PERFORM geoetl.report_progress('publishing');
  SELECT * INTO prev FROM geoetl.package q
   WHERE q.name = p.name AND q.state = 'published' ORDER BY q.published_at DESC, q.package_id DESC LIMIT 1;
  IF EXISTS (SELECT FROM geoetl._package_diff(p.package_id, prev.package_id) x WHERE NOT x.same AND x.staged_key IS NULL) THEN
    RAISE EXCEPTION 'package % is out of date: version % of "%" was published while it was built', p.package_id,
                    prev.version, p.name
      USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Call create_package again.';
  END IF;
  SELECT count(*) FILTER (WHERE NOT x.same), count(*) FILTER (WHERE x.in_place)
    INTO n_changed, n_in_place FROM geoetl._package_diff(p.package_id, prev.package_id) x;
  SELECT count(*) INTO n_dropped FROM geoetl.package_resource pr
   WHERE pr.package_id = prev.package_id
     AND NOT EXISTS (SELECT FROM geoetl.package_resource r WHERE r.package_id = p.package_id
                        AND r.source_name = pr.source_name AND r.source_version = pr.source_version);
  old_version := string_to_array(prev.version, '.')::int[];
  new_version := CASE WHEN prev.package_id IS NULL THEN '1.0.0'
                      WHEN n_dropped > 0 THEN format('%s.0.0', old_version[1] + 1)
                      WHEN n_changed > 0 THEN format('%s.%s.0', old_version[1], old_version[2] + 1)
                      ELSE format('%s.%s.%s', old_version[1], old_version[2], old_version[3] + 1) END;
  d := geoetl._package_descriptor(p, new_version, now());
  -- staged copies of files that are already published are not needed
  FOR item IN SELECT * FROM geoetl._package_diff(p.package_id, prev.package_id) x WHERE x.same AND x.staged_key IS NOT NULL LOOP
    PERFORM geoetl._package_remove(item.staged_key);
    UPDATE geoetl.package_resource x SET staged_key = NULL
     WHERE x.package_id = p.package_id AND x.source_name = item.source_name AND x.source_version = item.source_version;
  END LOOP;
  -- staged files no build will use: those of published builds of this name (a killed attempt
  -- can leave one behind), or of builds that were deleted (this build's own are handled below)
  FOR item IN SELECT l.key FROM geoetl.store_list(format('packages/%s/_staging/', p.name)) l
               WHERE NOT EXISTS (SELECT FROM geoetl.package q
                                  WHERE q.package_id::text = split_part(l.key, '/', 4) AND q.state = 'running') LOOP
    PERFORM geoetl._package_remove(item.key);
  END LOOP;
  IF prev.package_id IS NOT NULL AND n_changed = 0 AND n_dropped = 0
     AND geoetl._package_comparable(d) = geoetl._package_comparable(prev.descriptor) THEN
    UPDATE geoetl.package x
       SET state = 'published', version = prev.version, descriptor = prev.descriptor, uri = prev.uri,
           changed = false, published_at = clock_timestamp()
     WHERE x.package_id = p.package_id;
    RETURN jsonb_build_object('package_id', p.package_id, 'version', prev.version, 'uri', prev.uri, 'changed', false);
  END IF;
  IF n_in_place > 0 THEN  -- the old descriptor would name files of other bytes: it goes first
    PERFORM geoetl._package_remove(descriptor_key);
  END IF;
  FOR item IN SELECT * FROM geoetl._package_diff(p.package_id, prev.package_id) x WHERE NOT x.same ORDER BY x.key LOOP
    PERFORM geoetl.report_progress(format('publishing %s@%s', item.source_name, item.source_version));
    PERFORM geoetl._package_promote(item.staged_key, item.key, item.sha256);
    PERFORM geoetl._package_remove(item.staged_key);
  END LOOP;
  UPDATE geoetl.package_resource x SET staged_key = NULL WHERE x.package_id = p.package_id;
  put := geoetl._package_put_text(descriptor_key, jsonb_pretty(d) || E'\n');
  -- files of the previous version that this one does not name
  FOR item IN SELECT pr.key FROM geoetl.package_resource pr
            WHERE pr.package_id = prev.package_id
              AND pr.key NOT IN (SELECT x.key FROM geoetl._package_diff(p.package_id, prev.package_id) x) LOOP
    PERFORM geoetl._package_remove(item.key);
  END LOOP;
  UPDATE geoetl.package x
     SET state = 'published', version = new_version, descriptor = d, uri = put->>'uri', changed = true,
         published_at = clock_timestamp()
   WHERE x.package_id = p.package_id;
  RETURN jsonb_build_object('package_id', p.package_id, 'version', new_version, 'uri', put->>'uri', 'changed', true);
END
$$;
COMMENT ON FUNCTION geoetl._trusted_package_publish(regrole, jsonb) IS
  'A package_publish job, for caller (the package''s creator or an admin): files in place, datapackage.json last';

INSERT INTO geoetl.job_kind (kind, handler, lease, max_attempts, backoff, description) VALUES
  ('package_publish', 'geoetl._job_package_publish(jsonb)', '30 minutes', 5, '30 seconds',
   'Publishes a data package whose resources are done: files in place, datapackage.json last');

CREATE VIEW geoetl.package_status AS
SELECT p.package_id, p.area_id, p.name, p.version,
       CASE WHEN p.state = 'published' THEN 'published' WHEN f.error IS NOT NULL THEN 'failed' ELSE 'running' END AS state,
       r.resources, r.resources_done, r.resources_failed, r.bytes,
       f.error AS last_error, p.uri, p.changed, p.created_by, p.created_at, p.published_at
  FROM geoetl.package p
  CROSS JOIN LATERAL (
    SELECT count(*) AS resources, count(*) FILTER (WHERE x.state = 'done') AS resources_done,
           count(*) FILTER (WHERE j.state IN ('failed', 'cancelled')) AS resources_failed,
           sum(x.bytes) FILTER (WHERE x.state = 'done')::bigint AS bytes
      FROM geoetl.package_resource x LEFT JOIN geoetl.job j ON j.job_id = x.job_id
     WHERE x.package_id = p.package_id) r
  CROSS JOIN LATERAL (SELECT CASE WHEN p.state <> 'published' THEN geoetl._package_failure(p.package_id) END AS error) f;
COMMENT ON VIEW geoetl.package_status IS
  'Data packages for a dashboard: state (running, failed, published), resources done and failed, size, last error';
COMMENT ON COLUMN geoetl.package_status.package_id IS 'The package';
COMMENT ON COLUMN geoetl.package_status.area_id IS 'Its area';
COMMENT ON COLUMN geoetl.package_status.name IS 'Its name (the area''s slug)';
COMMENT ON COLUMN geoetl.package_status.version IS 'The version it published';
COMMENT ON COLUMN geoetl.package_status.state IS 'running, failed (a job failed or was cancelled: retry_job it) or published';
COMMENT ON COLUMN geoetl.package_status.resources IS 'Its resources';
COMMENT ON COLUMN geoetl.package_status.resources_done IS 'Resources clipped (or reused)';
COMMENT ON COLUMN geoetl.package_status.resources_failed IS 'Resources whose job failed or was cancelled';
COMMENT ON COLUMN geoetl.package_status.bytes IS 'Size of the resources done';
COMMENT ON COLUMN geoetl.package_status.last_error IS 'The error of its last failed job';
COMMENT ON COLUMN geoetl.package_status.uri IS 'Its datapackage.json';
COMMENT ON COLUMN geoetl.package_status.changed IS 'Whether publishing wrote files (false: same as the version before)';
COMMENT ON COLUMN geoetl.package_status.created_by IS 'Who created it';
COMMENT ON COLUMN geoetl.package_status.created_at IS 'When';
COMMENT ON COLUMN geoetl.package_status.published_at IS 'When it was published';
