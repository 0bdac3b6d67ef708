// One month of night lights for one area: the composite of every tile the area touches, then
// the zonal engine over their mosaic. Nothing is computed twice: the statistics are the zonal
// engine's, the pixels the composite's.
#pragma once

#include <string>
#include <vector>

#include "blackmarble/composite.h"

namespace geoetl {

struct NightlightMonth {
  ZonalResult radiance;  // statistics of the composite (quantiles: median, p90)
  ZonalResult nights;    // sum = Σ w·(valid nights); weight = all the area's weight
  std::vector<std::string> files_used;
  std::vector<std::string> files_invalid;  // "uri: reason"
};

// `area` in longitude/latitude (EPSG:4326); `uris` the month's granules of every tile it
// touches (unreadable ones are reported, not fatal).
NightlightMonth nightlight_month(const MultiPolygon& area, const std::vector<std::string>& uris,
                                 const NightRules& rules, double threshold, Coverage coverage,
                                 const RasterOpenOptions& options, const CancelToken& cancel);

}  // namespace geoetl
