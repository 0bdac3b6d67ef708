// Band::read through the shared block cache: each block of the window is taken from the cache,
// or decoded once (GDALReadBlock, which bypasses GDAL's own per-process block cache) and put
// there for every process; the window's cells are converted to doubles straight from the
// cache's slots.
#include <gdal.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/error.h"
#include "raster/raster.h"
#include "transfer/http_vsi.h"

namespace geoetl {

void Band::read_shared(SharedBlockCache& cache, const Window& w, double* values,
                       const CancelToken& cancel) const {
  constexpr size_t slot = SharedBlockCache::kSlotBytes;
  const int64_t bw = block_w_, bh = block_h_;
  const size_t px = pixel_bytes_;
  const size_t block_bytes = static_cast<size_t>(bw * bh) * px;
  const uint32_t parts = static_cast<uint32_t>((block_bytes + slot - 1) / slot);
  auto part_bytes = [&](uint32_t p) { return std::min(slot, block_bytes - p * slot); };
  const auto type = static_cast<GDALDataType>(data_type_);
  thread_local std::vector<unsigned char> decoded;  // one block, kept for the next miss
  std::vector<SharedBlockCache::Pin> pins(parts);
  BlockKey key;
  std::copy(raster_->block_identity().begin(), raster_->block_identity().end(), key.file);
  key.band = static_cast<uint32_t>(band_no_);
  for (int64_t by = w.row0 / bh; by <= (w.row0 + w.rows - 1) / bh; by++) {
    for (int64_t bx = w.col0 / bw; bx <= (w.col0 + w.cols - 1) / bw; bx++) {
      cancel.check();
      key.block_x = static_cast<uint32_t>(bx);
      key.block_y = static_cast<uint32_t>(by);
      // the parts holding the window's rows of this block; all of them once it must be decoded
      const Window b = intersect({by * bh, bx * bw, bh, bw}, w);
      const auto offset = [&](int64_t row, int64_t col) {
        return static_cast<size_t>((row - by * bh) * bw + (col - bx * bw)) * px;
      };
      const uint32_t first = static_cast<uint32_t>(offset(b.row0, b.col0) / slot);
      const uint32_t last =
          static_cast<uint32_t>((offset(b.row0 + b.rows - 1, b.col0 + b.cols) - 1) / slot);
      auto lookup = [&](uint32_t from, uint32_t to) {
        bool all = true;
        for (uint32_t p = from; p <= to; p++) {
          key.part = p;
          if (!pins[p]) pins[p] = cache.find(key);
          if (!pins[p] || pins[p].size() != part_bytes(p)) all = false;
        }
        return all;
      };
      const bool cached = lookup(first, last);
      if (!cached) {
        if (first > 0) lookup(0, first - 1);
        if (last + 1 < parts) lookup(last + 1, parts - 1);
        decoded.resize(block_bytes);
        GdalErrors errors;
        const NoSidecarFiles sidecars;
        const RemoteReadScope scope(raster_->remote_policy(), cancel);
        if (GDALReadBlock(static_cast<GDALRasterBandH>(band_), static_cast<int>(bx),
                          static_cast<int>(by), decoded.data()) != CE_None) {
          scope.rethrow_failure();
          // as GDAL words it when RasterIO fails on a block
          throw_read_failure(raster_->name() + ", band " + std::to_string(band_no_) +
                             ": IReadBlock failed at X offset " + std::to_string(bx) +
                             ", Y offset " + std::to_string(by) + ": " + errors.last());
        }
        for (uint32_t p = 0; p < parts; p++) {
          if (pins[p] && pins[p].size() == part_bytes(p)) continue;
          key.part = p;
          pins[p] = cache.insert(key, decoded.data() + p * slot, part_bytes(p));
        }
      }
      // the window's cells of this block, row by row, from the decoded block or the slots
      for (int64_t r = b.row0; r < b.row0 + b.rows; r++) {
        size_t at = offset(r, b.col0);
        double* out = values + (r - w.row0) * w.cols + (b.col0 - w.col0);
        size_t n = static_cast<size_t>(b.cols);
        if (!cached) {
          GDALCopyWords64(decoded.data() + at, type, static_cast<int>(px), out, GDT_Float64, 8,
                          static_cast<GPtrDiff_t>(n));
          continue;
        }
        while (n > 0) {  // a row may run over from one part into the next
          const size_t in = at % slot, take = std::min(n, (slot - in) / px);
          GDALCopyWords64(pins[at / slot].data() + in, type, static_cast<int>(px), out, GDT_Float64,
                          8, static_cast<GPtrDiff_t>(take));
          out += take;
          at += take * px;
          n -= take;
        }
      }
      for (SharedBlockCache::Pin& pin : pins) pin.release();
    }
  }
  // a rare big block is not kept for the backend's life
  if (decoded.capacity() > (size_t{4} << 20)) {
    decoded.clear();
    decoded.shrink_to_fit();
  }
}

}  // namespace geoetl
