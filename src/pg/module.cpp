// The shared library's identity for PostgreSQL, and its settings. GDAL, PROJ and libcurl are
// initialised lazily by the features that use them, never here (a preloaded library must not start
// their threads or caches in the postmaster); preloaded, it also asks for the shared block cache.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "storage/ipc.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

#include "module.h"
#include "raster/raster.h"
#include "settings.h"
#include "shared_cache.h"

namespace {

// Closes the cached raster datasets while the backend exits, before the C libraries' own exit
// handlers run: HDF5 terminates itself at exit, and closing its files after that reads freed
// memory (a crash, or HDF5-DIAG noise in the server log).
void close_rasters(int, Datum) {
  try {
    geoetl::clear_raster_cache();
  } catch (...) {  // nothing can be reported while the backend exits
  }
}

}  // namespace

namespace geoetl::pg {

// A preloaded library's _PG_init runs in the postmaster, whose exit callbacks its children drop:
// each backend registers its own at its first raster use.
void ensure_backend_cleanup() {
  static bool registered = false;
  if (registered) return;
  on_proc_exit(close_rasters, 0);
  registered = true;
}

}  // namespace geoetl::pg

extern "C" void _PG_init(void) {
  // first: define_settings reserves the prefix "geoetl", removing any setting not defined yet
  geoetl::pg::request_shared_cache();
  geoetl::pg::define_settings();
}
