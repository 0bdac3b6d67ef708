#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "blackmarble/blackmarble.h"
#include "blackmarble/granule_scan.h"
#include "base/error.h"
#include "polygons.h"
#include "tiff_writer.h"
#include "zonal/zonal.h"

using namespace geoetl;

namespace {

// Writes granules with the fixture generator; returns the folder.
std::string granules(const TempDir& dir, const std::string& args) {
  const std::string cmd = std::string(GEOETL_BLACKMARBLE_TOOL) + " " + dir.file("") + " " + args;
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("generator failed: " + cmd);
  return dir.file("");
}

std::string only_file(const std::string& folder, const std::string& prefix) {
  for (const auto& e : std::filesystem::directory_iterator(folder))
    if (e.path().filename().string().rfind(prefix, 0) == 0) return e.path().string();
  throw std::runtime_error("no " + prefix + " in " + folder);
}

}  // namespace

TEST(BlackMarble, DaysOfYearKnowLeapYears) {
  EXPECT_EQ(date_from_day_of_year(2024, 60).month, 2);
  EXPECT_EQ(date_from_day_of_year(2024, 60).day, 29);
  EXPECT_EQ(date_from_day_of_year(2023, 60).month, 3);
  EXPECT_EQ(date_from_day_of_year(2023, 60).day, 1);
  EXPECT_EQ(date_from_day_of_year(2024, 366).day, 31);
  EXPECT_THROW(date_from_day_of_year(2023, 366), Error);
  EXPECT_THROW(date_from_day_of_year(2024, 0), Error);
  EXPECT_EQ(day_of_year({2000, 12, 31}), 366);  // divisible by 400: leap
  EXPECT_EQ(day_of_year({1900, 12, 31}), 365);  // by 100 only: not
  for (int y : {2023, 2024})
    for (int d = 1; d <= (is_leap_year(y) ? 366 : 365); d++)
      ASSERT_EQ(day_of_year(date_from_day_of_year(y, d)), d);
}

TEST(BlackMarble, ParsesGranuleNames) {
  const Granule g = parse_granule_name("/data/VNP46A2.A2024060.h21v08.002.2024069123456.h5");
  EXPECT_EQ(g.product, "VNP46A2");
  EXPECT_EQ(g.date.year, 2024);
  EXPECT_EQ(g.date.month, 2);
  EXPECT_EQ(g.date.day, 29);
  EXPECT_EQ(g.h, 21);
  EXPECT_EQ(g.v, 8);
  EXPECT_EQ(g.collection, 2);
  EXPECT_EQ(g.production, "2024069123456");
  EXPECT_EQ(parse_granule_name("VNP46A3.A2024061.h00v17.001.2024100000000.h5").date.month, 3);
}

TEST(BlackMarble, RefusesNamesThatAreNotGranules) {
  for (const char* bad : {"VNP46A2.A2023366.h21v08.002.2024069123456.h5",  // no 366th day
                          "VNP46A2.A2024060.h36v08.002.2024069123456.h5",  // no tile h36
                          "VNP46A2.A2024060.h21v18.002.2024069123456.h5",  // nor v18
                          "VNP46A9.A2024060.h21v08.002.2024069123456.h5",  // no such product
                          "VNP46A2.A2024060.h21v08.003.2024069123456.h5",  // nor collection
                          "VNP46A2.A2024060.h21v08.002.2024069123456.tif",
                          "VNP46A2.A2024060.h-1v08.002.2024069123456.h5",  // nor h-1
                          "VNP46A2.A2024060.h21v-8.002.2024069123456.h5",  // nor v-8
                          "VNP46A2.A2024060.h21v08.002.2024069123456.h5.part", "notes.txt", ""}) {
    EXPECT_THROW(parse_granule_name(bad), Error) << bad;
    EXPECT_FALSE(read_granule_name(bad).has_value()) << bad;
  }
}

TEST(BlackMarble, ReadingANameGivesTheParsedGranuleOrNothing) {
  const auto g = read_granule_name(
      "blackmarble/VNP46A2/2024/060/VNP46A2.A2024060.h21v08.002.2024069123456.h5");
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->product, "VNP46A2");
  EXPECT_EQ(g->h, 21);
  EXPECT_EQ(g->v, 8);
  EXPECT_EQ(g->date.day, 29);
  EXPECT_FALSE(read_granule_name("VNP46A2.A2024060.h21v08.h5").has_value());
}

