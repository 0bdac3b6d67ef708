// A checked download into the store (SQL: geoetl._store_fetch): the body is downloaded into the
// store's staging folder under a name carrying this process's id, checked, then adopted as the
// object `key`, keeping what it replaced so that the caller can take the change back. A failure
// at any step leaves neither a staged file nor a changed object.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/cancel.h"
#include "transfer/download.h"
#include "transfer/http.h"
#include "transfer/store.h"

namespace geoetl {

struct StoreFetched {
  std::string uri;         // how catalog rows name the object (Store::uri)
  uint64_t bytes = 0;      // the object's size
  std::string sha256;      // lower-case hex
  std::string local_path;  // a local file with its bytes (Store::local_copy)
  AdoptUndo undo;          // keep it (forget_adopt) or take it back (undo_adopt)
};

// The kind a name says ("hdf5", "tiff", "json", "any"). Throws Error(invalid_argument).
FileKind file_kind_named(const std::string& name);

// Where a download for `key` is staged: "<staging>/<key, '/' made '_'>.<pid>", so that
// store_sweep leaves it while this process runs.
std::string staged_file_name(const Store& store, const std::string& key);

// Looks at a download in its staging file before it is adopted: false drops it.
using StagedCheck = std::function<bool(const std::string& staged_file)>;

// Downloads `url` (with `options`) into `store` as `key`, checked to be a file of `kind`
// ("hdf5", "tiff", "json", "xml" or "any") and, when given, by `accept`: a download it refuses
// is removed and nothing is adopted (the result has an empty uri and undo; bytes and sha256
// describe what came). Throws Error: invalid_argument (the key or the kind), io_error ("cannot
// create" the staging folder, cannot write), those of download_file and adopt_undoable, and
// whatever `accept` throws (the staged file is removed first).
StoreFetched store_fetch(Store& store, const std::string& url, const std::string& key,
                         const std::string& kind, const HttpOptions& options,
                         const CancelToken& cancel, const StagedCheck& accept = {});

}  // namespace geoetl
