// The zonal statistics engine: weighted statistics of a raster band inside polygons.
//
// Reads only the blocks that the polygons' bounding boxes touch, each block once however many
// polygons touch it, in the file's own block structure; memory stays at one block plus the
// polygons' edges (and, with quantiles, the values inside them).
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "base/cancel.h"
#include "geom/coverage.h"
#include "geom/geometry.h"
#include "raster/raster.h"
#include "zonal/zonal_stats.h"

namespace geoetl {

struct ZonalOptions {
  int band = 1;
  Coverage coverage = Coverage::exact;
  StatsOptions stats{std::numeric_limits<double>::quiet_NaN(), {0.5, 0.9}, size_t{1} << 23};
};

// Where the engine reads cell values from: a band of a GDAL raster, or cells computed in memory
// (a monthly composite). Values come with validity (0 where nodata, masked or NaN).
class CellSource {
 public:
  virtual ~CellSource() = default;
  virtual const Grid& grid() const = 0;
  virtual const std::string& crs_wkt() const = 0;  // "" when unknown
  // The natural read unit: the file's blocks.
  virtual int block_width() const = 0;
  virtual int block_height() const = 0;
  // Reads `w` (inside the grid) into values[w.rows * w.cols] and valid[...].
  virtual void read(const Window& w, double* values, uint8_t* valid,
                    const CancelToken& cancel) const = 0;
};

// One result per polygon (given in the source's CRS), in the same order.
std::vector<ZonalResult> zonal_statistics(const CellSource& source,
                                          const std::vector<MultiPolygon>& polygons,
                                          const ZonalOptions& options, const CancelToken& cancel);

// The same over band options.band of a raster.
std::vector<ZonalResult> zonal_statistics(const Raster& raster,
                                          const std::vector<MultiPolygon>& polygons,
                                          const ZonalOptions& options, const CancelToken& cancel);

// Checks options that do not depend on the raster (quantiles in [0, 1], ...).
void validate(const ZonalOptions& options);

}  // namespace geoetl
