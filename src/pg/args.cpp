// Reading SQL arguments (see args.h).
#include "args.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace geoetl::pg {
namespace {

// The elements of an array of `expected` type (any type when InvalidOid), NULLs kept.
ArgDatums deconstruct(ArrayType* array, Oid expected) {
  ArgDatums out;
  out.type = ARR_ELEMTYPE(array);
  if (OidIsValid(expected) && out.type != expected)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("array of %s given where %s[] was expected", format_type_be(out.type),
                           format_type_be(expected))));
  int16 len;
  bool byval;
  char align;
  get_typlenbyvalalign(out.type, &len, &byval, &align);
  deconstruct_array(array, out.type, len, byval, align, &out.items, &out.nulls, &out.count);
  return out;
}

// 22004 "[function: ]name must not <rule>", the one message for NULL arguments and elements.
[[noreturn]] void raise_null(const char* function, const char* name, const char* rule) {
  ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                  errmsg("%s%s%s must not %s", function != nullptr ? function : "",
                         function != nullptr ? ": " : "", name, rule)));
}

// The elements as T by `f`, NULLs refused or skipped.
template <typename T, typename Convert>
ArgArray<T> convert_elements(const ArgDatums& d, const char* function, const char* name,
                             NullElements nulls, Convert f) {
  ArgArray<T> out;
  out.items = static_cast<T*>(palloc(sizeof(T) * (d.count + 1)));
  for (int i = 0; i < d.count; i++) {
    if (!d.nulls[i])
      out.items[out.count++] = f(d.items[i]);
    else if (nulls == NullElements::refuse)
      raise_null(function, name, "contain NULL");
  }
  return out;
}

const char* text_of(Datum d) {
  return TextDatumGetCString(d);
}

}  // namespace

bool SqlArgs::is_null(int n) const {
  return fcinfo_->nargs <= n || fcinfo_->args[n].isnull;
}

void SqlArgs::require(std::initializer_list<NamedArg> args) const {
  for (const NamedArg& a : args)
    if (is_null(a.n)) raise_null(function_, a.name, "be NULL");
}

Datum SqlArgs::datum(int n, const char* name) const {
  if (is_null(n)) raise_null(function_, name, "be NULL");
  return fcinfo_->args[n].value;
}
const char* SqlArgs::text(int n, const char* name) const {
  return text_of(datum(n, name));
}
int32 SqlArgs::int4(int n, const char* name) const {
  return DatumGetInt32(datum(n, name));
}
int64 SqlArgs::int8(int n, const char* name) const {
  return DatumGetInt64(datum(n, name));
}
double SqlArgs::float8(int n, const char* name) const {
  return DatumGetFloat8(datum(n, name));
}
bool SqlArgs::boolean(int n, const char* name) const {
  return DatumGetBool(datum(n, name));
}
Oid SqlArgs::oid(int n, const char* name) const {
  return DatumGetObjectId(datum(n, name));
}

const char* SqlArgs::text_or(int n, const char* fallback) const {
  return is_null(n) ? fallback : text_of(fcinfo_->args[n].value);
}
double SqlArgs::float8_or(int n, double fallback) const {
  return is_null(n) ? fallback : DatumGetFloat8(fcinfo_->args[n].value);
}

ArgDatums SqlArgs::elements(int n, const char* name, Oid expected) const {
  return deconstruct(DatumGetArrayTypeP(datum(n, name)), expected);
}

template <typename T, typename Convert>
ArgArray<T> SqlArgs::convert(int n, const char* name, Oid type, NullElements nulls,
                             Convert f) const {
  return convert_elements<T>(elements(n, name, type), function_, name, nulls, f);
}

ArgArray<const char*> SqlArgs::text_array(int n, const char* name, NullElements nulls) const {
  return convert<const char*>(n, name, TEXTOID, nulls, text_of);
}
ArgArray<int32> SqlArgs::int4_array(int n, const char* name, NullElements nulls) const {
  return convert<int32>(n, name, INT4OID, nulls, [](Datum d) { return DatumGetInt32(d); });
}
ArgArray<int64> SqlArgs::int8_array(int n, const char* name, NullElements nulls) const {
  return convert<int64>(n, name, INT8OID, nulls, [](Datum d) { return DatumGetInt64(d); });
}
ArgArray<double> SqlArgs::float8_array(int n, const char* name, NullElements nulls) const {
  return convert<double>(n, name, FLOAT8OID, nulls, [](Datum d) { return DatumGetFloat8(d); });
}
ArgDatums SqlArgs::datum_array(int n, const char* name) const {
  return elements(n, name, InvalidOid);
}

ArgArray<const char*> text_array_of(Datum array, const char* name, NullElements nulls) {
  return convert_elements<const char*>(deconstruct(DatumGetArrayTypeP(array), TEXTOID), nullptr,
                                       name, nulls, text_of);
}

}  // namespace geoetl::pg
