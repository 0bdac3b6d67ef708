// The shared library's identity for PostgreSQL, and its settings. GDAL, PROJ and libcurl are
// initialised lazily by the features that use them, never here (see PITFALLS).
extern "C" {
#include "postgres.h"
#include "fmgr.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

#include "settings.h"

extern "C" void _PG_init(void) {
  geoetl::pg::define_settings();
}
