#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "blackmarble/composite.h"
#include "blackmarble/composite_file.h"
#include "base/error.h"
#include "polygons.h"
#include "tiff_writer.h"

using namespace geoetl;

namespace {

std::vector<std::string> granules(const TempDir& dir, const std::string& args) {
  const std::string cmd = std::string(GEOETL_BLACKMARBLE_TOOL) + " " + dir.file("") + " " + args;
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("generator failed: " + cmd);
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir.file(""))) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> of_tile(const std::vector<std::string>& files, const std::string& tile) {
  std::vector<std::string> out;
  for (const std::string& f : files)
    if (f.find("." + tile + ".") != std::string::npos) out.push_back(f);
  return out;
}

NightRules no_rules() {
  NightRules r;
  r.quality.clear();
  r.cloud = r.snow = false;
  r.negative = NightRules::Negative::keep;
  return r;
}

ZonalOptions moments() {
  ZonalOptions o;
  o.stats.quantiles.clear();
  return o;
}

// Cells copied into one grid: the single-raster equivalent of a mosaic.
class MemoryCells : public CellSource {
 public:
  MemoryCells(const CellSource& from, const Window& w) : grid_(from.grid()), crs_(from.crs_wkt()) {
    grid_.x0 += static_cast<double>(w.col0) * grid_.dx;
    grid_.y0 += static_cast<double>(w.row0) * grid_.dy;
    grid_.width = w.cols;
    grid_.height = w.rows;
    values_.resize(static_cast<size_t>(w.rows * w.cols));
    valid_.resize(values_.size());
    from.read(w, values_.data(), valid_.data(), CancelToken());
  }
  const Grid& grid() const override { return grid_; }
  const std::string& crs_wkt() const override { return crs_; }
  int block_width() const override { return static_cast<int>(grid_.width); }
  int block_height() const override { return 7; }
  void read(const Window& w, double* v, uint8_t* ok, const CancelToken&) const override {
    for (int64_t r = 0; r < w.rows; r++)
      for (int64_t c = 0; c < w.cols; c++) {
        const size_t from = static_cast<size_t>((w.row0 + r) * grid_.width + w.col0 + c);
        v[r * w.cols + c] = values_[from];
        ok[r * w.cols + c] = valid_[from];
      }
  }

 private:
  Grid grid_;
  std::string crs_;
  std::vector<double> values_;
  std::vector<uint8_t> valid_;
};

}  // namespace

TEST(NightRules, EachRuleDecidesOnHandMadePixels) {
  const NightRules all;  // defaults: quality {0,1}, cloud, snow, clamp
  double v = -1;
  const int clear = 0, probably_clear = 1 << 6, probably_cloudy = 2 << 6, cloudy = 3 << 6;
  EXPECT_TRUE(night_counts(5, true, 0, clear, 0, all, &v));
  EXPECT_EQ(v, 5);
  EXPECT_TRUE(
      night_counts(5, true, 1, probably_clear | (1 << 1), 0, all, &v));  // land bits ignored
  EXPECT_FALSE(night_counts(5, false, 0, clear, 0, all, &v));            // fill radiance
  EXPECT_FALSE(night_counts(5, true, 2, clear, 0, all, &v));             // poor quality
  EXPECT_FALSE(night_counts(5, true, -1, clear, 0, all, &v));            // quality fill
  EXPECT_FALSE(night_counts(5, true, 0, probably_cloudy, 0, all, &v));
  EXPECT_FALSE(night_counts(5, true, 0, cloudy, 0, all, &v));
  EXPECT_FALSE(night_counts(5, true, 0, -1, 0, all, &v));     // cloud mask fill
  EXPECT_FALSE(night_counts(5, true, 0, clear, 1, all, &v));  // snow
  EXPECT_TRUE(night_counts(-0.4, true, 0, clear, 0, all, &v));
  EXPECT_EQ(v, 0);  // negative noise clamped
  NightRules r = all;
  r.quality = {0, 1, 2};
  EXPECT_TRUE(night_counts(5, true, 2, clear, 0, r, &v));
  r.cloud = false;
  EXPECT_TRUE(night_counts(5, true, 0, cloudy, 0, r, &v));
  r.snow = false;
  EXPECT_TRUE(night_counts(5, true, 0, clear, 1, r, &v));
  r.negative = NightRules::Negative::keep;
  EXPECT_TRUE(night_counts(-0.4, true, 0, clear, 0, r, &v));
  EXPECT_EQ(v, -0.4);
  r.negative = NightRules::Negative::drop;
  EXPECT_FALSE(night_counts(-0.4, true, 0, clear, 0, r, &v));
}

