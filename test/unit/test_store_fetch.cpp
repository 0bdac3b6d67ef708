// store_fetch (SQL: geoetl._store_fetch): a checked download into a local store, against the
// test HTTP server; staged under this process's id, adopted with an undo, nothing left on failure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "test_http_server.h"
#include "tiff_writer.h"
#include "transfer/atomic_file.h"
#include "transfer/store_fetch.h"

using namespace geoetl;
namespace fs = std::filesystem;

namespace {

const std::string hdf5_signature("\x89HDF\r\n\x1a\n", 8);

class StoreFetch : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    served_ = new TempDir();
    std::ofstream(served_->file("granule.h5"), std::ios::binary)
        << hdf5_signature << std::string(5000, 'g');
    std::ofstream(served_->file("login.h5")) << "<!DOCTYPE html><html><body>Log in</body></html>";
    server_ = new TestHttpServer(served_->file(""));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete served_;
  }
  void SetUp() override { store_ = open_store("", dir_.file("store"), {}); }
  static HttpOptions quick() {
    HttpOptions o;
    o.backoff_s = 0.01;
    o.backoff_max_s = 0.05;
    o.max_attempts = 2;
    o.timeout_s = 5;
    return o;
  }
  StoreFetched fetch(const std::string& path, const std::string& key,
                     const std::string& kind = "hdf5", const CancelToken& cancel = CancelToken()) {
    return store_fetch(*store_, server_->url(path), key, kind, quick(), cancel);
  }
  ErrorKind fails(const std::string& path, const std::string& key, const std::string& kind = "hdf5",
                  std::string* message = nullptr, const CancelToken& cancel = CancelToken()) {
    try {
      fetch(path, key, kind, cancel);
    } catch (const Error& e) {
      if (message != nullptr) *message = e.what();
      return e.kind();
    }
    return ErrorKind::internal;
  }
  // Every file below the store's folder, relative to it.
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    if (!fs::exists(dir_.file("store"))) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir_.file("store")))
      if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir_.file("store")));
    std::sort(out.begin(), out.end());
    return out;
  }
  static TempDir* served_;
  static TestHttpServer* server_;
  TempDir dir_;
  std::unique_ptr<Store> store_;
};
TempDir* StoreFetch::served_ = nullptr;
TestHttpServer* StoreFetch::server_ = nullptr;

TEST_F(StoreFetch, AFetchedFileBecomesTheObject) {
  const StoreFetched f = fetch("/granule.h5", "bm/2024/g.h5");
  EXPECT_EQ(f.uri, dir_.file("store/bm/2024/g.h5"));
  EXPECT_EQ(f.local_path, f.uri);  // a local store's object is its own local copy
  EXPECT_EQ(f.bytes, 5008u);
  EXPECT_EQ(f.sha256, sha256_file(served_->file("granule.h5")));
  EXPECT_EQ(read_file(f.local_path), read_file(served_->file("granule.h5")));
  EXPECT_TRUE(f.undo.previous.empty());  // nothing was replaced
  EXPECT_EQ(f.undo.key, "bm/2024/g.h5");
  EXPECT_EQ(files(), std::vector<std::string>{"bm/2024/g.h5"});  // nothing staged stays
  EXPECT_TRUE(fs::is_empty(store_->staging_dir()));
}

TEST_F(StoreFetch, AReplacedObjectCanBeTakenBack) {
  fs::create_directories(dir_.file("store/bm"));
  std::ofstream(dir_.file("store/bm/g.h5")) << "the old object";
  const StoreFetched f = fetch("/granule.h5", "bm/g.h5");
  EXPECT_EQ(read_file(f.local_path), read_file(served_->file("granule.h5")));
  ASSERT_FALSE(f.undo.previous.empty());
  EXPECT_EQ(read_file(f.undo.previous), "the old object");
  undo_adopt(*store_, f.undo);  // the transaction failed
  EXPECT_EQ(read_file(dir_.file("store/bm/g.h5")), "the old object");
  EXPECT_EQ(files(), std::vector<std::string>{"bm/g.h5"});
  // kept: the new object stays and nothing kept aside does
  forget_adopt(fetch("/granule.h5", "bm/g.h5").undo);
  EXPECT_EQ(read_file(dir_.file("store/bm/g.h5")), read_file(served_->file("granule.h5")));
  EXPECT_EQ(files(), std::vector<std::string>{"bm/g.h5"});
}

