#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <random>

#include "base/error.h"
#include "polygons.h"
#include "tiff_writer.h"
#include "zonal/zonal.h"

using namespace geoetl;

namespace {

ZonalOptions opts(Coverage mode = Coverage::exact) {
  ZonalOptions o;
  o.coverage = mode;
  return o;
}

ZonalResult one(const Raster& r, const MultiPolygon& p, const ZonalOptions& o = opts()) {
  return zonal_statistics(r, {p}, o, CancelToken())[0];
}

class Zonal : public ::testing::Test {
 protected:
  TempDir dir;
};

}  // namespace

TEST_F(Zonal, ExactWeightsOnAThreeByThreeGrid) {
  // values 1..9 row by row; the square 0.5..2.5 has weights .25 .5 .25 / .5 1 .5 / .25 .5 .25
  const Raster r = Raster::open(write_tiff(dir.file("a.tif"), {}), "a.tif");
  const ZonalResult s = one(r, mp({rect(0.5, 0.5, 2.5, 2.5)}));
  EXPECT_DOUBLE_EQ(s.count, 4);
  EXPECT_DOUBLE_EQ(s.sum, 20);  // symmetric weights around the centre value 5
  EXPECT_DOUBLE_EQ(s.mean, 5);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 9);
  // weighted population variance: Σw(v-5)²/Σw = (.25·(16+4+4+16) + .5·(9+1+1+9)) / 4 = 5
  EXPECT_NEAR(s.stddev, std::sqrt(5.0), 1e-12);
  EXPECT_EQ(s.nodata_share, 0);
  EXPECT_TRUE(std::isnan(s.lit_share));
  EXPECT_TRUE(std::isnan(s.valid_area_km2));  // no CRS, no area
}

TEST_F(Zonal, Float32FillValuesThatAreNotExactFloatsAreStillNodata) {
  TiffSpec spec;
  spec.has_nodata = true;
  spec.nodata = -999.9;  // stored as the float -999.900024
  spec.values = {1, -999.9, 3, 4, 5, 6, 7, 8, 9};
  const Raster r = Raster::open(write_tiff(dir.file("f.tif"), spec), "f.tif");
  const ZonalResult s = one(r, mp({rect(0, 0, 3, 3)}));
  EXPECT_EQ(s.count, 8);
  EXPECT_EQ(s.min, 1);
}

TEST_F(Zonal, CenterAndTouchedModes) {
  const Raster r = Raster::open(write_tiff(dir.file("a.tif"), {}), "a.tif");
  const ZonalResult c = one(r, mp({rect(0.4, 0.4, 2.6, 2.6)}), opts(Coverage::center));
  EXPECT_EQ(c.count, 9);
  EXPECT_EQ(c.sum, 45);
  const ZonalResult t = one(r, mp({rect(1.2, 1.2, 1.8, 1.8)}), opts(Coverage::touched));
  EXPECT_EQ(t.count, 1);
  EXPECT_EQ(t.sum, 5);
  EXPECT_EQ(one(r, mp({rect(1.2, 1.2, 1.8, 1.8)}), opts(Coverage::center)).count, 1);
  EXPECT_EQ(one(r, mp({rect(1.2, 1.2, 1.4, 1.4)}), opts(Coverage::center)).count, 0);
}

TEST_F(Zonal, NodataAndNaNCellsAreMissing) {
  TiffSpec spec;
  spec.has_nodata = true;
  spec.values = {1, -9999, 3, 4, NAN, 6, 7, 8, 9};
  const Raster r = Raster::open(write_tiff(dir.file("n.tif"), spec), "n.tif");
  const ZonalResult s = one(r, mp({rect(0, 0, 3, 3)}));
  EXPECT_EQ(s.count, 7);
  EXPECT_EQ(s.sum, 38);
  EXPECT_DOUBLE_EQ(s.nodata_share, 2.0 / 9);
}

TEST_F(Zonal, PartlyOutsideTheRasterCountsTheOutsideAsMissing) {
  const Raster r = Raster::open(write_tiff(dir.file("a.tif"), {}), "a.tif");
  const ZonalResult s = one(r, mp({rect(2, 2, 4, 4)}));  // one cell in, three cells' area out
  EXPECT_EQ(s.count, 1);
  EXPECT_EQ(s.sum, 3);
  EXPECT_DOUBLE_EQ(s.nodata_share, 0.75);
  const ZonalResult c = one(r, mp({rect(2, 2, 4, 4)}), opts(Coverage::center));
  EXPECT_DOUBLE_EQ(c.nodata_share, 0.75);
}

