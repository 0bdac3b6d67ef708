-- Green Button (ESPI) feeds fetched incrementally: one feed per customer's usage point; each
-- fetch asks for the time after the last run's data and stores the answer raw in the store as
-- espi/raw/<project-id>_<usage-point-id>_<run>.xml only when it brings newer readings (the next
-- run number then), so runs have no gap, no overlap and no empty file. Parsing the raw files is
-- 87_espi_parse.sql. Feeds and their credentials are written only through geoetl._trusted_call:
-- tokens live in geoetl.secret (superusers only), read by the C code that sends them.

CREATE TABLE geoetl.espi_feed (
  feed_id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id          text NOT NULL,
  usage_point         text NOT NULL,
  url                 text NOT NULL,
  end_of_day_utc_hour int NOT NULL DEFAULT 7,
  history             interval NOT NULL DEFAULT '4 years',
  server_ca           text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  created_by          regrole NOT NULL,
  CONSTRAINT espi_feed_project_check CHECK (project_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
  CONSTRAINT espi_feed_usage_point_check CHECK (usage_point ~ '^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$'),
  CONSTRAINT espi_feed_url_check CHECK (url ~* '^https?://'),
  CONSTRAINT espi_feed_hour_check CHECK (end_of_day_utc_hour BETWEEN 0 AND 23),
  CONSTRAINT espi_feed_history_check CHECK (history > interval '0' AND history <= interval '20 years'),
  CONSTRAINT espi_feed_server_ca_check CHECK (server_ca ~ '-----BEGIN CERTIFICATE-----'),
  CONSTRAINT espi_feed_unique UNIQUE (project_id, usage_point)
);
SELECT pg_catalog.pg_extension_config_dump('geoetl.espi_feed', '');
SELECT pg_catalog.pg_extension_config_dump('geoetl.espi_feed_feed_id_seq', '');
COMMENT ON TABLE geoetl.espi_feed IS
  'Green Button Connect (ESPI) feeds: one customer''s usage point each (geoetl.add_espi_feed); '
  'their tokens are in geoetl.secret';
COMMENT ON COLUMN geoetl.espi_feed.feed_id IS 'Identifier';
COMMENT ON COLUMN geoetl.espi_feed.project_id IS 'The project (customer) the usage point belongs to: the first part of its raw file names';
COMMENT ON COLUMN geoetl.espi_feed.usage_point IS 'The usage point id, taken from the URL (.../UsagePoint/{id})';
COMMENT ON COLUMN geoetl.espi_feed.url IS 'The ESPI resource of the usage point (.../espi/1_1/resource/Batch/Subscription/{id}/UsagePoint/{id})';
COMMENT ON COLUMN geoetl.espi_feed.end_of_day_utc_hour IS 'The UTC hour the API''s days end at (7 for US Pacific time): fetches end one second before it, two days back';
COMMENT ON COLUMN geoetl.espi_feed.history IS 'How far back the first fetch reaches';
COMMENT ON COLUMN geoetl.espi_feed.server_ca IS 'Certificate authorities (PEM) that sign the API''s certificate, when not the system''s (a utility''s private PKI); NULL: the system''s';
COMMENT ON COLUMN geoetl.espi_feed.created_at IS 'When it was added';
COMMENT ON COLUMN geoetl.espi_feed.created_by IS 'The role that added it';
COMMENT ON INDEX geoetl.espi_feed_pkey IS 'Primary key of geoetl.espi_feed';
COMMENT ON INDEX geoetl.espi_feed_unique IS 'One feed per project and usage point';

-- One row per fetch that stored a file. Keyed by project and usage point, not by feed, so that a
-- feed removed and added again continues its run numbers and its watermark.
CREATE TABLE geoetl.espi_run (
  project_id     text NOT NULL,
  usage_point    text NOT NULL,
  run            int NOT NULL CHECK (run >= 0),
  feed_id        bigint REFERENCES geoetl.espi_feed ON DELETE SET NULL,
  requested_from timestamptz NOT NULL,
  requested_to   timestamptz NOT NULL,
  data_from      timestamptz NOT NULL,
  data_to        timestamptz NOT NULL,
  readings       bigint NOT NULL,
  bytes          bigint NOT NULL,
  sha256         text NOT NULL,
  uri            text NOT NULL,
  key            text NOT NULL,
  fetched_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, usage_point, run),
  CONSTRAINT espi_run_range CHECK (requested_from < requested_to AND data_from <= data_to)
);
SELECT pg_catalog.pg_extension_config_dump('geoetl.espi_run', '');
COMMENT ON TABLE geoetl.espi_run IS
  'ESPI fetches that brought new readings: one raw file each, run 0 first; the next fetch starts at the last data_to';
