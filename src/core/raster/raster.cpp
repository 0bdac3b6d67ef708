#include "raster/raster.h"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <cpl_vsi_error.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/error.h"
#include "gdal/gdal_env.h"
#include "raster/hdf5_audit.h"
#include "raster/shared_memo.h"
#include "transfer/http_probe.h"
#include "transfer/http_vsi.h"
#include "transfer/sources.h"

namespace geoetl {

// Owns a GDAL dataset handle unless GDAL's driver manager has closed it already, and what
// Raster needs to know of it, read once (GDAL rebuilds the CRS WKT through PROJ on each ask).
class Dataset {
 public:
  explicit Dataset(GDALDatasetH h) : h_(h) {
    has_geotransform = GDALGetGeoTransform(h, geotransform) == CE_None;
    width = GDALGetRasterXSize(h);
    height = GDALGetRasterYSize(h);
    bands = GDALGetRasterCount(h);
  }
  ~Dataset() {
    if (h_ != nullptr) GDALClose(h_);
  }
  Dataset(const Dataset&) = delete;
  Dataset& operator=(const Dataset&) = delete;
  GDALDatasetH handle() const { return h_; }
  void orphan() { h_ = nullptr; }  // the driver manager already deleted it
  // The CRS as WKT, asked of GDAL at the first call (GDAL builds it through PROJ's database,
  // which a backend opens at its first use: skipped when the shared memo knows the answer).
  // Call within a NoSidecarFiles: a .aux.xml could name another CRS.
  const std::string& crs_wkt() {
    if (!crs_read_) {
      const char* wkt = GDALGetProjectionRef(h_);
      crs_wkt_ = wkt != nullptr ? wkt : "";
      crs_read_ = true;
    }
    return crs_wkt_;
  }
  bool crs_known() const { return crs_read_; }
  void set_crs_wkt(std::string wkt) {  // as the shared memo knows it
    crs_wkt_ = std::move(wkt);
    crs_read_ = true;
  }

  double geotransform[6] = {0, 1, 0, 0, 0, 1};
  bool has_geotransform = false;
  int width = 0, height = 0, bands = 0;

 private:
  GDALDatasetH h_;
  std::string crs_wkt_;
  bool crs_read_ = false;
};

namespace {

struct CacheEntry {
  std::string key;
  std::string signature;  // size and mtime of local files: a changed file is reopened
  std::shared_ptr<Dataset> ds;
};

struct Cache {
  std::list<CacheEntry> entries;
  size_t capacity = 16;
  RasterCacheStats stats;
  bool hooked = false;

