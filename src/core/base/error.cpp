#include "base/error.h"

#include <utility>

namespace geoetl {

Error::Error(ErrorKind kind, const std::string& message, std::string detail, std::string hint)
    : std::runtime_error(message),
      kind_(kind),
      detail_(std::move(detail)),
      hint_(std::move(hint)) {}

const char* error_kind_name(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::invalid_argument: return "invalid_argument";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::data_corrupted: return "data_corrupted";
    case ErrorKind::io_error: return "io_error";
    case ErrorKind::network_error: return "network_error";
    case ErrorKind::permission_denied: return "permission_denied";
    case ErrorKind::not_supported: return "not_supported";
    case ErrorKind::limit_exceeded: return "limit_exceeded";
    case ErrorKind::cancelled: return "cancelled";
    case ErrorKind::internal: return "internal";
  }
  return "unknown";
}

}  // namespace geoetl
