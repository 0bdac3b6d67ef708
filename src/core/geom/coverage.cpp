#include "geom/coverage.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"

namespace geoetl {

Coverage parse_coverage(const std::string& name) {
  if (name == "exact") return Coverage::exact;
  if (name == "center") return Coverage::center;
  if (name == "touched") return Coverage::touched;
  throw Error(ErrorKind::invalid_argument, "unknown coverage mode \"" + name + "\"", {},
              "Use \"exact\" (partial cells weighted by the area inside), \"center\" (cells whose "
              "centre is inside) or \"touched\" (every cell the polygon touches).");
}

const char* coverage_name(Coverage mode) {
  switch (mode) {
    case Coverage::exact: return "exact";
    case Coverage::center: return "center";
    case Coverage::touched: return "touched";
  }
  return "?";
}

Window intersect(const Window& a, const Window& b) {
  const int64_t r0 = std::max(a.row0, b.row0), c0 = std::max(a.col0, b.col0);
  const int64_t r1 = std::min(a.row0 + a.rows, b.row0 + b.rows);
  const int64_t c1 = std::min(a.col0 + a.cols, b.col0 + b.cols);
  return Window{r0, c0, std::max<int64_t>(0, r1 - r0), std::max<int64_t>(0, c1 - c0)};
}

namespace {

// ∫ over t in [0,1] of clamp(g0 + t (g1 - g0), 0, 1): split where g crosses 0 and 1, so no
// division by a tiny g1 - g0 can amplify rounding (steep edges stay exact).
double clamped_mean(double g0, double g1) {
  if (g0 > g1) std::swap(g0, g1);
  if (g1 <= 0) return 0;
  if (g0 >= 1) return 1;
  const double dg = g1 - g0;
  if (dg == 0) return g0;
  const double ta = g0 < 0 ? -g0 / dg : 0;
  const double tb = g1 > 1 ? (1 - g0) / dg : 1;
  const double ga = std::max(g0, 0.0), gb = std::min(g1, 1.0);
  return (tb - ta) * (ga + gb) / 2 + (1 - tb);
}

}  // namespace

CellCoverage::CellCoverage(MultiPolygon cells, int64_t row_offset, int64_t col_offset)
    : row_offset_(row_offset), col_offset_(col_offset) {
  // The horizontal edges on a row of centres that GDAL fills (see for_each_center_span): those
  // walked towards smaller x.
  for (const Polygon& p : cells.polygons)
    for (const Ring& ring : p.rings)
      for (size_t i = 0; i + 1 < ring.size(); i++) {
        const Point& a = ring[i];
        const Point& b = ring[i + 1];
        const double row = a.y - 0.5;
        if (a.y == b.y && a.x > b.x && row == std::floor(row) && std::fabs(row) < 9e15)
          centre_edges_.push_back({static_cast<int64_t>(row), b.x, a.x});
      }
  std::sort(centre_edges_.begin(), centre_edges_.end(),
            [](const CentreEdge& l, const CentreEdge& r) { return l.row < r.row; });
  normalize_orientation(cells);
  area_ = geoetl::area(cells);
  const Box box = bounding_box(cells);
  if (box.empty()) return;
  struct Shown {  // grid_bounds_ follows bounds_ however the constructor ends
    CellCoverage* c;
    ~Shown() {
      c->grid_bounds_ = c->bounds_;
      c->grid_bounds_.row0 += c->row_offset_;
      c->grid_bounds_.col0 += c->col_offset_;
    }
  } shown{this};
  bounds_.row0 = static_cast<int64_t>(std::floor(box.ymin));
  bounds_.col0 = static_cast<int64_t>(std::floor(box.xmin));
  bounds_.rows = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(box.ymax)) - bounds_.row0);
  bounds_.cols = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(box.xmax)) - bounds_.col0);
  if (bounds_.rows > max_rows)
    throw Error(ErrorKind::limit_exceeded,
                "the polygon spans " + std::to_string(bounds_.rows) + " rows of the raster's grid",
                "geoetl handles up to " + std::to_string(max_rows) + " rows.",
                "Check the polygon's coordinates and SRID, or split it.");

  for (const Polygon& p : cells.polygons)
    for (const Ring& ring : p.rings)
      for (size_t i = 0; i + 1 < ring.size(); i++)
        if (ring[i].y != ring[i + 1].y)  // horizontal edges add nothing to ∫ dy
          edges_.push_back({ring[i].x, ring[i].y, ring[i + 1].x, ring[i + 1].y});

  // Bucket the edges by the rows they span (compressed rows: counts, then offsets).
  auto rows_of = [&](const Edge& e, int64_t& first, int64_t& last) {
    first = static_cast<int64_t>(std::floor(std::min(e.y0, e.y1))) - bounds_.row0;
    last = static_cast<int64_t>(std::ceil(std::max(e.y0, e.y1))) - bounds_.row0 - 1;
    first = std::max<int64_t>(first, 0);
    last = std::min<int64_t>(last, bounds_.rows - 1);
  };
  row_start_.assign(static_cast<size_t>(bounds_.rows) + 1, 0);
  int64_t first, last;
  for (const Edge& e : edges_) {
    rows_of(e, first, last);
    for (int64_t r = first; r <= last; r++) row_start_[static_cast<size_t>(r) + 1]++;
  }
  for (size_t r = 1; r < row_start_.size(); r++) row_start_[r] += row_start_[r - 1];
  row_edges_.resize(row_start_.back());
  std::vector<uint32_t> fill(row_start_.begin(), row_start_.end() - 1);
  for (size_t i = 0; i < edges_.size(); i++) {
    rows_of(edges_[i], first, last);
    for (int64_t r = first; r <= last; r++)
      row_edges_[fill[static_cast<size_t>(r)]++] = static_cast<uint32_t>(i);
  }
}

