// geoetl.selftest_*(): SQL entry points that exercise the error boundary and cancellation.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/builtins.h"
}

#include <cstring>
#include <string>

#include "args.h"
#include "boundary.h"
#include "base/selftest.h"

extern "C" {

// selftest_raise(what text): raises from the core, or ("pg_error") from PostgreSQL through
// pg_guard under a live core object, so tests can see each path become a proper error.
PG_FUNCTION_INFO_V1(geoetl_selftest_raise);
Datum geoetl_selftest_raise(PG_FUNCTION_ARGS) {
  const char* what = geoetl::pg::SqlArgs(fcinfo).text(0, "what");
  geoetl::pg::call_core([what] {
    if (strcmp(what, "pg_error") == 0) {
      geoetl::selftest::Tracked held;
      geoetl::pg::pg_guard([] { DirectFunctionCall1(int4in, CStringGetDatum("not a number")); });
      return;
    }
    geoetl::selftest::raise(what);
  });
  PG_RETURN_VOID();
}

// selftest_wait(seconds float8): waits in the core, polling PostgreSQL's interrupt flags.
PG_FUNCTION_INFO_V1(geoetl_selftest_wait);
Datum geoetl_selftest_wait(PG_FUNCTION_ARGS) {
  const double seconds = geoetl::pg::SqlArgs(fcinfo).float8(0, "seconds");
  const long polls = geoetl::pg::call_core(
      [seconds] { return geoetl::selftest::wait(seconds, geoetl::pg::interrupt_token()); });
  PG_RETURN_INT64(polls);
}

// selftest_live_objects(): core objects alive now; anything but 0 means unwinding was skipped.
PG_FUNCTION_INFO_V1(geoetl_selftest_live_objects);
Datum geoetl_selftest_live_objects(PG_FUNCTION_ARGS) {
  PG_RETURN_INT64(geoetl::selftest::live_objects());
}

}  // extern "C"
