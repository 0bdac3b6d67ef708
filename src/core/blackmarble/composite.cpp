#include "blackmarble/composite.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "base/error.h"
#include "blackmarble/granule_scan.h"

namespace geoetl {

NightRules::Negative parse_negative(const std::string& name) {
  if (name == "clamp") return NightRules::Negative::clamp;
  if (name == "keep") return NightRules::Negative::keep;
  if (name == "drop") return NightRules::Negative::drop;
  throw Error(ErrorKind::invalid_argument, "unknown negative-radiance rule \"" + name + "\"", {},
              "Use \"clamp\" (count negative radiance as 0), \"keep\" (as it is) or \"drop\" "
              "(leave the night out).");
}

bool night_counts(double radiance, bool radiance_valid, int quality_flag, int cloud_mask,
                  int snow_flag, const NightRules& rules, double* value) {
  if (!radiance_valid || std::isnan(radiance)) return false;
  if (!rules.quality.empty() &&
      std::find(rules.quality.begin(), rules.quality.end(), quality_flag) == rules.quality.end())
    return false;  // a fill flag (-1) is never accepted
  if (rules.cloud && (cloud_mask < 0 || ((cloud_mask >> 6) & 3) > 1)) return false;
  if (rules.snow && snow_flag != 0) return false;  // snow, or fill
  if (radiance < 0) {
    if (rules.negative == NightRules::Negative::drop) return false;
    if (rules.negative == NightRules::Negative::clamp) radiance = 0;
  }
  *value = radiance;
  return true;
}

namespace {

// The layers of one granule that the rules need.
struct NightLayers {
  Raster radiance;
  std::optional<Raster> quality, cloud, snow;
};

// Reads one layer's window; flags[] gets the integer flag, or -1 where the layer is fill.
void read_flags(const std::optional<Raster>& layer, const Window& w, std::vector<double>& buf,
                std::vector<uint8_t>& ok, std::vector<int>& flags, const CancelToken& cancel) {
  const size_t n = static_cast<size_t>(w.rows * w.cols);
  flags.assign(n, -1);
  if (!layer) return;
  const Band band(*layer, 1);
  band.read(w, buf.data(), ok.data(), cancel);
  band.release_blocks();
  for (size_t i = 0; i < n; i++)
    if (ok[i]) flags[i] = static_cast<int>(buf[i]);
}

double median_of(float* values, int n) {
  std::sort(values, values + n);
  return n % 2 ? values[n / 2] : (static_cast<double>(values[n / 2 - 1]) + values[n / 2]) / 2;
}

// Opens what the rules need of one granule; a file that cannot be used is reported, and
// nothing is returned.
std::optional<NightLayers> open_night(const std::string& path, const std::string& layer,
                                      const NightRules& rules, bool daily, int tile_size,
                                      const RasterOpenOptions& options, CompositeReport* report) {
  try {
    const Granule g = parse_granule_name(path);
    NightLayers n{open_layer(path, g, layer, options), {}, {}, {}};
    if (n.radiance.grid().width != tile_size || n.radiance.grid().height != tile_size)
      throw Error(ErrorKind::data_corrupted, "its grid is " +
                                                 std::to_string(n.radiance.grid().width) +
                                                 " pixels, not " + std::to_string(tile_size));
    if (!rules.quality.empty())
      n.quality =
          open_layer(path, g, daily ? "Mandatory_Quality_Flag" : layer + "_Quality", options);
    if (rules.cloud) n.cloud = open_layer(path, g, "QF_Cloud_Mask", options);
    if (rules.snow) n.snow = open_layer(path, g, "Snow_Flag", options);
    return n;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::cancelled) throw;
    report->files_invalid.push_back(path + ": " + e.what());
    return std::nullopt;
  }
}

// Buffers for one band of rows of one night.
struct BandBuffers {
  explicit BandBuffers(size_t cells) : buf(cells), radiance(cells), ok(cells), radiance_ok(cells) {}
  std::vector<double> buf, radiance;
  std::vector<uint8_t> ok, radiance_ok;
  std::vector<int> quality, cloud, snow;
};

// Calls add(i, k, value) for each pixel of the part `bw` of the composite's window `window`
// where the night counts: i indexes `bw`, k the composite.
template <typename Add>
void for_each_valid(const NightLayers& night, const Window& window, const Window& bw,
                    const NightRules& rules, BandBuffers& b, const CancelToken& cancel, Add add) {
  cancel.check();
  const Band radiance(night.radiance, 1);
  radiance.read(bw, b.radiance.data(), b.radiance_ok.data(), cancel);
  radiance.release_blocks();
  read_flags(night.quality, bw, b.buf, b.ok, b.quality, cancel);
  read_flags(night.cloud, bw, b.buf, b.ok, b.cloud, cancel);
  read_flags(night.snow, bw, b.buf, b.ok, b.snow, cancel);
  for (int64_t r = 0; r < bw.rows; r++) {
    const size_t i0 = static_cast<size_t>(r * bw.cols);
    const size_t k0 =
        static_cast<size_t>((bw.row0 - window.row0 + r) * window.cols + (bw.col0 - window.col0));
    for (size_t c = 0; c < static_cast<size_t>(bw.cols); c++) {
      const size_t i = i0 + c;
      double value;
      if (night_counts(b.radiance[i], b.radiance_ok[i], b.quality[i], b.cloud[i], b.snow[i], rules,
                       &value))
        add(i, k0 + c, value);
    }
  }
}

// Cells per part so that one part's buffers stay within the rules' budget.
int64_t part_cells_for(const NightRules& rules, int64_t bytes_per_cell) {
  return std::max<int64_t>(rules.buffer_bytes / bytes_per_cell, 1);
}

// The parts of `window` in which `layer` of a night is read.
std::vector<Window> parts_of(const Window& window, int64_t max_cells, const Raster& layer) {
  const Band band(layer, 1);
  return read_parts(window, max_cells, band.block_height(), band.block_width());
}

// Mean: one night at a time (its layers open only while it is read) into one composite-sized
// sum, so memory does not grow with the number of nights.
void mean_composite(const std::vector<std::string>& paths, const std::string& layer,
                    const NightRules& rules, bool daily, const RasterOpenOptions& options,
                    const CancelToken& cancel, CompositeReport* report, TileComposite& c) {
  const Window& window = c.window;
  std::vector<double> sum(c.value.size(), 0.0);
  const int64_t max_cells = part_cells_for(rules, 8 * 4);
  BandBuffers b(static_cast<size_t>(std::min(max_cells, window.rows * window.cols)));
  for (const std::string& path : paths) {
    const std::optional<NightLayers> night =
        open_night(path, layer, rules, daily, c.tile_size, options, report);
    if (!night) continue;
    report->files_used++;
    for (const Window& part : parts_of(window, max_cells, night->radiance)) {
      if (static_cast<size_t>(part.rows * part.cols) > b.buf.size())
        b = BandBuffers(static_cast<size_t>(part.rows * part.cols));
      for_each_valid(*night, window, part, rules, b, cancel, [&](size_t, size_t k, double value) {
        sum[k] += value;
        c.nights[k]++;
      });
    }
  }
  for (size_t i = 0; i < sum.size(); i++) {
    if (c.nights[i] == 0 || c.nights[i] < rules.min_valid_nights) continue;
    c.valid[i] = 1;
    c.value[i] = static_cast<float>(sum[i] / c.nights[i]);
  }
}

// Median: every night's values of a pixel are needed at once, so a part of the window at a
// time over all nights (all open), memory ~32 MB of buffers plus the nights' open layers.
void median_composite(const std::vector<std::string>& paths, const std::string& layer,
                      const NightRules& rules, bool daily, const RasterOpenOptions& options,
                      const CancelToken& cancel, CompositeReport* report, TileComposite& c) {
  const Window& window = c.window;
  std::vector<NightLayers> nights;
  for (const std::string& path : paths)
    if (std::optional<NightLayers> n =
            open_night(path, layer, rules, daily, c.tile_size, options, report))
      nights.push_back(std::move(*n));
  report->files_used += static_cast<int>(nights.size());
  const size_t nfiles = nights.size();
  if (nfiles == 0 || c.value.empty()) return;
  const int64_t max_cells = part_cells_for(rules, 8 * 4 + 4 * static_cast<int64_t>(nfiles));
  BandBuffers b(0);
  std::vector<uint8_t> count;
  std::vector<float> samples;
  for (const Window& part : parts_of(window, max_cells, nights[0].radiance)) {
    const size_t n = static_cast<size_t>(part.rows * part.cols);
    if (n > b.buf.size()) {
      b = BandBuffers(n);
      samples.resize(n * nfiles);
    }
    count.assign(n, 0);
    for (const NightLayers& night : nights)
      for_each_valid(night, window, part, rules, b, cancel, [&](size_t i, size_t, double value) {
        samples[i * nfiles + count[i]] = static_cast<float>(value);
        count[i]++;
      });
    for (int64_t r = 0; r < part.rows; r++)
      for (int64_t col = 0; col < part.cols; col++) {
        const size_t i = static_cast<size_t>(r * part.cols + col);
        const size_t k = static_cast<size_t>((part.row0 - window.row0 + r) * window.cols +
                                             (part.col0 - window.col0 + col));
        c.nights[k] = count[i];
        if (count[i] == 0 || count[i] < rules.min_valid_nights) continue;
        c.valid[k] = 1;
        c.value[k] = static_cast<float>(median_of(&samples[i * nfiles], count[i]));
      }
  }
}

}  // namespace

