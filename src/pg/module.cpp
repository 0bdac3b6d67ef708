// The shared library's identity for PostgreSQL. GDAL, PROJ and libcurl are initialised
// lazily by the features that use them, never here (see PITFALLS: not in a preloaded _PG_init).
extern "C" {
#include "postgres.h"
#include "fmgr.h"

PG_MODULE_MAGIC;
}
