#include "tiles/render.h"

#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <gdalwarper.h>

#include <ogr_srs_api.h>

#include <pthread.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <exception>
#include <thread>
#include <cmath>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <optional>

#include <libdeflate.h>
#include <zlib.h>

#include "base/error.h"
#include "gdal/dataset.h"
#include "gdal/gdal_env.h"
#include "tiles/ramp.h"

namespace geoetl {
namespace {

int stop_when_cancelled(double, const char*, void* token) {
  return static_cast<const CancelToken*>(token)->requested() ? FALSE : TRUE;
}

const char* const kSaveAgain =
    "Write it again with geoetl.save_composite (render_tiles does for the tiles it renders).";

// libdeflate's level for the PNGs: measured on 339 tiles of noisy radiance
// (bench/tiles_vs_gdal2tiles.sh), GDAL's PNG driver (libpng, zlib level 6) took 6.1 s, zlib at
// level 1 0.55 s, libdeflate at level 1 0.28 s for 12% fewer bytes than zlib's.
constexpr int kPngDeflateLevel = 1;

// The file's transformer with the pixels of one of its overviews: as GDAL's warped VRTs do
// for overviews (GDALWarpCoordRescaler), the file's pixel coordinates scaled by the overview's
// size over the file's.
struct Rescaled {
  void* approx = nullptr;  // the file's
  double x = 1, y = 1;     // overview pixels per file pixel
};

int rescaled_transform(void* arg, int dst_to_src, int n, double* x, double* y, double* z, int* ok) {
  const auto* r = static_cast<const Rescaled*>(arg);
  if (!dst_to_src)
    for (int i = 0; i < n; i++) x[i] /= r->x, y[i] /= r->y;
  const int done = GDALApproxTransform(r->approx, dst_to_src, n, x, y, z, ok);
  if (dst_to_src)
    for (int i = 0; i < n; i++) x[i] *= r->x, y[i] *= r->y;
  return done;
}

// One resolution of a composite: the file itself or one of its overviews.
struct Level {
  GdalDataset ds;  // the overview's own dataset (GTiff's OVERVIEW_LEVEL); null for the file
  GDALDatasetH handle = nullptr;
  Rescaled rescaled;  // for an overview
};

// A composite's transformer to EPSG:3857, made once (PROJ's set-up takes milliseconds): each tile
// only sets its destination geotransform.
struct Transformer {
  void* exact = nullptr;   // GDALCreateGenImgProjTransformer2, destination EPSG:3857
  void* approx = nullptr;  // gdalwarp's approximation of it (an eighth of a pixel)
  Transformer() = default;
  Transformer(const Transformer&) = delete;
  Transformer& operator=(const Transformer&) = delete;
  ~Transformer() {
    if (approx != nullptr) GDALDestroyApproxTransformer(approx);
    if (exact != nullptr) GDALDestroyGenImgProjTransformer(exact);
  }
};

struct Source {
  std::string path;
  GdalDataset ds;
  Bounds bounds;                                 // degrees, one pixel wider on each side
  double pixel = 0;                              // pixel width, degrees
  std::vector<double> ratios;                    // each overview's: composite pixels per pixel
  std::map<int, std::unique_ptr<Level>> levels;  // -1: the file, k: overview k (made on use)
  std::unique_ptr<Transformer> transformer;      // made on first use
  bool has_nodata = false;
  double nodata = 0;
};

}  // namespace

struct TileRenderer::Sources {
  std::vector<Source> sources;
  GdalDataset tile;  // 256 x 256 Float32 in memory: every tile is warped into it
  std::unique_ptr<TileRenderer> helper;  // pngs()'s second thread's
};

TileRenderer::~TileRenderer() = default;

TileRenderer::TileRenderer(const std::vector<std::string>& composites)
    : composites_(composites), sources_(std::make_unique<Sources>()) {
  const NoSidecarFiles no_sidecars;  // here and around every later read (radiance)
  if (composites.empty())
    throw Error(ErrorKind::invalid_argument, "a tile needs at least one composite");
  GdalErrors errors;
  all_ = {180, 90, -180, -90};
  for (const std::string& path : composites) {
    const char* const drivers[] = {"GTiff", "COG", nullptr};
    Source& source = sources_->sources.emplace_back();
    source.path = path;
    source.ds.reset(
        GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, drivers, nullptr, nullptr));
    if (!source.ds)
      throw Error(
          VSIStatL(path.c_str(), nullptr) == 0 ? ErrorKind::data_corrupted : ErrorKind::not_found,
          "cannot open the composite \"" + path + "\"", errors.last(), kSaveAgain);
    GDALDatasetH ds = source.ds.get();
    double gt[6];
    OGRSpatialReferenceH srs = GDALGetSpatialRef(ds);
    if (GDALGetGeoTransform(ds, gt) != CE_None || srs == nullptr || !OSRIsGeographic(srs) ||
        gt[2] != 0 || gt[4] != 0 || gt[1] <= 0 || gt[5] >= 0 || GDALGetRasterCount(ds) < 1)
      throw Error(ErrorKind::data_corrupted,
                  "the composite \"" + path + "\" is damaged or not a composite",
                  "It has no north-up georeferencing in degrees. " + errors.last(), kSaveAgain);
    const double w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
    const Bounds b{gt[0] - gt[1], gt[3] + h * gt[5] + gt[5], gt[0] + (w + 1) * gt[1],
                   gt[3] - gt[5]};
    source.bounds = b;
    source.pixel = gt[1];
    GDALRasterBandH band = GDALGetRasterBand(ds, 1);
    for (int k = 0; k < GDALGetOverviewCount(band); k++)
      source.ratios.push_back(w / GDALGetRasterBandXSize(GDALGetOverview(band, k)));
    int has_nodata = FALSE;
    source.nodata = GDALGetRasterNoDataValue(band, &has_nodata);
    source.has_nodata = has_nodata != FALSE;
    all_ = {std::min(all_.min_x, b.min_x + gt[1]), std::min(all_.min_y, b.min_y - gt[5]),
            std::max(all_.max_x, b.max_x - gt[1]), std::max(all_.max_y, b.max_y + gt[5])};
  }
  GDALDriverH mem = GDALGetDriverByName("MEM");
  if (mem != nullptr)
    sources_->tile.reset(GDALCreate(mem, "", kTileSize, kTileSize, 1, GDT_Float32, nullptr));
  if (!sources_->tile)
    throw Error(ErrorKind::internal, "cannot create a tile in memory", errors.last());
}

