-- geoetl.zonal_stats on rasters written by test/fixtures (GEOETL_FIXTURES, set by scripts/check.sh).
\set SHOW_CONTEXT never
\getenv fixtures GEOETL_FIXTURES
\set small :fixtures '/small.tif'
\set nodata :fixtures '/nodata.tif'
\set geo :fixtures '/geo.tif'
\set utm :fixtures '/utm.tif'
\set scaled :fixtures '/scaled.tif'
\set lights :fixtures '/lights.tif'

-- small.tif: values 1..9 row by row, cell (r, c) = [c, c+1] x [2-r, 3-r], no CRS.
-- The square 0.5..2.5 covers quarters, halves and the middle: Σw = 4, Σwv = 20.
SELECT * FROM geoetl.zonal_stats(:'small', ST_MakeEnvelope(0.5, 0.5, 2.5, 2.5));
-- the same by the pixel-centre rule and by the all-touched rule
SELECT count, sum, mean, min, max FROM geoetl.zonal_stats(:'small', ST_MakeEnvelope(0.4, 0.4, 2.6, 2.6), coverage => 'center');
SELECT count, sum, min, max FROM geoetl.zonal_stats(:'small', ST_MakeEnvelope(1.2, 1.2, 1.8, 1.8), coverage => 'touched');
-- a polygon smaller than a cell: exact gives its area fraction, center nothing
SELECT round(count::numeric, 12) AS count, sum = 5 * count AS five_each
  FROM geoetl.zonal_stats(:'small', ST_MakeEnvelope(1.1, 1.1, 1.3, 1.4));
SELECT count FROM geoetl.zonal_stats(:'small', ST_MakeEnvelope(1.1, 1.1, 1.3, 1.4), coverage => 'center');
-- holes are left out
SELECT count, sum FROM geoetl.zonal_stats(:'small',
  'POLYGON((0 0,3 0,3 3,0 3,0 0),(1 1,2 1,2 2,1 2,1 1))');
-- a multipolygon adds up its parts
SELECT count, sum FROM geoetl.zonal_stats(:'small',
  'MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((2 2,3 2,3 3,2 3,2 2)))');
-- quantiles in the order asked, weighted; threshold gives the lit share
SELECT quantiles, lit_share FROM geoetl.zonal_stats(:'small', ST_MakeEnvelope(0, 0, 3, 3),
  threshold => 7, quantiles => '{0.9, 0, 0.5, 1}');
SELECT quantiles FROM geoetl.zonal_stats(:'small', ST_MakeEnvelope(0, 0, 3, 3), quantiles => '{}');
-- NULL quantiles: none computed
SELECT quantiles FROM geoetl.zonal_stats(:'small', ST_MakeEnvelope(0, 0, 3, 3), quantiles => NULL);

-- nodata.tif: -9999 in the second cell and NaN in the middle are both missing
SELECT count, sum, round(nodata_share::numeric, 6) AS nodata_share
  FROM geoetl.zonal_stats(:'nodata', ST_MakeEnvelope(0, 0, 3, 3));
-- a polygon half outside the raster: the outside weighs as missing
SELECT count, sum, nodata_share FROM geoetl.zonal_stats(:'small', ST_MakeEnvelope(2, 2, 4, 4));
-- wholly outside, or empty: count 0, statistics NULL
SELECT * FROM geoetl.zonal_stats(:'small', ST_MakeEnvelope(10, 10, 11, 11));
SELECT * FROM geoetl.zonal_stats(:'small', 'POLYGON EMPTY');
-- NULL raster or geometry: NULL
SELECT geoetl.zonal_stats(NULL, ST_MakeEnvelope(0, 0, 1, 1)) IS NULL AS null_raster,
       geoetl.zonal_stats(:'small', NULL) IS NULL AS null_geom;

-- scaled.tif: uint16 x 0.1 with fill 65535 (Black Marble collection 1 style)
SELECT count, sum, max FROM geoetl.zonal_stats(:'scaled', ST_MakeEnvelope(0, 0, 4, 1));

-- geo.tif: 0.1 degree cells over 36..37 E, 0..1 N; areas on the ellipsoid
SELECT count, round(valid_area_km2::numeric, 3) AS valid_km2,
       round(lit_area_km2::numeric, 3) AS lit_km2
  FROM geoetl.zonal_stats(:'geo', ST_MakeEnvelope(36, 0, 37, 1, 4326), threshold => 51);
-- a geometry in another CRS is transformed to the raster's: the same box in UTM 37N
SELECT round(a.count::numeric, 2) = round(b.count::numeric, 2) AS same_count,
       abs(a.sum - b.sum) < 1e-6 * a.sum AS same_sum
  FROM geoetl.zonal_stats(:'geo', ST_MakeEnvelope(36.2, 0.2, 36.7, 0.8, 4326)) a,
       geoetl.zonal_stats(:'geo', ST_Transform(ST_Segmentize(ST_MakeEnvelope(36.2, 0.2, 36.7, 0.8, 4326), 0.001), 32637)) b;
