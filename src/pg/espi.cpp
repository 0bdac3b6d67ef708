// Green Button (ESPI) feeds from SQL (src/sql/86_espi_fetch.sql):
//  - geoetl._espi_fetch: one request of a feed into the store's raw archive, its URL and
//    credentials read here (never passed in, never returned), kept only when the answer holds a
//    reading that ends after `after`; the stored object follows the transaction.
//  - geoetl._espi_load (espi_load.cpp): one raw file's readings into geoetl.energy_reading.
// The secrets are read as the bootstrap superuser (geoetl.secret is for superusers only) and go
// nowhere but into the request to the feed's own URL.
extern "C" {
#include "postgres.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

#include <cstring>
#include <string>

#include "access.h"
#include "args.h"
#include "as_role.h"
#include "base/error.h"
#include "boundary.h"
#include "espi/espi.h"
#include "espi/request.h"
#include "fetch.h"
#include "result_row.h"
#include "settings.h"
#include "store_txn.h"
#include "transfer/store_fetch.h"

namespace {

// Where a feed is fetched from, and with what.
struct EspiFeedAccess {
  std::string url, server_ca, token, client_cert, client_key;
  std::string raw_prefix;  // its raw files' keys: espi/raw/<project-id>_<usage-point-id>_
};

// Runs under pg_guard, inside SPI: `v` copied out of SPI's memory.
char* copy_out(const char* v) {
  char* copy = static_cast<char*>(SPI_palloc(strlen(v) + 1));
  strcpy(copy, v);
  return copy;
}

EspiFeedAccess espi_feed_access(int64 feed_id) {
  using geoetl::Error;
  using geoetl::ErrorKind;
  EspiFeedAccess a;
  char* values[7] = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  geoetl::pg::pg_guard([&] {
    // geoetl.secret is for superusers only: read as the bootstrap superuser, like the others
    geoetl::pg::run_as_role(BOOTSTRAP_SUPERUSERID, 0, [&] {
      if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "geoetl: SPI_connect failed");
      // names built here and every operator named with its schema: the caller's search_path
      // may hold its own (as a superuser, they would run with a superuser's rights)
      const std::string id = std::to_string(feed_id);
      Oid types[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
      Datum args[4] = {Int64GetDatum(feed_id), CStringGetTextDatum(("espi_token:" + id).c_str()),
                       CStringGetTextDatum(("espi_client_cert:" + id).c_str()),
                       CStringGetTextDatum(("espi_client_key:" + id).c_str())};
      if (SPI_execute_with_args(
              "SELECT f.url, f.server_ca, t.value, c.value, k.value, f.project_id, f.usage_point "
              "FROM geoetl.espi_feed f "
              "LEFT JOIN geoetl.secret t ON t.name OPERATOR(pg_catalog.=) $2 "
              "LEFT JOIN geoetl.secret c ON c.name OPERATOR(pg_catalog.=) $3 "
              "LEFT JOIN geoetl.secret k ON k.name OPERATOR(pg_catalog.=) $4 "
              "WHERE f.feed_id OPERATOR(pg_catalog.=) $1",
              4, types, args, nullptr, true, 1) != SPI_OK_SELECT)
        elog(ERROR, "geoetl: cannot read geoetl.espi_feed");
      if (SPI_processed == 1)
        for (int c = 0; c < 7; c++) {
          const char* v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, c + 1);
          if (v != nullptr) values[c] = copy_out(v);
        }
      SPI_finish();
    });
  });
  if (values[0] == nullptr)
    throw Error(ErrorKind::not_found, "ESPI feed " + std::to_string(feed_id) + " does not exist");
  a.url = values[0];
  if (values[1] != nullptr) a.server_ca = values[1];
  if (values[2] != nullptr) a.token = values[2];
  if (values[3] != nullptr) a.client_cert = values[3];
  if (values[4] != nullptr) a.client_key = values[4];
  a.raw_prefix = std::string("espi/raw/") + values[5] + "_" + values[6] + "_";
  return a;
}

int64 epoch_of(TimestampTz t) {
  return t / USECS_PER_SEC + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

}  // namespace

extern "C" {

// _espi_fetch(feed_id, from_ts, to_ts, key, after) -> (state, url, uri, bytes, sha256, readings,
// data_from, data_to): state is "stored", or "no new data" (nothing was put in the store)
PG_FUNCTION_INFO_V1(geoetl_espi_fetch);
Datum geoetl_espi_fetch(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo);
  const int64 feed_id = args.int8(0, "feed_id");
  const int64 from = epoch_of(DatumGetTimestampTz(args.datum(1, "from_ts")));
  const int64 to = epoch_of(DatumGetTimestampTz(args.datum(2, "to_ts")));
  const std::string key = args.text(3, "key");
  const bool any_reading = args.is_null(4);
  const int64 after = any_reading ? 0 : epoch_of(DatumGetTimestampTz(args.datum(4, "after")));
  const TupleDesc desc = geoetl::pg::composite_result_type(fcinfo, "_espi_fetch");
  geoetl::StoreFetched f;
  geoetl::EspiSummary summary;
  std::string url;
  geoetl::pg::call_core([&] {
    geoetl::pg::require_admin("fetching ESPI feeds");
    const EspiFeedAccess feed = espi_feed_access(feed_id);
    // what a feed fetches goes to its own raw files only
    if (key.compare(0, feed.raw_prefix.size(), feed.raw_prefix) != 0 ||
        key.size() < feed.raw_prefix.size() + 5 ||
        key.find_first_not_of("0123456789", feed.raw_prefix.size()) != key.size() - 4 ||
        key.compare(key.size() - 4, 4, ".xml") != 0)
      throw geoetl::Error(
          geoetl::ErrorKind::invalid_argument,
          "\"" + key + "\" is not a raw file of ESPI feed " + std::to_string(feed_id), {},
          "Its raw files are " + feed.raw_prefix + "<run>.xml.");
    url = geoetl::espi_request_url(feed.url, from, to);
    geoetl::HttpOptions o = geoetl::pg::fetch_options(url);
    o.max_body_bytes = static_cast<uint64_t>(geoetl::pg::download_max_mb()) << 20;
    if (!feed.token.empty()) o.headers.emplace_back("Authorization", "Bearer " + feed.token);
    o.client_cert_pem = feed.client_cert;
    o.client_key_pem = feed.client_key;
    o.ca_pem = feed.server_ca;
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    // the first pass alone: the whole file checked, and what it holds
    const auto accept = [&](const std::string& staged) {
      try {
        summary = geoetl::parse_espi_file(staged, {}, cancel);
      } catch (const geoetl::Error& e) {  // the answer, named by its URL, not the staged file
        std::string message = e.what();
        const size_t at = message.find(staged);
        if (at != std::string::npos) message.replace(at, staged.size(), url);
        throw geoetl::Error(e.kind(), message, e.detail(), e.hint());
      }
      return summary.max_end && (any_reading || *summary.max_end > after);
    };
    try {
      geoetl::pg::put_in_transaction(geoetl::pg::current_store(), [&](geoetl::Store& store) {
        f = geoetl::store_fetch(store, url, key, "xml", o, cancel, accept);
        return std::move(f.undo);
      });
    } catch (const geoetl::Error& e) {
      // a 401 or 403 (not a URL the allow-list refused)
      if ((e.detail() != "the server answered 401" && e.detail() != "the server answered 403") ||
          feed.token.empty())
        throw;
      throw geoetl::Error(
          e.kind(),
          "the ESPI API refused feed " + std::to_string(feed_id) + "'s access token (or its scope)",
          e.detail(),
          "Set a fresh OAuth 2.0 access token with "
          "geoetl.set_espi_token(feed_id, token).");
    }
  });
  geoetl::pg::ResultRow row(desc);
  row.set("state", TEXTOID, CStringGetTextDatum(f.uri.empty() ? "no new data" : "stored"));
  row.set("url", TEXTOID, CStringGetTextDatum(url.c_str()));
  if (f.uri.empty()) {
    row.set_null("uri", TEXTOID);
  } else {
    row.set("uri", TEXTOID, CStringGetTextDatum(f.uri.c_str()));
  }
  row.set("bytes", INT8OID, Int64GetDatum(static_cast<int64>(f.bytes)));
  row.set("sha256", TEXTOID, CStringGetTextDatum(f.sha256.c_str()));
  row.set("readings", INT8OID, Int64GetDatum(summary.readings));
  if (summary.min_start) {
    row.set("data_from", TIMESTAMPTZOID,
            TimestampTzGetDatum(time_t_to_timestamptz(*summary.min_start)));
    row.set("data_to", TIMESTAMPTZOID,
            TimestampTzGetDatum(time_t_to_timestamptz(*summary.max_end)));
  } else {
    row.set_null("data_from", TIMESTAMPTZOID);
    row.set_null("data_to", TIMESTAMPTZOID);
  }
  PG_RETURN_DATUM(row.datum());
}

}  // extern "C"
