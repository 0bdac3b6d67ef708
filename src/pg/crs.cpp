// geoetl._check_extent(): the coordinate bounds of the core (check_coordinate_range) for SQL
// code that transforms with PostGIS's ST_Transform (nightlight_metrics, the STAC functions).
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/builtins.h"
}

#include <string>

#include "boundary.h"
#include "raster/crs.h"

extern "C" {

// _check_extent(xmin, ymin, xmax, ymax, crs text, what text): raises 22023 for a box no CRS
// has; crs NULL or '' checks finiteness only.
PG_FUNCTION_INFO_V1(geoetl_check_extent);
Datum geoetl_check_extent(PG_FUNCTION_ARGS) {
  for (int i = 0; i < 4; i++)
    if (PG_ARGISNULL(i)) PG_RETURN_VOID();  // an empty geometry has no box
  const geoetl::Box box{PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2),
                        PG_GETARG_FLOAT8(3)};
  const char* crs = PG_ARGISNULL(4) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(4));
  const char* what = PG_ARGISNULL(5) ? "the geometry" : text_to_cstring(PG_GETARG_TEXT_PP(5));
  geoetl::pg::call_core([&] { geoetl::check_coordinate_range(box, crs, what); });
  PG_RETURN_VOID();
}

}  // extern "C"
