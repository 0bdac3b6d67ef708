// What every fetch by the current user shares: HTTP options from the settings, with the
// allow-list applied to the first URL and every redirect; and the configured store.
#pragma once

#include <memory>
#include <string>

#include "transfer/http.h"
#include "transfer/store.h"

namespace geoetl::pg {

// Timeouts from the settings (geoetl.http_timeout, geoetl.http_connect_timeout).
HttpOptions http_options();

// http_options() for `url`. Throws Error(permission_denied) unless the user may fetch `url`
// (check_fetch_access).
HttpOptions fetch_options(const std::string& url);

// geoetl.store, opened with the S3 settings (default: geoetl_store in the data directory).
std::unique_ptr<Store> current_store();

}  // namespace geoetl::pg
