// The glue of publishing a data package version (src/sql/89_package_publish.sql): staged clips
// copied to their published keys, objects removed and the descriptor written, each change
// following the transaction (store_txn.h), so that a failed finalising job leaves the previous
// version as it was. Only the extension's owner may call them.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

#include <string>

#include "args.h"
#include "boundary.h"
#include "fetch.h"
#include "package.h"
#include "package/promote.h"
#include "store_txn.h"

namespace {

Datum published_jsonb(const geoetl::PublishedFile& p) {
  char* json = geoetl::pg::call_core(
      [&] { return geoetl::pg::pg_guard([&] { return geoetl::pg::published_json(p); }); });
  return DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
}

}  // namespace

extern "C" {

// _package_promote(staged_key, key, sha256) -> {"uri", "bytes", "sha256", "items"}
PG_FUNCTION_INFO_V1(geoetl_package_promote);
Datum geoetl_package_promote(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo);
  const std::string from = args.text(0, "staged_key");
  const std::string to = args.text(1, "key");
  const std::string sha256 = args.text(2, "sha256");
  geoetl::PublishedFile p;
  geoetl::pg::call_core([&] {
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    geoetl::pg::put_in_transaction(geoetl::pg::current_store(), [&](geoetl::Store& store) {
      p = geoetl::promote_file(store, from, to, sha256, cancel);
      return std::move(p.undo);
    });
  });
  PG_RETURN_DATUM(published_jsonb(p));
}

// _package_put_text(key, text) -> {"uri", "bytes", "sha256", "items"}
PG_FUNCTION_INFO_V1(geoetl_package_put_text);
Datum geoetl_package_put_text(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo);
  const std::string key = args.text(0, "key");
  const std::string text = args.text(1, "text");
  geoetl::PublishedFile p;
  geoetl::pg::call_core([&] {
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    geoetl::pg::put_in_transaction(geoetl::pg::current_store(), [&](geoetl::Store& store) {
      p = geoetl::publish_text(store, key, text, cancel);
      return std::move(p.undo);
    });
  });
  PG_RETURN_DATUM(published_jsonb(p));
}

// _package_remove(key) -> whether the object was there
PG_FUNCTION_INFO_V1(geoetl_package_remove);
Datum geoetl_package_remove(PG_FUNCTION_ARGS) {
  const std::string key = geoetl::pg::SqlArgs(fcinfo).text(0, "key");
  bool found = false;
  geoetl::pg::call_core([&] {
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    geoetl::pg::put_in_transaction(geoetl::pg::current_store(), [&](geoetl::Store& store) {
      geoetl::check_store_key(key);
      geoetl::AdoptUndo undo = geoetl::remove_undoable(store, key, cancel);
      found = !undo.previous.empty();
      return undo;
    });
  });
  PG_RETURN_BOOL(found);
}

}  // extern "C"
