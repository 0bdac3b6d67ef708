// SQL arguments of the glue's entry points, each rule stated once: a required argument that is
// NULL raises 22004 (null_value_not_allowed) naming it; an optional one gives its default; an
// array's NULL elements are refused (22004, naming the array) or skipped, as the caller says.
//
// Every reader may ereport (NULL, detoasting): call them before call_core, never inside it.
// What they return is palloc'd plain data, safe on the stack around an ereport.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <initializer_list>

namespace geoetl::pg {

// What an array argument's NULL elements mean.
enum class NullElements { refuse, skip };

// An array argument's elements (palloc'd).
template <typename T>
struct ArgArray {
  T* items = nullptr;
  int count = 0;
  const T* begin() const { return items; }
  const T* end() const { return items + count; }
};

// An array argument whose NULL elements are kept: items[i] is meaningful where !nulls[i].
struct ArgDatums {
  Datum* items = nullptr;
  bool* nulls = nullptr;
  int count = 0;
  Oid type = InvalidOid;  // the element type
};

// One argument by position (from 0) and SQL name, for require().
struct NamedArg {
  int n;
  const char* name;
};

// The arguments of one call. `function`, if given, starts every message ("aggregate_window:
// source must not be NULL").
class SqlArgs {
 public:
  explicit SqlArgs(FunctionCallInfo fcinfo, const char* function = nullptr)
      : fcinfo_(fcinfo), function_(function) {}

  bool is_null(int n) const;
  // Raises 22004 "<name> must not be NULL" for the first of these that is NULL.
  void require(std::initializer_list<NamedArg> args) const;

  // Required arguments (22004 when NULL).
  Datum datum(int n, const char* name) const;  // as passed (jsonb, geometry, ...): not detoasted
  const char* text(int n, const char* name) const;
  int32 int4(int n, const char* name) const;
  int64 int8(int n, const char* name) const;
  double float8(int n, const char* name) const;
  bool boolean(int n, const char* name) const;
  Oid oid(int n, const char* name) const;

  // Optional arguments: NULL gives `fallback`.
  const char* text_or(int n, const char* fallback) const;
  double float8_or(int n, double fallback) const;

  // Array arguments (the array itself required); multi-dimensional arrays are read flat.
  ArgArray<const char*> text_array(int n, const char* name, NullElements nulls) const;
  ArgArray<int32> int4_array(int n, const char* name, NullElements nulls) const;
  ArgArray<int64> int8_array(int n, const char* name, NullElements nulls) const;
  ArgArray<double> float8_array(int n, const char* name, NullElements nulls) const;
  ArgDatums datum_array(int n, const char* name) const;  // any element type, NULLs kept

 private:
  ArgDatums elements(int n, const char* name, Oid expected) const;
  template <typename T, typename Convert>
  ArgArray<T> convert(int n, const char* name, Oid type, NullElements nulls, Convert f) const;

  FunctionCallInfo fcinfo_;
  const char* function_;
};

// An array that is not an argument (stored in a row, say), read by the same rules.
ArgArray<const char*> text_array_of(Datum array, const char* name, NullElements nulls);

}  // namespace geoetl::pg