TEST(NightRules, NegativeRulesAreReadByNameAndNothingElse) {
  EXPECT_EQ(parse_negative("clamp"), NightRules::Negative::clamp);
  EXPECT_EQ(parse_negative("keep"), NightRules::Negative::keep);
  EXPECT_EQ(parse_negative("drop"), NightRules::Negative::drop);
  for (const char* bad : {"", "Clamp", "zero", "keep "}) {
    try {
      parse_negative(bad);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::invalid_argument) << bad;
      EXPECT_NE(std::string(e.what()).find("negative"), std::string::npos) << e.what();
    }
  }
}

TEST(Composite, ReadPartsCoverTheWindowOnceAndEndOnBlockBoundaries) {
  struct Case {
    Window w;
    int64_t max_cells, block_rows, block_cols;
    bool whole_rows;  // a band of whole rows fits
  } cases[] = {{{100, 7, 1000, 50}, 436 * 50, 240, 240, true},
               {{0, 0, 2400, 2400}, 436 * 2400, 240, 240, true},
               {{0, 0, 2400, 2400}, 89 * 2400, 240, 240, false},  // the median of 31 nights
               {{5, 3, 500, 700}, 240 * 100, 240, 240, false},    // less than one block
               {{5, 0, 30, 10}, 4360, 240, 240, true},
               {{13, 0, 100, 10}, 70, 240, 240, false},
               {{0, 0, 1, 1}, 1, 1, 1, true},
               {{3, 0, 50, 10}, 160, 0, 0, true}};
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "window " << c.w.row0 << "," << c.w.col0 << " " << c.w.rows
                                    << "x" << c.w.cols << " max " << c.max_cells);
    std::vector<int> seen(static_cast<size_t>(c.w.rows * c.w.cols), 0);
    const std::vector<Window> parts = read_parts(c.w, c.max_cells, c.block_rows, c.block_cols);
    for (const Window& p : parts) {
      ASSERT_GT(p.rows, 0);
      ASSERT_GT(p.cols, 0);
      EXPECT_LE(p.rows * p.cols, std::max(c.max_cells, c.block_rows * c.block_cols));
      if (c.whole_rows) {
        EXPECT_EQ(p.cols, c.w.cols);
      }
      const int64_t end_row = p.row0 + p.rows, end_col = p.col0 + p.cols;
      if (c.block_rows > 0 && end_row < c.w.row0 + c.w.rows && p.rows >= c.block_rows) {
        EXPECT_EQ(end_row % c.block_rows, 0);
      }
      if (c.block_cols > 0 && end_col < c.w.col0 + c.w.cols) {
        EXPECT_EQ(end_col % c.block_cols, 0);
      }
      for (int64_t r = p.row0; r < end_row; r++)
        for (int64_t col = p.col0; col < end_col; col++) {
          ASSERT_TRUE(r >= c.w.row0 && r < c.w.row0 + c.w.rows && col >= c.w.col0 &&
                      col < c.w.col0 + c.w.cols);
          seen[static_cast<size_t>((r - c.w.row0) * c.w.cols + col - c.w.col0)]++;
        }
    }
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<long>(seen.size()));
  }
  EXPECT_TRUE(read_parts({0, 0, 0, 10}, 16, 240, 240).empty());
}

TEST(Composite, OneNightWithoutRulesIsThatNight) {
  TempDir dir;
  const auto files = granules(dir, "VNP46A2 2 h21v08 2024-03-01 1 60 4");
  const Granule g = parse_granule_name(files[0]);
  CompositeReport report;
  std::vector<TileComposite> tiles = {
      build_composite(files, g, 60, {0, 0, 60, 60}, no_rules(), {}, CancelToken(), &report)};
  EXPECT_EQ(report.files_used, 1);
  const CompositeMosaic mosaic(&tiles, 60, false);
  const MultiPolygon tile = mp({rect(30, 0, 40, 10)});
  const ZonalResult composite = zonal_statistics(mosaic, {tile}, moments(), CancelToken())[0];
  const Raster night = open_layer(files[0], g, "DNB_BRDF-Corrected_NTL");
  const ZonalResult direct = zonal_statistics(night, {tile}, moments(), CancelToken())[0];
  EXPECT_EQ(composite.count, direct.count);
  EXPECT_NEAR(composite.sum, direct.sum, 1e-3);  // float32 either way
  EXPECT_EQ(composite.min, direct.min);
}

