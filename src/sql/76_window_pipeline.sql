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
  rows_written  bigint NOT NULL DEFAULT 0
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

-- Owners (and admins) change their own pipelines; everybody with geoetl_reader sees them all.
ALTER TABLE geoetl.window_pipeline ENABLE ROW LEVEL SECURITY;
CREATE POLICY window_pipeline_read ON geoetl.window_pipeline FOR SELECT USING (true);
CREATE POLICY window_pipeline_own ON geoetl.window_pipeline FOR ALL
  USING (pg_has_role(current_user, owner, 'MEMBER') OR pg_has_role(current_user, 'geoetl_admin', 'MEMBER'))
  WITH CHECK (pg_has_role(current_user, owner, 'MEMBER') OR pg_has_role(current_user, 'geoetl_admin', 'MEMBER'));
ALTER TABLE geoetl.window_late ENABLE ROW LEVEL SECURITY;
CREATE POLICY window_late_read ON geoetl.window_late FOR SELECT USING (true);
CREATE POLICY window_late_own ON geoetl.window_late FOR DELETE
  USING (EXISTS (SELECT 1 FROM geoetl.window_pipeline p WHERE p.name = pipeline
                 AND (pg_has_role(current_user, p.owner, 'MEMBER')
                      OR pg_has_role(current_user, 'geoetl_admin', 'MEMBER'))));

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
  IF name !~ '^[a-z][a-z0-9_]{0,39}$' THEN
    RAISE EXCEPTION 'invalid pipeline name "%"', name USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Up to 40 lower-case letters, digits and _, starting with a letter.';
  END IF;
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
  IF cardinality(aggregates) = 0 OR EXISTS (SELECT 1 FROM unnest(aggregates) a
                                           WHERE a IS NULL OR a NOT IN ('mean', 'min', 'max', 'std', 'count'))
     OR cardinality(aggregates) <> (SELECT count(DISTINCT a) FROM unnest(aggregates) a) THEN
    RAISE EXCEPTION 'invalid aggregates %', aggregates USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Name each of mean, min, max, std and count at most once.';
  END IF;
  IF lateness < '0' OR extract(month FROM lateness) <> 0 OR extract(year FROM lateness) <> 0 THEN
    RAISE EXCEPTION 'lateness must be zero or more, without months or years' USING ERRCODE = 'invalid_parameter_value';
  END IF;
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
  INSERT INTO geoetl.window_pipeline (name, source, time_column, value_columns, width, target_schema,
                                      aggregates, group_by, lateness)
  VALUES (name, source, time_column, value_columns, width, target_schema, aggregates, group_by, lateness);
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
  IF name IS NULL THEN
    RAISE EXCEPTION 'the pipeline name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'window pipelines run in READ COMMITTED transactions'
      USING ERRCODE = 'invalid_transaction_state',
      HINT = 'A run must see the late rows committed while it waited for the pipeline''s lock.';
  END IF;
  SELECT * INTO p FROM geoetl.window_pipeline w WHERE w.name = _window_lock.name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'window pipeline "%" does not exist', name USING ERRCODE = 'undefined_object';
  END IF;
  -- row security leaves only the pipelines the user owns (or all, for geoetl_admin)
  SELECT * INTO p FROM geoetl.window_pipeline w WHERE w.name = _window_lock.name FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'window pipeline "%" belongs to %', name,
      (SELECT owner FROM geoetl.window_pipeline w WHERE w.name = _window_lock.name)
      USING ERRCODE = 'insufficient_privilege',
      HINT = 'Only its owner or a member of geoetl_admin may run, backfill or drop it.';
  END IF;
  IF need_source AND NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = p.source) THEN
    RAISE EXCEPTION 'the source table of window pipeline "%" no longer exists', name
      USING ERRCODE = 'undefined_table', HINT = 'drop_window_pipeline it.';
  END IF;
  RETURN p;
END
$$;
COMMENT ON FUNCTION geoetl._window_lock(text, boolean) IS
  'Locks a pipeline''s row for a run (runs of one pipeline wait for each other) after checking it exists, is the user''s and can run';

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
  DELETE FROM geoetl.window_late WHERE pipeline = p.name;
END
$$;
COMMENT ON FUNCTION geoetl._window_rewrite_late(geoetl.window_pipeline) IS
  'Recomputes a locked pipeline''s late windows and forgets them; returns rows written and windows';

CREATE FUNCTION geoetl.run_window_pipeline(name text, until timestamptz DEFAULT now())
RETURNS bigint LANGUAGE plpgsql
SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres' SET extra_float_digits = 1 SET timezone = 'UTC' AS $$
DECLARE
  p geoetl.window_pipeline := geoetl._window_lock(name);
  done timestamptz;  -- windows starting before it are complete
  start timestamptz;
  late record;
  written bigint := 0;
