// A month's tiles into the store (tiles/render_month.h): XYZ files per zoom, written whole, left
// alone when unchanged, removed when their tile went dark; one PMTiles archive of every zoom whose
// tiles read back as the renderer made them, the empty ones sharing one transparent PNG.
#include <gtest/gtest.h>

#include <gdal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>

#include "base/error.h"
#include "tiff_writer.h"
#include "tiles/pmtiles.h"
#include "tiles/render_month.h"

using namespace geoetl;

namespace {

// A composite over 35-37 E, 0-2 N at 1/120 degree: `value` in its western half, 0 elsewhere.
std::string composite(const TempDir& dir, float value, const std::string& name) {
  TiffSpec s;
  s.width = s.height = 240;
  const double gt[6] = {35, 1.0 / 120, 0, 2, 0, -1.0 / 120};
  std::copy(gt, gt + 6, s.gt);
  s.srs = "EPSG:4326";
  s.has_nodata = true;
  s.nodata = -999;
  for (int r = 0; r < 240; r++)
    for (int c = 0; c < 240; c++) s.values.push_back(c < 120 ? value : 0);
  return write_tiff(dir.file(name), s);
}

std::set<std::string> keys(Store& store, const std::string& prefix) {
  std::set<std::string> out;
  for (const StoreEntry& e : store.list(prefix)) out.insert(e.key);
  return out;
}

}  // namespace

class RenderMonth : public testing::Test {
 protected:
  void SetUp() override { GDALAllRegister(); }
  TempDir dir_, store_dir_;
  std::unique_ptr<Store> store_ = open_store("", store_dir_.path(), {});
  const Bounds area_{35, 0, 37, 2};
};

TEST_F(RenderMonth, XyzTilesAreWrittenOnceAndRemovedWhenDark) {
  const TileRenderer lit({composite(dir_, 9, "lit.tif")});
  TileCounts total;
  for (int z = 5; z <= 8; z++) {
    const TileCounts n =
        render_xyz_zoom(lit, *store_, "tiles/X/2024-01", {area_}, z, CancelToken());
    EXPECT_EQ(n.tiles, static_cast<int64_t>(tiles_over(area_, z).size()));
    EXPECT_EQ(n.unchanged + n.removed, 0);
    total.written += n.written;
    total.empty += n.empty;
  }
  const std::set<std::string> files = keys(*store_, "tiles/X/2024-01/");
  EXPECT_EQ(static_cast<int64_t>(files.size()), total.written);
  EXPECT_GT(total.written, 3);
  EXPECT_GT(total.empty, 0);  // the zoom-8 tiles over the dark half only
  // each file is the tile's PNG
  const std::string png = lit.png({8, 153, 127}, CancelToken());
  std::ifstream in(store_dir_.file("tiles/X/2024-01/8/153/127.png"), std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), png);
  // again: nothing written
  for (int z = 5; z <= 8; z++) {
    const TileCounts n =
        render_xyz_zoom(lit, *store_, "tiles/X/2024-01", {area_}, z, CancelToken());
    EXPECT_EQ(n.written, 0);
    EXPECT_EQ(n.bytes, 0u);
    EXPECT_EQ(n.unchanged, n.tiles - n.empty);
  }
  // the month went dark: every file removed, nothing staged left
  const TileRenderer dark({composite(dir_, 0, "dark.tif")});
  int64_t removed = 0;
  for (int z = 5; z <= 8; z++)
    removed += render_xyz_zoom(dark, *store_, "tiles/X/2024-01", {area_}, z, CancelToken()).removed;
  EXPECT_EQ(removed, total.written);
  EXPECT_TRUE(keys(*store_, "tiles/").empty());
  EXPECT_TRUE(std::filesystem::is_empty(store_->staging_dir()));
}

TEST_F(RenderMonth, ACancelledZoomLeavesOnlyWholeFiles) {
  const TileRenderer lit({composite(dir_, 9, "lit.tif")});
  // cancelled once the first file is in place
  const CancelToken stop([&] { return !keys(*store_, "tiles/").empty(); });
  EXPECT_THROW(render_xyz_zoom(lit, *store_, "tiles/X/2024-01", {area_}, 8, stop), Error);
  EXPECT_EQ(keys(*store_, "tiles/").size(), 1u);  // of 4 lit tiles
  for (const std::string& k : keys(*store_, "tiles/")) {
    const auto p = k.rfind('/'), q = k.rfind('/', p - 1);
    const TileXyz t{8, static_cast<uint32_t>(std::stoul(k.substr(q + 1, p - q - 1))),
                    static_cast<uint32_t>(std::stoul(k.substr(p + 1)))};
    std::ifstream in(store_dir_.file(k), std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), lit.png(t, CancelToken())) << k;
  }
  EXPECT_TRUE(std::filesystem::is_empty(store_->staging_dir()));
}

TEST_F(RenderMonth, APmtilesArchiveHoldsEveryTileEmptyOnesOnce) {
  const TileRenderer lit({composite(dir_, 9, "lit.tif")});
  const std::string path = dir_.file("month.pmtiles");
  const TileCounts n = write_pmtiles(lit, path, {area_}, 4, 8, "{\"name\":\"x\"}", CancelToken());
  EXPECT_EQ(n.bytes, std::filesystem::file_size(path));
  const PmtilesReader r(path);
  EXPECT_EQ(r.header().min_zoom, 4);
  EXPECT_EQ(r.header().max_zoom, 8);
  EXPECT_EQ(static_cast<int64_t>(r.header().addressed_tiles), n.tiles);
  EXPECT_GT(n.empty, 0);
  // every distinct lit tile once, and one transparent tile for all the empty ones
  std::set<std::string> distinct;
  for (int z = 4; z <= 8; z++)
    for (const TileXyz& t : tiles_over(area_, z)) {
      const std::string png = lit.png(t, CancelToken());
      distinct.insert(png.empty() ? empty_tile_png() : png);
      EXPECT_EQ(r.tile(t).value_or("missing"), png.empty() ? empty_tile_png() : png);
    }
  EXPECT_EQ(r.header().tile_contents, distinct.size());
  EXPECT_FALSE(r.tile({8, 10, 10}).has_value());
  EXPECT_THROW(write_pmtiles(lit, dir_.file("bad.pmtiles"), {area_}, 5, 4, "{}", CancelToken()),
               Error);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("bad.pmtiles")));
}

TEST_F(RenderMonth, ARenderOfTooManyTilesIsRefusedBeforeAnyIsListed) {
  const TileRenderer lit({composite(dir_, 9, "lit.tif")});
  const std::vector<Bounds> world{{-180, -85, 180, 85}};
  EXPECT_GT(tile_count_over(world, 0, 12), kMaxRenderTiles);
  EXPECT_EQ(tile_count_over(world, 0, 1), 5u);  // 1 + 4
  EXPECT_EQ(tile_count_over({area_}, 8, 8), tiles_over(area_, 8).size());
  try {
    render_xyz_zoom(lit, *store_, "tiles/X/2024-01", world, 11, CancelToken());  // 4,194,304
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
  }
  EXPECT_THROW(write_pmtiles(lit, dir_.file("big.pmtiles"), world, 0, 12, "{}", CancelToken()),
               Error);
  EXPECT_TRUE(keys(*store_, "tiles/").empty());
  EXPECT_FALSE(std::filesystem::exists(dir_.file("big.pmtiles")));
}
