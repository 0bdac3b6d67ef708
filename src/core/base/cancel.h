// Cooperative cancellation for long core work (GDAL reads, downloads, compositing).
//
// The core never looks at signals or PostgreSQL's interrupt flags. Whoever calls it
// passes a CancelToken; long loops call check() between units of work, which throws
// Error(ErrorKind::cancelled) once the token's predicate says so. The glue wires the
// predicate to QueryCancelPending/ProcDiePending, so statement_timeout and
// pg_cancel_backend stop core work and the C++ stack unwinds before PostgreSQL acts.
#pragma once

#include <functional>
#include <utility>

namespace geoetl {

class CancelToken {
 public:
  // A token that never cancels (unit tests, tools).
  CancelToken() = default;
  explicit CancelToken(std::function<bool()> requested) : requested_(std::move(requested)) {}

  // True once cancellation was requested; cheap enough to call per block or per row.
  bool requested() const { return requested_ && requested_(); }

  // Throws Error(cancelled) if cancellation was requested.
  void check() const;

 private:
  std::function<bool()> requested_;
};

}  // namespace geoetl