COMMENT ON COLUMN geoetl.espi_run.project_id IS 'The feed''s project';
COMMENT ON COLUMN geoetl.espi_run.usage_point IS 'The feed''s usage point';
COMMENT ON COLUMN geoetl.espi_run.run IS 'Run number: 0, 1, 2, ... with no number skipped';
COMMENT ON COLUMN geoetl.espi_run.feed_id IS 'The feed (NULL once it is removed)';
COMMENT ON COLUMN geoetl.espi_run.requested_from IS 'published-min of the request';
COMMENT ON COLUMN geoetl.espi_run.requested_to IS 'published-max of the request';
COMMENT ON COLUMN geoetl.espi_run.data_from IS 'Start of the earliest reading in the file';
COMMENT ON COLUMN geoetl.espi_run.data_to IS 'End of the latest reading in the file: the next fetch''s published-min';
COMMENT ON COLUMN geoetl.espi_run.readings IS 'IntervalReadings in the file';
COMMENT ON COLUMN geoetl.espi_run.bytes IS 'Size of the file';
COMMENT ON COLUMN geoetl.espi_run.sha256 IS 'SHA-256 of the file, computed while it downloaded';
COMMENT ON COLUMN geoetl.espi_run.uri IS 'Where the store keeps it';
COMMENT ON COLUMN geoetl.espi_run.key IS 'Its store key: espi/raw/<project-id>_<usage-point-id>_<run>.xml';
COMMENT ON COLUMN geoetl.espi_run.fetched_at IS 'When it was fetched';
COMMENT ON INDEX geoetl.espi_run_pkey IS 'One row per usage point and run';

-- The end of a fetch made at `at`: two days back, one second before the API's end of day.
CREATE FUNCTION geoetl.espi_fetch_end(at timestamptz, end_of_day_utc_hour int DEFAULT 7)
RETURNS timestamptz LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT (date_trunc('day', at AT TIME ZONE 'UTC') - interval '2 days'
          + make_interval(hours => end_of_day_utc_hour) - interval '1 second') AT TIME ZONE 'UTC'
$$;
COMMENT ON FUNCTION geoetl.espi_fetch_end(timestamptz, int) IS
  'The end of the range an ESPI fetch at `at` asks for: two days back, one second before the '
  'end-of-day UTC hour (recent days are not complete at the utility yet)';

