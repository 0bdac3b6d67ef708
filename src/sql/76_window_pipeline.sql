-- Window pipelines: aggregate_window written incrementally into <target_schema>.signal/data,
-- with a watermark, and late changes behind it tracked per window (and group) by triggers on
-- the source, so a run recomputes exactly the windows they touched.

CREATE TABLE geoetl.window_pipeline (
  name          text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
  source        regclass NOT NULL,
  time_column   name NOT NULL,
  value_columns text[] NOT NULL,
  width         interval NOT NULL,
  origin        timestamptz NOT NULL DEFAULT '2000-01-01 00:00:00+00',
  target_schema name NOT NULL,
  aggregates    text[] NOT NULL,
  group_by      name,
  lateness      interval NOT NULL DEFAULT '0',
  watermark     timestamptz,  -- every window starting before it is written; NULL: none yet
  backfilled_until timestamptz,  -- the end of the latest window a backfill wrote
  truncated     boolean NOT NULL DEFAULT false,  -- the source was truncated: start again
  owner         regrole NOT NULL DEFAULT current_user::regrole,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_run_at   timestamptz,
  last_run_rows bigint,
  last_run_late_windows int,
  rows_written  bigint NOT NULL DEFAULT 0,
  source_newest timestamptz  -- the newest time in the source when the last run read it
);
COMMENT ON TABLE geoetl.window_pipeline IS
  'Window pipelines (create_window_pipeline): source, windows, target and watermark of each';
COMMENT ON COLUMN geoetl.window_pipeline.name IS 'The pipeline''s name (lower case, up to 40 characters)';
COMMENT ON COLUMN geoetl.window_pipeline.source IS 'The table read';
COMMENT ON COLUMN geoetl.window_pipeline.time_column IS 'Its timestamptz or timestamp column';
COMMENT ON COLUMN geoetl.window_pipeline.value_columns IS 'Its numeric columns aggregated';
COMMENT ON COLUMN geoetl.window_pipeline.width IS 'The window length (date_bin stride)';
COMMENT ON COLUMN geoetl.window_pipeline.origin IS 'The date_bin origin';
COMMENT ON COLUMN geoetl.window_pipeline.target_schema IS 'Where the signal and data tables are';
COMMENT ON COLUMN geoetl.window_pipeline.aggregates IS 'Which of mean, min, max, std and count are written';
COMMENT ON COLUMN geoetl.window_pipeline.group_by IS 'The key column of long-format sources, or NULL';
COMMENT ON COLUMN geoetl.window_pipeline.lateness IS 'How long windows are held back for data still arriving';
COMMENT ON COLUMN geoetl.window_pipeline.watermark IS
  'Every window that starts before the watermark has been written; later changes to rows before it are late';
COMMENT ON COLUMN geoetl.window_pipeline.backfilled_until IS
  'The end of the latest window a backfill wrote: changes before it (or the watermark) are late too';
COMMENT ON COLUMN geoetl.window_pipeline.truncated IS 'The source was truncated: the next run empties the target and starts again';
COMMENT ON COLUMN geoetl.window_pipeline.owner IS 'The role that created it: only it (and geoetl_admin) runs, backfills or drops it';
COMMENT ON COLUMN geoetl.window_pipeline.created_at IS 'When it was created';
COMMENT ON COLUMN geoetl.window_pipeline.last_run_at IS 'When the last run or backfill finished';
COMMENT ON COLUMN geoetl.window_pipeline.last_run_rows IS 'Rows the last run or backfill inserted, changed or deleted';
COMMENT ON COLUMN geoetl.window_pipeline.last_run_late_windows IS 'Late windows the last run recomputed';
COMMENT ON COLUMN geoetl.window_pipeline.rows_written IS 'Rows written by all runs and backfills';
COMMENT ON COLUMN geoetl.window_pipeline.source_newest IS 'The newest time in the source when the last run read it';
COMMENT ON INDEX geoetl.window_pipeline_pkey IS 'One pipeline per name';
SELECT pg_catalog.pg_extension_config_dump('geoetl.window_pipeline', '');

CREATE TABLE geoetl.window_late (
  pipeline     text NOT NULL REFERENCES geoetl.window_pipeline ON DELETE CASCADE,
  window_start timestamptz NOT NULL,
  group_key    text,  -- NULL for pipelines without group_by
  marked_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (pipeline, window_start, group_key)
);
COMMENT ON TABLE geoetl.window_late IS
  'Windows (and groups) behind a pipeline''s watermark whose source rows were inserted, updated or deleted; the next run recomputes them';
COMMENT ON COLUMN geoetl.window_late.pipeline IS 'The pipeline';
COMMENT ON COLUMN geoetl.window_late.window_start IS 'The window that source rows changed in';
COMMENT ON COLUMN geoetl.window_late.group_key IS 'Their group (text), NULL for pipelines without group_by';
COMMENT ON COLUMN geoetl.window_late.marked_at IS 'When the first change was recorded';
COMMENT ON INDEX geoetl.window_late_pipeline_window_start_group_key_key IS
  'Each late window (and group) once per pipeline';
SELECT pg_catalog.pg_extension_config_dump('geoetl.window_late', '');

-- Nobody writes these two tables directly: a row names the code a run and the late-data
-- trigger evaluate. The functions below write them through geoetl._trusted_call (02_trusted.sql),
-- which checks who calls: owners (and admins) change their own pipelines; readers see them all.

