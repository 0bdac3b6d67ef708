// geoetl._espi_load(key, feed_id, project_id, run, updated): one raw ESPI file of the store into
// geoetl.energy_reading, as the caller (its privileges apply), in batches of one MeterReading's
// readings: a batch that meets no stored reading goes in as COPY would put it (bulk_insert.h),
// another by INSERT ... ON CONFLICT, so that a reading already there is replaced only by a newer
// one (its IntervalBlock entry's atom:updated, else `updated`). The parser checks the whole file
// before it delivers a reading, and the caller's transaction holds every batch: a bad file loads
// nothing. Returns what the file held, as JSON (see 87_espi_parse.sql).
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
#include "utils/lsyscache.h"
#include "catalog/namespace.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <system_error>
#include <string>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "base/error.h"
#include "boundary.h"
#include "bulk_insert.h"
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
// A batch whose readings all start after the newest stored one of their usage point and reading
// type cannot meet a stored reading: it is inserted plainly (2.4 times as fast as with ON
// CONFLICT, measured), any other batch with ON CONFLICT. A lock per usage point, held to the end
// of the transaction, keeps other loaders from inserting between the look and the insert.
#define GEOETL_ESPI_INSERT                                                                   \
  "INSERT INTO geoetl.energy_reading AS r (feed_id, project_id, usage_point, reading_type, " \
  "flow, uom, unit, currency, run, start_at, duration, local_start, value, cost, quality, "  \
  "updated) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, u.* "                                 \
  "FROM ROWS FROM (pg_catalog.unnest($10), pg_catalog.unnest($11), pg_catalog.unnest($12), " \
  "pg_catalog.unnest($13), pg_catalog.unnest($14), pg_catalog.unnest($15), "                 \
  "pg_catalog.unnest($16)) u "
constexpr const char* kInsert = GEOETL_ESPI_INSERT;
constexpr const char* kUpsert = GEOETL_ESPI_INSERT
    "ON CONFLICT (project_id, usage_point, reading_type, start_at, duration) DO UPDATE SET "
    "feed_id = EXCLUDED.feed_id, flow = EXCLUDED.flow, uom = EXCLUDED.uom, unit = EXCLUDED.unit, "
    "currency = EXCLUDED.currency, run = EXCLUDED.run, local_start = EXCLUDED.local_start, "
    "value = EXCLUDED.value, cost = EXCLUDED.cost, quality = EXCLUDED.quality, "
    "updated = EXCLUDED.updated WHERE EXCLUDED.updated OPERATOR(pg_catalog.>) r.updated";
#undef GEOETL_ESPI_INSERT
constexpr const char* kNewest =
    "SELECT pg_catalog.max(start_at) FROM geoetl.energy_reading WHERE project_id "
    "OPERATOR(pg_catalog.=) $1 AND usage_point OPERATOR(pg_catalog.=) $2 AND reading_type "
    "OPERATOR(pg_catalog.=) $3";
constexpr const char* kLock =
    "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext($1), pg_catalog.hashtext($2))";
const Oid kKeyTypes[3] = {TEXTOID, TEXTOID, TEXTOID};
constexpr int kArgs = 16;
// The columns of $1 .. $16, for the bulk insert.
const char* const kColumns[kArgs] = {
    "feed_id", "project_id", "usage_point", "reading_type", "flow",  "uom",  "unit",    "currency",
    "run",     "start_at",   "duration",    "local_start",  "value", "cost", "quality", "updated"};
const Oid kArgTypes[kArgs] = {INT8OID,          TEXTOID,
                              TEXTOID,          TEXTOID,
                              INT2OID,          INT4OID,
                              TEXTOID,          TEXTOID,
                              INT4OID,          TIMESTAMPTZARRAYOID,
                              INTERVALARRAYOID, TIMESTAMPARRAYOID,
                              FLOAT8ARRAYOID,   FLOAT8ARRAYOID,
                              INT2ARRAYOID,     TIMESTAMPTZARRAYOID};

struct Plans {
  SPIPlanPtr insert, upsert, newest, lock;
};

// Under pg_guard, inside SPI.
SPIPlanPtr prepare(const char* query, int nargs, const Oid* types) {
  SPIPlanPtr p = SPI_prepare(query, nargs, const_cast<Oid*>(types));
  if (p == nullptr)
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                    errmsg("geoetl: cannot prepare the load of ESPI readings: %s",
                           SPI_result_code_string(SPI_result))));
  return p;
}

