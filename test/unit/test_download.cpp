#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "transfer/download.h"
#include "base/error.h"
#include "file_size_limit.h"
#include "test_http_server.h"
#include "tiff_writer.h"

using namespace geoetl;

namespace {

const std::string hdf5_signature("\x89HDF\r\n\x1a\n", 8);

class Download : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    served_ = new TempDir();
    std::ofstream(served_->file("granule.h5"), std::ios::binary)
        << hdf5_signature << std::string(5000, 'g');
    std::ofstream(served_->file("login.h5"))
        << "\n<!DOCTYPE html><html><body>Please log in</body></html>";
    std::ofstream(served_->file("tiny.h5")) << "Unauthorized";
    std::ofstream(served_->file("garbage.h5")) << std::string(200, 'z');
    std::ofstream(served_->file("hello.json")) << " {\"hello\": \"world\"}";
    std::ofstream(served_->file("hello.txt")) << "hello, world";
    server_ = new TestHttpServer(served_->file(""));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete served_;
  }
  void SetUp() override { store_ = std::make_unique<TempDir>(); }
  static HttpOptions quick() {
    HttpOptions o;
    o.backoff_s = 0.01;
    o.backoff_max_s = 0.05;
    o.max_attempts = 3;
    o.timeout_s = 5;
    return o;
  }
  // What the store folder holds (the test's own files only).
  std::vector<std::string> store_files() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(store_->file("")))
      names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
  ErrorKind fails(const std::string& path, FileKind kind, std::string* message = nullptr,
                  const CancelToken& cancel = CancelToken()) {
    try {
      download_file(server_->url(path), store_->file("out.h5"), kind, quick(), cancel);
    } catch (const Error& e) {
      if (message) *message = e.what();
      return e.kind();
    }
    return ErrorKind::internal;
  }
  static TempDir* served_;
  static TestHttpServer* server_;
  std::unique_ptr<TempDir> store_;
};
TempDir* Download::served_ = nullptr;
TestHttpServer* Download::server_ = nullptr;

TEST_F(Download, AFileArrivesWholeWithItsHash) {
  const Downloaded d = download_file(server_->url("/granule.h5"), store_->file("g.h5"),
                                     FileKind::hdf5, quick(), CancelToken());
  EXPECT_EQ(d.bytes, 5008u);
  EXPECT_EQ(read_file(store_->file("g.h5")), read_file(served_->file("granule.h5")));
  EXPECT_EQ(d.sha256, sha256_file(served_->file("granule.h5")));
  EXPECT_EQ(store_files(), std::vector<std::string>{"g.h5"});  // no temporary file left
  const Downloaded text = download_file(server_->url("/hello.txt"), store_->file("h.txt"),
                                        FileKind::any, quick(), CancelToken());
  EXPECT_EQ(text.sha256, "09ca7e4eaa6e8ae9c7d261167129184883644d07dfba7cbfbc4c8a2e08360d5b");
  EXPECT_EQ(sha256_file(store_->file("h.txt")), text.sha256);
}

TEST_F(Download, ARetriedDownloadKeepsOnlyTheLastAttempt) {
  const Downloaded d = download_file(server_->url("/flaky/2/granule.h5"), store_->file("g.h5"),
                                     FileKind::hdf5, quick(), CancelToken());
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(d.bytes, 5008u);
  EXPECT_EQ(d.sha256, sha256_file(served_->file("granule.h5")));
}

TEST_F(Download, LoginPagesAndWrongFilesNeverLandAndLeaveNothing) {
  std::string message;
  EXPECT_EQ(fails("/login.h5", FileKind::hdf5, &message), ErrorKind::permission_denied);
  EXPECT_EQ(
      message,
      "authentication failed or licence not accepted: an HTML page came instead of an HDF5 file");
  EXPECT_EQ(fails("/tiny.h5", FileKind::hdf5, &message), ErrorKind::permission_denied);
  EXPECT_EQ(fails("/bearer/granule.h5", FileKind::hdf5, &message), ErrorKind::permission_denied);
  EXPECT_NE(message.find("authentication failed or licence not accepted"), std::string::npos);
  EXPECT_EQ(fails("/garbage.h5", FileKind::hdf5), ErrorKind::data_corrupted);
  EXPECT_EQ(fails("/garbage.h5", FileKind::tiff), ErrorKind::data_corrupted);
  EXPECT_EQ(fails("/login.h5", FileKind::json), ErrorKind::permission_denied);
  EXPECT_EQ(fails("/garbage.h5", FileKind::json), ErrorKind::data_corrupted);
  EXPECT_EQ(fails("/status/404/granule.h5", FileKind::hdf5), ErrorKind::not_found);
  EXPECT_EQ(fails("/status/500/granule.h5", FileKind::hdf5), ErrorKind::network_error);
  EXPECT_EQ(fails("/truncated/granule.h5", FileKind::hdf5), ErrorKind::network_error);
  EXPECT_TRUE(store_files().empty());
}