namespace {

// [start, start + length) cut into spans of at most max_len that, where a span is at least
// one block long, end on block boundaries.
std::vector<std::pair<int64_t, int64_t>> spans(int64_t start, int64_t length, int64_t max_len,
                                               int64_t block) {
  std::vector<std::pair<int64_t, int64_t>> out;
  const int64_t end = start + length;
  for (int64_t at = start; at < end;) {
    int64_t next = at + max_len;
    if (block > 0 && max_len >= block && next / block * block > at) next = next / block * block;
    next = std::min(next, end);
    out.emplace_back(at, next - at);
    at = next;
  }
  return out;
}

}  // namespace

std::vector<Window> read_parts(const Window& window, int64_t max_cells, int64_t block_rows,
                               int64_t block_cols) {
  std::vector<Window> parts;
  if (window.empty()) return parts;
  max_cells = std::max<int64_t>(max_cells, 1);
  int64_t rows = max_cells / window.cols, cols = window.cols;
  if (rows < std::max<int64_t>(block_rows, 1)) {  // not even one row of blocks: cut columns too
    rows = std::max<int64_t>(block_rows, 1);
    cols = std::max<int64_t>(max_cells / rows, 1);
    if (block_cols > 0 && cols >= block_cols)
      cols = cols / block_cols * block_cols;
    else if (block_cols > 0 && block_rows > 0)
      cols = block_cols;  // one block is the least read
  }
  for (const auto& [row0, nrows] : spans(window.row0, window.rows, rows, block_rows))
    for (const auto& [col0, ncols] : spans(window.col0, window.cols, cols, block_cols))
      parts.push_back({row0, col0, nrows, ncols});
  return parts;
}