-- Whether a pipeline's source is what a pipeline may read without running anybody's code in
-- the trigger: a plain table whose time column is exactly timestamptz or timestamp (date_bin,
-- casts and comparisons on them are built in). Raises otherwise; checked on creation, by every
-- run and by the late-data trigger every time it fires (a column's type can change later).
CREATE FUNCTION geoetl._window_check_source(pipeline text, source regclass, time_column name)
RETURNS void LANGUAGE plpgsql STABLE AS $$
DECLARE
  kind "char" := (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = source);
  t regtype := (SELECT a.atttypid FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid = source AND a.attname = time_column AND a.attnum > 0 AND NOT a.attisdropped);
BEGIN
  IF kind IS DISTINCT FROM 'r' THEN
    RAISE EXCEPTION 'the source of window pipeline "%" is not a table', pipeline USING ERRCODE = 'wrong_object_type',
      DETAIL = format('%s is a %s.', source, CASE kind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                                                       WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table'
                                                       ELSE coalesce('relation of kind ' || kind::text, 'dropped relation') END);
  END IF;
  IF t IS NULL OR t NOT IN ('timestamptz'::regtype, 'timestamp'::regtype) THEN
    RAISE EXCEPTION 'column "%" of % is not timestamptz or timestamp', time_column, source
      USING ERRCODE = 'datatype_mismatch',
      DETAIL = format('Window pipeline "%s" reads it as its time column; it is %s.', pipeline, coalesce(t::text, 'missing')),
      HINT = 'Change the column back to timestamptz or timestamp, or drop the pipeline (drop_window_pipeline).';
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._window_check_source(text, regclass, name) IS
  'Raises unless source is a plain table whose time_column is exactly timestamptz or timestamp';

-- The pipeline named in args when caller owns it (or is an admin), as a row; locked for the
-- transaction with lock => true (runs of one pipeline wait for each other).
CREATE FUNCTION geoetl._window_owned(caller regrole, pipeline text, lock boolean DEFAULT false)
RETURNS geoetl.window_pipeline LANGUAGE plpgsql AS $$
DECLARE
  p geoetl.window_pipeline;
BEGIN
  IF pipeline IS NULL THEN
    RAISE EXCEPTION 'the pipeline name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT * INTO p FROM geoetl.window_pipeline w WHERE w.name = pipeline;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'window pipeline "%" does not exist', pipeline USING ERRCODE = 'undefined_object';
  END IF;
  IF NOT (pg_catalog.pg_has_role(caller, p.owner, 'MEMBER') OR pg_catalog.pg_has_role(caller, 'geoetl_admin', 'MEMBER')) THEN
    RAISE EXCEPTION 'window pipeline "%" belongs to %', pipeline, p.owner USING ERRCODE = 'insufficient_privilege',
      HINT = 'Only its owner or a member of geoetl_admin may run, backfill or drop it.';
  END IF;
  IF lock THEN
    SELECT * INTO p FROM geoetl.window_pipeline w WHERE w.name = pipeline FOR NO KEY UPDATE;
  END IF;
  RETURN p;
END
$$;
COMMENT ON FUNCTION geoetl._window_owned(regrole, text, boolean) IS
  'Internal: a pipeline''s row when caller owns it or is an admin (locked with lock), else 42501';

-- The rules of a pipeline's settings, checked by create_window_pipeline and again by the
-- trusted function that records it (which a caller may call directly).
CREATE FUNCTION geoetl._window_check_name(name text) RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF name IS NULL OR name !~ '^[a-z][a-z0-9_]{0,39}$' THEN
    RAISE EXCEPTION 'invalid pipeline name "%"', name USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Up to 40 lower-case letters, digits and _, starting with a letter.';
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._window_check_name(text) IS 'Raises 22023 unless name is a valid pipeline name';

CREATE FUNCTION geoetl._window_check_settings(width interval, aggregates text[], lateness interval)
RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF width IS NULL OR width <= interval '0' OR extract(month FROM width) <> 0 OR extract(year FROM width) <> 0 THEN
    RAISE EXCEPTION 'invalid window width %', width USING ERRCODE = 'invalid_parameter_value',
      HINT = 'A width is positive, without months or years, e.g. ''10 minutes''.';
  END IF;
  IF aggregates IS NULL OR cardinality(aggregates) = 0
     OR EXISTS (SELECT 1 FROM unnest(aggregates) a WHERE a IS NULL OR a NOT IN ('mean', 'min', 'max', 'std', 'count'))
     OR cardinality(aggregates) <> (SELECT count(DISTINCT a) FROM unnest(aggregates) a) THEN
    RAISE EXCEPTION 'invalid aggregates %', aggregates USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Name each of mean, min, max, std and count at most once.';
  END IF;
  IF lateness IS NULL OR lateness < '0' OR extract(month FROM lateness) <> 0 OR extract(year FROM lateness) <> 0 THEN
    RAISE EXCEPTION 'lateness must be zero or more, without months or years' USING ERRCODE = 'invalid_parameter_value';
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._window_check_settings(interval, text[], interval) IS
  'Raises 22023 unless width, aggregates and lateness are valid pipeline settings';

-- {"name", "source" (oid), "time_column", "value_columns", "width", "target_schema", "aggregates",
--  "group_by", "lateness"}: records the pipeline as caller's, after checking from the catalogs
-- what create_window_pipeline checked by reading the source as the caller.
CREATE FUNCTION geoetl._trusted_window_create(caller regrole, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  name text := a->>'name';
  source regclass := (a->>'source')::oid;
  time_column name := a->>'time_column';
  value_columns text[];
  group_by name := a->>'group_by';
  target_schema name := a->>'target_schema';
  missing text;
BEGIN
  PERFORM geoetl._require_member(caller, 'geoetl_writer', 'create window pipelines');
  PERFORM geoetl._window_check_name(name);
  IF jsonb_typeof(a->'value_columns') IS DISTINCT FROM 'array' OR jsonb_typeof(a->'aggregates') IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'value_columns and aggregates must be JSON arrays' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM geoetl._window_check_settings((a->>'width')::interval,
                                        ARRAY(SELECT jsonb_array_elements_text(a->'aggregates')),
                                        (a->>'lateness')::interval);
  value_columns := ARRAY(SELECT jsonb_array_elements_text(a->'value_columns'));
  PERFORM geoetl._window_check_source(name, source, time_column);
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_inherits WHERE inhparent = source OR inhrelid = source) THEN
    RAISE EXCEPTION 'window pipelines do not support partitioned or inherited tables (%)', source
      USING ERRCODE = 'feature_not_supported';
  END IF;
  IF NOT pg_catalog.has_table_privilege(caller, source, 'SELECT') THEN
    RAISE EXCEPTION 'permission denied for table %', source USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT string_agg(c, ', ') INTO missing FROM unnest(value_columns || group_by::text) c
   WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute x WHERE x.attrelid = source AND x.attname = c
                       AND x.attnum > 0 AND NOT x.attisdropped);
  IF missing IS NOT NULL OR cardinality(value_columns) = 0 THEN
    RAISE EXCEPTION 'no column(s) % in %', coalesce(missing, '(none given)'), source USING ERRCODE = 'undefined_column';
  END IF;
  IF target_schema IS NULL OR NOT pg_catalog.has_schema_privilege(caller, target_schema, 'USAGE') THEN
    RAISE EXCEPTION 'permission denied for schema %', target_schema USING ERRCODE = 'insufficient_privilege';
  END IF;
  INSERT INTO geoetl.window_pipeline (name, source, time_column, value_columns, width, target_schema,
                                      aggregates, group_by, lateness, owner)
  VALUES (name, source, time_column, value_columns, (a->>'width')::interval, target_schema,
          ARRAY(SELECT jsonb_array_elements_text(a->'aggregates')), group_by, (a->>'lateness')::interval, caller);
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION geoetl._trusted_window_create(regrole, jsonb) IS
  'create_window_pipeline''s record, for caller (geoetl_writer), checked from the catalogs';

