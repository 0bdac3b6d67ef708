// A month's composite of one Black Marble tile as a file (SQL: geoetl.save_composite): a
// Cloud-Optimized GeoTIFF, Float32 radiance, NaN (also its nodata) where the composite has no
// valid night, in the tile's 15-arc-second EPSG:4326 grid (or the part of it the composite
// covers), DEFLATE-compressed with averaged overviews: what the map tiles are rendered from and
// what zonal_stats reads to give the same numbers as nightlight_metrics.
#pragma once

#include <string>

#include "base/cancel.h"
#include "blackmarble/composite.h"

namespace geoetl {

// Writes `composite` to `path` (through a temporary file beside it: the file appears whole or not
// at all). Throws Error: invalid_argument (an empty composite), io_error (cannot write),
// cancelled.
void write_composite_cog(const TileComposite& composite, const std::string& path,
                         const CancelToken& cancel);

}  // namespace geoetl
