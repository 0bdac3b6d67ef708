// The store, local and S3 (the S3 cases against s3rver: test_store.h).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "file_size_limit.h"
#include "test_store.h"
#include "tiff_writer.h"
#include "transfer/store.h"

using namespace geoetl;

namespace {

class StoreTest : public EachStore {
 protected:
  void SetUp() override {
    EachStore::SetUp();
    if (IsSkipped()) return;
    std::ofstream(local_.file("a.bin"), std::ios::binary) << std::string(3000, 'a');
    std::ofstream(local_.file("b.bin"), std::ios::binary) << "bbb";
  }
};

TEST_P(StoreTest, PutGetListRemove) {
  EXPECT_FALSE(store_->size_of("x/a.bin"));
  store_->put(local_.file("a.bin"), "x/a.bin", CancelToken());
  store_->put(local_.file("b.bin"), "x/y/b.bin", CancelToken());
  store_->put(local_.file("b.bin"), "z.bin", CancelToken());
  EXPECT_EQ(store_->size_of("x/a.bin"), 3000u);
  const std::vector<StoreEntry> xs = store_->list("x/");
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].key, "x/a.bin");
  EXPECT_EQ(xs[0].size, 3000u);
  EXPECT_EQ(xs[1].key, "x/y/b.bin");
  EXPECT_EQ(store_->list("").size(), 3u);
  // a prefix that ends inside a name, one that names no folder, ones that leave the store
  ASSERT_EQ(store_->list("x/y/b").size(), 1u);
  EXPECT_EQ(store_->list("x/y/b")[0].key, "x/y/b.bin");
  EXPECT_EQ(store_->list("z").size(), 1u);
  EXPECT_TRUE(store_->list("nothing/here/").empty());
  EXPECT_TRUE(store_->list("../").empty());
  EXPECT_TRUE(store_->list("x/../x/").empty());
  EXPECT_TRUE(store_->list("/x/").empty());
  store_->get("x/y/b.bin", local_.file("copy.bin"), CancelToken());
  EXPECT_EQ(read_file(local_.file("copy.bin")), "bbb");
  store_->put(local_.file("a.bin"), "x/y/b.bin", CancelToken());  // replaced
  EXPECT_EQ(store_->size_of("x/y/b.bin"), 3000u);
  EXPECT_TRUE(store_->remove("x/a.bin"));
  EXPECT_FALSE(store_->remove("x/a.bin"));
  EXPECT_FALSE(store_->size_of("x/a.bin"));
  EXPECT_EQ(store_->list("x/").size(), 1u);
}

TEST_P(StoreTest, GdalReadsObjectsInPlace) {
  write_tiff(local_.file("r.tif"), TiffSpec{});
  store_->put(local_.file("r.tif"), "rasters/r.tif", CancelToken());
  ensure_gdal(gdal_);
  GDALDatasetH ds = GDALOpen(store_->gdal_path("rasters/r.tif").c_str(), GA_ReadOnly);
  ASSERT_NE(ds, nullptr) << store_->gdal_path("rasters/r.tif");
  EXPECT_GT(GDALGetRasterXSize(ds), 0);
  GDALClose(ds);
  EXPECT_EQ(store_->uri("rasters/r.tif"), GetParam() == "s3"
                                              ? "s3://geoetl-unit/tests/rasters/r.tif"
                                              : local_.file("default/rasters/r.tif"));
}

TEST_P(StoreTest, StagedFilesAreAdopted) {
  const std::string staging = store_->staging_dir();
  std::filesystem::create_directories(staging);
  std::ofstream(staging + "/incoming") << "staged";
  store_->adopt(staging + "/incoming", "in/file.txt", CancelToken());
  EXPECT_EQ(store_->size_of("in/file.txt"), 6u);
  EXPECT_FALSE(std::filesystem::exists(staging + "/incoming"));
  EXPECT_EQ(read_file(store_->local_copy("in/file.txt")), "staged");  // S3: the copy kept locally
  EXPECT_EQ(store_->list("").size(), 1u);  // the staging folder is not part of the store
}

