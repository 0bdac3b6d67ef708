// A month's composite of one Black Marble tile as a file (SQL: geoetl.save_composite): a
// Cloud-Optimized GeoTIFF, Float32 radiance, NaN (also its nodata) where the composite has no
// valid night, in the tile's 15-arc-second EPSG:4326 grid (or the part of it the composite
// covers), DEFLATE-compressed with averaged overviews: what the map tiles are rendered from and
// what zonal_stats reads to give the same numbers as nightlight_metrics.
#pragma once

#include <string>
#include <vector>

#include "base/cancel.h"
#include "blackmarble/composite.h"

namespace geoetl {

// The month's composite of one whole tile from its granules (`paths`, all of one product and
// tile): build_composite over every cell of the tile. Files that cannot be read are reported in
// `report`, not fatal. Throws Error: invalid_argument (no path, paths of two tiles or products, a
// name that is not a granule's), data_corrupted (no granule opens: `report` says why), cancelled.
TileComposite month_tile_composite(const std::vector<std::string>& paths, const NightRules& rules,
                                   const RasterOpenOptions& options, const CancelToken& cancel,
                                   CompositeReport* report);

// Writes `composite` to `path` (through a temporary file beside it: the file appears whole or not
// at all). Throws Error: invalid_argument (an empty composite), io_error (cannot write),
// cancelled.
void write_composite_cog(const TileComposite& composite, const std::string& path,
                         const CancelToken& cancel);

}  // namespace geoetl
