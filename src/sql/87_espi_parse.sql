-- Raw Green Button (ESPI) files into tables: every file under espi/raw/ in the store, fetched
-- (86_espi_fetch.sql) or dropped in by hand, is parsed by an espi_parse job into
-- geoetl.energy_reading. Readings are keyed by project, usage point, reading type, start and
-- duration: a reading seen again replaces the stored one only if it is newer, so overlapping
-- files never duplicate. A bad file loads nothing (the parser checks all of it first).

CREATE TABLE geoetl.energy_reading (
  project_id   text NOT NULL,
  usage_point  text NOT NULL,
  reading_type text NOT NULL,
  start_at     timestamptz NOT NULL,
  duration     interval NOT NULL,
  feed_id      bigint,
  flow         smallint,
  uom          int NOT NULL,
  unit         text NOT NULL,
  currency     text,
  local_start  timestamp,
  value        float8 NOT NULL,
  cost         float8,
  quality      smallint,
  run          int NOT NULL,
  updated      timestamptz NOT NULL,
  PRIMARY KEY (project_id, usage_point, reading_type, start_at, duration)
);
SELECT pg_catalog.pg_extension_config_dump('geoetl.energy_reading', '');
COMMENT ON TABLE geoetl.energy_reading IS
  'Green Button interval readings (ESPI IntervalReading), one row per usage point, reading type, start and duration';
COMMENT ON COLUMN geoetl.energy_reading.project_id IS 'The project: from the raw file''s name';
COMMENT ON COLUMN geoetl.energy_reading.usage_point IS 'The usage point id (from its self href, .../UsagePoint/{id})';
COMMENT ON COLUMN geoetl.energy_reading.reading_type IS 'The ReadingType id (from its self href, .../ReadingType/{id}): one meter and direction';
COMMENT ON COLUMN geoetl.energy_reading.start_at IS 'timePeriod start';
COMMENT ON COLUMN geoetl.energy_reading.duration IS 'timePeriod duration';
COMMENT ON COLUMN geoetl.energy_reading.feed_id IS 'The feed it came from (NULL: a file no feed fetched)';
COMMENT ON COLUMN geoetl.energy_reading.flow IS 'flowDirection: 1 forward (delivered), 19 reverse (received), 4 net; never added together';
COMMENT ON COLUMN geoetl.energy_reading.uom IS 'Unit of measure code (72 Wh, 169 therm, 119 ft3, ...)';
COMMENT ON COLUMN geoetl.energy_reading.unit IS 'The unit as text (Wh, therm, ft3, ...; uom:<code> for a code geoetl does not name)';
COMMENT ON COLUMN geoetl.energy_reading.currency IS 'ISO 4217 code of cost';
COMMENT ON COLUMN geoetl.energy_reading.local_start IS 'start_at in the usage point''s local wall-clock time (its LocalTimeParameters); NULL without them';
COMMENT ON COLUMN geoetl.energy_reading.value IS 'value x 10^powerOfTenMultiplier, in unit';
COMMENT ON COLUMN geoetl.energy_reading.cost IS 'cost / 100,000, in currency';
COMMENT ON COLUMN geoetl.energy_reading.quality IS 'ReadingQuality (or the ReadingType''s defaultQuality): 0 valid, 7 manually edited, 8 estimated, ...';
COMMENT ON COLUMN geoetl.energy_reading.run IS 'The run (raw file number) it was last loaded from';
COMMENT ON COLUMN geoetl.energy_reading.updated IS 'Its IntervalBlock entry''s atom:updated (else when its file was fetched): a reading is replaced only by a newer one';
COMMENT ON INDEX geoetl.energy_reading_pkey IS 'One reading per usage point, reading type, start and duration';

