-- Values no cell should hold: non-finite values (after scale and offset) are invalid like nodata;
-- a sum beyond float8's range is Infinity, the mean stays exact.
\getenv fixtures GEOETL_FIXTURES
\set nonfinite :fixtures '/nonfinite.tif'
\set huge :fixtures '/huge.tif'
\set nan_scale :fixtures '/nan_scale.tif'
-- 1, Infinity, 3 / -Infinity, 5, NaN / 7, 8, 9: six valid cells
SELECT count, sum, mean, min, max, round(stddev::numeric, 12) AS stddev, quantiles, round(nodata_share::numeric, 12) AS nodata_share
  FROM geoetl.zonal_stats(:'nonfinite', ST_MakeEnvelope(0, 0, 3, 3), quantiles => '{0,0.5,1}');
-- only the infinite cells: nothing valid
SELECT count, sum, mean, stddev, quantiles, nodata_share
  FROM geoetl.zonal_stats(:'nonfinite', ST_MakeEnvelope(1, 2, 2, 3));
-- two rows of 1.7e308: the sum leaves float8's range, the mean and quantiles do not
SELECT count, sum, mean, min, max, stddev, quantiles
  FROM geoetl.zonal_stats(:'huge', ST_MakeEnvelope(0, 1, 3, 3), quantiles => '{0.5}');
SELECT count, sum, mean, min, max
  FROM geoetl.zonal_stats(:'huge', ST_MakeEnvelope(0, 0, 3, 1));
-- a NaN scale makes every value NaN: no valid cell
SELECT count, sum, mean, quantiles, nodata_share
  FROM geoetl.zonal_stats(:'nan_scale', ST_MakeEnvelope(0, 0, 3, 3));
-- the same through zonal_stats_many
SELECT id, count, sum, mean FROM geoetl.zonal_stats_many(:'nonfinite', '{1,2}',
  ARRAY[ST_MakeEnvelope(0, 0, 3, 3), ST_MakeEnvelope(1, 2, 2, 3)]) ORDER BY id;
