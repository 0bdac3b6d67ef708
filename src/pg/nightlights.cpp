// geoetl._nightlight_stats(): one month of night lights for one area (core: nightlights.cpp).
extern "C" {
#include "postgres.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

#include <cmath>
#include <string>
#include <vector>

#include "boundary.h"
#include "raster/crs.h"
#include "base/error.h"
#include "geometry_arg.h"
#include "blackmarble/nightlights.h"
#include "settings.h"

namespace {

// A text[] argument as C strings (NULL elements refused).
std::vector<const char*> text_array(ArrayType* a, const char* what) {
  Datum* items;
  bool* nulls;
  int n;
  deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &items, &nulls, &n);
  std::vector<const char*> out;
  for (int i = 0; i < n; i++) {
    if (nulls[i])
      ereport(ERROR,
              (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not contain NULL", what)));
    out.push_back(TextDatumGetCString(items[i]));
  }
  return out;
}

Datum text_array_datum(const std::vector<std::string>& v) {
  std::vector<Datum> items;
  for (const std::string& s : v) items.push_back(CStringGetTextDatum(s.c_str()));
  return PointerGetDatum(construct_array(items.data(), static_cast<int>(items.size()), TEXTOID, -1,
                                         false, TYPALIGN_INT));
}

}  // namespace

extern "C" {

// _nightlight_stats(geom, uris, threshold, layer, quality, cloud, snow, negative,
//                   min_valid_nights, median, coverage)
PG_FUNCTION_INFO_V1(geoetl_nightlight_stats);
Datum geoetl_nightlight_stats(PG_FUNCTION_ARGS) {
  for (int i : {0, 1, 5, 6, 7, 8, 9, 10})
    if (PG_ARGISNULL(i))
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                      errmsg("argument %d of _nightlight_stats must not be NULL", i + 1)));
  const Datum geom = PG_GETARG_DATUM(0);
  const Oid geom_type = get_fn_expr_argtype(fcinfo->flinfo, 0);
  const std::vector<const char*> uris = text_array(PG_GETARG_ARRAYTYPE_P(1), "uris");
  const double threshold = PG_ARGISNULL(2) ? std::nan("") : PG_GETARG_FLOAT8(2);
  const char* layer = PG_ARGISNULL(3) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(3));
  std::vector<int> quality;
  if (!PG_ARGISNULL(4)) {
    Datum* items;
    bool* nulls;
    int n;
    deconstruct_array(PG_GETARG_ARRAYTYPE_P(4), INT4OID, 4, true, TYPALIGN_INT, &items, &nulls, &n);
    for (int i = 0; i < n; i++)
      if (!nulls[i]) quality.push_back(DatumGetInt32(items[i]));
  }
  const bool cloud = PG_GETARG_BOOL(5), snow = PG_GETARG_BOOL(6);
  const char* negative = text_to_cstring(PG_GETARG_TEXT_PP(7));
  const int min_nights = PG_GETARG_INT32(8);
  const bool median = PG_GETARG_BOOL(9);
  const char* coverage = text_to_cstring(PG_GETARG_TEXT_PP(10));
  TupleDesc desc;
  if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("_nightlight_stats returns a row")));
  desc = BlessTupleDesc(desc);

  const Datum result = geoetl::pg::call_core([&] {
    geoetl::NightRules rules;
    rules.layer = layer;
    rules.quality = quality;
    rules.cloud = cloud;
    rules.snow = snow;
    rules.negative = geoetl::parse_negative(negative);
    rules.min_valid_nights = min_nights;
    rules.median = median;
    int32_t srid = 0;
    const geoetl::MultiPolygon area =
        geoetl::pg::polygon_arg(geom, geom_type, geoetl::pg::ewkb_of(geom, geom_type), &srid);
    const std::vector<std::string> files(uris.begin(), uris.end());
    geoetl::RasterOpenOptions ro;
    ro.gdal = geoetl::pg::gdal_settings();
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    ro.cancel = &cancel;
    const geoetl::NightlightMonth m = geoetl::nightlight_month(
        area, files, rules, threshold, geoetl::parse_coverage(coverage), ro, cancel);
    return geoetl::pg::pg_guard([&] {
      const geoetl::ZonalResult& r = m.radiance;
      const double q50 = r.quantiles.empty() ? std::nan("") : r.quantiles[0];
      const double q90 = r.quantiles.size() < 2 ? std::nan("") : r.quantiles[1];
      const double numbers[] = {m.nights.weight,
                                r.count,
                                r.sum,
                                r.mean,
                                q50,
                                q90,
                                r.max,
                                r.stddev,
                                r.lit_share,
                                r.valid_area_km2,
                                r.lit_area_km2,
                                m.nights.count > 0 ? m.nights.sum : 0};
      Datum values[14];
      bool nulls[14] = {false};
      values[0] = text_array_datum(m.files_used);
      values[1] = text_array_datum(m.files_invalid);
      for (int i = 0; i < 12; i++) {
        values[2 + i] = Float8GetDatum(numbers[i]);
        nulls[2 + i] = std::isnan(numbers[i]);
      }
      return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
    });
  });
  PG_RETURN_DATUM(result);
}

}  // extern "C"