-- What each raw file held when it was parsed.
CREATE TABLE geoetl.espi_file (
  key          text PRIMARY KEY,
  uri          text NOT NULL,
  project_id   text NOT NULL,
  usage_point  text NOT NULL,
  run          int NOT NULL,
  feed_id      bigint,
  bytes        bigint NOT NULL,
  sha256       text NOT NULL,
  readings     bigint NOT NULL,
  loaded       bigint NOT NULL,
  data_from    timestamptz,
  data_to      timestamptz,
  warnings     jsonb NOT NULL DEFAULT '[]',
  parsed_at    timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('geoetl.espi_file', '');
COMMENT ON TABLE geoetl.espi_file IS 'Raw ESPI files parsed into geoetl.energy_reading';
COMMENT ON COLUMN geoetl.espi_file.key IS 'Store key: espi/raw/<project-id>_<usage-point-id>_<run>.xml';
COMMENT ON COLUMN geoetl.espi_file.uri IS 'Where the store keeps it';
COMMENT ON COLUMN geoetl.espi_file.project_id IS 'Project, from the name';
COMMENT ON COLUMN geoetl.espi_file.usage_point IS 'Usage point, from the name (the file may hold others: their readings carry their own)';
COMMENT ON COLUMN geoetl.espi_file.run IS 'Run number, from the name';
COMMENT ON COLUMN geoetl.espi_file.feed_id IS 'The feed of the run that fetched it, else of its project and usage point; NULL if none';
COMMENT ON COLUMN geoetl.espi_file.bytes IS 'Size when parsed';
COMMENT ON COLUMN geoetl.espi_file.sha256 IS 'SHA-256 when parsed';
COMMENT ON COLUMN geoetl.espi_file.readings IS 'IntervalReadings in it';
COMMENT ON COLUMN geoetl.espi_file.loaded IS 'Readings inserted or replacing older ones (the rest were already there, as new or newer)';
COMMENT ON COLUMN geoetl.espi_file.data_from IS 'Start of its earliest reading';
COMMENT ON COLUMN geoetl.espi_file.data_to IS 'End of its latest reading';
COMMENT ON COLUMN geoetl.espi_file.warnings IS 'What the parser noticed and loaded anyway ([{"entry", "message"}]): blocks whose readings do not add up, readings of duration 0, usage points without local time';
COMMENT ON COLUMN geoetl.espi_file.parsed_at IS 'When it was parsed';
COMMENT ON INDEX geoetl.espi_file_pkey IS 'One row per raw file';

-- The usage points seen in files, with their local time (LocalTimeParameters).
CREATE TABLE geoetl.espi_usage_point (
  project_id     text NOT NULL,
  usage_point    text NOT NULL,
  href           text NOT NULL,
  kind           int,
  tz_offset      int,
  dst_offset     int,
  dst_start_rule text,
  dst_end_rule   text,
  key            text NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, usage_point)
);
SELECT pg_catalog.pg_extension_config_dump('geoetl.espi_usage_point', '');
COMMENT ON TABLE geoetl.espi_usage_point IS 'Usage points as their latest parsed file describes them';
COMMENT ON COLUMN geoetl.espi_usage_point.project_id IS 'Project';
COMMENT ON COLUMN geoetl.espi_usage_point.usage_point IS 'Usage point id';
COMMENT ON COLUMN geoetl.espi_usage_point.href IS 'Its self href';
COMMENT ON COLUMN geoetl.espi_usage_point.kind IS 'ServiceCategory kind: 0 electricity, 1 gas, 2 water, ...';
COMMENT ON COLUMN geoetl.espi_usage_point.tz_offset IS 'LocalTimeParameters tzOffset: standard time minus UTC, seconds';
COMMENT ON COLUMN geoetl.espi_usage_point.dst_offset IS 'dstOffset: added while daylight-saving time is on, seconds';
COMMENT ON COLUMN geoetl.espi_usage_point.dst_start_rule IS 'dstStartRule (hex; FFFFFFFF: none)';
COMMENT ON COLUMN geoetl.espi_usage_point.dst_end_rule IS 'dstEndRule (hex)';
COMMENT ON COLUMN geoetl.espi_usage_point.key IS 'The raw file that described it last';
COMMENT ON COLUMN geoetl.espi_usage_point.updated_at IS 'When';
COMMENT ON INDEX geoetl.espi_usage_point_pkey IS 'One row per project and usage point';

CREATE FUNCTION geoetl._espi_load(key text, feed_id bigint, project_id text, run int, updated timestamptz)
RETURNS jsonb AS 'MODULE_PATHNAME', 'geoetl_espi_load' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION geoetl._espi_load(text, bigint, text, int, timestamptz) IS
  'Parses the raw ESPI file `key` of the store into geoetl.energy_reading as the caller; returns '
  '{sha256, bytes, readings, loaded, data_from, data_to, usage_points, warnings}';

