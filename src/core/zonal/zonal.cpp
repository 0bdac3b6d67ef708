#include "zonal/zonal.h"

#include <gdal.h>

#include <algorithm>
#include <charconv>
#include <cfloat>
#include <cmath>
#include <map>
#include <utility>

#include "raster/crs.h"
#include "base/error.h"

namespace geoetl {
namespace {

// The largest block read at once (cells); files with whole-image strips are read in bands.
constexpr int64_t max_block_cells = int64_t{1} << 22;
constexpr double max_cells = 4503599627370496.0;  // 2^52

struct Zone {
  CellCoverage coverage;
  Window in_raster;
  ZonalAccumulator acc;
  double inside_weight = 0;  // all weight on cells inside the raster, valid or not
};

// Weight of the cells of the zone's bounding box that lie outside the raster.
double outside_weight(const Zone& z, const Grid& grid, Coverage mode, const CancelToken& cancel) {
  const Window b = z.coverage.bounds();
  if (b.empty()) return 0;
  if (intersect(b, grid.window()).rows == b.rows && intersect(b, grid.window()).cols == b.cols)
    return 0;
  if (mode == Coverage::exact) return std::max(0.0, z.coverage.area() - z.inside_weight);
  std::vector<double> w;
  double total = 0;
  auto add_span = [&](int64_t row, int64_t c0, int64_t c1) {
    if (mode == Coverage::center) {  // counted from the row's crossings, not cell by cell
      total += static_cast<double>(z.coverage.center_cells(row, c0, c1));
      return;
    }
    for (int64_t c = c0; c < c1; c += 65536) {
      cancel.check();
      const int64_t n = std::min<int64_t>(65536, c1 - c);
      w.resize(static_cast<size_t>(n));
      z.coverage.row_weights(mode, row, c, n, w.data());
      for (double x : w) total += x;
    }
  };
  for (int64_t row = b.row0; row < b.row0 + b.rows; row++) {
    if (row % 256 == 0) cancel.check();
    if (row < 0 || row >= grid.height) {
      add_span(row, b.col0, b.col0 + b.cols);
    } else {
      add_span(row, b.col0, std::min<int64_t>(0, b.col0 + b.cols));
      add_span(row, std::max<int64_t>(grid.width, b.col0), b.col0 + b.cols);
    }
  }
  return total;
}

Window bounding(const Window& a, const Window& b) {
  if (a.empty()) return b;
  const int64_t r0 = std::min(a.row0, b.row0), c0 = std::min(a.col0, b.col0);
  const int64_t r1 = std::max(a.row0 + a.rows, b.row0 + b.rows);
  const int64_t c1 = std::max(a.col0 + a.cols, b.col0 + b.cols);
  return {r0, c0, r1 - r0, c1 - c0};
}

}  // namespace

void validate(const ZonalOptions& options) {
  for (double q : options.stats.quantiles)
    if (!(q >= 0 && q <= 1)) {
      // the shortest text that reads back as q: 1.0000001 is not "1"
      char text[32];
      const auto end = std::to_chars(text, text + sizeof text, q).ptr;
      throw Error(ErrorKind::invalid_argument,
                  "quantile " + std::string(text, end) + " is outside [0, 1]", {},
                  "Quantiles are probabilities: 0.5 is the median, 0.9 the 90th percentile.");
    }
}

namespace {

// A raster band as a cell source.
class BandSource : public CellSource {
 public:
  BandSource(const Raster& raster, int band) : raster_(raster), band_(raster, band) {}
  const Grid& grid() const override { return raster_.grid(); }
  const std::string& crs_wkt() const override { return raster_.crs_wkt(); }
  int block_width() const override { return band_.block_width(); }
  int block_height() const override { return band_.block_height(); }
  void read(const Window& w, double* values, uint8_t* valid,
            const CancelToken& cancel) const override {
    band_.read(w, values, valid, cancel);
  }

