// Result rows of aggregate_window from templates: see window/rows.h.
#include "window/rows.h"

extern "C" {
#include "access/tupmacs.h"
#include "catalog/pg_type.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace geoetl::pg {

namespace {
constexpr int kAttributes = 8;
constexpr Oid kTypes[kAttributes] = {TEXTOID,   TIMESTAMPTZOID, TEXTOID,   INT8OID,
                                     FLOAT8OID, FLOAT8OID,      FLOAT8OID, FLOAT8OID};
// The attributes the templates' fields are, in WindowRows' field order.
constexpr int kFieldAttribute[] = {1, 3, 4, 5, 6, 7};

// Whether desc is aggregate_window's result row, with the layout the templates assume.
bool standard(TupleDesc desc) {
  if (desc->natts != kAttributes) return false;
  for (int a = 0; a < kAttributes; a++) {
    const Form_pg_attribute att = TupleDescAttr(desc, a);
    if (att->atttypid != kTypes[a] || att->attisdropped) return false;
  }
  for (int a : kFieldAttribute)
    if (TupleDescAttr(desc, a)->attlen != 8 || !TupleDescAttr(desc, a)->attbyval) return false;
  return true;
}
}  // namespace

void WindowRows::begin(Tuplestorestate* out, TupleDesc desc, int ncols, MemoryContext cxt) {
  out_ = out;
  desc_ = desc;
  cxt_ = cxt;
  ncols_ = ncols;
  fast_ = standard(desc);
  if (fast_ && slot_ == nullptr) {
    MemoryContext old = MemoryContextSwitchTo(cxt);
    slot_ = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
    MemoryContextSwitchTo(old);
  }
  templates_.clear();
}

void WindowRows::values_of(Datum group_text, int64 start, Datum column_name, const WindowStats& s,
                           Datum* v, bool* n) {
  v[0] = group_text;
  n[0] = group_text == (Datum)0;
  v[1] = TimestampTzGetDatum(start);
  v[2] = column_name;
  v[3] = Int64GetDatum(s.n);
  v[4] = Float8GetDatum(s.mean);
  v[5] = Float8GetDatum(s.min);
  v[6] = Float8GetDatum(s.max);
  v[7] = Float8GetDatum(s.stddev);
  n[1] = n[2] = n[3] = false;
  n[4] = n[5] = n[6] = s.n < 1;
  n[7] = s.n < 2;
}

// A template: the row formed once by PostgreSQL, and where its fields are, found the way a
// reader deforms it.
void WindowRows::form(const Datum* values, const bool* nulls, Template* t) {
  MemoryContext old = MemoryContextSwitchTo(cxt_);
  t->tuple = heap_form_minimal_tuple(desc_, const_cast<Datum*>(values), const_cast<bool*>(nulls));
  MemoryContextSwitchTo(old);
  t->data = reinterpret_cast<char*>(t->tuple) + t->tuple->t_hoff - MINIMAL_TUPLE_OFFSET;
  uint32 off = 0;
  int field = 0;
  for (int a = 0; a < kAttributes; a++) {
    const Form_pg_attribute att = TupleDescAttr(desc_, a);
    const bool is_field = field < kFields && kFieldAttribute[field] == a;
    if (nulls[a]) {
      field += is_field;
      continue;
    }
    off = att->attlen == -1 ? att_align_pointer(off, att->attalign, -1, t->data + off)
                            : att_align_nominal(off, att->attalign);
    if (is_field) t->offset[field++] = off;
    off = att_addlength_pointer(off, att->attlen, t->data + off);
  }
}

void WindowRows::put(uint32 group, Datum group_text, int64 start, int column, Datum column_name,
                     const WindowStats& stats) {
  Datum v[kAttributes];
  bool n[kAttributes];
  const int p = pattern(stats);
  const size_t index = (static_cast<size_t>(group) * ncols_ + column) * 3 + p;
  if (!fast_ || index >= kMaxTemplates) {  // one by one
    values_of(group_text, start, column_name, stats, v, n);
    tuplestore_putvalues(out_, desc_, v, n);
    return;
  }
  if (index >= templates_.size()) templates_.resize(index + 1);
  Template& t = templates_[index];
  if (t.tuple == nullptr) {
    values_of(group_text, start, column_name, stats, v, n);
    form(v, n, &t);
  }
  const Datum field[kFields] = {TimestampTzGetDatum(start), Int64GetDatum(stats.n),
                                Float8GetDatum(stats.mean), Float8GetDatum(stats.min),
                                Float8GetDatum(stats.max),  Float8GetDatum(stats.stddev)};
  const int present = p == 2 ? kFields : p == 1 ? kFields - 1 : 2;
  for (int f = 0; f < present; f++) memcpy(t.data + t.offset[f], &field[f], sizeof(Datum));
  ExecStoreMinimalTuple(t.tuple, slot_, false);
  tuplestore_puttupleslot(out_, slot_);
}

}  // namespace geoetl::pg
