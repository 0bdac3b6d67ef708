// geoetl.aggregate_window(): count/mean/min/max/stddev of value columns per date_bin window
// (and group), streamed from a table or view into the core's window::Aggregator.
//
// Two ways to read. A plain table read over much of its rows is scanned directly (table AM,
// no executor), keeping windows open until a memory budget (work_mem) is reached and emitting
// the oldest first; should a row then arrive for a window already emitted, the result so far is
// dropped and the rows are read again in time order. Everything else (views, row security,
// inheritance, a narrow range an index serves) runs "SELECT ... ORDER BY time" through the
// executor, emitting each window as soon as the time passes it. Either way memory holds open
// windows, never rows.
extern "C" {
#include "postgres.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/plannodes.h"
#include "optimizer/cost.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/dest.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include <string>
#include <unordered_map>
#include <vector>

#include "boundary.h"
#include "window.h"
#include "window_rows.h"

namespace {

using geoetl::window::Aggregator;
using geoetl::window::Moments;

// What to read, checked against the catalog.
struct Request {
  Oid relid;
  char relkind;
  char* relname;  // quoted, schema-qualified
  AttrNumber time_att;
  Oid time_type;  // TIMESTAMPTZOID or TIMESTAMPOID
  int ncols;
  AttrNumber* value_att;
  Oid* value_type;       // base types: int2, int4, int8, float4, float8, numeric
  Datum* column_name;    // text, for the result rows
  AttrNumber group_att;  // 0: no group_by
  Oid group_type;
  const char* group_decl;  // its declared type with typmod, e.g. character(4)
  int64 stride;            // microseconds
  ArrayType* only_groups;  // _aggregate_window_groups: the group keys (text) to read, or nullptr
  TimestampTz from, to, origin;
};

[[noreturn]] void null_argument(const char* name) {
  ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                  errmsg("aggregate_window: %s must not be NULL", name)));
}

AttrNumber column_of(const Request& r, const char* column, Oid* type) {
  const AttrNumber att = get_attnum(r.relid, column);
  if (att == InvalidAttrNumber || att < 0)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("column \"%s\" of relation %s does not exist", column, r.relname)));
  *type = getBaseType(get_atttype(r.relid, att));
  return att;
}

bool is_numeric_type(Oid t) {
  return t == INT2OID || t == INT4OID || t == INT8OID || t == FLOAT4OID || t == FLOAT8OID ||
         t == NUMERICOID;
}

