// The shared block cache (raster/shared_blocks.h) on its own, across processes (fork: the same
// shared mapping, as PostgreSQL's backends have), and under Band::read.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "raster/raster.h"
#include "raster/shared_blocks.h"
#include "raster/shared_memo.h"
#include "tiff_writer.h"

using namespace geoetl;

namespace {

// A shared anonymous mapping holding a formatted cache of `slots` slots.
class Segment {
 public:
  explicit Segment(size_t slots) {
    bytes_ = SharedBlockCache::segment_bytes(slots * SharedBlockCache::kSlotBytes);
    memory_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory_ == MAP_FAILED) throw std::runtime_error("mmap failed");
    cache_ = SharedBlockCache::format(memory_, bytes_);
  }
  ~Segment() { munmap(memory_, bytes_); }
  SharedBlockCache& cache() { return *cache_; }
  void* memory() { return memory_; }

 private:
  size_t bytes_;
  void* memory_;
  SharedBlockCache* cache_;
};

BlockKey key(uint32_t n) {
  BlockKey k;
  k.file[0] = 42;
  k.file[2] = 7;
  k.block_x = n;
  k.block_y = n / 3;
  return k;
}

// The bytes stored under key(n): n's own pattern, `bytes` long.
std::vector<unsigned char> pattern(uint32_t n, size_t bytes) {
  std::vector<unsigned char> v(bytes);
  for (size_t i = 0; i < bytes; i++) v[i] = static_cast<unsigned char>((n * 131 + i * 7) >> 2);
  return v;
}

bool holds(const SharedBlockCache::Pin& pin, uint32_t n) {
  const std::vector<unsigned char> want = pattern(n, pin.size());
  return std::memcmp(pin.data(), want.data(), want.size()) == 0;
}

// Runs `child` in a forked process; its result is the process's exit status (0 = passed).
pid_t run_child(const std::function<int()>& child) {
  const pid_t pid = fork();
  if (pid == 0) _exit(child());
  return pid;
}

int wait_status(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST(SharedBlocks, OnlyAFormattedSegmentAttaches) {
  std::vector<unsigned char> zeros(SharedBlockCache::segment_bytes(1 << 20), 0);
  EXPECT_EQ(SharedBlockCache::attach(zeros.data()), nullptr);
  EXPECT_EQ(SharedBlockCache::attach(nullptr), nullptr);
  Segment s(16);
  EXPECT_EQ(SharedBlockCache::attach(s.memory()), &s.cache());
  EXPECT_EQ(s.cache().stats().slots, 16u);
  EXPECT_EQ(s.cache().data_bytes(), 16 * SharedBlockCache::kSlotBytes);
  EXPECT_EQ(SharedBlockCache::format(zeros.data(), 100), nullptr);  // not even one slot
}

TEST(SharedBlocks, WhatIsInsertedIsFoundUnderItsKeyOnly) {
  Segment s(8);
  SharedBlockCache& c = s.cache();
  EXPECT_FALSE(c.find(key(1)));
  const std::vector<unsigned char> v = pattern(1, 1000);
  {
    SharedBlockCache::Pin pin = c.insert(key(1), v.data(), v.size());
    ASSERT_TRUE(pin);
    EXPECT_EQ(pin.size(), 1000u);
    EXPECT_EQ(c.stats().pinned, 1u);
  }
  EXPECT_EQ(c.stats().pinned, 0u);
  SharedBlockCache::Pin again = c.find(key(1));
  ASSERT_TRUE(again);
  EXPECT_TRUE(holds(again, 1));
  BlockKey other = key(1);
  other.part = 1;
  EXPECT_FALSE(c.find(other));
  other = key(1);
  other.file[4] += 1;  // the file's modification time changed: another key
  EXPECT_FALSE(c.find(other));
  const SharedBlockStats st = c.stats();
  EXPECT_EQ(st.used, 1u);
  EXPECT_EQ(st.inserts, 1u);
  EXPECT_EQ(st.hits, 1u);
  EXPECT_EQ(st.misses, 3u);
}

TEST(SharedBlocks, InsertingAKeyTwiceKeepsOneEntry) {
  Segment s(8);
  const std::vector<unsigned char> v = pattern(3, 64);
  SharedBlockCache::Pin a = s.cache().insert(key(3), v.data(), v.size());
  SharedBlockCache::Pin b = s.cache().insert(key(3), v.data(), v.size());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a.data(), b.data());
  EXPECT_EQ(s.cache().stats().used, 1u);
}

