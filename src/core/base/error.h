// geoetl core errors: the one exception type the core throws on purpose.
//
// The core knows nothing about PostgreSQL. It says *what kind* of thing went wrong
// (ErrorKind); the glue layer (src/pg/boundary.*) maps each kind to a SQLSTATE and
// raises it with ereport() after every C++ frame has unwound.
#pragma once

#include <stdexcept>
#include <string>

namespace geoetl {

enum class ErrorKind {
  invalid_argument,   // the caller passed something unusable (22023)
  not_found,          // a file, object or record that should exist does not (58P01)
  data_corrupted,     // input exists but is damaged or not what it claims to be (XX001)
  io_error,           // the operating system or a library failed to read/write (58030)
  network_error,      // a remote source failed or could not be reached (08000)
  permission_denied,  // a source or action the configuration does not allow (42501)
  not_supported,      // a valid request this version cannot do (0A000)
  limit_exceeded,     // the request needs more than a configured limit allows (54000)
  cancelled,          // the cancel callback asked us to stop (57014)
  internal,           // a bug: an invariant did not hold (XX000)
};

// A core error with a message for everybody, a detail with specifics and a hint
// saying what to do about it (the three parts of a PostgreSQL error report).
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message, std::string detail = {}, std::string hint = {});

  ErrorKind kind() const noexcept { return kind_; }
  const std::string& detail() const noexcept { return detail_; }
  const std::string& hint() const noexcept { return hint_; }

 private:
  ErrorKind kind_;
  std::string detail_;
  std::string hint_;
};

// The stable lower-case name of a kind ("invalid_argument"), for logs and tests.
const char* error_kind_name(ErrorKind kind) noexcept;

}  // namespace geoetl