// Validates the arguments; errors name the argument or column at fault.
Request read_request(FunctionCallInfo fcinfo) {
  const char* names[] = {"source",  "time_column", "value_columns", "width",
                         "from_ts", "to_ts",       "origin"};
  for (int i = 0; i < 7; i++)
    if (PG_ARGISNULL(i)) null_argument(names[i]);
  Request r{};
  r.relid = PG_GETARG_OID(0);
  LockRelationOid(r.relid, AccessShareLock);  // no ALTER between these checks and the read
  r.relkind = get_rel_relkind(r.relid);
  if (r.relkind == '\0')
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("relation with OID %u does not exist", r.relid)));
  r.relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(r.relid)),
                                         get_rel_name(r.relid));
  if (r.relkind != RELKIND_RELATION && r.relkind != RELKIND_PARTITIONED_TABLE &&
      r.relkind != RELKIND_VIEW && r.relkind != RELKIND_MATVIEW &&
      r.relkind != RELKIND_FOREIGN_TABLE)
    ereport(ERROR,
            (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("%s is not a table or view", r.relname),
             errhint("aggregate_window reads tables, views, materialized views and "
                     "foreign tables.")));

  const char* time_column = NameStr(*PG_GETARG_NAME(1));
  r.time_att = column_of(r, time_column, &r.time_type);
  if (r.time_type != TIMESTAMPTZOID && r.time_type != TIMESTAMPOID)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("time column \"%s\" of relation %s is of type %s", time_column,
                           r.relname, format_type_be(r.time_type)),
                    errhint("The time column must be timestamptz or timestamp.")));

  ArrayType* cols = PG_GETARG_ARRAYTYPE_P(2);
  Datum* elems;
  bool* nulls;
  deconstruct_array(cols, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &r.ncols);
  if (r.ncols == 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("aggregate_window: value_columns is empty"),
                    errhint("Name at least one numeric column.")));
  r.value_att = static_cast<AttrNumber*>(palloc(sizeof(AttrNumber) * r.ncols));
  r.value_type = static_cast<Oid*>(palloc(sizeof(Oid) * r.ncols));
  r.column_name = static_cast<Datum*>(palloc(sizeof(Datum) * r.ncols));
  for (int i = 0; i < r.ncols; i++) {
    if (nulls[i]) null_argument("an element of value_columns");
    const char* name = text_to_cstring(DatumGetTextPP(elems[i]));
    r.value_att[i] = column_of(r, name, &r.value_type[i]);
    if (!is_numeric_type(r.value_type[i]))
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                      errmsg("column \"%s\" of relation %s is not numeric (type %s)", name,
                             r.relname, format_type_be(r.value_type[i])),
                      errhint("Value columns must be smallint, integer, bigint, real, double "
                              "precision or numeric.")));
    for (int j = 0; j < i; j++)
      if (r.value_att[j] == r.value_att[i])
        ereport(ERROR, (errcode(ERRCODE_DUPLICATE_COLUMN),
                        errmsg("column \"%s\" is listed twice in value_columns", name)));
    r.column_name[i] = CStringGetTextDatum(name);
  }

  const Interval* width = PG_GETARG_INTERVAL_P(3);
  if (width->month != 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("aggregate_window: width must not contain months or years"),
                    errhint("Windows have a fixed length: use days, e.g. '30 days'.")));
  if (__builtin_mul_overflow(static_cast<int64>(width->day), USECS_PER_DAY, &r.stride) ||
      __builtin_add_overflow(r.stride, width->time, &r.stride))
    ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
                    errmsg("aggregate_window: width is out of range")));
  if (r.stride <= 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("aggregate_window: width must be greater than zero")));
  r.from = PG_GETARG_TIMESTAMPTZ(4);
  r.to = PG_GETARG_TIMESTAMPTZ(5);
  r.origin = PG_GETARG_TIMESTAMPTZ(6);
  if (TIMESTAMP_NOT_FINITE(r.origin))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("aggregate_window: origin must be finite")));
  if (!PG_ARGISNULL(7)) {
    const char* group = NameStr(*PG_GETARG_NAME(7));
    r.group_att = column_of(r, group, &r.group_type);
    Oid decl;
    int32 typmod;
    Oid collation;
    get_atttypetypmodcoll(r.relid, r.group_att, &decl, &typmod, &collation);
    r.group_decl = format_type_with_typemod(decl, typmod);
  }
  if (PG_NARGS() > 8 && !PG_ARGISNULL(8)) {
    if (r.group_att == 0)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("aggregate_window: group keys need group_by")));
    r.only_groups = PG_GETARG_ARRAYTYPE_P(8);
    if (!OidIsValid(get_array_type(r.group_type)))
      ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                      errmsg("aggregate_window: group column type %s has no array type",
                             format_type_be(r.group_type))));
  }
  return r;
}

