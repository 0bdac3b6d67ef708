// Publishing a file geoetl makes (a package's clip, a month's composite, a PMTiles archive) into
// the store: written by a caller's writer under the store's staging folder, hashed, then adopted
// as `key` with an undo. The staged name carries this process's id (store_sweep leaves it while
// the process runs) and ends in the key's extension, as GDAL's drivers need. On any failure
// nothing stays staged and the object is as it was.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/cancel.h"
#include "transfer/store.h"

namespace geoetl {

struct PublishedFile {
  std::string uri;     // how catalog rows name the object (Store::uri)
  uint64_t bytes = 0;  // its size
  std::string sha256;  // lower-case hex
  int64_t items = 0;   // what the writer counted (cells, features)
  AdoptUndo undo;      // keep it (forget_adopt) or take it back (undo_adopt)
};

// `write` creates the file at the path it is given (a new file) and returns what it counted.
PublishedFile publish_file(Store& store, const std::string& key,
                           const std::function<int64_t(const std::string& path)>& write,
                           const CancelToken& cancel);

}  // namespace geoetl