TEST(Composite, RulesMedianAndMinimumNightsChangeTheResult) {
  TempDir dir;
  const auto files = granules(dir, "VNP46A2 2 h21v08 2024-03-01 5 60 4");
  const Granule g = parse_granule_name(files[0]);
  const MultiPolygon tile = mp({rect(30, 0, 40, 10)});
  auto run = [&](const NightRules& rules) {
    CompositeReport report;
    std::vector<TileComposite> t = {
        build_composite(files, g, 60, {0, 0, 60, 60}, rules, {}, CancelToken(), &report)};
    const CompositeMosaic values(&t, 60, false), nights(&t, 60, true);
    return std::make_pair(zonal_statistics(values, {tile}, moments(), CancelToken())[0],
                          zonal_statistics(nights, {tile}, moments(), CancelToken())[0]);
  };
  const auto [loose, loose_nights] = run(no_rules());
  const auto [strict, strict_nights] = run(NightRules());
  EXPECT_LT(strict_nights.sum, loose_nights.sum);  // quality, clouds and snow remove nights
  EXPECT_LE(strict.count, loose.count);
  NightRules median = no_rules();
  median.median = true;
  const auto [med, med_nights] = run(median);
  EXPECT_EQ(med.count, loose.count);
  EXPECT_NE(med.sum, loose.sum);
  EXPECT_EQ(med_nights.sum, loose_nights.sum);
  NightRules six = no_rules();
  six.min_valid_nights = 6;  // only five nights exist
  EXPECT_EQ(run(six).first.count, 0);
  EXPECT_EQ(run(six).second.sum, loose_nights.sum);  // the nights are still counted
}

TEST(Composite, ReadingInSmallPartsGivesTheSameComposite) {
  TempDir dir;  // 600 px: 240 px chunks, 3 x 3 of them, the last ones partial
  const auto files = granules(dir, "VNP46A2 2 h21v08 2024-03-01 3 600 4");
  const Granule g = parse_granule_name(files[0]);
  const Window w{17, 101, 500, 463};  // not on chunk boundaries
  for (const bool median : {false, true}) {
    SCOPED_TRACE(median ? "median" : "mean");
    NightRules rules;
    rules.median = median;
    CompositeReport report;
    const TileComposite whole =
        build_composite(files, g, 600, w, rules, {}, CancelToken(), &report);
    for (const int64_t bytes : {int64_t{1}, int64_t{240 * 100 * 44}, int64_t{240 * 463 * 44}}) {
      rules.buffer_bytes = bytes;  // one chunk, less than a row of chunks, one row of chunks
      const TileComposite parts =
          build_composite(files, g, 600, w, rules, {}, CancelToken(), &report);
      EXPECT_EQ(parts.value, whole.value) << bytes;
      EXPECT_EQ(parts.valid, whole.valid) << bytes;
      EXPECT_EQ(parts.nights, whole.nights) << bytes;
    }
    EXPECT_GT(std::count(whole.valid.begin(), whole.valid.end(), 1), 100000);
  }
}

TEST(Composite, UnreadableFilesAreReportedNotFatal) {
  TempDir dir;
  auto files = granules(dir, "VNP46A2 2 h21v08 2024-03-01 2 60 4");
  std::ofstream(dir.file("VNP46A2.A2024063.h21v08.002.2024072000000.h5")) << "<html></html>";
  files.push_back(dir.file("VNP46A2.A2024063.h21v08.002.2024072000000.h5"));
  CompositeReport report;
  build_composite(files, parse_granule_name(files[0]), 60, {0, 0, 60, 60}, no_rules(), {},
                  CancelToken(), &report);
  EXPECT_EQ(report.files_used, 2);
  ASSERT_EQ(report.files_invalid.size(), 1u);
  EXPECT_NE(report.files_invalid[0].find("A2024063"), std::string::npos);
}