// A timestamptz literal that reads back the same in any DateStyle and TimeZone.
void append_literal(StringInfo q, TimestampTz t) {
  if (TIMESTAMP_IS_NOBEGIN(t)) return appendStringInfoString(q, "'-infinity'::timestamptz");
  if (TIMESTAMP_IS_NOEND(t)) return appendStringInfoString(q, "'infinity'::timestamptz");
  struct pg_tm tm;
  fsec_t fsec;
  char buf[MAXDATELEN + 1];
  if (timestamp2tm(t, nullptr, &tm, &fsec, nullptr, nullptr) != 0)
    ereport(ERROR,
            (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
  tm.tm_isdst = 0;  // UTC: without it EncodeDateTime leaves out the "+00"
  EncodeDateTime(&tm, fsec, true, 0, nullptr, USE_ISO_DATES, buf);
  appendStringInfo(q, "'%s'::timestamptz", buf);
}

// SELECT time, values..., group FROM source WHERE from <= time < to ORDER BY time.
char* ordered_query(const Request& r) {
  auto att = [&](AttrNumber a) { return quote_identifier(get_attname(r.relid, a, false)); };
  const char* t = att(r.time_att);
  StringInfoData q;
  initStringInfo(&q);
  appendStringInfo(&q, "SELECT %s%s", t, r.time_type == TIMESTAMPOID ? "::timestamptz" : "");
  for (int i = 0; i < r.ncols; i++) appendStringInfo(&q, ", %s", att(r.value_att[i]));
  if (r.group_att != 0) appendStringInfo(&q, ", %s", att(r.group_att));
  appendStringInfo(&q, " FROM %s WHERE %s >= ", r.relname, t);
  append_literal(&q, r.from);
  appendStringInfo(&q, " AND %s < ", t);
  append_literal(&q, r.to);
  if (r.only_groups != nullptr) {  // typed like the column, so an index on it serves
    const char* keys = OidOutputFunctionCall(F_ARRAY_OUT, PointerGetDatum(r.only_groups));
    appendStringInfo(&q, " AND %s = ANY (%s::%s[])", att(r.group_att), quote_literal_cstr(keys),
                     r.group_decl);
  }
  // timestamp columns: by the converted time, which a change to summer time does not keep in order
  appendStringInfo(&q, " ORDER BY %s%s", t, r.time_type == TIMESTAMPOID ? "::timestamptz" : "");
  return q.data;
}

double to_double(Datum d, Oid type) {
  switch (type) {
    case INT2OID: return DatumGetInt16(d);
    case INT4OID: return DatumGetInt32(d);
    case INT8OID: return static_cast<double>(DatumGetInt64(d));
    case FLOAT4OID: return DatumGetFloat4(d);
    case FLOAT8OID: return DatumGetFloat8(d);
    default: return DatumGetFloat8(DirectFunctionCall1(numeric_float8, d));
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
  // In a parallel worker: new groups ('g' id length text, 'n' id), closed windows ('w' start id
  // moments) and 'd' (rows out of time order) for the leader, sent in batches.
  std::string* outbuf = nullptr;
  shm_mq_handle* mqh = nullptr;

  template <typename T>
  void put(const T& v) {
    outbuf->append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void flush_worker() {
    if (outbuf->empty()) return;
    if (shm_mq_send(mqh, outbuf->size(), outbuf->data(), false, true) != SHM_MQ_SUCCESS)
      ereport(ERROR,
              (errcode(ERRCODE_QUERY_CANCELED), errmsg("aggregate_window: the leader left")));
    outbuf->clear();
  }

  size_t agg_budget;
  State(const Request& req, size_t budget)
      : r(req), agg(static_cast<size_t>(req.ncols), budget), agg_budget(budget) {}

  void reset() {
    agg.clear();
    byval_ids.clear();
    byref_ids.clear();
    group_text.clear();
    group_read.clear();
    null_id = -1;
    have_last_group = have_window = false;
    tuplestore_clear(out);
    rows.begin(out, desc, r.ncols, keep);  // group ids are given anew
  }

  uint32 new_group(Datum value, bool isnull) {
    Datum text = (Datum)0;
    bool read = r.only_groups == nullptr;
    if (!isnull) {
      MemoryContext old = MemoryContextSwitchTo(keep);
      char* out = OidOutputFunctionCall(group_output, value);
      text = CStringGetTextDatum(out);
      MemoryContextSwitchTo(old);
      if (outbuf != nullptr) {
        const uint32 len = static_cast<uint32>(strlen(out));
        outbuf->push_back('g');
        put(static_cast<uint32>(group_text.size()));
        put(len);
        outbuf->append(out, len);
      }
      if (!read) {
        scratch.assign(out);
        read = wanted.count(scratch) > 0;
      }
    }
    if (isnull && outbuf != nullptr) {
      outbuf->push_back('n');
      put(static_cast<uint32>(group_text.size()));
    }
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
    if (outbuf != nullptr) {  // a worker: to the leader, which makes the rows
      outbuf->push_back('w');
      put(start);
      put(group);
      outbuf->append(reinterpret_cast<const char*>(m), sizeof(Moments) * r.ncols);
      if (outbuf->size() >= 65536) flush_worker();
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

  // One row: false when its window was emitted already (out of time order).
  bool add(TimestampTz t, const Datum* values, const bool* isnull, Datum group, bool group_null) {
    const int64 start = window_of(t);
    const uint32 gid = group_id(group, group_null);
    if (r.only_groups != nullptr && !group_read[gid]) return true;
    Moments* m = agg.slot(start, gid);
    if (m == nullptr) return false;
    for (int c = 0; c < r.ncols; c++)
      if (!isnull[c]) m[c].add(to_double(values[c], r.value_type[c]));
    return true;
  }
};

// The executor path: rows arrive in time order; each window is emitted once time passes it.
struct OrderedReceiver {
  DestReceiver pub;  // first: the executor sees a DestReceiver*
  State* state;
  Datum* values;
  bool* nulls;
};

bool ordered_receive(TupleTableSlot* slot, DestReceiver* self) {
  auto* rcv = reinterpret_cast<OrderedReceiver*>(self);
  State& s = *rcv->state;
  const int ncols = s.r.ncols;
  slot_getallattrs(slot);
  if (slot->tts_isnull[0]) return true;
  const TimestampTz t = DatumGetTimestampTz(slot->tts_values[0]);
  const int64 start = s.window_of(t);
  const bool gnull = s.r.group_att == 0 || slot->tts_isnull[ncols + 1];
  const Datum g = s.r.group_att == 0 ? (Datum)0 : slot->tts_values[ncols + 1];
  bool added = false;
  MemoryContext old = MemoryContextSwitchTo(s.row_memory);
  try {  // no C++ exception may cross the executor's frames
    s.agg.close_before(start, [&](int64 w, uint32 gid, const Moments* m) { s.emit(w, gid, m); });
    added = s.add(t, slot->tts_values + 1, slot->tts_isnull + 1, g, gnull);
  } catch (...) {
    s.failed = true;
  }
  MemoryContextSwitchTo(old);
  if (s.failed) ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
  if (!added)
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                    errmsg("aggregate_window: rows arrived out of time order")));
  MemoryContextReset(s.row_memory);
  return true;
}
void ordered_startup(DestReceiver*, int, TupleDesc) {}
void ordered_shutdown(DestReceiver*) {}
void ordered_destroy(DestReceiver*) {}

void read_ordered(State& s, SPIPlanPtr plan) {
  OrderedReceiver rcv{};
  rcv.pub.receiveSlot = ordered_receive;
  rcv.pub.rStartup = ordered_startup;
  rcv.pub.rShutdown = ordered_shutdown;
  rcv.pub.rDestroy = ordered_destroy;
  rcv.pub.mydest = DestNone;
  rcv.state = &s;
  SPIExecuteOptions opt{};
  opt.read_only = true;
  opt.dest = &rcv.pub;
  const int rc = SPI_execute_plan_extended(plan, &opt);
  if (rc < 0)  // SPI_OK_UTILITY, not SPI_OK_SELECT: the rows went to our receiver
    ereport(ERROR,
            (errcode(ERRCODE_INTERNAL_ERROR), errmsg("aggregate_window: reading %s failed: %s",
                                                     s.r.relname, SPI_result_code_string(rc))));
  s.agg.close_all([&](int64 w, uint32 g, const Moments* m) { s.emit(w, g, m); });
}

// The direct path: the table in storage order. False when a row came for a window already
// emitted (the caller then reads in time order).
bool read_table(State& s) {
  const Request& r = s.r;
  Relation rel = table_open(r.relid, AccessShareLock);
  TupleTableSlot* slot = table_slot_create(rel, nullptr);
  TableScanDesc scan = table_beginscan(rel, GetActiveSnapshot(), 0, nullptr);
  AttrNumber last = r.time_att > r.group_att ? r.time_att : r.group_att;
  for (int c = 0; c < r.ncols; c++)
    if (r.value_att[c] > last) last = r.value_att[c];
  Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * r.ncols));
  bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * r.ncols));
  bool in_order = true;
  uint64 rows = 0;
  auto emit = [&](int64 w, uint32 g, const Moments* m) { s.emit(w, g, m); };
  while (table_scan_getnextslot(scan, ForwardScanDirection, slot)) {
    CHECK_FOR_INTERRUPTS();
    slot_getsomeattrs(slot, last);
    if (slot->tts_isnull[r.time_att - 1]) continue;
    const TimestampTz t = DatumGetTimestampTz(slot->tts_values[r.time_att - 1]);
    if (t < r.from || t >= r.to) continue;
    for (int c = 0; c < r.ncols; c++) {
      values[c] = slot->tts_values[r.value_att[c] - 1];
      nulls[c] = slot->tts_isnull[r.value_att[c] - 1];
    }
    const bool gnull = r.group_att == 0 || slot->tts_isnull[r.group_att - 1];
    const Datum g = r.group_att == 0 ? (Datum)0 : slot->tts_values[r.group_att - 1];
    MemoryContext old = MemoryContextSwitchTo(s.row_memory);
    in_order = s.add(t, values, nulls, g, gnull);
    MemoryContextSwitchTo(old);
    if (!in_order) break;
    if (s.agg.over_budget()) s.agg.shed(emit);
    if ((++rows & 4095) == 0) MemoryContextReset(s.row_memory);
  }
  table_endscan(scan);
  ExecDropSingleTupleTableSlot(slot);
  table_close(rel, AccessShareLock);
  if (in_order) s.agg.close_all(emit);
  return in_order;
}

