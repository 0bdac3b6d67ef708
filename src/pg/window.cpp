// geoetl.aggregate_window(): count/mean/min/max/stddev of value columns per date_bin window
// (and group), streamed from a table or view into the core's window::Aggregator.
//
// Two ways to read. A plain table read over much of its rows is scanned directly (table AM,
// no executor), keeping windows open until a memory budget (work_mem) is reached and emitting
// the oldest first; should a row then arrive for a window already emitted, the result so far is
// dropped and the rows are read again in time order. Tables of 1 MB or more are scanned by
// parallel workers, in parts side by side when stored in time order (window/parallel.cpp).
// Everything else (views, row security, inheritance, a narrow range an index serves) runs
// "SELECT ... ORDER BY time" through the executor, emitting each window as soon as the time
// passes it. Either way memory holds open windows, never rows.
extern "C" {
#include "postgres.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/plannodes.h"
#include "tcop/dest.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "optimizer/cost.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include <algorithm>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "boundary.h"
#include "window/state.h"

namespace geoetl::pg::window_fn {

bool read_table(State& s, uint32 part, uint32 parts, BlockNumber blocks) {
  const Request& r = s.r;
  Relation rel = table_open(r.relid, AccessShareLock);
  TupleTableSlot* slot = table_slot_create(rel, nullptr);
  TableScanDesc scan;
  if (parts == 1) {
    scan = table_beginscan(rel, GetActiveSnapshot(), 0, nullptr);
  } else {  // no synchronised scan: it would start elsewhere
    scan = table_beginscan_strat(rel, GetActiveSnapshot(), 0, nullptr, true, false);
    const auto edge = [&](uint32 k) {
      return static_cast<BlockNumber>(static_cast<uint64>(blocks) * k / parts);
    };
    const BlockNumber first = edge(part);
    const BlockNumber all = reinterpret_cast<HeapScanDesc>(scan)->rs_nblocks;
    const BlockNumber end = part + 1 == parts ? all : std::min(edge(part + 1), all);
    heap_setscanlimits(scan, first < end ? first : 0, first < end ? end - first : 0);
  }
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
    if (s.only_windows != nullptr && s.only_windows->count(s.window_of(t)) == 0) continue;
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
    if ((++rows & 4095) == 0) {
      MemoryContextReset(s.row_memory);
      if (s.stop != nullptr && pg_atomic_read_u32(s.stop) != 0) {  // the leader gave up
        in_order = false;
        break;
      }
    }
  }
  table_endscan(scan);
  ExecDropSingleTupleTableSlot(slot);
  table_close(rel, AccessShareLock);
  if (in_order) s.agg.close_all(emit);
  return in_order;
}

void setup_groups(State& s) {
  if (s.r.group_att == 0) return;
  bool varlena;
  getTypeOutputInfo(s.r.group_type, &s.group_output, &varlena);
  get_typlenbyval(s.r.group_type, &s.group_len, &s.group_byval);
}

}  // namespace geoetl::pg::window_fn

namespace {

using namespace geoetl::pg::window_fn;

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
  const geoetl::pg::SqlArgs args(fcinfo, "aggregate_window");
  args.require({{0, "source"},
                {1, "time_column"},
                {2, "value_columns"},
                {3, "width"},
                {4, "from_ts"},
                {5, "to_ts"},
                {6, "origin"}});
  Request r{};
  r.relid = args.oid(0, "source");
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

