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
#include "night_rules.h"
#include "blackmarble/nightlights.h"
#include "result_row.h"
#include "settings.h"

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
  const geoetl::pg::NightRuleArgs night(args, 3);
  const char* coverage = args.text(10, "coverage");
  const TupleDesc desc = geoetl::pg::composite_result_type(fcinfo, "_nightlight_stats");

  const Datum result = geoetl::pg::call_core([&] {
    const geoetl::NightRules rules = night.rules();
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
      row.set("files_used", TEXTARRAYOID, geoetl::pg::text_array_of(m.files_used));
      row.set("files_invalid", TEXTARRAYOID, geoetl::pg::text_array_of(m.files_invalid));
      for (const auto& [name, value] : numbers) row.set_float8(name, value);
      return row.datum();
    });
  });
  PG_RETURN_DATUM(result);
}

}  // extern "C"
