// geoetl._scan_granules(): the files of a product in a folder, each checked (granule_scan), as
// rows of geoetl._scanned_file; geoetl._check_raster_source(): whether the current user may
// register a file (geoetl.raster's rows steer what nightlight_metrics reads for everyone).
extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/tuplestore.h"
}

#include <string>
#include <vector>

#include "access.h"
#include "boundary.h"
#include "blackmarble/granule_scan.h"
#include "settings.h"
#include "transfer/sources.h"

extern "C" {

PG_FUNCTION_INFO_V1(geoetl_check_raster_source);
Datum geoetl_check_raster_source(PG_FUNCTION_ARGS) {
  const char* uri = text_to_cstring(PG_GETARG_TEXT_PP(0));
  geoetl::pg::call_core([&] { geoetl::pg::check_read_access(uri); });
  PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(geoetl_scan_granules);
Datum geoetl_scan_granules(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) return (Datum)0;
  const char* product = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const char* location = text_to_cstring(PG_GETARG_TEXT_PP(1));
  auto* rsi = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  geoetl::pg::call_core([&] {
    const bool superuser = geoetl::pg::check_read_access(location);
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    const geoetl::RasterOpenOptions ro = geoetl::pg::raster_open_options(superuser, &cancel);
    const std::function<bool(const std::string&)> may_read = ro.url_allowed;  // listings too
    const std::vector<geoetl::ScannedFile> files =
        geoetl::scan_granules(product, location, ro, cancel, may_read);
    geoetl::pg::pg_guard([&] {
      for (const geoetl::ScannedFile& f : files) {
        Datum v[10];
        bool n[10] = {false};
        const geoetl::Granule& g = f.granule;
        const bool parsed = !g.product.empty();
        v[0] = CStringGetTextDatum(f.uri.c_str());
        v[1] = parsed ? CStringGetTextDatum(g.product.c_str()) : (Datum)0;
        v[2] = parsed ? DateADTGetDatum(date2j(g.date.year, g.date.month, g.date.day) -
                                        POSTGRES_EPOCH_JDATE)
                      : (Datum)0;
        v[3] = Int32GetDatum(g.h);
        v[4] = Int32GetDatum(g.v);
        v[5] = Int32GetDatum(g.collection);
        v[6] = parsed ? CStringGetTextDatum(g.production.c_str()) : (Datum)0;
        v[7] = Int64GetDatum(f.bytes);
        v[8] = BoolGetDatum(f.valid);
        v[9] = CStringGetTextDatum(f.reason.c_str());
        for (int i : {1, 2, 3, 4, 5, 6}) n[i] = !parsed;
        n[9] = f.valid;
        tuplestore_putvalues(rsi->setResult, rsi->setDesc, v, n);
      }
    });
  });
  return (Datum)0;
}

}  // extern "C"
