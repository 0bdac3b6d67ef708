// Monthly composites of Black Marble night lights, and the mosaic the zonal engine reads them as.
//
// VNP46A2 (daily): for each pixel, the mean (or median) of the month's valid nights; a night's
// pixel is valid by the rules below, each of which can be switched. VNP46A3 (monthly): the
// month's layer where its _Quality flag is accepted. Memory is one composite the size of the
// area's window in each tile, plus a band of rows of every night while it is read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "blackmarble/blackmarble.h"
#include "zonal/zonal.h"

namespace geoetl {

struct NightRules {
  std::string layer;               // "" for the product's default
  std::vector<int> quality{0, 1};  // accepted quality flags; empty: no quality rule
  bool cloud = true;  // VNP46A2: cloud detection (mask bits 6-7) confident or probably clear
  bool snow = true;   // VNP46A2: not snow (Snow_Flag 1)
  enum class Negative { clamp, keep, drop } negative = Negative::clamp;
  int min_valid_nights = 1;  // fewer valid nights: the composite pixel is missing
  bool median = false;       // composite by median instead of mean
  // Memory for the buffers of the part of the window read at once (at least one HDF5 chunk).
  int64_t buffer_bytes = int64_t{32} << 20;
};

// The negative-radiance rule by its name: clamp, keep or drop; anything else is an
// invalid_argument error (never a silent clamp).
NightRules::Negative parse_negative(const std::string& name);

// Whether one night's pixel counts under the rules, and the value it adds (*value). The flags
// are -1 where their layer is fill or not read.
bool night_counts(double radiance, bool radiance_valid, int quality_flag, int cloud_mask,
                  int snow_flag, const NightRules& rules, double* value);

// One tile's composite over a window of its cells.
struct TileComposite {
  int h = 0, v = 0, tile_size = 0;  // tile and its pixels per side
  Window window;                    // in the tile's cells
  std::vector<float> value;         // composite radiance
  std::vector<uint8_t> valid;       // composite defined
  std::vector<uint8_t> nights;      // valid nights behind each pixel
};

struct CompositeReport {
  int files_used = 0;
  std::vector<std::string> files_invalid;  // "uri: reason"
};

// The parts in which a composite reads `window`: of at most `max_cells` cells where blocks
// allow, whole rows when a band of rows fits, and, where a part spans whole blocks (HDF5 chunks of
// block_rows x block_cols), ending on block boundaries, so that every block is decompressed once
// per night while GDAL's block cache holds none of them. One block is the smallest part.
std::vector<Window> read_parts(const Window& window, int64_t max_cells, int64_t block_rows,
                               int64_t block_cols);

// The pixels per side of a tile's granules (`paths`, all of one tile) in `layer`: from the first
// one that opens; 0 when none does.
int granule_tile_size(const std::vector<std::string>& paths, const std::string& layer,
                      const RasterOpenOptions& options);

// The composite of the granules of one tile (the month's nights, or its monthly file) over
// `window`. Files that cannot be read are reported, not fatal.
TileComposite build_composite(const std::vector<std::string>& paths, const Granule& tile,
                              int tile_size, const Window& window, const NightRules& rules,
                              const RasterOpenOptions& options, const CancelToken& cancel,
                              CompositeReport* report);

// Tiles' composites seen as one raster on the global grid of their resolution (EPSG:4326):
// pixels of tiles not given read as missing. With `nights`, cells hold each pixel's valid
// nights instead, valid wherever a tile was given.
class CompositeMosaic : public CellSource {
 public:
  CompositeMosaic(const std::vector<TileComposite>* tiles, int tile_size, bool nights);
  const Grid& grid() const override { return grid_; }
  const std::string& crs_wkt() const override { return crs_; }
  int block_width() const override { return block_; }
  int block_height() const override { return block_; }
  void read(const Window& w, double* values, uint8_t* valid,
            const CancelToken& cancel) const override;

 private:
  const std::vector<TileComposite>* tiles_;
  Grid grid_;
  std::string crs_;
  int block_;
  bool nights_;
};

}  // namespace geoetl
