// What the library does for each backend, whether it was preloaded or loaded by the backend.
#pragma once

namespace geoetl::pg {

// Registers, once per backend, the exit callback that closes cached rasters (from the settings
// every GDAL use reads, gdal_settings()).
void ensure_backend_cleanup();

}  // namespace geoetl::pg
