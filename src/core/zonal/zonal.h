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

// The raster that coverage => 'center' rasterises a polygon on, as PostGIS's ST_Clip does
// (RASTER_clip, rtpg_mapalgebra.c, calls rt_raster_gdal_rasterize, rt_raster.c, with the
// raster's cell size and its corner as the grid to align to; PostGIS 3.3):
//  - the geometry is first intersected with the raster's extent (lwgeom_intersection with
//    rt_raster_get_convex_hull), so the frame starts at the clipped bounding box;
//  - the box's upper-left corner (xmin, ymax) is taken as is when within FLT_EPSILON of the
//    raster's corner in both coordinates, else snapped to the cell holding it
//    (rt_raster_geopoint_to_cell: GDAL's inverse geotransform, each coordinate rounded when
//    within FLT_EPSILON of an integer and floored otherwise) and moved there with
//    GDALApplyGeoTransform's arithmetic, x0 + col dx + row 0 and y0 + col 0 + row dy
//    (rt_raster_cell_to_geopoint);
//  - GDAL rasterises on a MEM raster with that corner and the raster's cell size, turning the
//    polygon into its cell coordinates with that raster's inverse geotransform
//    (GDALRasterizeGeometries, GDALCreateGenImgProjTransformer2, GDALInvGeoTransform, then
//    inv0 + x inv1 + y inv2);
//  - that raster is (int)((extent + size / 2) / size) cells across (at least 1), one more when
//    the corner moved: so it can end before the last column (row) whose centre lies on the
//    polygon's east (south) edge, and PostGIS leaves that column (row) out.
// python-rasterstats puts the corner at the same place (io.py bounds_window: floor((xmin - x0)
// / dx) and floor((ymax - y0) / dy) of the unclipped box; x0 + col dx; rasterio's rasterize
// calls GDALRasterizeGeometries) but its window ends at ceil((xmax - x0) / dx) and so never
// drops an east column or south row; it also differs for polygons reaching past the raster and
// corners within FLT_EPSILON of a cell boundary. All these differences concern only centres
// lying exactly on an edge; geoetl follows ST_Clip. Grids that are not north-up (dx < 0 or dy > 0)
// use the raster's own geotransform (GDAL on the whole raster). The frame's cell (0, 0) is the
// grid's (row0, col0); it is rows x cols cells.
struct CenterFrame {
  double gt[6];
  int64_t row0, col0, rows, cols;
};
CenterFrame center_frame(const MultiPolygon& world, const Grid& grid);

// Which cells of `grid` the polygon `world` covers, in `mode` (see geom/coverage.h); center
// mode decides centres on edges as GDAL does in center_frame's raster.
CellCoverage cell_coverage(const MultiPolygon& world, const Grid& grid, Coverage mode);

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