TEST_F(Zonal, WhollyOutsideOrEmptyGivesNoStatistics) {
  const Raster r = Raster::open(write_tiff(dir.file("a.tif"), {}), "a.tif");
  const ZonalResult out = one(r, mp({rect(10, 10, 11, 11)}));
  EXPECT_EQ(out.count, 0);
  EXPECT_TRUE(std::isnan(out.sum) && std::isnan(out.mean) && std::isnan(out.min));
  EXPECT_EQ(out.nodata_share, 1);
  EXPECT_TRUE(std::isnan(out.quantiles[0]));
  const ZonalResult empty = one(r, MultiPolygon{});
  EXPECT_EQ(empty.count, 0);
  EXPECT_TRUE(std::isnan(empty.nodata_share));
}

TEST_F(Zonal, AVeryWidePolygonOutsideTheRasterIsCountedNotWalked) {
  const Raster r = Raster::open(write_tiff(dir.file("a.tif"), {}), "a.tif");
  // row 0 (y 2..3) from x = 0 to 1e9: 3 cells on the raster, 999,999,997 outside it
  const ZonalResult c = one(r, mp({rect(0, 2, 1e9, 3)}), opts(Coverage::center));
  EXPECT_EQ(c.count, 3);
  EXPECT_DOUBLE_EQ(c.nodata_share, (1e9 - 3) / 1e9);
  const ZonalResult e = one(r, mp({rect(0, 2, 1e9, 3)}));
  EXPECT_DOUBLE_EQ(e.nodata_share, (1e9 - 3) / 1e9);
}

