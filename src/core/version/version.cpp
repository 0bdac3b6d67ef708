#include "version/version.h"

#include <curl/curl.h>
#include <gdal.h>
#include <proj.h>

namespace geoetl {

LibraryVersions library_versions() {
  LibraryVersions v;
  v.gdal = GDALVersionInfo("RELEASE_NAME");
  v.proj = proj_info().version;
  v.libcurl = curl_version_info(CURLVERSION_NOW)->version;
  return v;
}

}  // namespace geoetl
