// Geometry arguments of SQL functions (see geometry_arg.h).
#include "geometry_arg.h"

#include "boundary.h"
#include "base/error.h"
#include "postgis.h"
#include "geom/wkb.h"

namespace geoetl::pg {

const bytea* ewkb_of(Datum geom, Oid type) {
  return pg_guard([&] { return geometry_ewkb(geom, type); });
}

// A polygon argument (and its EWKB): parsed, checked valid by PostGIS; its SRID in *srid.
MultiPolygon polygon_arg(Datum geom, Oid type, const bytea* ewkb, int32_t* srid) {
  ParsedGeometry g =
      parse_wkb(reinterpret_cast<const uint8_t*>(VARDATA_ANY(ewkb)), VARSIZE_ANY_EXHDR(ewkb));
  const char* why = pg_guard([&] { return invalid_reason(geom, type); });
  if (why != nullptr)
    throw Error(ErrorKind::invalid_argument, "invalid geometry", why,
                "Repair it first, e.g. with ST_MakeValid(geom).");
  *srid = g.srid;
  return std::move(g.polygons);
}

// The CRS definition of an SRID ("" for 0: the raster's own CRS).
std::string srid_crs(int32_t srid, Oid geometry_type) {
  if (srid == 0) return {};
  const char* def = pg_guard([&] { return srid_definition(srid, geometry_type); });
  if (def == nullptr)
    throw Error(ErrorKind::invalid_argument,
                "SRID " + std::to_string(srid) + " is not in spatial_ref_sys", {},
                "Use a known SRID, or SRID 0 for coordinates in the raster's own CRS.");
  return def;
}

}  // namespace geoetl::pg
