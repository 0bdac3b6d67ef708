-- Included by bench/zonal_vs_postgis.sh and bench/packages.sh: the benchmark polygons over the
-- 4800x4800 bench raster (30..50 E, -10..10 N), as tables bench.villages (1,000 village-sized
-- 32-gons of 0.006-0.014 degree radius, ids 1..1000) and bench.country (one star-shaped 200-gon
-- of ~3.7 M cells). The same kinds of polygons as bench/bench_polygons.h draws for the C++
-- benchmarks, from PostgreSQL's seeded random(), so every run gets the same ones.
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench.villages, bench.country;
SELECT setseed(0.2026) \g /dev/null
CREATE TABLE bench.villages AS
  SELECT i::bigint AS id,
         ST_Buffer(ST_Point(30.1 + random() * 19.8, -9.9 + random() * 19.8, 4326), 0.006 + random() * 0.008, 8) AS geom
    FROM generate_series(1, 1000) i;
CREATE TABLE bench.country AS
  SELECT 1::bigint AS id, ST_MakePolygon(ST_AddPoint(l, ST_StartPoint(l))) AS geom
    FROM (SELECT ST_MakeLine(array_agg(ST_Point(40 + 4.55 * f * cos(a), 4.55 * f * sin(a), 4326) ORDER BY k)) AS l
            FROM (SELECT k, (k + 0.5 * random()) / 200 * 2 * pi() AS a, 0.9 + 0.2 * random() AS f
                    FROM generate_series(0, 199) k) s) x;
