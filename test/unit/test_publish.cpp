// publish_file: a package file written under the store's staging folder, hashed and adopted as
// its key with an undo; nothing staged on failure or cancellation, the object unchanged.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "base/error.h"
#include "transfer/store_publish.h"
#include "package/raster_clip.h"
#include "test_store.h"
#include "tiff_writer.h"
#include "transfer/download.h"

using namespace geoetl;
namespace fs = std::filesystem;

namespace {

const char* const kKey = "packages/area-1/lights/v1/lights-v1-area-1.tif";

}  // namespace

TEST(Publish, AClipBecomesTheObjectWithItsSizeAndHash) {
  TempDir dir;
  TiffSpec spec = unit_grid(8);
  const Raster raster = Raster::open(write_tiff(dir.file("src.tif"), spec), "src.tif");
  const auto store = open_store("", dir.file("store"), {});
  std::string staged_as;
  const PublishedFile p = publish_file(
      *store, kKey,
      [&](const std::string& path) {
        staged_as = path;
        const MultiPolygon area{{Polygon{{Ring{{1, 1}, {5, 1}, {5, 5}, {1, 5}, {1, 1}}}}}};
        return clip_raster(raster, area, {}, path, CancelToken()).cells_in;
      },
      CancelToken());
  forget_adopt(p.undo);
  const std::string object = store->local_copy(kKey);
  EXPECT_EQ(p.items, 16);
  EXPECT_EQ(p.bytes, fs::file_size(object));
  EXPECT_EQ(p.sha256, sha256_file(object));
  EXPECT_EQ(p.uri, store->uri(kKey));
  EXPECT_EQ(fs::path(staged_as).extension(), ".tif");  // GDAL's drivers go by it
  EXPECT_NE(staged_as.find("." + std::to_string(getpid()) + "."), std::string::npos) << staged_as;
  EXPECT_EQ(staged_files(*store), 0u);
}

TEST(Publish, UndoPutsBackWhatWasThere) {
  TempDir dir;
  const auto store = open_store("", dir.file("store"), {});
  auto writing = [](const std::string& text) {
    return [text](const std::string& path) -> int64_t {
      std::ofstream(path) << text;
      return 1;
    };
  };
  forget_adopt(publish_file(*store, kKey, writing("first"), CancelToken()).undo);
  const PublishedFile second = publish_file(*store, kKey, writing("second"), CancelToken());
  EXPECT_EQ(read_file(store->local_copy(kKey)), "second");
  undo_adopt(*store, second.undo);
  EXPECT_EQ(read_file(store->local_copy(kKey)), "first");
  EXPECT_EQ(staged_files(*store), 0u);
}

TEST(Publish, AFailedOrCancelledWriteLeavesNothing) {
  TempDir dir;
  const auto store = open_store("", dir.file("store"), {});
  forget_adopt(publish_file(
                   *store, kKey,
                   [](const std::string& path) -> int64_t {
                     std::ofstream(path) << "published";
                     return 1;
                   },
                   CancelToken())
                   .undo);
  auto half_then = [](bool fail) {
    return [fail](const std::string& path) -> int64_t {
      std::ofstream(path) << "half";
      if (fail) throw Error(ErrorKind::io_error, "disk full");
      return 1;
    };
  };
  EXPECT_THROW(publish_file(*store, kKey, half_then(true), CancelToken()), Error);
  try {
    publish_file(*store, kKey, half_then(false), CancelToken([] { return true; }));
    ADD_FAILURE() << "not cancelled";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::cancelled);
  }
  EXPECT_THROW(publish_file(
                   *store, kKey, [](const std::string&) -> int64_t { return 0; }, CancelToken()),
               Error);  // wrote nothing
  EXPECT_THROW(publish_file(*store, "../escape.tif", half_then(false), CancelToken()), Error);
  EXPECT_EQ(read_file(store->local_copy(kKey)), "published");
  EXPECT_EQ(staged_files(*store), 0u);
}