  void trim() {
    while (entries.size() > capacity) entries.pop_back();
  }
};

Cache& cache() {
  static Cache c;
  if (!c.hooked) {
    c.hooked = true;
    on_gdal_manager_lost([] {
      for (CacheEntry& e : cache().entries) e.ds->orphan();
      cache().entries.clear();
    });
  }
  return c;
}

bool is_missing_local_file(const std::string& path) {
  struct stat st;
  return path.rfind("/vsi", 0) != 0 && path.find(':') == std::string::npos &&
         stat(path.c_str(), &st) != 0;
}

// Throws the error that explains why a URL could not be read, if the server says so.
void explain_remote_failure(const std::string& url, const std::string& shown,
                            const RasterOpenOptions& options) {
  const GdalSettings& gdal = options.gdal;
  const ProbeResult p = http_probe(url, gdal.http_connect_timeout_s, gdal.http_timeout_s,
                                   options.cancel != nullptr ? *options.cancel : CancelToken());
  const std::string code = "HTTP " + std::to_string(p.status);
  if (p.status == 0)
    throw Error(ErrorKind::network_error, "cannot reach \"" + shown + "\"", p.error,
                "Check the address and the network; geoetl.http_timeout and "
                "geoetl.http_connect_timeout bound the wait.");
  if (p.status == 401 || p.status == 403)
    throw Error(ErrorKind::permission_denied, "the server refused access to \"" + shown + "\"",
                code, "The source needs credentials, or they are wrong or expired.");
  if (p.status == 404 || p.status == 410)
    throw Error(ErrorKind::not_found, "raster \"" + shown + "\" does not exist", code);
  if (p.status >= 500)
    throw Error(ErrorKind::network_error, "the server of \"" + shown + "\" failed", code,
                "Servers fail now and then: try again later.");
  if (p.status >= 400)
    throw Error(ErrorKind::network_error, "the server refused \"" + shown + "\"", code);
}

// Credentials never appear in an error, whatever the server echoed.
// Throws the error that explains why an s3:// object could not be read, from GDAL's own report.
void explain_s3_failure(const std::string& path, const std::string& shown,
                        const GdalSettings& gdal) {
  VSIErrorReset();
  if (VSILFILE* f = VSIFOpenExL(path.c_str(), "rb", TRUE)) {  // TRUE: set VSI errors on failure
    VSIFCloseL(f);
    return;
  }
  const std::string why = scrub_secrets(VSIGetLastErrorMsg(), gdal);
  switch (VSIGetLastErrorNo()) {
    case VSIE_AWSObjectNotFound:
    case VSIE_AWSBucketNotFound:
    case VSIE_FileError:
      throw Error(ErrorKind::not_found, "raster \"" + shown + "\" does not exist", why);
    case VSIE_AWSAccessDenied:
    case VSIE_AWSInvalidCredentials:
    case VSIE_AWSSignatureDoesNotMatch:
      throw Error(ErrorKind::permission_denied, "the S3 store refused access to \"" + shown + "\"",
                  why,
                  "Check the S3 keys stored with geoetl.set_secret('s3_access_key' / "
                  "'s3_secret_key', ...).");
    case VSIE_HttpError:
      throw Error(ErrorKind::network_error, "cannot reach the S3 store for \"" + shown + "\"", why,
                  "Check geoetl.s3_endpoint, geoetl.s3_https and the network.");
    case VSIE_None:  // an empty 404 to GDAL's HEAD request: the object is not there
      throw Error(ErrorKind::not_found, "raster \"" + shown + "\" does not exist",
                  "The S3 store has no such object.");
    default:
      throw Error(ErrorKind::network_error, "cannot read \"" + shown + "\" from the S3 store", why);
  }
}

// Opens `path` with GDAL inside the caller's NoSidecarFiles and RemoteReadScope.
GDALDatasetH open_gdal(const std::string& path, const std::string& shown,
                       const RasterOpenOptions& options, const RemoteReadScope& scope) {
  if (is_missing_local_file(path))
    throw Error(ErrorKind::not_found, "raster file \"" + shown + "\" does not exist", {},
                "Check the path; it is read by the database server, on its machine.");
  static const char* const safe_drivers[] = {"GTiff", "COG",  "HDF5",        "HDF5Image", "netCDF",
                                             "PNG",   "JPEG", "JP2OpenJPEG", "AAIGrid",   nullptr};
  // HDF5 and netCDF-4 files can name other files, which only a local file can be checked for
  static const char* const safe_remote_drivers[] = {"GTiff", "COG",         "PNG",
                                                    "JPEG",  "JP2OpenJPEG", nullptr};
  GdalErrors errors;
  const bool remote = path.rfind(checked_http_prefix, 0) == 0 || path.rfind("/vsicurl/", 0) == 0 ||
                      path.rfind("/vsis3/", 0) == 0;
  if (!remote) {
    const std::string inner = subdataset_file(path);
    const std::string& file = inner.empty() ? path : inner;
    if (file.rfind("/vsi", 0) != 0) check_hdf5_self_contained(file, shown);
  }
  const char* const* drivers = !options.restrict_drivers ? nullptr
                               : remote                  ? safe_remote_drivers
                                                         : safe_drivers;
  GDALDatasetH h =
      GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, drivers, nullptr, nullptr);
  if (h == nullptr) {
    scope.rethrow_failure();  // a refused redirect, a server error, a cancellation
    if (remote) VSICurlPartialClearCache(path.c_str());  // GDAL remembers failures per URL
    if (path.rfind("/vsicurl/", 0) == 0) explain_remote_failure(path.substr(9), shown, options);
    if (path.rfind("/vsis3/", 0) == 0) explain_s3_failure(path, shown, options.gdal);
    const std::string why = scrub_secrets(errors.last(), options.gdal);
    if (why.find("No such file") != std::string::npos ||
        why.find("does not exist") != std::string::npos ||
        why.find("HTTP response code: 404") != std::string::npos)
      throw Error(ErrorKind::not_found, "raster \"" + shown + "\" does not exist", why);
    throw Error(ErrorKind::data_corrupted, "cannot read \"" + shown + "\" as a raster",
                why.empty() ? "GDAL recognises no raster format in it." : why,
                "Check that the file is complete and in a raster format GDAL reads (GeoTIFF, "
                "COG, HDF5, netCDF, ...).");
  }
  return h;
}

std::shared_ptr<Dataset> cached_dataset(const std::string& path, const std::string& shown,
                                        const RasterOpenOptions& options,
                                        const RemoteReadScope& scope, const std::string& sig) {
  Cache& c = cache();
  const std::string key = (options.restrict_drivers ? "r:" : "a:") + path;
  for (auto it = c.entries.begin(); it != c.entries.end(); ++it) {
    if (it->key != key) continue;
    if (it->signature == sig) {
      c.entries.splice(c.entries.begin(), c.entries, it);
      c.stats.hits++;
      return it->ds;
    }
    c.entries.erase(it);  // the file changed on disk
    break;
  }
  c.stats.misses++;
  auto ds = std::make_shared<Dataset>(open_gdal(path, shown, options, scope));
  scope.rethrow_failure();  // GDAL may carry on past a failed read
  c.entries.push_front({key, sig, ds});
  c.trim();
  return ds;
}

}  // namespace

