// The shared block cache's segment (raster/shared_blocks.h): made at server start when geoetl is
// in shared_preload_libraries, sized by geoetl.shared_cache_mb.
#pragma once

namespace geoetl::pg {

// From _PG_init: defines geoetl.shared_cache_mb and, when the library is being preloaded, asks
// for the segment (otherwise every backend reads through GDAL's own cache only).
void request_shared_cache();

}  // namespace geoetl::pg