-- {"name", "lock"}: the pipeline as jsonb when caller may run it (locked with lock).
CREATE FUNCTION geoetl._trusted_window_get(caller regrole, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  RETURN to_jsonb(geoetl._window_owned(caller, a->>'name', coalesce((a->>'lock')::boolean, false)));
END
$$;
COMMENT ON FUNCTION geoetl._trusted_window_get(regrole, jsonb) IS
  'A pipeline''s row for caller (its owner or an admin), locked when asked';

-- {"name", "late_from", "late_to", "run": {state after a run or backfill} | "drop": true}:
-- forgets the late windows in [late_from, late_to) (all when both are absent), then records the
-- run's state, or removes the pipeline.
CREATE FUNCTION geoetl._trusted_window_save(caller regrole, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  p geoetl.window_pipeline := geoetl._window_owned(caller, a->>'name', true);
  r jsonb := a->'run';
BEGIN
  IF coalesce((a->>'drop')::boolean, false) THEN
    DELETE FROM geoetl.window_pipeline w WHERE w.name = p.name;
    RETURN NULL;
  END IF;
  IF a ? 'late_from' OR a ? 'late_to' OR (a->>'forget_late')::boolean THEN
    DELETE FROM geoetl.window_late l WHERE l.pipeline = p.name
       AND l.window_start >= coalesce((a->>'late_from')::timestamptz, '-infinity')
       AND l.window_start < coalesce((a->>'late_to')::timestamptz, 'infinity');
  END IF;
  IF r IS NOT NULL THEN
    IF 'infinity' IN ((r->>'watermark')::timestamptz, (r->>'backfilled_until')::timestamptz)
       OR '-infinity' IN ((r->>'watermark')::timestamptz, (r->>'backfilled_until')::timestamptz) THEN
      RAISE EXCEPTION 'a watermark must be finite' USING ERRCODE = 'invalid_parameter_value',
        HINT = 'Runs and backfills move the watermark to the end of complete windows.';
    END IF;
    UPDATE geoetl.window_pipeline w
       SET watermark = (r->>'watermark')::timestamptz, last_run_at = clock_timestamp(),
           truncated = coalesce((r->>'truncated')::boolean, w.truncated),
           backfilled_until = (r->>'backfilled_until')::timestamptz,
           last_run_rows = (r->>'rows')::bigint, last_run_late_windows = (r->>'late_windows')::int,
           rows_written = w.rows_written + (r->>'rows')::bigint,
           source_newest = coalesce((r->>'source_newest')::timestamptz, w.source_newest)
     WHERE w.name = p.name;
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION geoetl._trusted_window_save(regrole, jsonb) IS
  'Records a run or backfill of caller''s pipeline (forgets its late windows, saves its state), or drops it';

-- {"op": "run"|"backfill"|"drop", "name", ...}: does op with the rights of the pipeline's owner,
-- never the caller's (an admin acting on a writer's pipeline would otherwise read the writer's
-- table, and evaluate its policies and the like, as the admin).
CREATE FUNCTION geoetl._trusted_window_as_owner(caller regrole, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  p geoetl.window_pipeline := geoetl._window_owned(caller, a->>'name');
BEGIN
  RETURN geoetl._run_handler('geoetl._window_op(jsonb)', a, p.owner);
END
$$;
COMMENT ON FUNCTION geoetl._trusted_window_as_owner(regrole, jsonb) IS
  'Runs, backfills or drops a pipeline for caller (its owner or an admin) as the pipeline''s owner';

-- The statement trigger on the source (SECURITY DEFINER: it writes geoetl.window_late, which the
-- user changing the source need not be able to). It takes a share lock on the pipeline row, so
-- it waits for a run that is moving the watermark and then sees the new one.
-- Runs, backfills and this trigger use fixed settings: group keys are compared as text, and a
-- timestamp (without time zone) column is read as UTC, the same in every session.
CREATE FUNCTION geoetl._window_mark_late() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres' SET extra_float_digits = 1 SET timezone = 'UTC' AS $$
DECLARE
  p geoetl.window_pipeline;
  tracked timestamptz;
  rel text;
BEGIN
  SELECT * INTO p FROM geoetl.window_pipeline WHERE name = TG_ARGV[0] FOR SHARE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  -- only the triggers create_window_pipeline put on the pipeline's own source
  IF TG_RELID <> p.source OR TG_NAME <> format('geoetl_window_%s_%s', p.name, lower(TG_OP)) THEN
    RAISE EXCEPTION 'trigger % on % does not belong to window pipeline "%"', TG_NAME,
      TG_RELID::regclass, p.name USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- as it is now, not as it was when the pipeline was created: nothing but built-in code may run
  PERFORM geoetl._window_check_source(p.name, p.source, p.time_column);
  tracked := greatest(p.watermark, p.backfilled_until);
  IF tracked IS NULL THEN  -- nothing written yet: nothing can be late
    RETURN NULL;
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    UPDATE geoetl.window_pipeline SET truncated = true WHERE name = p.name;
    RETURN NULL;
  END IF;
  -- Only built-in casts, operators and output functions run here (as the extension's owner):
  -- the group key is its type's output text, as aggregate_window gives it.
  FOREACH rel IN ARRAY CASE TG_OP WHEN 'INSERT' THEN '{geoetl_new}'::text[]
                                  WHEN 'DELETE' THEN '{geoetl_old}'
                                  ELSE '{geoetl_old,geoetl_new}' END LOOP
    EXECUTE format('INSERT INTO geoetl.window_late (pipeline, window_start, group_key) '
                   'SELECT DISTINCT $1, pg_catalog.date_bin($2, (%1$I)::pg_catalog.timestamptz, $3), %2$s '
                   'FROM %3$I WHERE (%1$I)::pg_catalog.timestamptz OPERATOR(pg_catalog.<) $4 '
                   'ON CONFLICT DO NOTHING',
                   p.time_column,
                   coalesce('pg_catalog.format(''%s'', ' || quote_ident(p.group_by) || ')', 'NULL::text'), rel)
      USING p.name, p.width, p.origin, tracked;
  END LOOP;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION geoetl._window_mark_late() IS
  'Statement trigger of a pipeline''s source: records the windows (and groups) behind the watermark that rows changed in';

-- The signal names of a pipeline: column_aggregate for each value column and aggregate.
CREATE FUNCTION geoetl._window_signals(value_columns text[], aggregates text[],
                                        OUT column_name text, OUT aggregate text, OUT name text)
RETURNS SETOF record LANGUAGE sql IMMUTABLE AS $$
  SELECT c, a, c || '_' || a FROM unnest(value_columns) WITH ORDINALITY AS c(c, i),
                                  unnest(aggregates) WITH ORDINALITY AS a(a, j)
  ORDER BY i, j
$$;
COMMENT ON FUNCTION geoetl._window_signals(text[], text[]) IS
  'The signals of a pipeline: column, aggregate and name column_aggregate';

-- Rewrites the windows starting in [from_ts, to_ts) (only the groups listed, when given):
-- upserts what aggregate_window gives and deletes the target's rows it no longer gives.
-- Returns the rows inserted, changed or deleted. Runs as the caller.
CREATE FUNCTION geoetl._window_write(p geoetl.window_pipeline, from_ts timestamptz,
                                     to_ts timestamptz, groups text[] DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  cols text[]; aggs text[]; ids int[];
  gtype text;
  g text := quote_ident(p.group_by);
  written bigint;
BEGIN
  EXECUTE format('SELECT array_agg(s.column_name), array_agg(s.aggregate), array_agg(t.id) '
                 'FROM geoetl._window_signals($1, $2) s JOIN %I.signal t ON t.name = s.name',
                 p.target_schema)
    INTO cols, aggs, ids USING p.value_columns, p.aggregates;
  IF p.group_by IS NOT NULL THEN
    gtype := format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = p.source AND attname = p.group_by AND NOT attisdropped;
  END IF;
  EXECUTE format($q$
    WITH a AS (
      SELECT * FROM geoetl._aggregate_window_groups($1, $2, $3, $4, $5, $6, $7, $8, $9)
      WHERE $8 IS NULL OR group_key IS NOT NULL),
    v AS (
      SELECT a.window_start AS ts, s.id AS signal_id, %1$s AS g,
             CASE s.agg WHEN 'mean' THEN a.mean WHEN 'min' THEN a.min WHEN 'max' THEN a.max
                        WHEN 'std' THEN a.stddev ELSE a.n END AS value
      FROM a JOIN unnest($10::text[], $11::text[], $12::int[]) AS s(col, agg, id) ON s.col = a.column_name),
    vals AS (SELECT * FROM v WHERE value IS NOT NULL),
    del AS (
      DELETE FROM %2$I.data d
      WHERE d."timestamp" >= $5 AND d."timestamp" < $6 AND d.signal_id = ANY($12)
        AND ($9::text[] IS NULL OR %3$s = ANY($9))
        AND NOT EXISTS (SELECT 1 FROM vals WHERE vals.ts = d."timestamp"
                        AND vals.signal_id = d.signal_id AND vals.g IS NOT DISTINCT FROM %4$s)
      RETURNING 1),
    ins AS (
      INSERT INTO %2$I.data AS d ("timestamp", signal_id, %5$s value)
      SELECT ts, signal_id, %6$s value FROM vals
      ON CONFLICT ("timestamp", signal_id %7$s) DO UPDATE SET value = excluded.value
        -- rows read in another order round differently in the last bits: that is no change
        WHERE d.value IS DISTINCT FROM excluded.value
          AND NOT coalesce(abs(d.value - excluded.value) <= 1e-12 * greatest(abs(d.value), abs(excluded.value)), false)
      RETURNING 1)
    SELECT (SELECT count(*) FROM del) + (SELECT count(*) FROM ins)$q$,
    CASE WHEN g IS NULL THEN 'NULL::text' ELSE format('a.group_key::%s', gtype) END,
    p.target_schema,
    CASE WHEN g IS NULL THEN 'NULL::text' ELSE format('pg_catalog.format(''%%s'', d.%s)', g) END,
    CASE WHEN g IS NULL THEN 'NULL::text' ELSE format('d.%s', g) END,
    CASE WHEN g IS NULL THEN '' ELSE g || ',' END,
    CASE WHEN g IS NULL THEN '' ELSE 'g,' END,
    CASE WHEN g IS NULL THEN '' ELSE ', ' || g END)
  INTO written
  USING p.source, p.time_column, p.value_columns, p.width, from_ts, to_ts, p.origin, p.group_by,
        groups, cols, aggs, ids;
  RETURN written;
END
$$;

-- The target tables
COMMENT ON FUNCTION geoetl._window_write(geoetl.window_pipeline, timestamptz, timestamptz, text[]) IS
  'Rewrites a pipeline''s windows starting in [from_ts, to_ts) (only the groups given): upserts and deletes; returns rows written';

-- The target tables: created, or adopted when they have the expected shape.
CREATE FUNCTION geoetl._window_target(target_schema name, group_by name, group_type text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  sig regclass := to_regclass(format('%I.signal', target_schema));
  dat regclass := to_regclass(format('%I.data', target_schema));
  want text[] := ARRAY['timestamp', 'signal_id'] || CASE WHEN group_by IS NULL THEN '{}'::text[]
                                                          ELSE ARRAY[group_by::text] END;
  have text[];
BEGIN
  IF sig IS NULL THEN
    EXECUTE format('CREATE TABLE %I.signal (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, '
                   'name text NOT NULL UNIQUE)', target_schema);
  ELSIF (SELECT count(*) FROM pg_attribute WHERE attrelid = sig AND attname IN ('id', 'name')
           AND NOT attisdropped) <> 2 THEN
    RAISE EXCEPTION '% exists but is not a signal table', sig USING ERRCODE = 'duplicate_table',
      HINT = 'A signal table has the columns id and name (unique); choose another target schema.';
  END IF;
  IF dat IS NULL THEN
    EXECUTE format('CREATE TABLE %1$I.data ("timestamp" timestamptz NOT NULL, '
                   'signal_id integer NOT NULL REFERENCES %1$I.signal (id), %2$s'
                   'value float8 NOT NULL, PRIMARY KEY ("timestamp", signal_id%3$s))',
                   target_schema,
                   CASE WHEN group_by IS NULL THEN '' ELSE format('%I %s NOT NULL, ', group_by, group_type) END,
                   CASE WHEN group_by IS NULL THEN '' ELSE ', ' || quote_ident(group_by) END);
    RETURN;
  END IF;
  SELECT array_agg(a.attname::text ORDER BY k.i) INTO have
  FROM pg_index x CROSS JOIN unnest(x.indkey) WITH ORDINALITY AS k(att, i)
  JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.att
  WHERE x.indrelid = dat AND x.indisprimary;
  IF have IS DISTINCT FROM want
     OR NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = dat AND attname = 'value' AND NOT attisdropped) THEN
    RAISE EXCEPTION '% does not have the shape this pipeline writes', dat USING ERRCODE = 'duplicate_table',
      DETAIL = format('Its primary key is (%s); this pipeline needs (%s) and a value column.',
                      array_to_string(have, ', '), array_to_string(want, ', ')),
      HINT = 'Pipelines with and without group_by need different target schemas.';
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._window_target(name, name, text) IS
  'Creates target_schema.signal and .data, or checks that existing ones have the shape a pipeline writes';

CREATE FUNCTION geoetl.create_window_pipeline(name text, source regclass, time_column name,
                                              value_columns text[], width interval,
                                              target_schema name,
                                              aggregates text[] DEFAULT '{mean,min,max,std}',
                                              group_by name DEFAULT NULL,
                                              lateness interval DEFAULT '0')
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  kind "char";
  gtype text;
  taken text;
  op text;
BEGIN
  IF name IS NULL OR source IS NULL OR time_column IS NULL OR value_columns IS NULL
     OR width IS NULL OR target_schema IS NULL OR aggregates IS NULL OR lateness IS NULL THEN
    RAISE EXCEPTION 'create_window_pipeline: only group_by may be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM geoetl._window_check_name(name);
  IF EXISTS (SELECT 1 FROM geoetl.window_pipeline p WHERE p.name = create_window_pipeline.name) THEN
    RAISE EXCEPTION 'window pipeline "%" already exists', name USING ERRCODE = 'duplicate_object',
      HINT = 'Choose another name, or drop_window_pipeline it first.';
  END IF;
  kind := (SELECT relkind FROM pg_class WHERE oid = source);
  IF kind IS DISTINCT FROM 'r' AND kind IS DISTINCT FROM 'p' THEN
    RAISE EXCEPTION '% is not a table', source USING ERRCODE = 'wrong_object_type',
      HINT = 'A pipeline tracks late changes with triggers, which need a table; aggregate_window itself also reads views.';
  END IF;
  IF kind = 'p' OR EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = source OR inhrelid = source) THEN
    RAISE EXCEPTION 'window pipelines do not support partitioned or inherited tables (%)', source
      USING ERRCODE = 'feature_not_supported',
      HINT = 'Changes made directly to a partition or child would not reach the parent''s triggers; aggregate_window reads them.';
  END IF;
  -- the columns and the width, checked as aggregate_window checks them
  PERFORM * FROM geoetl.aggregate_window(source, time_column, value_columns, width, 'epoch', 'epoch',
                                         group_by => group_by);
  PERFORM geoetl._window_check_settings(width, aggregates, lateness);
  IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = target_schema) THEN
    RAISE EXCEPTION 'schema "%" does not exist', target_schema USING ERRCODE = 'invalid_schema_name',
      HINT = format('Create it first: CREATE SCHEMA %I;', target_schema);
  END IF;
  IF group_by IS NOT NULL THEN
    gtype := format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = source AND attname = group_by AND NOT attisdropped;
  END IF;
  PERFORM geoetl._window_target(target_schema, group_by, gtype);
  SELECT string_agg(format('%s (pipeline %s)', s.name, p.name), ', ') INTO taken
  FROM geoetl.window_pipeline p, geoetl._window_signals(p.value_columns, p.aggregates) s
  WHERE p.target_schema = create_window_pipeline.target_schema
    AND s.name IN (SELECT n.name FROM geoetl._window_signals(create_window_pipeline.value_columns,
                                                             create_window_pipeline.aggregates) n);
  IF taken IS NOT NULL THEN
    RAISE EXCEPTION 'signals already written into schema % by another pipeline: %', target_schema, taken
      USING ERRCODE = 'duplicate_object';
  END IF;
  EXECUTE format('INSERT INTO %I.signal (name) SELECT s.name FROM geoetl._window_signals($1, $2) s '
                 'ON CONFLICT (name) DO NOTHING', target_schema) USING value_columns, aggregates;
  PERFORM geoetl._trusted_call('geoetl._trusted_window_create(regrole, jsonb)',
    jsonb_build_object('name', name, 'source', source::oid, 'time_column', time_column,
                       'value_columns', value_columns, 'width', width, 'target_schema', target_schema,
                       'aggregates', aggregates, 'group_by', group_by, 'lateness', lateness));
  FOREACH op IN ARRAY '{insert,update,delete}'::text[] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s FOR EACH STATEMENT '
                   'EXECUTE FUNCTION geoetl._window_mark_late(%L)',
                   'geoetl_window_' || name || '_' || op, op, source,
                   CASE op WHEN 'insert' THEN 'NEW TABLE AS geoetl_new'
                           WHEN 'delete' THEN 'OLD TABLE AS geoetl_old'
                           ELSE 'OLD TABLE AS geoetl_old NEW TABLE AS geoetl_new' END, name);
  END LOOP;
  EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT '
                 'EXECUTE FUNCTION geoetl._window_mark_late(%L)', 'geoetl_window_' || name || '_truncate',
                 source, name);
