// PMTiles tile ids: tiles numbered zoom by zoom, each zoom's tiles along a Hilbert curve.
#include <string>
#include <utility>

#include "base/error.h"
#include "tiles/pmtiles.h"

namespace geoetl {
namespace {

// The number of tiles of zooms 0..z-1: (4^z - 1) / 3.
uint64_t tiles_below(int z) {
  return ((uint64_t{1} << (2 * z)) - 1) / 3;
}

// Turns the quadrant's coordinates so that the curve inside it has the orientation of the
// curve it continues (the Hilbert curve's rotation step, on a square of side s).
void rotate(uint64_t s, uint64_t& x, uint64_t& y, uint64_t rx, uint64_t ry) {
  if (ry != 0) return;
  if (rx == 1) {
    x = s - 1 - x;
    y = s - 1 - y;
  }
  std::swap(x, y);
}

}  // namespace

uint64_t pmtiles_tile_id(const TileXyz& t) {
  check_tile(t);
  const uint64_t n = uint64_t{1} << t.z;
  uint64_t x = t.x, y = t.y, d = 0;
  for (uint64_t s = n / 2; s > 0; s /= 2) {
    const uint64_t rx = (x & s) ? 1 : 0;
    const uint64_t ry = (y & s) ? 1 : 0;
    d += s * s * ((3 * rx) ^ ry);
    rotate(s, x, y, rx, ry);
  }
  return tiles_below(t.z) + d;
}

TileXyz pmtiles_tile_xyz(uint64_t id) {
  int z = 0;
  while (z <= kMaxTileZoom && id >= tiles_below(z + 1)) z++;
  if (z > kMaxTileZoom)
    throw Error(ErrorKind::invalid_argument,
                "tile id " + std::to_string(id) + " is beyond zoom 30");
  const uint64_t n = uint64_t{1} << z;
  uint64_t d = id - tiles_below(z), x = 0, y = 0;
  for (uint64_t s = 1; s < n; s *= 2) {
    const uint64_t rx = 1 & (d / 2);
    const uint64_t ry = 1 & (d ^ rx);
    rotate(s, x, y, rx, ry);
    x += s * rx;
    y += s * ry;
    d /= 4;
  }
  return TileXyz{z, static_cast<uint32_t>(x), static_cast<uint32_t>(y)};
}

}  // namespace geoetl