namespace {

// The overview gdalwarp's -ovr AUTO picks for destination pixels `target` times as wide as the
// composite's: the finest whose next coarser one is coarser than the target (-1: the file).
int pick_level(const std::vector<double>& ratios, double target) {
  if (!(target > 1) || ratios.empty()) return -1;
  int k = -1;
  for (; k < static_cast<int>(ratios.size()) - 1; k++) {
    const double ratio = k < 0 ? 1.0 : ratios[k], next = ratios[k + 1];
    if (ratio < target && next > target) break;
    if (std::fabs(ratio - target) < 1e-1) break;
  }
  return k;
}

Level& level_of(Source& source, int k) {
  std::unique_ptr<Level>& level = source.levels[k];
  if (level) return *level;
  GdalErrors errors;
  auto made = std::make_unique<Level>();
  made->handle = source.ds.get();
  if (k >= 0) {
    const char* const drivers[] = {"GTiff", "COG", nullptr};
    const std::string option = "OVERVIEW_LEVEL=" + std::to_string(k);
    const char* const options[] = {option.c_str(), nullptr};
    made->ds.reset(GDALOpenEx(source.path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, drivers,
                              options, nullptr));
    if (!made->ds)
      throw Error(ErrorKind::data_corrupted,
                  "cannot open overview " + std::to_string(k) + " of \"" + source.path + "\"",
                  errors.last());
    made->handle = made->ds.get();
  }
  if (!source.transformer) {
    auto t = std::make_unique<Transformer>();
    const char* const options[] = {"DST_SRS=EPSG:3857", nullptr};
    t->exact =
        GDALCreateGenImgProjTransformer2(source.ds.get(), nullptr, const_cast<char**>(options));
    if (t->exact == nullptr)
      throw Error(ErrorKind::data_corrupted,
                  "cannot transform \"" + source.path + "\" to EPSG:3857", errors.last());
    t->approx = GDALCreateApproxTransformer(GDALGenImgProjTransform, t->exact, 0.125);
    if (t->approx == nullptr)
      throw Error(ErrorKind::internal, "cannot approximate a transformer", errors.last());
    source.transformer = std::move(t);
  }
  made->rescaled.approx = source.transformer->approx;
  made->rescaled.x =
      static_cast<double>(GDALGetRasterXSize(made->handle)) / GDALGetRasterXSize(source.ds.get());
  made->rescaled.y =
      static_cast<double>(GDALGetRasterYSize(made->handle)) / GDALGetRasterYSize(source.ds.get());
  level = std::move(made);
  return *level;
}

// One composite warped onto the tile held by `tile`, over what is there (source nodata leaves
// the tile's pixels alone), as gdalwarp warps each of its inputs.
void warp_onto(Level& level, const Source& source, GDALDatasetH tile, const double gt[6],
               GDALResampleAlg resampling, const CancelToken& cancel) {
  GDALSetGenImgProjTransformerDstGeoTransform(source.transformer->exact, gt);
  GDALWarpOptions* wo = GDALCreateWarpOptions();
  wo->hSrcDS = level.handle;
  wo->hDstDS = tile;
  wo->nBandCount = 1;
  wo->panSrcBands = static_cast<int*>(CPLMalloc(sizeof(int)));
  wo->panSrcBands[0] = 1;
  wo->panDstBands = static_cast<int*>(CPLMalloc(sizeof(int)));
  wo->panDstBands[0] = 1;
  wo->eResampleAlg = resampling;
  wo->eWorkingDataType = GDT_Float32;
  if (source.has_nodata) {
    wo->padfSrcNoDataReal = static_cast<double*>(CPLMalloc(sizeof(double)));
    wo->padfSrcNoDataReal[0] = source.nodata;
  }
  wo->padfDstNoDataReal = static_cast<double*>(CPLMalloc(sizeof(double)));
  wo->padfDstNoDataReal[0] = std::numeric_limits<double>::quiet_NaN();
  if (level.ds) {
    wo->pfnTransformer = rescaled_transform;
    wo->pTransformerArg = &level.rescaled;
  } else {
    wo->pfnTransformer = GDALApproxTransform;
    wo->pTransformerArg = source.transformer->approx;
  }
  wo->pfnProgress = stop_when_cancelled;
  wo->pProgressArg = const_cast<CancelToken*>(&cancel);
  GdalErrors errors;
  GDALWarpOperationH op = GDALCreateWarpOperation(wo);
  const CPLErr err =
      op != nullptr ? GDALChunkAndWarpImage(op, 0, 0, kTileSize, kTileSize) : CE_Failure;
  if (op != nullptr) GDALDestroyWarpOperation(op);
  GDALDestroyWarpOptions(wo);
  cancel.check();
  if (err != CE_None)
    throw Error(ErrorKind::data_corrupted, "cannot warp \"" + source.path + "\" onto a tile",
                errors.last());
}

}  // namespace