TEST_P(StoreTest, AnUndoneAdoptLeavesTheStoreAsItWas) {
  const std::string staging = store_->staging_dir();
  std::filesystem::create_directories(staging);
  auto stage = [&](const std::string& bytes) {
    std::ofstream(staging + "/incoming") << bytes;
    return staging + "/incoming";
  };
  // a new object: undone, it is gone (and an S3 store's local copy with it)
  AdoptUndo fresh = adopt_undoable(*store_, stage("new"), "u/fresh.txt", CancelToken());
  EXPECT_EQ(store_->size_of("u/fresh.txt"), 3u);
  undo_adopt(*store_, fresh);
  EXPECT_FALSE(store_->size_of("u/fresh.txt"));
  EXPECT_FALSE(std::filesystem::exists(store_->local_copy("u/fresh.txt")));
  // a replaced object: undone, the old bytes are back
  store_->adopt(stage("old bytes"), "u/kept.txt", CancelToken());
  AdoptUndo replaced = adopt_undoable(*store_, stage("newer"), "u/kept.txt", CancelToken());
  EXPECT_EQ(store_->size_of("u/kept.txt"), 5u);
  undo_adopt(*store_, replaced);
  EXPECT_EQ(store_->size_of("u/kept.txt"), 9u);
  EXPECT_EQ(read_file(store_->local_copy("u/kept.txt")), "old bytes");
  // kept: the new bytes stay, nothing stays aside
  forget_adopt(adopt_undoable(*store_, stage("newest"), "u/kept.txt", CancelToken()));
  EXPECT_EQ(read_file(store_->local_copy("u/kept.txt")), "newest");
  EXPECT_EQ(staged_files(*store_), 0u);
}

TEST_P(StoreTest, AnUndoneRemovalPutsTheObjectBack) {
  const std::string staging = store_->staging_dir();
  std::filesystem::create_directories(staging);
  std::ofstream(staging + "/incoming") << "old bytes";
  store_->adopt(staging + "/incoming", "r/adopted.txt", CancelToken());  // S3: a local copy too
  store_->put(local_.file("a.bin"), "r/put.bin", CancelToken());         // S3: no local copy
  store_->put(local_.file("b.bin"), "r/other.bin", CancelToken());
  const AdoptUndo adopted = remove_undoable(*store_, "r/adopted.txt", CancelToken());
  const AdoptUndo put = remove_undoable(*store_, "r/put.bin", CancelToken());
  EXPECT_EQ(adopted.key, "r/adopted.txt");
  EXPECT_FALSE(adopted.previous.empty());
  EXPECT_FALSE(put.previous.empty());
  EXPECT_FALSE(store_->size_of("r/adopted.txt"));
  EXPECT_FALSE(store_->size_of("r/put.bin"));
  EXPECT_FALSE(std::filesystem::exists(store_->local_copy("r/adopted.txt")));
  ASSERT_EQ(store_->list("").size(), 1u);  // the other object stays
  EXPECT_EQ(store_->list("")[0].key, "r/other.bin");
  undo_adopt(*store_, put);
  undo_adopt(*store_, adopted);
  EXPECT_EQ(store_->size_of("r/adopted.txt"), 9u);
  EXPECT_EQ(read_file(store_->local_copy("r/adopted.txt")), "old bytes");
  EXPECT_EQ(store_->size_of("r/put.bin"), 3000u);
  store_->get("r/put.bin", local_.file("put.bin"), CancelToken());
  EXPECT_EQ(read_file(local_.file("put.bin")), std::string(3000, 'a'));
  EXPECT_EQ(store_->list("").size(), 3u);
  EXPECT_EQ(staged_files(*store_), 0u);  // nothing stays aside
}

TEST_P(StoreTest, AKeptRemovalLeavesNothingAside) {
  store_->put(local_.file("b.bin"), "r/gone.bin", CancelToken());
  const AdoptUndo undo = remove_undoable(*store_, "r/gone.bin", CancelToken());
  EXPECT_GT(staged_files(*store_), 0u);  // what it held, until the removal is kept or taken back
  forget_adopt(undo);
  EXPECT_FALSE(store_->size_of("r/gone.bin"));
  EXPECT_TRUE(store_->list("").empty());
  EXPECT_EQ(staged_files(*store_), 0u);
}

