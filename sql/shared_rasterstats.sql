-- The published rasterstats reference case (../shared/data/rasterstats, see its EXPECTED.md):
-- a real raster in a custom Albers CRS with no EPSG code, so the polygons carry SRID 0.
-- Run by scripts/check.sh only when ../shared is present.
\set SHOW_CONTEXT never
\getenv fixtures GEOETL_FIXTURES
\set slope :fixtures '/rasterstats/slope.tif'
\set polygons_sql :fixtures '/rasterstats/polygons.sql'
\set multipolygons_sql :fixtures '/rasterstats/multipolygons.sql'
SET client_min_messages = warning;
\set ECHO none
\i :polygons_sql
\i :multipolygons_sql
\set ECHO all
RESET client_min_messages;

CREATE TEMP TABLE published (id int, mode text, count float8, sum float8, mean float8, min float8,
                             max float8, stddev float8, median float8, p90 float8, tolerance float8);
-- center and touched: rasterstats's values; exact: exactextract 0.3 (float32 fractions: 1e-6)
INSERT INTO published VALUES
  (1, 'center', 75, 1099.5063667297363, 14.660084889729818, 6.575114727020264, 22.273418426513672, 3.0407310788675033, 14.283852577209473, 18.55985946655274, 1e-12),
  (2, 'center', 50, 2830.2879791259766, 56.60575958251953, 16.940950393676758, 82.69043731689453, 14.212444407499978, 55.90835762023926, 74.24429321289062, 1e-12),
  (1, 'touched', 95, 1495.2483282089233, 15.739456086409719, 6.575114727020264, 27.089157104492188, 3.7686678497841903, NULL, NULL, 1e-12),
  (2, 'touched', 73, 3693.2175192832947, 50.592020812099925, 6.893435001373291, 82.69043731689453, 16.585475717873717, NULL, NULL, 1e-12),
  (1, 'exact', 77.1152684350964, 1158.36920894917, 15.021269230543, 6.57511472702026, 27.0891571044922, 3.28306687705915, NULL, NULL, 1e-6),
  (2, 'exact', 52.1658823098987, 2901.13617475157, 55.613670205307, 6.89343500137329, 82.6904373168945, 14.7098892645098, NULL, NULL, 1e-6);

CREATE FUNCTION pg_temp.close(got float8, want float8, tol float8) RETURNS boolean
LANGUAGE sql AS $$ SELECT want IS NULL OR abs(got - want) <= tol * greatest(abs(want), 1e-300) $$;

-- every statistic agrees with the published value within its tolerance
SELECT p.mode, p.id, round(s.count::numeric, 6) AS count, round(s.sum::numeric, 6) AS sum,
       pg_temp.close(s.count, p.count, p.tolerance) AS count_ok,
       pg_temp.close(s.sum, p.sum, p.tolerance) AS sum_ok,
       pg_temp.close(s.mean, p.mean, p.tolerance) AS mean_ok,
       pg_temp.close(s.min, p.min, p.tolerance) AND pg_temp.close(s.max, p.max, p.tolerance) AS min_max_ok,
       pg_temp.close(s.stddev, p.stddev, p.tolerance) AS stddev_ok,
       pg_temp.close(s.quantiles[1], p.median, p.tolerance)
         AND pg_temp.close(s.quantiles[2], p.p90, p.tolerance) AS quantiles_ok
  FROM published p JOIN rs_polygons g ON g.id = p.id,
       LATERAL geoetl.zonal_stats(:'slope', g.geom, coverage => p.mode) s
 ORDER BY p.mode, p.id;

-- exact coverage is closer than float32 fractions allow: Σw equals the polygon's area in
-- cells (25.525146574506131 m square, no nodata under these polygons) to 1e-12
SELECT g.id, s.nodata_share,
       abs(s.count - ST_Area(g.geom) / 25.525146574506131 ^ 2) < 1e-12 * s.count AS count_is_area_in_cells
  FROM rs_polygons g, LATERAL geoetl.zonal_stats(:'slope', g.geom) s
 ORDER BY g.id;

-- many polygons in one pass give the same numbers
SELECT m.id, m.count = s.count AND m.sum = s.sum AND m.stddev = s.stddev AS same
  FROM geoetl.zonal_stats_many(:'slope', (SELECT array_agg(id::bigint ORDER BY id) FROM rs_polygons),
                               (SELECT array_agg(geom ORDER BY id) FROM rs_polygons)) m
  JOIN rs_polygons g ON g.id = m.id, LATERAL geoetl.zonal_stats(:'slope', g.geom) s
 ORDER BY m.id;

-- multipolygons.shp: each part's statistics add up to the whole
SELECT abs(whole.count - parts.count) < 1e-9 AND abs(whole.sum - parts.sum) < 1e-9 * abs(whole.sum) AS parts_add_up
  FROM (SELECT sum(s.count) AS count, sum(s.sum) AS sum
          FROM rs_multipolygons m, LATERAL ST_Dump(m.geom) d,
               LATERAL geoetl.zonal_stats(:'slope', d.geom) s) parts,
       (SELECT sum(s.count) AS count, sum(s.sum) AS sum
          FROM rs_multipolygons m, LATERAL geoetl.zonal_stats(:'slope', m.geom) s) whole;

-- Albers metres claimed to be WGS 84 degrees cannot be transformed: a clear error, not NULLs
\i sql/include/err.psql
SELECT replace(pg_temp.err(format('SELECT geoetl.zonal_stats(%L, ST_SetSRID(geom, 4326)) FROM rs_polygons', :'slope')),
               :'fixtures', '<fixtures>') AS srid_over_custom_crs;
