-- geoetl beside PostGIS raster in one session: the same numbers in center mode, and GDAL keeps
-- working for geoetl whatever PostGIS does to it (postgis.gdal_enabled_drivers destroys GDAL's
-- driver manager, closing every open dataset, and hides every driver with GDAL_SKIP).
\set SHOW_CONTEXT never
\getenv fixtures GEOETL_FIXTURES
\set lights :fixtures '/lights.tif'
\set lights_sql :fixtures '/lights_pg.sql'

SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS postgis_raster;
RESET client_min_messages;

-- PostGIS raster first in this session: loading it destroys GDAL's driver manager and sets
-- GDAL_SKIP to every driver; geoetl's first read must still work
SELECT postgis_gdal_version() LIKE 'GDAL %' AS postgis_raster_loaded;
SELECT count FROM geoetl.zonal_stats(:'lights', ST_MakeEnvelope(30, 1.99, 30.01, 2, 4326));

-- geoetl's dataset cache now holds lights.tif
SELECT round(sum::numeric, 6) AS sum_before FROM geoetl.zonal_stats(:'lights', ST_MakeEnvelope(30.5, 0.5, 31.5, 1.5, 4326));

-- PostGIS raster again ...
SET client_min_messages = warning;
\set ECHO none
\i :lights_sql
\set ECHO all
RESET client_min_messages;
SELECT ST_Width(rast), ST_Height(rast), ST_BandNoDataValue(rast) FROM lights_pg;
SELECT (ST_SummaryStats(rast)).count AS postgis_reads_pixels FROM lights_pg;
-- ... and geoetl still gives the same answer
SELECT round(sum::numeric, 6) AS sum_after FROM geoetl.zonal_stats(:'lights', ST_MakeEnvelope(30.5, 0.5, 31.5, 1.5, 4326));
SET postgis.gdal_enabled_drivers = 'ENABLE_ALL';
SELECT round(sum::numeric, 6) AS sum_enable_all FROM geoetl.zonal_stats(:'lights', ST_MakeEnvelope(30.5, 0.5, 31.5, 1.5, 4326));
SET postgis.gdal_enabled_drivers = 'DISABLE_ALL';
SELECT round(sum::numeric, 6) AS sum_disable_all FROM geoetl.zonal_stats(:'lights', ST_MakeEnvelope(30.5, 0.5, 31.5, 1.5, 4326));

-- random star-shaped polygons over the raster
SELECT setseed(0.42);
CREATE TEMP TABLE shapes AS
  SELECT c.i, c.n, c.cx, c.cy, c.rad, k, (k + 0.5 * random()) / c.n * 2 * pi() AS a, 0.3 + 0.7 * random() AS f
    FROM (SELECT i, 5 + floor(random() * 15)::int AS n, 30.1 + random() * 2.8 AS cx,
                 0.1 + random() * 1.8 AS cy, 0.01 + random() * 0.3 AS rad
            FROM generate_series(1, 40) i) c,
         generate_series(0, c.n - 1) k;
CREATE TEMP TABLE polys AS
  SELECT i, ST_MakePolygon(ST_AddPoint(line, ST_StartPoint(line))) AS geom
    FROM (SELECT i, ST_MakeLine(array_agg(ST_Point(cx + rad * f * cos(a), cy + rad * f * sin(a), 4326) ORDER BY k)) AS line
            FROM shapes GROUP BY i) l;
SELECT count(*) AS polygons, bool_and(ST_IsValid(geom)) AS all_valid FROM polys;

-- geoetl center mode against ST_SummaryStats(ST_Clip(touched => false)) and ST_Quantile
CREATE TEMP TABLE compared AS
  SELECT p.i, g.count AS g_count, pg.count AS p_count, g.sum AS g_sum, pg.sum AS p_sum,
         g.min AS g_min, pg.min AS p_min, g.max AS g_max, pg.max AS p_max,
         g.stddev AS g_stddev, pg.stddev AS p_stddev, g.quantiles AS g_q, q.quantiles AS p_q
    FROM polys p,
         LATERAL geoetl.zonal_stats(:'lights', p.geom, coverage => 'center', quantiles => '{0.25,0.5,0.9}') g,
         LATERAL (SELECT (ST_SummaryStats(ST_Clip(r.rast, p.geom, true), 1, true)).* FROM lights_pg r) pg,
         LATERAL (SELECT array_agg(x.value ORDER BY x.quantile) AS quantiles
                    FROM lights_pg r, ST_Quantile(ST_Clip(r.rast, p.geom, true), 1, true, ARRAY[0.25,0.5,0.9]) x) q;
SELECT count(*) AS compared,
       count(*) FILTER (WHERE g_count > 0) AS with_cells,
       count(*) FILTER (WHERE coalesce(g_count, 0) = coalesce(p_count, 0)) AS same_count,
       count(*) FILTER (WHERE g_count = 0 OR abs(g_sum - p_sum) <= 1e-9 * abs(p_sum)) AS same_sum,
       count(*) FILTER (WHERE g_count = 0 OR (g_min = p_min AND g_max = p_max)) AS same_min_max,
       count(*) FILTER (WHERE g_count = 0 OR abs(g_stddev - p_stddev) <= 1e-9 * greatest(p_stddev, 1e-12)) AS same_stddev,
       count(*) FILTER (WHERE g_count = 0 OR (SELECT bool_and(abs(a - b) <= 1e-9 * greatest(abs(b), 1))
                                              FROM unnest(g_q, p_q) AS u(a, b))) AS same_quantiles
  FROM compared;
-- the disagreements, if any, one line each
SELECT i, g_count, p_count, g_sum, p_sum, g_q, p_q FROM compared
 WHERE coalesce(g_count, 0) <> coalesce(p_count, 0)
    OR (g_count > 0 AND (abs(g_sum - p_sum) > 1e-9 * abs(p_sum) OR g_min <> p_min OR g_max <> p_max))
 ORDER BY i;
