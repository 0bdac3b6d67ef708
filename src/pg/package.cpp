// The glue of data packages (src/sql/89_package.sql): geoetl._probe_source(), what a source
// file is (package/source_probe.h).
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
}

#include <string>

#include "access.h"
#include "args.h"
#include "boundary.h"
#include "package/source_probe.h"
#include "settings.h"
#include "transfer/sources.h"

namespace {

// {"kind", "driver", "crs", "bands" | "layers", "signature"} as text. Allocates: call under
// pg_guard.
char* source_json(const geoetl::SourceInfo& info) {
  StringInfoData buf;
  initStringInfo(&buf);
  appendStringInfoString(&buf, "{\"kind\": ");
  escape_json(&buf, geoetl::source_kind_name(info.kind));
  appendStringInfoString(&buf, ", \"driver\": ");
  escape_json(&buf, info.driver.c_str());
  appendStringInfoString(&buf, ", \"crs\": ");
  if (info.crs_wkt.empty())
    appendStringInfoString(&buf, "null");
  else
    escape_json(&buf, info.crs_wkt.c_str());
  if (info.kind == geoetl::SourceInfo::Kind::raster) {
    appendStringInfo(&buf, ", \"bands\": %d", info.bands);
  } else {
    appendStringInfoString(&buf, ", \"layers\": [");
    for (size_t i = 0; i < info.layers.size(); i++) {
      if (i > 0) appendStringInfoString(&buf, ", ");
      escape_json(&buf, info.layers[i].c_str());
    }
    appendStringInfoChar(&buf, ']');
  }
  appendStringInfoString(&buf, ", \"signature\": ");
  escape_json(&buf, info.signature.c_str());
  appendStringInfoChar(&buf, '}');
  return buf.data;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(geoetl_probe_source);
Datum geoetl_probe_source(PG_FUNCTION_ARGS) {
  const std::string location = geoetl::pg::SqlArgs(fcinfo).text(0, "location");
  char* json = geoetl::pg::call_core([&] {
    const bool superuser = geoetl::pg::check_read_access(location, "source");
    const geoetl::Source src = geoetl::resolve_source(location);
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    const geoetl::RasterOpenOptions ro = geoetl::pg::raster_open_options(superuser, &cancel);
    const geoetl::SourceInfo info = geoetl::probe_source(src.gdal_path, src.shown, ro);
    return geoetl::pg::pg_guard([&] { return source_json(info); });
  });
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

}  // extern "C"