-- The usage point id in an ESPI resource URL: what follows the last /UsagePoint/.
CREATE FUNCTION geoetl._espi_usage_point(url text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT (regexp_match(url, '.*/UsagePoint/([^/?#]+)/?(?:[?#].*)?$'))[1]
$$;
COMMENT ON FUNCTION geoetl._espi_usage_point(text) IS
  'The usage point id of an ESPI resource URL (.../UsagePoint/{id}); NULL if it names none';

CREATE FUNCTION geoetl.add_espi_feed(project_id text, url text, token text DEFAULT NULL,
                                     end_of_day_utc_hour int DEFAULT 7, history interval DEFAULT '4 years',
                                     client_cert text DEFAULT NULL, client_key text DEFAULT NULL,
                                     server_ca text DEFAULT NULL)
RETURNS bigint LANGUAGE sql AS $$
  SELECT (geoetl._trusted_call('geoetl._trusted_add_espi_feed(regrole, jsonb)',
    jsonb_build_object('project_id', project_id, 'url', url, 'token', token,
                       'end_of_day_utc_hour', end_of_day_utc_hour, 'history', history,
                       'client_cert', client_cert, 'client_key', client_key, 'server_ca', server_ca)))::bigint
$$;
COMMENT ON FUNCTION geoetl.add_espi_feed(text, text, text, int, interval, text, text, text) IS
  'Adds a Green Button Connect feed (admins): url is the ESPI resource of one usage point; the '
  'OAuth 2.0 access token (and a client certificate and key, PEM, for mutual TLS) go into '
  'geoetl.secret; server_ca (PEM) replaces the system''s certificate authorities for it. Returns feed_id';

-- Called first by the trusted functions that get a credential: an error they raise must not
-- write the statement, and with it the credential, to the server log. Set as the extension's
-- owner (log_min_error_statement is for superusers), for the rest of the call only.
CREATE FUNCTION geoetl._quiet_statement() RETURNS void LANGUAGE sql AS $$
  SELECT FROM pg_catalog.set_config('log_min_error_statement', 'panic', true)
$$;
COMMENT ON FUNCTION geoetl._quiet_statement() IS
  'Internal: no statement in the server log for an error of this transaction (a credential is in it)';

-- Stores (or, with NULL or '', removes) one credential of a feed. Runs as the extension's owner.
CREATE FUNCTION geoetl._espi_set_secret(feed_id bigint, kind text, value text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF value IS NULL OR value = '' THEN
    DELETE FROM geoetl.secret s WHERE s.name = kind || ':' || feed_id;
  ELSE
    INSERT INTO geoetl.secret AS s (name, value) VALUES (kind || ':' || feed_id, value)
    ON CONFLICT ON CONSTRAINT secret_pkey DO UPDATE SET value = EXCLUDED.value, updated_at = now();
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._espi_set_secret(bigint, text, text) IS
  'Internal: sets or removes espi_token, espi_client_cert or espi_client_key of a feed';

CREATE FUNCTION geoetl._trusted_add_espi_feed(caller regrole, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  project text := a->>'project_id';
  feed_url text := a->>'url';
  up text;
  hour int := (a->>'end_of_day_utc_hour')::int;
  back interval := (a->>'history')::interval;
  new_id bigint;
BEGIN
  PERFORM geoetl._quiet_statement();
  PERFORM geoetl._require_member(caller, 'geoetl_admin', 'add ESPI feeds');
  IF project IS NULL OR feed_url IS NULL OR hour IS NULL OR back IS NULL THEN
    RAISE EXCEPTION 'project_id, url, end_of_day_utc_hour and history must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF project !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' THEN
    RAISE EXCEPTION 'invalid project_id %', quote_literal(project) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Letters, digits, ".", "_" and "-", starting with a letter or digit (at most 100): it names raw files.';
  END IF;
  IF feed_url !~* '^https?://[^/?#]+/' THEN
    RAISE EXCEPTION 'invalid ESPI feed URL %', quote_literal(feed_url) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'An http:// or https:// URL of one usage point: .../espi/1_1/resource/Batch/Subscription/{subscriptionId}/UsagePoint/{usagePointId}.';
  END IF;
  up := geoetl._espi_usage_point(feed_url);
  IF up IS NULL THEN
    RAISE EXCEPTION 'the URL names no usage point: %', quote_literal(feed_url) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'The URL of a feed is the ESPI resource of one usage point: .../Subscription/{subscriptionId}/UsagePoint/{usagePointId}.';
  END IF;
  IF up !~ '^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$' THEN
    RAISE EXCEPTION 'invalid usage point id % in the URL', quote_literal(up) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'geoetl takes usage point ids of letters, digits, "." and "-" (at most 100): they name raw files.';
  END IF;
  IF hour NOT BETWEEN 0 AND 23 THEN
    RAISE EXCEPTION 'end_of_day_utc_hour must be between 0 and 23, not %', hour USING ERRCODE = 'invalid_parameter_value',
      HINT = 'The UTC hour the utility''s day ends at: 7 for US Pacific time, 5 for US Eastern.';
  END IF;
  IF back <= interval '0' OR back > interval '20 years' THEN
    RAISE EXCEPTION 'history must be positive and at most 20 years, not %', back USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF (a->>'client_cert' IS NULL) <> (a->>'client_key' IS NULL) THEN
    RAISE EXCEPTION 'client_cert and client_key go together' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Give both (PEM text) for mutual TLS, or neither.';
  END IF;
  IF a->>'client_cert' IS NOT NULL AND (a->>'client_cert' !~ '-----BEGIN CERTIFICATE-----' OR a->>'client_key' !~ '-----BEGIN [A-Z ]*PRIVATE KEY-----') THEN
    RAISE EXCEPTION 'client_cert and client_key must be PEM text' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'The certificate starts with -----BEGIN CERTIFICATE-----, the key with -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY).';
  END IF;
  IF a->>'server_ca' IS NOT NULL AND a->>'server_ca' !~ '-----BEGIN CERTIFICATE-----' THEN
    RAISE EXCEPTION 'server_ca must be PEM text' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'One or more certificates, each starting with -----BEGIN CERTIFICATE-----.';
  END IF;
  BEGIN
    INSERT INTO geoetl.espi_feed (project_id, usage_point, url, end_of_day_utc_hour, history, server_ca, created_by)
    VALUES (project, up, feed_url, hour, back, a->>'server_ca', caller)
    RETURNING feed_id INTO new_id;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'project % already has a feed of usage point %', project, up USING ERRCODE = 'unique_violation',
      HINT = 'Use that feed (geoetl.espi_feed); geoetl.set_espi_token changes its token.';
  END;
  PERFORM geoetl._espi_set_secret(new_id, 'espi_token', a->>'token');
  PERFORM geoetl._espi_set_secret(new_id, 'espi_client_cert', a->>'client_cert');
  PERFORM geoetl._espi_set_secret(new_id, 'espi_client_key', a->>'client_key');
  RETURN to_jsonb(new_id);
END
$$;
COMMENT ON FUNCTION geoetl._trusted_add_espi_feed(regrole, jsonb) IS
  'add_espi_feed, for caller (geoetl_admin): the feed, and its credentials in geoetl.secret';

CREATE FUNCTION geoetl.set_espi_token(feed_id bigint, token text) RETURNS void LANGUAGE sql AS $$
  SELECT FROM geoetl._trusted_call('geoetl._trusted_set_espi_token(regrole, jsonb)',
    jsonb_build_object('feed_id', feed_id, 'token', token))
$$;
COMMENT ON FUNCTION geoetl.set_espi_token(bigint, text) IS
  'Replaces (or, with NULL, removes) the OAuth 2.0 access token of an ESPI feed (admins)';

CREATE FUNCTION geoetl._trusted_set_espi_token(caller regrole, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  PERFORM geoetl._quiet_statement();
  PERFORM geoetl._require_member(caller, 'geoetl_admin', 'change ESPI feeds');
  IF NOT EXISTS (SELECT FROM geoetl.espi_feed f WHERE f.feed_id = (a->>'feed_id')::bigint) THEN
    RAISE EXCEPTION 'ESPI feed % does not exist', coalesce(a->>'feed_id', 'NULL') USING ERRCODE = 'no_data_found';
  END IF;
  PERFORM geoetl._espi_set_secret((a->>'feed_id')::bigint, 'espi_token', a->>'token');
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION geoetl._trusted_set_espi_token(regrole, jsonb) IS
  'set_espi_token, for caller (geoetl_admin)';

CREATE FUNCTION geoetl.remove_espi_feed(feed_id bigint) RETURNS boolean LANGUAGE sql AS $$
  SELECT (geoetl._trusted_call('geoetl._trusted_remove_espi_feed(regrole, jsonb)',
    jsonb_build_object('feed_id', feed_id)))::boolean
$$;
COMMENT ON FUNCTION geoetl.remove_espi_feed(bigint) IS
  'Removes an ESPI feed and its credentials (admins); its runs, raw files and readings stay';

CREATE FUNCTION geoetl._trusted_remove_espi_feed(caller regrole, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  id bigint := (a->>'feed_id')::bigint;
BEGIN
  PERFORM geoetl._require_member(caller, 'geoetl_admin', 'remove ESPI feeds');
  DELETE FROM geoetl.secret s WHERE s.name IN ('espi_token:' || id, 'espi_client_cert:' || id, 'espi_client_key:' || id);
  DELETE FROM geoetl.espi_feed f WHERE f.feed_id = id;
  RETURN to_jsonb(FOUND);
END
$$;
COMMENT ON FUNCTION geoetl._trusted_remove_espi_feed(regrole, jsonb) IS
  'remove_espi_feed, for caller (geoetl_admin)';

-- One fetch of a feed into the store (and the C code that reads its URL and credentials).
CREATE FUNCTION geoetl._espi_fetch(feed_id bigint, from_ts timestamptz, to_ts timestamptz, key text, after timestamptz,
                                   OUT state text, OUT url text, OUT uri text, OUT bytes bigint, OUT sha256 text,
                                   OUT readings bigint, OUT data_from timestamptz, OUT data_to timestamptz)
AS 'MODULE_PATHNAME', 'geoetl_espi_fetch' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION geoetl._espi_fetch(bigint, timestamptz, timestamptz, text, timestamptz) IS
  'GET the feed''s URL for [from_ts, to_ts] with its token into the store as key (following the '
  'transaction), only when it holds a reading ending after `after` (NULL: any reading)';

CREATE FUNCTION geoetl.fetch_espi(feed_id bigint DEFAULT NULL, until timestamptz DEFAULT NULL) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  n int;
BEGIN
  IF feed_id IS NOT NULL AND NOT EXISTS (SELECT FROM geoetl.espi_feed f WHERE f.feed_id = fetch_espi.feed_id) THEN
    RAISE EXCEPTION 'ESPI feed % does not exist', feed_id USING ERRCODE = 'no_data_found',
      HINT = 'geoetl.espi_feed lists the feeds; geoetl.add_espi_feed adds one.';
  END IF;
  SELECT count(geoetl.enqueue('espi_fetch', jsonb_strip_nulls(jsonb_build_object('feed_id', f.feed_id, 'until', until)),
                              dedupe_key => concat_ws(':', 'espi_fetch', f.feed_id, extract(epoch FROM until)::bigint)))
    INTO n
    FROM geoetl.espi_feed f
   WHERE fetch_espi.feed_id IS NULL OR f.feed_id = fetch_espi.feed_id;
  RETURN n;
END
$$;
COMMENT ON FUNCTION geoetl.fetch_espi(bigint, timestamptz) IS
  'Enqueues one deduplicated espi_fetch job per feed (NULL: every feed) and returns how many; '
  'until ends the requested range (default: geoetl.espi_fetch_end(now(), the feed''s hour))';

-- What a raw file's name says: espi/raw/<project-id>_<usage-point-id>_<run>.xml (no row if it
-- is not such a name; usage point ids have no "_").
CREATE FUNCTION geoetl._espi_raw_name(key text, OUT project_id text, OUT usage_point text, OUT run int)
RETURNS SETOF record LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT m[1], m[2], m[3]::int FROM regexp_match(key, '^espi/raw/([A-Za-z0-9][A-Za-z0-9._-]*)_([A-Za-z0-9][A-Za-z0-9.-]*)_([0-9]{1,9})\.xml$') m
   WHERE m IS NOT NULL
$$;
COMMENT ON FUNCTION geoetl._espi_raw_name(text) IS
  'Internal: project, usage point and run of a raw ESPI file''s store key; no row for another name';

-- {"feed_id"[, "until"]} -> {"state": stored | no new data | up to date, ...}
CREATE FUNCTION geoetl._job_espi_fetch(args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  feed geoetl.espi_feed;
  last geoetl.espi_run;
  from_ts timestamptz;
  to_ts timestamptz;
  next_run int;
  raw_key text;
  got record;
BEGIN
  SELECT * INTO feed FROM geoetl.espi_feed f WHERE f.feed_id = (args->>'feed_id')::bigint;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'ESPI feed % does not exist', coalesce(args->>'feed_id', 'NULL') USING ERRCODE = 'no_data_found';
  END IF;
  -- one fetch of a usage point at a time: the second waits, then starts where the first ended
  PERFORM pg_advisory_xact_lock(hashtext('geoetl espi ' || feed.project_id), hashtext(feed.usage_point));
  SELECT * INTO last FROM geoetl.espi_run r
   WHERE r.project_id = feed.project_id AND r.usage_point = feed.usage_point ORDER BY r.run DESC LIMIT 1;
  to_ts := coalesce((args->>'until')::timestamptz, geoetl.espi_fetch_end(now(), feed.end_of_day_utc_hour));
  from_ts := coalesce(last.data_to, to_ts - feed.history);
  IF from_ts >= to_ts THEN
    RETURN jsonb_build_object('state', 'up to date', 'from', from_ts, 'to', to_ts, 'last_run', last.run);
  END IF;
  -- after the runs recorded and the files in the store (some are dropped in by hand)
  next_run := greatest(last.run, -1, (SELECT max(n.run) FROM geoetl.store_list('espi/raw/') s, geoetl._espi_raw_name(s.key) n
                                       WHERE n.project_id = feed.project_id AND n.usage_point = feed.usage_point)) + 1;
  raw_key := format('espi/raw/%s_%s_%s.xml', feed.project_id, feed.usage_point, next_run);
  SELECT * INTO got FROM geoetl._espi_fetch(feed.feed_id, from_ts, to_ts, raw_key, last.data_to);
  IF got.state <> 'stored' THEN
    RETURN jsonb_build_object('state', got.state, 'from', from_ts, 'to', to_ts, 'last_run', last.run,
                              'readings', got.readings, 'bytes', got.bytes);
  END IF;
  INSERT INTO geoetl.espi_run (project_id, usage_point, run, feed_id, requested_from, requested_to,
                               data_from, data_to, readings, bytes, sha256, uri, key)
  VALUES (feed.project_id, feed.usage_point, next_run, feed.feed_id, from_ts, to_ts,
          got.data_from, got.data_to, got.readings, got.bytes, got.sha256, got.uri, raw_key);
  PERFORM geoetl.enqueue('espi_parse', jsonb_build_object('key', raw_key), dedupe_key => 'espi_parse:' || raw_key);
  RETURN jsonb_build_object('state', 'stored', 'run', next_run, 'from', from_ts, 'to', to_ts, 'uri', got.uri,
                            'readings', got.readings, 'bytes', got.bytes, 'data_from', got.data_from,
                            'data_to', got.data_to);
END
$$;
COMMENT ON FUNCTION geoetl._job_espi_fetch(jsonb) IS
  'Handler of job kind espi_fetch: one request of a feed from the end of its last run''s data; a '
  'raw file, a run and an espi_parse job when it brings newer readings, else nothing';

INSERT INTO geoetl.job_kind (kind, handler, lease, max_attempts, backoff, description) VALUES
  ('espi_fetch', 'geoetl._job_espi_fetch(jsonb)', '30 minutes', 5, '1 minute',
   'Fetches one Green Button (ESPI) feed from the end of its last run into the raw archive; admins only');
