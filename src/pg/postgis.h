// PostGIS interop for the glue: geometries as EWKB, validity, SRID definitions. These call into
// PostgreSQL and may ereport: call them through pg_guard() from C++.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace geoetl::pg {

// The geometry as EWKB (PostGIS's binary send function); palloc'd bytea.
bytea* geometry_ewkb(Datum geom, Oid geometry_type);

// PostGIS's reason why the geometry is invalid (ST_IsValidReason), or NULL when it is valid.
const char* invalid_reason(Datum geom, Oid geometry_type);

// The CRS of an SRID from spatial_ref_sys (WKT, else PROJ string); NULL when unknown. Cached.
const char* srid_definition(int32 srid, Oid geometry_type);

}  // namespace geoetl::pg
