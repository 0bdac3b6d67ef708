extern "C" {
#include "postgres.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
}

#include "postgis.h"

namespace geoetl::pg {
namespace {

// The schema PostGIS is installed in (that of its geometry type), for qualified lookups.
const char* postgis_schema(Oid geometry_type) {
  static char* name = nullptr;
  if (name == nullptr) {
    HeapTuple tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(geometry_type));
    if (!HeapTupleIsValid(tup)) elog(ERROR, "cache lookup failed for type %u", geometry_type);
    const Oid nsp = reinterpret_cast<Form_pg_type>(GETSTRUCT(tup))->typnamespace;
    ReleaseSysCache(tup);
    name = MemoryContextStrdup(TopMemoryContext, get_namespace_name(nsp));
  }
  return name;
}

struct SridEntry {
  int32 srid;
  char* definition;  // in TopMemoryContext; NULL: looked up and unknown
};
SridEntry srid_cache[64];
int srid_cache_used = 0, srid_cache_next = 0;

}  // namespace

bytea* geometry_ewkb(Datum geom, Oid geometry_type) {
  static FmgrInfo send;
  static Oid send_type = InvalidOid;
  if (send_type != geometry_type) {
    Oid func;
    bool varlena;
    getTypeBinaryOutputInfo(geometry_type, &func, &varlena);
    fmgr_info_cxt(func, &send, TopMemoryContext);
    send_type = geometry_type;
  }
  return SendFunctionCall(&send, geom);
}

const char* invalid_reason(Datum geom, Oid geometry_type) {
  static FmgrInfo reason_fn;
  static Oid fn_type = InvalidOid;
  if (fn_type != geometry_type) {
    List* name = list_make2(makeString(pstrdup(postgis_schema(geometry_type))),
                            makeString(pstrdup("st_isvalidreason")));
    Oid args[1] = {geometry_type};
    fmgr_info_cxt(LookupFuncName(name, 1, args, false), &reason_fn, TopMemoryContext);
    fn_type = geometry_type;
  }
  char* reason = TextDatumGetCString(FunctionCall1(&reason_fn, geom));
  return strcmp(reason, "Valid Geometry") == 0 ? nullptr : reason;
}

const char* srid_definition(int32 srid, Oid geometry_type) {
  for (int i = 0; i < srid_cache_used; i++)
    if (srid_cache[i].srid == srid) return srid_cache[i].definition;
  char* definition = nullptr;
  SPI_connect();
  char* sql = psprintf(
      "SELECT coalesce(nullif(srtext, ''), proj4text) FROM %s.spatial_ref_sys WHERE srid = $1",
      quote_identifier(postgis_schema(geometry_type)));
  Oid types[1] = {INT4OID};
  Datum values[1] = {Int32GetDatum(srid)};
  if (SPI_execute_with_args(sql, 1, types, values, nullptr, true, 1) == SPI_OK_SELECT &&
      SPI_processed == 1) {
    char* text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    if (text != nullptr && text[0] != '\0')
      definition = MemoryContextStrdup(TopMemoryContext, text);
  }
  SPI_finish();
  SridEntry& slot = srid_cache[srid_cache_next];
  if (srid_cache_used == 64 && slot.definition != nullptr) pfree(slot.definition);
  slot = {srid, definition};
  srid_cache_next = (srid_cache_next + 1) % 64;
  if (srid_cache_used < 64) srid_cache_used++;
  return definition;
}

}  // namespace geoetl::pg
