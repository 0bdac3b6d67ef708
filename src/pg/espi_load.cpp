// geoetl._espi_load(key, feed_id, project_id, run, updated): one raw ESPI file of the store into
// geoetl.energy_reading, as the caller (its privileges apply), in batches of one prepared
// INSERT ... ON CONFLICT each: a reading already there is replaced only by a newer one (its
// IntervalBlock entry's atom:updated, else `updated`). The parser checks the whole file before
// it delivers a reading, and the caller's transaction holds every batch: a bad file loads
// nothing. Returns what the file held, as JSON (see 91_espi_parse.sql).
extern "C" {
#include "postgres.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <system_error>
#include <string>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "base/error.h"
#include "boundary.h"
#include "espi/espi.h"
#include "espi/request.h"
#include "fetch.h"
#include "transfer/download.h"
#include "transfer/store_fetch.h"

namespace {

constexpr size_t kBatchRows = 10000;

// Times as PostgreSQL keeps them: microseconds since 2000-01-01.
constexpr int64 kPgEpochShift = (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
int64 pg_time(int64 epoch_seconds) {
  return (epoch_seconds - kPgEpochShift) * USECS_PER_SEC;
}

// Operators and functions named with their schema: nothing on the caller's search_path counts.
constexpr const char* kInsert =
    "INSERT INTO geoetl.energy_reading AS r (feed_id, project_id, usage_point, reading_type, "
    "flow, uom, unit, currency, run, start_at, duration, local_start, value, cost, quality, "
    "updated) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, u.* "
    "FROM ROWS FROM (pg_catalog.unnest($10), pg_catalog.unnest($11), pg_catalog.unnest($12), "
    "pg_catalog.unnest($13), pg_catalog.unnest($14), pg_catalog.unnest($15), "
    "pg_catalog.unnest($16)) u "
    "ON CONFLICT (project_id, usage_point, reading_type, start_at, duration) DO UPDATE SET "
    "feed_id = EXCLUDED.feed_id, flow = EXCLUDED.flow, uom = EXCLUDED.uom, unit = EXCLUDED.unit, "
    "currency = EXCLUDED.currency, run = EXCLUDED.run, local_start = EXCLUDED.local_start, "
    "value = EXCLUDED.value, cost = EXCLUDED.cost, quality = EXCLUDED.quality, "
    "updated = EXCLUDED.updated WHERE EXCLUDED.updated OPERATOR(pg_catalog.>) r.updated";
constexpr int kArgs = 16;
const Oid kArgTypes[kArgs] = {INT8OID,          TEXTOID,
                              TEXTOID,          TEXTOID,
                              INT2OID,          INT4OID,
                              TEXTOID,          TEXTOID,
                              INT4OID,          TIMESTAMPTZARRAYOID,
                              INTERVALARRAYOID, TIMESTAMPARRAYOID,
                              FLOAT8ARRAYOID,   FLOAT8ARRAYOID,
                              INT2ARRAYOID,     TIMESTAMPTZARRAYOID};

struct LoadArgs {
  std::string key, project_id;
  bool has_feed = false;
  int64 feed_id = 0;
  int32 run = 0;
  int64 updated = 0;  // epoch seconds: for readings whose block entry has no atom:updated
};

// The readings of one MeterReading in a row, strictly later each (so no key repeats in a batch).
class Batch {
 public:
  Batch(const LoadArgs& a, SPIPlanPtr plan, const std::unordered_map<std::string, std::string>& ids)
      : args_(a), plan_(plan), ids_(ids) {
    memory_ = geoetl::pg::pg_guard([] {
      return AllocSetContextCreate(CurrentMemoryContext, "geoetl espi batch",
                                   ALLOCSET_DEFAULT_SIZES);
    });
  }

  void add(const geoetl::EspiReading& r) {
    if (!start_.empty() && (r.start <= start_.back() || r.usage_point != usage_point_ ||
                            r.reading_type != reading_type_ || r.flow != flow_ || r.unit != unit_ ||
                            r.currency != currency_))
      flush();
    if (start_.empty()) {
      usage_point_ = r.usage_point;
      reading_type_ = r.reading_type;
      flow_ = r.flow;
      uom_ = r.uom;
      unit_ = r.unit;
      currency_ = r.currency;
    }
    start_.push_back(r.start);
    duration_.push_back(r.duration);
    local_.push_back(r.local_time ? geoetl::espi_local_seconds(*r.local_time, r.start) : 0);
    has_local_.push_back(r.local_time.has_value());
    value_.push_back(r.value);
    cost_.push_back(r.cost.value_or(0));
    has_cost_.push_back(r.cost.has_value());
    quality_.push_back(static_cast<int16>(r.quality.value_or(0)));
    has_quality_.push_back(r.quality.has_value());
    updated_.push_back(r.updated.value_or(args_.updated));
    if (start_.size() >= kBatchRows) flush();
  }

  // Inserts what is held (under call_core).
  void flush() {
    if (start_.empty()) return;
    geoetl::pg::pg_guard([&] { execute(); });
    readings_ += static_cast<int64>(start_.size());
    for (auto* v : {&start_, &duration_, &local_, &updated_}) v->clear();
    for (auto* v : {&has_local_, &has_cost_, &has_quality_}) v->clear();
    value_.clear();
    cost_.clear();
    quality_.clear();
  }

  int64 readings() const { return readings_; }
  int64 loaded() const { return loaded_; }

 private:
  // Under pg_guard.
  void execute() {
    MemoryContext old = MemoryContextSwitchTo(memory_);
    const int n = static_cast<int>(start_.size());
    Datum* starts = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    Datum* durations = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    Interval* intervals = static_cast<Interval*>(palloc(sizeof(Interval) * n));
    Datum* locals = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    bool* local_nulls = static_cast<bool*>(palloc(sizeof(bool) * n));
    Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    Datum* costs = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    bool* cost_nulls = static_cast<bool*>(palloc(sizeof(bool) * n));
    Datum* qualities = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    bool* quality_nulls = static_cast<bool*>(palloc(sizeof(bool) * n));
    Datum* updateds = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    for (int i = 0; i < n; i++) {
      starts[i] = TimestampTzGetDatum(pg_time(start_[i]));
      intervals[i].time = duration_[i] * USECS_PER_SEC;
      intervals[i].day = 0;
      intervals[i].month = 0;
      durations[i] = IntervalPGetDatum(&intervals[i]);
      locals[i] = TimestampGetDatum(pg_time(local_[i]));
      local_nulls[i] = !has_local_[i];
      values[i] = Float8GetDatum(value_[i]);
      costs[i] = Float8GetDatum(cost_[i]);
      cost_nulls[i] = !has_cost_[i];
      qualities[i] = Int16GetDatum(quality_[i]);
      quality_nulls[i] = !has_quality_[i];
      updateds[i] = TimestampTzGetDatum(pg_time(updated_[i]));
    }
    const auto known = ids_.find(usage_point_);
    const std::string& up = known != ids_.end() ? known->second : usage_point_;
    const std::string rt = id_of(reading_type_, "ReadingType");
    Datum a[kArgs];
    char nulls[kArgs];
    for (char& c : nulls) c = ' ';
    a[0] = Int64GetDatum(args_.feed_id);
    if (!args_.has_feed) nulls[0] = 'n';
    a[1] = CStringGetTextDatum(args_.project_id.c_str());
    a[2] = CStringGetTextDatum(up.c_str());
    a[3] = CStringGetTextDatum(rt.c_str());
    a[4] = Int16GetDatum(static_cast<int16>(flow_));
    if (flow_ == 0) nulls[4] = 'n';
    a[5] = Int32GetDatum(uom_);
    a[6] = CStringGetTextDatum(unit_.c_str());
    a[7] = CStringGetTextDatum(currency_.c_str());
    if (currency_.empty()) nulls[7] = 'n';
    a[8] = Int32GetDatum(args_.run);
    a[9] = PointerGetDatum(array(starts, nullptr, n, TIMESTAMPTZOID, 8, true, TYPALIGN_DOUBLE));
    a[10] = PointerGetDatum(
        array(durations, nullptr, n, INTERVALOID, sizeof(Interval), false, TYPALIGN_DOUBLE));
    a[11] = PointerGetDatum(array(locals, local_nulls, n, TIMESTAMPOID, 8, true, TYPALIGN_DOUBLE));
    a[12] = PointerGetDatum(array(values, nullptr, n, FLOAT8OID, 8, true, TYPALIGN_DOUBLE));
    a[13] = PointerGetDatum(array(costs, cost_nulls, n, FLOAT8OID, 8, true, TYPALIGN_DOUBLE));
    a[14] = PointerGetDatum(array(qualities, quality_nulls, n, INT2OID, 2, true, TYPALIGN_SHORT));
    a[15] = PointerGetDatum(array(updateds, nullptr, n, TIMESTAMPTZOID, 8, true, TYPALIGN_DOUBLE));
    MemoryContextSwitchTo(old);
    const int rc = SPI_execute_plan(plan_, a, nulls, false, 0);
    if (rc != SPI_OK_INSERT)
      ereport(ERROR,
              (errcode(ERRCODE_INTERNAL_ERROR),
               errmsg("geoetl: loading ESPI readings failed: %s", SPI_result_code_string(rc))));
    loaded_ += static_cast<int64>(SPI_processed);
    MemoryContextReset(memory_);
  }

  static ArrayType* array(Datum* items, bool* nulls, int n, Oid type, int len, bool byval,
                          char align) {
    int dims[1] = {n};
    int lbs[1] = {1};
    return construct_md_array(items, nulls, 1, dims, lbs, type, len, byval, align);
  }

  // The short id in an href ("UsagePoint/5" -> "5"), else the whole href.
  static std::string id_of(const std::string& href, const char* collection) {
    const std::string id = geoetl::espi_resource_id(href, collection);
    return id.empty() ? href : id;
  }

  const LoadArgs& args_;
  SPIPlanPtr plan_;
  const std::unordered_map<std::string, std::string>& ids_;  // usage point href -> id
  MemoryContext memory_;
  std::string usage_point_, reading_type_, unit_, currency_;
  int flow_ = 0, uom_ = 0;
  std::vector<int64> start_, duration_, local_, updated_;
  std::vector<bool> has_local_, has_cost_, has_quality_;
  std::vector<double> value_, cost_;
  std::vector<int16> quality_;
  int64 readings_ = 0, loaded_ = 0;
};

void add_key(StringInfo buf, const char* key, bool first = false) {
  if (!first) appendStringInfoString(buf, ", ");
  escape_json(buf, key);
  appendStringInfoString(buf, ": ");
}

void add_string(StringInfo buf, const char* key, const std::string& value) {
  add_key(buf, key);
  escape_json(buf, value.c_str());
}

std::string rule_hex(uint32_t rule) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08X", rule);
  return hex;
}

// The summary as JSON (under pg_guard).
char* summary_json(const geoetl::EspiSummary& s,
                   const std::unordered_map<std::string, std::string>& ids,
                   const std::string& sha256, uint64_t bytes, int64 loaded) {
  StringInfoData b;
  initStringInfo(&b);
  appendStringInfoString(&b, "{\"sha256\": ");
  escape_json(&b, sha256.c_str());
  appendStringInfo(&b, ", \"bytes\": %llu, \"readings\": %lld, \"loaded\": %lld",
                   static_cast<unsigned long long>(bytes), static_cast<long long>(s.readings),
                   static_cast<long long>(loaded));
  if (s.min_start) {
    add_string(&b, "data_from", geoetl::espi_iso_time(*s.min_start));
    add_string(&b, "data_to", geoetl::espi_iso_time(*s.max_end));
  }
  add_key(&b, "usage_points");
  appendStringInfoChar(&b, '[');
  for (size_t i = 0; i < s.usage_points.size(); i++) {
    const geoetl::EspiUsagePoint& u = s.usage_points[i];
    appendStringInfoString(&b, i > 0 ? ", {" : "{");
    add_key(&b, "usage_point", true);
    escape_json(&b, ids.at(u.href).c_str());
    add_string(&b, "href", u.href);
    appendStringInfo(&b, ", \"kind\": %d, \"readings\": %lld", u.kind,
                     static_cast<long long>(u.readings));
    if (u.local_time) {
      appendStringInfo(&b, ", \"tz_offset\": %d, \"dst_offset\": %d", u.local_time->tz_offset,
                       u.local_time->dst_offset);
      add_string(&b, "dst_start_rule", rule_hex(u.local_time->dst_start_rule));
      add_string(&b, "dst_end_rule", rule_hex(u.local_time->dst_end_rule));
    }
    appendStringInfoChar(&b, '}');
  }
  appendStringInfoChar(&b, ']');
  add_key(&b, "warnings");
  appendStringInfoChar(&b, '[');
  for (size_t i = 0; i < s.warnings.size(); i++) {
    appendStringInfoString(&b, i > 0 ? ", {" : "{");
    add_key(&b, "entry", true);
    escape_json(&b, s.warnings[i].entry_id.c_str());
    add_string(&b, "message", s.warnings[i].message);
    appendStringInfoChar(&b, '}');
  }
  appendStringInfo(&b, "], \"warnings_left_out\": %lld}",
                   static_cast<long long>(s.warnings_left_out));
  return b.data;
}

bool regular_file(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(geoetl_espi_load);
Datum geoetl_espi_load(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo);
  LoadArgs a;
  a.key = args.text(0, "key");
  a.has_feed = !args.is_null(1);
  if (a.has_feed) a.feed_id = args.int8(1, "feed_id");
  a.project_id = args.text(2, "project_id");
  a.run = args.int4(3, "run");
  a.updated = DatumGetTimestampTz(args.datum(4, "updated")) / USECS_PER_SEC + kPgEpochShift;
  char* json = geoetl::pg::call_core([&] {
    const std::unique_ptr<geoetl::Store> store = geoetl::pg::current_store();
    geoetl::check_store_key(a.key);
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    std::string path = store->local_copy(a.key);
    std::string fetched;  // a copy of an object that has no local one, removed at the end
    if (!regular_file(path)) {
      if (!store->size_of(a.key))
        throw geoetl::Error(geoetl::ErrorKind::not_found, "\"" + a.key + "\" is not in the store");
      std::error_code ec;
      std::filesystem::create_directories(store->staging_dir(), ec);
      fetched = path = geoetl::staged_file_name(*store, a.key);
      store->get(a.key, path, cancel);
    }
    try {
      const std::string sha256 = geoetl::sha256_file(path);
      struct stat st;
      const uint64_t bytes = stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
      const SPIPlanPtr plan = geoetl::pg::pg_guard([] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "geoetl: SPI_connect failed");
        SPIPlanPtr p = SPI_prepare(kInsert, kArgs, const_cast<Oid*>(kArgTypes));
        if (p == nullptr)
          ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                          errmsg("geoetl: cannot prepare the load of ESPI readings: %s",
                                 SPI_result_code_string(SPI_result))));
        return p;
      });
      std::unordered_map<std::string, std::string> ids;
      Batch batch(a, plan, ids);
      const geoetl::EspiSummary s = geoetl::parse_espi_file(
          path, [&](const geoetl::EspiReading& r) { batch.add(r); }, cancel,
          [&](const geoetl::EspiSummary& checked) { ids = geoetl::espi_usage_point_ids(checked); });
      batch.flush();
      geoetl::pg::pg_guard([] { SPI_finish(); });
      if (!fetched.empty()) unlink(fetched.c_str());
      return geoetl::pg::pg_guard(
          [&] { return summary_json(s, ids, sha256, bytes, batch.loaded()); });
    } catch (...) {
      if (!fetched.empty()) unlink(fetched.c_str());
      throw;
    }
  });
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

}  // extern "C"