template <typename F>
void CellCoverage::for_each_edge_in_row(int64_t row, F&& f) const {
  const int64_t r = row - bounds_.row0;
  if (r < 0 || r >= bounds_.rows) return;
  for (uint32_t k = row_start_[static_cast<size_t>(r)]; k < row_start_[static_cast<size_t>(r) + 1];
       k++)
    f(edges_[row_edges_[k]]);
}

void CellCoverage::row_weights(Coverage mode, int64_t row, int64_t col0, int64_t n,
                               double* out) const {
  row -= row_offset_;
  col0 -= col_offset_;
  std::fill(out, out + n, 0.0);
  if (n <= 0) return;
  if (mode == Coverage::center) return center_row(row, col0, n, out);
  exact_row(row, col0, n, out);
  for (int64_t i = 0; i < n; i++) {
    double& w = out[i];
    w = w < min_weight ? 0 : (w > 1 ? 1 : w);
    if (mode == Coverage::touched && w > 0) w = 1;
  }
}

void CellCoverage::exact_row(int64_t row, int64_t col0, int64_t n, double* out) const {
  // left[i]: Σ dy of the edges lying wholly to the right of cell col0 + i (prefix-summed).
  scratch_.assign(static_cast<size_t>(n) + 1, 0.0);
  double* left = scratch_.data();
  const double top = static_cast<double>(row), bottom = top + 1;
  const double c_end = static_cast<double>(col0 + n);
  for_each_edge_in_row(row, [&](const Edge& e) {
    // Clip to the strip top <= y <= bottom, keeping the edge's direction.
    const double ymin = std::min(e.y0, e.y1), ymax = std::max(e.y0, e.y1);
    if (ymax <= top || ymin >= bottom) return;
    const double slope = (e.x1 - e.x0) / (e.y1 - e.y0);
    const double ya = std::clamp(e.y0, top, bottom), yb = std::clamp(e.y1, top, bottom);
    const double xa = ya == e.y0 ? e.x0 : e.x0 + (ya - e.y0) * slope;
    const double xb = yb == e.y1 ? e.x1 : e.x0 + (yb - e.y0) * slope;
    const double dy = yb - ya;
    const double xl = std::min(xa, xb), xr = std::max(xa, xb);
    // Cells wholly left of the edge get dy.
    const double full_end = std::min(std::floor(xl), c_end);
    if (full_end > static_cast<double>(col0)) {
      left[0] += dy;
      left[static_cast<int64_t>(full_end) - col0] -= dy;
    }
    // Cells the edge crosses get the exact integral.
    const int64_t c_first = std::max(static_cast<int64_t>(std::floor(xl)), col0);
    const int64_t c_last = std::min(static_cast<int64_t>(std::ceil(xr)), col0 + n) - 1;
    for (int64_t c = c_first; c <= c_last; c++) {
      const double cd = static_cast<double>(c);
      out[c - col0] += dy * clamped_mean(xa - cd, xb - cd);
    }
  });
  double run = 0;
  for (int64_t i = 0; i < n; i++) {
    run += left[i];
    out[i] += run;
  }
}

