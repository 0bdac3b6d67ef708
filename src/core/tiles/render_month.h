// A month's map tiles rendered into the store, from a TileRenderer over its composites: one zoom
// of XYZ files ("<prefix>/<z>/<x>/<y>.png"), or every zoom in one PMTiles archive.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/cancel.h"
#include "tiles/render.h"
#include "transfer/store.h"

namespace geoetl {

struct TileCounts {
  int64_t tiles = 0;      // tiles rendered
  int64_t written = 0;    // files (XYZ) or archive entries with light (PMTiles) written
  int64_t unchanged = 0;  // XYZ files that already held the same bytes: left alone
  int64_t empty = 0;      // tiles without light
  int64_t removed = 0;    // XYZ files of tiles now empty, removed
  uint64_t bytes = 0;     // bytes written
};

// The tiles of zoom z over the longitude/latitude boxes `areas`, each written whole to the store
// (staged, then moved into place) at "<prefix>/<z>/<x>/<y>.png", or left alone when the object
// already holds the same bytes (compared where the store is local); a tile without light is not
// written, and the object it had before is removed. Throws Error (io_error, cancelled, what the
// renderer throws); tiles written before the error stay, each whole.
TileCounts render_xyz_zoom(const TileRenderer& renderer, Store& store, const std::string& prefix,
                           const std::vector<Bounds>& areas, int z, const CancelToken& cancel);

// Every tile of zooms min_zoom..max_zoom over `areas` into a PMTiles archive at `path` (a new
// file, written whole): tiles without light all share one fully transparent PNG, stored once.
// `metadata_json` is the archive's metadata (a JSON object).
TileCounts write_pmtiles(const TileRenderer& renderer, const std::string& path,
                         const std::vector<Bounds>& areas, int min_zoom, int max_zoom,
                         const std::string& metadata_json, const CancelToken& cancel);

// The fully transparent 256 x 256 PNG.
const std::string& empty_tile_png();

}  // namespace geoetl
