// Coordinate reference systems for the zonal engine (GDAL/OGR's PROJ).
#pragma once

#include <cstdint>
#include <string>

#include "geom/geometry.h"
#include "raster/raster.h"

namespace geoetl {

// Refuses (invalid_argument, 22023) coordinates no CRS has: non-finite ones, and, for `crs` (a
// WKT or PROJ definition; "" for none: finiteness only), degrees beyond +-360 (x) or +-180 (y) in
// a geographic CRS, or beyond +-1e9 m (x and y, in the CRS's own units) in any other. PROJ 9.1
// never returns from some transformations of absurd input (EPSG:3857 at 1e20 and beyond) and
// checks no interrupt: every transformation is bounded by this first. `what` names the input.
void check_coordinate_range(const Box& box, const std::string& crs, const std::string& what);

// Transforms `mp` from `from` (WKT or PROJ string; "" means "already in the raster's CRS") to
// `to_wkt`. A geometry with a CRS over a raster without one is an error, never a guess; absurd
// coordinates are refused first (check_coordinate_range).
void transform_to_raster_crs(MultiPolygon& mp, const std::string& from, const std::string& to_wkt,
                             const std::string& raster_name);

// Area of one cell of each row in km2: on the ellipsoid for geographic CRSs (cells shrink towards
// the poles), planar for projected ones; NaN when the raster has no CRS.
class CellAreas {
 public:
  CellAreas(const Grid& grid, const std::string& crs_wkt);
  double km2(int64_t row) const;

 private:
  enum class Kind { unknown, planar, geographic } kind_ = Kind::unknown;
  double planar_km2_ = 0;
  double a2_1me2_half_ = 0, e_ = 0, dlambda_ = 0, y0_ = 0, dy_ = 0, to_rad_ = 0;
};

}  // namespace geoetl
