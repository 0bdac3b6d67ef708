// What the readers of geoetl.aggregate_window share: the checked request, and the state that
// turns rows into windows and windows into result rows (or, in a parallel worker, into messages
// for the leader). window.cpp reads in the backend; window/parallel.cpp in parallel workers.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "port/atomics.h"
#include "storage/block.h"
#include "storage/shm_mq.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "window/messages.h"
#include "window/rows.h"
#include "window/window.h"

namespace geoetl::pg::window_fn {

using geoetl::window::Aggregator;
using geoetl::window::Moments;

// What to read, as plain values: copied as it is into a parallel read's shared memory.
struct ReadSpec {
  Oid relid;
  char relkind;
  AttrNumber time_att;
  Oid time_type;  // TIMESTAMPTZOID or TIMESTAMPOID
  int ncols;
  AttrNumber value_att[MaxTupleAttributeNumber];
  Oid value_type[MaxTupleAttributeNumber];  // base types: int2, int4, int8, float4, float8, numeric
  AttrNumber group_att;                     // 0: no group_by
  Oid group_type;
  int64 stride;  // microseconds
  TimestampTz from, to, origin;
};

// What to read, checked against the catalog: the plain values, and what only the calling backend
// needs.
struct Request : ReadSpec {
  char* relname;           // quoted, schema-qualified
  Datum* column_name;      // text, for the result rows
  const char* group_decl;  // its declared type with typmod, e.g. character(4)
  ArrayType* only_groups;  // _aggregate_window_groups: the group keys (text) to read, or nullptr
};

// A numeric as the nearest double, as numeric_float8 does, except that a value beyond double's
// range becomes +-Infinity and one too small for it +-0 (or a subnormal), where numeric_float8
// raises 22003 with every digit in the message: values lose precision, never the call.
inline double numeric_to_double(Datum d) {
  char* text = DatumGetCString(DirectFunctionCall1(numeric_out, d));
  const double v = strtod(text, nullptr);  // ERANGE gives +-HUGE_VAL or the nearest small value
  pfree(text);
  return v;
}

inline double to_double(Datum d, Oid type) {
  switch (type) {
    case INT2OID: return DatumGetInt16(d);
    case INT4OID: return DatumGetInt32(d);
    case INT8OID: return static_cast<double>(DatumGetInt64(d));
    case FLOAT4OID: return DatumGetFloat4(d);
    case FLOAT8OID: return DatumGetFloat8(d);
    default: return numeric_to_double(d);
  }
}

// Dense ids for group values, their text for the result, and the rows written. Lives in a C++
// frame; the functions that run under pg_guard keep only plain data on their own stacks.
struct State {
  const Request& r;
  Aggregator agg;
  Tuplestorestate* out = nullptr;
  TupleDesc desc = nullptr;
  geoetl::pg::WindowRows rows;
  MemoryContext keep = nullptr;        // group texts: until the last window is emitted
  MemoryContext row_memory = nullptr;  // per-row garbage (detoasting, numeric conversion)
  bool group_byval = true;
  int16 group_len = 0;
  Oid group_output = InvalidOid;
  std::unordered_map<uint64, uint32> byval_ids;
  std::unordered_map<std::string, uint32> byref_ids;
  std::string scratch, pending;                  // the key being looked up, and one being added
  std::vector<Datum> group_text;                 // by id; (Datum)0 for the NULL group
  std::vector<bool> group_read;                  // by id: false for groups left out by only_groups
  std::unordered_map<std::string, bool> wanted;  // only_groups' keys
  int64 null_id = -1;
  bool have_last_group = false;
  Datum last_group = 0;
  uint32 last_id = 0;
  int64 win_start = 0, win_end = 0;  // the window of the previous row
  bool have_window = false;
  bool failed = false;  // a C++ exception in an executor callback
  // The direct read notes the windows rows arrived for after they were emitted (a few late rows
  // stored at the end of a table), up to kMaxLate; they are read again afterwards.
  static constexpr size_t kMaxLate = 1024;
  bool note_late = false;
  std::set<int64> late;
  const std::set<int64>* only_windows = nullptr;  // the direct read keeps only these windows' rows
  // In a parallel worker: the messages for the leader (window/messages.h), sent in batches.
  std::string batch;
  std::unique_ptr<geoetl::window::MessageWriter> message;  // writes into batch; nullptr: a backend
  shm_mq_handle* mqh = nullptr;
  pg_atomic_uint32* stop = nullptr;

  void flush_worker() {
    if (batch.empty()) return;
    if (shm_mq_send(mqh, batch.size(), batch.data(), false, true) != SHM_MQ_SUCCESS)
      ereport(ERROR,
              (errcode(ERRCODE_QUERY_CANCELED), errmsg("aggregate_window: the leader left")));
    batch.clear();
  }

  size_t agg_budget;
  // The leader's of a read in parts (here, not on the stack of code that PostgreSQL errors leave).
  std::unique_ptr<geoetl::window::PartMerger> merger;
  State(const Request& req, size_t budget)
      : r(req), agg(static_cast<size_t>(req.ncols), budget), agg_budget(budget) {}

