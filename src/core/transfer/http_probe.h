// One small HTTP request to learn why a remote raster could not be opened (GDAL's /vsicurl/
// reports only "not recognised"): the status code, or the transport error.
#pragma once

#include <string>

#include "base/cancel.h"

namespace geoetl {

struct ProbeResult {
  long status = 0;    // HTTP status; 0 when no response came
  std::string error;  // libcurl's message when no response came
};

// GET url with "Range: bytes=0-0", no signals, within the given timeouts (seconds); `cancel`
// aborts it (then Error(cancelled) is thrown).
ProbeResult http_probe(const std::string& url, int connect_timeout_s, int timeout_s,
                       const CancelToken& cancel);

}  // namespace geoetl
