// geoetl._check_extent(): the coordinate bounds of the core (check_coordinate_range) for SQL
// code that transforms with PostGIS's ST_Transform (nightlight_metrics, the STAC functions).
extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <string>

#include "args.h"
#include "boundary.h"
#include "raster/crs.h"

extern "C" {

// _check_extent(xmin, ymin, xmax, ymax, crs text, what text): raises 22023 for a box no CRS
// has; crs NULL or '' checks finiteness only.
PG_FUNCTION_INFO_V1(geoetl_check_extent);
Datum geoetl_check_extent(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo);
  for (int i = 0; i < 4; i++)
    if (args.is_null(i)) PG_RETURN_VOID();  // an empty geometry has no box
  const geoetl::Box box{args.float8(0, "xmin"), args.float8(1, "ymin"), args.float8(2, "xmax"),
                        args.float8(3, "ymax")};
  const char* crs = args.text_or(4, "");
  const char* what = args.text_or(5, "the geometry");
  geoetl::pg::call_core([&] { geoetl::check_coordinate_range(box, crs, what); });
  PG_RETURN_VOID();
}

}  // extern "C"
