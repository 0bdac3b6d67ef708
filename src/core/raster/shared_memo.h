// Small answers worth sharing between processes, kept in the shared block cache beside the
// blocks (a slot each, evicted like them): what a file's CRS is, a CRS's units, whether two CRSs
// are the same. Each costs a new backend PROJ's database the first time (opening proj.db: about
// 18 ms measured here), which a backend that finds the answer here never opens.
#pragma once

#include <cstdint>
#include <string>

namespace geoetl {

enum class MemoKind : uint32_t { file_crs = 1, crs_units = 2, crs_bound = 3, same_crs = 4 };

// The value kept for (kind, key), if the process has a shared cache and it holds one. The whole
// key is stored and compared, never only its hash.
bool shared_memo_get(MemoKind kind, const std::string& key, std::string* value);
// Keeps (kind, key) -> value when there is a shared cache and both fit in a slot.
void shared_memo_put(MemoKind kind, const std::string& key, const std::string& value);

}  // namespace geoetl
