// What a data package source is, found by opening it once when it is registered: a raster GDAL
// reads (bands, CRS), or a vector dataset of the formats clip_vector reads (layers, CRS).
#pragma once

#include <string>
#include <vector>

#include "base/cancel.h"
#include "raster/raster.h"

namespace geoetl {

struct SourceInfo {
  enum class Kind { raster, vector } kind = Kind::raster;
  std::string driver;   // GDAL's short name: GTiff, COG, GPKG, ESRI Shapefile, ...
  std::string crs_wkt;  // "" when it has none (of the raster, or of the layer named/only layer)
  int bands = 0;        // raster
  std::vector<std::string> layers;  // vector
  std::string signature;            // size and modification time ("" for remote sources)
};

// Opens `gdal_path` (`shown` in errors) as a raster, else, when it is a local file, as a vector
// dataset. not_found when there is nothing, data_corrupted (with GDAL's reasons) when neither
// opens it, not_supported for a remote (/vsi...) source that is not a raster.
SourceInfo probe_source(const std::string& gdal_path, const std::string& shown,
                        const RasterOpenOptions& options);

const char* source_kind_name(SourceInfo::Kind kind);

}  // namespace geoetl
