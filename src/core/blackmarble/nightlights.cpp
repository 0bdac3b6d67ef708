#include "blackmarble/nightlights.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "base/error.h"
#include "blackmarble/granule_scan.h"

namespace geoetl {

NightlightMonth nightlight_month(const MultiPolygon& area, const std::vector<std::string>& uris,
                                 const NightRules& rules, double threshold, Coverage coverage,
                                 const RasterOpenOptions& options, const CancelToken& cancel) {
  NightlightMonth out;
  std::map<std::pair<int, int>, std::vector<std::string>> by_tile;
  std::string product;
  for (const std::string& uri : uris) {
    try {
      const Granule g = parse_granule_name(uri);
      product = g.product;
      by_tile[{g.h, g.v}].push_back(uri);
    } catch (const Error& e) {
      out.files_invalid.push_back(uri + ": " + e.what());
    }
  }
  const Box box = bounding_box(area);
  std::vector<TileComposite> tiles;
  int size = 0;
  CompositeReport report;
  for (const auto& [tile, paths] : by_tile) {
    const Granule first = parse_granule_name(paths.front());
    const std::string layer = rules.layer.empty() ? default_layer(first.product) : rules.layer;
    const int n = granule_tile_size(paths, layer, options);
    if (n == 0) {  // no file of this tile opens: build_composite reports each one
      build_composite(paths, first, 1, {}, rules, options, cancel, &report);
      continue;
    }
    if (size != 0 && n != size)
      throw Error(ErrorKind::data_corrupted, "the granules of one month have different grids",
                  std::to_string(size) + " and " + std::to_string(n) + " pixels per tile");
    size = n;
    // The area's bounding box in this tile's cells.
    const double x0 = -180.0 + 10 * tile.first, y0 = 90.0 - 10 * tile.second, px = 10.0 / n;
    const int64_t c0 = static_cast<int64_t>(std::floor((box.xmin - x0) / px));
    const int64_t c1 = static_cast<int64_t>(std::ceil((box.xmax - x0) / px));
    const int64_t r0 = static_cast<int64_t>(std::floor((y0 - box.ymax) / px));
    const int64_t r1 = static_cast<int64_t>(std::ceil((y0 - box.ymin) / px));
    const Window w = intersect({r0, c0, r1 - r0, c1 - c0}, {0, 0, n, n});
    if (w.empty()) continue;
    tiles.push_back(build_composite(paths, first, n, w, rules, options, cancel, &report));
    for (const std::string& p : paths) out.files_used.push_back(p);
  }
  for (const std::string& bad : report.files_invalid) {
    out.files_invalid.push_back(bad);
    const std::string uri = bad.substr(0, bad.find(": "));
    out.files_used.erase(std::remove(out.files_used.begin(), out.files_used.end(), uri),
                         out.files_used.end());
  }
  ZonalOptions o;
  o.coverage = coverage;
  o.stats.threshold = threshold;
  o.stats.quantiles = {0.5, 0.9};
  if (size == 0) size = 2400;  // nothing to read: the area still has its weight on the grid
  out.radiance = zonal_statistics(CompositeMosaic(&tiles, size, false), {area}, o, cancel)[0];
  o.stats.quantiles.clear();
  o.stats.threshold = std::nan("");
  out.nights = zonal_statistics(CompositeMosaic(&tiles, size, true), {area}, o, cancel)[0];
  return out;
}

}  // namespace geoetl