std::vector<float> TileRenderer::radiance(const TileXyz& tile, const CancelToken& cancel) const {
  const Bounds b = tile_bounds_3857(tile);
  const Bounds ll = tile_bounds_4326(tile);
  std::vector<Source*> reaching;
  for (Source& s : sources_->sources)
    if (s.bounds.min_x < ll.max_x && ll.min_x < s.bounds.max_x && s.bounds.min_y < ll.max_y &&
        ll.min_y < s.bounds.max_y)
      reaching.push_back(&s);
  std::vector<float> pixels(static_cast<size_t>(kTileSize) * kTileSize,
                            std::numeric_limits<float>::quiet_NaN());
  cancel.check();
  if (reaching.empty()) return pixels;  // nothing reaches into it
  const NoSidecarFiles no_sidecars;
  GdalErrors errors;
  GDALDatasetH out = sources_->tile.get();
  GDALRasterBandH band = GDALGetRasterBand(out, 1);
  const double gt[6] = {b.min_x, (b.max_x - b.min_x) / kTileSize, 0, b.max_y,
                        0,       -(b.max_y - b.min_y) / kTileSize};
  GDALSetGeoTransform(out, const_cast<double*>(gt));
  if (GDALFillRaster(band, std::numeric_limits<double>::quiet_NaN(), 0) != CE_None)
    throw Error(ErrorKind::internal, "cannot clear a tile in memory", errors.last());
  const GDALResampleAlg resampling = tile.z <= kNativeZoom ? GRA_Average : GRA_NearestNeighbour;
  const double tile_pixel = 360.0 / std::ldexp(1.0, tile.z) / kTileSize;  // degrees of longitude
  for (Source* s : reaching)
    warp_onto(level_of(*s, pick_level(s->ratios, tile_pixel / s->pixel)), *s, out, gt, resampling,
              cancel);
  if (GDALRasterIO(band, GF_Read, 0, 0, kTileSize, kTileSize, pixels.data(), kTileSize, kTileSize,
                   GDT_Float32, 0, 0) != CE_None)
    throw Error(ErrorKind::io_error, "cannot read the warped tile", errors.last());
  return pixels;
}

