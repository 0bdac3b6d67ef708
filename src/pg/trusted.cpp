// geoetl._trusted_call(fn, args): the only way geoetl's catalog tables that steer code (jobs,
// job kinds, window pipelines) are written for a caller. It runs one of geoetl's own
// geoetl._trusted_*(caller regrole, args jsonb) functions as their owner (the extension's),
// passing the role that called: unlike a SECURITY DEFINER function, which cannot tell who
// called it, the function decides with the real caller (`GetUserId()` before the switch), so a
// caller cannot claim to be someone else. Those functions read only geoetl's own tables and
// the system catalogs; they never evaluate a user's object (casts, operators, views, policies).
extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
}

#include <cstring>

#include "args.h"
#include "as_role.h"

namespace {

constexpr char kPrefix[] = "_trusted_";

// The owner of fn when it is one of geoetl's trusted functions; raises otherwise.
Oid trusted_owner(Oid fn) {
  HeapTuple proc = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
  if (!HeapTupleIsValid(proc))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION), errmsg("function %u does not exist", fn)));
  const auto* p = reinterpret_cast<Form_pg_proc>(GETSTRUCT(proc));
  const Oid schema = get_namespace_oid("geoetl", false);
  HeapTuple ns = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(schema));
  const Oid schema_owner = reinterpret_cast<Form_pg_namespace>(GETSTRUCT(ns))->nspowner;
  ReleaseSysCache(ns);
  const bool ok = p->pronamespace == schema && p->proowner == schema_owner &&
                  strncmp(NameStr(p->proname), kPrefix, sizeof kPrefix - 1) == 0 &&
                  p->prokind == PROKIND_FUNCTION && !p->proretset && p->pronargs == 2 &&
                  p->proargtypes.values[0] == REGROLEOID && p->proargtypes.values[1] == JSONBOID &&
                  p->prorettype == JSONBOID;
  ReleaseSysCache(proc);
  if (!ok)
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("%s is not one of geoetl's trusted functions", format_procedure(fn))));
  return schema_owner;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(geoetl_trusted_call);
Datum geoetl_trusted_call(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs sql_args(fcinfo);
  sql_args.require({{0, "fn"}, {1, "args"}});
  const Oid fn = sql_args.oid(0, "fn");
  const Datum args = sql_args.datum(1, "args");  // jsonb, passed on as it is
  const Oid owner = trusted_owner(fn);
  const Oid caller = GetUserId();
  bool isnull = true;
  // what the caller SET in this transaction stays theirs: the function's own SET clauses apply
  const Datum result =
      geoetl::pg::call_as_role(fn, owner, 0, {ObjectIdGetDatum(caller), args}, &isnull);
  if (isnull) PG_RETURN_NULL();
  PG_RETURN_DATUM(result);
}

}  // extern "C"
