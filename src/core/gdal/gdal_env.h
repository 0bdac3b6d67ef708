// GDAL inside a long-lived process that shares libgdal with PostGIS raster.
//
// ensure_gdal() runs before every GDAL use. It registers the drivers geoetl needs whenever they
// are missing: PostGIS's postgis.gdal_enabled_drivers destroys GDAL's driver manager (which
// force-closes every open dataset and clears every config option) and sets GDAL_SKIP. A
// sentinel driver of ours is destroyed with the manager; its unload callback tells the dataset
// cache that its handles are gone, and the settings are applied again.
//
// GdalErrors collects GDAL's error messages for one call (a pushed handler, never a global one
// that raises), so failures can be reported with GDAL's own words.
#pragma once

#include <functional>
#include <string>

namespace geoetl {

struct GdalSettings {
  long cache_mb = 64;  // GDAL block cache per process
  int http_timeout_s = 60, http_connect_timeout_s = 10;
  // S3-compatible storage (MinIO, AWS); empty endpoint means AWS itself
  std::string s3_endpoint, s3_region, s3_access_key, s3_secret_key;
  bool s3_https = true, s3_virtual_hosting = false;

  bool operator==(const GdalSettings& o) const {
    return cache_mb == o.cache_mb && http_timeout_s == o.http_timeout_s &&
           http_connect_timeout_s == o.http_connect_timeout_s && s3_endpoint == o.s3_endpoint &&
           s3_region == o.s3_region && s3_access_key == o.s3_access_key &&
           s3_secret_key == o.s3_secret_key && s3_https == o.s3_https &&
           s3_virtual_hosting == o.s3_virtual_hosting;
  }
};

void ensure_gdal(const GdalSettings& settings);

// `message` with the S3 keys of `settings` replaced by ***: for anything shown to users or logged.
std::string scrub_secrets(std::string message, const GdalSettings& settings);

// Adds a callback, called (once per loss) when GDAL's driver manager was destroyed behind our
// back (every callback added, in order).
void on_gdal_manager_lost(std::function<void()> callback);

// While it lives, GDAL ignores the files beside the one it opens, on this thread: no folder
// listing (GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR), so no `.msk` mask, `.ovr` overview or
// world file is looked for, and no `.aux.xml` (GDAL_PAM_ENABLED=NO), whose metadata could name
// another file (OVERVIEW_FILE). A sidecar can be a VRT or a symlink naming any file, which GDAL
// opens with every driver: what geoetl reads is the file it was given and nothing beside it.
// GDAL decides per dataset, lazily (PAM at the first georeferencing read, masks at the first
// mask query), so keep one alive across the open and every later read of a dataset.
class NoSidecarFiles {
 public:
  NoSidecarFiles();
  ~NoSidecarFiles();
  NoSidecarFiles(const NoSidecarFiles&) = delete;
  NoSidecarFiles& operator=(const NoSidecarFiles&) = delete;

 private:
  std::string saved_[2];
  bool had_[2] = {false, false};
};

class GdalErrors {
 public:
  GdalErrors();
  ~GdalErrors();
  GdalErrors(const GdalErrors&) = delete;
  GdalErrors& operator=(const GdalErrors&) = delete;
  // The last error GDAL reported during this object's life, or "".
  const std::string& last() const { return last_; }

 private:
  std::string last_;
  friend void gdal_error_handler(int, int, const char*);
};

}  // namespace geoetl
