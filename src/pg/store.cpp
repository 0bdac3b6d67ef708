// The store and LAADS DAAC from SQL: geoetl.store_list(), geoetl._store_sweep() (files that
// writers who died left behind), geoetl._store_fetch() (a checked download into the store) and
// geoetl._laads_get() (a LAADS request with the bearer token,
// which never leaves the C++ side).
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
}

#include <unistd.h>

#include <filesystem>
#include <string>

#include "access.h"
#include "boundary.h"
#include "download.h"
#include "error.h"
#include "fetch.h"
#include "settings.h"

namespace {

geoetl::FileKind file_kind(const std::string& name) {
  if (name == "hdf5") return geoetl::FileKind::hdf5;
  if (name == "tiff") return geoetl::FileKind::tiff;
  if (name == "json") return geoetl::FileKind::json;
  if (name == "any") return geoetl::FileKind::any;
  throw geoetl::Error(geoetl::ErrorKind::invalid_argument, "unknown file kind \"" + name + "\"", {},
                      "Use hdf5, tiff, json or any.");
}

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

bytea* to_bytea(const std::string& s) {
  auto* b = static_cast<bytea*>(palloc(VARHDRSZ + s.size()));
  SET_VARSIZE(b, VARHDRSZ + s.size());
  memcpy(VARDATA(b), s.data(), s.size());
  return b;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(geoetl_store_list);
Datum geoetl_store_list(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  if (PG_ARGISNULL(0)) return (Datum)0;
  const char* prefix = text_to_cstring(PG_GETARG_TEXT_PP(0));
  auto* rsi = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  geoetl::pg::call_core([&] {
    geoetl::pg::require_admin("listing the store");
    const std::unique_ptr<geoetl::Store> store = geoetl::pg::current_store();
    for (const geoetl::StoreEntry& e : store->list(prefix)) {
      const std::string uri = store->uri(e.key);
      geoetl::pg::pg_guard([&] {
        Datum v[3] = {CStringGetTextDatum(e.key.c_str()), Int64GetDatum(static_cast<int64>(e.size)),
                      CStringGetTextDatum(uri.c_str())};
        bool n[3] = {false, false, false};
        tuplestore_putvalues(rsi->setResult, rsi->setDesc, v, n);
      });
    }
  });
  return (Datum)0;
}

PG_FUNCTION_INFO_V1(geoetl_store_sweep);
Datum geoetl_store_sweep(PG_FUNCTION_ARGS) {
  const int64 min_age = PG_GETARG_INT64(0);
  size_t removed = 0;
  geoetl::pg::call_core([&] {
    geoetl::pg::require_admin("sweeping the store");
    const std::unique_ptr<geoetl::Store> store = geoetl::pg::current_store();
    // staging_dir() is <the store's local folder>/.staging
    removed = geoetl::sweep_leftovers(
        std::filesystem::path(store->staging_dir()).parent_path().string(), min_age);
  });
  PG_RETURN_INT64(static_cast<int64>(removed));
}

PG_FUNCTION_INFO_V1(geoetl_store_fetch);
Datum geoetl_store_fetch(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  const char* url = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const char* key = text_to_cstring(PG_GETARG_TEXT_PP(1));
  const char* kind = text_to_cstring(PG_GETARG_TEXT_PP(2));
  const bool laads = PG_GETARG_BOOL(3);
  auto* rsi = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  geoetl::pg::call_core([&] {
    geoetl::check_store_key(key);
    const geoetl::FileKind expected = file_kind(kind);
    geoetl::HttpOptions o = laads ? laads_options(url) : geoetl::pg::fetch_options(url);
    o.max_body_bytes = static_cast<uint64_t>(geoetl::pg::download_max_mb()) << 20;  // the disk
    const std::unique_ptr<geoetl::Store> store = geoetl::pg::current_store();
    const std::string staging = store->staging_dir();
    std::error_code ec;
    std::filesystem::create_directories(staging, ec);
    if (ec)
      throw geoetl::Error(geoetl::ErrorKind::io_error, "cannot create \"" + staging + "\"",
                          ec.message());
    std::string staged = key;
    for (char& c : staged)
      if (c == '/') c = '_';
    staged = staging + "/" + staged + "." + std::to_string(getpid());
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    const geoetl::Downloaded d = geoetl::download_file(url, staged, expected, o, cancel);
    try {
      store->adopt(staged, key, cancel);
    } catch (...) {
      unlink(staged.c_str());
      throw;
    }
    const std::string uri = store->uri(key);
    const std::string local = store->local_copy(key);
    geoetl::pg::pg_guard([&] {
      Datum v[4] = {CStringGetTextDatum(uri.c_str()), Int64GetDatum(static_cast<int64>(d.bytes)),
                    CStringGetTextDatum(d.sha256.c_str()), CStringGetTextDatum(local.c_str())};
      bool n[4] = {false, false, false, false};
      tuplestore_putvalues(rsi->setResult, rsi->setDesc, v, n);
    });
  });
  return (Datum)0;
}

PG_FUNCTION_INFO_V1(geoetl_laads_get);
Datum geoetl_laads_get(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  const char* path = text_to_cstring(PG_GETARG_TEXT_PP(0));
  auto* rsi = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  geoetl::pg::call_core([&] {
    const std::string url = geoetl::pg::laads_base_url() + "/" + path;
    geoetl::HttpOptions o = laads_options(url);
    o.max_body_bytes = static_cast<uint64_t>(geoetl::pg::http_max_body_mb()) << 20;
    const geoetl::HttpResponse r = geoetl::http_get(url, o, geoetl::pg::interrupt_token());
    geoetl::pg::pg_guard([&] {
      Datum v[2] = {Int32GetDatum(static_cast<int32>(r.status)), PointerGetDatum(to_bytea(r.body))};
      bool n[2] = {false, false};
      tuplestore_putvalues(rsi->setResult, rsi->setDesc, v, n);
    });
  });
  return (Datum)0;
}

PG_FUNCTION_INFO_V1(geoetl_store_sha256);
Datum geoetl_store_sha256(PG_FUNCTION_ARGS) {
  const char* key = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const std::string hash = geoetl::pg::call_core([&] {
    geoetl::pg::require_admin("reading the store");
    const std::unique_ptr<geoetl::Store> store = geoetl::pg::current_store();
    return geoetl::store_sha256(*store, key, geoetl::pg::interrupt_token());
  });
  PG_RETURN_TEXT_P(cstring_to_text(hash.c_str()));
}

}  // extern "C"
