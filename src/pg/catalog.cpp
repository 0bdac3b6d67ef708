// geoetl._scan_granules(): the files of a product in a folder, each checked (granule_scan), as
// rows of geoetl._scanned_file; geoetl._check_raster_source(): whether the current user may
// register a file (geoetl.raster's rows steer what nightlight_metrics reads for everyone).
extern "C" {
#include "postgres.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
}

#include <string>
#include <vector>

#include "access.h"
#include "args.h"
#include "boundary.h"
#include "blackmarble/granule_scan.h"
#include "result_row.h"
#include "settings.h"
#include "transfer/sources.h"

extern "C" {

PG_FUNCTION_INFO_V1(geoetl_check_raster_source);
Datum geoetl_check_raster_source(PG_FUNCTION_ARGS) {
  const char* uri = geoetl::pg::SqlArgs(fcinfo).text(0, "uri");
  geoetl::pg::call_core([&] { geoetl::pg::check_read_access(uri); });
  PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(geoetl_scan_granules);
Datum geoetl_scan_granules(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  const geoetl::pg::SqlArgs args(fcinfo);
  if (args.is_null(0) || args.is_null(1)) return (Datum)0;
  const char* product = args.text(0, "product");
  const char* location = args.text(1, "location");
  auto* rsi = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  geoetl::pg::call_core([&] {
    const bool superuser = geoetl::pg::check_read_access(location);
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    const geoetl::RasterOpenOptions ro = geoetl::pg::raster_open_options(superuser, &cancel);
    const std::function<bool(const std::string&)> may_read = ro.url_allowed;  // listings too
    const std::vector<geoetl::ScannedFile> files =
        geoetl::scan_granules(product, location, ro, cancel, may_read);
    geoetl::pg::pg_guard([&] {
      geoetl::pg::ResultRow row(rsi->setDesc);
      for (const geoetl::ScannedFile& f : files) {
        const geoetl::Granule& g = f.granule;
        row.set("uri", TEXTOID, CStringGetTextDatum(f.uri.c_str()));
        if (g.product.empty()) {  // not a granule's name
          for (const char* name : {"product", "production"}) row.set_null(name, TEXTOID);
          row.set_null("date", DATEOID);
          for (const char* name : {"tile_h", "tile_v", "collection"}) row.set_null(name, INT4OID);
        } else {
          row.set("product", TEXTOID, CStringGetTextDatum(g.product.c_str()));
          row.set("date", DATEOID,
                  DateADTGetDatum(date2j(g.date.year, g.date.month, g.date.day) -
                                  POSTGRES_EPOCH_JDATE));
          row.set("tile_h", INT4OID, Int32GetDatum(g.h));
          row.set("tile_v", INT4OID, Int32GetDatum(g.v));
          row.set("collection", INT4OID, Int32GetDatum(g.collection));
          row.set("production", TEXTOID, CStringGetTextDatum(g.production.c_str()));
        }
        row.set("bytes", INT8OID, Int64GetDatum(f.bytes));
        row.set("valid", BOOLOID, BoolGetDatum(f.valid));
        if (f.valid)
          row.set_null("reason", TEXTOID);
        else
          row.set("reason", TEXTOID, CStringGetTextDatum(f.reason.c_str()));
        row.put(rsi);
      }
    });
  });
  return (Datum)0;
}

}  // extern "C"