TEST_F(Zonal, CoordinatesBeyondTheGridsReachAreRefused) {
  const Raster r = Raster::open(write_tiff(dir.file("a.tif"), {}), "a.tif");
  try {
    one(r, mp({rect(0, 0, 1e19, 1)}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::limit_exceeded);
  }
}

TEST_F(Zonal, ScaleOffsetAndQuantilesAndLitShare) {
  TiffSpec spec;
  spec.type = GDT_UInt16;
  spec.scale = 0.1;
  spec.offset = 1;
  spec.values = {10, 20, 30, 40, 50, 60, 70, 80, 90};
  const Raster r = Raster::open(write_tiff(dir.file("s.tif"), spec), "s.tif");
  ZonalOptions o;
  o.stats.threshold = 5;
  o.stats.quantiles = {0, 0.5, 0.9, 1};
  const ZonalResult s = one(r, mp({rect(0, 0, 3, 3)}), o);
  EXPECT_DOUBLE_EQ(s.mean, 6);             // 1 + 0.1 * 50
  EXPECT_DOUBLE_EQ(s.lit_share, 6.0 / 9);  // values 2..10; 5, 6, 7, 8, 9, 10 are >= 5
  EXPECT_DOUBLE_EQ(s.quantiles[0], 2);
  EXPECT_DOUBLE_EQ(s.quantiles[1], 6);
  EXPECT_NEAR(s.quantiles[2], 9.2, 1e-12);  // type 7: h = 8 * 0.9 = 7.2 -> 9 + 0.2 * (10 - 9)
  EXPECT_DOUBLE_EQ(s.quantiles[3], 10);
}

TEST_F(Zonal, PerDatasetMaskHidesCells) {
  TiffSpec spec;
  spec.mask = {255, 0, 255, 255, 255, 255, 255, 255, 0};
  const Raster r = Raster::open(write_tiff(dir.file("m.tif"), spec), "m.tif");
  const ZonalResult s = one(r, mp({rect(0, 0, 3, 3)}));
  EXPECT_EQ(s.count, 7);
  EXPECT_EQ(s.sum, 45 - 2 - 9);
}

TEST_F(Zonal, ManyPolygonsInOnePassEqualOneAtATimeAcrossTiles) {
  TiffSpec spec;
  spec.width = 100;
  spec.height = 70;
  spec.block = 16;
  spec.gt[3] = 70;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  spec.has_nodata = true;
  for (int i = 0; i < spec.width * spec.height; i++)
    spec.values.push_back(u(rng) < 0.05 ? -9999 : std::round(u(rng) * 1000) / 10);
  const Raster tiled = Raster::open(write_tiff(dir.file("t.tif"), spec), "t.tif");
  spec.block = 0;
  const Raster striped = Raster::open(write_tiff(dir.file("s.tif"), spec), "s.tif");
  std::vector<MultiPolygon> polys;
  for (int i = 0; i < 60; i++) {
    const double x = u(rng) * 110 - 5, y = u(rng) * 80 - 5, s = 0.3 + u(rng) * 30;
    polys.push_back(mp({{{x, y}, {x + s, y + s * 0.2}, {x + s * 0.7, y + s}, {x, y}}}));
  }
  for (Coverage mode : {Coverage::exact, Coverage::center, Coverage::touched}) {
    ZonalOptions o = opts(mode);
    o.stats.threshold = 50;
    const auto many = zonal_statistics(tiled, polys, o, CancelToken());
    for (size_t i = 0; i < polys.size(); i++) {
      const ZonalResult a = one(striped, polys[i], o);
      const ZonalResult& b = many[i];
      EXPECT_NEAR(a.count, b.count, 1e-9) << i;
      if (a.count == 0) continue;
      EXPECT_NEAR(a.sum, b.sum, 1e-9 * std::fabs(a.sum) + 1e-12) << i;
      EXPECT_NEAR(a.stddev, b.stddev, 1e-9) << i;
      EXPECT_EQ(a.min, b.min);
      EXPECT_EQ(a.max, b.max);
      EXPECT_NEAR(a.quantiles[0], b.quantiles[0], 1e-9);
      EXPECT_NEAR(a.lit_share, b.lit_share, 1e-12);
      EXPECT_NEAR(a.nodata_share, b.nodata_share, 1e-12);
    }
  }
}

TEST_F(Zonal, GeographicCellsHaveEllipsoidalAreas) {
  TiffSpec spec;
  spec.width = 1;
  spec.height = 2;
  spec.gt[3] = 1;  // rows: latitude 0..1 and -1..0
  spec.srs = "EPSG:4326";
  const Raster r = Raster::open(write_tiff(dir.file("g.tif"), spec), "g.tif");
  // The 1x1 degree cell north of the equator, bounded by parallels, on WGS 84: 12308.4639 km2
  // (numerical integration of M(φ)N(φ)cosφ). PostGIS's ST_Area of the same box as a geography
  // says 12308.78 because its top edge is a geodesic, which bulges past the parallel.
  const double cell = 12308.4639;
  const ZonalResult s = one(r, mp({rect(0, 0, 1, 1)}));
  EXPECT_NEAR(s.valid_area_km2, cell, 1e-4);
  ZonalOptions o;
  o.stats.threshold = 1.5;
  const ZonalResult both = one(r, mp({rect(0, -1, 1, 1)}), o);
  EXPECT_NEAR(both.valid_area_km2, 2 * cell, 2e-4);
  EXPECT_NEAR(both.lit_area_km2, cell, 1e-4);
}

TEST_F(Zonal, ProjectedCellsHavePlanarAreas) {
  TiffSpec spec;
  spec.gt[1] = 500;
  spec.gt[5] = -500;
  spec.gt[0] = 300000;
  spec.gt[3] = 100000;
  spec.srs = "EPSG:32636";
  const Raster r = Raster::open(write_tiff(dir.file("u.tif"), spec), "u.tif");
  const ZonalResult s = one(r, mp({rect(300000, 98500, 301500, 100000)}));
  EXPECT_NEAR(s.valid_area_km2, 9 * 0.25, 1e-9);
}

TEST_F(Zonal, ErrorsForBandsFilesAndQuantiles) {
  const std::string good = write_tiff(dir.file("a.tif"), {});
  const Raster r = Raster::open(good, "a.tif");
  ZonalOptions o;
  o.band = 2;
  try {
    one(r, mp({rect(0, 0, 1, 1)}), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(e.detail().find("1 band"), std::string::npos);
  }
  o.band = 1;
  o.stats.quantiles = {0.5, 1.5};
  EXPECT_THROW(one(r, mp({rect(0, 0, 1, 1)}), o), Error);
  o.stats.quantiles = {std::nan("")};
  EXPECT_THROW(one(r, mp({rect(0, 0, 1, 1)}), o), Error);

  try {
    Raster::open(dir.file("missing.tif"), "missing.tif");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
  }
  std::ofstream(dir.file("text.tif")) << "not a raster at all";
  try {
    Raster::open(dir.file("text.tif"), "text.tif");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::data_corrupted);
  }
}

TEST_F(Zonal, TruncatedFileIsReportedAsCorrupted) {
  TiffSpec spec;
  spec.width = spec.height = 512;
  spec.block = 256;
  spec.gt[3] = 512;
  std::mt19937 rng(1);
  for (int i = 0; i < 512 * 512; i++) spec.values.push_back(static_cast<double>(rng() % 1000));
  const std::string path = write_tiff(dir.file("big.tif"), spec);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  try {
    const Raster r = Raster::open(path, "big.tif");
    one(r, mp({rect(0, 0, 512, 512)}));
    FAIL() << "a truncated file gave statistics";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::data_corrupted) << e.what();
  }
}