TEST_F(Download, AFailedDownloadLeavesTheFileItWouldReplaceAlone) {
  std::ofstream(store_->file("out.h5")) << "the good copy";
  EXPECT_EQ(fails("/truncated/granule.h5", FileKind::hdf5), ErrorKind::network_error);
  EXPECT_EQ(read_file(store_->file("out.h5")), "the good copy");
  EXPECT_EQ(store_files(), std::vector<std::string>{"out.h5"});
  download_file(server_->url("/granule.h5"), store_->file("out.h5"), FileKind::hdf5, quick(),
                CancelToken());
  EXPECT_EQ(read_file(store_->file("out.h5")), read_file(served_->file("granule.h5")));
}

TEST_F(Download, AFileOverTheLimitStopsAndLeavesNothing) {
  HttpOptions o = quick();
  o.max_body_bytes = 1000;  // granule.h5 has 5008 bytes
  try {
    download_file(server_->url("/granule.h5"), store_->file("g.h5"), FileKind::hdf5, o,
                  CancelToken());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::limit_exceeded);
  }
  EXPECT_TRUE(store_files().empty());
}

TEST_F(Download, ACancelledDownloadLeavesNothing) {
  const auto start = std::chrono::steady_clock::now();
  const CancelToken soon([start] {
    return std::chrono::steady_clock::now() - start > std::chrono::milliseconds(200);
  });
  EXPECT_EQ(fails("/slow/5/granule.h5", FileKind::hdf5, nullptr, soon), ErrorKind::cancelled);
  EXPECT_TRUE(store_files().empty());
}

TEST_F(Download, AFullDiskIsAClearErrorAndLeavesTheOldFile) {
  std::ofstream(store_->file("out.h5")) << "the good copy";
  try {
    const FileSizeLimit disk(1000);  // granule.h5 has 5008 bytes
    download_file(server_->url("/granule.h5"), store_->file("out.h5"), FileKind::hdf5, quick(),
                  CancelToken());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io_error);
    EXPECT_EQ(std::string(e.what()), "cannot write \"" + store_->file("out.h5") + "\"");
    EXPECT_EQ(e.hint(), "Is the store's disk full or read-only?");
  }
  EXPECT_EQ(read_file(store_->file("out.h5")), "the good copy");
  EXPECT_EQ(store_files(), std::vector<std::string>{"out.h5"});
}

TEST_F(Download, AFolderThatCannotBeWrittenIsAClearError) {
  std::string message;
  try {
    download_file(server_->url("/granule.h5"), store_->file("missing/g.h5"), FileKind::hdf5,
                  quick(), CancelToken());
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io_error);
    message = e.what();
  }
  EXPECT_NE(message.find("cannot create a file beside"), std::string::npos) << message;
}

TEST(FileKind, FirstBytesTellTheKind) {
  EXPECT_EQ(check_file_kind(hdf5_signature + std::string(100, 'x'), 108, FileKind::hdf5), "");
  EXPECT_EQ(check_file_kind(std::string("II*\0", 4) + std::string(100, 'x'), 104, FileKind::tiff),
            "");
  EXPECT_EQ(check_file_kind(std::string("MM\0*", 4) + std::string(100, 'x'), 104, FileKind::tiff),
            "");
  EXPECT_EQ(check_file_kind(std::string("II+\0", 4) + std::string(100, 'x'), 104, FileKind::tiff),
            "");
  EXPECT_EQ(check_file_kind("  [1, 2]", 8, FileKind::json), "");
  EXPECT_NE(
      check_file_kind("<HTML><BODY>x</BODY></HTML>" + std::string(100, ' '), 127, FileKind::tiff),
      "");
  EXPECT_NE(check_file_kind(hdf5_signature, 8, FileKind::hdf5), "");  // too small to be a granule
  EXPECT_EQ(check_file_kind("anything", 8, FileKind::any), "");
}

}  // namespace
