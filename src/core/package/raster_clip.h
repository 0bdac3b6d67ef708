// Clipping a raster to an area for a data package: the cells of the area's bounding box in the
// source's own grid (no resampling, same CRS, same data type and values), cells whose centre is
// outside the area (or, with all_touched, that the area does not touch) set to nodata, written
// as a Cloud-Optimized GeoTIFF with overviews.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/cancel.h"
#include "geom/coverage.h"
#include "geom/geometry.h"
#include "raster/raster.h"

namespace geoetl {

// The file extension and media type of a raster clip (a Cloud-Optimized GeoTIFF).
inline constexpr const char* kRasterClipExtension = "tif";
inline constexpr const char* kRasterClipMediatype =
    "image/tiff; application=geotiff; profile=cloud-optimized";

struct RasterClipOptions {
  std::vector<int> bands;               // 1-based; empty: every band
  bool all_touched = false;             // GDAL's ALL_TOUCHED instead of the centre rule
  std::string compression = "DEFLATE";  // COG COMPRESS= (DEFLATE, ZSTD, LZW, NONE, ...)
};

struct RasterClip {
  Window window;         // of the source's grid that was written
  int64_t cells_in = 0;  // cells inside the area (not set to nodata)
};

// Writes the clip of `raster` to `area` (world coordinates in the raster's CRS) to `out_path`
// (a new file; the caller renames it into place). Throws invalid_argument (22023) when the area
// lies outside the raster or takes none of its cells, cancelled when `cancel` asks.
RasterClip clip_raster(const Raster& raster, const MultiPolygon& area,
                       const RasterClipOptions& options, const std::string& out_path,
                       const CancelToken& cancel);

}  // namespace geoetl