// The short ids of a file's usage points and reading types, by self href.
struct FileIds {
  std::unordered_map<std::string, std::string> usage_points, reading_types;
};

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
  // bulk: where batches that meet no stored reading go (nullptr: they go by SQL too)
  Batch(const LoadArgs& a, const Plans& plans, const FileIds& ids, geoetl::pg::BulkInsert* bulk)
      : args_(a), plans_(plans), ids_(ids), bulk_(bulk) {
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
    // the C++ strings made here, outside pg_guard (an ereport would skip their destructors)
    const std::string& up = id_in(ids_.usage_points, usage_point_);
    const std::string& rt = id_in(ids_.reading_types, reading_type_);
    const std::string type = up + '\n' + rt;
    auto newest = newest_.find(type);
    if (newest == newest_.end()) newest = newest_.emplace(type, std::nullopt).first;
    geoetl::pg::pg_guard([&] { execute(up, rt, &newest->second); });
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
  void execute(const std::string& up, const std::string& rt, std::optional<TimestampTz>* newest) {
    const bool after = plain(up, rt, newest);
    MemoryContext old = MemoryContextSwitchTo(memory_);
    Datum a[kArgs];
    bool nulls[kArgs] = {};
    a[0] = Int64GetDatum(args_.feed_id);
    nulls[0] = !args_.has_feed;
    a[1] = CStringGetTextDatum(args_.project_id.c_str());
    a[2] = CStringGetTextDatum(up.c_str());
    a[3] = CStringGetTextDatum(rt.c_str());
    a[4] = Int16GetDatum(static_cast<int16>(flow_));
    nulls[4] = flow_ == 0;
    a[5] = Int32GetDatum(uom_);
    a[6] = CStringGetTextDatum(unit_.c_str());
    a[7] = CStringGetTextDatum(currency_.c_str());
    nulls[7] = currency_.empty();
    a[8] = Int32GetDatum(args_.run);
    const int n = static_cast<int>(start_.size());
    Interval* intervals = static_cast<Interval*>(palloc(sizeof(Interval) * n));
    for (int i = 0; i < n; i++) {
      intervals[i].time = duration_[i] * USECS_PER_SEC;
      intervals[i].day = 0;
      intervals[i].month = 0;
    }
    if (after && bulk_ != nullptr) {  // straight into the table, as COPY would
      for (int i = 0; i < n; i++) {
        Datum* v = bulk_->values();
        bool* isnull = bulk_->nulls();
        for (int c = 0; c < 9; c++) {
          v[c] = a[c];
          isnull[c] = nulls[c];
        }
        v[9] = TimestampTzGetDatum(pg_time(start_[i]));
        isnull[9] = false;
        v[10] = IntervalPGetDatum(&intervals[i]);
        isnull[10] = false;
        v[11] = TimestampGetDatum(pg_time(local_[i]));
        isnull[11] = !has_local_[i];
        v[12] = Float8GetDatum(value_[i]);
        isnull[12] = false;
        v[13] = Float8GetDatum(cost_[i]);
        isnull[13] = !has_cost_[i];
        v[14] = Int16GetDatum(quality_[i]);
        isnull[14] = !has_quality_[i];
        v[15] = TimestampTzGetDatum(pg_time(updated_[i]));
        isnull[15] = false;
        bulk_->add();
      }
      bulk_->flush();  // before this batch's memory goes
      loaded_ += n;
    } else {
      a[9] = column(n, TIMESTAMPTZOID,
                    [&](int i, bool*) { return TimestampTzGetDatum(pg_time(start_[i])); });
      a[10] =
          column(n, INTERVALOID, [&](int i, bool*) { return IntervalPGetDatum(&intervals[i]); });
      a[11] = column(n, TIMESTAMPOID, [&](int i, bool* null) {
        *null = !has_local_[i];
        return TimestampGetDatum(pg_time(local_[i]));
      });
      a[12] = column(n, FLOAT8OID, [&](int i, bool*) { return Float8GetDatum(value_[i]); });
      a[13] = column(n, FLOAT8OID, [&](int i, bool* null) {
        *null = !has_cost_[i];
        return Float8GetDatum(cost_[i]);
      });
      a[14] = column(n, INT2OID, [&](int i, bool* null) {
        *null = !has_quality_[i];
        return Int16GetDatum(quality_[i]);
      });
      a[15] = column(n, TIMESTAMPTZOID,
                     [&](int i, bool*) { return TimestampTzGetDatum(pg_time(updated_[i])); });
      char flags[kArgs];
      for (int c = 0; c < kArgs; c++) flags[c] = c < 9 && nulls[c] ? 'n' : ' ';
      MemoryContextSwitchTo(old);
      const int rc = SPI_execute_plan(after ? plans_.insert : plans_.upsert, a, flags, false, 0);
      if (rc != SPI_OK_INSERT)
        ereport(ERROR,
                (errcode(ERRCODE_INTERNAL_ERROR),
                 errmsg("geoetl: loading ESPI readings failed: %s", SPI_result_code_string(rc))));
      loaded_ += static_cast<int64>(SPI_processed);
    }
    MemoryContextSwitchTo(old);
    MemoryContextReset(memory_);
  }

  // A one-dimensional array of n values of `type` from value(i, &null) (in memory_).
  template <typename F>
  static Datum column(int n, Oid type, F value) {
    Datum* items = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    bool* nulls = static_cast<bool*>(palloc0(sizeof(bool) * n));
    for (int i = 0; i < n; i++) items[i] = value(i, &nulls[i]);
    int16 len;
    bool byval;
    char align;
    get_typlenbyvalalign(type, &len, &byval, &align);
    int dims[1] = {n};
    int lbs[1] = {1};
    return PointerGetDatum(construct_md_array(items, nulls, 1, dims, lbs, type, len, byval, align));
  }

  // Whether the batch starts after the newest stored reading of its usage point and reading
  // type (under pg_guard): the first batch of a reading type looks (the load holds the lock of
  // every usage point of its file); then what this load inserted is the newest.
  bool plain(const std::string& up, const std::string& rt, std::optional<TimestampTz>* newest) {
    if (!*newest) {  // a fresh snapshot (not read-only): what other loads committed meanwhile
      Datum key[3] = {CStringGetTextDatum(args_.project_id.c_str()),
                      CStringGetTextDatum(up.c_str()), CStringGetTextDatum(rt.c_str())};
      if (SPI_execute_plan(plans_.newest, key, nullptr, false, 1) != SPI_OK_SELECT)
        elog(ERROR, "geoetl: cannot read geoetl.energy_reading");
      bool isnull;
      const Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
      *newest = isnull ? INT64_MIN : DatumGetTimestampTz(d);
    }
    const bool after = pg_time(start_.front()) > **newest;
    *newest = std::max(**newest, pg_time(start_.back()));
    return after;
  }

  static const std::string& id_in(const std::unordered_map<std::string, std::string>& ids,
                                  const std::string& href) {
    const auto known = ids.find(href);
    return known != ids.end() ? known->second : href;
  }

  const LoadArgs& args_;
  const Plans& plans_;
  // usage point, newline, reading type -> the newest start stored (known once looked up)
  std::unordered_map<std::string, std::optional<TimestampTz>> newest_;
  const FileIds& ids_;
  geoetl::pg::BulkInsert* bulk_;
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
      Plans plans;
      geoetl::pg::pg_guard([&] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "geoetl: SPI_connect failed");
        plans.insert = prepare(kInsert, kArgs, kArgTypes);
        plans.upsert = prepare(kUpsert, kArgs, kArgTypes);
        plans.newest = prepare(kNewest, 3, kKeyTypes);
        plans.lock = prepare(kLock, 2, kKeyTypes);
      });
      std::optional<geoetl::pg::BulkInsert> bulk;
      geoetl::pg::pg_guard([&] {
        const Oid table = get_relname_relid("energy_reading", get_namespace_oid("geoetl", false));
        if (geoetl::pg::bulk_insertable(table)) bulk.emplace(table, kColumns, kArgs);
      });
      FileIds ids;
      Batch batch(a, plans, ids, bulk ? &*bulk : nullptr);
      // once the file is known good: its ids, and the lock of each of its usage points (in one
      // order, so that two loads never wait for each other), held to the end of the transaction
      const auto checked = [&](const geoetl::EspiSummary& summary) {
        ids.usage_points = geoetl::espi_usage_point_ids(summary);
        ids.reading_types = geoetl::espi_reading_type_ids(summary);
        std::vector<std::string> ups;
        for (const auto& [href, id] : ids.usage_points) ups.push_back(id);
        std::sort(ups.begin(), ups.end());
        const std::string space = "geoetl espi load " + a.project_id;
        geoetl::pg::pg_guard([&] {
          for (const std::string& up : ups) {
            Datum key[2] = {CStringGetTextDatum(space.c_str()), CStringGetTextDatum(up.c_str())};
            if (SPI_execute_plan(plans.lock, key, nullptr, false, 0) < 0)
              elog(ERROR, "geoetl: cannot lock usage point %s", up.c_str());
          }
        });
      };
      const geoetl::EspiSummary s = geoetl::parse_espi_file(
          path, [&](const geoetl::EspiReading& r) { batch.add(r); }, cancel, checked);
      batch.flush();
      geoetl::pg::pg_guard([&] {
        if (bulk) bulk->finish();
        SPI_finish();
      });
      if (!fetched.empty()) unlink(fetched.c_str());
      return geoetl::pg::pg_guard(
          [&] { return summary_json(s, ids.usage_points, sha256, bytes, batch.loaded()); });
    } catch (...) {
      if (!fetched.empty()) unlink(fetched.c_str());
      throw;
    }
  });
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

}  // extern "C"
