// Who may read which raster source.
#pragma once

#include <string>

namespace geoetl::pg {

// Superusers read anything. Members of geoetl_admin read below geoetl.allowed_sources.
// Anyone else gets Error(permission_denied). Returns whether the user is a superuser.
bool check_read_access(const std::string& raster);

// The same for fetching a URL (geoetl.http_get and downloads); the error names the URL.
bool check_fetch_access(const std::string& url);

}  // namespace geoetl::pg
