// Publishing a data package version: the clips its jobs staged in the store are copied to the
// keys the descriptor names, and the descriptor is written last. Every change returns what it
// replaced (AdoptUndo), so that the caller can take the whole version back if anything fails.
#pragma once

#include <string>

#include "base/cancel.h"
#include "transfer/store_publish.h"
#include "transfer/store.h"

namespace geoetl {

// Copies the object `from` to `to` (a hard link and a rename where the store is local, else a
// download and an upload) after checking that it still has the SHA-256 `expected` (lower-case
// hex); throws data_corrupted when it has not, not_found when there is no such object.
PublishedFile promote_file(Store& store, const std::string& from, const std::string& to,
                           const std::string& expected, const CancelToken& cancel);

// Writes `text` as the object `key` (staged, hashed, then adopted).
PublishedFile publish_text(Store& store, const std::string& key, const std::string& text,
                           const CancelToken& cancel);

}  // namespace geoetl
