-- Time windows: count/mean/min/max/stddev of value columns per date_bin window (and group).

CREATE FUNCTION geoetl.aggregate_window(source regclass, time_column name, value_columns text[],
                                        width interval, from_ts timestamptz, to_ts timestamptz,
                                        origin timestamptz DEFAULT '2000-01-01 00:00:00+00',
                                        group_by name DEFAULT NULL)
RETURNS TABLE (group_key text, window_start timestamptz, column_name text, n bigint,
               mean float8, min float8, max float8, stddev float8)
LANGUAGE C STABLE PARALLEL RESTRICTED COST 1000 ROWS 1000
AS 'MODULE_PATHNAME', 'geoetl_aggregate_window';
COMMENT ON FUNCTION geoetl.aggregate_window(regclass, name, text[], interval, timestamptz,
                                            timestamptz, timestamptz, name) IS
  'One row per window (date_bin(width, time, origin)), group and value column over the rows with '
  'from_ts <= time < to_ts: n non-NULL values, mean, min, max and sample stddev, equal to '
  'GROUP BY date_bin(...) with count/avg/min/max/stddev; streamed, memory bounded by open windows';

-- The same, reading only the given groups (their keys as text): what a window pipeline needs to
-- recompute the groups late data touched, served by an index on (group column, time) if any.
CREATE FUNCTION geoetl._aggregate_window_groups(source regclass, time_column name,
                                                value_columns text[], width interval,
                                                from_ts timestamptz, to_ts timestamptz,
                                                origin timestamptz, group_by name, group_keys text[])
RETURNS TABLE (group_key text, window_start timestamptz, column_name text, n bigint,
               mean float8, min float8, max float8, stddev float8)
LANGUAGE C STABLE PARALLEL RESTRICTED COST 1000 ROWS 1000
AS 'MODULE_PATHNAME', 'geoetl_aggregate_window';
COMMENT ON FUNCTION geoetl._aggregate_window_groups(regclass, name, text[], interval, timestamptz,
                                                    timestamptz, timestamptz, name, text[]) IS
  'aggregate_window over the rows whose group_by value (as text) is one of group_keys';

-- A time that bounds a pipeline's windows: a finite one (an infinite watermark would stop every
-- later run).
CREATE FUNCTION geoetl._check_finite(what text, t timestamptz) RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF NOT isfinite(t) THEN
    RAISE EXCEPTION '% must be a finite time, not %', what, t USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Pipelines work between finite times: until is the time up to which windows are complete, e.g. now().';
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._check_finite(text, timestamptz) IS
  'Internal: raises 22023 when a pipeline''s time bound is infinite';
