// Diagnostics that exercise the error and cancellation paths end to end.
//
// geoetl.selftest_raise() and geoetl.selftest_wait() call these from SQL so that tests (and an
// operator who suspects a broken build) can prove that a core error becomes a proper
// PostgreSQL error, that the C++ stack unwinds completely, and that statement_timeout
// stops long core work.
#pragma once

#include <string>

#include "base/cancel.h"

namespace geoetl::selftest {

// Throws what `what` names, from under a live Tracked object:
// an ErrorKind name ("invalid_argument", "data_corrupted", ...) throws geoetl::Error of that
// kind with a message, detail and hint; "std_exception" a std::runtime_error; "bad_alloc"
// std::bad_alloc; "foreign" an exception type that is not a std::exception.
// Anything else is an Error(invalid_argument) listing the accepted names.
[[noreturn]] void raise(const std::string& what);

// Waits `seconds` (at most one hour) while polling `cancel` every 10 ms, like a long read.
// Returns the number of polls made.
long wait(double seconds, const CancelToken& cancel);

// Number of Tracked objects alive now; 0 between statements unless unwinding was skipped.
long live_objects() noexcept;

// A stand-in for the resources that core work holds (buffers, GDAL handles): counts itself.
class Tracked {
 public:
  Tracked() noexcept;
  ~Tracked();
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;
};

}  // namespace geoetl::selftest