std::string TileRenderer::png(const TileXyz& tile, const CancelToken& cancel) const {
  const std::vector<float> radiance = this->radiance(tile, cancel);
  std::vector<uint8_t> rgba(radiance.size() * 4);
  night_light_colours(radiance.data(), radiance.size(), rgba.data());
  bool any = false;
  for (size_t i = 3; i < rgba.size() && !any; i += 4) any = rgba[i] != 0;
  return any ? encode_png(rgba) : std::string();
}

void TileRenderer::orphan() {
  for (Source& s : sources_->sources) {
    for (auto& [k, level] : s.levels) static_cast<void>(level->ds.release());
    static_cast<void>(s.ds.release());
  }
  static_cast<void>(sources_->tile.release());
  if (sources_->helper) sources_->helper->orphan();
}

std::vector<std::string> TileRenderer::pngs(const std::vector<TileXyz>& tiles,
                                            const CancelToken& cancel) const {
  std::vector<std::string> out(tiles.size());
  if (tiles.size() < 2 || kRenderThreads < 2) {
    for (size_t i = 0; i < tiles.size(); i++) out[i] = png(tiles[i], cancel);
    return out;
  }
  if (!sources_->helper) sources_->helper = std::make_unique<TileRenderer>(composites_);
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  const auto work = [&](const TileRenderer& renderer, const CancelToken& token) {
    for (size_t i = next++; i < tiles.size() && !stop; i = next++)
      out[i] = renderer.png(tiles[i], token);
  };
  // the helper never calls `cancel` (it may not be thread-safe): it stops when this thread asks
  const CancelToken helper_cancel([&stop] { return stop.load(); });
  const CancelToken main_cancel([&] {
    if (!stop && cancel.requested()) stop = true;
    return stop.load();
  });
  std::exception_ptr failed;
  const TileRenderer& helper = *sources_->helper;
  const auto helper_work = [&] {
    // GDAL's messages on this thread stay on it: a global handler (PostGIS raster's, say) could
    // call PostgreSQL, which no thread but the backend's own may
    CPLPushErrorHandler(CPLQuietErrorHandler);
    try {
      const NoSidecarFiles no_sidecars;  // GDAL's per-thread settings: this thread's own
      work(helper, helper_cancel);
    } catch (...) {
      failed = std::current_exception();
      stop = true;
    }
    CPLPopErrorHandler();
  };
  // PostgreSQL's signal handlers must run on its own thread: a new thread starts with all blocked
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  std::thread thread;
  try {
    thread = std::thread(helper_work);
  } catch (...) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    throw;
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  try {
    work(*this, main_cancel);
  } catch (...) {
    stop = true;
    thread.join();
    if (failed && !cancel.requested()) std::rethrow_exception(failed);
    throw;
  }
  thread.join();
  cancel.check();
  if (failed) std::rethrow_exception(failed);
  return out;
}

namespace {

// What identifies a local file's content: changed by every rewrite (geoetl moves new files into
// place, so the inode changes too).
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns;
  }
};

// The files' stamps, or nothing when one is not a local file.
std::optional<std::vector<FileStamp>> stamps_of(const std::vector<std::string>& paths) {
  std::vector<FileStamp> stamps;
  for (const std::string& p : paths) {
    struct stat st;
    if (p.rfind("/vsi", 0) == 0 || ::stat(p.c_str(), &st) != 0) return std::nullopt;
    stamps.push_back({st.st_dev, st.st_ino, st.st_size,
                      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec});
  }
  return stamps;
}