END
$$;
COMMENT ON FUNCTION geoetl.create_window_pipeline(text, regclass, name, text[], interval, name, text[], name, interval) IS
  'Records a window pipeline from source into target_schema.signal/data (created, or adopted when they '
  'have the shape), with triggers on source that track late changes; run it with run_window_pipeline';

-- Locks the pipeline (runs of one pipeline wait for each other) and checks it can run.
CREATE FUNCTION geoetl._window_lock(name text, need_source boolean DEFAULT true)
RETURNS geoetl.window_pipeline LANGUAGE plpgsql AS $$
DECLARE
  p geoetl.window_pipeline;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'window pipelines run in READ COMMITTED transactions'
      USING ERRCODE = 'invalid_transaction_state',
      HINT = 'A run must see the late rows committed while it waited for the pipeline''s lock.';
  END IF;
  p := jsonb_populate_record(NULL::geoetl.window_pipeline,
         geoetl._trusted_call('geoetl._trusted_window_get(regrole, jsonb)',
                              jsonb_build_object('name', name, 'lock', true)));
  IF need_source AND NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = p.source) THEN
    RAISE EXCEPTION 'the source table of window pipeline "%" no longer exists', name
      USING ERRCODE = 'undefined_table', HINT = 'drop_window_pipeline it.';
  END IF;
  IF need_source THEN
    PERFORM geoetl._window_check_source(p.name, p.source, p.time_column);
  END IF;
  RETURN p;
