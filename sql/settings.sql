-- geoetl's settings as src/pg/settings.cpp defines them (each once): default, bounds, unit and
-- who may change them. The README's table of settings must say the same.
SELECT geoetl.version() IS NOT NULL AS loaded;  -- the library defines its settings when it loads
SELECT name, boot_val, min_val, max_val, unit, context, vartype
  FROM pg_settings WHERE name LIKE 'geoetl.%' ORDER BY name;
-- job_id and job_progress are set by run_jobs while a job runs: not listed, but there
SELECT current_setting('geoetl.job_id') AS job_id, current_setting('geoetl.job_progress') AS job_progress;
