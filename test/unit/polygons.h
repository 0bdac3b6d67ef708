// Small polygons for the core's tests.
#pragma once

#include <algorithm>
#include <vector>

#include "geom/geometry.h"

// The axis-aligned rectangle [x0, x1] x [y0, y1] as a closed ring.
inline geoetl::Ring rect(double x0, double y0, double x1, double y1) {
  return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}};
}

// The ring walked the other way.
inline geoetl::Ring reversed_ring(geoetl::Ring r) {
  std::reverse(r.begin(), r.end());
  return r;
}

// One polygon of the given rings (the first is the shell).
inline geoetl::MultiPolygon mp(std::vector<geoetl::Ring> rings) {
  return geoetl::MultiPolygon{{geoetl::Polygon{std::move(rings)}}};
}