TEST_F(Zonal, CancellationStopsTheRead) {
  TiffSpec spec;
  spec.width = spec.height = 256;
  spec.block = 16;
  spec.gt[3] = 256;
  const Raster r = Raster::open(write_tiff(dir.file("c.tif"), spec), "c.tif");
  int polls = 0;
  CancelToken cancel([&] { return ++polls > 10; });
  try {
    zonal_statistics(r, {mp({rect(0, 0, 256, 256)})}, opts(), cancel);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::cancelled);
  }
}

TEST_F(Zonal, ReopensAFileThatChangedAndSurvivesGdalLosingItsDrivers) {
  const std::string path = write_tiff(dir.file("a.tif"), {});
  clear_raster_cache();
  EXPECT_EQ(one(Raster::open(path, "a"), mp({rect(0, 0, 3, 3)})).sum, 45);
  const auto before = raster_cache_stats();
  EXPECT_EQ(one(Raster::open(path, "a"), mp({rect(0, 0, 3, 3)})).sum, 45);
  EXPECT_EQ(raster_cache_stats().hits, before.hits + 1);

  TiffSpec twice;
  for (int i = 0; i < 9; i++) twice.values.push_back(2 * (i + 1));
  write_tiff(path, twice);
  EXPECT_EQ(one(Raster::open(path, "a"), mp({rect(0, 0, 3, 3)})).sum, 90);

  // What PostGIS's postgis.gdal_enabled_drivers does: destroy the driver manager (closing
  // every dataset, ours included) and skip all drivers.
  GDALDestroyDriverManager();
  CPLSetConfigOption("GDAL_SKIP", "GTiff HDF5 netCDF");
  EXPECT_EQ(raster_cache_stats().open, 0u);
  EXPECT_EQ(one(Raster::open(path, "a"), mp({rect(0, 0, 3, 3)})).sum, 90);
  EXPECT_STREQ(CPLGetConfigOption("GDAL_SKIP", ""), "GTiff HDF5 netCDF");
  CPLSetConfigOption("GDAL_SKIP", nullptr);
}

TEST_F(Zonal, SidecarFilesBesideARasterAreNeverRead) {
  // a .msk VRT masking every cell, an .aux.xml scaling by 1000, a .ovr symlink, all naming
  // outside/zeros.tif: a read that honoured the mask or the scale would not sum to 45. (The .ovr
  // and the .aux.xml's OVERVIEW_FILE are only opened for overviews, which full-resolution reads
  // never use; with no folder listing GDAL does not even look for them.)
  const std::string path = write_tiff(dir.file("s.tif"), {});
  write_sidecar_traps(path, dir.file("outside"));
  clear_raster_cache();
  const Raster r = Raster::open(path, "s.tif");
  const ZonalResult z = one(r, mp({rect(0, 0, 3, 3)}));
  EXPECT_EQ(z.count, 9);
  EXPECT_EQ(z.sum, 45);
  // and the trap is real: GDAL left to itself (every driver, VRT included) takes both
  GDALAllRegister();
  GDALDatasetH ds = GDALOpen(path.c_str(), GA_ReadOnly);
  ASSERT_NE(ds, nullptr);
  EXPECT_EQ(GDALGetMaskFlags(GDALGetRasterBand(ds, 1)), GMF_PER_DATASET);
  EXPECT_EQ(GDALGetRasterScale(GDALGetRasterBand(ds, 1), nullptr), 1000);
  GDALClose(ds);
}

