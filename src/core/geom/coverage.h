// Which cells of a grid a polygon covers, and by how much.
//
// Coordinates here are cell coordinates: x is the column, y the row (growing downwards), and
// cell (r, c) is the unit square [c, c+1] x [r, r+1]. Three modes give each cell a weight:
//   exact    the fraction of the cell's area inside the polygon, in double precision;
//   center   1 when the cell's centre is inside, decided exactly as GDAL's rasteriser decides
//            it (used by rasterstats and PostGIS ST_Clip; see for_each_center_span). Give it the
//            cell coordinates and ring order GDAL uses (zonal.h cell_coverage), or it cannot
//            agree for centres that lie on an edge. A centre on a left edge is out, on a right
//            edge in, on a top edge in, on a bottom edge out -- EXCEPT, as in GDAL, on a
//            horizontal edge that the ring walks towards smaller x (GDAL walks rings clockwise
//            in the world: on a north-up grid, every bottom edge of an outer ring), whose cells
//            are taken: two polygons sharing such an edge through a row of centres both take
//            that row, so their counts exceed their union's;
//   touched  1 when the polygon covers a positive area of the cell.
//
// Exact weights come from Green's theorem applied per row strip: for a positively oriented
// boundary, area(P ∩ cell) = Σ over edges of ∫ clamp(x(y) - c, 0, 1) dy, the edges clipped to
// the strip. Each edge adds its dy to every cell left of it and an exact partial integral to
// the cells it crosses, so a row costs O(edges in the row + cells in the row).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "geom/geometry.h"

namespace geoetl {

enum class Coverage { exact, center, touched };

// "exact", "center" or "touched"; anything else is Error(invalid_argument).
Coverage parse_coverage(const std::string& name);
const char* coverage_name(Coverage mode);

// Cells [row0, row0 + rows) x [col0, col0 + cols); may extend past a raster's edges.
struct Window {
  int64_t row0 = 0, col0 = 0, rows = 0, cols = 0;
  bool empty() const { return rows <= 0 || cols <= 0; }
};
Window intersect(const Window& a, const Window& b);

// Weights below this are rounding noise from edges that lie on cell boundaries: they count as 0.
constexpr double min_weight = 1e-12;

class CellCoverage {
 public:
  // `cells` is the polygon in cell coordinates of a frame whose cell (0, 0) is the grid's cell
  // (row_offset, col_offset); rows and columns given to and returned by the methods below are
  // the grid's. Ring orientation does not matter, except to the centre rule on horizontal
  // edges that lie on a row of centres: it takes such an edge's cells when the ring walks it
  // towards smaller x, as GDAL does. To agree with GDAL, give the rings in the order GDAL walks
  // them (clockwise in the world: zonal.h cell_coverage does).
  explicit CellCoverage(MultiPolygon cells, int64_t row_offset = 0, int64_t col_offset = 0);

  // From now on the centre rule takes only cells of rows [row_begin, row_end) and columns
  // [col_begin, col_end) (grid cells): the raster GDAL rasterises on may end before the
  // polygon's last centre (see zonal.h center_frame).
  void limit_center(int64_t row_begin, int64_t row_end, int64_t col_begin, int64_t col_end);

  // The rows and columns the polygon's bounding box touches.
  const Window& bounds() const { return grid_bounds_; }
  // The polygon's area in cells (the sum of all exact weights).
  double area() const { return area_; }

  // Weights of row `row`, columns [col0, col0 + n), written to out[0..n).
  void row_weights(Coverage mode, int64_t row, int64_t col0, int64_t n, double* out) const;
  // The number of cells of row `row`, columns [col0, col_end), whose centre is inside; costs
  // O(edges in the row) however many columns.
  int64_t center_cells(int64_t row, int64_t col0, int64_t col_end) const;

  // The most rows a polygon's bounding box may span (the row index costs 4 bytes a row).
  static constexpr int64_t max_rows = int64_t{1} << 28;

 private:
  struct Edge {
    double x0, y0, x1, y1;
  };
  void exact_row(int64_t row, int64_t col0, int64_t n, double* out) const;
  void center_row(int64_t row, int64_t col0, int64_t n, double* out) const;
  template <typename F>
  void for_each_edge_in_row(int64_t row, F&& f) const;
  template <typename F>
  void for_each_center_span(int64_t row, F&& f) const;

  struct CentreEdge {  // a horizontal edge on a row's centre line, walked towards smaller x
    int64_t row;
    double x_left, x_right;
  };

  std::vector<Edge> edges_;
  std::vector<CentreEdge> centre_edges_;  // sorted by row
  mutable std::vector<int64_t> centre_cuts_;
  mutable std::vector<std::pair<int64_t, int64_t>> centre_spans_;
  Window bounds_;       // in the polygon's own frame
  Window grid_bounds_;  // in the grid's
  int64_t row_offset_ = 0, col_offset_ = 0;
  // limit_center's cells, in the polygon's frame
  int64_t center_row_begin_ = INT64_MIN, center_row_end_ = INT64_MAX;
  int64_t center_col_begin_ = INT64_MIN, center_col_end_ = INT64_MAX;
  double area_ = 0;
  std::vector<uint32_t> row_start_;  // edges of row r: row_edges_[row_start_[r - row0] ...]
  std::vector<uint32_t> row_edges_;
  mutable std::vector<double> scratch_;
};

}  // namespace geoetl
