// The result rows of aggregate_window (group_key, window_start, column_name, n, mean, min, max,
// stddev), put into the function's tuplestore. A row differs from the one before it for the same
// group and column only in window_start and its statistics, all 8-byte values passed by value, so
// rows are copies of a template per group, column and pattern of NULLs with those six fields
// stored into them, instead of heap_form_minimal_tuple's walk over every attribute (a quarter of
// the calling backend's time for 3 M rows). Call under pg_guard.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
#include "executor/tuptable.h"
#include "utils/tuplestore.h"
}

#include <cstdint>
#include <vector>

namespace geoetl::pg {

// One result row's statistics; mean/min/max are NULL when n is 0, stddev when n < 2.
struct WindowStats {
  int64 n;
  double mean, min, max, stddev;
};

class WindowRows {
 public:
  // out and desc: the SRF's tuplestore and result descriptor; templates are kept in cxt.
  void begin(Tuplestorestate* out, TupleDesc desc, int ncols, MemoryContext cxt);
  // group_text: (Datum)0 for the NULL group.
  void put(uint32 group, Datum group_text, int64 start, int column, Datum column_name,
           const WindowStats& stats);

 private:
  static constexpr int kFields = 6;  // window_start, n, mean, min, max, stddev
  struct Template {
    MinimalTuple tuple = nullptr;
    char* data = nullptr;
    uint32 offset[kFields] = {};  // of each field in data; unused for NULL fields
  };
  // Beyond this many templates (groups x columns x 3 NULL patterns) rows are formed one by one.
  static constexpr size_t kMaxTemplates = 16384;

  void form(const Datum* values, const bool* nulls, Template* t);
  static int pattern(const WindowStats& s) { return s.n > 1 ? 2 : s.n > 0 ? 1 : 0; }
  static void values_of(Datum group_text, int64 start, Datum column_name, const WindowStats& s,
                        Datum* v, bool* n);

  Tuplestorestate* out_ = nullptr;
  TupleDesc desc_ = nullptr;
  TupleTableSlot* slot_ = nullptr;
  MemoryContext cxt_ = nullptr;
  int ncols_ = 0;
  bool fast_ = false;  // desc is the result row the templates assume
  std::vector<Template> templates_;
};

}  // namespace geoetl::pg
