#include <gdal.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"
#include "package/raster_clip.h"
#include "zonal/zonal.h"
#include "tiff_writer.h"

using namespace geoetl;

namespace {

MultiPolygon rect(double x0, double y0, double x1, double y1) {
  return MultiPolygon{{Polygon{{Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}}};
}

struct Read {
  int width = 0, height = 0;
  double gt[6] = {};
  std::vector<double> values;
  std::vector<uint8_t> mask;
  bool has_nodata = false;
  double nodata = 0;
  std::string layout;
  int overviews = 0;
  GDALDataType type = GDT_Unknown;
};

Read read_back(const std::string& path) {
  Read r;
  GDALDatasetH ds = GDALOpen(path.c_str(), GA_ReadOnly);
  EXPECT_NE(ds, nullptr) << path;
  if (ds == nullptr) return r;
  r.width = GDALGetRasterXSize(ds);
  r.height = GDALGetRasterYSize(ds);
  GDALGetGeoTransform(ds, r.gt);
  GDALRasterBandH b = GDALGetRasterBand(ds, 1);
  r.type = GDALGetRasterDataType(b);
  int has = FALSE;
  r.nodata = GDALGetRasterNoDataValue(b, &has);
  r.has_nodata = has;
  r.values.resize(static_cast<size_t>(r.width * r.height));
  r.mask.resize(r.values.size());
  EXPECT_EQ(GDALRasterIO(b, GF_Read, 0, 0, r.width, r.height, r.values.data(), r.width, r.height,
                         GDT_Float64, 0, 0),
            CE_None);
  EXPECT_EQ(GDALRasterIO(GDALGetMaskBand(b), GF_Read, 0, 0, r.width, r.height, r.mask.data(),
                         r.width, r.height, GDT_Byte, 0, 0),
            CE_None);
  const char* layout = GDALGetMetadataItem(ds, "LAYOUT", "IMAGE_STRUCTURE");
  r.layout = layout != nullptr ? layout : "";
  r.overviews = GDALGetOverviewCount(b);
  GDALClose(ds);
  return r;
}

bool no_part_files(const std::string& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string() != "src.tif") return false;
  return true;
}

}  // namespace

// 10 x 10 cells of 1 x 1, x in [0, 10], y in [0, 10] (north-up); values r * 10 + c + 1.
TEST(RasterClip, CropsToTheAreaInTheSourceGridAndBlanksCellsOutside) {
  TempDir dir;
  TiffSpec spec = unit_grid(10);
  spec.srs = "EPSG:32633";
  const Raster raster = Raster::open(write_tiff(dir.file("src.tif"), spec), "src.tif");
  // A triangle over columns 2..7, rows 2..6 (x from 2.2 to 7.1, y from 8 down to 3.1); no cell
  // centre lies on its edges (the centre rule on edges: test_coverage.cpp).
  const MultiPolygon tri{{Polygon{{Ring{{2.2, 8.0}, {7.1, 8.0}, {2.2, 3.1}, {2.2, 8.0}}}}}};
  const RasterClip clip = clip_raster(raster, tri, {}, dir.file("out.tif"), CancelToken());
  EXPECT_EQ(clip.window.col0, 2);
  EXPECT_EQ(clip.window.row0, 2);
  EXPECT_EQ(clip.window.cols, 6);
  EXPECT_EQ(clip.window.rows, 5);
  const Read out = read_back(dir.file("out.tif"));
  EXPECT_EQ(out.layout, "COG");
  EXPECT_EQ(out.type, GDT_Float32);
  ASSERT_EQ(out.width, 6);
  ASSERT_EQ(out.height, 5);
  EXPECT_DOUBLE_EQ(out.gt[0], 2);
  EXPECT_DOUBLE_EQ(out.gt[3], 8);
  EXPECT_DOUBLE_EQ(out.gt[1], 1);
  EXPECT_DOUBLE_EQ(out.gt[5], -1);
  ASSERT_TRUE(out.has_nodata);
  EXPECT_EQ(out.nodata, -9999);
  // A centre (x, y) is inside the triangle when x > 2.2 and x - y < -0.9 (y < 8 always).
  int64_t in = 0;
  for (int r = 0; r < 5; r++)
    for (int c = 0; c < 6; c++) {
      const double x = 2 + c + 0.5, y = 8 - r - 0.5;
      const bool inside = x > 2.2 && x - y < -0.9;
      const double v = out.values[static_cast<size_t>(r * 6 + c)];
      if (inside) {
        EXPECT_EQ(v, (r + 2) * 10 + (c + 2) + 1) << r << "," << c;
        in++;
      } else {
        EXPECT_EQ(v, -9999) << r << "," << c;
      }
    }
  EXPECT_EQ(clip.cells_in, in);
  EXPECT_GT(in, 0);

  RasterClipOptions touched;
  touched.all_touched = true;
  const RasterClip all = clip_raster(raster, tri, touched, dir.file("all.tif"), CancelToken());
  EXPECT_GT(all.cells_in, clip.cells_in);
  EXPECT_LE(all.cells_in, 5 * 6 - 10);  // never the cells above the hypotenuse's cells
}