// The direct read in a parallel worker, while the leader turns the windows it sends into rows:
// the scan and the result rows then take a core each.
constexpr uint64 kParamsKey = 1, kQueueKey = 2;
constexpr Size kQueueSize = 1 << 20;
struct WorkerParams {
  Oid relid;
  AttrNumber time_att, group_att;
  Oid group_type;
  int ncols;
  int64 stride;
  TimestampTz from, to, origin;
  Size budget;
  AttrNumber value_att[MaxTupleAttributeNumber];
  Oid value_type[MaxTupleAttributeNumber];
};

void setup_groups(State& s) {
  if (s.r.group_att == 0) return;
  bool varlena;
  getTypeOutputInfo(s.r.group_type, &s.group_output, &varlena);
  get_typlenbyval(s.r.group_type, &s.group_len, &s.group_byval);
}

// Turns one batch from the worker into result rows; false when it reported rows out of order.
bool receive_batch(State& s, const char* p, Size len, Moments* m) {
  const char* end = p + len;
  bool in_order = true;
  while (p < end) {
    const char kind = *p++;
    uint32 id, n;
    int64 start;
    switch (kind) {
      case 'g':
      case 'n':
        memcpy(&id, p, sizeof id);
        p += sizeof id;
        if (s.group_text.size() <= id) s.group_text.resize(id + 1, (Datum)0);
        if (kind == 'g') {
          memcpy(&n, p, sizeof n);
          p += sizeof n;
          MemoryContext old = MemoryContextSwitchTo(s.keep);
          s.group_text[id] = PointerGetDatum(cstring_to_text_with_len(p, static_cast<int>(n)));
          MemoryContextSwitchTo(old);
          p += n;
        }
        break;
      case 'w':
        memcpy(&start, p, sizeof start);
        memcpy(&id, p + sizeof start, sizeof id);
        p += sizeof start + sizeof id;
        memcpy(static_cast<void*>(m), p, sizeof(Moments) * s.r.ncols);  // aligned copy
        p += sizeof(Moments) * s.r.ncols;
        s.emit(start, id, m);
        break;
      default:  // 'd'
        in_order = false;
    }
  }
  return in_order;
}