TEST(Composite, AFourTileAreaEqualsTheSameCellsAsOneRaster) {
  TempDir dir;
  const auto files = granules(dir, "VNP46A2 2 h21v08,h22v08,h21v09,h22v09 2024-03-01 2 60 4");
  // a diamond around the corner where the four tiles meet (40 E, 0 N)
  const MultiPolygon area = mp({{{40, -3.3}, {43.1, 0}, {40, 2.9}, {36.7, 0}, {40, -3.3}}});
  std::vector<TileComposite> tiles;
  CompositeReport report;
  for (const char* t : {"h21v08", "h22v08", "h21v09", "h22v09"}) {
    const auto mine = of_tile(files, t);
    const Granule g = parse_granule_name(mine[0]);
    // the area's window in this tile's cells
    const double x0 = -180 + 10.0 * g.h, y0 = 90 - 10.0 * g.v;
    const Window w = intersect({static_cast<int64_t>(std::floor((y0 - 2.9) * 6)),
                                static_cast<int64_t>(std::floor((36.7 - x0) * 6)), 40, 40},
                               {0, 0, 60, 60});
    tiles.push_back(build_composite(mine, g, 60, w, NightRules(), {}, CancelToken(), &report));
  }
  EXPECT_EQ(report.files_used, 8);
  const CompositeMosaic mosaic(&tiles, 60, false);
  // the single raster: 60 x 60 cells centred on the corner (global row 9*60, column 22*60)
  const MemoryCells single(mosaic, {9 * 60 - 30, 22 * 60 - 30, 60, 60});
  ZonalOptions o;
  o.stats.quantiles = {0.5, 0.9};
  for (Coverage mode : {Coverage::exact, Coverage::center}) {
    o.coverage = mode;
    const ZonalResult a = zonal_statistics(mosaic, {area}, o, CancelToken())[0];
    const ZonalResult b = zonal_statistics(single, {area}, o, CancelToken())[0];
    EXPECT_GT(a.count, 100);
    EXPECT_NEAR(a.count, b.count, 1e-9);
    EXPECT_NEAR(a.sum, b.sum, 1e-9 * std::fabs(b.sum));
    EXPECT_EQ(a.min, b.min);
    EXPECT_EQ(a.max, b.max);
    EXPECT_NEAR(a.stddev, b.stddev, 1e-9);
    // the two grids have different origins, so cell coordinates (and weights) round apart
    ASSERT_EQ(a.quantiles.size(), b.quantiles.size());
    for (size_t q = 0; q < a.quantiles.size(); q++)
      EXPECT_NEAR(a.quantiles[q], b.quantiles[q], 1e-9 * std::fabs(b.quantiles[q]));
    EXPECT_NEAR(a.valid_area_km2, b.valid_area_km2, 1e-6 * b.valid_area_km2);
  }
}

TEST(Composite, AMonthsTileCompositeIsTheWholeTile) {
  TempDir dir;
  auto files = granules(dir, "VNP46A2 2 h21v08,h22v08 2024-03-01 3 60 4");
  const std::vector<std::string> h21 = of_tile(files, "h21v08");
  CompositeReport report;
  const TileComposite c = month_tile_composite(h21, NightRules(), {}, CancelToken(), &report);
  EXPECT_EQ(c.h, 21);
  EXPECT_EQ(c.v, 8);
  EXPECT_EQ(c.tile_size, 60);
  EXPECT_EQ(c.window.row0, 0);
  EXPECT_EQ(c.window.cols, 60);
  EXPECT_EQ(c.window.rows, 60);
  CompositeReport again;
  const TileComposite same = build_composite(h21, parse_granule_name(h21[0]), 60, {0, 0, 60, 60},
                                             NightRules(), {}, CancelToken(), &again);
  EXPECT_EQ(c.value, same.value);
  EXPECT_EQ(c.valid, same.valid);
  EXPECT_EQ(report.files_used, 3);
  // granules of two tiles, none, or none that opens
  EXPECT_THROW(month_tile_composite(files, NightRules(), {}, CancelToken(), &report), Error);
  EXPECT_THROW(month_tile_composite({}, NightRules(), {}, CancelToken(), &report), Error);
  const std::string junk = dir.file("VNP46A2.A2024070.h23v08.002.2024072000000.h5");
  std::ofstream(junk) << "<html></html>";
  CompositeReport bad;
  try {
    month_tile_composite({junk}, NightRules(), {}, CancelToken(), &bad);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::data_corrupted);
  }
  ASSERT_EQ(bad.files_invalid.size(), 1u);
  EXPECT_NE(bad.files_invalid[0].find("A2024070"), std::string::npos);
}
