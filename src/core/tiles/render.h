// One night-light map tile: the month's composites (GDAL rasters in EPSG:4326, one band of
// radiance, NaN or nodata where no valid night) warped by GDAL onto the tile's 256x256 grid in
// EPSG:3857, with average resampling at zoom 8 and below (a tile pixel there covers at least one
// 15-arc-second composite pixel: it gets the mean of what it covers) and nearest above, then
// coloured by the night-light ramp (tiles/ramp.h) into an RGBA PNG.
#pragma once

#include <string>
#include <vector>

#include "base/cancel.h"
#include <memory>

#include "tiles/tile_grid.h"

namespace geoetl {

constexpr int kTileSize = 256;
constexpr int kNativeZoom = 8;
constexpr int kRenderThreads =
    2;  // TileRenderer::pngs  // 611 m pixels at the equator, the composites' 463 m or coarser

// The month's composites, opened once for many tiles (a render job, a backend serving tiles).
class TileRenderer {
 public:
  // Opens every composite. Throws Error: invalid_argument (no composite), not_found (no such
  // file), data_corrupted (GDAL cannot open it or it is not in EPSG:4326 degrees).
  explicit TileRenderer(const std::vector<std::string>& composites);
  ~TileRenderer();
  TileRenderer(const TileRenderer&) = delete;
  TileRenderer& operator=(const TileRenderer&) = delete;

  // The tile's radiance, row by row from the north-west (NaN where no composite has a value).
  // Only the composites that reach into the tile are warped (the others add nothing).
  std::vector<float> radiance(const TileXyz& tile, const CancelToken& cancel) const;
  // The tile as PNG bytes, "" when every pixel is transparent (no data, no light).
  std::string png(const TileXyz& tile, const CancelToken& cancel) const;
  // png(t) of every tile, in order, rendered on kRenderThreads threads: this renderer's and a
  // second renderer's over the same composites (opened on first use, then kept), started with
  // every signal blocked; `cancel` is only asked on the calling thread. A TileRenderer is used
  // by one thread at a time.
  std::vector<std::string> pngs(const std::vector<TileXyz>& tiles, const CancelToken& cancel) const;
  // Forgets every GDAL handle without closing it (GDAL closed them all when its driver manager
  // was destroyed): the renderer may only be destroyed after that.
  void orphan();
  // Longitude/latitude bounds of all the composites together.
  const Bounds& lon_lat_bounds() const { return all_; }

 private:
  struct Sources;  // the open datasets (GDAL's types stay out of this header)
  std::vector<std::string> composites_;
  std::unique_ptr<Sources> sources_;
  Bounds all_;
};

// A TileRenderer over `composites`, kept for later calls with the same composites while their
// files are unchanged (local files: the same inode, size and modification time; others, e.g.
// /vsis3/, are opened afresh every call): geoetl.tile() in a warm backend skips opening the files
// and making their transformers, and each zoom of a render job reuses the renderer (and its
// second thread's) of the zoom before. Files stay open while kept. Up to kCachedRenderers are
// kept, the least recently used dropped; all of them when GDAL's driver manager is destroyed
// (on_gdal_manager_lost). For one thread (a backend's). Throws what TileRenderer throws.
constexpr size_t kCachedRenderers = 8;
const TileRenderer& cached_tile_renderer(const std::vector<std::string>& composites);

// TileRenderer(composites).radiance(tile). Throws Error: what TileRenderer throws,
// invalid_argument for a tile that does not exist, cancelled.
std::vector<float> tile_radiance(const std::vector<std::string>& composites, const TileXyz& tile,
                                 const CancelToken& cancel);

// TileRenderer(composites).png(tile).
std::string render_night_light_tile(const std::vector<std::string>& composites, const TileXyz& tile,
                                    const CancelToken& cancel);

// RGBA pixels (kTileSize x kTileSize, 4 bytes each) as PNG bytes (scanlines unfiltered, deflated
// by libdeflate at a fast level; GDAL's PNG driver took 18 ms a tile of noisy radiance).
std::string encode_png(const std::vector<uint8_t>& rgba);

}  // namespace geoetl
