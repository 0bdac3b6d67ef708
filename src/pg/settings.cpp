// GUC definitions. Sources and process-wide caches are superuser-only (PGC_SUSET). Credentials
// are no settings: a setting of a library not loaded in a session is a placeholder there, which
// any role can SHOW, and a reload writes new values to the server log. They live only in the
// table geoetl.secret (82_secrets.sql); a placeholder of the old names is warned about and removed.
extern "C" {
#include "postgres.h"
#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/guc.h"
}

#include "settings.h"

#include <cstring>

#include "as_role.h"
#include "boundary.h"
#include "transfer/sources.h"

namespace geoetl::pg {
namespace {

char* allowed_sources_setting = nullptr;
int gdal_cache_mb = 64;
int raster_cache = 16;
int quantile_memory_mb = 128;
int http_timeout = 60;
int http_connect_timeout = 10;
int http_max_body = 64;   // MB
int download_max = 4096;  // MB
char* s3_endpoint = nullptr;
char* s3_region = nullptr;
bool s3_https = true;
bool s3_virtual_hosting = false;
char* store_setting = nullptr;
char* laads_url = nullptr;
char* job_id = nullptr;
char* job_progress = nullptr;

std::string str(const char* s) {
  return s != nullptr ? s : "";
}

void define_string(const char* name, const char* desc, char** var, int flags) {
  DefineCustomStringVariable(name, desc, nullptr, var, "", PGC_SUSET, flags, nullptr, nullptr,
                             nullptr);
}

// geoetl.secret, read once per transaction as the bootstrap superuser (nobody else may read it).
struct StoredSecrets {
  LocalTransactionId lxid = InvalidLocalTransactionId;
  std::string laads_token, s3_access_key, s3_secret_key;
};

// Runs under pg_guard. The values are copied into the caller's memory context.
void read_secret_table(char** names, char** values, int* n) {
  run_as_role(BOOTSTRAP_SUPERUSERID, 0, [&] {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "geoetl: SPI_connect failed");
    if (SPI_execute("SELECT name, value FROM geoetl.secret", true, 3) != SPI_OK_SELECT)
      elog(ERROR, "geoetl: cannot read geoetl.secret");
    *n = static_cast<int>(SPI_processed);
    for (int i = 0; i < *n; i++) {
      for (int c = 0; c < 2; c++) {
        const char* v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1);
        char* copy = static_cast<char*>(SPI_palloc(strlen(v != nullptr ? v : "") + 1));
        strcpy(copy, v != nullptr ? v : "");
        (c == 0 ? names : values)[i] = copy;
      }
    }
    SPI_finish();
  });
}

const StoredSecrets& stored_secrets() {
  static StoredSecrets s;
  const LocalTransactionId now = MyProc->lxid;
  if (s.lxid == now && now != InvalidLocalTransactionId) return s;
  char* names[3];
  char* values[3];
  int n = 0;
  pg_guard([&] { read_secret_table(names, values, &n); });
  s = StoredSecrets();
  for (int i = 0; i < n; i++) {
    const std::string name = names[i];
    std::string* field = name == "laads_token"     ? &s.laads_token
                         : name == "s3_access_key" ? &s.s3_access_key
                         : name == "s3_secret_key" ? &s.s3_secret_key
                                                   : nullptr;
    if (field != nullptr) *field = values[i];
  }
  s.lxid = now;
  return s;
}

// Credentials once kept as settings: if one is set (postgresql.conf, ALTER SYSTEM, ALTER DATABASE
// or ROLE ... SET), every role could read it in sessions that have not loaded geoetl.
constexpr const char* kRetiredSecretSettings[] = {"geoetl.laads_token", "geoetl.s3_access_key",
                                                  "geoetl.s3_secret_key"};

void warn_secret_settings() {
  for (const char* name : kRetiredSecretSettings) {
    const char* value = GetConfigOption(name, true, false);
    if (value == nullptr || value[0] == '\0') continue;
    ereport(
        WARNING,
        (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
         errmsg("%s is set as a setting, which every role can read: geoetl ignores it", name),
         errdetail("geoetl keeps credentials only in the table geoetl.secret."),
         errhint("Move it: SELECT geoetl.set_secret('%s', '...'); then ALTER SYSTEM RESET %s (or "
                 "remove it from postgresql.conf, ALTER DATABASE/ROLE ... RESET) and reload.",
                 name + strlen("geoetl."), name)));
  }
}

}  // namespace

