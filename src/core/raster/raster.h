// A GDAL raster as the zonal engine sees it: a north-up grid, its CRS, and bands read by
// block-aligned windows. Datasets are cached per process (LRU) so that a query calling
// zonal_stats once per row opens each file once.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "base/cancel.h"
#include "geom/coverage.h"
#include "gdal/gdal_env.h"
#include "raster/shared_blocks.h"
#include "transfer/http_vsi.h"

namespace geoetl {

// Pixel (col, row) covers x in [x0 + col*dx, x0 + (col+1)*dx), y from y0 + row*dy (dy < 0 when
// north-up). Rotated or sheared geotransforms are rejected when the raster is opened.
struct Grid {
  double x0 = 0, dx = 1, y0 = 0, dy = -1;
  int64_t width = 0, height = 0;
  Window window() const { return {0, 0, height, width}; }
};

struct RasterOpenOptions {
  bool restrict_drivers = false;  // only well-known raster file formats (never VRT and friends)
  GdalSettings gdal;
  const CancelToken* cancel = nullptr;  // stops the open's requests (remote sources)
  // When set, every hop of every request made for an http(s) source (read through geoetl's
  // HTTP client, http_vsi.h: its size at the open, then each range GDAL reads, in this and
  // later calls) is asked here; a refused one fails the call with permission_denied.
  std::function<bool(const std::string& url)> url_allowed;
  // Read local files' blocks through the process's shared block cache (shared_blocks.h), when
  // there is one: for readers that come back to the same blocks (zonal statistics), not for
  // those that read each block once (compositing a month of granules).
  bool shared_blocks = false;
};

class Dataset;  // an open GDAL dataset; shared by the cache and running reads

// How stored values become values: nodata, then value * scale + offset.
struct ValueEncoding {
  bool has_nodata = false;
  double nodata = 0, scale = 1, offset = 0;
};

class Raster {
 public:
  // Opens (or takes from the cache) the GDAL dataset at `gdal_path`; `shown` is the name used
  // in errors. Throws not_found (58P01), data_corrupted (not a raster / unreadable), not_supported.
  static Raster open(const std::string& gdal_path, const std::string& shown,
                     const RasterOpenOptions& options = {});

  // For files whose georeferencing or value encoding GDAL does not read (Black Marble HDF5).
  void override_georeference(const std::array<double, 6>& geotransform, const std::string& crs_wkt);
  void override_encoding(const ValueEncoding& encoding) {
    encoding_ = encoding, has_encoding_ = true;
  }
  // The encoding set by override_encoding, if any (else the band's own).
  const ValueEncoding* encoding() const { return has_encoding_ ? &encoding_ : nullptr; }

  const Grid& grid() const { return grid_; }
  const std::string& crs_wkt() const { return crs_wkt_; }  // "" when the raster has none
  int band_count() const { return bands_; }
  const std::string& name() const { return shown_; }
  // Size and modification time of the file behind it ("" for remote sources): changes when the
  // file does.
  const std::string& signature() const { return signature_; }
  // Its identity in the shared block cache's keys (BlockKey::file: a hash of the GDAL name, the
  // file's device, inode, size, modification and change times in ns): all zero when its blocks
  // are not read through that cache (a remote source, or not asked for).
  const std::array<uint64_t, 6>& block_identity() const { return block_identity_; }
  void* gdal_handle() const;
  // The allow-list and timeouts of remote reads, as the open was asked (RasterOpenOptions).
  const RemoteReadPolicy& remote_policy() const { return remote_; }

 private:
  RemoteReadPolicy remote_;
  std::shared_ptr<Dataset> ds_;
  std::string shown_;
  std::string signature_;
  std::array<uint64_t, 6> block_identity_{};
  Grid grid_;
  std::string crs_wkt_;
  int bands_ = 0;
  ValueEncoding encoding_;
  bool has_encoding_ = false;
};

// One band, ready to be read in blocks.
class Band {
 public:
  Band(const Raster& raster, int band_no);  // invalid_argument for a band out of range

  int block_width() const { return block_w_; }
  int block_height() const { return block_h_; }

  // Reads `w` (inside the raster) into values[w.rows * w.cols] (scale and offset applied) and
  // valid[...] (0 where nodata, masked, or not finite once scaled: NaN, +-Infinity).
  void read(const Window& w, double* values, uint8_t* valid, const CancelToken& cancel) const;

  // Drops the band's blocks from GDAL's block cache: for readers that never read a block twice
  // (a composite reads each chunk of each night once), so the cache does not fill with them.
  void release_blocks() const;

 private:
  void read_gdal(const Window& w, double* values, const CancelToken& cancel) const;
  // Reads `w` block by block through `cache` (shared_read.cpp).
  void read_shared(SharedBlockCache& cache, const Window& w, double* values,
                   const CancelToken& cancel) const;
  [[noreturn]] void throw_read_failure(const std::string& why) const;

  const Raster* raster_;
  void* band_;  // GDALRasterBandH
  int band_no_ = 0;
  int block_w_ = 0, block_h_ = 0;
  int data_type_ = 0;  // GDALDataType
  size_t pixel_bytes_ = 0;
  SharedBlockCache* shared_ = nullptr;  // set when this band's blocks go through it
  bool has_nodata_ = false;
  double nodata_ = 0, scale_ = 1, offset_ = 0;
  bool per_dataset_mask_ = false;  // a mask band other than the nodata one
  mutable std::vector<uint8_t> mask_;
};

// Size and modification time of the local file behind a GDAL name ("" for remote ones): changes
// when the file does.
std::string local_signature(const std::string& gdal_name);

// The process-wide dataset cache (most recently used first).
struct RasterCacheStats {
  size_t open = 0, hits = 0, misses = 0;
};
void set_raster_cache_capacity(size_t capacity);
RasterCacheStats raster_cache_stats();
void clear_raster_cache();

}  // namespace geoetl
