// Web Mercator map tiles as XYZ numbers them (x from the west, y from the north, 2^z by 2^z tiles
// of 256 by 256 pixels at zoom z): a tile's bounds, the tiles over an area.
#pragma once

#include <cstdint>
#include <vector>

namespace geoetl {

struct TileXyz {
  int z = 0;
  uint32_t x = 0, y = 0;
  bool operator==(const TileXyz& o) const { return z == o.z && x == o.x && y == o.y; }
};

struct Bounds {
  double min_x = 0, min_y = 0, max_x = 0, max_y = 0;
};

constexpr int kMaxTileZoom = 30;

// Throws Error(invalid_argument) for z outside 0..kMaxTileZoom or x, y outside 0..2^z-1.
void check_tile(const TileXyz& t);

// Half the width of the Web Mercator world (EPSG:3857), metres.
constexpr double kWebMercatorHalf = 20037508.342789244;

// A tile's bounds in EPSG:3857 metres. Throws Error(invalid_argument) for z outside 0..30 or x,
// y outside 0..2^z-1.
Bounds tile_bounds_3857(const TileXyz& t);
// The same in degrees of longitude and latitude (EPSG:4326).
Bounds tile_bounds_4326(const TileXyz& t);

// The tiles of zoom z that intersect a longitude/latitude box (latitudes clamped to Web
// Mercator's +-85.0511), in x then y order.
std::vector<TileXyz> tiles_over(const Bounds& lon_lat, int z);
// The tiles of zoom z that intersect any of the boxes, each once, in x then y order.
std::vector<TileXyz> tiles_over(const std::vector<Bounds>& lon_lat_boxes, int z);

// How many tiles of zooms min_zoom..max_zoom the boxes cover, without listing them (a box's
// tiles counted for each box: an upper bound where boxes overlap).
uint64_t tile_count_over(const std::vector<Bounds>& lon_lat_boxes, int min_zoom, int max_zoom);

// The most tiles one render lists (render_month.h refuses more: invalid_argument).
constexpr uint64_t kMaxRenderTiles = 1000000;

}  // namespace geoetl
