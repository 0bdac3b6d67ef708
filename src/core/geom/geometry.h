// Plain polygon geometry for the core: rings of points, no CRS, no library types.
#pragma once

#include <vector>

namespace geoetl {

struct Point {
  double x;
  double y;
};

// A closed ring: the last point repeats the first.
using Ring = std::vector<Point>;

// Ring 0 is the shell, the others are holes.
struct Polygon {
  std::vector<Ring> rings;
};

struct MultiPolygon {
  std::vector<Polygon> polygons;
  bool empty() const;
};

struct Box {
  double xmin, ymin, xmax, ymax;
  bool empty() const { return !(xmin <= xmax && ymin <= ymax); }
};

// Shoelace area, positive when counter-clockwise in a y-up plane.
double signed_area(const Ring& ring);

// Area of the multipolygon (shells minus holes), orientation-independent.
double area(const MultiPolygon& mp);

// Bounding box; empty() when there is no point.
Box bounding_box(const MultiPolygon& mp);

// Shells get positive signed area, holes negative: what the coverage integrals assume.
void normalize_orientation(MultiPolygon& mp);

}  // namespace geoetl
