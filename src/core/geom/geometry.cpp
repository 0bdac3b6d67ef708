#include "geom/geometry.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace geoetl {

bool MultiPolygon::empty() const {
  for (const Polygon& p : polygons)
    if (!p.rings.empty() && !p.rings[0].empty()) return false;
  return true;
}

double signed_area(const Ring& ring) {
  if (ring.size() < 3) return 0;
  // Shifted to the first point: keeps the products small for far-from-origin coordinates.
  const double x0 = ring[0].x, y0 = ring[0].y;
  double twice = 0;
  for (size_t i = 0; i + 1 < ring.size(); i++)
    twice += (ring[i].x - x0) * (ring[i + 1].y - y0) - (ring[i + 1].x - x0) * (ring[i].y - y0);
  return twice / 2;
}

double area(const MultiPolygon& mp) {
  double total = 0;
  for (const Polygon& p : mp.polygons)
    for (size_t r = 0; r < p.rings.size(); r++)
      total += (r == 0 ? 1 : -1) * std::fabs(signed_area(p.rings[r]));
  return total;
}

Box bounding_box(const MultiPolygon& mp) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  Box b{inf, inf, -inf, -inf};
  for (const Polygon& p : mp.polygons)
    for (const Ring& r : p.rings)
      for (const Point& pt : r) {
        b.xmin = std::min(b.xmin, pt.x);
        b.ymin = std::min(b.ymin, pt.y);
        b.xmax = std::max(b.xmax, pt.x);
        b.ymax = std::max(b.ymax, pt.y);
      }
  return b;
}

void normalize_orientation(MultiPolygon& mp) {
  for (Polygon& p : mp.polygons)
    for (size_t r = 0; r < p.rings.size(); r++) {
      const double a = signed_area(p.rings[r]);
      if ((r == 0 && a < 0) || (r > 0 && a > 0)) std::reverse(p.rings[r].begin(), p.rings[r].end());
    }
}

}  // namespace geoetl
