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
#include "module.h"
#include "transfer/sources.h"

namespace geoetl::pg {
namespace {

// The settings' values, each set from its definition (define_settings) when the library loads.
char* allowed_sources_setting = nullptr;
int gdal_cache_mb = 0;
int raster_cache = 0;
int quantile_memory_mb = 0;
int http_timeout = 0;
int http_connect_timeout = 0;
int http_max_body = 0;  // MB
int download_max = 0;   // MB
char* s3_endpoint = nullptr;
char* s3_region = nullptr;
bool s3_https = false;
bool s3_virtual_hosting = false;
char* store_setting = nullptr;
char* laads_url = nullptr;
char* job_id = nullptr;
char* job_progress = nullptr;

std::string str(const char* s) {
  return s != nullptr ? s : "";
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
    // every operator named with its schema: the caller's search_path may hold its own (as a
    // superuser, they would run with a superuser's rights)
    if (SPI_execute("SELECT name, value FROM geoetl.secret WHERE name OPERATOR(pg_catalog.=) "
                    "ANY ('{laads_token,s3_access_key,s3_secret_key}'::pg_catalog.text[])",
                    true, 3) != SPI_OK_SELECT)
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

// Each setting defined once: its name, default, bounds, who may change it and what it means.
// Where the core has a default of its own (GDAL's cache, timeouts, S3 addressing), that is it.
void define_settings() {
  const GdalSettings core;
  struct IntSetting {
    const char* name;
    int* value;
    int default_value, min, max;
    GucContext context;
    int flags;
    const char* description;
  };
  const IntSetting ints[] = {
      {"geoetl.gdal_cache_mb", &gdal_cache_mb, static_cast<int>(core.cache_mb), 1, 65536, PGC_SUSET,
       GUC_UNIT_MB, "GDAL block cache per backend, in MB."},
      {"geoetl.raster_cache_size", &raster_cache, 16, 1, 1000, PGC_SUSET, 0,
       "Open raster datasets kept per backend."},
      {"geoetl.quantile_memory_mb", &quantile_memory_mb, 128, 1, 65536, PGC_USERSET, GUC_UNIT_MB,
       "Memory one zonal_stats call may use for exact quantiles, in MB."},
      {"geoetl.http_timeout", &http_timeout, core.http_timeout_s, 1, 3600, PGC_SUSET, GUC_UNIT_S,
       "Total timeout of one remote read, in seconds."},
      {"geoetl.http_connect_timeout", &http_connect_timeout, core.http_connect_timeout_s, 1, 600,
       PGC_SUSET, GUC_UNIT_S, "Connect timeout, in seconds."},
      {"geoetl.http_max_body_mb", &http_max_body, 64, 1, 1023, PGC_USERSET, GUC_UNIT_MB,
       "Largest response body geoetl.http_get keeps in memory, in MB."},
      {"geoetl.download_max_mb", &download_max, 4096, 1, INT_MAX / 2, PGC_SUSET, GUC_UNIT_MB,
       "Largest file a download may write into the store, in MB."},
  };
  struct BoolSetting {
    const char* name;
    bool* value;
    bool default_value;
    const char* description;
  };
  const BoolSetting bools[] = {
      {"geoetl.s3_https", &s3_https, core.s3_https, "Use HTTPS for S3."},
      {"geoetl.s3_virtual_hosting", &s3_virtual_hosting, core.s3_virtual_hosting,
       "Address buckets as bucket.host (true) or host/bucket (false)."},
  };
  // geoetl.job_id and geoetl.job_progress are set by geoetl.run_jobs and
  // geoetl.report_progress while a job runs.
  const int hidden = GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE;
  struct StringSetting {
    const char* name;
    char** value;
    const char* default_value;
    GucContext context;
    int flags;
    const char* description;
  };
  const StringSetting strings[] = {
      {"geoetl.allowed_sources", &allowed_sources_setting, "", PGC_SUSET, 0,
       "Path and URL prefixes that geoetl_admin members may read rasters from."},
      {"geoetl.s3_endpoint", &s3_endpoint, "", PGC_SUSET, 0,
       "S3-compatible endpoint host[:port] (empty: AWS)."},
      {"geoetl.s3_region", &s3_region, "", PGC_SUSET, 0, "S3 region."},
      {"geoetl.store", &store_setting, "", PGC_SUSET, 0,
       "Where fetched files go: an absolute folder, or s3://bucket/prefix (empty: "
       "geoetl_store in the data directory)."},
      {"geoetl.laads_url", &laads_url, "https://ladsweb.modaps.eosdis.nasa.gov/archive/allData",
       PGC_SUSET, 0, "Base URL of NASA's LAADS DAAC archive."},
      {"geoetl.job_id", &job_id, "", PGC_USERSET, hidden,
       "The job this session is running (set by run_jobs)."},
      {"geoetl.job_progress", &job_progress, "", PGC_USERSET, hidden,
       "The running job's last progress message."},
  };
  for (const IntSetting& s : ints)
    DefineCustomIntVariable(s.name, s.description, nullptr, s.value, s.default_value, s.min, s.max,
                            s.context, s.flags, nullptr, nullptr, nullptr);
  for (const BoolSetting& s : bools)
    DefineCustomBoolVariable(s.name, s.description, nullptr, s.value, s.default_value, PGC_SUSET, 0,
                             nullptr, nullptr, nullptr);
  for (const StringSetting& s : strings)
    DefineCustomStringVariable(s.name, s.description, nullptr, s.value, s.default_value, s.context,
                               s.flags, nullptr, nullptr, nullptr);
  warn_secret_settings();
  MarkGUCPrefixReserved("geoetl");  // and removes the placeholders of the retired names
}

GdalSettings gdal_settings() {
  ensure_backend_cleanup();
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