int granule_tile_size(const std::vector<std::string>& paths, const std::string& layer,
                      const RasterOpenOptions& options) {
  for (const std::string& p : paths) {
    try {
      return static_cast<int>(open_layer(p, parse_granule_name(p), layer, options).grid().width);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::cancelled) throw;
    }
  }
  return 0;
}

TileComposite build_composite(const std::vector<std::string>& paths, const Granule& tile,
                              int tile_size, const Window& window, const NightRules& given,
                              const RasterOpenOptions& options, const CancelToken& cancel,
                              CompositeReport* report) {
  TileComposite c;
  c.h = tile.h;
  c.v = tile.v;
  c.tile_size = tile_size;
  c.window = window;
  const size_t cells = static_cast<size_t>(window.rows * window.cols);
  c.value.assign(cells, 0.0f);
  c.valid.assign(cells, 0);
  c.nights.assign(cells, 0);

  NightRules rules = given;
  const bool daily = product_cadence(tile.product) == Cadence::daily;
  if (!daily) rules.cloud = rules.snow = false;  // monthly composites carry a quality flag only
  const std::string layer = rules.layer.empty() ? default_layer(tile.product) : rules.layer;
  if (rules.median)
    median_composite(paths, layer, rules, daily, options, cancel, report, c);
  else
    mean_composite(paths, layer, rules, daily, options, cancel, report, c);
  return c;
}

namespace {

constexpr const char* wgs84 =
    "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563]],"
    "PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433],AUTHORITY[\"EPSG\",\"4326\"]]";

// The largest divisor of n not above 512: blocks that never straddle a tile edge.
int block_for(int n) {
  for (int b = std::min(n, 512); b > 1; b--)
    if (n % b == 0) return b;
  return 1;
}

}  // namespace

CompositeMosaic::CompositeMosaic(const std::vector<TileComposite>* tiles, int tile_size,
                                 bool nights)
    : tiles_(tiles), crs_(wgs84), block_(block_for(tile_size)), nights_(nights) {
  grid_.x0 = -180;
  grid_.y0 = 90;
  grid_.dx = 10.0 / tile_size;
  grid_.dy = -10.0 / tile_size;
  grid_.width = int64_t{36} * tile_size;
  grid_.height = int64_t{18} * tile_size;
}

void CompositeMosaic::read(const Window& w, double* values, uint8_t* valid,
                           const CancelToken&) const {
  const size_t n = static_cast<size_t>(w.rows * w.cols);
  std::fill(values, values + n, 0.0);
  std::fill(valid, valid + n, 0);
  for (const TileComposite& t : *tiles_) {
    const Window global{int64_t{t.v} * t.tile_size + t.window.row0,
                        int64_t{t.h} * t.tile_size + t.window.col0, t.window.rows, t.window.cols};
    const Window o = intersect(global, w);
    for (int64_t row = o.row0; row < o.row0 + o.rows; row++)
      for (int64_t col = o.col0; col < o.col0 + o.cols; col++) {
        const size_t from =
            static_cast<size_t>((row - global.row0) * global.cols + (col - global.col0));
        const size_t to = static_cast<size_t>((row - w.row0) * w.cols + (col - w.col0));
        values[to] = nights_ ? t.nights[from] : t.value[from];
        valid[to] = nights_ ? 1 : t.valid[from];
      }
  }
}

}  // namespace geoetl
