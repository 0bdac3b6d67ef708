// Finding Black Marble granules in a folder (or S3 prefix) and checking that each one is
// usable: named like a granule, an HDF5 file GDAL reads, holding the product's layer, with
// every block of that layer decodable (truncated downloads fail here, not in a later job).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "blackmarble/blackmarble.h"
#include "base/cancel.h"
#include "raster/raster.h"

namespace geoetl {

struct ScannedFile {
  std::string uri;  // as the user wrote the location, plus the file name
  Granule granule;  // parsed; empty product when the name did not parse
  long long bytes = 0;
  bool valid = false;
  std::string reason;  // why it is not valid
};

// The layer that must be readable for a product to count (the one metrics read by default).
std::string default_layer(const std::string& product);

// Scans `location` (a folder, or s3://bucket/prefix) for files of `product`. Files whose names
// do not start with the product are ignored; the others are each checked, unless `may_read`
// (when given) refuses one first: it is then invalid and never opened.
std::vector<ScannedFile> scan_granules(
    const std::string& product, const std::string& location, const RasterOpenOptions& options,
    const CancelToken& cancel, const std::function<bool(const std::string& uri)>& may_read = {});

}  // namespace geoetl
