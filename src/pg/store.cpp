// The store and LAADS DAAC from SQL: geoetl.store_list(), geoetl._store_sweep() (files that
// writers who died left behind), geoetl._store_fetch() (a checked download into the store, taken
// back when the (sub)transaction that made it fails) and geoetl._laads_get() (a LAADS request
// with the bearer token, which never leaves the C++ side).
extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
}

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "access.h"
#include "args.h"
#include "boundary.h"
#include "transfer/store_fetch.h"
#include "base/error.h"
#include "fetch.h"
#include "result_row.h"
#include "settings.h"
#include "store_txn.h"

namespace {

// Options for a LAADS request: the bearer token when one is set (and the URL is LAADS DAAC's;
// http_get drops it if a redirect leaves that origin).
geoetl::HttpOptions laads_options(const std::string& url) {
  geoetl::HttpOptions o = geoetl::pg::fetch_options(url);
  const std::string base = geoetl::pg::laads_base_url() + "/";
  if (url.compare(0, base.size(), base) != 0)  // the token goes to LAADS DAAC only
    throw geoetl::Error(geoetl::ErrorKind::permission_denied,
                        "\"" + url + "\" is not below geoetl.laads_url");
  const std::string token = geoetl::pg::laads_bearer_token();
  if (!token.empty()) o.headers.emplace_back("Authorization", "Bearer " + token);
  return o;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(geoetl_store_list);
Datum geoetl_store_list(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  const geoetl::pg::SqlArgs args(fcinfo);
  if (args.is_null(0)) return (Datum)0;
  const char* prefix = args.text(0, "prefix");
  auto* rsi = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  geoetl::pg::call_core([&] {
    geoetl::pg::require_admin("listing the store");
    const std::unique_ptr<geoetl::Store> store = geoetl::pg::current_store();
    for (const geoetl::StoreEntry& e : store->list(prefix)) {
      const std::string uri = store->uri(e.key);
      geoetl::pg::pg_guard([&] {
        geoetl::pg::ResultRow row(rsi->setDesc);
        row.set("key", TEXTOID, CStringGetTextDatum(e.key.c_str()));
        row.set("size", INT8OID, Int64GetDatum(static_cast<int64>(e.size)));
        row.set("uri", TEXTOID, CStringGetTextDatum(uri.c_str()));
        row.put(rsi);
      });
    }
  });
  return (Datum)0;
}

PG_FUNCTION_INFO_V1(geoetl_store_sweep);
Datum geoetl_store_sweep(PG_FUNCTION_ARGS) {
  const int64 min_age = geoetl::pg::SqlArgs(fcinfo).int8(0, "min_age_seconds");
  size_t removed = 0;
  geoetl::pg::call_core([&] {
    geoetl::pg::require_admin("sweeping the store");
    const std::unique_ptr<geoetl::Store> store = geoetl::pg::current_store();
    // staging_dir() is <the store's local folder>/.staging
    // never younger than the longest a download may run (a writer on another host, whose pid
    // says nothing here, may still be writing)
    const int64 floor = geoetl::longest_request_s(geoetl::pg::http_options());
    removed =
        geoetl::sweep_leftovers(std::filesystem::path(store->staging_dir()).parent_path().string(),
                                std::max<int64>(min_age, floor));
  });
  PG_RETURN_INT64(static_cast<int64>(removed));
}

PG_FUNCTION_INFO_V1(geoetl_store_fetch);
Datum geoetl_store_fetch(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  const geoetl::pg::SqlArgs args(fcinfo);
  const char* url = args.text(0, "url");
  const char* key = args.text(1, "key");
  const char* kind = args.text(2, "kind");
  const bool laads = args.boolean(3, "laads");
  auto* rsi = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  geoetl::pg::call_core([&] {
    geoetl::HttpOptions o = laads ? laads_options(url) : geoetl::pg::fetch_options(url);
    o.max_body_bytes = static_cast<uint64_t>(geoetl::pg::download_max_mb()) << 20;  // the disk
    geoetl::StoreFetched f;
    geoetl::pg::put_in_transaction(geoetl::pg::current_store(), [&](geoetl::Store& store) {
      f = geoetl::store_fetch(store, url, key, kind, o, geoetl::pg::interrupt_token());
      return std::move(f.undo);
    });
    geoetl::pg::pg_guard([&] {
      geoetl::pg::ResultRow row(rsi->setDesc);
      row.set("uri", TEXTOID, CStringGetTextDatum(f.uri.c_str()));
      row.set("bytes", INT8OID, Int64GetDatum(static_cast<int64>(f.bytes)));
      row.set("sha256", TEXTOID, CStringGetTextDatum(f.sha256.c_str()));
      row.set("local_path", TEXTOID, CStringGetTextDatum(f.local_path.c_str()));
      row.put(rsi);
    });
  });
  return (Datum)0;
}

PG_FUNCTION_INFO_V1(geoetl_laads_get);
Datum geoetl_laads_get(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  const char* path = geoetl::pg::SqlArgs(fcinfo).text(0, "path");
  auto* rsi = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  geoetl::pg::call_core([&] {
    const std::string url = geoetl::pg::laads_base_url() + "/" + path;
    geoetl::HttpOptions o = laads_options(url);
    o.max_body_bytes = static_cast<uint64_t>(geoetl::pg::http_max_body_mb()) << 20;
    const geoetl::HttpResponse r = geoetl::http_get(url, o, geoetl::pg::interrupt_token());
    geoetl::pg::pg_guard([&] {
      geoetl::pg::ResultRow row(rsi->setDesc);
      row.set("status", INT4OID, Int32GetDatum(static_cast<int32>(r.status)));
      row.set("body", BYTEAOID, PointerGetDatum(geoetl::pg::bytea_of(r.body)));
      row.put(rsi);
    });
  });
  return (Datum)0;
}

PG_FUNCTION_INFO_V1(geoetl_store_sha256);
Datum geoetl_store_sha256(PG_FUNCTION_ARGS) {
  const char* key = geoetl::pg::SqlArgs(fcinfo).text(0, "key");
  const std::string hash = geoetl::pg::call_core([&] {
    geoetl::pg::require_admin("reading the store");
    const std::unique_ptr<geoetl::Store> store = geoetl::pg::current_store();
    return geoetl::store_sha256(*store, key, geoetl::pg::interrupt_token());
  });
  PG_RETURN_TEXT_P(cstring_to_text(hash.c_str()));
}

}  // extern "C"
