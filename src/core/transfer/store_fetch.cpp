#include "transfer/store_fetch.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "base/error.h"

namespace geoetl {

FileKind file_kind_named(const std::string& name) {
  if (name == "hdf5") return FileKind::hdf5;
  if (name == "tiff") return FileKind::tiff;
  if (name == "json") return FileKind::json;
  if (name == "xml") return FileKind::xml;
  if (name == "any") return FileKind::any;
  throw Error(ErrorKind::invalid_argument, "unknown file kind \"" + name + "\"", {},
              "Use hdf5, tiff, json, xml or any.");
}

std::string staged_file_name(const Store& store, const std::string& key) {
  std::string name = key;
  for (char& c : name)
    if (c == '/') c = '_';
  return store.staging_dir() + "/" + name + "." + std::to_string(getpid());
}

StoreFetched store_fetch(Store& store, const std::string& url, const std::string& key,
                         const std::string& kind, const HttpOptions& options,
                         const CancelToken& cancel, const StagedCheck& accept) {
  check_store_key(key);
  const FileKind expected = file_kind_named(kind);
  const std::string staging = store.staging_dir();
  std::error_code ec;
  std::filesystem::create_directories(staging, ec);
  if (ec) throw Error(ErrorKind::io_error, "cannot create \"" + staging + "\"", ec.message());
  const std::string staged = staged_file_name(store, key);
  const Downloaded d = download_file(url, staged, expected, options, cancel);
  StoreFetched fetched;
  fetched.bytes = d.bytes;
  fetched.sha256 = d.sha256;
  try {  // nothing staged stays behind
    if (accept && !accept(staged)) {
      unlink(staged.c_str());
      return fetched;
    }
    fetched.uri = store.uri(key);
    fetched.local_path = store.local_copy(key);
    fetched.undo = adopt_undoable(store, staged, key, cancel);
  } catch (...) {
    unlink(staged.c_str());
    throw;
  }
  return fetched;
}

}  // namespace geoetl