TEST(BlackMarble, ProductsHaveTheCadenceOfTheirNumber) {
  EXPECT_EQ(product_cadence("VNP46A1"), Cadence::daily);
  EXPECT_EQ(product_cadence("VNP46A2"), Cadence::daily);
  EXPECT_EQ(product_cadence("VJ146A2"), Cadence::daily);
  EXPECT_EQ(product_cadence("VNP46A3"), Cadence::monthly);
  EXPECT_EQ(product_cadence("VNP46A4"), Cadence::yearly);
  EXPECT_STREQ(cadence_name(product_cadence("VNP46A2")), "daily");
  EXPECT_STREQ(cadence_name(product_cadence("VNP46A3")), "monthly");
  EXPECT_STREQ(cadence_name(Cadence::yearly), "yearly");
  for (const char* bad : {"VNP46A5", "VNP46A", "XXXXXX2", "VNP46A22", ""})
    EXPECT_THROW(product_cadence(bad), Error) << bad;
  EXPECT_EQ(default_layer("VNP46A2"), "DNB_BRDF-Corrected_NTL");
  EXPECT_EQ(default_layer("VNP46A3"), "NearNadir_Composite_Snow_Free");
  EXPECT_THROW(default_layer("VNP99"), Error);
}

TEST(BlackMarble, TilesSitOnTheTenDegreeGrid) {
  const auto gt = tile_geotransform(21, 8, 2400, 2400);
  EXPECT_EQ(gt[0], 30);
  EXPECT_EQ(gt[3], 10);
  EXPECT_DOUBLE_EQ(gt[1], 1.0 / 240);
  EXPECT_DOUBLE_EQ(gt[5], -1.0 / 240);
  EXPECT_EQ(tile_geotransform(0, 17, 240, 240)[3], -80);
}

TEST(BlackMarble, ReadsCollectionTwoLayersGeoreferencedWithTheirFill) {
  TempDir dir;
  const std::string folder = granules(dir, "VNP46A2 2 h21v08 2024-03-01 1 240 3");
  const std::string path = only_file(folder, "VNP46A2.A2024061.h21v08.002.");
  const Granule g = parse_granule_name(path);
  const Raster r = open_layer(path, g, "DNB_BRDF-Corrected_NTL");
  EXPECT_EQ(r.grid().x0, 30);
  EXPECT_EQ(r.grid().y0, 10);
  EXPECT_DOUBLE_EQ(r.grid().dx, 10.0 / 240);
  EXPECT_NE(r.crs_wkt().find("4326"), std::string::npos);
  // the whole tile: the fill corner (6x6 pixels) is nodata, everything else counts
  ZonalOptions o;
  o.stats.quantiles.clear();
  MultiPolygon tile = mp({rect(30, 0, 40, 10)});
  const ZonalResult s = zonal_statistics(r, {tile}, o, CancelToken())[0];
  EXPECT_NEAR(s.count, 240.0 * 240 - 36, 1e-6);
  EXPECT_GT(s.max, 10);                           // towns
  EXPECT_LT(s.min, 0);                            // collection 2 noise goes negative
  EXPECT_GT(s.min, -10);                          // but the fill (-999.9) is not a value
  EXPECT_NEAR(s.valid_area_km2, 1234000, 30000);  // a 10 degree tile near the equator
}

TEST(BlackMarble, ReadsCollectionOneLayersScaled) {
  TempDir dir;
  const std::string folder = granules(dir, "VNP46A2 1 h21v08 2024-03-01 1 240 3");
  const std::string path = only_file(folder, "VNP46A2.A2024061.h21v08.001.");
  const Raster r = open_layer(path, parse_granule_name(path), "DNB_BRDF-Corrected_NTL");
  ZonalOptions o;
  o.stats.quantiles.clear();
  const ZonalResult s = zonal_statistics(r, {mp({rect(30, 0, 40, 10)})}, o, CancelToken())[0];
  EXPECT_NEAR(s.count, 240.0 * 240 - 36, 1e-6);  // 65535 is fill
  EXPECT_GE(s.min, 0);
  EXPECT_LT(s.max, 200);  // x 0.1: the raw values are ten times larger
  EXPECT_GT(s.max, 10);
  const Raster q = open_layer(path, parse_granule_name(path), "Mandatory_Quality_Flag");
  const ZonalResult f = zonal_statistics(q, {mp({rect(30, 0, 40, 10)})}, o, CancelToken())[0];
  EXPECT_LE(f.max, 2);  // 255 is fill
}

