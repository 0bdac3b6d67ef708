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
#include <utility>
#include <vector>

#include "args.h"
#include "boundary.h"
#include "raster/crs.h"
#include "base/error.h"
#include "geometry_arg.h"
#include "blackmarble/nightlights.h"
#include "result_row.h"
#include "settings.h"

namespace {

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
  using geoetl::pg::NullElements;
  const geoetl::pg::SqlArgs args(fcinfo, "_nightlight_stats");
  args.require({{0, "geom"},
                {1, "uris"},
                {5, "cloud"},
                {6, "snow"},
                {7, "negative"},
                {8, "min_valid_nights"},
                {9, "median"},
                {10, "coverage"}});
  const Datum geom = args.datum(0, "geom");
  const Oid geom_type = get_fn_expr_argtype(fcinfo->flinfo, 0);
  const geoetl::pg::ArgArray<const char*> uris = args.text_array(1, "uris", NullElements::refuse);
  const double threshold = args.float8_or(2, std::nan(""));
  const char* layer = args.text_or(3, "");
  const geoetl::pg::ArgArray<int32> quality =
      args.is_null(4) ? geoetl::pg::ArgArray<int32>{}
                      : args.int4_array(4, "quality", NullElements::skip);
  const bool cloud = args.boolean(5, "cloud"), snow = args.boolean(6, "snow");
  const char* negative = args.text(7, "negative");
  const int min_nights = args.int4(8, "min_valid_nights");
  const bool median = args.boolean(9, "median");
  const char* coverage = args.text(10, "coverage");
  const TupleDesc desc = geoetl::pg::composite_result_type(fcinfo, "_nightlight_stats");

  const Datum result = geoetl::pg::call_core([&] {
    geoetl::NightRules rules;
    rules.layer = layer;
    rules.quality.assign(quality.begin(), quality.end());
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
      const std::pair<const char*, double> numbers[] = {
          {"weight", m.nights.weight},
          {"count", r.count},
          {"sum", r.sum},
          {"mean", r.mean},
          {"median", q50},
          {"p90", q90},
          {"max", r.max},
          {"stddev", r.stddev},
          {"lit_share", r.lit_share},
          {"valid_area_km2", r.valid_area_km2},
          {"lit_area_km2", r.lit_area_km2},
          {"night_weight", m.nights.count > 0 ? m.nights.sum : 0}};
      geoetl::pg::ResultRow row(desc);
      row.set("files_used", TEXTARRAYOID, text_array_datum(m.files_used));
      row.set("files_invalid", TEXTARRAYOID, text_array_datum(m.files_invalid));
      for (const auto& [name, value] : numbers) row.set_float8(name, value);
      return row.datum();
    });
  });
  PG_RETURN_DATUM(result);
}

}  // extern "C"
