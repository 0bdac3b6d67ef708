// Geometry arguments of SQL functions: as EWKB, as core polygons (checked valid by PostGIS),
// and their SRID's CRS. These call PostgreSQL through pg_guard: use them inside call_core.
#pragma once

extern "C" {
#include "postgres.h"
}

#include <cstdint>
#include <string>

#include "geom/geometry.h"

namespace geoetl::pg {

// The geometry's EWKB (palloc'd).
const bytea* ewkb_of(Datum geom, Oid type);

// The polygon of a geometry argument (and its EWKB); Error(invalid_argument) for anything but a
// valid Polygon or MultiPolygon. Its SRID goes to *srid.
MultiPolygon polygon_arg(Datum geom, Oid type, const bytea* ewkb, int32_t* srid);

// The CRS definition of an SRID ("" for 0: the raster's own CRS).
std::string srid_crs(int32_t srid, Oid geometry_type);

}  // namespace geoetl::pg
