// Composite results filled by column name (see result_row.h).
#include "result_row.h"

extern "C" {
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/array.h"
#include "utils/tuplestore.h"
}

#include <cmath>
#include <cstring>

namespace geoetl::pg {
namespace {

const char* const mismatch_hint =
    "geoetl's SQL objects and its library differ: install both from the same build "
    "(ALTER EXTENSION geoetl UPDATE, or DROP and CREATE EXTENSION).";

}  // namespace

TupleDesc composite_result_type(FunctionCallInfo fcinfo, const char* function) {
  TupleDesc desc;
  if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("%s returns a row", function)));
  return BlessTupleDesc(desc);
}

ResultRow::ResultRow(TupleDesc desc)
    : desc_(desc),
      values_(static_cast<Datum*>(palloc0(sizeof(Datum) * (desc->natts + 1)))),
      nulls_(static_cast<bool*>(palloc0(sizeof(bool) * (desc->natts + 1)))),
      filled_(static_cast<bool*>(palloc0(sizeof(bool) * (desc->natts + 1)))) {}

int ResultRow::column(const char* name, Oid type) {
  for (int i = 0; i < desc_->natts; i++) {
    const Form_pg_attribute att = TupleDescAttr(desc_, i);
    if (att->attisdropped || strcmp(NameStr(att->attname), name) != 0) continue;
    if (att->atttypid != type)
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                      errmsg("result column \"%s\" is of type %s, not %s", name,
                             format_type_be(att->atttypid), format_type_be(type)),
                      errhint("%s", mismatch_hint)));
    return i;
  }
  ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                  errmsg("the result has no column \"%s\"", name), errhint("%s", mismatch_hint)));
  pg_unreachable();
}

void ResultRow::set(const char* name, Oid type, Datum value) {
  const int i = column(name, type);
  values_[i] = value;
  nulls_[i] = false;
  filled_[i] = true;
}

void ResultRow::set_null(const char* name, Oid type) {
  const int i = column(name, type);
  values_[i] = (Datum)0;
  nulls_[i] = true;
  filled_[i] = true;
}

void ResultRow::set_float8(const char* name, double value) {
  if (std::isnan(value))
    set_null(name, FLOAT8OID);
  else
    set(name, FLOAT8OID, Float8GetDatum(value));
}

// Checks that every column was set, and starts the next row.
void ResultRow::finish() {
  for (int i = 0; i < desc_->natts; i++) {
    const Form_pg_attribute att = TupleDescAttr(desc_, i);
    if (att->attisdropped) {
      nulls_[i] = true;
      continue;
    }
    if (!filled_[i])
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                      errmsg("result column \"%s\" is not filled by geoetl's library",
                             NameStr(att->attname)),
                      errhint("%s", mismatch_hint)));
    filled_[i] = false;
  }
}

Datum ResultRow::datum() {
  finish();
  return HeapTupleGetDatum(heap_form_tuple(desc_, values_, nulls_));
}

void ResultRow::put(ReturnSetInfo* rsi) {
  finish();
  tuplestore_putvalues(rsi->setResult, rsi->setDesc, values_, nulls_);
}

bytea* bytea_of(const std::string& bytes) {
  auto* b = static_cast<bytea*>(palloc(VARHDRSZ + bytes.size()));
  SET_VARSIZE(b, VARHDRSZ + bytes.size());
  memcpy(VARDATA(b), bytes.data(), bytes.size());
  return b;
}

Datum text_array_of(const std::vector<std::string>& strings) {
  std::vector<Datum> items;
  for (const std::string& s : strings) items.push_back(CStringGetTextDatum(s.c_str()));
  return PointerGetDatum(construct_array(items.data(), static_cast<int>(items.size()), TEXTOID, -1,
                                         false, TYPALIGN_INT));
}

}  // namespace geoetl::pg
