-- make demo, part 2: a wind farm's 1-minute readings rolled into 10-minute windows by a window
-- pipeline. Safe to run again: the readings are generated once, the pipeline is created once,
-- and runs after the first write nothing that has not changed.
SET client_min_messages = warning;
SET timezone = 'UTC';

-- Ten days (2025-01-01 .. 2025-01-10) of three turbines: wind with a daily cycle and gusts,
-- power from a 2 MW power curve, ambient temperature coldest before dawn; a few sensor dropouts
-- (NULL wind speed) and a one-hour communication outage of turbine 2 (no rows).
CREATE TABLE IF NOT EXISTS public.wind_reading (
  ts timestamptz NOT NULL,
  turbine_id int NOT NULL,
  wind_speed float8,           -- m/s at hub height
  power float8,                -- kW
  ambient_temperature float8,  -- degrees C
  PRIMARY KEY (turbine_id, ts)
);
COMMENT ON TABLE public.wind_reading IS 'make demo: 1-minute readings of three turbines (generated)';
SELECT NOT EXISTS (SELECT 1 FROM public.wind_reading) AS empty \gset
\if :empty
SELECT setseed(0.2025) \g /dev/null
INSERT INTO public.wind_reading
SELECT ts, turbine_id, wind,
       CASE WHEN wind IS NULL THEN NULL WHEN wind < 3 OR wind >= 25 THEN 0
            WHEN wind >= 12 THEN 2000 ELSE round((2000 * ((wind - 3) / 9) ^ 3)::numeric, 1) END,
       round((4 + 5 * sin(2 * pi() * (hour - 9) / 24) + random() * 0.4)::numeric, 2)
FROM (SELECT ts, turbine_id, extract(hour FROM ts) + extract(minute FROM ts) / 60 AS hour,
             CASE WHEN random() < 0.002 THEN NULL  -- anemometer dropout
                  ELSE round(greatest(0, 7 + 3 * sin(2 * pi() * (extract(hour FROM ts) - 15) / 24)
                                         + 2 * sin(extract(epoch FROM ts) / 86400 * 0.7 + turbine_id)
                                         + (random() - 0.5) * 2.5)::numeric, 2)::float8 END AS wind
        FROM generate_series('2025-01-01'::timestamptz, '2025-01-10 23:59', '1 minute') ts,
             generate_series(1, 3) turbine_id
       WHERE NOT (turbine_id = 2 AND ts >= '2025-01-04 13:00' AND ts < '2025-01-04 14:00')) r;
\endif
ANALYZE public.wind_reading;

CREATE SCHEMA IF NOT EXISTS wind;
SELECT NOT EXISTS (SELECT 1 FROM geoetl.window_pipeline WHERE name = 'wind_farm') AS create_it \gset
\if :create_it
SELECT geoetl.create_window_pipeline('wind_farm', 'public.wind_reading', 'ts',
                                     '{wind_speed,power,ambient_temperature}', '10 minutes', 'wind',
                                     group_by => 'turbine_id', lateness => '10 minutes') \g /dev/null
\endif

\echo
\echo 'Wind farm: 1-minute readings of three turbines (public.wind_reading), 10 days, into 10-minute windows'
SELECT count(*) AS readings, count(DISTINCT turbine_id) AS turbines, min(ts) AS first, max(ts) AS last,
       count(*) FILTER (WHERE wind_speed IS NULL) AS dropouts
  FROM public.wind_reading;
-- the run a scheduler would make every 10 minutes, here up to the end of the ten days
SELECT geoetl.run_window_pipeline('wind_farm', until => '2025-01-11') AS rows_written \gset
\echo 'run_window_pipeline wrote' :rows_written 'rows (0 on a second run: nothing changed)'
\echo 'The first windows of turbine 1 (wind.data joined to wind.signal, pivoted):'
SELECT d."timestamp" AS window_start,
       round(max(d.value) FILTER (WHERE s.name = 'wind_speed_mean')::numeric, 2) AS wind_mean,
       round(max(d.value) FILTER (WHERE s.name = 'wind_speed_std')::numeric, 2) AS wind_std,
       round(max(d.value) FILTER (WHERE s.name = 'power_mean')::numeric, 1) AS power_mean_kw,
       round(max(d.value) FILTER (WHERE s.name = 'power_max')::numeric, 1) AS power_max_kw,
       round(max(d.value) FILTER (WHERE s.name = 'ambient_temperature_min')::numeric, 2) AS temp_min
  FROM wind.data d JOIN wind.signal s ON s.id = d.signal_id
 WHERE d.turbine_id = 1
 GROUP BY 1 ORDER BY 1 LIMIT 6;

-- a late correction for one reading of turbine 3 on January 3rd: only its window is recomputed
UPDATE public.wind_reading SET power = 1234.5 WHERE turbine_id = 3 AND ts = '2025-01-03 12:34';
SELECT pending_late_windows FROM geoetl.window_pipeline_status WHERE name = 'wind_farm' \gset
SELECT geoetl.run_window_pipeline('wind_farm', until => '2025-01-11') AS rewritten \gset
\echo 'a late correction on 2025-01-03 12:34 (turbine 3):' :pending_late_windows 'late window, rewritten rows:' :rewritten
SELECT name, watermark, source_newest, pending_late_windows, last_run_late_windows, rows_written
  FROM geoetl.window_pipeline_status WHERE name = 'wind_farm';
