// geoetl.version(): proves the whole path SQL -> glue -> core -> GDAL/PROJ/libcurl works.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
}

#include "boundary.h"
#include "version/version.h"

#ifndef GEOETL_VERSION
#error "GEOETL_VERSION must be defined by the build"
#endif

namespace {

// {"geoetl": ..., "postgresql": ..., "gdal": ..., "proj": ..., "libcurl": ...} as text.
char* version_json(const geoetl::LibraryVersions& v) {
  const char* pairs[][2] = {
      {"geoetl", GEOETL_VERSION},
      {"postgresql", GetConfigOption("server_version", false, false)},
      {"gdal", v.gdal.c_str()},
      {"proj", v.proj.c_str()},
      {"libcurl", v.libcurl.c_str()},
  };
  StringInfoData buf;
  initStringInfo(&buf);
  appendStringInfoChar(&buf, '{');
  for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
    if (i > 0) appendStringInfoString(&buf, ", ");
    escape_json(&buf, pairs[i][0]);
    appendStringInfoString(&buf, ": ");
    escape_json(&buf, pairs[i][1]);
  }
  appendStringInfoChar(&buf, '}');
  return buf.data;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(geoetl_version);
Datum geoetl_version(PG_FUNCTION_ARGS) {
  char* json = geoetl::pg::call_core([] {
    const geoetl::LibraryVersions v = geoetl::library_versions();
    return geoetl::pg::pg_guard([&] { return version_json(v); });
  });
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

}  // extern "C"
