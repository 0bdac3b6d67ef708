#include "gdal/gdal_env.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <gdal_frmts.h>
#include <gdal_priv.h>

#include <string>
#include <vector>

namespace geoetl {
namespace {

constexpr const char* sentinel_name = "GEOETL_SENTINEL";
std::vector<std::function<void()>> manager_lost;

void sentinel_unloaded(GDALDriver*) {
  for (const std::function<void()>& f : manager_lost) f();
}

void register_sentinel() {
  auto* driver = new GDALDriver();
  driver->SetDescription(sentinel_name);
  driver->SetMetadataItem(GDAL_DMD_LONGNAME, "geoetl: notices driver manager destruction");
  driver->pfnUnloadDriver = sentinel_unloaded;
  GetGDALDriverManager()->RegisterDriver(driver);
}

}  // namespace

void on_gdal_manager_lost(std::function<void()> callback) {
  manager_lost.push_back(std::move(callback));
}

void ensure_gdal(const GdalSettings& settings) {
  // Applied only when they change (GDAL's config options sit behind a mutex and a list, and
  // this runs once per zonal_stats call), and again whenever GDAL lost them.
  static GdalSettings applied;
  static bool apply = true;
  if (GDALGetDriverByName(sentinel_name) == nullptr || GDALGetDriverByName("GTiff") == nullptr) {
    const char* skip = CPLGetConfigOption("GDAL_SKIP", nullptr);
    if (skip == nullptr || *skip == '\0') {
      GDALAllRegister();
    } else {
      // PostGIS keeps the drivers it disabled for its own functions in GDAL_SKIP: leave those
      // off and register only the drivers geoetl reads with (these ignore GDAL_SKIP).
      GDALRegister_GTiff();
      GDALRegister_COG();
      GDALRegister_HDF5();
      GDALRegister_HDF5Image();
      GDALRegister_netCDF();
    }
    if (GDALGetDriverByName(sentinel_name) == nullptr) register_sentinel();
    apply = true;  // destroying the driver manager also cleared every config option
  }
  if (!apply && settings == applied) return;
  apply = false;
  applied = settings;
  GDALSetCacheMax64(static_cast<GIntBig>(settings.cache_mb) * 1024 * 1024);
  auto set = [](const char* key, const std::string& value) {
    CPLSetConfigOption(key, value.empty() ? nullptr : value.c_str());
  };
  set("GDAL_HTTP_TIMEOUT", std::to_string(settings.http_timeout_s));
  set("GDAL_HTTP_CONNECTTIMEOUT", std::to_string(settings.http_connect_timeout_s));
  set("GDAL_HTTP_MAX_RETRY", "2");  // 429, 502, 503, 504 and connection resets
  set("GDAL_HTTP_RETRY_DELAY", "0.5");
  set("AWS_S3_ENDPOINT", settings.s3_endpoint);
  set("AWS_REGION", settings.s3_region);
  set("AWS_ACCESS_KEY_ID", settings.s3_access_key);
  set("AWS_SECRET_ACCESS_KEY", settings.s3_secret_key);
  set("AWS_NO_SIGN_REQUEST", settings.s3_access_key.empty() ? "YES" : "");
  set("AWS_HTTPS", settings.s3_https ? "YES" : "NO");
  set("AWS_VIRTUAL_HOSTING", settings.s3_virtual_hosting ? "TRUE" : "FALSE");
}

std::string scrub_secrets(std::string message, const GdalSettings& gdal) {
  for (const std::string* secret : {&gdal.s3_access_key, &gdal.s3_secret_key})
    for (size_t at; !secret->empty() && (at = message.find(*secret)) != std::string::npos;)
      message.replace(at, secret->size(), "***");
  return message;
}

namespace {
constexpr const char* sidecar_options[2][2] = {{"GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR"},
                                               {"GDAL_PAM_ENABLED", "NO"}};
}  // namespace

NoSidecarFiles::NoSidecarFiles() {
  for (int i = 0; i < 2; i++) {
    const char* before = CPLGetThreadLocalConfigOption(sidecar_options[i][0], nullptr);
    had_[i] = before != nullptr;
    if (had_[i]) saved_[i] = before;
    CPLSetThreadLocalConfigOption(sidecar_options[i][0], sidecar_options[i][1]);
  }
}

NoSidecarFiles::~NoSidecarFiles() {
  for (int i = 0; i < 2; i++)
    CPLSetThreadLocalConfigOption(sidecar_options[i][0], had_[i] ? saved_[i].c_str() : nullptr);
}

void gdal_error_handler(int level, int, const char* message) {
  auto* self = static_cast<GdalErrors*>(CPLGetErrorHandlerUserData());
  if (self != nullptr && level >= CE_Failure && message != nullptr) self->last_ = message;
}

namespace {
void CPL_STDCALL handler_trampoline(CPLErr level, CPLErrorNum num, const char* message) {
  gdal_error_handler(static_cast<int>(level), static_cast<int>(num), message);
}
}  // namespace

GdalErrors::GdalErrors() {
  CPLPushErrorHandlerEx(handler_trampoline, this);
}
GdalErrors::~GdalErrors() {
  CPLPopErrorHandler();
}

}  // namespace geoetl
