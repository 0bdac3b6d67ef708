#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "raster/crs.h"
#include "base/error.h"

using namespace geoetl;

namespace {
MultiPolygon square(double x0, double y0, double x1, double y1) {
  return {{{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}}};
}
const char* const wgs84 = "EPSG:4326";
const char* const mercator = "EPSG:3857";
}  // namespace

TEST(Crs, AbsurdProjectedCoordinatesAreRefusedBeforeProjSeesThem) {
  // PROJ 9.1 never returns from this transformation: the check must come first
  MultiPolygon mp = square(-1e30, -1e30, 1e30, 1e30);
  try {
    transform_to_raster_crs(mp, mercator, wgs84, "r.tif");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("out of range for its CRS"), std::string::npos);
  }
  MultiPolygon big = square(1e20, 0, 1.1e20, 1);
  EXPECT_THROW(transform_to_raster_crs(big, mercator, wgs84, "r.tif"), Error);
}

TEST(Crs, TheBoundsAreGenerous) {
  EXPECT_NO_THROW(
      check_coordinate_range({-20037508, -20037508, 20037508, 20037508}, mercator, "g"));
  EXPECT_NO_THROW(check_coordinate_range({-1e9, -1e9, 1e9, 1e9}, mercator, "g"));
  EXPECT_THROW(check_coordinate_range({0, 0, 1.0000001e9, 1}, mercator, "g"), Error);
  EXPECT_NO_THROW(check_coordinate_range({-360, -180, 360, 180}, wgs84, "g"));
  EXPECT_THROW(check_coordinate_range({0, 0, 360.001, 1}, wgs84, "g"), Error);
  EXPECT_THROW(check_coordinate_range({0, -180.001, 1, 1}, wgs84, "g"), Error);
  // US survey feet: the bound is in metres
  EXPECT_NO_THROW(check_coordinate_range({0, 0, 3e9, 1}, "EPSG:2263", "g"));
  EXPECT_THROW(check_coordinate_range({0, 0, 4e9, 1}, "EPSG:2263", "g"), Error);
  // no CRS (SRID 0): only finiteness
  EXPECT_NO_THROW(check_coordinate_range({0, 0, 1e300, 1}, "", "g"));
}

TEST(Crs, NonFiniteCoordinatesAreRefusedWhateverTheCrs) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  EXPECT_THROW(check_coordinate_range({0, 0, inf, 1}, "", "g"), Error);
  EXPECT_THROW(check_coordinate_range({-inf, 0, 1, 1}, wgs84, "g"), Error);
  MultiPolygon mp = square(0, 0, 1, 1);
  mp.polygons[0].rings[0][2].y = nan;  // hidden from a bounding box
  EXPECT_THROW(transform_to_raster_crs(mp, "", "", "r.tif"), Error);
  MultiPolygon fine = square(0, 0, 1, 1);
  EXPECT_NO_THROW(transform_to_raster_crs(fine, "", "", "r.tif"));
}