BEGIN
  IF until IS NULL THEN
    RAISE EXCEPTION 'until must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM geoetl._check_finite('until', until);
  IF p.truncated THEN  -- everything written came from rows that are gone
    EXECUTE format('WITH d AS (DELETE FROM %I.data WHERE signal_id IN (SELECT t.id FROM %I.signal t '
                   'JOIN geoetl._window_signals($1, $2) s ON s.name = t.name) RETURNING 1) '
                   'SELECT count(*) FROM d', p.target_schema, p.target_schema)
      INTO written USING p.value_columns, p.aggregates;
    DELETE FROM geoetl.window_late WHERE pipeline = p.name;
    p.watermark := NULL;
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
  UPDATE geoetl.window_pipeline w
  SET watermark = p.watermark, truncated = false, last_run_at = clock_timestamp(),
      backfilled_until = CASE WHEN p.truncated THEN NULL ELSE w.backfilled_until END,
      last_run_rows = written, last_run_late_windows = late.windows,
      rows_written = w.rows_written + written
  WHERE w.name = p.name;
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
  p geoetl.window_pipeline := geoetl._window_lock(name);
  first timestamptz;
  last_end timestamptz;
  written bigint;
BEGIN
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
  DELETE FROM geoetl.window_late WHERE pipeline = p.name AND window_start >= first AND window_start < last_end;
  UPDATE geoetl.window_pipeline w
  SET last_run_at = clock_timestamp(), last_run_rows = written, last_run_late_windows = 0,
      rows_written = w.rows_written + written,
      backfilled_until = greatest(w.backfilled_until, last_end)
  WHERE w.name = p.name;
  RETURN written;
END
$$;
COMMENT ON FUNCTION geoetl.backfill_window_pipeline(text, timestamptz, timestamptz) IS
  'Rewrites every window that overlaps [from_ts, to_ts) (e.g. one day) whatever the watermark; '
  'returns rows inserted, changed or deleted';

CREATE FUNCTION geoetl.drop_window_pipeline(name text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  p geoetl.window_pipeline := geoetl._window_lock(name, need_source => false);
  op text;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_class WHERE oid = p.source) THEN  -- its triggers went with it
    FOREACH op IN ARRAY '{insert,update,delete,truncate}'::text[] LOOP
      EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'geoetl_window_' || p.name || '_' || op, p.source);
    END LOOP;
  END IF;
  DELETE FROM geoetl.window_pipeline w WHERE w.name = p.name;
END
$$;
COMMENT ON FUNCTION geoetl.drop_window_pipeline(text) IS
  'Removes a window pipeline and its triggers; the target tables and their rows stay';

-- The newest time in a pipeline's source (NULL when the caller may not read it).
CREATE FUNCTION geoetl._window_source_newest(p geoetl.window_pipeline) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
  newest timestamptz;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = p.source) THEN  -- dropped
    RETURN NULL;
  END IF;
  EXECUTE format('SELECT max(%I)::timestamptz FROM %s', p.time_column, p.source) INTO newest;
  RETURN newest;
EXCEPTION WHEN insufficient_privilege OR undefined_table THEN
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION geoetl._window_source_newest(geoetl.window_pipeline) IS
  'The newest time in a pipeline''s source, NULL when the user may not read it';

CREATE VIEW geoetl.window_pipeline_status AS
SELECT p.name, p.source, p.target_schema, p.width, p.lateness, p.watermark,
       n.newest AS source_newest, n.newest - p.watermark AS lag,
       (SELECT count(*) FROM geoetl.window_late l WHERE l.pipeline = p.name) AS pending_late_windows,
       p.last_run_at, p.last_run_rows, p.last_run_late_windows, p.rows_written, p.owner
FROM geoetl.window_pipeline p
CROSS JOIN LATERAL (SELECT geoetl._window_source_newest(p) AS newest) n;
COMMENT ON VIEW geoetl.window_pipeline_status IS
  'Each window pipeline: watermark, lag behind the source''s newest row, late windows waiting, last run';
COMMENT ON COLUMN geoetl.window_pipeline_status.name IS 'The pipeline';
COMMENT ON COLUMN geoetl.window_pipeline_status.source IS 'The table it reads';
COMMENT ON COLUMN geoetl.window_pipeline_status.target_schema IS 'The schema of the signal and data tables it writes';
COMMENT ON COLUMN geoetl.window_pipeline_status.width IS 'The window length';
COMMENT ON COLUMN geoetl.window_pipeline_status.lateness IS 'How long windows are held back for data still arriving';
COMMENT ON COLUMN geoetl.window_pipeline_status.watermark IS 'Every window starting before it is written';
COMMENT ON COLUMN geoetl.window_pipeline_status.source_newest IS 'The newest time in the source (NULL when you may not read it)';
COMMENT ON COLUMN geoetl.window_pipeline_status.lag IS 'source_newest - watermark';
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