void define_settings() {
  define_string("geoetl.allowed_sources",
                "Path and URL prefixes that geoetl_admin members may read rasters from.",
                &allowed_sources_setting, 0);
  DefineCustomIntVariable("geoetl.gdal_cache_mb", "GDAL block cache per backend, in MB.", nullptr,
                          &gdal_cache_mb, 64, 1, 65536, PGC_SUSET, GUC_UNIT_MB, nullptr, nullptr,
                          nullptr);
  DefineCustomIntVariable("geoetl.raster_cache_size", "Open raster datasets kept per backend.",
                          nullptr, &raster_cache, 16, 1, 1000, PGC_SUSET, 0, nullptr, nullptr,
                          nullptr);
  DefineCustomIntVariable("geoetl.quantile_memory_mb",
                          "Memory one zonal_stats call may use for exact quantiles, in MB.",
                          nullptr, &quantile_memory_mb, 128, 1, 65536, PGC_USERSET, GUC_UNIT_MB,
                          nullptr, nullptr, nullptr);
  DefineCustomIntVariable("geoetl.http_timeout", "Total timeout of one remote read, in seconds.",
                          nullptr, &http_timeout, 60, 1, 3600, PGC_SUSET, GUC_UNIT_S, nullptr,
                          nullptr, nullptr);
  DefineCustomIntVariable("geoetl.http_connect_timeout", "Connect timeout, in seconds.", nullptr,
                          &http_connect_timeout, 10, 1, 600, PGC_SUSET, GUC_UNIT_S, nullptr,
                          nullptr, nullptr);
  define_string("geoetl.s3_endpoint", "S3-compatible endpoint host[:port] (empty: AWS).",
                &s3_endpoint, 0);
  define_string("geoetl.s3_region", "S3 region.", &s3_region, 0);
  DefineCustomBoolVariable("geoetl.s3_https", "Use HTTPS for S3.", nullptr, &s3_https, true,
                           PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable("geoetl.s3_virtual_hosting",
                           "Address buckets as bucket.host (true) or host/bucket (false).", nullptr,
                           &s3_virtual_hosting, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "geoetl.http_max_body_mb", "Largest response body geoetl.http_get keeps in memory, in MB.",
      nullptr, &http_max_body, 64, 1, 1023, PGC_USERSET, GUC_UNIT_MB, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "geoetl.download_max_mb", "Largest file a download may write into the store, in MB.", nullptr,
      &download_max, 4096, 1, INT_MAX / 2, PGC_SUSET, GUC_UNIT_MB, nullptr, nullptr, nullptr);
  define_string("geoetl.store",
                "Where fetched files go: an absolute folder, or s3://bucket/prefix (empty: "
                "geoetl_store in the data directory).",
                &store_setting, 0);
  DefineCustomStringVariable("geoetl.laads_url", "Base URL of NASA's LAADS DAAC archive.", nullptr,
                             &laads_url, "https://ladsweb.modaps.eosdis.nasa.gov/archive/allData",
                             PGC_SUSET, 0, nullptr, nullptr, nullptr);
  // Set by geoetl.run_jobs (the job) and geoetl.report_progress while a job runs.
  DefineCustomStringVariable("geoetl.job_id", "The job this session is running (set by run_jobs).",
                             nullptr, &job_id, "", PGC_USERSET, GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
                             nullptr, nullptr, nullptr);
  DefineCustomStringVariable("geoetl.job_progress", "The running job's last progress message.",
                             nullptr, &job_progress, "", PGC_USERSET,
                             GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
  warn_secret_settings();
  MarkGUCPrefixReserved("geoetl");  // and removes the placeholders of the retired names
}

GdalSettings gdal_settings() {
  GdalSettings s;
  s.cache_mb = gdal_cache_mb;
  s.http_timeout_s = http_timeout;
  s.http_connect_timeout_s = http_connect_timeout;
  s.s3_endpoint = str(s3_endpoint);
  s.s3_region = str(s3_region);
  s.s3_access_key = stored_secrets().s3_access_key;
  s.s3_secret_key = stored_secrets().s3_secret_key;
  s.s3_https = s3_https;
  s.s3_virtual_hosting = s3_virtual_hosting;
  return s;
}

std::vector<std::string> allowed_sources() {
  return parse_prefixes(str(allowed_sources_setting));
}
size_t raster_cache_size() {
  return static_cast<size_t>(raster_cache);
}
size_t quantile_cells() {
  return static_cast<size_t>(quantile_memory_mb) * 1024 * 1024 / 16;
}

int http_max_body_mb() {
  return http_max_body;
}
int download_max_mb() {
  return download_max;
}

std::string store_setting_value() {
  return str(store_setting);
}
std::string laads_base_url() {
  return str(laads_url);
}
std::string laads_bearer_token() {
  return stored_secrets().laads_token;
}

}  // namespace geoetl::pg
