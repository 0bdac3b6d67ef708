#include "base/cancel.h"

#include "base/error.h"

namespace geoetl {

void CancelToken::check() const {
  if (requested()) throw Error(ErrorKind::cancelled, "operation cancelled");
}

}  // namespace geoetl