  const char* time_column = NameStr(*DatumGetName(args.datum(1, "time_column")));
  r.time_att = column_of(r, time_column, &r.time_type);
  if (r.time_type != TIMESTAMPTZOID && r.time_type != TIMESTAMPOID)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("time column \"%s\" of relation %s is of type %s", time_column,
                           r.relname, format_type_be(r.time_type)),
                    errhint("The time column must be timestamptz or timestamp.")));

  const geoetl::pg::ArgArray<const char*> columns =
      args.text_array(2, "value_columns", geoetl::pg::NullElements::refuse);
  r.ncols = columns.count;
  if (r.ncols == 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("aggregate_window: value_columns is empty"),
                    errhint("Name at least one numeric column.")));
  if (r.ncols > MaxHeapAttributeNumber)  // distinct columns of one relation: never more
    ereport(ERROR, (errcode(ERRCODE_TOO_MANY_COLUMNS),
                    errmsg("aggregate_window: value_columns names %d columns", r.ncols),
                    errhint("A table has at most %d columns.", MaxHeapAttributeNumber)));
  r.column_name = static_cast<Datum*>(palloc(sizeof(Datum) * r.ncols));
  for (int i = 0; i < r.ncols; i++) {
    const char* name = columns.items[i];
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

  const Interval* width = DatumGetIntervalP(args.datum(3, "width"));
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
  r.from = DatumGetTimestampTz(args.datum(4, "from_ts"));
  r.to = DatumGetTimestampTz(args.datum(5, "to_ts"));
  r.origin = DatumGetTimestampTz(args.datum(6, "origin"));
  if (TIMESTAMP_NOT_FINITE(r.origin))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("aggregate_window: origin must be finite")));
  if (!args.is_null(7)) {
    const char* group = NameStr(*DatumGetName(args.datum(7, "group_by")));
    r.group_att = column_of(r, group, &r.group_type);
    Oid decl;
    int32 typmod;
    Oid collation;
    get_atttypetypmodcoll(r.relid, r.group_att, &decl, &typmod, &collation);
    r.group_decl = format_type_with_typemod(decl, typmod);
    // groups are told apart by equality, and a pipeline's target keys them in a btree
    const TypeCacheEntry* tc = lookup_type_cache(r.group_type, TYPECACHE_BTREE_OPFAMILY);
    if (!OidIsValid(tc->btree_opf))
      ereport(ERROR,
              (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
               errmsg("aggregate_window: group_by column \"%s\" is of type %s, which cannot be "
                      "compared for equality and order",
                      group, format_type_be(r.group_type)),
               errhint("Group by a key such as text, an integer or a uuid, e.g. a generated "
                       "column holding ST_AsText(geom) or an id.")));
  }
  if (!args.is_null(8)) {  // _aggregate_window_groups only
    if (r.group_att == 0)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("aggregate_window: group keys need group_by")));
    r.only_groups = DatumGetArrayTypeP(args.datum(8, "group_keys"));
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
char* ordered_query(const Request& r, const std::set<int64>* windows = nullptr) {
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
  if (windows != nullptr) {  // only these windows' rows (adjacent ones as one range)
    appendStringInfoString(&q, " AND (");
    for (auto it = windows->begin(); it != windows->end();) {
      const int64 from = *it;
      int64 to = from;
      for (; it != windows->end() && *it == to; ++it)
        if (__builtin_add_overflow(*it, r.stride, &to)) to = DT_NOEND;
      appendStringInfo(&q, "%s%s >= ", from == *windows->begin() ? "" : " OR ", t);
      append_literal(&q, from);
      appendStringInfo(&q, " AND %s < ", t);
      append_literal(&q, to);
    }
    appendStringInfoChar(&q, ')');
  }
  if (r.only_groups != nullptr) {  // typed like the column, so an index on it serves
    const char* keys = OidOutputFunctionCall(F_ARRAY_OUT, PointerGetDatum(r.only_groups));
    appendStringInfo(&q, " AND %s = ANY (%s::%s[])", att(r.group_att), quote_literal_cstr(keys),
                     r.group_decl);
  }
  // timestamp columns: by the converted time, which a change to summer time does not keep in order
  appendStringInfo(&q, " ORDER BY %s%s", t, r.time_type == TIMESTAMPOID ? "::timestamptz" : "");
  return q.data;
}

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

// The plan of a query reading the source (under SPI).
SPIPlanPtr prepare(const Request& r, const char* query) {
  SPIPlanPtr plan = SPI_prepare(query, 0, nullptr);
  if (plan == nullptr)
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                    errmsg("aggregate_window: cannot read %s: %s", r.relname,
                           SPI_result_code_string(SPI_result))));
  return plan;
}

