// (E)WKB to MultiPolygon: what PostGIS sends (geometry_send) and OGR/ISO WKB.
#pragma once

#include <cstddef>
#include <cstdint>

#include "geom/geometry.h"

namespace geoetl {

struct ParsedGeometry {
  MultiPolygon polygons;
  int32_t srid = 0;  // from EWKB; 0 when absent
};

// Parses a Polygon or MultiPolygon (Z/M dimensions dropped). Throws Error(invalid_argument)
// for other geometry types (naming them) and for truncated or malformed input.
ParsedGeometry parse_wkb(const uint8_t* data, size_t size);

}  // namespace geoetl
