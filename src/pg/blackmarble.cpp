// geoetl._granule(): a Black Marble file name read by the core's one parser (blackmarble.h), so
// that SQL never restates the name's pattern (listings, store keys).
extern "C" {
#include "postgres.h"
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
#include "boundary.h"

extern "C" {

// _granule(name) -> geoetl._granule, or NULL when the name is not a granule's
PG_FUNCTION_INFO_V1(geoetl_granule);
Datum geoetl_granule(PG_FUNCTION_ARGS) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  TupleDesc desc;
  if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("_granule returns a row")));
  desc = BlessTupleDesc(desc);
  const Datum result = geoetl::pg::call_core([&]() -> Datum {
    const std::optional<geoetl::Granule> g = geoetl::read_granule_name(name);
    if (!g) return (Datum)0;
    const char* cadence = geoetl::cadence_name(geoetl::product_cadence(g->product));
    return geoetl::pg::pg_guard([&] {
      Datum values[7];
      bool nulls[7] = {false};
      values[0] = CStringGetTextDatum(g->product.c_str());
      values[1] =
          DateADTGetDatum(date2j(g->date.year, g->date.month, g->date.day) - POSTGRES_EPOCH_JDATE);
      values[2] = Int32GetDatum(g->h);
      values[3] = Int32GetDatum(g->v);
      values[4] = Int32GetDatum(g->collection);
      values[5] = CStringGetTextDatum(g->production.c_str());
      values[6] = CStringGetTextDatum(cadence);
      return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
    });
  });
  if (result == (Datum)0) PG_RETURN_NULL();
  PG_RETURN_DATUM(result);
}

}  // extern "C"
