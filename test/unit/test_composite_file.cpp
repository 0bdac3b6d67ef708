// A month's composite as a Cloud-Optimized GeoTIFF (blackmarble/composite_file.h): its grid, its
// values and NaN where no valid night, overviews; written whole or not at all.
#include <gtest/gtest.h>

#include <cpl_string.h>
#include <gdal.h>

#include <cmath>
#include <filesystem>

#include "base/error.h"
#include "blackmarble/composite_file.h"
#include "tiff_writer.h"

using namespace geoetl;

namespace {

TileComposite small_composite() {
  TileComposite c;
  c.h = 21;  // 30-40 E
  c.v = 8;   // 0-10 N
  c.tile_size = 2400;
  c.window = {100, 200, 600, 500};  // rows 100-699, columns 200-699
  c.value.resize(600 * 500);
  c.valid.resize(600 * 500);
  c.nights.resize(600 * 500);
  for (size_t i = 0; i < c.value.size(); i++) {
    c.value[i] = static_cast<float>(i % 97) / 4;
    c.valid[i] = i % 13 != 0;
  }
  return c;
}

}  // namespace

TEST(CompositeFile, ACloudOptimizedGeoTiffOfTheTilesGrid) {
  GDALAllRegister();
  TempDir dir;
  const TileComposite c = small_composite();
  const std::string path = dir.file("VNP46A2.2024-02.h21v08.tif");
  write_composite_cog(c, path, CancelToken());
  GDALDatasetH ds = GDALOpen(path.c_str(), GA_ReadOnly);
  ASSERT_NE(ds, nullptr);
  EXPECT_EQ(GDALGetRasterXSize(ds), 500);
  EXPECT_EQ(GDALGetRasterYSize(ds), 600);
  double gt[6];
  GDALGetGeoTransform(ds, gt);
  EXPECT_NEAR(gt[0], 30 + 200 * (10.0 / 2400), 1e-12);
  EXPECT_NEAR(gt[3], 10 - 100 * (10.0 / 2400), 1e-12);
  EXPECT_NEAR(gt[1], 10.0 / 2400, 1e-15);
  EXPECT_NEAR(gt[5], -10.0 / 2400, 1e-15);
  EXPECT_NE(std::string(GDALGetProjectionRef(ds)).find("4326"), std::string::npos);
  GDALRasterBandH band = GDALGetRasterBand(ds, 1);
  EXPECT_EQ(GDALGetRasterDataType(band), GDT_Float32);
  int has_nodata = 0;
  EXPECT_TRUE(std::isnan(GDALGetRasterNoDataValue(band, &has_nodata)));
  EXPECT_TRUE(has_nodata);
  EXPECT_GE(GDALGetOverviewCount(band), 1);
  char** md = GDALGetMetadata(ds, "IMAGE_STRUCTURE");
  EXPECT_STREQ(CSLFetchNameValue(md, "LAYOUT"), "COG");
  EXPECT_STREQ(CSLFetchNameValue(md, "COMPRESSION"), "DEFLATE");
  std::vector<float> back(600 * 500);
  ASSERT_EQ(GDALRasterIO(band, GF_Read, 0, 0, 500, 600, back.data(), 500, 600, GDT_Float32, 0, 0),
            CE_None);
  for (size_t i = 0; i < back.size(); i++) {
    if (c.valid[i]) {
      ASSERT_EQ(back[i], c.value[i]) << i;
    } else {
      ASSERT_TRUE(std::isnan(back[i])) << i;
    }
  }
  GDALClose(ds);
  for (const auto& e : std::filesystem::directory_iterator(dir.file("")))
    EXPECT_EQ(e.path().filename().string().find(".part-"), std::string::npos) << e.path();
}

TEST(CompositeFile, NothingIsLeftWhenItCannotBeWritten) {
  GDALAllRegister();
  TempDir dir;
  EXPECT_THROW(
      write_composite_cog(small_composite(), dir.file("no/such/folder/c.tif"), CancelToken()),
      Error);
  TileComposite empty;
  EXPECT_THROW(write_composite_cog(empty, dir.file("c.tif"), CancelToken()), Error);
  EXPECT_THROW(
      write_composite_cog(small_composite(), dir.file("c.tif"), CancelToken([] { return true; })),
      Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("c.tif")));
  EXPECT_TRUE(std::filesystem::is_empty(dir.file("")));
}
