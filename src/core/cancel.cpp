#include "cancel.h"

#include "error.h"

namespace geoetl {

void CancelToken::check() const {
  if (requested()) throw Error(ErrorKind::cancelled, "operation cancelled");
}

}  // namespace geoetl
