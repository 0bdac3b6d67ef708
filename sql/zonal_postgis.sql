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

-- coverage => 'center' on centres lying exactly on an edge: the cells ST_Clip takes (GDAL's
-- rasteriser on the raster rt_raster_gdal_rasterize makes for the polygon), counted with the
-- raster's nodata left out as geoetl's count does. Rectangles on cell boundaries (pixel
-- aligned), through centres (half-pixel offset), the issue's west and north edges through
-- centres, in both ring orientations, and halves sharing an edge through centres.
CREATE TEMP TABLE aligned AS
  SELECT format('%s, %s', r.name, o.dir) AS name,
         CASE o.dir WHEN 'clockwise' THEN r.geom ELSE ST_Reverse(r.geom) END AS geom
    FROM (VALUES ('a west and north edges through centres', ST_MakeEnvelope(30.205, 1.3, 30.8, 1.695, 4326)),
                 ('b every edge through centres', ST_MakeEnvelope(30.105, 1.305, 30.905, 1.905, 4326)),
                 ('c every edge on cell boundaries', ST_MakeEnvelope(30.1, 1.3, 30.9, 1.9, 4326)),
                 ('d east edge through centres, beyond the last cell of the raster PostGIS rasterises on',
                  ST_MakeEnvelope(30.65, 1.3, 31.224999999999998, 1.6, 4326)),
                 ('e west half', ST_MakeEnvelope(30.105, 1.305, 30.505, 1.905, 4326)),
                 ('f east half', ST_MakeEnvelope(30.505, 1.305, 30.905, 1.905, 4326)),
                 ('g south part', ST_MakeEnvelope(30.105, 0.105, 30.905, 0.505, 4326)),
                 ('h north part', ST_MakeEnvelope(30.105, 0.505, 30.905, 1.905, 4326)),
                 ('i south and north parts together', ST_MakeEnvelope(30.105, 0.105, 30.905, 1.905, 4326))) r(name, geom),
         (VALUES ('clockwise'), ('counter-clockwise')) o(dir);
CREATE TEMP TABLE aligned_counts AS
  SELECT a.name, g.count AS geoetl, pg.count AS postgis
    FROM aligned a,
         LATERAL geoetl.zonal_stats(:'lights', a.geom, coverage => 'center') g,
         LATERAL (SELECT (ST_SummaryStats(ST_Clip(r.rast, a.geom, true), 1, true)).count FROM lights_pg r) pg;
SELECT name, geoetl, postgis FROM aligned_counts ORDER BY name;
-- halves sharing a vertical edge through centres add up to the whole; parts sharing a
-- horizontal one do not on this north-up raster: GDAL (so ST_Clip) gives the shared row of
-- centres to both (GDALdllImageFilledPolygon fills bottom edges separately), and geoetl follows
-- it: 80 cells counted twice
SELECT sum(geoetl) FILTER (WHERE name LIKE 'e %' OR name LIKE 'f %') / 2 AS west_plus_east,
       sum(geoetl) FILTER (WHERE name LIKE 'b %') / 2 AS whole,
       sum(geoetl) FILTER (WHERE name LIKE 'g %' OR name LIKE 'h %') / 2 AS south_plus_north,
       sum(geoetl) FILTER (WHERE name LIKE 'i %') / 2 AS south_and_north_together
  FROM aligned_counts;

-- random rectangles inside the raster with edges on the half-cell lattice (cell boundaries and
-- centre lines), both orientations: the same counts as ST_Clip
SELECT setseed(0.7);
CREATE TEMP TABLE lattice AS
  SELECT i, ST_MakeEnvelope(x0, y0, x0 + w, y0 + h, 4326) AS geom
    FROM (SELECT i, 30 + floor(random() * 470) * 0.005 AS x0, floor(random() * 270) * 0.005 AS y0,
                 (1 + floor(random() * 120)) * 0.005 AS w, (1 + floor(random() * 120)) * 0.005 AS h
            FROM generate_series(1, 300) i) s;
SELECT count(*) AS compared,
       count(*) FILTER (WHERE g.count = pg.count) AS same_count
  FROM lattice l,
       LATERAL (VALUES (l.geom), (ST_Reverse(l.geom))) v(geom),
       LATERAL geoetl.zonal_stats(:'lights', v.geom, coverage => 'center') g,
       LATERAL (SELECT (ST_SummaryStats(ST_Clip(r.rast, v.geom, true), 1, true)).count FROM lights_pg r) pg;
