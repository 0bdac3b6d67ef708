// geoetl.zonal_stats() and geoetl.zonal_stats_many(): SQL entry points of the zonal engine.
extern "C" {
#include "postgres.h"
#include "utils/memutils.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
}

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "access.h"
#include "boundary.h"
#include "raster/crs.h"
#include "base/error.h"
#include "geometry_arg.h"
#include "postgis.h"
#include "settings.h"
#include "transfer/sources.h"
#include "geom/wkb.h"
#include "zonal/zonal.h"

namespace {

constexpr int result_columns = 11;

// The call's options as plain data, read before any C++ work (reading may ereport).
struct Args {
  const char* raster;
  int band;
  const char* coverage;
  double threshold;  // NaN for NULL
  double* quantiles;
  int nquantiles;
};

Args read_args(FunctionCallInfo fcinfo, int raster, int band) {
  const char* names[] = {"band", "coverage"};
  for (int i = 0; i < 2; i++)
    if (PG_ARGISNULL(band + i))
      ereport(ERROR,
              (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", names[i])));
  Args a{text_to_cstring(PG_GETARG_TEXT_PP(raster)),
         PG_GETARG_INT32(band),
         text_to_cstring(PG_GETARG_TEXT_PP(band + 1)),
         PG_ARGISNULL(band + 2) ? std::nan("") : PG_GETARG_FLOAT8(band + 2),
         nullptr,
         0};
  if (!PG_ARGISNULL(band + 3)) {
    Datum* items;
    bool* nulls;
    deconstruct_array(PG_GETARG_ARRAYTYPE_P(band + 3), FLOAT8OID, 8, FLOAT8PASSBYVAL,
                      TYPALIGN_DOUBLE, &items, &nulls, &a.nquantiles);
    a.quantiles = static_cast<double*>(palloc(sizeof(double) * (a.nquantiles + 1)));
    for (int i = 0; i < a.nquantiles; i++) {
      if (nulls[i])
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("quantiles must not contain NULL")));
      a.quantiles[i] = DatumGetFloat8(items[i]);
    }
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
  const geoetl::RasterOpenOptions ro = geoetl::pg::raster_open_options(superuser, &cancel);
  geoetl::set_raster_cache_capacity(geoetl::pg::raster_cache_size());
  return geoetl::Raster::open(src.gdal_path, src.shown, ro);
}

// Statistics as SQL values; NaN becomes NULL. Allocates: call under pg_guard.
void fill(Datum* values, bool* nulls, const geoetl::ZonalResult& r) {
  const double scalars[] = {r.count, r.sum, r.mean, r.min, r.max, r.stddev};
  for (int i = 0; i < 6; i++) {
    values[i] = Float8GetDatum(scalars[i]);
    nulls[i] = std::isnan(scalars[i]);
  }
  nulls[6] = r.count <= 0;
  if (!nulls[6]) {
    const int n = static_cast<int>(r.quantiles.size());
    Datum* q = static_cast<Datum*>(palloc(sizeof(Datum) * (n + 1)));
    bool* qn = static_cast<bool*>(palloc(sizeof(bool) * (n + 1)));
    for (int i = 0; i < n; i++) {
      q[i] = Float8GetDatum(r.quantiles[i]);
      qn[i] = std::isnan(r.quantiles[i]);
    }
    int dims[1] = {n}, lbs[1] = {1};
    values[6] = PointerGetDatum(construct_md_array(q, qn, n > 0 ? 1 : 0, dims, lbs, FLOAT8OID, 8,
                                                   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
  }
  const double tail[] = {r.lit_share, r.valid_area_km2, r.lit_area_km2, r.nodata_share};
  for (int i = 0; i < 4; i++) {
    values[7 + i] = Float8GetDatum(tail[i]);
    nulls[7 + i] = std::isnan(tail[i]);
  }
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
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_NULL();
  const Args a = read_args(fcinfo, 0, 2);
  const Datum geom = PG_GETARG_DATUM(1);
  const Oid geom_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
  TupleDesc desc;
  if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("zonal_stats returns a row")));
  desc = BlessTupleDesc(desc);

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
      Datum values[result_columns];
      bool nulls[result_columns];
      fill(values, nulls, r);
      return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
    });
  });
  PG_RETURN_DATUM(result);
}

// zonal_stats_many(raster, ids bigint[], geoms geometry[], band, coverage, threshold, quantiles):
// one row per id, every block of the raster read once for all polygons.
PG_FUNCTION_INFO_V1(geoetl_zonal_stats_many);
Datum geoetl_zonal_stats_many(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2)) return (Datum)0;
  const Args a = read_args(fcinfo, 0, 3);
  ArrayType* id_array = PG_GETARG_ARRAYTYPE_P(1);
  ArrayType* geom_array = PG_GETARG_ARRAYTYPE_P(2);
  Datum *ids, *geoms;
  bool *id_nulls, *geom_nulls;
  int nids, ngeoms;
  deconstruct_array(id_array, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &ids, &id_nulls, &nids);
  const Oid geom_type = ARR_ELEMTYPE(geom_array);
  int16 len;
  bool byval;
  char align;
  get_typlenbyvalalign(geom_type, &len, &byval, &align);
  deconstruct_array(geom_array, geom_type, len, byval, align, &geoms, &geom_nulls, &ngeoms);
  if (nids != ngeoms)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("ids and geoms differ in length: %d and %d", nids, ngeoms),
                    errhint("Build both arrays from the same rows in the same order.")));
  for (int i = 0; i < nids; i++)
    if (id_nulls[i])
      ereport(ERROR,
              (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("ids must not contain NULL")));
  auto* rsi = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  geoetl::pg::call_core([&] {
    const bool superuser = geoetl::pg::check_read_access(a.raster);
    const geoetl::ZonalOptions o = options(a);
    std::vector<geoetl::MultiPolygon> polygons(static_cast<size_t>(nids));
    std::vector<int32_t> srids(static_cast<size_t>(nids), 0);
    for (int i = 0; i < nids; i++)
      if (!geom_nulls[i])
        polygons[i] = geoetl::pg::polygon_arg(geoms[i], geom_type,
                                              geoetl::pg::ewkb_of(geoms[i], geom_type), &srids[i]);
    const geoetl::Raster raster = open_raster(a.raster, superuser);
    std::map<int32_t, std::string> crs;
    for (int i = 0; i < nids; i++) {
      if (!crs.count(srids[i])) crs[srids[i]] = geoetl::pg::srid_crs(srids[i], geom_type);
      geoetl::transform_to_raster_crs(polygons[i], crs[srids[i]], raster.crs_wkt(), raster.name());
    }
    const std::vector<geoetl::ZonalResult> results =
        geoetl::zonal_statistics(raster, polygons, o, geoetl::pg::interrupt_token());
    geoetl::pg::pg_guard([&] {
      for (int i = 0; i < nids; i++) {
        Datum values[result_columns + 1];
        bool nulls[result_columns + 1];
        values[0] = ids[i];
        nulls[0] = false;
        if (geom_nulls[i]) {
          for (int k = 1; k <= result_columns; k++) nulls[k] = true;
        } else {
          fill(values + 1, nulls + 1, results[static_cast<size_t>(i)]);
        }
        tuplestore_putvalues(rsi->setResult, rsi->setDesc, values, nulls);
      }
    });
  });
  return (Datum)0;
}

}  // extern "C"
