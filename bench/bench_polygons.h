// The polygons the benchmarks share, over the 4800x4800 bench raster (geoetl_fixtures --bench:
// 30..50 E, -10..10 N at 1/240 degree).
#pragma once

#include <cmath>
#include <random>
#include <vector>

#include "geom/geometry.h"

namespace geoetl {

// A country-sized star polygon: ~3.7 M cells of 1/240 degree, 200 vertices.
inline MultiPolygon country() {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(0, 1);
  Ring ring;
  const double cx = 40, cy = 0, r = 4.55;
  for (int k = 0; k < 200; k++) {
    const double a = (k + 0.5 * u(rng)) / 200 * 2 * M_PI, f = 0.9 + 0.2 * u(rng);
    ring.push_back({cx + r * f * std::cos(a), cy + r * f * std::sin(a)});
  }
  ring.push_back(ring.front());
  return MultiPolygon{{Polygon{{ring}}}};
}

// 1,000 village-sized polygons (32-gons of ~1.1 km radius) spread over the raster.
inline std::vector<MultiPolygon> villages() {
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<MultiPolygon> out;
  for (int i = 0; i < 1000; i++) {
    const double cx = 30.1 + u(rng) * 19.8, cy = -9.9 + u(rng) * 19.8, r = 0.006 + u(rng) * 0.008;
    Ring ring;
    for (int k = 0; k < 32; k++)
      ring.push_back({cx + r * std::cos(k * M_PI / 16), cy + r * std::sin(k * M_PI / 16)});
    ring.push_back(ring.front());
    out.push_back(MultiPolygon{{Polygon{{ring}}}});
  }
  return out;
}

}  // namespace geoetl
