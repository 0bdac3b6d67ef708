// Versions of the libraries the core is linked with, as they report themselves at run time.
#pragma once

#include <string>

namespace geoetl {

struct LibraryVersions {
  std::string gdal;     // e.g. "3.6.2"
  std::string proj;     // e.g. "9.1.1"
  std::string libcurl;  // e.g. "7.88.1"
};

LibraryVersions library_versions();

}  // namespace geoetl
