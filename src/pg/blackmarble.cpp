// geoetl._granule(): a Black Marble file name read by the core's one parser (blackmarble.h), so
// that SQL never restates the name's pattern (listings, store keys).
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

#include <optional>
#include <string>

#include "blackmarble/blackmarble.h"
#include "args.h"
#include "boundary.h"
#include "result_row.h"

extern "C" {

// _granule(name) -> geoetl._granule, or NULL when the name is not a granule's
PG_FUNCTION_INFO_V1(geoetl_granule);
Datum geoetl_granule(PG_FUNCTION_ARGS) {
  const char* name = geoetl::pg::SqlArgs(fcinfo).text(0, "name");
  const TupleDesc desc = geoetl::pg::composite_result_type(fcinfo, "_granule");
  const Datum result = geoetl::pg::call_core([&]() -> Datum {
    const std::optional<geoetl::Granule> g = geoetl::read_granule_name(name);
    if (!g) return (Datum)0;
    const char* cadence = geoetl::cadence_name(geoetl::product_cadence(g->product));
    return geoetl::pg::pg_guard([&] {
      geoetl::pg::ResultRow row(desc);
      row.set("product", TEXTOID, CStringGetTextDatum(g->product.c_str()));
      row.set(
          "date", DATEOID,
          DateADTGetDatum(date2j(g->date.year, g->date.month, g->date.day) - POSTGRES_EPOCH_JDATE));
      row.set("tile_h", INT4OID, Int32GetDatum(g->h));
      row.set("tile_v", INT4OID, Int32GetDatum(g->v));
      row.set("collection", INT4OID, Int32GetDatum(g->collection));
      row.set("production", TEXTOID, CStringGetTextDatum(g->production.c_str()));
      row.set("cadence", TEXTOID, CStringGetTextDatum(cadence));
      return row.datum();
    });
  });
  if (result == (Datum)0) PG_RETURN_NULL();
  PG_RETURN_DATUM(result);
}

}  // extern "C"
