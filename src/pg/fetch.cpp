extern "C" {
#include "postgres.h"
#include "miscadmin.h"
}

#include "fetch.h"

#include "access.h"
#include "boundary.h"
#include "settings.h"
#include "transfer/sources.h"

namespace geoetl::pg {

HttpOptions http_options() {
  const GdalSettings settings = gdal_settings();
  HttpOptions o;
  o.connect_timeout_s = settings.http_connect_timeout_s;
  o.timeout_s = settings.http_timeout_s;
  o.low_speed_time_s = settings.http_timeout_s;
  return o;
}

HttpOptions fetch_options(const std::string& url) {
  const bool superuser = check_fetch_access(url);
  HttpOptions o = http_options();
  if (!superuser) {  // every redirect target too
    const std::vector<std::string> prefixes = allowed_sources();
    o.allowed = [prefixes](const std::string& u) { return source_allowed(u, prefixes); };
  }
  return o;
}

std::unique_ptr<Store> current_store() {
  const std::string data_dir = pg_guard([] { return std::string(DataDir); });
  return open_store(store_setting_value(), data_dir + "/geoetl_store", gdal_settings());
}

}  // namespace geoetl::pg