TEST_P(StoreTest, RemovingAMissingObjectKeepsNothingAndDoesNothing) {
  store_->put(local_.file("b.bin"), "r/there.bin", CancelToken());
  const AdoptUndo undo = remove_undoable(*store_, "r/missing.bin", CancelToken());
  EXPECT_EQ(undo.key, "r/missing.bin");
  EXPECT_EQ(undo.previous, "");
  EXPECT_EQ(undo.previous_copy, "");
  EXPECT_EQ(staged_files(*store_), 0u);
  undo_adopt(*store_, undo);  // taking nothing back changes nothing
  forget_adopt(undo);
  EXPECT_FALSE(store_->size_of("r/missing.bin"));
  ASSERT_EQ(store_->list("").size(), 1u);
  EXPECT_EQ(store_->size_of("r/there.bin"), 3u);
  try {
    remove_undoable(*store_, "../r/there.bin", CancelToken());
    ADD_FAILURE() << "a bad key was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
  }
  EXPECT_EQ(staged_files(*store_), 0u);
}

TEST_P(StoreTest, MissingObjectsAndBadKeysAreClearErrors) {
  EXPECT_THROW(store_->get("nope.bin", local_.file("n"), CancelToken()), Error);
  EXPECT_FALSE(std::filesystem::exists(local_.file("n")));
  for (const char* bad : {"../x", "/etc/passwd", "a//b", ".hidden/x", "a/", "", "a b", "a/../b"}) {
    try {
      store_->put(local_.file("a.bin"), bad, CancelToken());
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::invalid_argument) << bad;
    }
  }
  EXPECT_TRUE(store_->list("").empty());
}

INSTANTIATE_TEST_SUITE_P(Store, StoreTest, testing::Values("local", "s3"), store_kind);

TEST(Store, SettingsAreChecked) {
  TempDir d;
  for (const char* bad :
       {"relative/dir", "s3://", "s3://Bad_Bucket", "gs://bucket", "s3://b/../x", "/", "//"})
    EXPECT_THROW(open_store(bad, d.file(""), {}), Error) << bad;
  EXPECT_EQ(open_store("/srv/geoetl/", d.file(""), {})->uri("a/b"), "/srv/geoetl/a/b");
  EXPECT_EQ(open_store("s3://bucket/", d.file(""), {})->uri("a/b"), "s3://bucket/a/b");
}

TEST(Store, ALocalPutThatFailsLeavesNothing) {
  TempDir d;
  auto store = open_store("", d.file("store"), {});
  EXPECT_THROW(store->put(d.file("missing.bin"), "k/x.bin", CancelToken()), Error);
  EXPECT_TRUE(store->list("").empty());
  std::ofstream(d.file("a.bin")) << "aaa";
  EXPECT_THROW(store->put(d.file("a.bin"), "k/x.bin", CancelToken([] { return true; })), Error);
  EXPECT_TRUE(store->list("").empty());
  EXPECT_TRUE(std::filesystem::is_empty(d.file("store/k")));  // no temporary file either
}

TEST(Store, ALocalPutOrGetOnAFullDiskLeavesWhatWasThere) {
  TempDir d;
  auto store = open_store("", d.file("store"), {});
  std::ofstream(d.file("small.bin")) << "small";
  std::ofstream(d.file("big.bin"), std::ios::binary) << std::string(3000, 'b');
  store->put(d.file("small.bin"), "k/x.bin", CancelToken());
  store->put(d.file("big.bin"), "k/big.bin", CancelToken());
  std::ofstream(d.file("copy.bin")) << "the local copy";
  {
    const FileSizeLimit disk(1000);
    EXPECT_THROW(store->put(d.file("big.bin"), "k/x.bin", CancelToken()), Error);
    EXPECT_THROW(store->get("k/big.bin", d.file("copy.bin"), CancelToken()), Error);
  }
  EXPECT_EQ(read_file(store->local_copy("k/x.bin")), "small");
  EXPECT_EQ(read_file(d.file("copy.bin")), "the local copy");
  std::vector<std::string> names;  // no unfinished copy left anywhere
  for (const auto& e : std::filesystem::recursive_directory_iterator(d.file("")))
    names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, std::vector<std::string>(
                       {"big.bin", "big.bin", "copy.bin", "k", "small.bin", "store", "x.bin"}));
}

}  // namespace