  // Forgets the windows and the groups: ids are given anew.
  void forget() {
    agg.clear();
    byval_ids.clear();
    byref_ids.clear();
    group_text.clear();
    group_read.clear();
    null_id = -1;
    have_last_group = have_window = false;
  }
  // Before the rows are read again: the result so far is dropped too.
  void reset() {
    forget();
    late.clear();
    tuplestore_clear(out);
    rows.begin(out, desc, r.ncols, keep);
  }

  uint32 new_group(Datum value, bool isnull) {
    Datum text = (Datum)0;
    bool read = r.only_groups == nullptr;
    if (!isnull) {
      MemoryContext old = MemoryContextSwitchTo(keep);
      char* out = OidOutputFunctionCall(group_output, value);
      text = CStringGetTextDatum(out);
      MemoryContextSwitchTo(old);
      if (message) message->group(static_cast<uint32>(group_text.size()), out);
      if (!read) {
        scratch.assign(out);
        read = wanted.count(scratch) > 0;
      }
    }
    if (isnull && message) message->null_group(static_cast<uint32>(group_text.size()));
    group_text.push_back(text);
    group_read.push_back(read);
    return static_cast<uint32>(group_text.size() - 1);
  }

  // The id of a row's group (0 without group_by).
  uint32 group_id(Datum value, bool isnull) {
    if (r.group_att == 0) {
      if (group_text.empty()) group_text.push_back((Datum)0);
      return 0;
    }
    if (isnull) {
      if (null_id < 0) null_id = new_group(value, true);
      return static_cast<uint32>(null_id);
    }
    if (have_last_group && group_byval && value == last_group) return last_id;
    uint32 id;
    if (group_byval) {
      auto it = byval_ids.find(static_cast<uint64>(value));
      id = it != byval_ids.end() ? it->second
                                 : byval_ids[static_cast<uint64>(value)] = new_group(value, false);
      have_last_group = true;
      last_group = value;
      last_id = id;
      return id;
    }
    if (group_len == -1) {
      struct varlena* v = PG_DETOAST_DATUM_PACKED(value);
      scratch.assign(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
    } else if (group_len == -2) {
      scratch.assign(DatumGetCString(value));
    } else {
      scratch.assign(DatumGetPointer(value), static_cast<size_t>(group_len));
    }
    auto it = byref_ids.find(scratch);
    if (it != byref_ids.end()) return it->second;
    pending.swap(scratch);  // new_group uses scratch
    id = new_group(value, false);
    byref_ids.emplace(std::move(pending), id);
    pending.clear();
    return id;
  }

  // The window start of t, as date_bin(width, t, origin) (infinite times are their own window).
  int64 window_of(TimestampTz t) {
    if (have_window && t >= win_start && t < win_end) return win_start;
    if (TIMESTAMP_NOT_FINITE(t)) {
      have_window = false;
      return t;
    }
    int64 start;
    if (!geoetl::window::bin_start(t, r.stride, r.origin, &start) ||
        __builtin_add_overflow(start, r.stride, &win_end))
      ereport(ERROR,
              (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
    have_window = true;
    win_start = start;
    return start;
  }

  void emit(int64 start, uint32 group, const Moments* m) {
    if (message) {  // a worker: to the leader, which makes the rows
      message->window(start, group, m);
      if (batch.size() >= 65536) flush_worker();
      return;
    }
    for (int c = 0; c < r.ncols; c++) {
      const Moments& s = m[c];
      if (s.overflow)
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                        errmsg("value out of range: overflow")));
      const geoetl::pg::WindowStats stats{s.n, s.has_mean() ? s.mean() : 0, s.min, s.max,
                                          s.has_stddev() ? s.stddev() : 0};
      rows.put(group, group_text[group], start, c, r.column_name[c], stats);
    }
  }

  // One row: false when its window was emitted already (out of time order), unless noted late.
  bool add(TimestampTz t, const Datum* values, const bool* isnull, Datum group, bool group_null) {
    const int64 start = window_of(t);
    const uint32 gid = group_id(group, group_null);
    if (r.only_groups != nullptr && !group_read[gid]) return true;
    Moments* m = agg.slot(start, gid);
    if (m == nullptr) {  // its window was emitted already
      if (!note_late || TIMESTAMP_NOT_FINITE(t)) return false;
      if (late.size() >= kMaxLate && late.count(start) == 0) return false;
      late.insert(start);
      return true;
    }
    for (int c = 0; c < r.ncols; c++)
      if (!isnull[c]) m[c].add(to_double(values[c], r.value_type[c]));
    return true;
  }
};

// The direct read: the table in storage order, or part `part` of `parts` consecutive block
// ranges of a heap table (of `blocks` blocks when the read began; the last part reads to the end).
// False when a row came for a window already emitted (the caller then reads in time order).
bool read_table(State& s, uint32 part = 0, uint32 parts = 1, BlockNumber blocks = 0);

// The group column's output function and storage, for State::group_id.
void setup_groups(State& s);

enum class WorkerRead {
  kDone,
  kNoWorker,      // none could be had
  kOutOfOrder,    // rows for windows already emitted: read in time order
  kPartsOverlap,  // the parts' times overlap (the table is not stored in time order)
};

// The direct read in parallel workers, `parts` block ranges of a table of `blocks` blocks.
WorkerRead read_table_in_workers(State& s, uint32 parts, BlockNumber blocks);

}  // namespace geoetl::pg::window_fn