TEST(BlackMarble, MonthlyFilesUseTheirOwnGrid) {
  TempDir dir;
  const std::string folder = granules(dir, "VNP46A3 2 h22v08 2024-02-01 1 120 3");
  const std::string path = only_file(folder, "VNP46A3.A2024032.h22v08.002.");
  const Raster r = open_layer(path, parse_granule_name(path), "NearNadir_Composite_Snow_Free");
  EXPECT_EQ(r.grid().x0, 40);
  EXPECT_DOUBLE_EQ(r.grid().dx, 10.0 / 120);
  EXPECT_NO_THROW(
      open_layer(path, parse_granule_name(path), "NearNadir_Composite_Snow_Free_Quality"));
}

TEST(BlackMarble, MissingLayersTruncatedFilesAndErrorPagesAreTold) {
  TempDir dir;
  const std::string folder = granules(dir, "VNP46A2 2 h21v08 2024-03-01 1 240 3");
  const std::string path = only_file(folder, "VNP46A2.");
  const Granule g = parse_granule_name(path);
  try {
    open_layer(path, g, "No_Such_Layer");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::not_found) << e.what();
  }
  const std::string cut = dir.file("VNP46A2.A2024062.h21v08.002.2024071123456.h5");
  std::filesystem::copy_file(path, cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) / 3);
  EXPECT_THROW(
      {
        const Raster r = open_layer(cut, parse_granule_name(cut), "DNB_BRDF-Corrected_NTL");
        ZonalOptions o;
        zonal_statistics(r, {mp({rect(30, 0, 40, 10)})}, o, CancelToken());
      },
      Error);
  const std::string html = dir.file("VNP46A2.A2024063.h21v08.002.2024072123456.h5");
  std::ofstream(html) << "<html><body>Please log in to Earthdata</body></html>";
  try {
    open_layer(html, parse_granule_name(html), "DNB_BRDF-Corrected_NTL");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::data_corrupted) << e.what();
  }
}

TEST(GranuleScan, ChecksEveryFileAndSaysWhyTheBadOnesAreBad) {
  TempDir dir;
  const std::string folder = granules(dir, "VNP46A2 2 h21v08,h22v08 2024-02-28 2 120 3");
  // a monthly file renamed as daily: right name, wrong layers
  TempDir other;
  granules(other, "VNP46A3 2 h21v08 2024-02-01 1 120 3");
  std::filesystem::copy_file(only_file(other.file(""), "VNP46A3."),
                             folder + "/VNP46A2.A2024061.h21v08.002.2024070000000.h5");
  const std::string cut = folder + "/VNP46A2.A2024061.h22v08.002.2024070000000.h5";
  std::filesystem::copy_file(only_file(folder, "VNP46A2.A2024060.h22v08"), cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) / 2);
  std::ofstream(folder + "/VNP46A2.A2024062.h21v08.002.2024071000000.h5") << "<html>log in</html>";
  std::ofstream(folder + "/VNP46A2.notes.txt") << "x";
  std::ofstream(folder + "/README.md") << "ignored: not named like the product";

  const auto files = scan_granules("VNP46A2", folder, {}, CancelToken());
  ASSERT_EQ(files.size(), 8u);
  int valid = 0;
  for (const ScannedFile& f : files) {
    if (f.valid) {
      valid++;
      EXPECT_GT(f.bytes, 1000) << f.uri;
      EXPECT_TRUE(f.reason.empty());
    } else {
      EXPECT_FALSE(f.reason.empty()) << f.uri;
    }
  }
  EXPECT_EQ(valid, 4);  // two tiles x two days
  auto reason = [&](const std::string& name) {
    for (const ScannedFile& f : files)
      if (f.uri.size() > name.size() &&
          f.uri.compare(f.uri.size() - name.size(), name.size(), name) == 0 &&
          f.uri[f.uri.size() - name.size() - 1] == '/')
        return f.reason;
    return std::string("(not scanned)");
  };
  EXPECT_NE(reason("VNP46A2.A2024061.h21v08.002.2024070000000.h5").find("no layer"),
            std::string::npos);
  EXPECT_NE(reason("VNP46A2.A2024062.h21v08.002.2024071000000.h5").find("not a readable HDF5"),
            std::string::npos);
  EXPECT_NE(reason("VNP46A2.notes.txt").find("not a Black Marble file name"), std::string::npos);
  EXPECT_NE(reason("VNP46A2.A2024061.h22v08.002.2024070000000.h5"), "");
  EXPECT_THROW(scan_granules("VNP46A2", dir.file("nope"), {}, CancelToken()), Error);
  EXPECT_THROW(scan_granules("XYZ", folder, {}, CancelToken()), Error);
}