TEST_F(Zonal, QuantileMemoryIsBoundedPerCallNotPerPolygon) {
  const Raster r = Raster::open(write_tiff(dir.file("a.tif"), {}), "a.tif");
  ZonalOptions o;
  o.stats.max_quantile_cells = 12;
  const MultiPolygon all = mp({rect(0, 0, 3, 3)});  // 9 cells
  EXPECT_DOUBLE_EQ(one(r, all, o).quantiles[0], 5);
  try {
    zonal_statistics(r, {all, all}, o, CancelToken());  // 18 cells kept at once
    FAIL() << "two polygons kept more cells than the bound";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::limit_exceeded);
  }
  o.stats.quantiles.clear();  // moments need no memory per cell
  EXPECT_EQ(zonal_statistics(r, {all, all}, o, CancelToken())[1].count, 9);
}

TEST(ZonalOptions, AQuantileOutsideZeroOneIsNamedExactly) {
  ZonalOptions o;
  o.stats.quantiles = {0.5, 1.0000001};
  try {
    validate(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_STREQ(e.what(), "quantile 1.0000001 is outside [0, 1]");
  }
  o.stats.quantiles = {-1e-300};
  EXPECT_THROW(validate(o), Error);
}

TEST_F(Zonal, NonFiniteCellsAreInvalidLikeNodata) {
  const double inf = std::numeric_limits<double>::infinity();
  TiffSpec spec;
  spec.type = GDT_Float64;
  spec.values = {1, inf, 3, -inf, 5, NAN, 7, 8, 9};
  const Raster r = Raster::open(write_tiff(dir.file("inf.tif"), spec), "inf.tif");
  ZonalOptions o = opts();
  o.stats.quantiles = {0, 0.5, 1};
  const ZonalResult s = one(r, mp({rect(0, 0, 3, 3)}), o);
  EXPECT_EQ(s.count, 6);
  EXPECT_EQ(s.sum, 33);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 9);
  // mean 5.5: squared deviations 20.25 + 6.25 + .25 + 2.25 + 6.25 + 12.25 = 47.5
  EXPECT_NEAR(s.stddev, std::sqrt(47.5 / 6), 1e-12);
  EXPECT_EQ(s.quantiles, (std::vector<double>{1, 6, 9}));
  EXPECT_DOUBLE_EQ(s.nodata_share, 3.0 / 9);
}

TEST_F(Zonal, ANonFiniteScaleMakesEveryCellInvalid) {
  TiffSpec spec;
  spec.scale = NAN;
  const Raster r = Raster::open(write_tiff(dir.file("nan.tif"), spec), "nan.tif");
  const ZonalResult s = one(r, mp({rect(0, 0, 3, 3)}));
  EXPECT_EQ(s.count, 0);
  EXPECT_TRUE(std::isnan(s.sum));
  EXPECT_EQ(s.nodata_share, 1);
}

TEST_F(Zonal, ASumBeyondDoubleIsInfinityAndTheMeanStaysExact) {
  TiffSpec spec;
  spec.type = GDT_Float64;
  spec.width = 3;
  spec.height = 1;
  spec.gt[3] = 1;
  spec.values = {1.7e308, 1.7e308, 1.7e308};
  const Raster r = Raster::open(write_tiff(dir.file("big.tif"), spec), "big.tif");
  ZonalOptions o = opts();
  o.stats.quantiles = {0.5};
  const ZonalResult s = one(r, mp({rect(0, 0, 3, 1)}), o);
  EXPECT_EQ(s.count, 3);
  EXPECT_EQ(s.sum, std::numeric_limits<double>::infinity());
  EXPECT_EQ(s.mean, 1.7e308);
  EXPECT_EQ(s.stddev, 0);
  EXPECT_EQ(s.quantiles, (std::vector<double>{1.7e308}));
  // opposite signs: the sum is back in range, quantiles interpolate without overflowing
  spec.values = {1.7e308, -1.7e308, 1.7e308};
  const Raster r2 = Raster::open(write_tiff(dir.file("big2.tif"), spec), "big2.tif");
  o.stats.quantiles = {0.25};
  const ZonalResult s2 = one(r2, mp({rect(0, 0, 3, 1)}), o);
  EXPECT_DOUBLE_EQ(s2.sum, 1.7e308);
  EXPECT_DOUBLE_EQ(s2.mean, 1.7e308 / 3);
  EXPECT_EQ(s2.quantiles, (std::vector<double>{0}));  // halfway from -1.7e308 to 1.7e308
}