TEST(SharedBlocks, TooBigIsNotKept) {
  Segment s(4);
  const std::vector<unsigned char> v(SharedBlockCache::kSlotBytes + 1, 1);
  EXPECT_FALSE(s.cache().insert(key(1), v.data(), v.size()));
  EXPECT_EQ(s.cache().stats().insert_failures, 1u);
}

TEST(SharedBlocks, FullCacheEvictsWhatIsNotPinned) {
  Segment s(4);
  SharedBlockCache& c = s.cache();
  for (uint32_t n = 0; n < 40; n++) {
    const std::vector<unsigned char> v = pattern(n, SharedBlockCache::kSlotBytes);
    ASSERT_TRUE(c.insert(key(n), v.data(), v.size())) << n;
  }
  const SharedBlockStats st = c.stats();
  EXPECT_EQ(st.used, 4u);
  EXPECT_EQ(st.evictions, 36u);
  SharedBlockCache::Pin last = c.find(key(39));
  ASSERT_TRUE(last);
  EXPECT_TRUE(holds(last, 39));
  EXPECT_FALSE(c.find(key(0)));
}

TEST(SharedBlocks, APinnedSlotIsNeverReused) {
  Segment s(2);
  SharedBlockCache& c = s.cache();
  const std::vector<unsigned char> a = pattern(1, 500), b = pattern(2, 500), d = pattern(3, 500);
  SharedBlockCache::Pin pa = c.insert(key(1), a.data(), a.size());
  SharedBlockCache::Pin pb = c.insert(key(2), b.data(), b.size());
  EXPECT_FALSE(c.insert(key(3), d.data(), d.size()));  // both slots are being read
  EXPECT_EQ(c.stats().insert_failures, 1u);
  pb.release();
  SharedBlockCache::Pin pd = c.insert(key(3), d.data(), d.size());
  ASSERT_TRUE(pd);
  EXPECT_TRUE(holds(pa, 1));  // untouched while pinned
  EXPECT_TRUE(holds(pd, 3));
  EXPECT_FALSE(c.find(key(2)));
}

TEST(SharedBlocks, ProcessesSharingItNeverSeeAnotherKeysBytes) {
  Segment s(24);  // fewer slots than keys: constant eviction under four writers
  std::vector<pid_t> children;
  for (int p = 0; p < 4; p++)
    children.push_back(run_child([&s, p] {
      std::mt19937 rng(static_cast<unsigned>(p + 1));
      SharedBlockCache& c = s.cache();
      for (int i = 0; i < 20000; i++) {
        const uint32_t n = rng() % 64;
        const size_t bytes = 1000 + n * 512;
        SharedBlockCache::Pin pin = c.find(key(n));
        if (!pin) {
          const std::vector<unsigned char> v = pattern(n, bytes);
          pin = c.insert(key(n), v.data(), v.size());
        }
        if (pin && (pin.size() != bytes || !holds(pin, n))) return 1;
      }
      return 0;
    }));
  for (pid_t pid : children) EXPECT_EQ(wait_status(pid), 0);
  const SharedBlockStats st = s.cache().stats();
  EXPECT_EQ(st.pinned, 0u);
  EXPECT_LE(st.used, 24u);
  EXPECT_GT(st.hits, 0u);
  EXPECT_GT(st.evictions, 0u);
  EXPECT_EQ(st.lock_takeovers, 0u);
}