struct CachedRenderer {
  std::vector<std::string> composites;
  std::vector<FileStamp> stamps;
  std::unique_ptr<TileRenderer> renderer;
};

}  // namespace

const TileRenderer& cached_tile_renderer(const std::vector<std::string>& composites) {
  static std::list<CachedRenderer> cache;  // most recently used first
  static std::unique_ptr<TileRenderer> uncached;
  static bool hooked = false;
  if (!hooked) {
    hooked = true;
    on_gdal_manager_lost([] {
      for (CachedRenderer& c : cache) c.renderer->orphan();
      if (uncached) uncached->orphan();
      cache.clear();
      uncached.reset();
    });
  }
  const std::optional<std::vector<FileStamp>> stamps = stamps_of(composites);
  for (auto it = cache.begin(); it != cache.end(); ++it)
    if (it->composites == composites) {
      if (stamps && it->stamps == *stamps) {
        cache.splice(cache.begin(), cache, it);
        return *cache.front().renderer;
      }
      cache.erase(it);
      break;
    }
  auto renderer = std::make_unique<TileRenderer>(composites);
  if (!stamps) {
    uncached = std::move(renderer);
    return *uncached;
  }
  cache.push_front({composites, *stamps, std::move(renderer)});
  if (cache.size() > kCachedRenderers) cache.pop_back();
  return *cache.front().renderer;
}

std::vector<float> tile_radiance(const std::vector<std::string>& composites, const TileXyz& tile,
                                 const CancelToken& cancel) {
  check_tile(tile);
  return TileRenderer(composites).radiance(tile, cancel);
}

std::string render_night_light_tile(const std::vector<std::string>& composites, const TileXyz& tile,
                                    const CancelToken& cancel) {
  check_tile(tile);
  return TileRenderer(composites).png(tile, cancel);
}

std::string encode_png(const std::vector<uint8_t>& rgba) {
  constexpr size_t kRow = static_cast<size_t>(kTileSize) * 4;
  if (rgba.size() != kRow * kTileSize)
    throw Error(ErrorKind::invalid_argument, "a tile has 256 x 256 RGBA pixels");
  // the scanlines, each behind its filter type byte: 0 (none) compresses the ramp's colours best
  std::vector<Bytef> raw((kRow + 1) * kTileSize);
  for (size_t y = 0; y < static_cast<size_t>(kTileSize); y++) {
    raw[y * (kRow + 1)] = 0;
    std::copy_n(rgba.data() + y * kRow, kRow, raw.data() + y * (kRow + 1) + 1);
  }
  // one compressor per thread (pngs() encodes on two)
  struct Free {
    void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
  };
  thread_local std::unique_ptr<libdeflate_compressor, Free> compressor(
      libdeflate_alloc_compressor(kPngDeflateLevel));
  if (!compressor) throw Error(ErrorKind::internal, "cannot allocate a compressor");
  std::vector<Bytef> packed(libdeflate_zlib_compress_bound(compressor.get(), raw.size()));
  const size_t packed_size = libdeflate_zlib_compress(compressor.get(), raw.data(), raw.size(),
                                                      packed.data(), packed.size());
  if (packed_size == 0) throw Error(ErrorKind::internal, "cannot compress a tile");
  std::string out("\x89PNG\r\n\x1a\n", 8);
  const auto chunk = [&out](const char* type, const Bytef* data, size_t size) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((size >> shift) & 0xff));
    const size_t start = out.size();
    out.append(type, 4);
    out.append(reinterpret_cast<const char*>(data), size);
    const uLong crc =
        crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(out.data() + start),
              static_cast<uInt>(out.size() - start));
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((crc >> shift) & 0xff));
  };
  // 256 x 256, 8 bits a sample, colour type 6 (RGBA), deflate, adaptive filtering, no interlace
  const Bytef header[13] = {0, 0, 1, 0, 0, 0, 1, 0, 8, 6, 0, 0, 0};
  chunk("IHDR", header, sizeof header);
  chunk("IDAT", packed.data(), packed_size);
  chunk("IEND", nullptr, 0);
  return out;
}

}  // namespace geoetl