 private:
  const Raster& raster_;
  const Band band_;
};

// World coordinates to cell coordinates of `grid`, (x - x0) / dx: the most accurate.
MultiPolygon to_cells(const MultiPolygon& world, const Grid& g) {
  MultiPolygon cells = world;
  for (Polygon& p : cells.polygons)
    for (Ring& ring : p.rings)
      for (Point& pt : ring) pt = {(pt.x - g.x0) / g.dx, (pt.y - g.y0) / g.dy};
  return cells;
}

// Throws unless every cell coordinate is finite and within 2^52 cells of the origin (beyond,
// doubles no longer tell cells apart and int64 casts overflow).
void check_cells(const MultiPolygon& cells) {
  for (const Polygon& p : cells.polygons)
    for (const Ring& ring : p.rings)
      for (const Point& pt : ring) {
        if (!std::isfinite(pt.x) || !std::isfinite(pt.y))
          throw Error(ErrorKind::invalid_argument, "the geometry has non-finite coordinates");
        if (std::fabs(pt.x) > max_cells || std::fabs(pt.y) > max_cells)
          throw Error(ErrorKind::limit_exceeded, "the geometry lies too far from the raster's grid",
                      "It reaches more than 2^52 cells away from the raster's origin.",
                      "Check the geometry's coordinates and SRID.");
      }
}

// PostGIS's FLT_EQ (librtcore.h): equal within FLT_EPSILON, whatever the magnitudes.
bool postgis_flt_eq(double a, double b) {
  return a == b || std::fabs(a - b) <= static_cast<double>(FLT_EPSILON);
}

// The cell of grid `g` holding world point (x, y), as rt_raster_geopoint_to_cell finds it:
// GDAL's inverse geotransform, then each coordinate rounded when within FLT_EPSILON of an
// integer and floored otherwise.
std::pair<double, double> postgis_cell_of(const double inv[6], double x, double y) {
  double c = inv[0] + x * inv[1] + y * inv[2], r = inv[3] + x * inv[4] + y * inv[5];
  auto snap = [](double v) {
    const double rounded = v > 0 ? std::floor(v + 0.5) : std::ceil(v - 0.5);  // PostGIS ROUND
    return postgis_flt_eq(rounded, v) ? rounded : std::floor(v);
  };
  return {snap(c), snap(r)};
}

// OGRLinearRing::isClockwise as GDAL 3.6 decides it (ogr/ogrlinestring.cpp,
// OGRSimpleCurve/OGRLineString::isClockwise) for a closed ring: the turn at the lowest, then
// rightmost vertex (the first of them), its neighbours taken one step away, unless that vertex
// repeats or a neighbour lies within 1e-5 of it in both coordinates; then the sign of the
// shoelace sum. GDALCollectRingsFromGeometry (alg/gdalrasterize.cpp) walks every ring
// clockwise: as given when this holds, reversed otherwise.
bool gdal_is_clockwise(const Ring& ring) {
  const size_t n = ring.size();
  if (n < 2) return true;
  constexpr double epsilon = 1e-5;
  auto near = [&](size_t i, size_t j) {
    return std::fabs(ring[i].x - ring[j].x) < epsilon && std::fabs(ring[i].y - ring[j].y) < epsilon;
  };
  bool fallback = false;
  size_t v = 0;
  for (size_t i = 1; i + 1 < n; i++) {
    if (ring[i].y < ring[v].y || (ring[i].y == ring[v].y && ring[i].x > ring[v].x)) {
      v = i;
      fallback = false;
    } else if (ring[i].y == ring[v].y && ring[i].x == ring[v].x) {
      fallback = true;
    }
  }
  const size_t prev = v == 0 ? n - 2 : v - 1;
  if (near(prev, v)) fallback = true;
  const double dx0 = ring[prev].x - ring[v].x, dy0 = ring[prev].y - ring[v].y;
  const size_t next = v + 1 >= n - 1 ? 0 : v + 1;
  if (near(next, v)) fallback = true;
  const double dx1 = ring[next].x - ring[v].x, dy1 = ring[next].y - ring[v].y;
  const double cross = dx1 * dy0 - dx0 * dy1;
  if (!fallback && cross != 0) return cross < 0;
  double sum = ring[0].x * (ring[1].y - ring[n - 1].y);
  for (size_t i = 1; i + 1 < n; i++) sum += ring[i].x * (ring[i + 1].y - ring[i - 1].y);
  sum += ring[n - 1].x * (ring[0].y - ring[n - 2].y);
  return sum < 0;
}

}  // namespace

CenterFrame center_frame(const MultiPolygon& world, const Grid& g) {
  CenterFrame f{{g.x0, g.dx, 0, g.y0, 0, g.dy}, 0, 0, g.height, g.width};
  const Box box = bounding_box(world);
  if (!(g.dx > 0 && g.dy < 0) || box.empty()) return f;
  // the box of the geometry clipped to the raster's extent
  const double xmin = std::max(box.xmin, g.x0), ymax = std::min(box.ymax, g.y0);
  const double xmax = std::min(box.xmax, g.x0 + static_cast<double>(g.width) * g.dx);
  const double ymin = std::max(box.ymin, g.y0 + static_cast<double>(g.height) * g.dy);
  auto cells_across = [](double extent, double size) {
    return static_cast<int64_t>(std::fmax((std::fabs(extent) + size / 2) / size, 1));
  };
  f.cols = cells_across(xmax - xmin, std::fabs(g.dx));
  f.rows = cells_across(ymax - ymin, std::fabs(g.dy));
  if (postgis_flt_eq(g.x0, xmin) && postgis_flt_eq(g.y0, ymax)) {
    f.gt[0] = xmin;
    f.gt[3] = ymax;
    return f;
  }
  double grid_inv[6];
  if (!GDALInvGeoTransform(f.gt, grid_inv))
    throw Error(ErrorKind::invalid_argument, "the raster's geotransform cannot be inverted");
  const auto [c, r] = postgis_cell_of(grid_inv, xmin, ymax);
  f.col0 = static_cast<int64_t>(c);
  f.row0 = static_cast<int64_t>(r);
  f.gt[0] = g.x0 + c * g.dx + r * 0.0;
  f.gt[3] = g.y0 + c * 0.0 + r * g.dy;
  if (!postgis_flt_eq(f.gt[0], xmin)) f.cols++;  // the corner moved: one more cell
  if (!postgis_flt_eq(f.gt[3], ymax)) f.rows++;
  return f;
}

CellCoverage cell_coverage(const MultiPolygon& world, const Grid& g, Coverage mode) {
  MultiPolygon cells = to_cells(world, g);
  check_cells(cells);  // also bounds the frame's corner below
  if (mode != Coverage::center) return CellCoverage(std::move(cells));
  const CenterFrame f = center_frame(world, g);
  double inv[6];
  std::copy(f.gt, f.gt + 6, inv);
  if (!GDALInvGeoTransform(inv, inv))
    throw Error(ErrorKind::invalid_argument, "the raster's geotransform cannot be inverted");
  const Box box = bounding_box(cells);  // in the grid's cells
  cells = world;
  for (Polygon& p : cells.polygons)
    for (Ring& ring : p.rings) {
      if (!gdal_is_clockwise(ring)) std::reverse(ring.begin(), ring.end());
      for (Point& pt : ring)
        pt = {inv[0] + pt.x * inv[1] + pt.y * inv[2], inv[3] + pt.x * inv[4] + pt.y * inv[5]};
    }
  check_cells(cells);
  CellCoverage coverage(std::move(cells), f.row0, f.col0);
  // The frame's cells only, except past the raster's edges, where PostGIS counts nothing
  // (clipped away) but geoetl still tells the cells outside the raster apart.
  const bool west = box.xmin < 0, north = box.ymin < 0;
  const bool east = box.xmax > static_cast<double>(g.width);
  const bool south = box.ymax > static_cast<double>(g.height);
  coverage.limit_center(north ? INT64_MIN : f.row0, south ? INT64_MAX : f.row0 + f.rows,
                        west ? INT64_MIN : f.col0, east ? INT64_MAX : f.col0 + f.cols);
  return coverage;
}

std::vector<ZonalResult> zonal_statistics(const Raster& raster,
                                          const std::vector<MultiPolygon>& polygons,
                                          const ZonalOptions& options, const CancelToken& cancel) {
  validate(options);
  return zonal_statistics(BandSource(raster, options.band), polygons, options, cancel);
}

std::vector<ZonalResult> zonal_statistics(const CellSource& band,
                                          const std::vector<MultiPolygon>& polygons,
                                          const ZonalOptions& options, const CancelToken& cancel) {
  validate(options);
  const Grid& grid = band.grid();
  const CellAreas areas(grid, band.crs_wkt());

  std::vector<Zone> zones;
  zones.reserve(polygons.size());
  QuantileBudget budget;  // shared by all zones: one memory bound per call
  for (const MultiPolygon& p : polygons) {
    Zone z{cell_coverage(p, grid, options.coverage), {}, ZonalAccumulator(&options.stats, &budget)};
    z.in_raster = intersect(z.coverage.bounds(), grid.window());
    z.acc.reserve(static_cast<size_t>(z.in_raster.rows * z.in_raster.cols));
    zones.push_back(std::move(z));
  }

  // Which zones each block serves, blocks in file order.
  const int64_t bw = std::max(1, band.block_width());
  const int64_t bh =
      std::clamp<int64_t>(band.block_height(), 1, std::max<int64_t>(1, max_block_cells / bw));
  std::map<std::pair<int64_t, int64_t>, std::vector<uint32_t>> blocks;
  for (uint32_t i = 0; i < zones.size(); i++) {
    const Window& w = zones[i].in_raster;
    if (w.empty()) continue;
    for (int64_t br = w.row0 / bh; br <= (w.row0 + w.rows - 1) / bh; br++)
      for (int64_t bc = w.col0 / bw; bc <= (w.col0 + w.cols - 1) / bw; bc++)
        blocks[{br, bc}].push_back(i);
  }

  std::vector<double> values, weights, v, w;
  std::vector<uint8_t> valid;
  auto read = [&](const Window& win) {  // into values/valid
    const size_t cells = static_cast<size_t>(win.rows * win.cols);
    values.resize(cells);
    valid.resize(cells);
    band.read(win, values.data(), valid.data(), cancel);
  };
  // Adds the cells of `sub` to the zone, row by row; values/valid hold the window `in`.
  auto accumulate = [&](Zone& z, const Window& sub, const Window& in) {
    const size_t n = static_cast<size_t>(sub.cols);
    weights.resize(n);
    v.resize(n);
    w.resize(n);
    for (int64_t row = sub.row0; row < sub.row0 + sub.rows; row++) {
      z.coverage.row_weights(options.coverage, row, sub.col0, sub.cols, weights.data());
      const size_t base = static_cast<size_t>((row - in.row0) * in.cols + (sub.col0 - in.col0));
      size_t k = 0;
      double missing = 0, all = 0;
      for (size_t c = 0; c < n; c++) {
        const double wc = weights[c];
        if (wc == 0) continue;
        all += wc;
        if (valid[base + c]) {
          v[k] = values[base + c];
          w[k++] = wc;
        } else {
          missing += wc;
        }
      }
      z.inside_weight += all;
      if (k > 0) z.acc.add(v.data(), w.data(), k, areas.km2(row));
      z.acc.add_missing(missing);
    }
  };
  for (const auto& [key, zone_ids] : blocks) {
    cancel.check();
    const Window block = intersect({key.first * bh, key.second * bw, bh, bw}, grid.window());
    // Read the part of the block the zones need: once for all when their windows overlap much,
    // else zone by zone (the block stays decoded in GDAL's cache while its zones are served).
    Window need;
    int64_t sum_of_windows = 0;
    for (uint32_t i : zone_ids) {
      const Window part = intersect(zones[i].in_raster, block);
      need = bounding(need, part);
      sum_of_windows += part.rows * part.cols;
    }
    const bool together = zone_ids.size() == 1 || 2 * sum_of_windows >= need.rows * need.cols;
    if (together) read(need);
    for (uint32_t i : zone_ids) {
      const Window sub = intersect(zones[i].in_raster, block);
      if (!together) read(sub);
      accumulate(zones[i], sub, together ? need : sub);
    }
  }

  std::vector<ZonalResult> results;
  results.reserve(zones.size());
  for (Zone& z : zones) {
    z.acc.add_missing(outside_weight(z, grid, options.coverage, cancel));
    results.push_back(z.acc.finish());
  }
  return results;
}

}  // namespace geoetl