TEST(SharedBlocks, ALockWhoseHolderWasKilledIsTakenOver) {
  Segment s(8);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t holder = run_child([&] {
    s.cache().hold_lock_for_test(key(5));
    (void)!write(ready[1], "x", 1);
    pause();
    return 0;
  });
  char x;
  ASSERT_EQ(read(ready[0], &x, 1), 1);
  kill(holder, SIGKILL);
  EXPECT_EQ(wait_status(holder), 128 + SIGKILL);
  // the same partition's lock: find must come back, not spin for ever (a watchdog fails the test)
  const pid_t finder = run_child([&s] {
    alarm(20);
    const std::vector<unsigned char> v = pattern(5, 100);
    SharedBlockCache::Pin pin = s.cache().insert(key(5), v.data(), v.size());
    return pin && s.cache().find(key(5)) ? 0 : 1;
  });
  EXPECT_EQ(wait_status(finder), 0);
  EXPECT_EQ(s.cache().stats().lock_takeovers, 1u);
  close(ready[0]);
  close(ready[1]);
}

namespace {

// Band::read of every window in `windows` through the shared cache equals GDAL's own read.
class SharedRead : public ::testing::Test {
 protected:
  void SetUp() override { set_shared_block_cache(&segment_.cache()); }
  void TearDown() override {
    set_shared_block_cache(nullptr);
    clear_raster_cache();
  }
  static void read(const std::string& path, bool shared, const Window& w,
                   std::vector<double>* values, std::vector<uint8_t>* valid) {
    RasterOpenOptions o;
    o.shared_blocks = shared;
    const Raster r = Raster::open(path, "t.tif", o);
    const Band b(r, 1);
    values->assign(static_cast<size_t>(w.rows * w.cols), -1);
    valid->assign(values->size(), 9);
    b.read(w, values->data(), valid->data(), CancelToken());
  }
  static void expect_same(const std::string& path, const Window& w) {
    std::vector<double> v1, v2;
    std::vector<uint8_t> m1, m2;
    read(path, false, w, &v1, &m1);
    read(path, true, w, &v2, &m2);
    for (size_t i = 0; i < v1.size(); i++) {
      ASSERT_EQ(m1[i], m2[i]) << i;
      if (m1[i]) {
        ASSERT_EQ(v1[i], v2[i]) << i;
      }
    }
  }
  Segment segment_{256};
  TempDir dir_;
};

}  // namespace

TEST_F(SharedRead, EveryTypeAndWindowReadsAsGdalReadsIt) {
  // blocks of one part and of several, rows that run from one part into the next (Int16 208
  // wide: 416-byte rows; Float64 112 wide: 896-byte rows), partial edge blocks, strips (the last
  // one partial), nodata, scale
  struct Case {
    GDALDataType type;
    int block;
  };
  for (const Case& k :
       {Case{GDT_Byte, 64}, Case{GDT_Int16, 208}, Case{GDT_UInt16, 128}, Case{GDT_Int32, 96},
        Case{GDT_Float32, 256}, Case{GDT_Float64, 112}, Case{GDT_Float32, 0}}) {  // 0: strips
    TiffSpec spec = unit_grid(500);
    spec.height = 430;
    spec.type = k.type;
    spec.block = k.block;
    spec.nodata = 7;
    spec.scale = 0.5;
    spec.offset = 3;
    spec.values.resize(500 * 430);
    std::mt19937 rng(k.block);
    for (double& v : spec.values) v = static_cast<double>(rng() % 120);
    const std::string path = write_tiff(dir_.file(std::to_string(k.block) + ".tif"), spec);
    SCOPED_TRACE(GDALGetDataTypeName(k.type));
    expect_same(path, {0, 0, 430, 500});
    expect_same(path, {13, 401, 300, 99});
    expect_same(path, {429, 0, 1, 500});
    expect_same(path, {200, 250, 1, 1});
  }
  const SharedBlockStats st = segment_.cache().stats();
  EXPECT_GT(st.hits, 0u);
  EXPECT_EQ(st.insert_failures, 0u);
  EXPECT_EQ(st.pinned, 0u);
}

