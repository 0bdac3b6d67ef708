-- HTTP for SQL pipelines: one GET through the core's client (timeouts, retries with backoff on
-- connection errors, 429 and 5xx, redirects each checked against geoetl.allowed_sources).

CREATE FUNCTION geoetl._http(method text, url text, header_names text[], header_values text[], body text)
RETURNS TABLE (status int, headers jsonb, body bytea)
AS 'MODULE_PATHNAME', 'geoetl_http' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION geoetl._http(text, text, text[], text[], text) IS
  'geoetl.http_get and geoetl.http_post after their arguments were checked';

-- http_get's arguments checked, its headers as two arrays.
CREATE FUNCTION geoetl._http_request(url text, headers jsonb, OUT names text[], OUT "values" text[])
LANGUAGE plpgsql AS $$
DECLARE
  bad text;
BEGIN
  IF url IS NULL OR headers IS NULL THEN
    RAISE EXCEPTION 'url and headers must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF jsonb_typeof(headers) <> 'object' THEN
    RAISE EXCEPTION 'headers must be a JSON object of names and string values, not %', jsonb_typeof(headers)
      USING ERRCODE = 'invalid_parameter_value', HINT = 'For example {"Accept": "application/json"}.';
  END IF;
  SELECT string_agg(key, ', ') INTO bad FROM jsonb_each(headers) WHERE jsonb_typeof(value) <> 'string';
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'header values must be strings: %', bad USING ERRCODE = 'invalid_parameter_value';
  END IF;
  names := ARRAY(SELECT key FROM jsonb_each_text(headers) ORDER BY key);
  "values" := ARRAY(SELECT value FROM jsonb_each_text(headers) ORDER BY key);
END
$$;
COMMENT ON FUNCTION geoetl._http_request(text, jsonb) IS 'Checks the arguments of geoetl.http_get';

CREATE FUNCTION geoetl.http_get(url text, headers jsonb DEFAULT '{}')
RETURNS TABLE (status int, headers jsonb, body bytea) LANGUAGE sql AS $$
  SELECT r.* FROM geoetl._http_request($1, $2) q, geoetl._http('GET', $1, q.names, q."values", '') r
$$;
COMMENT ON FUNCTION geoetl.http_get(text, jsonb) IS
  'GET url with the given headers: the final status (after redirects and retries), the response '
  'headers (lower-case names) and the body. Admins, below geoetl.allowed_sources';

CREATE FUNCTION geoetl.http_post(url text, body text, headers jsonb DEFAULT '{}')
RETURNS TABLE (status int, headers jsonb, body bytea) LANGUAGE sql AS $$
  SELECT r.* FROM geoetl._http_request($1, $3) q,
         geoetl._http('POST', $1, q.names, q."values", coalesce($2, '')) r
$$;
COMMENT ON FUNCTION geoetl.http_post(text, text, jsonb) IS
  'POST body to url with the given headers (say the Content-Type): like geoetl.http_get; a 303 '
  'is followed with a GET, a 307 or 308 with the same POST';
