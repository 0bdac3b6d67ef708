// The shared library's identity for PostgreSQL, and its settings. GDAL, PROJ and libcurl are
// initialised lazily by the features that use them, never here (a preloaded library must not start
// their threads or caches in the postmaster).
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "storage/ipc.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

#include "raster/raster.h"
#include "settings.h"

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

extern "C" void _PG_init(void) {
  geoetl::pg::define_settings();
  on_proc_exit(close_rasters, 0);
}
