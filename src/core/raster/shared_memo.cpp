#include "raster/shared_memo.h"

#include <cstring>

#include "raster/shared_blocks.h"

namespace geoetl {
namespace {

constexpr uint32_t kMemoBand = UINT32_MAX;  // no raster has this many bands

// The entry's key: two independent hashes and the length of `key`, and the kind; its bytes
// repeat `key` in full, so that a collision is never taken for an answer.
BlockKey memo_key(MemoKind kind, const std::string& key) {
  uint64_t b = 0x84222325cbf29ce4;
  for (unsigned char ch : key) {
    b = (b + ch + 1) * 0x9e3779b97f4a7c15;
    b ^= b >> 31;
  }
  BlockKey k;
  k.file[0] = text_hash(key);
  k.file[1] = b;
  k.file[2] = key.size();
  k.file[3] = static_cast<uint64_t>(kind);
  k.band = kMemoBand;
  return k;
}

}  // namespace

bool shared_memo_get(MemoKind kind, const std::string& key, std::string* value) {
  SharedBlockCache* cache = shared_block_cache();
  if (cache == nullptr) return false;
  const SharedBlockCache::Pin pin = cache->find(memo_key(kind, key));
  if (!pin || pin.size() < sizeof(uint32_t) + key.size()) return false;
  uint32_t key_bytes = 0;
  std::memcpy(&key_bytes, pin.data(), sizeof key_bytes);
  const unsigned char* stored = pin.data() + sizeof key_bytes;
  if (key_bytes != key.size() || std::memcmp(stored, key.data(), key.size()) != 0) return false;
  value->assign(reinterpret_cast<const char*>(stored) + key.size(),
                pin.size() - sizeof key_bytes - key.size());
  return true;
}

void shared_memo_put(MemoKind kind, const std::string& key, const std::string& value) {
  SharedBlockCache* cache = shared_block_cache();
  const size_t bytes = sizeof(uint32_t) + key.size() + value.size();
  if (cache == nullptr || bytes > SharedBlockCache::kSlotBytes) return;
  std::string entry(bytes, '\0');
  const uint32_t key_bytes = static_cast<uint32_t>(key.size());
  std::memcpy(&entry[0], &key_bytes, sizeof key_bytes);
  std::memcpy(&entry[sizeof key_bytes], key.data(), key.size());
  std::memcpy(&entry[sizeof key_bytes + key.size()], value.data(), value.size());
  cache->insert(memo_key(kind, key), entry.data(), entry.size());  // its pin is let go at once
}

}  // namespace geoetl