// The direct read noted windows whose rows were not all stored in time order (late rows at the
// end of a table): their rows are dropped from the result and those windows read again, by
// another direct read that keeps only their rows when all of them fit in work_mem at once, else
// through the executor in time order. False when that direct read failed after all (the caller
// reads everything in time order).
bool reread_late(State& s, ReturnSetInfo* rsi) {
  const size_t accumulators = s.late.size() * std::max<size_t>(1, s.group_text.size());
  const bool direct = accumulators <= s.agg_budget;
  elog(DEBUG1,
       "aggregate_window: %zu window(s) of %s had rows out of time order: reading them again%s",
       s.late.size(), s.r.relname, direct ? " directly" : " in time order");
  MemoryContext old = MemoryContextSwitchTo(rsi->econtext->ecxt_per_query_memory);
  Tuplestorestate* kept =
      tuplestore_begin_heap((rsi->allowedModes & SFRM_Materialize_Random) != 0, false, work_mem);
  MemoryContextSwitchTo(old);
  TupleTableSlot* slot = MakeSingleTupleTableSlot(s.desc, &TTSOpsMinimalTuple);
  while (tuplestore_gettupleslot(s.out, true, false, slot)) {
    bool isnull;
    const Datum start = slot_getattr(slot, 2, &isnull);  // window_start
    if (s.late.count(DatumGetTimestampTz(start)) == 0) tuplestore_puttupleslot(kept, slot);
  }
  ExecDropSingleTupleTableSlot(slot);
  tuplestore_end(s.out);
  rsi->setResult = s.out = kept;
  s.forget();
  s.rows.begin(s.out, s.desc, s.r.ncols, s.keep);
  if (direct) {  // every window and group open at once: nothing is emitted before the end
    s.only_windows = &s.late;
    const bool done = read_table(s);
    s.only_windows = nullptr;
    return done;
  }
  read_ordered(s, prepare(s.r, ordered_query(s.r, &s.late)));
  return true;
}

// Whether the planner's statistics say the table is stored about in time order (correlation of
// the time column 0.9 or more), or say nothing (a table not analysed yet: loaded in order, most
// likely). Parts of it are then read side by side.
bool stored_in_time_order(const Request& r) {
  HeapTuple stats = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(r.relid),
                                    Int16GetDatum(r.time_att), BoolGetDatum(false));
  if (!HeapTupleIsValid(stats)) return true;
  bool ordered = true;
  AttStatsSlot slot;
  if (get_attstatsslot(&slot, stats, STATISTIC_KIND_CORRELATION, InvalidOid,
                       ATTSTATSSLOT_NUMBERS)) {
    ordered = slot.nnumbers == 1 && slot.numbers[0] >= 0.9;
    free_attstatsslot(&slot);
  }
  ReleaseSysCache(stats);
  return ordered;
}

// Whether the table can be read directly: a plain table the user may read whole, without row
// security or inheritance children, timestamptz time, and a range that is not a small part of
// it (an index serves those better).
bool direct_read_pays(const Request& r, SPIPlanPtr plan, BlockNumber* blocks, bool* heap) {
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
  *heap = rel->rd_tableam == GetHeapamTableAmRoutine();  // block ranges are a heap's
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
  SPIPlanPtr plan = prepare(r, query);
  if (r.only_groups != nullptr)
    for (const char* key : geoetl::pg::text_array_of(PointerGetDatum(r.only_groups), "group_keys",
                                                     geoetl::pg::NullElements::skip))
      s.wanted.emplace(key, true);
  setup_groups(s);
  bool done = false;
  BlockNumber blocks = 0;
  bool heap = false;
  if (direct_read_pays(r, plan, &blocks, &heap)) {
    elog(DEBUG1, "aggregate_window: reading %s directly", r.relname);
    // workers read a table of 1 MB or more, unless parallel query is off (or none is free): up
    // to max_parallel_workers_per_gather, each a part (block range) of 512 kB or more of a heap
    // its statistics do not call unordered in time
    WorkerRead read = WorkerRead::kNoWorker;
    if (r.only_groups == nullptr && blocks >= 128 && max_parallel_workers_per_gather > 0 &&
        !IsInParallelMode()) {
      const uint32 most = static_cast<uint32>(std::min(max_parallel_workers_per_gather, 8));
      const uint32 parts =
          heap && stored_in_time_order(r) ? std::min<uint32>(most, blocks / 64) : 1;
      read = read_table_in_workers(s, parts, blocks);
      if (read == WorkerRead::kPartsOverlap) {
        elog(DEBUG1, "aggregate_window: the parts of %s overlap in time: one worker reads it",
             r.relname);
        s.reset();
        read = read_table_in_workers(s, 1, blocks);
      }
    }
    if (read == WorkerRead::kNoWorker) {
      s.note_late = true;
      done = read_table(s);
      s.note_late = false;
    } else {
      done = read == WorkerRead::kDone;
    }
    if (done && !s.late.empty()) done = reread_late(s, rsi);
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
