-- The store: where fetched files and produced artefacts go (a local folder or S3-compatible
-- storage), listed, swept of what dead writers left, and filled by downloads.

CREATE FUNCTION geoetl.store_list(prefix text DEFAULT '')
RETURNS TABLE (key text, size bigint, uri text)
AS 'MODULE_PATHNAME', 'geoetl_store_list' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION geoetl.store_list(text) IS
  'The objects of the store (geoetl.store) whose keys start with prefix: key, size, and the URI '
  'catalog rows use';

CREATE FUNCTION geoetl._store_sweep(min_age_seconds bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'geoetl_store_sweep' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION geoetl._store_sweep(bigint) IS
  'Removes the files writers that died left in the store''s local folder (staging, unfinished '
  'copies) not modified for min_age_seconds; returns how many';

CREATE FUNCTION geoetl.store_sweep(older_than interval DEFAULT '1 day') RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
  IF older_than IS NULL OR older_than < interval '0' THEN
    RAISE EXCEPTION 'older_than must be a positive interval, not %', coalesce(older_than::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN geoetl._store_sweep(extract(epoch FROM older_than)::bigint);
END
$$;
COMMENT ON FUNCTION geoetl.store_sweep(interval) IS
  'Removes what downloads and copies that died (a crashed or killed backend) left in the store''s '
  'local folder: files in its .staging folder and unfinished "*.part-XXXXXX" copies not modified '
  'for older_than. Objects stay. Returns how many files it removed';

CREATE FUNCTION geoetl._store_fetch(url text, key text, kind text, laads boolean)
RETURNS TABLE (uri text, bytes bigint, sha256 text, local_path text)
AS 'MODULE_PATHNAME', 'geoetl_store_fetch' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION geoetl._store_fetch(text, text, text, boolean) IS
  'Downloads url into the store as key, checked (kind: hdf5, tiff, json or any), with the LAADS '
  'bearer token when laads; local_path is a local file with its bytes (the object itself, or the '
  'copy kept of an S3 object)';
