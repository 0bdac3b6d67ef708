// Night-light tiles rendered from composites (tiles/render.h): warped onto the tile's Web
// Mercator grid, coloured, encoded as PNG; nothing for a tile without light.
#include <gtest/gtest.h>

#include <cpl_vsi.h>
#include <gdal.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"
#include "gdal/gdal_env.h"
#include "tiff_writer.h"
#include "tiles/ramp.h"
#include "tiles/render.h"

using namespace geoetl;

namespace {

// A composite in EPSG:4326 over 35-37 E (or west_edge to 2 degrees east of it), 0-2 N at 1/120
// degree (240 x 240 cells): `value` in its western half, dark (0) in the eastern, no data in its
// northern row.
std::string composite(const TempDir& dir, float value, double west_edge = 35,
                      const std::string& name = "composite.tif") {
  TiffSpec s;
  s.width = s.height = 240;
  const double gt[6] = {west_edge, 1.0 / 120, 0, 2, 0, -1.0 / 120};
  std::copy(gt, gt + 6, s.gt);
  s.srs = "EPSG:4326";
  s.has_nodata = true;
  s.nodata = -999;
  for (int r = 0; r < 240; r++)
    for (int c = 0; c < 240; c++) s.values.push_back(r == 0 ? -999 : c < 120 ? value : 0);
  return write_tiff(dir.file(name), s);
}

// The PNG's RGBA pixels, read back with GDAL.
std::vector<uint8_t> decode(const std::string& png) {
  const std::string name = "/vsimem/test_tile.png";
  VSIFCloseL(VSIFileFromMemBuffer(
      name.c_str(), reinterpret_cast<GByte*>(const_cast<char*>(png.data())), png.size(), FALSE));
  GDALDatasetH ds = GDALOpen(name.c_str(), GA_ReadOnly);
  std::vector<uint8_t> rgba(256 * 256 * 4);
  EXPECT_NE(ds, nullptr);
  if (ds != nullptr) {
    EXPECT_EQ(GDALGetRasterCount(ds), 4);
    EXPECT_EQ(GDALDatasetRasterIO(ds, GF_Read, 0, 0, 256, 256, rgba.data(), 256, 256, GDT_Byte, 4,
                                  nullptr, 4, 4 * 256, 1),
              CE_None);
    GDALClose(ds);
  }
  VSIUnlink(name.c_str());
  return rgba;
}

}  // namespace

class TileRender : public testing::Test {
 protected:
  void SetUp() override { GDALAllRegister(); }
  TempDir dir_;
};

TEST_F(TileRender, RadianceIsTheMeanOfWhatAPixelCoversBelowTheNativeZoom) {
  const std::string c = composite(dir_, 9);
  // tile 8/153/127 covers 35.156-36.5625 E, 0-1.406 N: lit west of 36 E, dark east of it
  const std::vector<float> r = tile_radiance({c}, {8, 153, 127}, CancelToken());
  ASSERT_EQ(r.size(), 256u * 256);
  const auto at = [&](double lon, double lat) {  // the tile pixel of a point
    const double x = (lon - 35.15625) / (36.5625 - 35.15625) * 256;
    const double my = std::log(std::tan((90 + lat) * M_PI / 360)) * 6378137.0;
    const double y = (156543.03392804042 - my) / 156543.03392804042 * 256;
    return r[static_cast<size_t>(y) * 256 + static_cast<size_t>(x)];
  };
  EXPECT_FLOAT_EQ(at(35.5, 0.7), 9);
  EXPECT_FLOAT_EQ(at(36.3, 0.7), 0);
  const float edge = at(36.0, 0.7);  // a pixel across 36 E: between the two
  EXPECT_GE(edge, 0);
  EXPECT_LE(edge, 9);
}

TEST_F(TileRender, APngOfTheLitPixels) {
  const std::string c = composite(dir_, 9);
  const std::string png = render_night_light_tile({c}, {8, 153, 127}, CancelToken());
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.compare(0, 8, "\x89PNG\r\n\x1a\n"), 0);
  const std::vector<uint8_t> rgba = decode(png);
  const Rgba lit = night_light_colour(9);
  // west: lit in the ramp's colour; east: dark, so transparent
  const size_t west = (128 * 256 + 40) * 4, east = (128 * 256 + 230) * 4;
  EXPECT_EQ(rgba[west], lit.r);
  EXPECT_EQ(rgba[west + 1], lit.g);
  EXPECT_EQ(rgba[west + 2], lit.b);
  EXPECT_EQ(rgba[west + 3], lit.a);
  EXPECT_EQ(rgba[east + 3], 0);
}

TEST_F(TileRender, NoTileWhereThereIsNoLight) {
  const std::string dark = composite(dir_, 0);
  EXPECT_EQ(render_night_light_tile({dark}, {8, 153, 127}, CancelToken()), "");
  const std::string lit = composite(dir_, 9);
  EXPECT_EQ(render_night_light_tile({lit}, {8, 10, 10}, CancelToken()), "");  // far away
}