END
$$;
COMMENT ON FUNCTION geoetl._window_lock(text, boolean) IS
  'Locks a pipeline''s row for a run (runs of one pipeline wait for each other) after checking it exists, is the user''s and can run';

-- Whether the pipeline belongs to another role than the current user (an admin acting on it):
-- then the work is done as its owner.
CREATE FUNCTION geoetl._window_foreign(name text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT NOT pg_catalog.pg_has_role(current_user, w.owner, 'MEMBER') FROM geoetl.window_pipeline w WHERE w.name = $1
$$;
COMMENT ON FUNCTION geoetl._window_foreign(text) IS 'Whether a pipeline''s owner is a role the current user is not a member of';

-- {"op": "run", "name", "until"} | {"op": "backfill", "name", "from", "to"} | {"op": "drop", "name"}
CREATE FUNCTION geoetl._window_op(args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  RETURN to_jsonb(CASE args->>'op'
    WHEN 'run' THEN geoetl.run_window_pipeline(args->>'name', (args->>'until')::timestamptz)
    WHEN 'backfill' THEN geoetl.backfill_window_pipeline(args->>'name', (args->>'from')::timestamptz,
                                                         (args->>'to')::timestamptz)
    WHEN 'drop' THEN (SELECT 0 FROM geoetl.drop_window_pipeline(args->>'name')) END);
END
$$;
COMMENT ON FUNCTION geoetl._window_op(jsonb) IS 'Internal: runs, backfills or drops a pipeline (as its owner, see _trusted_window_as_owner)';

-- op as the pipeline's owner (see _trusted_window_as_owner)
CREATE FUNCTION geoetl._window_as_owner(op jsonb) RETURNS bigint LANGUAGE sql AS $$
  SELECT (geoetl._trusted_call('geoetl._trusted_window_as_owner(regrole, jsonb)', op))::bigint
$$;
COMMENT ON FUNCTION geoetl._window_as_owner(jsonb) IS 'Internal: a pipeline''s run, backfill or drop done as its owner';

-- Recomputes the late windows of a locked pipeline; returns rows written.
CREATE FUNCTION geoetl._window_rewrite_late(p geoetl.window_pipeline, OUT written bigint, OUT windows int)
LANGUAGE plpgsql AS $$
DECLARE
  w record;
BEGIN
  written := 0;
  windows := 0;
  FOR w IN SELECT window_start, array_agg(group_key) AS groups FROM geoetl.window_late
           WHERE pipeline = p.name GROUP BY window_start ORDER BY window_start LOOP
    written := written + geoetl._window_write(p, w.window_start, w.window_start + p.width,
                                              CASE WHEN p.group_by IS NULL THEN NULL ELSE w.groups END);
    windows := windows + 1;
  END LOOP;
  PERFORM geoetl._trusted_call('geoetl._trusted_window_save(regrole, jsonb)',
                               jsonb_build_object('name', p.name, 'forget_late', true));
END
$$;
COMMENT ON FUNCTION geoetl._window_rewrite_late(geoetl.window_pipeline) IS
  'Recomputes a locked pipeline''s late windows and forgets them; returns rows written and windows';

CREATE FUNCTION geoetl.run_window_pipeline(name text, until timestamptz DEFAULT now())
RETURNS bigint LANGUAGE plpgsql
SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres' SET extra_float_digits = 1 SET timezone = 'UTC' AS $$
DECLARE
  p geoetl.window_pipeline;
  done timestamptz;  -- windows starting before it are complete
  start timestamptz;
  newest timestamptz;
  late record;
  written bigint := 0;
BEGIN
  IF geoetl._window_foreign(name) THEN
    RETURN geoetl._window_as_owner(jsonb_build_object('op', 'run', 'name', name, 'until', until));
  END IF;
  p := geoetl._window_lock(name);
  IF until IS NULL THEN
    RAISE EXCEPTION 'until must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM geoetl._check_finite('until', until);
  IF p.truncated THEN  -- everything written came from rows that are gone
    EXECUTE format('WITH d AS (DELETE FROM %I.data WHERE signal_id IN (SELECT t.id FROM %I.signal t '
                   'JOIN geoetl._window_signals($1, $2) s ON s.name = t.name) RETURNING 1) '
                   'SELECT count(*) FROM d', p.target_schema, p.target_schema)
      INTO written USING p.value_columns, p.aggregates;
    PERFORM geoetl._trusted_call('geoetl._trusted_window_save(regrole, jsonb)',
                                 jsonb_build_object('name', p.name, 'forget_late', true));
    p.watermark := NULL;
    p.backfilled_until := NULL;
  END IF;
  late := geoetl._window_rewrite_late(p);
  written := written + late.written;
  done := date_bin(p.width, until - p.lateness, p.origin);
  IF p.watermark IS NULL THEN
    EXECUTE format('SELECT date_bin($1, min(%I), $2) FROM %s', p.time_column, p.source)
      INTO start USING p.width, p.origin;
  ELSE
    start := p.watermark;
  END IF;
  IF start < done THEN
    written := written + geoetl._window_write(p, start, done);
    p.watermark := done;
  END IF;
  EXECUTE format('SELECT max(%I)::timestamptz FROM %s', p.time_column, p.source) INTO newest;
  PERFORM geoetl._trusted_call('geoetl._trusted_window_save(regrole, jsonb)', jsonb_build_object('name', p.name,
    'run', jsonb_build_object('watermark', p.watermark, 'backfilled_until', p.backfilled_until, 'rows', written,
                              'truncated', false,
                              'late_windows', late.windows, 'source_newest', newest)));
  RETURN written;
END
$$;
COMMENT ON FUNCTION geoetl.run_window_pipeline(text, timestamptz) IS
  'Writes the late windows, then every complete window from the watermark up to until - lateness, '
  'and moves the watermark, in one transaction; returns rows inserted, changed or deleted';

CREATE FUNCTION geoetl.backfill_window_pipeline(name text, from_ts timestamptz, to_ts timestamptz)
RETURNS bigint LANGUAGE plpgsql
SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres' SET extra_float_digits = 1 SET timezone = 'UTC' AS $$
DECLARE
  p geoetl.window_pipeline;
  first timestamptz;
  last_end timestamptz;
  written bigint;
BEGIN
  IF geoetl._window_foreign(name) THEN
    RETURN geoetl._window_as_owner(jsonb_build_object('op', 'backfill', 'name', name, 'from', from_ts, 'to', to_ts));
  END IF;
  p := geoetl._window_lock(name);
  IF from_ts IS NULL OR to_ts IS NULL THEN
    RAISE EXCEPTION 'from_ts and to_ts must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM geoetl._check_finite('from_ts', from_ts);
  PERFORM geoetl._check_finite('to_ts', to_ts);
  IF from_ts >= to_ts THEN
    RAISE EXCEPTION 'from_ts must be before to_ts' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  first := date_bin(p.width, from_ts, p.origin);  -- every window that overlaps [from_ts, to_ts),
  last_end := date_bin(p.width, to_ts, p.origin);  -- whole
  IF last_end < to_ts THEN
    last_end := last_end + p.width;
  END IF;
  written := geoetl._window_write(p, first, last_end);
  PERFORM geoetl._trusted_call('geoetl._trusted_window_save(regrole, jsonb)', jsonb_build_object('name', p.name,
    'late_from', first, 'late_to', last_end,
    'run', jsonb_build_object('watermark', p.watermark, 'backfilled_until', greatest(p.backfilled_until, last_end),
                              'rows', written, 'late_windows', 0)));
  RETURN written;
END
$$;
COMMENT ON FUNCTION geoetl.backfill_window_pipeline(text, timestamptz, timestamptz) IS
  'Rewrites every window that overlaps [from_ts, to_ts) (e.g. one day) whatever the watermark; '
  'returns rows inserted, changed or deleted';

CREATE FUNCTION geoetl.drop_window_pipeline(name text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  p geoetl.window_pipeline;
  op text;
BEGIN
  IF geoetl._window_foreign(name) THEN
    PERFORM geoetl._window_as_owner(jsonb_build_object('op', 'drop', 'name', name));
    RETURN;
  END IF;
  p := geoetl._window_lock(name, need_source => false);
  IF EXISTS (SELECT 1 FROM pg_class WHERE oid = p.source) THEN  -- its triggers went with it
    FOREACH op IN ARRAY '{insert,update,delete,truncate}'::text[] LOOP
      EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'geoetl_window_' || p.name || '_' || op, p.source);
    END LOOP;
  END IF;
  PERFORM geoetl._trusted_call('geoetl._trusted_window_save(regrole, jsonb)',
                               jsonb_build_object('name', p.name, 'drop', true));
END
$$;
COMMENT ON FUNCTION geoetl.drop_window_pipeline(text) IS
  'Removes a window pipeline and its triggers; the target tables and their rows stay';

-- Reads only geoetl's own tables: a status view that evaluated a user's table (its policies,
-- its column's casts) would run that user's code as whoever reads the view.
CREATE VIEW geoetl.window_pipeline_status AS
SELECT p.name, p.source, p.target_schema, p.width, p.lateness, p.watermark,
       p.source_newest, p.source_newest - p.watermark AS lag,
       (SELECT count(*) FROM geoetl.window_late l WHERE l.pipeline = p.name) AS pending_late_windows,
       p.last_run_at, p.last_run_rows, p.last_run_late_windows, p.rows_written, p.owner
FROM geoetl.window_pipeline p;
COMMENT ON VIEW geoetl.window_pipeline_status IS
  'Each window pipeline: watermark, lag behind the source''s newest row, late windows waiting, last run';
COMMENT ON COLUMN geoetl.window_pipeline_status.name IS 'The pipeline';
COMMENT ON COLUMN geoetl.window_pipeline_status.source IS 'The table it reads';
COMMENT ON COLUMN geoetl.window_pipeline_status.target_schema IS 'The schema of the signal and data tables it writes';
COMMENT ON COLUMN geoetl.window_pipeline_status.width IS 'The window length';
COMMENT ON COLUMN geoetl.window_pipeline_status.lateness IS 'How long windows are held back for data still arriving';
COMMENT ON COLUMN geoetl.window_pipeline_status.watermark IS 'Every window starting before it is written';
COMMENT ON COLUMN geoetl.window_pipeline_status.source_newest IS 'The newest time in the source when the last run read it';
COMMENT ON COLUMN geoetl.window_pipeline_status.lag IS 'source_newest - watermark, as of the last run';
COMMENT ON COLUMN geoetl.window_pipeline_status.pending_late_windows IS 'Late windows (and groups) the next run recomputes';
COMMENT ON COLUMN geoetl.window_pipeline_status.last_run_at IS 'When the last run or backfill finished';
COMMENT ON COLUMN geoetl.window_pipeline_status.last_run_rows IS 'Rows it inserted, changed or deleted';
COMMENT ON COLUMN geoetl.window_pipeline_status.last_run_late_windows IS 'Late windows it recomputed';
COMMENT ON COLUMN geoetl.window_pipeline_status.rows_written IS 'Rows written by all runs and backfills';
COMMENT ON COLUMN geoetl.window_pipeline_status.owner IS 'The role that created the pipeline';

-- {"name": "wind", "until": (optional) "2025-01-03T00:00:00Z"} -> {"rows_written": n}
CREATE FUNCTION geoetl._job_window_pipeline(args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  unknown text := (SELECT string_agg(k, ', ') FROM jsonb_object_keys(args) k WHERE k NOT IN ('name', 'until'));
BEGIN
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'unknown argument(s) of a window_pipeline job: %', unknown
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Known: name, until.';
  END IF;
  IF args->>'name' IS NULL THEN
    RAISE EXCEPTION 'a window_pipeline job needs name' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  RETURN jsonb_build_object('rows_written', geoetl.run_window_pipeline(
    args->>'name', coalesce((args->>'until')::timestamptz, now())));
END
$$;
COMMENT ON FUNCTION geoetl._job_window_pipeline(jsonb) IS
  'Handler of job kind window_pipeline: run_window_pipeline for args name[, until]';
INSERT INTO geoetl.job_kind (kind, handler, lease, max_attempts, description) VALUES
  ('window_pipeline', 'geoetl._job_window_pipeline(jsonb)', '30 minutes', 5,
   'Runs a window pipeline (run_window_pipeline) up to args until, default now()');
