#!/usr/bin/env bash
# The month of bench/nightlights.sh done the way a PostGIS user would, against
# geoetl.nightlight_metrics in centre mode, in the same run on the same cluster.
#
#   bench/nightlights_postgis.sh [DAYS=30] [SIZE=2400]   (after bench/nightlights.sh DAYS SIZE)
#
# PostGIS way: each night's radiance, quality, cloud-mask and snow layers exported to one 4-band
# GeoTIFF (gdal_translate, georeferenced from the tile number), loaded with raster2pgsql in
# 240x240 tiles, masked per pixel with ST_MapAlgebra (the rules geoetl applies by default:
# quality 0 or 1, cloud bits 6-7 <= 1, no snow, not fill, negative clamped to 0), averaged over
# the nights with ST_Union(..., 'MEAN'), then ST_SummaryStatsAgg(ST_Clip(...)) over the tile.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DAYS=${1:-30}
SIZE=${2:-2400}
. bench/lib/setup.sh
DATA=$(readlink -f "$GEOETL_PGDIR")/nightlights-$DAYS-$SIZE
[[ -f $DATA/.complete ]] || { echo "run bench/nightlights.sh $DAYS $SIZE first" >&2; exit 2; }
bench_cluster

TIFS=$DATA/postgis-tifs
if [[ ! -f $TIFS/.complete ]]; then
  echo "exporting the nights to 4-band GeoTIFFs ..."
  rm -rf "$TIFS" && mkdir -p "$TIFS"
  for f in "$DATA"/VNP46A2.*.h5; do
    day=$(basename "$f" | cut -d. -f2)
    for layer in DNB_BRDF-Corrected_NTL Mandatory_Quality_Flag QF_Cloud_Mask Snow_Flag; do
      gdal_translate -q -ot Float32 -a_nodata none -a_srs EPSG:4326 -a_ullr 30 10 40 0 \
        "HDF5:\"$f\"://HDFEOS/GRIDS/VNP_Grid_DNB/Data_Fields/$layer" "$TIFS/$day.$layer.tif" 2>/dev/null
    done
    gdalbuildvrt -q -separate "$TIFS/$day.vrt" "$TIFS/$day".{DNB_BRDF-Corrected_NTL,Mandatory_Quality_Flag,QF_Cloud_Mask,Snow_Flag}.tif
    gdal_translate -q "$TIFS/$day.vrt" "$TIFS/$day.tif"
    rm -f "$TIFS/$day".*.tif "$TIFS/$day.vrt"
  done
  touch "$TIFS/.complete"
fi

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS postgis_raster;
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS bench.nights;
SQL
echo "loading $(ls "$TIFS"/*.tif | wc -l) nights with raster2pgsql ..."
raster2pgsql -s 4326 -t 240x240 -F -I "$TIFS"/*.tif bench.nights 2>/dev/null | psql -X -q >/dev/null

psql -X -q -A -t -v ON_ERROR_STOP=1 -v dir="$DATA" <<'SQL'
DELETE FROM geoetl.raster;
SELECT 'registered ' || geoetl.register_rasters('VNP46A2', :'dir') || ' granules for geoetl';
SQL
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE OR REPLACE FUNCTION bench.night_value(value double precision[][][], pos integer[][], VARIADIC userargs text[])
RETURNS double precision LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  radiance double precision := value[1][1][1];
  quality double precision := value[2][1][1];
  cloud double precision := value[3][1][1];
  snow double precision := value[4][1][1];
BEGIN
  IF radiance IS NULL OR abs(radiance + 999.9) < 0.01 OR quality NOT IN (0, 1)
     OR cloud = 65535 OR (cloud::int >> 6) & 3 > 1 OR snow <> 0 THEN
    RETURN NULL;
  END IF;
  RETURN greatest(radiance, 0);
END $$;
\timing on
\echo 'PostGIS: mask every night (ST_MapAlgebra), average the nights (ST_Union MEAN), statistics (ST_SummaryStatsAgg of ST_Clip)'
CREATE TEMP TABLE composite AS
SELECT ST_Union(m.rast, 'MEAN') AS rast
  FROM (SELECT ST_MapAlgebra(ARRAY[ROW(rast, 1), ROW(rast, 2), ROW(rast, 3), ROW(rast, 4)]::rastbandarg[],
                             'bench.night_value(double precision[], integer[], text[])'::regprocedure, '32BF') AS rast
          FROM bench.nights) m
 GROUP BY ST_UpperLeftX(m.rast), ST_UpperLeftY(m.rast);
SELECT (s).count, round((s).sum::numeric, 1) AS sum, round((s).mean::numeric, 6) AS mean
  FROM (SELECT ST_SummaryStatsAgg(ST_Clip(rast, ST_MakeEnvelope(30, 0, 40, 10, 4326)), 1, true) AS s FROM composite) x;
\echo 'geoetl: nightlight_metrics, centre mode (sum and mean must equal the PostGIS ones)'
SELECT round(sum_of_lights::numeric, 1) AS sum, round(mean_radiance::numeric, 6) AS mean, round(valid_area_km2::numeric) AS valid_km2
  FROM geoetl.nightlight_metrics(ST_MakeEnvelope(30, 0, 40, 10, 4326), '2024-01-01', options => '{"coverage": "center"}');
SQL
