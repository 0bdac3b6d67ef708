// Composite results (a row, or the rows of a set-returning function) filled by column name.
// The row type comes from the SQL declaration (get_call_result_type, or the set's descriptor);
// a name it lacks, a column of another type and a column left unfilled are errors that say so,
// so the C code and the SQL can never silently disagree on positions.
//
// Allocates and may ereport: use under pg_guard inside call_core, or before it.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "access/tupdesc.h"

struct ReturnSetInfo;
}

#include <string>
#include <vector>

namespace geoetl::pg {

// The blessed row type of a function that returns one composite value; 0A000 if it returns
// none (called where no row type is known).
TupleDesc composite_result_type(FunctionCallInfo fcinfo, const char* function);

// One row of `desc` being filled (palloc'd plain data).
class ResultRow {
 public:
  explicit ResultRow(TupleDesc desc);

  // The column `name` of SQL type `type` (a pg_type OID such as FLOAT8OID).
  void set(const char* name, Oid type, Datum value);
  void set_null(const char* name, Oid type);
  void set_float8(const char* name, double value);  // NaN as NULL

  // The row (once every column is set); a later set() starts the next row.
  Datum datum();
  void put(ReturnSetInfo* rsi);

 private:
  int column(const char* name, Oid type);
  void finish();

  TupleDesc desc_;
  Datum* values_;
  bool* nulls_;
  bool* filled_;
};

// `bytes` as a bytea value (palloc'd).
bytea* bytea_of(const std::string& bytes);

// The strings as a text[] value (palloc'd).
Datum text_array_of(const std::vector<std::string>& strings);

}  // namespace geoetl::pg