-- utm.tif: 1 km cells in UTM 37N, a WGS 84 polygon over it, planar km2
SELECT round(count::numeric, 1) AS count, round(valid_area_km2::numeric, 1) AS km2
  FROM geoetl.zonal_stats(:'utm', ST_MakeEnvelope(36.2, 0.2, 36.7, 0.8, 4326));

-- many polygons in one pass equal one at a time
CREATE TEMP TABLE zones AS
  SELECT i AS id, ST_Buffer(ST_Point(30.2 + (i % 10) * 0.28, 0.2 + (i / 10) * 0.4, 4326), 0.02 + (i % 7) * 0.03, 5) AS geom
    FROM generate_series(0, 39) i;
INSERT INTO zones VALUES (40, NULL);
SELECT count(*) AS rows, count(m.count) AS with_stats,
       bool_and(m.id = z.id) AS ids_kept,
       max(abs(m.count - s.count)) < 1e-9 AS same_count,
       max(abs(m.sum - s.sum) / greatest(abs(s.sum), 1)) < 1e-12 AS same_sum,
       bool_and(m.quantiles = s.quantiles OR (m.quantiles IS NULL AND s.quantiles IS NULL)) AS same_quantiles
  FROM geoetl.zonal_stats_many(:'lights', (SELECT array_agg(id ORDER BY id) FROM zones),
                               (SELECT array_agg(geom ORDER BY id) FROM zones)) WITH ORDINALITY m
  JOIN zones z ON z.id = m.id
  LEFT JOIN LATERAL geoetl.zonal_stats(:'lights', z.geom) s ON true;
-- zonal_stats_areas: the same over geoetl.area
SELECT geoetl.add_area('north', '{"type":"Polygon","coordinates":[[[30.5,1.5],[31.5,1.5],[31.5,1.9],[30.5,1.5]]]}') > 0 AS added,
       geoetl.add_area('south', '{"type":"Polygon","coordinates":[[[30.5,0.1],[31.5,0.1],[31.5,0.5],[30.5,0.1]]]}') > 0 AS added;
SELECT a.name, abs(a.sum - s.sum) < 1e-9 * s.sum AS same_as_one_by_one, a.count > 0 AS has_cells
  FROM geoetl.zonal_stats_areas(:'lights', threshold => 5) a
  JOIN geoetl.area x USING (area_id), LATERAL geoetl.zonal_stats(:'lights', x.geom, threshold => 5) s
 ORDER BY a.area_id;
SELECT count(*) AS only_north FROM geoetl.zonal_stats_areas(:'lights',
  area_ids => ARRAY[(SELECT area_id FROM geoetl.area WHERE name = 'north')]);
-- (f(...)).* calls f once per column: the engine computes once per statement and argument set
SELECT (geoetl.zonal_stats(:'lights', geom)).count > 0 AS ok FROM geoetl.area ORDER BY area_id;
SELECT count(*) FROM geoetl.zonal_stats_many(:'lights', '{}', '{}');
DELETE FROM geoetl.area;

-- a file rewritten between two queries of one call is read again: results are kept only for
-- the query that computed them, and the dataset cache notices the new file
CREATE FUNCTION pg_temp.copy_file(src text, dst text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE o oid := lo_from_bytea(0, pg_read_binary_file(src));
BEGIN
  PERFORM lo_export(o, dst);
  PERFORM lo_unlink(o);
END $$;
CREATE FUNCTION pg_temp.sums_after_rewrite(a text, b text, dst text) RETURNS float8[]
LANGUAGE plpgsql AS $$
DECLARE sums float8[];
BEGIN
  PERFORM pg_temp.copy_file(a, dst);
  sums := sums || (SELECT sum FROM geoetl.zonal_stats(dst, ST_MakeEnvelope(0, 0, 3, 3)));
  PERFORM pg_temp.copy_file(b, dst);
  sums := sums || (SELECT sum FROM geoetl.zonal_stats(dst, ST_MakeEnvelope(0, 0, 3, 3)));
  RETURN sums;
END $$;
SELECT pg_temp.sums_after_rewrite(:'small', :'nodata', :'fixtures' || '/rewritten.tif') AS sums;
-- the same with PL/pgSQL simple expressions, whose context lasts the whole transaction
CREATE FUNCTION pg_temp.simple_sums_after_rewrite(a text, b text, dst text) RETURNS float8[]
LANGUAGE plpgsql AS $$
DECLARE r geoetl.zonal_stats_result; sums float8[];
BEGIN
  PERFORM pg_temp.copy_file(a, dst);
  r := geoetl.zonal_stats(dst, ST_MakeEnvelope(0, 0, 3, 3));
  sums := sums || r.sum;
  PERFORM pg_temp.copy_file(b, dst);
  r := geoetl.zonal_stats(dst, ST_MakeEnvelope(0, 0, 3, 3));
  RETURN sums || r.sum;
END $$;
SELECT pg_temp.simple_sums_after_rewrite(:'small', :'nodata', :'fixtures' || '/rewritten2.tif') AS sums;
