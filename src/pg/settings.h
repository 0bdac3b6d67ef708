// geoetl's settings (GUCs), defined when the library loads, read by the SQL entry points.
#pragma once

#include <string>
#include <vector>

#include "gdal/gdal_env.h"

namespace geoetl::pg {

void define_settings();

GdalSettings gdal_settings();
std::vector<std::string> allowed_sources();
size_t raster_cache_size();
size_t quantile_cells();
int http_max_body_mb();             // geoetl.http_get's limit
int download_max_mb();              // geoetl.download_max_mb: a download's limit
std::string store_setting_value();  // geoetl.store
std::string laads_base_url();       // geoetl.laads_url
std::string laads_bearer_token();   // the laads_token secret (geoetl.secret; never shown)

}  // namespace geoetl::pg