TEST_F(SharedRead, ASecondReadDecodesNothingAndAChangedFileIsReadAgain) {
  TiffSpec spec = unit_grid(300);
  spec.block = 128;
  const std::string path = write_tiff(dir_.file("c.tif"), spec);
  std::vector<double> v;
  std::vector<uint8_t> m;
  read(path, true, {0, 0, 300, 300}, &v, &m);
  const uint64_t inserted = segment_.cache().stats().inserts;
  EXPECT_EQ(inserted, 10u);  // 3 x 3 blocks of 64 kB, and the file's CRS (shared_memo.h)
  read(path, true, {0, 0, 300, 300}, &v, &m);
  EXPECT_EQ(segment_.cache().stats().inserts, inserted);
  EXPECT_EQ(v[0], 1);
  // the same size, other values: new keys (modification and change times), new blocks
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (double& x : spec.values = std::vector<double>(300 * 300, 0)) x = 5;
  write_tiff(path, spec);
  clear_raster_cache();
  read(path, true, {0, 0, 300, 300}, &v, &m);
  EXPECT_EQ(v[0], 5);
  EXPECT_EQ(v[300 * 300 - 1], 5);
  EXPECT_EQ(segment_.cache().stats().inserts, 2 * inserted);
}

TEST_F(SharedRead, WithoutTheOptionOrACacheGdalReadsAlone) {
  TiffSpec spec = unit_grid(100);
  spec.block = 64;
  const std::string path = write_tiff(dir_.file("n.tif"), spec);
  std::vector<double> v;
  std::vector<uint8_t> m;
  read(path, false, {0, 0, 100, 100}, &v, &m);
  set_shared_block_cache(nullptr);
  clear_raster_cache();
  read(path, true, {0, 0, 100, 100}, &v, &m);
  EXPECT_EQ(segment_.cache().stats().inserts, 0u);
  EXPECT_EQ(v[99], 100);
}

TEST(SharedMemo, AnswersOnlyForItsOwnKindAndWholeKey) {
  Segment s(8);
  std::string v;
  EXPECT_FALSE(shared_memo_get(MemoKind::crs_units, "a", &v));  // no cache in this process
  shared_memo_put(MemoKind::crs_units, "a", "x");
  set_shared_block_cache(&s.cache());
  EXPECT_FALSE(shared_memo_get(MemoKind::crs_units, "a", &v));
  shared_memo_put(MemoKind::crs_units, "EPSG:4326", std::string("\0units", 6));
  ASSERT_TRUE(shared_memo_get(MemoKind::crs_units, "EPSG:4326", &v));
  EXPECT_EQ(v, std::string("\0units", 6));
  EXPECT_FALSE(shared_memo_get(MemoKind::crs_bound, "EPSG:4326", &v));
  EXPECT_FALSE(shared_memo_get(MemoKind::crs_units, "EPSG:4327", &v));
  shared_memo_put(MemoKind::file_crs, "f", "");  // a file without a CRS is an answer too
  ASSERT_TRUE(shared_memo_get(MemoKind::file_crs, "f", &v));
  EXPECT_EQ(v, "");
  shared_memo_put(MemoKind::crs_units, "big", std::string(SharedBlockCache::kSlotBytes, 'x'));
  EXPECT_FALSE(shared_memo_get(MemoKind::crs_units, "big", &v));  // does not fit a slot
  set_shared_block_cache(nullptr);
}

TEST_F(SharedRead, AFilesCrsIsReadOnceForEveryProcess) {
  TiffSpec spec = unit_grid(100);
  spec.block = 64;
  spec.srs = "EPSG:32637";
  const std::string path = write_tiff(dir_.file("crs.tif"), spec);
  RasterOpenOptions o;
  o.shared_blocks = true;
  const std::string wkt = Raster::open(path, "crs.tif", o).crs_wkt();
  EXPECT_NE(wkt.find("UTM zone 37N"), std::string::npos);
  const pid_t child = run_child([&] {
    clear_raster_cache();  // a new process's own dataset cache is empty
    const uint64_t hits = segment_.cache().stats().hits;
    const Raster r = Raster::open(path, "crs.tif", o);
    return r.crs_wkt() == wkt && segment_.cache().stats().hits == hits + 1 ? 0 : 1;
  });
  EXPECT_EQ(wait_status(child), 0);
}
