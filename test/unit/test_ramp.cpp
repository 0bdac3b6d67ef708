// The night-light colour ramp (tiles/ramp.h): log scale, fixed ends, transparent where dark.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

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
