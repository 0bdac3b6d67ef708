extern "C" {
#include "postgres.h"
#include "miscadmin.h"
#include "utils/acl.h"
}

#include "access.h"
#include "boundary.h"
#include "base/error.h"
#include "settings.h"
#include "transfer/sources.h"

namespace geoetl::pg {

bool require_admin(const char* what) {
  if (pg_guard([] { return superuser(); })) return true;
  const bool admin = pg_guard([] {
    const Oid role = get_role_oid("geoetl_admin", true);
    return OidIsValid(role) && has_privs_of_role(GetUserId(), role);
  });
  if (!admin)
    throw Error(ErrorKind::permission_denied, std::string(what) + " requires the geoetl_admin role",
                {}, "A superuser can grant it: GRANT geoetl_admin TO your_role;");
  return false;
}

namespace {

const char* const allow_hint =
    "A superuser can allow a folder or URL prefix: ALTER SYSTEM SET "
    "geoetl.allowed_sources = '/data/rasters/'; SELECT pg_reload_conf();";

}  // namespace

std::vector<std::string> readable_sources() {
  std::vector<std::string> prefixes = allowed_sources();
  const std::string data_dir = pg_guard([] { return std::string(DataDir); });
  const std::string store = store_setting_value();
  prefixes.push_back(store.empty() ? data_dir + "/geoetl_store/" : store + "/");
  prefixes.push_back(data_dir + "/geoetl_store/.cache/");
  return prefixes;
}

bool check_read_access(const std::string& source, const char* noun) {
  if (require_admin("reading rasters")) return true;
  if (!source_allowed(source, readable_sources()))
    throw Error(
        ErrorKind::permission_denied, std::string(noun) + " \"" + source + "\" is not allowed",
        "Only superusers read outside the prefixes listed in geoetl.allowed_sources.", allow_hint);
  return false;
}

RasterOpenOptions raster_open_options(bool superuser, const CancelToken* cancel) {
  RasterOpenOptions ro;
  ro.restrict_drivers = !superuser;
  ro.gdal = gdal_settings();
  ro.cancel = cancel;
  if (!superuser) {
    const std::vector<std::string> prefixes = readable_sources();
    ro.url_allowed = [prefixes](const std::string& u) { return source_allowed(u, prefixes); };
  }
  return ro;
}

bool check_fetch_access(const std::string& url) {
  if (require_admin("fetching URLs")) return true;
  if (!source_allowed(url, allowed_sources()))
    throw Error(ErrorKind::permission_denied, "URL \"" + url + "\" is not allowed",
                "Only superusers fetch outside the prefixes listed in geoetl.allowed_sources.",
                allow_hint);
  return false;
}

}  // namespace geoetl::pg
