#!/usr/bin/env bash
# Fabricates what scripts/viewer.sh would serve, without the database: two towns' night lights
# over a patch of north-west Kenya for VNP46A2, months 2024-01 (XYZ tiles), 2024-06 (a
# .pmtiles archive) and 2024-12 (XYZ), the two areas, their monthly series, and CHECKS.json
# for test/e2e/lib/viewer_check.mjs (its third dark point is on
# the edge of zoom 8's tile x=153, which has no tile: nothing may be drawn there). Needs gdal-bin (gdal2tiles.py, python3-gdal, numpy) and
# viewer/node_modules (viewer/build.sh installs it).
#
#   viewer/test/fixture.sh OUT_DIR        -> OUT_DIR/{data/,store/,checks.json}
# then: node viewer/serve.mjs --root <page with OUT_DIR/data> --store OUT_DIR/store
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# -eq 1 ]] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
TILES=$OUT/store/tiles/VNP46A2
WORK=$OUT/work
rm -rf "$OUT/data" "$OUT/store" "$WORK"
mkdir -p "$OUT/data/series" "$TILES" "$WORK"

# The rasters (RGBA GeoTIFFs, coloured as src/core/tiles/ramp.cpp does) and the JSON.
/usr/bin/python3 - "$OUT" "$WORK" <<'PY'
import json, math, sys
import numpy as np
from osgeo import gdal, osr

out, work = sys.argv[1], sys.argv[2]
W, S, E, N = 34.60, 3.50, 35.10, 3.95
RES = 1 / 240  # VNP46A2's 15 arc-second grid
nx, ny = round((E - W) / RES), round((N - S) / RES)
lon = W + (np.arange(nx) + 0.5) * RES
lat = N - (np.arange(ny) + 0.5) * RES
LON, LAT = np.meshgrid(lon, lat)

KAKUMA, KALOBEYEI = (34.86, 3.72), (34.75, 3.80)
def town(c, peak, sigma=0.018):
    return peak * np.exp(-((LON - c[0]) ** 2 + (LAT - c[1]) ** 2) / (2 * sigma ** 2))
def radiance(month):  # month 1..12: Kakuma brightens, Kalobeyei lights up from June on
    v = town(KAKUMA, 20 + 4 * month)
    if month >= 6:
        v = v + town(KALOBEYEI, 3 * (month - 4), 0.012)
    v[v < 0.5] = 0
    return v

STOPS = [(0.0, (20, 10, 40)), (0.25, (90, 20, 110)), (0.5, (200, 40, 50)),
         (0.7, (250, 140, 30)), (0.85, (255, 220, 80)), (1.0, (255, 255, 255))]
def colour(v):
    t = np.where(v > 0, np.minimum(1, np.log10(1 + v) / math.log10(101)), 0)
    rgba = np.zeros(v.shape + (4,), np.uint8)
    for (t0, c0), (t1, c1) in zip(STOPS, STOPS[1:]):
        sel = (t >= t0) & (t <= t1)
        f = (t[sel] - t0) / (t1 - t0)
        for k in range(3):
            rgba[..., k][sel] = np.floor(c0[k] + (c1[k] - c0[k]) * f + 0.5)
    rgba[..., 3] = np.where(v > 0, np.round(255 * np.minimum(1, 0.3 + 7 * t)), 0)
    return rgba

srs = osr.SpatialReference(); srs.ImportFromEPSG(4326)
for m in (1, 6, 12):
    ds = gdal.GetDriverByName('GTiff').Create(f'{work}/2024-{m:02d}.tif', nx, ny, 4, gdal.GDT_Byte,
                                             ['PHOTOMETRIC=RGB', 'ALPHA=YES'])
    ds.SetGeoTransform((W, RES, 0, N, 0, -RES))
    ds.SetProjection(srs.ExportToWkt())
    rgba = colour(radiance(m))
    for k in range(4):
        ds.GetRasterBand(k + 1).WriteArray(rgba[..., k])
    ds.GetRasterBand(4).SetColorInterpretation(gdal.GCI_AlphaBand)
    ds = None

def box(w, s, e, n):
    return [[w, s], [e, s], [e, n], [w, n], [w, s]]
areas = [
    (1, 'Kakuma', {'type': 'Polygon', 'coordinates': [box(34.82, 3.68, 34.90, 3.76)]}, KAKUMA),
    (2, 'Kalobeyei', {'type': 'MultiPolygon', 'coordinates': [[box(34.72, 3.77, 34.78, 3.83)],
                                                             [box(34.79, 3.84, 34.81, 3.86)]]}, KALOBEYEI),
]
def metrics(area_id, m):
    c = KAKUMA if area_id == 1 else KALOBEYEI
    v = radiance(m)
    sel = (abs(LON - c[0]) < 0.04) & (abs(LAT - c[1]) < 0.04)
    return {'month': f'2024-{m:02d}', 'sum_of_lights': round(float(v[sel].sum()), 3),
            'lit_share': round(float((v[sel] > 0).mean()), 4), 'coverage': 0.97 if m != 3 else None,
            'mean_radiance': round(float(v[sel].mean()), 4)}
features = []
for area_id, name, geom, _ in areas:
    last = metrics(area_id, 12)
    features.append({'type': 'Feature', 'id': area_id, 'geometry': geom,
                     'properties': {'area_id': area_id, 'name': name, 'month': '2024-12',
                                    'sum_of_lights': last['sum_of_lights'], 'lit_share': last['lit_share'],
                                    'coverage': last['coverage']}})
    json.dump({'area_id': area_id, 'name': name, 'product': 'VNP46A2',
               'months': [metrics(area_id, m) for m in range(1, 13)]},
              open(f'{out}/data/series/{area_id}.json', 'w'))
json.dump({'type': 'FeatureCollection', 'features': features}, open(f'{out}/data/areas.geojson', 'w'))
json.dump({'product': 'VNP46A2', 'bounds': [34.3, 3.3, 35.4, 4.2], 'months': [
    {'month': '2024-01', 'format': 'xyz', 'tiles': 'store/tiles/VNP46A2/2024-01/{z}/{x}/{y}.png', 'min_zoom': 0, 'max_zoom': 8},
    {'month': '2024-06', 'format': 'pmtiles', 'tiles': 'store/tiles/VNP46A2/2024-06.pmtiles', 'min_zoom': 0, 'max_zoom': 8},
    {'month': '2024-12', 'format': 'xyz', 'tiles': 'store/tiles/VNP46A2/2024-12/{z}/{x}/{y}.png', 'min_zoom': 0, 'max_zoom': 8},
]}, open(f'{out}/data/viewer.json', 'w'))
json.dump({'lit': [list(KAKUMA)], 'dark': [[34.65, 3.56], [35.05, 3.90], [35.15625, 3.6]], 'changed': [list(KALOBEYEI)],
           'from_month': '2024-01', 'to_month': '2024-12', 'also_months': ['2024-06'],
           'click_area': 1, 'zoom': 10, 'center': [34.82, 3.75]},
          open(f'{out}/checks.json', 'w'), indent=1)
PY

for m in 2024-01 2024-06 2024-12; do
  gdal2tiles.py --xyz -q -z 0-8 -r near -w none --processes=2 "$WORK/$m.tif" "$WORK/$m" >/dev/null
done
mv "$WORK/2024-01" "$WORK/2024-12" "$TILES/"
find "$TILES" -name '*.xml' -delete
node "$HERE/make_pmtiles.mjs" "$WORK/2024-06" "$TILES/2024-06.pmtiles" 34.60 3.50 35.10 3.95
rm -rf "$WORK"
echo "fixture: $OUT (data/, store/, checks.json)"