TEST_F(TileRender, CompositesThatDoNotReachATileChangeNothingInIt) {
  const std::string near = composite(dir_, 9);
  const std::string beside = composite(dir_, 3, 37, "beside.tif");  // 37-39 E
  const std::string far = composite(dir_, 5, 100, "far.tif");
  const TileRenderer one({near}), three({near, beside, far});
  // inside the first (8/153/127 spans 35.16-36.56 E, 9/306/254 35.16-35.86 E) and across its
  // western edge (8/152/127: 33.75-35.16 E); 8/154/127 (36.56-37.97 E) spans the first two
  for (const TileXyz t : {TileXyz{8, 153, 127}, TileXyz{9, 306, 254}, TileXyz{8, 152, 127}}) {
    const std::string a = one.png(t, CancelToken()), b = three.png(t, CancelToken());
    EXPECT_EQ(a, b) << t.z << "/" << t.x << "/" << t.y;
    EXPECT_FALSE(a.empty()) << t.z << "/" << t.x << "/" << t.y;
  }
  EXPECT_NE(one.png({8, 154, 127}, CancelToken()), three.png({8, 154, 127}, CancelToken()));
  EXPECT_EQ(three.png({8, 10, 10}, CancelToken()), "");
  const Bounds b = three.lon_lat_bounds();
  EXPECT_DOUBLE_EQ(b.min_x, 35);
  EXPECT_DOUBLE_EQ(b.max_x, 102);
  EXPECT_DOUBLE_EQ(b.min_y, 0);
  EXPECT_DOUBLE_EQ(b.max_y, 2);
}

TEST_F(TileRender, NearestAboveTheNativeZoom) {
  const std::string c = composite(dir_, 9);
  // zoom 12 tile inside the lit half: every pixel is the composite's value, none mixed
  const std::vector<float> r = tile_radiance({c}, {12, 2451, 2040}, CancelToken());
  for (float v : r) ASSERT_TRUE(v == 9 || std::isnan(v)) << v;
}

TEST_F(TileRender, BadInput) {
  EXPECT_THROW(tile_radiance({}, {8, 153, 127}, CancelToken()), Error);
  try {
    tile_radiance({dir_.file("missing.tif")}, {8, 153, 127}, CancelToken());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
  }
  const std::string c = composite(dir_, 9);
  EXPECT_THROW(tile_radiance({c}, {8, 256, 0}, CancelToken()), Error);
  EXPECT_THROW(tile_radiance({c}, {8, 153, 127}, CancelToken([] { return true; })), Error);
}

TEST_F(TileRender, ManyTilesOnTwoThreadsAreEachTilesPng) {
  const std::string near = composite(dir_, 9);
  const std::string beside = composite(dir_, 3, 37, "beside.tif");
  const TileRenderer renderer({near, beside});
  std::vector<TileXyz> tiles;
  for (int z = 5; z <= 10; z++)
    for (const TileXyz& t : tiles_over(renderer.lon_lat_bounds(), z)) tiles.push_back(t);
  tiles.push_back({8, 10, 10});  // far away: ""
  ASSERT_GT(tiles.size(), 20u);
  const std::vector<std::string> pngs = renderer.pngs(tiles, CancelToken());
  ASSERT_EQ(pngs.size(), tiles.size());
  const TileRenderer alone({near, beside});
  for (size_t i = 0; i < tiles.size(); i++)
    EXPECT_EQ(pngs[i], alone.png(tiles[i], CancelToken()))
        << tiles[i].z << "/" << tiles[i].x << "/" << tiles[i].y;
  EXPECT_EQ(pngs.back(), "");
  EXPECT_TRUE(renderer.pngs({}, CancelToken()).empty());
  // cancelled on the calling thread: both threads stop, the error is "cancelled"
  int asked = 0;
  try {
    renderer.pngs(tiles, CancelToken([&asked] { return ++asked > 5; }));
    ADD_FAILURE() << "not cancelled";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::cancelled);
  }
}

TEST_F(TileRender, ACachedRendererIsKeptUntilAFileChanges) {
  const std::string path = composite(dir_, 9);
  const TileRenderer& first = cached_tile_renderer({path});
  EXPECT_EQ(&cached_tile_renderer({path}), &first);
  const std::string lit = first.png({8, 153, 127}, CancelToken());
  // the file replaced by another (as the store replaces a composite): opened afresh
  const std::string other = composite(dir_, 3, 35, "other.tif");
  std::filesystem::rename(other, path);
  const TileRenderer& second = cached_tile_renderer({path});
  const std::string now = second.png({8, 153, 127}, CancelToken());
  EXPECT_NE(now, lit);
  EXPECT_EQ(now, TileRenderer({path}).png({8, 153, 127}, CancelToken()));
  EXPECT_THROW(cached_tile_renderer({dir_.file("missing.tif")}), Error);
}

TEST_F(TileRender, CachedRenderersAreForgottenWhenGdalsDriverManagerGoes) {
  const std::string path = composite(dir_, 9);
  const std::string lit = cached_tile_renderer({path}).png({8, 153, 127}, CancelToken());
  GDALDestroyDriverManager();  // what postgis.gdal_enabled_drivers does: every dataset closed
  ensure_gdal({});
  EXPECT_EQ(cached_tile_renderer({path}).png({8, 153, 127}, CancelToken()), lit);
}
