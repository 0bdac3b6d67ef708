// Who may read which raster source.
#pragma once

#include <string>
#include <vector>

#include "base/cancel.h"
#include "raster/raster.h"

namespace geoetl::pg {

// Superusers read anything. Members of geoetl_admin read below geoetl.allowed_sources.
// Anyone else gets Error(permission_denied), naming the source as `noun` ("raster source").
// Returns whether the user is a superuser.
bool check_read_access(const std::string& source, const char* noun = "raster source");

// Superusers: true; geoetl_admin members: false; anyone else: Error(permission_denied) saying
// that `what` requires the role.
bool require_admin(const char* what);

// What admins may read: geoetl.allowed_sources, plus the store's own local files (a local
// store's folder, and the local copies kept of an S3 store's objects).
std::vector<std::string> readable_sources();

// How the calling role opens rasters it names: superusers with every GDAL driver and any URL;
// others with the well-known file formats only, every request of a URL (each redirect too) below
// readable_sources(). `cancel` (which must outlive the options) stops remote reads.
RasterOpenOptions raster_open_options(bool superuser, const CancelToken* cancel);

// The same for fetching a URL (geoetl.http_get and downloads); the error names the URL.
bool check_fetch_access(const std::string& url);

}  // namespace geoetl::pg
