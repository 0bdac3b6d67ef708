// Which cells of a grid a polygon covers, and by how much.
//
// Coordinates here are cell coordinates: x is the column, y the row (growing downwards), and
// cell (r, c) is the unit square [c, c+1] x [r, r+1]. Three modes give each cell a weight:
//   exact    the fraction of the cell's area inside the polygon, in double precision;
//   center   1 when the cell's centre is inside (GDAL's rasterisation rule, as used by
//            rasterstats and PostGIS ST_Clip: a centre exactly on the left edge of a span is
//            outside, on the right edge inside);
//   touched  1 when the polygon covers a positive area of the cell.
//
// Exact weights come from Green's theorem applied per row strip: for a positively oriented
// boundary, area(P ∩ cell) = Σ over edges of ∫ clamp(x(y) - c, 0, 1) dy, the edges clipped to
// the strip. Each edge adds its dy to every cell left of it and an exact partial integral to
// the cells it crosses, so a row costs O(edges in the row + cells in the row).
#pragma once

#include <cstdint>
#include <string>
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
  // `cells` is the polygon in cell coordinates (any ring orientation).
  explicit CellCoverage(MultiPolygon cells);

  // The rows and columns the polygon's bounding box touches.
  const Window& bounds() const { return bounds_; }
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

  std::vector<Edge> edges_;
  Window bounds_;
  double area_ = 0;
  std::vector<uint32_t> row_start_;  // edges of row r: row_edges_[row_start_[r - row0] ...]
  std::vector<uint32_t> row_edges_;
  mutable std::vector<double> scratch_;
};

}  // namespace geoetl