TEST(Store, SweepRemovesOnlyLeftoversNotTouchedForLong) {
  namespace fs = std::filesystem;
  TempDir d;
  const std::string root = d.file("store");
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(2);
  auto make = [&](const std::string& rel, bool is_old) {
    const fs::path p = root + "/" + rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "bytes";
    if (is_old) fs::last_write_time(p, old);
    return p;
  };
  // 4194305: above Linux's largest pid (PID_MAX_LIMIT), never a process that runs
  const fs::path staged = make(".staging/blackmarble_a.h5.4194305", true);   // a dead fetch's file
  const fs::path partial = make(".staging/b.h5.4194305.part-Ab12Cd", true);  // its download
  const fs::path beside = make("blackmarble/x.h5.part-Zx81Qq", true);        // a put that died
  const fs::path cached = make(".cache/blackmarble/k.h5.part-123456", true);
  const fs::path fresh = make(".staging/c.json.part-Qw34Er", false);  // a writer at work
  const fs::path object = make("blackmarble/x.h5", true);             // objects stay
  const fs::path named = make("blackmarble/y.part-7chars7", true);    // not mkstemp's name
  const fs::path bare = make("blackmarble/.part-Ab12Cd", true);
  EXPECT_EQ(sweep_leftovers(root, 3600), 4u);
  for (const fs::path& p : {staged, partial, beside, cached}) EXPECT_FALSE(fs::exists(p)) << p;
  for (const fs::path& p : {fresh, object, named, bare}) EXPECT_TRUE(fs::exists(p)) << p;
  EXPECT_EQ(sweep_leftovers(root, 3600), 0u);
  EXPECT_EQ(sweep_leftovers(root, 0), 1u);  // age 0: the fresh one too
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_EQ(sweep_leftovers(d.file("no-such-folder"), 0), 0u);
  // an age beyond the clock's range removes nothing (it must not wrap into the future)
  const fs::path ancient = make(".staging/d.h5.4194305", true);
  EXPECT_EQ(sweep_leftovers(root, 200LL * 366 * 24 * 3600), 0u);
  EXPECT_EQ(sweep_leftovers(root, INT64_MAX), 0u);
  EXPECT_TRUE(fs::exists(ancient));
  EXPECT_EQ(sweep_leftovers("/", 0), 0u);  // never the whole file system
  // no object can be mistaken for an unfinished copy: such keys are refused
  EXPECT_THROW(check_store_key("modis/granule.part-000001"), Error);
  EXPECT_THROW(check_store_key("a.part-x/b.h5"), Error);
  EXPECT_NO_THROW(check_store_key("modis/part-1/granule.h5"));
}

TEST(Store, SweepLeavesFilesWhoseWriterStillRuns) {
  namespace fs = std::filesystem;
  TempDir d;
  const std::string root = d.file("store");
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(48);
  auto make = [&](const std::string& rel) {
    const fs::path p = root + "/" + rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "bytes";
    fs::last_write_time(p, old);
    return p;
  };
  const std::string alive = std::to_string(getpid());
  const pid_t child = fork();  // a process that has ended: its pid names no writer
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  const std::string dead = std::to_string(child);
  // what this (running) process writes, untouched for two days: a download, its staged file,
  // an unfinished copy beside an object, a file kept aside for an undo
  const fs::path downloading = make(".staging/blackmarble_a.h5." + alive + ".part-Ab12Cd");
  const fs::path staged = make(".staging/blackmarble_a.h5." + alive);
  const fs::path copying = make("stac/x/red.tif." + alive + ".part-Zx81Qq");
  const fs::path aside = make(".staging/undo-1." + alive);
  const fs::path gone = make(".staging/blackmarble_b.h5." + dead + ".part-Qw34Er");
  EXPECT_EQ(sweep_leftovers(root, 0), 1u);
  EXPECT_FALSE(fs::exists(gone));
  for (const fs::path& p : {downloading, staged, copying, aside}) EXPECT_TRUE(fs::exists(p)) << p;
}