// 1: read by a worker; 0: the rows were out of time order; -1: no worker could be had.
int read_table_in_worker(State& s) {
  const Request& r = s.r;
  EnterParallelMode();
  ParallelContext* pcxt = CreateParallelContext("geoetl", "geoetl_window_worker", 1);
  shm_toc_estimate_chunk(&pcxt->estimator, sizeof(WorkerParams));
  shm_toc_estimate_chunk(&pcxt->estimator, kQueueSize);
  shm_toc_estimate_keys(&pcxt->estimator, 2);
  InitializeParallelDSM(pcxt);
  int result = -1;
  if (pcxt->seg != nullptr) {
    auto* wp = static_cast<WorkerParams*>(shm_toc_allocate(pcxt->toc, sizeof(WorkerParams)));
    wp->relid = r.relid;
    wp->time_att = r.time_att;
    wp->group_att = r.group_att;
    wp->group_type = r.group_type;
    wp->ncols = r.ncols;
    wp->stride = r.stride;
    wp->from = r.from;
    wp->to = r.to;
    wp->origin = r.origin;
    wp->budget = s.agg_budget;
    for (int c = 0; c < r.ncols; c++) {
      wp->value_att[c] = r.value_att[c];
      wp->value_type[c] = r.value_type[c];
    }
    shm_toc_insert(pcxt->toc, kParamsKey, wp);
    shm_mq* mq = shm_mq_create(shm_toc_allocate(pcxt->toc, kQueueSize), kQueueSize);
    shm_toc_insert(pcxt->toc, kQueueKey, mq);
    shm_mq_set_receiver(mq, MyProc);
    LaunchParallelWorkers(pcxt);
    if (pcxt->nworkers_launched > 0) {
      elog(DEBUG1, "aggregate_window: a parallel worker reads, this backend makes the rows");
      shm_mq_handle* mqh = shm_mq_attach(mq, pcxt->seg, pcxt->worker[0].bgwhandle);
      if (r.group_att == 0) s.group_text.assign(1, (Datum)0);
      auto* m = static_cast<Moments*>(palloc(sizeof(Moments) * r.ncols));
      result = 1;
      Size len;
      void* data;
      while (shm_mq_receive(mqh, &len, &data, false) == SHM_MQ_SUCCESS)
        if (!receive_batch(s, static_cast<const char*>(data), len, m)) result = 0;
      WaitForParallelWorkersToFinish(pcxt);  // raises a worker's error here
    }
  }
  DestroyParallelContext(pcxt);
  ExitParallelMode();
  return result;
}

