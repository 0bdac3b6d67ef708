// A cache of decoded raster blocks in memory shared by processes: PostgreSQL backends, when
// geoetl is preloaded (the glue creates the segment at server start and hands it over here), so
// that a block one backend decoded serves every other backend until it is evicted.
//
// The segment holds fixed-size slots of kSlotBytes; a block larger than a slot is kept as
// several parts (consecutive byte ranges), each its own entry. A hash table of slot chains is
// split into partitions, each behind a lock word of its own; the locks are held only for a few
// loads and stores, never while data is copied, decoded or while anything else is called.
// Eviction is a clock sweep over the slots (usage counts, as PostgreSQL's buffer manager does);
// a pinned slot (a reader is copying from it) is never reused.
//
// Keys carry the file's identity (device, inode, size, modification and change times, and the
// GDAL name): a file that changes gets new keys, its old blocks are never found again and age
// out. A lock whose holder died (a killed process) is taken over after a short wait, and every
// change under a lock is a single store, so the table stays consistent; a slot the dead process
// held is lost until the segment is made again (PostgreSQL remakes shared memory after any
// backend dies by a signal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace geoetl {

struct BlockKey {
  uint64_t file[6] = {0, 0, 0, 0, 0, 0};  // name hash, device, inode, size, mtime ns, ctime ns
  uint32_t band = 0, block_x = 0, block_y = 0, part = 0;
  bool operator==(const BlockKey& o) const;
};

struct SharedBlockStats {
  uint64_t slots = 0, used = 0, pinned = 0;
  uint64_t hits = 0, misses = 0, inserts = 0, evictions = 0, insert_failures = 0;
  uint64_t lock_takeovers = 0;
};

class SharedBlockCache {
 public:
  static constexpr size_t kSlotBytes = 64 * 1024;

  // The segment size for `data_bytes` of slots (at least one slot), header and table included.
  static size_t segment_bytes(size_t data_bytes);
  // Lays out an empty cache in `memory` (`bytes` long, from segment_bytes) and returns it; done
  // once, by the process that made the segment, before any other uses it.
  static SharedBlockCache* format(void* memory, size_t bytes);
  // The cache laid out at `memory` by format, or nullptr when it holds none.
  static SharedBlockCache* attach(void* memory);

  // A reader's hold on one slot: its bytes stay as they are until the pin is released.
  class Pin {
   public:
    Pin() = default;
    Pin(Pin&& o) noexcept : cache_(o.cache_), slot_(o.slot_) { o.cache_ = nullptr; }
    Pin& operator=(Pin&& o) noexcept;
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
    ~Pin() { release(); }
    explicit operator bool() const { return cache_ != nullptr; }
    const unsigned char* data() const;
    size_t size() const;
    void release();

   private:
    friend class SharedBlockCache;
    Pin(SharedBlockCache* cache, uint32_t slot) : cache_(cache), slot_(slot) {}
    SharedBlockCache* cache_ = nullptr;
    uint32_t slot_ = 0;
  };

  // The entry for `key`, pinned, or an empty pin.
  Pin find(const BlockKey& key);
  // Copies `bytes` (at most kSlotBytes) in under `key` and returns it pinned (or the entry
  // another process put there meanwhile); an empty pin when every slot is pinned or too big.
  Pin insert(const BlockKey& key, const void* data, size_t bytes);

  SharedBlockStats stats() const;
  size_t data_bytes() const;

  // For tests: holds the lock of the partition that `key` falls in until the process ends.
  void hold_lock_for_test(const BlockKey& key);

  SharedBlockCache() = delete;
  SharedBlockCache(const SharedBlockCache&) = delete;
  SharedBlockCache& operator=(const SharedBlockCache&) = delete;
};

// FNV-1a of `text`: how keys name a file (its GDAL name) and a memo entry (shared_memo.h).
uint64_t text_hash(const std::string& text);

// The process's shared cache (set by the glue once the segment exists), or nullptr.
SharedBlockCache* shared_block_cache();
void set_shared_block_cache(SharedBlockCache* cache);

}  // namespace geoetl