TEST(RasterClip, WithoutNodataTheCellsOutsideAreMasked) {
  TempDir dir;
  TiffSpec spec = unit_grid(4, false);
  spec.type = GDT_Int16;
  const Raster raster = Raster::open(write_tiff(dir.file("src.tif"), spec), "src.tif");
  const MultiPolygon tri{{Polygon{{Ring{{0, 0}, {4, 0}, {0, 4.3}, {0, 0}}}}}};
  const RasterClip clip = clip_raster(raster, tri, {}, dir.file("out.tif"), CancelToken());
  const Read out = read_back(dir.file("out.tif"));
  EXPECT_FALSE(out.has_nodata);
  EXPECT_EQ(out.type, GDT_Int16);
  int64_t valid = 0;
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 4; c++) {
      const bool inside = (c + 0.5) / 4 + (4 - r - 0.5) / 4.3 < 1;
      EXPECT_EQ(out.mask[static_cast<size_t>(r * 4 + c)] != 0, inside) << r << "," << c;
      if (inside) {
        EXPECT_EQ(out.values[static_cast<size_t>(r * 4 + c)], r * 4 + c + 1);
      }
      valid += inside;
    }
  EXPECT_EQ(clip.cells_in, valid);
}

TEST(RasterClip, LargeClipsGetOverviews) {
  TempDir dir;
  TiffSpec spec = unit_grid(1200);
  spec.block = 256;
  const Raster raster = Raster::open(write_tiff(dir.file("src.tif"), spec), "src.tif");
  clip_raster(raster, rect(10, 10, 1190, 1190), {}, dir.file("out.tif"), CancelToken());
  const Read out = read_back(dir.file("out.tif"));
  EXPECT_EQ(out.width, 1180);
  EXPECT_GE(out.overviews, 1);
}

TEST(RasterClip, AreasOutsideOrBetweenCentresAreClearErrors) {
  TempDir dir;
  TiffSpec spec = unit_grid(4);
  const Raster raster = Raster::open(write_tiff(dir.file("src.tif"), spec), "src.tif");
  try {
    clip_raster(raster, rect(10, 10, 12, 12), {}, dir.file("out.tif"), CancelToken());
    FAIL() << "an area outside the raster was clipped";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("outside"), std::string::npos) << e.what();
  }
  try {  // inside the raster, but holding no centre
    clip_raster(raster, rect(1.1, 1.1, 1.4, 1.4), {}, dir.file("out.tif"), CancelToken());
    FAIL() << "an area holding no centre was clipped";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(e.hint().find("all_touched"), std::string::npos) << e.hint();
  }
  RasterClipOptions bad_band;
  bad_band.bands = {2};
  EXPECT_THROW(clip_raster(raster, rect(0, 0, 4, 4), bad_band, dir.file("out.tif"), CancelToken()),
               Error);
  EXPECT_TRUE(no_part_files(dir.path()));
}

TEST(RasterClip, ACancelledClipLeavesNoFile) {
  TempDir dir;
  TiffSpec spec = unit_grid(1200);
  spec.block = 256;
  const Raster raster = Raster::open(write_tiff(dir.file("src.tif"), spec), "src.tif");
  std::atomic<int> calls{0};
  const CancelToken counting([&] { return ++calls < 0; });
  clip_raster(raster, rect(0, 0, 1200, 1200), {}, dir.file("whole.tif"), counting);
  std::filesystem::remove(dir.file("whole.tif"));
  const int checks = calls;  // one per row, one per band, then GDAL's progress while writing
  ASSERT_GT(checks, 1210);
  for (int after : {0, checks / 2, checks - 2}) {  // at once, while masking, while writing
    calls = 0;
    const CancelToken cancel([&] { return ++calls > after; });
    try {
      clip_raster(raster, rect(0, 0, 1200, 1200), {}, dir.file("out.tif"), cancel);
      ADD_FAILURE() << "not cancelled after " << after << " checks (" << calls << " made)";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::cancelled) << e.what();
    }
    EXPECT_TRUE(no_part_files(dir.path())) << "cancelled after " << after << " of " << checks;
  }
}

TEST(RasterClip, HoldsExactlyTheCellsZonalStatsCounts) {
  TempDir dir;
  TiffSpec spec = unit_grid(10);
  const Raster raster = Raster::open(write_tiff(dir.file("src.tif"), spec), "src.tif");
  // edges through cell centres: GDAL's half-open rule decides them (geom/coverage.h)
  for (const MultiPolygon& area :
       {rect(1.5, 1.5, 7.5, 6.5), rect(0.5, 0.5, 9.5, 9.5), rect(2, 2, 5.5, 8.5)}) {
    ZonalOptions o;
    o.coverage = Coverage::center;
    o.stats.quantiles.clear();
    const double counted = zonal_statistics(raster, {area}, o, CancelToken())[0].count;
    const RasterClip clip = clip_raster(raster, area, {}, dir.file("out.tif"), CancelToken());
    EXPECT_EQ(static_cast<double>(clip.cells_in), counted);
    std::filesystem::remove(dir.file("out.tif"));
  }
}