// Whether the table can be read directly: a plain table the user may read whole, without row
// security or inheritance children, timestamptz time, and a range that is not a small part of
// it (an index serves those better).
bool direct_read_pays(const Request& r, SPIPlanPtr plan, BlockNumber* blocks) {
  if (r.relkind != RELKIND_RELATION || r.time_type != TIMESTAMPTZOID) return false;
  if (has_subclass(r.relid)) return false;
  if (check_enable_rls(r.relid, InvalidOid, true) == RLS_ENABLED) return false;
  if (pg_class_aclcheck(r.relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK) return false;
  CachedPlan* cplan = SPI_plan_get_cached_plan(plan);
  if (cplan == nullptr) return false;
  const PlannedStmt* stmt = linitial_node(PlannedStmt, cplan->stmt_list);
  const double rows = stmt->planTree->plan_rows;
  const Plan* scan = stmt->planTree;  // under the sort (and gather), if any
  while (scan->lefttree != nullptr && (IsA(scan, Sort) || IsA(scan, IncrementalSort) ||
                                       IsA(scan, Gather) || IsA(scan, GatherMerge)))
    scan = scan->lefttree;
  const bool whole_table = IsA(scan, SeqScan);  // the planner reads it all anyway
  ReleaseCachedPlan(cplan, nullptr);
  Relation rel = table_open(r.relid, AccessShareLock);
  const double tuples = rel->rd_rel->reltuples;
  // a worker cannot read another backend's temporary table: none for those
  *blocks = RelationUsesLocalBuffers(rel) ? 0 : RelationGetNumberOfBlocks(rel);
  table_close(rel, AccessShareLock);
  return whole_table || tuples < 0 || rows >= 0.2 * tuples;
}

// Runs under pg_guard with s in the caller's C++ frame.
void aggregate(State& s, const char* query, ReturnSetInfo* rsi) {
  const Request& r = s.r;
  s.out = rsi->setResult;
  s.desc = rsi->setDesc;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  s.keep = CurrentMemoryContext;
  s.row_memory =
      AllocSetContextCreate(CurrentMemoryContext, "aggregate_window rows", ALLOCSET_DEFAULT_SIZES);
  s.rows.begin(s.out, s.desc, r.ncols, s.keep);
  SPIPlanPtr plan = SPI_prepare(query, 0, nullptr);
  if (plan == nullptr)
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                    errmsg("aggregate_window: cannot read %s: %s", r.relname,
                           SPI_result_code_string(SPI_result))));
  if (r.only_groups != nullptr) {
    Datum* keys;
    bool* nulls;
    int n;
    deconstruct_array(r.only_groups, TEXTOID, -1, false, TYPALIGN_INT, &keys, &nulls, &n);
    for (int i = 0; i < n; i++)
      if (!nulls[i]) s.wanted.emplace(text_to_cstring(DatumGetTextPP(keys[i])), true);
  }
  setup_groups(s);
  bool done = false;
  BlockNumber blocks = 0;
  if (direct_read_pays(r, plan, &blocks)) {
    elog(DEBUG1, "aggregate_window: reading %s directly", r.relname);
    // a worker reads a table of 1 MB or more, unless parallel query is off (or none is free)
    int worker = -1;
    if (r.only_groups == nullptr && blocks >= 128 && max_parallel_workers_per_gather > 0 &&
        !IsInParallelMode())
      worker = read_table_in_worker(s);
    done = worker < 0 ? read_table(s) : worker == 1;
    if (!done) {
      elog(DEBUG1, "aggregate_window: rows of %s out of time order beyond work_mem: reading again",
           r.relname);
      s.reset();
    }
  }
  if (!done) {
    elog(DEBUG1, "aggregate_window: reading %s in time order", r.relname);
    read_ordered(s, plan);
  }
  SPI_finish();
}

}  // namespace

