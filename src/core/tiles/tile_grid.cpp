#include "tiles/tile_grid.h"

#include <algorithm>
#include <utility>
#include <cmath>
#include <string>

#include "base/error.h"

namespace geoetl {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kMaxLatitude = 85.0511287798066;  // where Web Mercator's square world ends

double latitude_of_mercator_y(double y) {
  return std::atan(std::sinh(y / kWebMercatorHalf * kPi)) * 180.0 / kPi;
}

}  // namespace

void check_tile(const TileXyz& t) {
  if (t.z < 0 || t.z > kMaxTileZoom)
    throw Error(ErrorKind::invalid_argument,
                "tile zoom " + std::to_string(t.z) + " is not between 0 and 30");
  const uint64_t n = uint64_t{1} << t.z;
  if (t.x >= n || t.y >= n)
    throw Error(ErrorKind::invalid_argument,
                "tile " + std::to_string(t.z) + "/" + std::to_string(t.x) + "/" +
                    std::to_string(t.y) + " does not exist",
                {}, "At zoom z, x and y go from 0 to 2^z - 1.");
}

Bounds tile_bounds_3857(const TileXyz& t) {
  check_tile(t);
  const double size = 2 * kWebMercatorHalf / static_cast<double>(uint64_t{1} << t.z);
  Bounds b;
  b.min_x = -kWebMercatorHalf + t.x * size;
  b.max_x = b.min_x + size;
  b.max_y = kWebMercatorHalf - t.y * size;
  b.min_y = b.max_y - size;
  return b;
}

Bounds tile_bounds_4326(const TileXyz& t) {
  const Bounds m = tile_bounds_3857(t);
  Bounds b;
  b.min_x = m.min_x / kWebMercatorHalf * 180.0;
  b.max_x = m.max_x / kWebMercatorHalf * 180.0;
  b.min_y = latitude_of_mercator_y(m.min_y);
  b.max_y = latitude_of_mercator_y(m.max_y);
  return b;
}

namespace {

// The columns x0..x1 and rows y0..y1 of zoom z's tiles over a box; false for an empty box.
bool tile_span(const Bounds& box, int z, double* x0, double* x1, double* y0, double* y1) {
  check_tile(TileXyz{z, 0, 0});
  const double n = static_cast<double>(uint64_t{1} << z);
  const auto column = [&](double lon) {
    return std::clamp(std::floor((lon + 180.0) / 360.0 * n), 0.0, n - 1);
  };
  const auto row = [&](double lat) {
    const double phi = std::clamp(lat, -kMaxLatitude, kMaxLatitude) * kPi / 180.0;
    const double y = (1.0 - std::log(std::tan(phi) + 1.0 / std::cos(phi)) / kPi) / 2.0 * n;
    return std::clamp(std::floor(y), 0.0, n - 1);
  };
  if (!(box.max_x >= box.min_x && box.max_y >= box.min_y)) return false;  // NaN too
  *x0 = column(box.min_x);
  *x1 = column(box.max_x);
  *y0 = row(box.max_y);
  *y1 = row(box.min_y);
  return true;
}

}  // namespace

std::vector<TileXyz> tiles_over(const Bounds& box, int z) {
  std::vector<TileXyz> tiles;
  double x0, x1, y0, y1;
  if (!tile_span(box, z, &x0, &x1, &y0, &y1)) return tiles;
  for (double x = x0; x <= x1; x++)
    for (double y = y0; y <= y1; y++)
      tiles.push_back({z, static_cast<uint32_t>(x), static_cast<uint32_t>(y)});
  return tiles;
}

uint64_t tile_count_over(const std::vector<Bounds>& boxes, int min_zoom, int max_zoom) {
  uint64_t count = 0;
  for (int z = min_zoom; z <= max_zoom; z++)
    for (const Bounds& b : boxes) {
      double x0, x1, y0, y1;
      if (tile_span(b, z, &x0, &x1, &y0, &y1))
        count += static_cast<uint64_t>((x1 - x0 + 1) * (y1 - y0 + 1));
    }
  return count;
}

std::vector<TileXyz> tiles_over(const std::vector<Bounds>& boxes, int z) {
  std::vector<TileXyz> tiles;
  for (const Bounds& b : boxes) {
    const std::vector<TileXyz> more = tiles_over(b, z);
    tiles.insert(tiles.end(), more.begin(), more.end());
  }
  const auto key = [](const TileXyz& t) { return std::make_pair(t.x, t.y); };
  std::sort(tiles.begin(), tiles.end(),
            [&](const TileXyz& a, const TileXyz& b) { return key(a) < key(b); });
  tiles.erase(std::unique(tiles.begin(), tiles.end()), tiles.end());
  return tiles;
}

}  // namespace geoetl
