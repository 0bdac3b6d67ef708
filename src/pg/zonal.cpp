// geoetl.zonal_stats() and geoetl.zonal_stats_many(): SQL entry points of the zonal engine.
extern "C" {
#include "postgres.h"
#include "utils/memutils.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "access.h"
#include "args.h"
#include "boundary.h"
#include "raster/crs.h"
#include "base/error.h"
#include "geometry_arg.h"
#include "postgis.h"
#include "result_row.h"
#include "settings.h"
#include "transfer/sources.h"
#include "geom/wkb.h"
#include "zonal/zonal.h"

namespace {

using geoetl::pg::NullElements;
using geoetl::pg::ResultRow;

// The call's options as plain data, read before any C++ work (reading may ereport).
struct Args {
  const char* raster;
  int band;
  const char* coverage;
  double threshold;  // NaN for NULL
  double* quantiles;
  int nquantiles;
};

Args read_args(const geoetl::pg::SqlArgs& args, int raster, int band) {
  args.require({{band, "band"}, {band + 1, "coverage"}});
  Args a{args.text(raster, "raster"),
         args.int4(band, "band"),
         args.text(band + 1, "coverage"),
         args.float8_or(band + 2, std::nan("")),
         nullptr,
         0};
  if (!args.is_null(band + 3)) {
    const auto quantiles = args.float8_array(band + 3, "quantiles", NullElements::refuse);
    a.quantiles = quantiles.items;
    a.nquantiles = quantiles.count;
  }
  return a;
}

geoetl::ZonalOptions options(const Args& a) {
  geoetl::ZonalOptions o;
  o.band = a.band;
  o.coverage = geoetl::parse_coverage(a.coverage);
  o.stats.threshold = a.threshold;
  o.stats.quantiles.assign(a.quantiles, a.quantiles + a.nquantiles);
  o.stats.max_quantile_cells = geoetl::pg::quantile_cells();
  geoetl::validate(o);
  return o;
}

geoetl::Raster open_raster(const char* raster, bool superuser) {
  const geoetl::Source src = geoetl::resolve_source(raster);
  const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
  geoetl::RasterOpenOptions ro = geoetl::pg::raster_open_options(superuser, &cancel);
  ro.shared_blocks = true;  // zonal statistics come back to the same blocks, from any backend
  geoetl::set_raster_cache_capacity(geoetl::pg::raster_cache_size());
  return geoetl::Raster::open(src.gdal_path, src.shown, ro);
}

// The float8 columns of geoetl.zonal_stats_result (quantiles apart) and where each comes from.
struct StatColumn {
  const char* name;
  double geoetl::ZonalResult::*value;
};
constexpr StatColumn stat_columns[] = {
    {"count", &geoetl::ZonalResult::count},
    {"sum", &geoetl::ZonalResult::sum},
    {"mean", &geoetl::ZonalResult::mean},
    {"min", &geoetl::ZonalResult::min},
    {"max", &geoetl::ZonalResult::max},
    {"stddev", &geoetl::ZonalResult::stddev},
    {"lit_share", &geoetl::ZonalResult::lit_share},
    {"valid_area_km2", &geoetl::ZonalResult::valid_area_km2},
    {"lit_area_km2", &geoetl::ZonalResult::lit_area_km2},
    {"nodata_share", &geoetl::ZonalResult::nodata_share},
};

// Statistics as SQL values; NaN becomes NULL, and so do the quantiles of no cells. Allocates:
// call under pg_guard.
void fill(ResultRow& row, const geoetl::ZonalResult& r) {
  for (const StatColumn& c : stat_columns) row.set_float8(c.name, r.*c.value);
  if (r.count <= 0) return row.set_null("quantiles", FLOAT8ARRAYOID);
  const int n = static_cast<int>(r.quantiles.size());
  Datum* q = static_cast<Datum*>(palloc(sizeof(Datum) * (n + 1)));
  bool* qn = static_cast<bool*>(palloc(sizeof(bool) * (n + 1)));
  for (int i = 0; i < n; i++) {
    q[i] = Float8GetDatum(r.quantiles[i]);
    qn[i] = std::isnan(r.quantiles[i]);
  }
  int dims[1] = {n}, lbs[1] = {1};
  row.set("quantiles", FLOAT8ARRAYOID,
          PointerGetDatum(construct_md_array(q, qn, n > 0 ? 1 : 0, dims, lbs, FLOAT8OID, 8,
                                             FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)));
}

// The statistics of a NULL geometry: all NULL.
void fill_null(ResultRow& row) {
  for (const StatColumn& c : stat_columns) row.set_null(c.name, FLOAT8OID);
  row.set_null("quantiles", FLOAT8ARRAYOID);
}

// `SELECT (geoetl.zonal_stats(...)).*` makes PostgreSQL call the function once per output column
// with the same arguments. The last result is kept, keyed by every argument and the file's size
// and mtime, for as long as the query that computed it runs: a callback on the query's memory
// context forgets it when the query ends (PL/pgSQL's simple expressions share one context for a
// whole transaction; the file signature keeps those honest for local files).
struct LastCall {
  MemoryContext query = nullptr;  // null: nothing kept
  std::string key;
  geoetl::ZonalResult result;
};
LastCall last_call;

void forget_last_call(void*) {
  last_call.query = nullptr;
}

// Keeps the result for the rest of the query whose memory context is `query`.
void remember(MemoryContext query) {
  auto* cb =
      static_cast<MemoryContextCallback*>(MemoryContextAlloc(query, sizeof(MemoryContextCallback)));
  cb->func = forget_last_call;
  cb->arg = nullptr;
  MemoryContextRegisterResetCallback(query, cb);
  last_call.query = query;
}

std::string call_key(const Args& a, const bytea* ewkb) {
  std::string key(a.raster);
  key += '\0' + std::to_string(a.band) + '\0' + a.coverage + '\0';
  key.append(reinterpret_cast<const char*>(&a.threshold), sizeof a.threshold);
  key.append(reinterpret_cast<const char*>(a.quantiles), sizeof(double) * a.nquantiles);
  key += '\0';
  key.append(VARDATA_ANY(ewkb), VARSIZE_ANY_EXHDR(ewkb));
  return key;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(geoetl_zonal_stats);
Datum geoetl_zonal_stats(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo);
  if (args.is_null(0) || args.is_null(1)) PG_RETURN_NULL();
  const Args a = read_args(args, 0, 2);
  const Datum geom = args.datum(1, "geom");
  const Oid geom_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
  const TupleDesc desc = geoetl::pg::composite_result_type(fcinfo, "zonal_stats");

  const Datum result = geoetl::pg::call_core([&] {
    const bool superuser = geoetl::pg::check_read_access(a.raster);
    const geoetl::ZonalOptions o = options(a);
    const MemoryContext query = fcinfo->flinfo->fn_mcxt;
    const bytea* ewkb = geoetl::pg::ewkb_of(geom, geom_type);
    const geoetl::Raster raster = open_raster(a.raster, superuser);  // cached: cheap
    // the file's size and mtime are part of the key: a rewritten file is read again
    std::string key = call_key(a, ewkb) + '\0' + raster.signature();
    if (last_call.query != query || last_call.key != key) {
      const bool registered = last_call.query == query;
      last_call.query = nullptr;  // invalid until the new result is complete
      int32_t srid = 0;
      geoetl::MultiPolygon polygon = geoetl::pg::polygon_arg(geom, geom_type, ewkb, &srid);
      geoetl::transform_to_raster_crs(polygon, geoetl::pg::srid_crs(srid, geom_type),
                                      raster.crs_wkt(), raster.name());
      last_call.result =
          geoetl::zonal_statistics(raster, {polygon}, o, geoetl::pg::interrupt_token())[0];
      last_call.key = std::move(key);
      if (registered)
        last_call.query = query;
      else
        geoetl::pg::pg_guard([&] { remember(query); });
    }
    const geoetl::ZonalResult& r = last_call.result;
    return geoetl::pg::pg_guard([&] {
      ResultRow row(desc);
      fill(row, r);
      return row.datum();
    });
  });
  PG_RETURN_DATUM(result);
}

// zonal_stats_many(raster, ids bigint[], geoms geometry[], band, coverage, threshold, quantiles):
// one row per id, every block of the raster read once for all polygons.
PG_FUNCTION_INFO_V1(geoetl_zonal_stats_many);
Datum geoetl_zonal_stats_many(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  const geoetl::pg::SqlArgs args(fcinfo);
  if (args.is_null(0) || args.is_null(1) || args.is_null(2)) return (Datum)0;
  const Args a = read_args(args, 0, 3);
  const geoetl::pg::ArgArray<int64> ids = args.int8_array(1, "ids", NullElements::refuse);
  const geoetl::pg::ArgDatums geoms = args.datum_array(2, "geoms");
  if (ids.count != geoms.count)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("ids and geoms differ in length: %d and %d", ids.count, geoms.count),
                    errhint("Build both arrays from the same rows in the same order.")));
  const int nids = ids.count;
  const Oid geom_type = geoms.type;
  auto* rsi = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  geoetl::pg::call_core([&] {
    const bool superuser = geoetl::pg::check_read_access(a.raster);
    const geoetl::ZonalOptions o = options(a);
    std::vector<geoetl::MultiPolygon> polygons(static_cast<size_t>(nids));
    std::vector<int32_t> srids(static_cast<size_t>(nids), 0);
    for (int i = 0; i < nids; i++)
      if (!geoms.nulls[i])
        polygons[i] = geoetl::pg::polygon_arg(
            geoms.items[i], geom_type, geoetl::pg::ewkb_of(geoms.items[i], geom_type), &srids[i]);
    const geoetl::Raster raster = open_raster(a.raster, superuser);
    std::map<int32_t, std::string> crs;
    for (int i = 0; i < nids; i++) {
      if (!crs.count(srids[i])) crs[srids[i]] = geoetl::pg::srid_crs(srids[i], geom_type);
      geoetl::transform_to_raster_crs(polygons[i], crs[srids[i]], raster.crs_wkt(), raster.name());
    }
    const std::vector<geoetl::ZonalResult> results =
        geoetl::zonal_statistics(raster, polygons, o, geoetl::pg::interrupt_token());
    geoetl::pg::pg_guard([&] {
      ResultRow row(rsi->setDesc);
      for (int i = 0; i < nids; i++) {
        row.set("id", INT8OID, Int64GetDatum(ids.items[i]));
        if (geoms.nulls[i])
          fill_null(row);
        else
          fill(row, results[static_cast<size_t>(i)]);
        row.put(rsi);
      }
    });
  });
  return (Datum)0;
}

}  // extern "C"
