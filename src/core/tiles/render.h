// One night-light map tile: the month's composites (GDAL rasters in EPSG:4326, one band of
// radiance, NaN or nodata where no valid night) warped by GDAL onto the tile's 256x256 grid in
// EPSG:3857, with average resampling at zoom 8 and below (a tile pixel there covers at least one
// 15-arc-second composite pixel: it gets the mean of what it covers) and nearest above, then
// coloured by the night-light ramp (tiles/ramp.h) into an RGBA PNG.
#pragma once

#include <string>
#include <vector>

#include "base/cancel.h"
#include "tiles/tile_grid.h"

namespace geoetl {

constexpr int kTileSize = 256;
constexpr int kNativeZoom = 8;  // 611 m pixels at the equator, the composites' 463 m or coarser

// The tile's radiance, row by row from the north-west (NaN where no composite has a value).
// Throws Error: not_found / data_corrupted for a composite GDAL cannot open, invalid_argument for
// no composite or a tile that does not exist, cancelled.
std::vector<float> tile_radiance(const std::vector<std::string>& composites, const TileXyz& tile,
                                 const CancelToken& cancel);

// The tile as PNG bytes, "" when every pixel is transparent (no data, no light).
std::string render_night_light_tile(const std::vector<std::string>& composites, const TileXyz& tile,
                                    const CancelToken& cancel);

// RGBA pixels (kTileSize x kTileSize, 4 bytes each) as PNG bytes.
std::string encode_png(const std::vector<uint8_t>& rgba);

}  // namespace geoetl
