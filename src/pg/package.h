// What the glue of data packages shares (package.cpp, package_store.cpp).
#pragma once

#include <vector>

#include "transfer/store_publish.h"
#include "package/vector_clip.h"

namespace geoetl::pg {

// {"uri", "bytes", "sha256", "items"[, "columns": [{"name", "type"}]]} as text (palloc'd).
// Allocates: call under pg_guard.
char* published_json(const PublishedFile& p, const std::vector<VectorField>* columns = nullptr);

}  // namespace geoetl::pg
