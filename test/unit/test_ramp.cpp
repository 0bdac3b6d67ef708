// The night-light colour ramp (tiles/ramp.h): log scale, fixed ends, transparent where dark.
#include <gtest/gtest.h>

#include <gdal.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tiles/ramp.h"

using namespace geoetl;

TEST(Ramp, PositionsOnALogScaleFromZeroToAHundred) {
  EXPECT_DOUBLE_EQ(night_light_position(0), 0);
  EXPECT_DOUBLE_EQ(night_light_position(-3), 0);
  EXPECT_DOUBLE_EQ(night_light_position(100), 1);
  EXPECT_DOUBLE_EQ(night_light_position(5000), 1);
  EXPECT_NEAR(night_light_position(9), std::log10(10) / std::log10(101), 1e-12);  // 0.4989
  EXPECT_LT(night_light_position(1), night_light_position(2));
}

TEST(Ramp, NoDataAndNoLightAreTransparent) {
  EXPECT_EQ(night_light_colour(std::numeric_limits<double>::quiet_NaN()), Rgba{});
  EXPECT_EQ(night_light_colour(0), Rgba{});
  EXPECT_EQ(night_light_colour(-1), Rgba{});
}

TEST(Ramp, DarkToWarmToWhite) {
  EXPECT_EQ(night_light_colour(100), (Rgba{255, 255, 255, 255}));
  EXPECT_EQ(night_light_colour(1e6), (Rgba{255, 255, 255, 255}));
  const Rgba faint = night_light_colour(0.05);
  EXPECT_LT(faint.a, 255);  // faint light fades in
  EXPECT_GT(faint.a, 0);
  EXPECT_LT(faint.r + faint.g + faint.b, 120);  // and is dark
  // brighter is never darker
  int last = -1;
  for (double v = 0.5; v <= 100; v *= 1.5) {
    const Rgba c = night_light_colour(v);
    const int sum = c.r + c.g + c.b;
    EXPECT_GE(sum, last) << v;
    last = sum;
  }
  // the stops are where they say
  for (const RampStop& s : night_light_stops()) {
    const double v = std::pow(101.0, s.t) - 1;
    if (v <= 0) continue;
    const Rgba c = night_light_colour(v);
    EXPECT_NEAR(c.r, s.colour.r, 1) << s.t;
    EXPECT_NEAR(c.g, s.colour.g, 1) << s.t;
    EXPECT_NEAR(c.b, s.colour.b, 1) << s.t;
  }
}

// The legend the README and the viewer page show (viewer/legend.png, written by
// viewer/make_legend.mjs) is this ramp: column x has the colour of t = x / 255.
TEST(Ramp, TheLegendImageIsThisRamp) {
  const char* source = std::getenv("GEOETL_SOURCE_DIR");
  if (source == nullptr) GTEST_SKIP() << "GEOETL_SOURCE_DIR is not set";
  GDALAllRegister();
  const std::string path = std::string(source) + "/viewer/legend.png";
  GDALDatasetH ds = GDALOpen(path.c_str(), GA_ReadOnly);
  ASSERT_NE(ds, nullptr) << path;
  const int w = GDALGetRasterXSize(ds);
  ASSERT_EQ(w, 256);
  ASSERT_GE(GDALGetRasterCount(ds), 3);
  std::vector<uint8_t> rgb(3 * 256);
  ASSERT_EQ(GDALDatasetRasterIO(ds, GF_Read, 0, 0, 256, 1, rgb.data(), 256, 1, GDT_Byte, 3, nullptr,
                                3, 3 * 256, 1),
            CE_None);
  GDALClose(ds);
  for (int x = 0; x < 256; x++) {
    const double t = x / 255.0, v = std::pow(101.0, t) - 1;
    const Rgba c = x == 0 ? night_light_colour(1e-12) : night_light_colour(v);
    EXPECT_NEAR(rgb[3 * x], c.r, 1) << x;
    EXPECT_NEAR(rgb[3 * x + 1], c.g, 1) << x;
    EXPECT_NEAR(rgb[3 * x + 2], c.b, 1) << x;
  }
}

TEST(Ramp, ManyColoursAtOnceAreEachValuesColour) {
  // floats from every range the table covers (2^-20 to 2^8), at and beside the edges of its
  // buckets (4096 neighbouring floats each), beyond it, and the transparent ones
  std::vector<float> v = {0.0f,
                          -0.0f,
                          -1.0f,
                          std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::infinity(),
                          1e-30f,
                          1e-7f,
                          1e6f,
                          100.0f};
  std::mt19937 random(17);
  std::uniform_int_distribution<uint32_t> bits(0x35000000u, 0x43900000u);  // ~5e-7 .. 288
  for (int i = 0; i < 400000; i++) {
    const uint32_t b = bits(random);
    for (const uint32_t x : {b, b & ~0xfffu, b | 0xfffu, (b | 0xfffu) + 1}) {
      float f;
      std::memcpy(&f, &x, sizeof f);
      v.push_back(f);
    }
  }
  for (double t = 0; t <= 1; t += 1e-5) v.push_back(static_cast<float>(std::pow(101.0, t) - 1));
  std::vector<uint8_t> rgba(v.size() * 4);
  night_light_colours(v.data(), v.size(), rgba.data());
  for (size_t i = 0; i < v.size(); i++) {
    const Rgba c = night_light_colour(v[i]);
    ASSERT_EQ((Rgba{rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]}), c)
        << "v = " << v[i];
  }
}