-- {"key"} -> what the file held
CREATE FUNCTION geoetl._job_espi_parse(args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  raw_key text := args->>'key';
  name record;
  object record;
  fetched geoetl.espi_run;
  feed bigint;
  got jsonb;
BEGIN
  SELECT * INTO name FROM geoetl._espi_raw_name(raw_key);
  IF NOT FOUND THEN
    RAISE EXCEPTION 'invalid raw ESPI file name %', quote_literal(raw_key) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Raw files are espi/raw/<project-id>_<usage-point-id>_<run>.xml (the usage point id without "_").';
  END IF;
  SELECT s.key, s.size, s.uri INTO object FROM geoetl.store_list('espi/raw/') s WHERE s.key = raw_key;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no raw ESPI file %', quote_literal(raw_key) USING ERRCODE = 'no_data_found',
      HINT = 'It was removed from the store after its job was enqueued (geoetl.store_list(''espi/raw/'') lists what is there).';
  END IF;
  -- one parse of a file at a time
  PERFORM pg_advisory_xact_lock(hashtext('geoetl espi parse'), hashtext(raw_key));
  SELECT * INTO fetched FROM geoetl.espi_run r WHERE r.key = raw_key ORDER BY r.fetched_at DESC LIMIT 1;
  feed := coalesce(fetched.feed_id, (SELECT f.feed_id FROM geoetl.espi_feed f
                                      WHERE f.project_id = name.project_id AND f.usage_point = name.usage_point));
  got := geoetl._espi_load(raw_key, feed, name.project_id, name.run, coalesce(fetched.fetched_at, now()));
  INSERT INTO geoetl.espi_file AS e (key, uri, project_id, usage_point, run, feed_id, bytes, sha256, readings, loaded,
                                     data_from, data_to, warnings)
  VALUES (raw_key, object.uri, name.project_id, name.usage_point, name.run, feed, (got->>'bytes')::bigint,
          got->>'sha256', (got->>'readings')::bigint, (got->>'loaded')::bigint,
          (got->>'data_from')::timestamptz, (got->>'data_to')::timestamptz, got->'warnings')
  ON CONFLICT ON CONSTRAINT espi_file_pkey DO UPDATE
     SET uri = EXCLUDED.uri, feed_id = EXCLUDED.feed_id, bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256,
         readings = EXCLUDED.readings, loaded = EXCLUDED.loaded, data_from = EXCLUDED.data_from,
         data_to = EXCLUDED.data_to, warnings = EXCLUDED.warnings, parsed_at = now();
  INSERT INTO geoetl.espi_usage_point AS u (project_id, usage_point, href, kind, tz_offset, dst_offset,
                                            dst_start_rule, dst_end_rule, key)
  SELECT name.project_id, p->>'usage_point', p->>'href', nullif((p->>'kind')::int, -1), (p->>'tz_offset')::int,
         (p->>'dst_offset')::int, p->>'dst_start_rule', p->>'dst_end_rule', raw_key
    FROM jsonb_array_elements(got->'usage_points') p
  ON CONFLICT ON CONSTRAINT espi_usage_point_pkey DO UPDATE
     SET href = EXCLUDED.href, kind = EXCLUDED.kind, tz_offset = EXCLUDED.tz_offset, dst_offset = EXCLUDED.dst_offset,
         dst_start_rule = EXCLUDED.dst_start_rule, dst_end_rule = EXCLUDED.dst_end_rule, key = EXCLUDED.key,
         updated_at = now();
  RETURN jsonb_build_object('key', raw_key, 'readings', got->'readings', 'loaded', got->'loaded',
                            'warnings', jsonb_array_length(got->'warnings') + (got->>'warnings_left_out')::int);
END
$$;
COMMENT ON FUNCTION geoetl._job_espi_parse(jsonb) IS
  'Handler of job kind espi_parse: one raw ESPI file of the store into geoetl.energy_reading';

INSERT INTO geoetl.job_kind (kind, handler, lease, max_attempts, backoff, description) VALUES
  ('espi_parse', 'geoetl._job_espi_parse(jsonb)', '1 hour', 3, '1 minute',
   'Parses one raw Green Button (ESPI) file of the store into geoetl.energy_reading; admins only');

CREATE FUNCTION geoetl.parse_espi(uri text DEFAULT NULL) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  n int;
  raw_key text;
BEGIN
  IF uri IS NOT NULL THEN
    SELECT s.key INTO raw_key FROM geoetl.store_list('espi/raw/') s WHERE s.uri = parse_espi.uri OR s.key = parse_espi.uri;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'no raw ESPI file %', quote_literal(uri) USING ERRCODE = 'no_data_found',
        HINT = 'Raw files are in the store under espi/raw/ (geoetl.store_list(''espi/raw/'') lists them).';
    END IF;
    IF NOT EXISTS (SELECT FROM geoetl._espi_raw_name(raw_key)) THEN
      RAISE EXCEPTION 'invalid raw ESPI file name %', quote_literal(raw_key) USING ERRCODE = 'invalid_parameter_value',
        HINT = 'Raw files are espi/raw/<project-id>_<usage-point-id>_<run>.xml (the usage point id without "_").';
    END IF;
    PERFORM geoetl.enqueue('espi_parse', jsonb_build_object('key', raw_key), dedupe_key => 'espi_parse:' || raw_key);
    RETURN 1;
  END IF;
  -- every raw file never parsed, or changed in size since; not one being parsed, nor one whose
  -- last parse failed
  SELECT count(geoetl.enqueue('espi_parse', jsonb_build_object('key', s.key), dedupe_key => 'espi_parse:' || s.key))
    INTO n
    FROM geoetl.store_list('espi/raw/') s, geoetl._espi_raw_name(s.key) r
   WHERE NOT EXISTS (SELECT FROM geoetl.espi_file e WHERE e.key = s.key AND e.bytes = s.size)
     AND NOT EXISTS (SELECT FROM geoetl.job j WHERE j.kind = 'espi_parse' AND j.args->>'key' = s.key
                        AND (j.state IN ('pending', 'running')
                             OR j.state = 'failed' AND j.finished_at > coalesce((SELECT e.parsed_at FROM geoetl.espi_file e
                                                                                 WHERE e.key = s.key), '-infinity')));
  RETURN n;
END
$$;
COMMENT ON FUNCTION geoetl.parse_espi(text) IS
  'Enqueues espi_parse jobs (admins): of the raw file uri (its store uri or key), or, with NULL, of '
  'every raw file never parsed or changed in size since (not one whose parse is pending, nor one '
  'whose parse failed: retry_job retries it). Returns how many jobs it enqueued';

-- Daily totals in each usage point's local time: a spring-forward day has 23 hours, a fall-back
-- day 25.
CREATE VIEW geoetl.energy_daily AS
SELECT max(r.feed_id) AS feed_id, r.project_id, r.usage_point, r.reading_type, r.flow, r.local_start::date AS local_date, r.unit,
       sum(r.value) AS total, count(*) AS readings, extract(epoch FROM sum(r.duration))::float8 / 3600 AS hours,
       sum(r.cost) AS cost
  FROM geoetl.energy_reading r
 WHERE r.local_start IS NOT NULL
 GROUP BY r.project_id, r.usage_point, r.reading_type, r.flow, r.local_start::date, r.unit;
COMMENT ON VIEW geoetl.energy_daily IS
  'Daily totals per usage point, reading type and flow direction, by local date (LocalTimeParameters): '
  'hours is 23 on a spring-forward day, 25 on a fall-back day';

-- Gaps are reported, never filled.
CREATE VIEW geoetl.energy_gaps AS
SELECT g.feed_id, g.project_id, g.usage_point, g.reading_type, g.flow, g.prev_end AS gap_start, g.start_at AS gap_end
  FROM (SELECT r.feed_id, r.project_id, r.usage_point, r.reading_type, r.flow, r.start_at,
               max(r.start_at + r.duration) OVER (PARTITION BY r.project_id, r.usage_point, r.reading_type
                                                  ORDER BY r.start_at, r.duration
                                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
          FROM geoetl.energy_reading r) g
 WHERE g.start_at > g.prev_end;
COMMENT ON VIEW geoetl.energy_gaps IS
  'Time with no reading between two readings of a usage point and reading type: [gap_start, gap_end)';
COMMENT ON COLUMN geoetl.energy_daily.feed_id IS 'The feed of the day''s readings (the greatest, if several; NULL: files no feed fetched)';
COMMENT ON COLUMN geoetl.energy_daily.project_id IS 'The project';
COMMENT ON COLUMN geoetl.energy_daily.usage_point IS 'The usage point';
COMMENT ON COLUMN geoetl.energy_daily.reading_type IS 'The reading type (one meter and direction)';
COMMENT ON COLUMN geoetl.energy_daily.flow IS 'flowDirection: 1 forward, 19 reverse, 4 net';
COMMENT ON COLUMN geoetl.energy_daily.local_date IS 'The day in the usage point''s local time (LocalTimeParameters)';
COMMENT ON COLUMN geoetl.energy_daily.unit IS 'Unit of total (Wh, therm, ...)';
COMMENT ON COLUMN geoetl.energy_daily.total IS 'Sum of the day''s readings';
COMMENT ON COLUMN geoetl.energy_daily.readings IS 'How many readings';
COMMENT ON COLUMN geoetl.energy_daily.hours IS 'Hours the readings cover: 24, 23 on a spring-forward day, 25 on a fall-back day (less where readings are missing)';
COMMENT ON COLUMN geoetl.energy_daily.cost IS 'Sum of the readings'' cost';
COMMENT ON COLUMN geoetl.energy_gaps.feed_id IS 'The feed of the reading after the gap';
COMMENT ON COLUMN geoetl.energy_gaps.project_id IS 'The project';
COMMENT ON COLUMN geoetl.energy_gaps.usage_point IS 'The usage point';
COMMENT ON COLUMN geoetl.energy_gaps.reading_type IS 'The reading type';
COMMENT ON COLUMN geoetl.energy_gaps.flow IS 'flowDirection';
COMMENT ON COLUMN geoetl.energy_gaps.gap_start IS 'End of the last reading before the gap';
COMMENT ON COLUMN geoetl.energy_gaps.gap_end IS 'Start of the first reading after it';
