// XYZ tile bounds and the tiles over an area (tiles/tile_grid.h), against values gdal2tiles.py
// --xyz (GDAL 3.6, GlobalMercator) gives for the same tiles.
#include <gtest/gtest.h>

#include <set>
#include <utility>
#include <vector>

#include "base/error.h"
#include "tiles/tile_grid.h"

using namespace geoetl;

TEST(TileGrid, BoundsInWebMercatorAsGdal2tiles) {
  const Bounds world = tile_bounds_3857({0, 0, 0});
  EXPECT_DOUBLE_EQ(world.min_x, -20037508.342789244);
  EXPECT_DOUBLE_EQ(world.max_y, 20037508.342789244);
  // gdal2tiles.py's GlobalMercator().TileBounds(1, 0, 0) with its y flipped for XYZ (y = 1 at z 1)
  const Bounds b = tile_bounds_3857({1, 1, 0});
  EXPECT_DOUBLE_EQ(b.min_x, 0);
  EXPECT_DOUBLE_EQ(b.min_y, 0);
  EXPECT_DOUBLE_EQ(b.max_x, 20037508.342789244);
  EXPECT_DOUBLE_EQ(b.max_y, 20037508.342789244);
  // GlobalMercator().TileBounds(153, 128, 8): TMS row 128 is XYZ row 127
  const Bounds k = tile_bounds_3857({8, 153, 127});
  EXPECT_NEAR(k.min_x, 3913575.8482010253, 1e-6);
  EXPECT_NEAR(k.max_x, 4070118.8821290657, 1e-6);
  EXPECT_NEAR(k.min_y, 0, 1e-6);
  EXPECT_NEAR(k.max_y, 156543.03392804042, 1e-6);
}

TEST(TileGrid, BoundsInDegrees) {
  const Bounds world = tile_bounds_4326({0, 0, 0});
  EXPECT_DOUBLE_EQ(world.min_x, -180);
  EXPECT_DOUBLE_EQ(world.max_x, 180);
  EXPECT_NEAR(world.max_y, 85.0511287798066, 1e-9);
  EXPECT_NEAR(world.min_y, -85.0511287798066, 1e-9);
  // GlobalMercator().TileLatLonBounds(153, 128, 8)
  const Bounds k = tile_bounds_4326({8, 153, 127});
  EXPECT_NEAR(k.min_x, 35.15625, 1e-9);
  EXPECT_NEAR(k.max_x, 36.5625, 1e-9);
  EXPECT_NEAR(k.min_y, 0, 1e-9);
  EXPECT_NEAR(k.max_y, 1.4061088354351468, 1e-9);
}

TEST(TileGrid, TilesOverAnArea) {
  // Kakuma, Kenya (34.8, 3.7) at zoom 8, and a box over two tiles
  auto t = tiles_over({34.85, 3.70, 34.90, 3.75}, 8);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0], (TileXyz{8, 152, 125}));
  t = tiles_over({36.4, 0.5, 36.7, 0.6}, 8);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0], (TileXyz{8, 153, 127}));
  EXPECT_EQ(t[1], (TileXyz{8, 154, 127}));
  EXPECT_EQ(tiles_over({-180, -90, 180, 90}, 1).size(), 4u);  // clamped to the square world
  EXPECT_EQ(tiles_over({10, 10, 5, 5}, 3).size(), 0u);
}

TEST(TileGrid, TilesThatDoNotExist) {
  EXPECT_THROW(tile_bounds_3857({1, 2, 0}), Error);
  EXPECT_THROW(tile_bounds_3857({-1, 0, 0}), Error);
  EXPECT_THROW(tile_bounds_3857({31, 0, 0}), Error);
}

TEST(TileGrid, TilesOverSeveralBoxesEachOnce) {
  // two boxes sharing a column of zoom-3 tiles, and one far away
  const std::vector<TileXyz> a = tiles_over(Bounds{0, 0, 50, 10}, 3);
  const std::vector<TileXyz> b = tiles_over(Bounds{40, -10, 90, 0}, 3);
  const std::vector<TileXyz> c = tiles_over(Bounds{-170, 60, -160, 70}, 3);
  const std::vector<TileXyz> all =
      tiles_over(std::vector<Bounds>{{0, 0, 50, 10}, {40, -10, 90, 0}, {-170, 60, -160, 70}}, 3);
  std::set<std::pair<uint32_t, uint32_t>> want;
  for (const auto* v : {&a, &b, &c})
    for (const TileXyz& t : *v) want.insert({t.x, t.y});
  ASSERT_EQ(all.size(), want.size());
  EXPECT_LT(all.size(), a.size() + b.size() + c.size());  // the shared tiles once
  auto it = want.begin();
  for (const TileXyz& t : all) {  // x then y order, as the set's
    EXPECT_EQ(t.z, 3);
    EXPECT_EQ(std::make_pair(t.x, t.y), *it++);
  }
  EXPECT_TRUE(tiles_over(std::vector<Bounds>{}, 3).empty());
}
