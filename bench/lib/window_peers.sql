-- Included by bench/window.sh: aggregate_window and its SQL peers as query texts, each consumed
-- the same way, best-of-3 timing, and a comparison of every result row.
CREATE FUNCTION pg_temp.q_geoetl(src text, grp text) RETURNS text LANGUAGE sql AS $$
  SELECT format('SELECT count(*), sum(n), sum(mean), sum(min), sum(max), sum(stddev) FROM '
                'geoetl.aggregate_window(%L, ''ts'', ''{wind_speed,power,temperature}'', ''10 minutes'', '
                '''-infinity'', ''infinity'', group_by => %L)', src, grp) $$;
CREATE FUNCTION pg_temp.stats(c text) RETURNS text LANGUAGE sql AS $$
  SELECT format('count(%1$s) n_%1$s, avg(%1$s) mean_%1$s, min(%1$s) min_%1$s, max(%1$s) max_%1$s, stddev(%1$s) sd_%1$s', c) $$;
CREATE FUNCTION pg_temp.grouped(src text, grp text) RETURNS text LANGUAGE sql AS $$
  SELECT format('SELECT %s AS g, date_bin(''10 minutes'', ts, ''2000-01-01 00:00:00+00'') AS w, %s, %s, %s '
                'FROM %s GROUP BY 1, 2', coalesce(grp || '::text', 'NULL::text'),
                pg_temp.stats('wind_speed'), pg_temp.stats('power'), pg_temp.stats('temperature'), src) $$;
CREATE FUNCTION pg_temp.q_wide(src text, grp text) RETURNS text LANGUAGE sql AS $$
  SELECT format('SELECT count(*), sum(n_wind_speed + n_power + n_temperature), '
                'sum(mean_wind_speed + mean_power + mean_temperature), sum(min_wind_speed + min_power + min_temperature), '
                'sum(max_wind_speed + max_power + max_temperature), sum(sd_wind_speed + sd_power + sd_temperature) '
                'FROM (%s) s', pg_temp.grouped(src, grp)) $$;
CREATE FUNCTION pg_temp.long(src text, grp text) RETURNS text LANGUAGE sql AS $$
  SELECT format('SELECT s.g AS group_key, s.w AS window_start, c.* FROM (%s) s CROSS JOIN LATERAL (VALUES '
                '(''wind_speed'', n_wind_speed, mean_wind_speed, min_wind_speed, max_wind_speed, sd_wind_speed), '
                '(''power'', n_power, mean_power, min_power, max_power, sd_power), '
                '(''temperature'', n_temperature, mean_temperature, min_temperature, max_temperature, sd_temperature)) '
                'AS c(column_name, n, mean, min, max, stddev)', pg_temp.grouped(src, grp)) $$;
CREATE FUNCTION pg_temp.q_long(src text, grp text) RETURNS text LANGUAGE sql AS $$
  SELECT format('SELECT count(*), sum(n), sum(mean), sum(min), sum(max), sum(stddev) FROM (%s) l',
                pg_temp.long(src, grp)) $$;
-- best of 3 after a warm-up, in seconds
CREATE FUNCTION pg_temp.best(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; best float8 := 'Infinity'; i int;
BEGIN
  FOR i IN 0..3 LOOP
    t0 := clock_timestamp();
    EXECUTE q;
    IF i > 0 THEN best := least(best, extract(epoch FROM clock_timestamp() - t0)); END IF;
  END LOOP;
  RETURN best;
END $$;
CREATE FUNCTION pg_temp.compare(src text, grp text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE total bigint; bad bigint;
BEGIN
  EXECUTE format($q$
    WITH a AS (SELECT * FROM geoetl.aggregate_window(%L, 'ts', '{wind_speed,power,temperature}', '10 minutes',
                                                     '-infinity', 'infinity', group_by => %L)),
         r AS (%s)
    SELECT count(*), count(*) FILTER (WHERE a.n IS DISTINCT FROM r.n
      OR a.mean IS DISTINCT FROM r.mean AND NOT coalesce(abs(a.mean - r.mean) <= 1e-12 * greatest(abs(a.mean), abs(r.mean)), false)
      OR a.min IS DISTINCT FROM r.min OR a.max IS DISTINCT FROM r.max
      OR a.stddev IS DISTINCT FROM r.stddev AND NOT coalesce(abs(a.stddev - r.stddev) <= 1e-12 * greatest(abs(a.stddev), abs(r.stddev)), false))
    FROM a FULL JOIN r ON coalesce(a.group_key, '') = coalesce(r.group_key, '')
                      AND a.window_start = r.window_start AND a.column_name = r.column_name$q$,
    src, grp, pg_temp.long(src, grp)) INTO total, bad;
  RETURN format('%s rows compared, %s differ (1e-12 relative)', total, bad);
END $$;
