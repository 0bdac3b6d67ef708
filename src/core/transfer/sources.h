// Where a raster comes from, and whether a non-superuser may read it.
//
// A source is a local absolute path, an http(s):// URL (read with range requests through
// geoetl's own HTTP client, http_vsi.h), an s3://bucket/key (through /vsis3/), or a GDAL subdataset
// name such as HDF5:"/data/file.h5"://group/layer. The allow-list holds path and URL prefixes; a
// path is allowed when its normalised form, and its real path once symlinks are resolved, lies
// below one.
#pragma once

#include <string>
#include <vector>

namespace geoetl {

struct Source {
  std::string gdal_path;  // what GDAL opens
  std::string shown;      // what errors show (the user's own words)
  bool remote = false;
  bool s3 = false;
};

// Throws Error(invalid_argument) for an empty or relative path.
Source resolve_source(const std::string& raster);

// Splits the setting "prefix, prefix, ..." (commas or newlines; blanks ignored).
std::vector<std::string> parse_prefixes(const std::string& setting);

// True when `raster` lies below one of `prefixes`.
bool source_allowed(const std::string& raster, const std::vector<std::string>& prefixes);

// The file of an HDF5 or netCDF subdataset name (HDF5:"/data/x.h5"://group/layer), as GDAL
// reads it; "" for anything else, or for a name GDAL could read as another file.
std::string subdataset_file(const std::string& name);

// The form of an http(s):// or s3:// URL that allow-list prefixes are compared with: scheme and
// host in lower case, percent-escapes of unreserved characters decoded (%2e is "."). "" for a
// URL that is refused whatever the prefixes: a "." or ".." path segment (plain or escaped), an
// escaped "/", backslash or "%", a plain backslash, a control character or space, a malformed
// escape.
std::string canonical_url(const std::string& url);

// "/a/./b/../c//d" -> "/a/c/d" (no file system access); "" if it climbs above the root.
std::string normalize_path(const std::string& path);

}  // namespace geoetl