// GDAL 3.6's scanline fill (alg/llrasterize.cpp, GDALdllImageFilledPolygon), to the last bit:
// on the row's centre line y, an edge with y1 < y2 (endpoints ordered by y) counts when
// y1 <= y < y2, crossing at x = (y - y1) (x2 - x1) / (y2 - y1) + x1, rounded to the column
// floor(x + 0.5); the sorted crossings pair into spans [a, b) of columns. So a centre on a
// polygon's left edge is out and on its right edge in: two polygons sharing a vertical edge
// never share a cell. A row of centres on a top edge (smaller row) is in and on a bottom edge
// out, except that GDAL also fills, separately, every horizontal edge lying on the centre line
// that the ring walks towards smaller x (its "DO NOT skip bottom horizontal segments";
// centre_edges_). GDAL walks every ring clockwise in the world (GDALCollectRingsFromGeometry),
// which on a north-up grid walks the bottom edges of outer rings towards smaller x: polygons
// sharing a horizontal edge through centres both take that row there.
void CellCoverage::limit_center(int64_t row_begin, int64_t row_end, int64_t col_begin,
                                int64_t col_end) {
  auto shift = [](int64_t v, int64_t by) {  // the limits may be unbounded
    return v == INT64_MIN || v == INT64_MAX ? v : v - by;
  };
  center_row_begin_ = shift(row_begin, row_offset_);
  center_row_end_ = shift(row_end, row_offset_);
  center_col_begin_ = shift(col_begin, col_offset_);
  center_col_end_ = shift(col_end, col_offset_);
}

template <typename F>
void CellCoverage::for_each_center_span(int64_t row, F&& f) const {
  if (row < center_row_begin_ || row >= center_row_end_) return;
  const double y = static_cast<double>(row) + 0.5;
  std::vector<int64_t>& cuts = centre_cuts_;
  cuts.clear();
  for_each_edge_in_row(row, [&](const Edge& e) {
    double y1 = e.y0, y2 = e.y1, x1 = e.x0, x2 = e.x1;
    if (y1 > y2) {
      std::swap(y1, y2);
      std::swap(x1, x2);
    }
    if (y < y1 || y >= y2) return;
    cuts.push_back(static_cast<int64_t>(std::floor((y - y1) * (x2 - x1) / (y2 - y1) + x1 + 0.5)));
  });
  std::sort(cuts.begin(), cuts.end());
  std::vector<std::pair<int64_t, int64_t>>& spans = centre_spans_;
  spans.clear();
  for (size_t i = 0; i + 1 < cuts.size(); i += 2) spans.emplace_back(cuts[i], cuts[i + 1]);
  auto it = std::lower_bound(centre_edges_.begin(), centre_edges_.end(), row,
                             [](const CentreEdge& e, int64_t r) { return e.row < r; });
  for (; it != centre_edges_.end() && it->row == row; ++it)
    spans.emplace_back(static_cast<int64_t>(std::floor(it->x_left + 0.5)),
                       static_cast<int64_t>(std::floor(it->x_right + 0.5)));
  std::sort(spans.begin(), spans.end());
  // a cell GDAL burns twice is one cell: merge overlapping spans
  int64_t first = 0, end = 0;
  bool open = false;
  for (auto [a, b] : spans) {
    a = std::max(a, center_col_begin_);
    b = std::min(b, center_col_end_);
    if (a >= b) continue;
    if (open && a <= end) {
      end = std::max(end, b);
      continue;
    }
    if (open) f(first, end);
    first = a;
    end = b;
    open = true;
  }
  if (open) f(first, end);
}

void CellCoverage::center_row(int64_t row, int64_t col0, int64_t n, double* out) const {
  for_each_center_span(row, [&](int64_t first, int64_t end) {
    for (int64_t c = std::max(first, col0); c < std::min(end, col0 + n); c++) out[c - col0] = 1;
  });
}

int64_t CellCoverage::center_cells(int64_t row, int64_t col0, int64_t col_end) const {
  row -= row_offset_;
  col0 -= col_offset_;
  col_end -= col_offset_;
  int64_t cells = 0;
  for_each_center_span(row, [&](int64_t first, int64_t end) {
    cells += std::max<int64_t>(0, std::min(end, col_end) - std::max(first, col0));
  });
  return cells;
}

}  // namespace geoetl
