#include "raster/shared_blocks.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>

namespace geoetl {
namespace {

constexpr uint64_t kMagic = 0x67656f65746c4231;  // "geoetlB1"
constexpr uint32_t kPartitions = 128;
constexpr uint32_t kNone = UINT32_MAX;
constexpr uint32_t kMaxUsage = 5;
constexpr size_t kPage = 4096;
enum : uint32_t { kFree = 0, kValid = 1, kClaimed = 2 };

static_assert(std::atomic<uint32_t>::is_always_lock_free &&
                  std::atomic<uint64_t>::is_always_lock_free &&
                  std::atomic<int32_t>::is_always_lock_free,
              "the cache's atomics must work across processes");
static_assert(sizeof(BlockKey) == 64, "BlockKey has no padding");

struct alignas(64) Lock {
  std::atomic<int32_t> owner;  // the holder's process id, 0 when free
};

struct Entry {
  BlockKey key;                // written only by the process that claimed the slot
  std::atomic<uint64_t> hash;  // of key
  std::atomic<uint32_t> next;  // the bucket chain, under the partition's lock
  std::atomic<uint32_t> state;
  std::atomic<uint32_t> pins;
  std::atomic<uint32_t> usage;
  std::atomic<uint32_t> bytes;
};

struct Header {
  uint64_t magic;
  uint32_t slots, buckets;
  size_t entries_at, buckets_at, data_at;  // offsets from the segment's start
  std::atomic<uint64_t> hand;              // the clock sweep's position
  std::atomic<uint64_t> hits, misses, inserts, evictions, insert_failures, takeovers;
  Lock locks[kPartitions];
};

size_t align_up(size_t n, size_t a) {
  return (n + a - 1) / a * a;
}

uint32_t bucket_count(size_t slots) {
  uint32_t n = kPartitions;
  while (n < 2 * slots && n < (1u << 30)) n *= 2;
  return n;
}

// The offsets of a segment of `slots` slots that starts at `base`; the data page-aligned.
struct Layout {
  size_t entries_at, buckets_at, data_at, end;
};
Layout layout(uintptr_t base, size_t slots) {
  Layout l;
  l.entries_at = align_up(sizeof(Header), 64);
  l.buckets_at = align_up(l.entries_at + sizeof(Entry) * slots, 64);
  const size_t after = l.buckets_at + sizeof(std::atomic<uint32_t>) * bucket_count(slots);
  l.data_at = align_up(base + after, kPage) - base;
  l.end = l.data_at + SharedBlockCache::kSlotBytes * slots;
  return l;
}

uint64_t hash_of(const BlockKey& k) {
  uint64_t words[8];
  std::memcpy(words, &k, sizeof words);
  uint64_t h = 0x243f6a8885a308d3;
  for (uint64_t w : words) {
    h = (h ^ w) * 0x9e3779b97f4a7c15;
    h ^= h >> 29;
  }
  return h;
}

Header& header(SharedBlockCache* c) {
  return *reinterpret_cast<Header*>(c);
}
const Header& header(const SharedBlockCache* c) {
  return *reinterpret_cast<const Header*>(c);
}
Entry* entries(const SharedBlockCache* c) {
  return reinterpret_cast<Entry*>(reinterpret_cast<uintptr_t>(c) + header(c).entries_at);
}
std::atomic<uint32_t>* buckets(SharedBlockCache* c) {
  return reinterpret_cast<std::atomic<uint32_t>*>(reinterpret_cast<uintptr_t>(c) +
                                                  header(c).buckets_at);
}
unsigned char* slot_data(const SharedBlockCache* c, uint32_t slot) {
  return reinterpret_cast<unsigned char*>(reinterpret_cast<uintptr_t>(c) + header(c).data_at) +
         static_cast<size_t>(slot) * SharedBlockCache::kSlotBytes;
}

// A bucket's partition: buckets are a multiple of the partitions, so every bucket is in one.
uint32_t bucket_of(const Header& h, uint64_t hash) {
  return static_cast<uint32_t>(hash & (h.buckets - 1));
}
Lock& lock_of(Header& h, uint64_t hash) {
  return h.locks[bucket_of(h, hash) % kPartitions];
}

// This process's id, asked of the kernel once per process (a system call each time otherwise);
// forgotten in the child of every fork.
std::atomic<int32_t> own_pid{0};
int32_t my_pid() {
  int32_t pid = own_pid.load(std::memory_order_relaxed);
  if (pid != 0) return pid;
  static const bool hooked = pthread_atfork(nullptr, nullptr, [] { own_pid.store(0); }) == 0;
  pid = static_cast<int32_t>(getpid());
  if (hooked) own_pid.store(pid, std::memory_order_relaxed);
  return pid;
}

// Takes `l`; a holder that no longer exists (killed while holding it) loses it after a while.
void acquire(Header& h, Lock& l) {
  const int32_t me = my_pid();
  for (uint32_t spins = 0;; spins++) {
    int32_t holder = 0;
    if (l.owner.compare_exchange_weak(holder, me, std::memory_order_acquire)) return;
    if (spins < 64) continue;
    if (spins % 256 == 0 && holder != 0 && holder != me && kill(holder, 0) != 0 && errno == ESRCH &&
        l.owner.compare_exchange_strong(holder, me, std::memory_order_acquire)) {
      h.takeovers.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    sched_yield();
  }
}
void release(Lock& l) {
  l.owner.store(0, std::memory_order_release);
}

// Under the partition's lock: the valid entry of `key` in its bucket, or kNone.
uint32_t lookup(SharedBlockCache* c, uint64_t hash, const BlockKey& key) {
  Entry* e = entries(c);
  const Header& h = header(c);
  for (uint32_t i = buckets(c)[bucket_of(h, hash)].load(std::memory_order_relaxed); i != kNone;
       i = e[i].next.load(std::memory_order_relaxed)) {
    if (i >= h.slots) break;  // only a dead process's half-made change could lead here
    if (e[i].state.load(std::memory_order_relaxed) == kValid &&
        e[i].hash.load(std::memory_order_relaxed) == hash && e[i].key == key)
      return i;
  }
  return kNone;
}

void touch(Entry& e) {
  e.pins.fetch_add(1, std::memory_order_relaxed);
  if (e.usage.load(std::memory_order_relaxed) < kMaxUsage)
    e.usage.fetch_add(1, std::memory_order_relaxed);
}

// Under the partition's lock: takes slot `i` out of its bucket's chain (one store).
void unlink(SharedBlockCache* c, uint32_t bucket, uint32_t i) {
  Entry* e = entries(c);
  std::atomic<uint32_t>* link = &buckets(c)[bucket];
  for (uint32_t j = link->load(std::memory_order_relaxed); j != kNone && j < header(c).slots;
       j = link->load(std::memory_order_relaxed)) {
    if (j == i) {
      link->store(e[i].next.load(std::memory_order_relaxed), std::memory_order_relaxed);
      return;
    }
    link = &e[j].next;
  }
}

// A slot nobody uses, claimed for the caller (state kClaimed), or kNone: the clock sweep.
uint32_t claim_slot(SharedBlockCache* c) {
  Header& h = header(c);
  Entry* e = entries(c);
  const uint64_t steps = static_cast<uint64_t>(h.slots) * (kMaxUsage + 2);
  for (uint64_t step = 0; step < steps; step++) {
    const uint32_t i =
        static_cast<uint32_t>(h.hand.fetch_add(1, std::memory_order_relaxed) % h.slots);
    if (e[i].pins.load(std::memory_order_acquire) != 0) continue;
    uint32_t state = e[i].state.load(std::memory_order_acquire);
    if (state == kClaimed) continue;
    uint32_t usage = e[i].usage.load(std::memory_order_relaxed);
    if (usage > 0) {
      e[i].usage.compare_exchange_strong(usage, usage - 1, std::memory_order_relaxed);
      continue;
    }
    if (state == kFree) {
      if (e[i].state.compare_exchange_strong(state, kClaimed, std::memory_order_acquire)) return i;
      continue;
    }
    Lock& l = lock_of(h, e[i].hash.load(std::memory_order_relaxed));
    acquire(h, l);
    const uint64_t hash = e[i].hash.load(std::memory_order_relaxed);
    const bool ours = &lock_of(h, hash) == &l &&
                      e[i].state.load(std::memory_order_relaxed) == kValid &&
                      e[i].pins.load(std::memory_order_acquire) == 0 &&
                      e[i].usage.load(std::memory_order_relaxed) == 0;
    if (ours) {
      unlink(c, bucket_of(h, hash), i);
      e[i].state.store(kClaimed, std::memory_order_relaxed);
    }
    release(l);
    if (ours) {
      h.evictions.fetch_add(1, std::memory_order_relaxed);
      return i;
    }
  }
  return kNone;
}

SharedBlockCache* process_cache = nullptr;

}  // namespace

bool BlockKey::operator==(const BlockKey& o) const {
  return std::memcmp(this, &o, sizeof *this) == 0;
}

size_t SharedBlockCache::segment_bytes(size_t data_bytes) {
  const size_t slots = std::max<size_t>(1, data_bytes / kSlotBytes);
  return layout(0, slots).end + kPage;  // a page to spare for the data's alignment
}

SharedBlockCache* SharedBlockCache::format(void* memory, size_t bytes) {
  const uintptr_t base = reinterpret_cast<uintptr_t>(memory);
  size_t slots = bytes / kSlotBytes;
  while (slots > 0 && layout(base, slots).end > bytes) slots--;
  if (slots == 0 || slots >= kNone) return nullptr;
  const Layout l = layout(base, slots);
  Header* h = new (memory) Header();
  h->slots = static_cast<uint32_t>(slots);
  h->buckets = bucket_count(slots);
  h->entries_at = l.entries_at;
  h->buckets_at = l.buckets_at;
  h->data_at = l.data_at;
  h->hand.store(0);
  for (std::atomic<uint64_t>* n :
       {&h->hits, &h->misses, &h->inserts, &h->evictions, &h->insert_failures, &h->takeovers})
    n->store(0);
  for (Lock& lk : h->locks) lk.owner.store(0);
  auto* cache = reinterpret_cast<SharedBlockCache*>(memory);
  Entry* e = entries(cache);
  for (size_t i = 0; i < slots; i++) {
    Entry* x = new (&e[i]) Entry();
    x->hash.store(0);
    x->next.store(kNone);
    x->state.store(kFree);
    x->pins.store(0);
    x->usage.store(0);
    x->bytes.store(0);
  }
  std::atomic<uint32_t>* b = buckets(cache);
  for (uint32_t i = 0; i < h->buckets; i++) new (&b[i]) std::atomic<uint32_t>(kNone);
  std::atomic_thread_fence(std::memory_order_release);
  h->magic = kMagic;
  return cache;
}

SharedBlockCache* SharedBlockCache::attach(void* memory) {
  if (memory == nullptr || reinterpret_cast<Header*>(memory)->magic != kMagic) return nullptr;
  return reinterpret_cast<SharedBlockCache*>(memory);
}

SharedBlockCache::Pin& SharedBlockCache::Pin::operator=(Pin&& o) noexcept {
  if (this != &o) {
    release();
    cache_ = o.cache_;
    slot_ = o.slot_;
    o.cache_ = nullptr;
  }
  return *this;
}

const unsigned char* SharedBlockCache::Pin::data() const {
  return slot_data(cache_, slot_);
}

size_t SharedBlockCache::Pin::size() const {
  return entries(cache_)[slot_].bytes.load(std::memory_order_relaxed);
}

void SharedBlockCache::Pin::release() {
  if (cache_ == nullptr) return;
  entries(cache_)[slot_].pins.fetch_sub(1, std::memory_order_release);
  cache_ = nullptr;
}

SharedBlockCache::Pin SharedBlockCache::find(const BlockKey& key) {
  Header& h = header(this);
  const uint64_t hash = hash_of(key);
  Lock& l = lock_of(h, hash);
  acquire(h, l);
  const uint32_t i = lookup(this, hash, key);
  if (i != kNone) touch(entries(this)[i]);
  release(l);
  (i != kNone ? h.hits : h.misses).fetch_add(1, std::memory_order_relaxed);
  return i != kNone ? Pin(this, i) : Pin();
}

SharedBlockCache::Pin SharedBlockCache::insert(const BlockKey& key, const void* data,
                                               size_t bytes) {
  Header& h = header(this);
  const uint32_t i = bytes <= kSlotBytes ? claim_slot(this) : kNone;
  if (i == kNone) {
    h.insert_failures.fetch_add(1, std::memory_order_relaxed);
    return {};
  }
  Entry& e = entries(this)[i];
  const uint64_t hash = hash_of(key);
  e.key = key;
  std::memcpy(slot_data(this, i), data, bytes);
  e.bytes.store(static_cast<uint32_t>(bytes), std::memory_order_relaxed);
  e.hash.store(hash, std::memory_order_relaxed);
  e.usage.store(1, std::memory_order_relaxed);
  e.pins.store(1, std::memory_order_relaxed);  // the caller's
  Lock& l = lock_of(h, hash);
  acquire(h, l);
  const uint32_t there = lookup(this, hash, key);  // put there meanwhile by another process
  if (there != kNone) {
    touch(entries(this)[there]);
  } else {
    std::atomic<uint32_t>& head = buckets(this)[bucket_of(h, hash)];
    e.next.store(head.load(std::memory_order_relaxed), std::memory_order_relaxed);
    head.store(i, std::memory_order_relaxed);
    e.state.store(kValid, std::memory_order_release);
  }
  release(l);
  if (there != kNone) {
    e.pins.store(0, std::memory_order_relaxed);
    e.usage.store(0, std::memory_order_relaxed);
    e.state.store(kFree, std::memory_order_release);
    return Pin(this, there);
  }
  h.inserts.fetch_add(1, std::memory_order_relaxed);
  return Pin(this, i);
}

SharedBlockStats SharedBlockCache::stats() const {
  const Header& h = header(this);
  SharedBlockStats s;
  s.slots = h.slots;
  const Entry* e = entries(this);
  for (uint32_t i = 0; i < h.slots; i++) {
    s.used += e[i].state.load(std::memory_order_relaxed) == kValid;
    s.pinned += e[i].pins.load(std::memory_order_relaxed) != 0;
  }
  s.hits = h.hits.load(std::memory_order_relaxed);
  s.misses = h.misses.load(std::memory_order_relaxed);
  s.inserts = h.inserts.load(std::memory_order_relaxed);
  s.evictions = h.evictions.load(std::memory_order_relaxed);
  s.insert_failures = h.insert_failures.load(std::memory_order_relaxed);
  s.lock_takeovers = h.takeovers.load(std::memory_order_relaxed);
  return s;
}

size_t SharedBlockCache::data_bytes() const {
  return static_cast<size_t>(header(this).slots) * kSlotBytes;
}

void SharedBlockCache::hold_lock_for_test(const BlockKey& key) {
  Header& h = header(this);
  acquire(h, lock_of(h, hash_of(key)));
}

uint64_t text_hash(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325;
  for (unsigned char ch : text) h = (h ^ ch) * 0x100000001b3;
  return h;
}

SharedBlockCache* shared_block_cache() {
  return process_cache;
}

void set_shared_block_cache(SharedBlockCache* cache) {
  process_cache = cache;
}

}  // namespace geoetl
