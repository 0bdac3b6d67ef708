#include "transfer/store_publish.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "base/error.h"
#include "transfer/download.h"
#include "transfer/store_fetch.h"

namespace geoetl {

PublishedFile publish_file(Store& store, const std::string& key,
                           const std::function<int64_t(const std::string& path)>& write,
                           const CancelToken& cancel) {
  check_store_key(key);
  const std::string staging = store.staging_dir();
  std::error_code ec;
  std::filesystem::create_directories(staging, ec);
  if (ec) throw Error(ErrorKind::io_error, "cannot create \"" + staging + "\"", ec.message());
  const std::string staged =
      staged_file_name(store, key) + std::filesystem::path(key).extension().string();
  PublishedFile published;
  try {  // nothing staged stays behind
    published.items = write(staged);
    cancel.check();
    published.bytes = std::filesystem::file_size(staged, ec);
    if (ec) throw Error(ErrorKind::io_error, "cannot read \"" + staged + "\"", ec.message());
    published.sha256 = sha256_file(staged);
    published.uri = store.uri(key);
    published.undo = adopt_undoable(store, staged, key, cancel);
  } catch (...) {
    unlink(staged.c_str());
    throw;
  }
  return published;
}

}  // namespace geoetl
