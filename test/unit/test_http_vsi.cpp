// The /vsigeoetl/ file system against a real HTTP server on 127.0.0.1
// (test/fixtures/http_server.py).
#include "transfer/http_vsi.h"

#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "gdal/gdal_env.h"
#include "test_http_server.h"
#include "tiff_writer.h"

using namespace geoetl;

namespace {

class HttpVsi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    std::mt19937 random(7);
    bytes_.resize(300 * 1000);  // many of the file system's 16 KiB chunks
    for (char& c : bytes_) c = static_cast<char>(random() & 0xff);
    std::ofstream(dir_->file("data.bin"), std::ios::binary).write(bytes_.data(), bytes_.size());
    server_ = new TestHttpServer(dir_->file(""));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  static std::string url(const std::string& path) { return server_->url(path); }
  static std::string vsi(const std::string& path) { return checked_http_prefix + url(path); }

  // Reads n bytes at offset of an open file; what VSIFReadL returned goes to *got.
  static std::string read_at(VSILFILE* f, uint64_t offset, size_t n, size_t* got) {
    std::string out(n, '\0');
    VSIFSeekL(f, offset, SEEK_SET);
    *got = VSIFReadL(out.data(), 1, n, f);
    out.resize(*got);
    return out;
  }
  static std::string expected(uint64_t offset, size_t n) { return bytes_.substr(offset, n); }

  static TempDir* dir_;
  static TestHttpServer* server_;
  static std::string bytes_;
};
TempDir* HttpVsi::dir_ = nullptr;
TestHttpServer* HttpVsi::server_ = nullptr;
std::string HttpVsi::bytes_;

RemoteReadPolicy below(const std::string& prefix) {
  RemoteReadPolicy p;
  p.allowed = [prefix](const std::string& u) { return u.rfind(prefix, 0) == 0; };
  p.timeout_s = 10;
  return p;
}

ErrorKind failure_kind(const RemoteReadScope& scope, std::string* message) {
  try {
    scope.rethrow_failure();
  } catch (const Error& e) {
    *message = e.what();
    return e.kind();
  }
  return ErrorKind::internal;  // no failure: never expected where this is asked
}

}  // namespace