namespace {
bool stat_local(const std::string& name, struct stat* st) {
  const std::string inner = subdataset_file(name);
  const std::string& path = inner.empty() ? name : inner;
  return path.rfind("/vsi", 0) != 0 && stat(path.c_str(), st) == 0;
}

std::string signature_of(const struct stat& st) {
  return std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

std::array<uint64_t, 6> identity_of(const std::string& name, const struct stat& st) {
  auto ns = [](const struct timespec& t) {
    return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
  };
  return {text_hash(name),  // the GDAL name: subdatasets of one file differ
          static_cast<uint64_t>(st.st_dev),
          static_cast<uint64_t>(st.st_ino),
          static_cast<uint64_t>(st.st_size),
          ns(st.st_mtim),
          ns(st.st_ctim)};
}

}  // namespace

std::string local_signature(const std::string& name) {
  struct stat st;
  return stat_local(name, &st) ? signature_of(st) : std::string();
}

void set_raster_cache_capacity(size_t capacity) {
  cache().capacity = capacity < 1 ? 1 : capacity;
  cache().trim();
}

RasterCacheStats raster_cache_stats() {
  RasterCacheStats s = cache().stats;
  s.open = cache().entries.size();
  return s;
}

void clear_raster_cache() {
  cache().entries.clear();
}

Raster Raster::open(const std::string& gdal_path, const std::string& shown,
                    const RasterOpenOptions& options) {
  ensure_gdal(options.gdal);
  Raster r;
  r.shown_ = shown;
  r.remote_.allowed = options.url_allowed;
  r.remote_.connect_timeout_s = options.gdal.http_connect_timeout_s;
  r.remote_.timeout_s = options.gdal.http_timeout_s;
  static const CancelToken never;
  const NoSidecarFiles sidecars;
  const RemoteReadScope scope(r.remote_, options.cancel != nullptr ? *options.cancel : never);
  struct stat st;  // one look at the file: the dataset cache's signature and the block keys
  const bool local = stat_local(gdal_path, &st);
  if (local) r.signature_ = signature_of(st);
  r.ds_ = cached_dataset(gdal_path, shown, options, scope, r.signature_);
  Dataset& ds = *r.ds_;
  r.bands_ = ds.bands;
  r.grid_.width = ds.width;
  r.grid_.height = ds.height;
  const double* gt = ds.geotransform;
  if (ds.has_geotransform && (gt[2] != 0 || gt[4] != 0))
    throw Error(ErrorKind::not_supported, "raster \"" + shown + "\" is rotated or sheared", {},
                "Warp it to a north-up grid first, e.g. with gdalwarp.");
  if (gt[1] == 0 || gt[5] == 0)
    throw Error(ErrorKind::data_corrupted, "raster \"" + shown + "\" has a zero pixel size");
  r.grid_.x0 = gt[0];
  r.grid_.dx = gt[1];
  r.grid_.y0 = gt[3];
  r.grid_.dy = gt[5];
  if (options.shared_blocks && shared_block_cache() != nullptr && local) {
    r.block_identity_ = identity_of(gdal_path, st);
    // the file's CRS as another backend read it, or as read here and kept for the others
    const std::string file(reinterpret_cast<const char*>(r.block_identity_.data()),
                           sizeof r.block_identity_);
    std::string wkt;
    if (ds.crs_known()) {
      r.crs_wkt_ = ds.crs_wkt();
    } else if (shared_memo_get(MemoKind::file_crs, file, &wkt)) {
      ds.set_crs_wkt(wkt);
      r.crs_wkt_ = std::move(wkt);
    } else {
      r.crs_wkt_ = ds.crs_wkt();
      shared_memo_put(MemoKind::file_crs, file, r.crs_wkt_);
    }
  } else {
    r.crs_wkt_ = ds.crs_wkt();
  }
  if (r.bands_ < 1)
    throw Error(
        ErrorKind::data_corrupted, "\"" + shown + "\" has no raster band", {},
        "For a file with subdatasets (HDF5, netCDF) name one, e.g. HDF5:\"file.h5\"://path.");
  return r;
}

void* Raster::gdal_handle() const {
  return ds_->handle();
}

void Raster::override_georeference(const std::array<double, 6>& gt, const std::string& crs_wkt) {
  grid_.x0 = gt[0];
  grid_.dx = gt[1];
  grid_.y0 = gt[3];
  grid_.dy = gt[5];
  crs_wkt_ = crs_wkt;
}

Band::Band(const Raster& raster, int band_no) : raster_(&raster), band_no_(band_no) {
  if (band_no < 1 || band_no > raster.band_count())
    throw Error(ErrorKind::invalid_argument,
                "band " + std::to_string(band_no) + " does not exist in \"" + raster.name() + "\"",
                "The raster has " + std::to_string(raster.band_count()) + " band(s).",
                "Bands are numbered from 1.");
  static const CancelToken never;
  const NoSidecarFiles sidecars;  // the mask flags below would look for a .msk file
  const RemoteReadScope scope(raster.remote_policy(), never);
  band_ = GDALGetRasterBand(static_cast<GDALDatasetH>(raster.gdal_handle()), band_no);
  GDALGetBlockSize(static_cast<GDALRasterBandH>(band_), &block_w_, &block_h_);
  int ok = 0;
  nodata_ = GDALGetRasterNoDataValue(static_cast<GDALRasterBandH>(band_), &ok);
  has_nodata_ = ok != 0;
  scale_ = GDALGetRasterScale(static_cast<GDALRasterBandH>(band_), &ok);
  if (!ok) scale_ = 1;
  offset_ = GDALGetRasterOffset(static_cast<GDALRasterBandH>(band_), &ok);
  if (!ok) offset_ = 0;
  const int flags = GDALGetMaskFlags(static_cast<GDALRasterBandH>(band_));
  per_dataset_mask_ = !(flags & GMF_ALL_VALID) && !(flags & GMF_NODATA);
  if (const ValueEncoding* e = raster.encoding()) {  // what the file says, where GDAL does not
    has_nodata_ = e->has_nodata;
    nodata_ = e->nodata;
    scale_ = e->scale;
    offset_ = e->offset;
    per_dataset_mask_ = false;
  }
  // A Float32 band stores its fill as a float: -999.9 is -999.900024 in the data, so compare
  // against the value as the band stores it.
  const GDALDataType type = GDALGetRasterDataType(static_cast<GDALRasterBandH>(band_));
  if (type == GDT_Float32) nodata_ = static_cast<double>(static_cast<float>(nodata_));
  data_type_ = static_cast<int>(type);
  pixel_bytes_ = static_cast<size_t>(GDALGetDataTypeSizeBytes(type));
  // Through the shared cache: a file it may key, blocks small enough to keep (not a whole image
  // in one block), values that are plain numbers and no mask beside them.
  SharedBlockCache* cache = shared_block_cache();
  const uint64_t block_bytes = static_cast<uint64_t>(std::max(block_w_, 0)) *
                               static_cast<uint64_t>(std::max(block_h_, 0)) * pixel_bytes_;
  const bool keyed = raster.block_identity() != std::array<uint64_t, 6>{};
  if (cache != nullptr && keyed && !per_dataset_mask_ && !GDALDataTypeIsComplex(type) &&
      pixel_bytes_ > 0 && block_bytes > 0 && block_bytes <= cache->data_bytes() / 8 &&
      block_bytes <= (uint64_t{16} << 20))
    shared_ = cache;
  scope.rethrow_failure();
}

namespace {
int progress_cancel(double, const char*, void* token) {
  return static_cast<const CancelToken*>(token)->requested() ? FALSE : TRUE;
}
}  // namespace

void Band::throw_read_failure(const std::string& why) const {
  throw Error(ErrorKind::data_corrupted, "cannot read \"" + raster_->name() + "\"", why,
              "The file may be truncated or damaged, or its server failed.");
}

void Band::read(const Window& w, double* values, uint8_t* valid, const CancelToken& cancel) const {
  if (shared_ != nullptr)
    read_shared(*shared_, w, values, cancel);
  else
    read_gdal(w, values, cancel);
  const size_t n = static_cast<size_t>(w.cols) * static_cast<size_t>(w.rows);
  if (per_dataset_mask_) {
    GDALRasterIOExtraArg extra;
    INIT_RASTERIO_EXTRA_ARG(extra);
    extra.pfnProgress = progress_cancel;
    extra.pProgressData = const_cast<CancelToken*>(&cancel);
    GdalErrors errors;
    const NoSidecarFiles sidecars;
    const RemoteReadScope scope(raster_->remote_policy(), cancel);
    mask_.resize(n);
    const int cols = static_cast<int>(w.cols), rows = static_cast<int>(w.rows);
    if (GDALRasterIOEx(GDALGetMaskBand(static_cast<GDALRasterBandH>(band_)), GF_Read,
                       static_cast<int>(w.col0), static_cast<int>(w.row0), cols, rows, mask_.data(),
                       cols, rows, GDT_Byte, 0, 0, &extra) != CE_None)
      throw Error(ErrorKind::data_corrupted, "cannot read the mask of \"" + raster_->name() + "\"",
                  errors.last());
    scope.rethrow_failure();
  }
  for (size_t i = 0; i < n; i++) {
    const double raw = values[i];
    const double v = raw * scale_ + offset_;
    // non-finite values (+-Infinity cells, a NaN scale or offset) are invalid, like nodata
    valid[i] = std::isfinite(v) && !(has_nodata_ && raw == nodata_) &&
               !(per_dataset_mask_ && mask_[i] == 0);
    values[i] = v;
  }
}

void Band::read_gdal(const Window& w, double* values, const CancelToken& cancel) const {
  GDALRasterIOExtraArg extra;
  INIT_RASTERIO_EXTRA_ARG(extra);
  extra.pfnProgress = progress_cancel;
  extra.pProgressData = const_cast<CancelToken*>(&cancel);
  auto* band = static_cast<GDALRasterBandH>(band_);
  const int cols = static_cast<int>(w.cols), rows = static_cast<int>(w.rows);
  GdalErrors errors;
  const NoSidecarFiles sidecars;
  const RemoteReadScope scope(raster_->remote_policy(), cancel);
  if (GDALRasterIOEx(band, GF_Read, static_cast<int>(w.col0), static_cast<int>(w.row0), cols, rows,
                     values, cols, rows, GDT_Float64, 0, 0, &extra) != CE_None) {
    scope.rethrow_failure();
    cancel.check();
    throw_read_failure(errors.last());
  }
  scope.rethrow_failure();  // a failed range request is never read as data
}

void Band::release_blocks() const {
  GdalErrors errors;  // nothing is written: a read-only band only frees its blocks
  GDALFlushRasterCache(static_cast<GDALRasterBandH>(band_));
}

}  // namespace geoetl