extern "C" {

// The parallel worker of read_table_in_worker (loaded by name from this library).
PGDLLEXPORT void geoetl_window_worker(dsm_segment* seg, shm_toc* toc);
void geoetl_window_worker(dsm_segment* seg, shm_toc* toc) {
  const auto* wp = static_cast<const WorkerParams*>(shm_toc_lookup(toc, kParamsKey, false));
  auto* mq = static_cast<shm_mq*>(shm_toc_lookup(toc, kQueueKey, false));
  shm_mq_set_sender(mq, MyProc);
  shm_mq_handle* mqh = shm_mq_attach(mq, seg, nullptr);
  Request r{};
  r.relid = wp->relid;
  r.relkind = RELKIND_RELATION;
  r.relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(r.relid)),
                                         get_rel_name(r.relid));
  r.time_att = wp->time_att;
  r.time_type = TIMESTAMPTZOID;
  r.ncols = wp->ncols;
  r.value_att = const_cast<AttrNumber*>(wp->value_att);
  r.value_type = const_cast<Oid*>(wp->value_type);
  r.group_att = wp->group_att;
  r.group_type = wp->group_type;
  r.stride = wp->stride;
  r.from = wp->from;
  r.to = wp->to;
  r.origin = wp->origin;
  geoetl::pg::call_core([&] {
    State s(r, wp->budget);
    std::string batch;
    s.outbuf = &batch;
    s.mqh = mqh;
    geoetl::pg::pg_guard([&] {
      s.keep = CurrentMemoryContext;
      s.row_memory = AllocSetContextCreate(CurrentMemoryContext, "aggregate_window rows",
                                           ALLOCSET_DEFAULT_SIZES);
      setup_groups(s);
      if (!read_table(s)) batch.push_back('d');
      s.flush_worker();
    });
  });
}

PG_FUNCTION_INFO_V1(geoetl_aggregate_window);
Datum geoetl_aggregate_window(PG_FUNCTION_ARGS) {
  const Request r = read_request(fcinfo);
  InitMaterializedSRF(fcinfo, 0);
  if (r.from >= r.to) return (Datum)0;
  auto* rsi = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  const char* query = ordered_query(r);
  const size_t per = static_cast<size_t>(r.ncols) * sizeof(Moments) + 32;
  const size_t budget = static_cast<size_t>(work_mem) * 1024 / per;
  geoetl::pg::call_core([&] {
    State s(r, budget);
    geoetl::pg::pg_guard([&] { aggregate(s, query, rsi); });
  });
  return (Datum)0;
}

}  // extern "C"