TEST_F(StoreFetch, AFailedDownloadLeavesTheStoreAsItWas) {
  fs::create_directories(dir_.file("store/bm"));
  std::ofstream(dir_.file("store/bm/g.h5")) << "the old object";
  std::string message;
  EXPECT_EQ(fails("/login.h5", "bm/g.h5", "hdf5", &message), ErrorKind::permission_denied);
  EXPECT_NE(message.find("authentication failed"), std::string::npos) << message;
  EXPECT_EQ(fails("/status/404/granule.h5", "bm/g.h5"), ErrorKind::not_found);
  EXPECT_EQ(fails("/truncated/granule.h5", "bm/g.h5"), ErrorKind::network_error);
  EXPECT_EQ(fails("/granule.h5", "bm/g.h5", "tiff"), ErrorKind::data_corrupted);
  const auto start = std::chrono::steady_clock::now();
  const CancelToken soon([start] {
    return std::chrono::steady_clock::now() - start > std::chrono::milliseconds(200);
  });
  EXPECT_EQ(fails("/slow/5/granule.h5", "bm/g.h5", "hdf5", nullptr, soon), ErrorKind::cancelled);
  EXPECT_EQ(read_file(dir_.file("store/bm/g.h5")), "the old object");
  EXPECT_EQ(files(), std::vector<std::string>{"bm/g.h5"});
}

TEST_F(StoreFetch, AnObjectThatCannotBeAdoptedLeavesNoStagedFile) {
  fs::create_directories(dir_.file("store"));
  std::ofstream(dir_.file("store/blocked")) << "a file where the key needs a folder";
  EXPECT_EQ(fails("/granule.h5", "blocked/g.h5"), ErrorKind::io_error);
  EXPECT_EQ(files(), std::vector<std::string>{"blocked"});
  EXPECT_TRUE(fs::is_empty(store_->staging_dir()));
}

TEST_F(StoreFetch, BadKeysKindsAndStoresAreClearErrors) {
  std::string message;
  EXPECT_EQ(fails("/granule.h5", "../outside.h5", "hdf5", &message), ErrorKind::invalid_argument);
  EXPECT_EQ(message, "invalid store key \"../outside.h5\"");
  EXPECT_EQ(fails("/granule.h5", "g.h5.part-Ab12Cd"), ErrorKind::invalid_argument);
  EXPECT_EQ(fails("/granule.h5", "g.h5", "png", &message), ErrorKind::invalid_argument);
  EXPECT_EQ(message, "unknown file kind \"png\"");
  EXPECT_FALSE(fs::exists(dir_.file("store")));  // refused before anything was made
  // a store whose staging folder cannot be made
  std::ofstream(dir_.file("not-a-folder")) << "x";
  store_ = open_store("", dir_.file("not-a-folder"), {});
  EXPECT_EQ(fails("/granule.h5", "g.h5", "hdf5", &message), ErrorKind::io_error);
  EXPECT_EQ(message, "cannot create \"" + dir_.file("not-a-folder/.staging") + "\"");
}

TEST_F(StoreFetch, StagedFilesCarryTheWritersPid) {
  const std::string staged = staged_file_name(*store_, "bm/2024/g.h5");
  EXPECT_EQ(staged, store_->staging_dir() + "/bm_2024_g.h5." + std::to_string(getpid()));
  EXPECT_EQ(writer_pid(fs::path(staged).filename()), getpid());
  EXPECT_EQ(file_kind_named("hdf5"), FileKind::hdf5);
  EXPECT_EQ(file_kind_named("tiff"), FileKind::tiff);
  EXPECT_EQ(file_kind_named("json"), FileKind::json);
  EXPECT_EQ(file_kind_named("any"), FileKind::any);
}

}  // namespace