TEST_F(HttpVsi, ReadsEqualTheFilesBytesWhereverTheyAre) {
  const CancelToken never;
  const RemoteReadScope scope(below(url("/")), never);
  VSIStatBufL st;
  ASSERT_EQ(VSIStatL(vsi("/data.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, static_cast<long>(bytes_.size()));
  VSILFILE* f = VSIFOpenL(vsi("/data.bin").c_str(), "rb");
  ASSERT_NE(f, nullptr);
  size_t got = 0;
  EXPECT_EQ(read_at(f, 0, 100, &got), expected(0, 100));
  EXPECT_EQ(read_at(f, 16380, 20, &got), expected(16380, 20));  // across two chunks
  EXPECT_EQ(read_at(f, 70000, 150000, &got), expected(70000, 150000));
  EXPECT_EQ(read_at(f, 299990, 10, &got), expected(299990, 10));  // the last bytes
  EXPECT_EQ(read_at(f, 299995, 10, &got), expected(299995, 5));   // past the end: fewer
  EXPECT_EQ(got, 5u);
  EXPECT_TRUE(VSIFEofL(f));
  VSIFCloseL(f);
  EXPECT_NO_THROW(scope.rethrow_failure());
}

TEST_F(HttpVsi, AGeoTiffReadsAsTheLocalFile) {
  TiffSpec spec;
  spec.width = spec.height = 300;
  spec.block = 64;
  const std::string local = write_tiff(dir_->file("grid.tif"), spec);
  const CancelToken never;
  const RemoteReadScope scope(below(url("/")), never);
  const NoSidecarFiles sidecars;
  GDALDatasetH remote =
      GDALOpenEx(vsi("/grid.tif").c_str(), GDAL_OF_RASTER, nullptr, nullptr, nullptr);
  ASSERT_NE(remote, nullptr);
  GDALDatasetH file = GDALOpen(local.c_str(), GA_ReadOnly);
  EXPECT_EQ(GDALChecksumImage(GDALGetRasterBand(remote, 1), 0, 0, 300, 300),
            GDALChecksumImage(GDALGetRasterBand(file, 1), 0, 0, 300, 300));
  GDALClose(remote);
  GDALClose(file);
  EXPECT_NO_THROW(scope.rethrow_failure());
}

TEST_F(HttpVsi, RedirectsInsideTheAllowListAreFollowed) {
  const CancelToken never;
  const RemoteReadScope scope(below(url("/")), never);
  VSILFILE* f = VSIFOpenL(vsi("/redirect/2/data.bin").c_str(), "rb");
  ASSERT_NE(f, nullptr);
  size_t got = 0;
  EXPECT_EQ(read_at(f, 1000, 5000, &got), expected(1000, 5000));
  VSIFCloseL(f);
}

TEST_F(HttpVsi, ARedirectMidReadOutsideTheAllowListIsRefused) {
  // the server answers the size (HEAD) and the first chunk, then redirects to /data.bin
  const CancelToken never;
  const RemoteReadScope scope(below(url("/switch/")), never);
  VSILFILE* f = VSIFOpenL(vsi("/switch/2/data.bin?mid").c_str(), "rb");
  ASSERT_NE(f, nullptr);
  size_t got = 0;
  EXPECT_EQ(read_at(f, 0, 100, &got), expected(0, 100));
  EXPECT_NO_THROW(scope.rethrow_failure());
  EXPECT_EQ(read_at(f, 200000, 100, &got), "");  // a chunk not read yet: a new request
  EXPECT_EQ(got, 0u);
  VSIFCloseL(f);
  std::string message;
  EXPECT_EQ(failure_kind(scope, &message), ErrorKind::permission_denied);
  EXPECT_EQ(message, "a redirect to \"" + url("/data.bin?mid") + "\" is not allowed");
}

TEST_F(HttpVsi, ARedirectAtTheOpenIsRefusedAndNothingOpens) {
  const CancelToken never;
  const RemoteReadScope scope(below(url("/switch/")), never);
  EXPECT_EQ(VSIFOpenL(vsi("/switch/0/data.bin?open").c_str(), "rb"), nullptr);
  std::string message;
  EXPECT_EQ(failure_kind(scope, &message), ErrorKind::permission_denied);
  EXPECT_EQ(message, "a redirect to \"" + url("/data.bin?open") + "\" is not allowed");
}

TEST_F(HttpVsi, ServerAnswersBecomeTheirErrors) {
  const CancelToken never;
  {
    const RemoteReadScope scope(below(url("/")), never);
    EXPECT_EQ(VSIFOpenL(vsi("/missing.bin").c_str(), "rb"), nullptr);
    std::string message;
    EXPECT_EQ(failure_kind(scope, &message), ErrorKind::not_found);
    EXPECT_EQ(message, "raster \"" + url("/missing.bin") + "\" does not exist");
  }
  {
    const RemoteReadScope scope(below(url("/")), never);
    EXPECT_EQ(VSIFOpenL(vsi("/status/403/data.bin").c_str(), "rb"), nullptr);
    std::string message;
    EXPECT_EQ(failure_kind(scope, &message), ErrorKind::permission_denied);
  }
}

TEST_F(HttpVsi, OnlyReadingInsideAScopeOpens) {
  EXPECT_EQ(VSIFOpenL(vsi("/data.bin").c_str(), "rb"), nullptr);  // no scope: no policy
  const CancelToken never;
  const RemoteReadScope scope(below(url("/")), never);
  EXPECT_EQ(VSIFOpenL(vsi("/data.bin").c_str(), "wb"), nullptr);
  EXPECT_EQ(VSIFOpenL((std::string(checked_http_prefix) + "file:///etc/passwd").c_str(), "rb"),
            nullptr);
}

TEST_F(HttpVsi, ACancelledCallStopsAWaitingReadWithinASecond) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  const CancelToken cancel(
      [start] { return Clock::now() - start > std::chrono::milliseconds(200); });
  const RemoteReadScope scope(below(url("/")), cancel);
  EXPECT_EQ(VSIFOpenL(vsi("/slow/5/data.bin").c_str(), "rb"), nullptr);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1200));
  std::string message;
  EXPECT_EQ(failure_kind(scope, &message), ErrorKind::cancelled);
}
