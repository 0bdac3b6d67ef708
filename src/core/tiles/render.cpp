#include "tiles/render.h"

#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_utils.h>

#include <ogr_srs_api.h>

#include <algorithm>
#include <cmath>
#include <limits>

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

// zlib's level for the PNGs: measured on 339 tiles of noisy radiance, 1 compresses in an eighth
// of the time of level 6 (GDAL's PNG driver's) for 15% more bytes (bench/tiles_vs_gdal2tiles.sh)
constexpr int kPngZlibLevel = 1;

std::string fmt(double v) {
  return CPLSPrintf("%.17g", v);
}

}  // namespace

struct TileRenderer::Sources {
  NoSidecarFiles no_sidecars;  // alive across the opens and every later read
  std::vector<GdalDataset> datasets;
  std::vector<Bounds> bounds;  // of each dataset, degrees, one pixel wider on each side
};

TileRenderer::~TileRenderer() = default;

TileRenderer::TileRenderer(const std::vector<std::string>& composites)
    : sources_(std::make_unique<Sources>()) {
  std::vector<GdalDataset>& sources = sources_->datasets;
  if (composites.empty())
    throw Error(ErrorKind::invalid_argument, "a tile needs at least one composite");
  GdalErrors errors;
  all_ = {180, 90, -180, -90};
  for (const std::string& path : composites) {
    const char* const drivers[] = {"GTiff", "COG", nullptr};
    sources.emplace_back(
        GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, drivers, nullptr, nullptr));
    if (!sources.back())
      throw Error(
          VSIStatL(path.c_str(), nullptr) == 0 ? ErrorKind::data_corrupted : ErrorKind::not_found,
          "cannot open the composite \"" + path + "\"", errors.last(), kSaveAgain);
    GDALDatasetH ds = sources.back().get();
    double gt[6];
    OGRSpatialReferenceH srs = GDALGetSpatialRef(ds);
    if (GDALGetGeoTransform(ds, gt) != CE_None || srs == nullptr || !OSRIsGeographic(srs) ||
        gt[2] != 0 || gt[4] != 0 || gt[1] <= 0 || gt[5] >= 0)
      throw Error(ErrorKind::data_corrupted,
                  "the composite \"" + path + "\" is damaged or not a composite",
                  "It has no north-up georeferencing in degrees. " + errors.last(), kSaveAgain);
    const double w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
    const Bounds b{gt[0] - gt[1], gt[3] + h * gt[5] + gt[5], gt[0] + (w + 1) * gt[1],
                   gt[3] - gt[5]};
    sources_->bounds.push_back(b);
    all_ = {std::min(all_.min_x, b.min_x + gt[1]), std::min(all_.min_y, b.min_y - gt[5]),
            std::max(all_.max_x, b.max_x - gt[1]), std::max(all_.max_y, b.max_y + gt[5])};
  }
}

std::vector<float> TileRenderer::radiance(const TileXyz& tile, const CancelToken& cancel) const {
  const Bounds b = tile_bounds_3857(tile);
  const Bounds ll = tile_bounds_4326(tile);
  std::vector<GDALDatasetH> handles;
  for (size_t i = 0; i < sources_->datasets.size(); i++) {
    const Bounds& s = sources_->bounds[i];
    if (s.min_x < ll.max_x && ll.min_x < s.max_x && s.min_y < ll.max_y && ll.min_y < s.max_y)
      handles.push_back(sources_->datasets[i].get());
  }
  std::vector<float> pixels(static_cast<size_t>(kTileSize) * kTileSize,
                            std::numeric_limits<float>::quiet_NaN());
  cancel.check();
  if (handles.empty()) return pixels;  // nothing reaches into it
  GdalErrors errors;
  CPLStringList argv;
  for (const char* a : {"-of", "MEM", "-t_srs", "EPSG:3857", "-ot", "Float32", "-wo",
                        "INIT_DEST=NO_DATA", "-dstnodata", "nan"})
    argv.AddString(a);
  argv.AddString("-te");
  for (double v : {b.min_x, b.min_y, b.max_x, b.max_y}) argv.AddString(fmt(v).c_str());
  argv.AddString("-ts");
  argv.AddString(std::to_string(kTileSize).c_str());
  argv.AddString(std::to_string(kTileSize).c_str());
  argv.AddString("-r");
  argv.AddString(tile.z <= kNativeZoom ? "average" : "near");
  GDALWarpAppOptions* options = GDALWarpAppOptionsNew(argv.List(), nullptr);
  if (options == nullptr) throw Error(ErrorKind::internal, "bad warp options", errors.last());
  GDALWarpAppOptionsSetProgress(options, stop_when_cancelled, const_cast<CancelToken*>(&cancel));
  int usage_error = FALSE;
  GdalDataset warped(GDALWarp("", nullptr, static_cast<int>(handles.size()), handles.data(),
                              options, &usage_error));
  GDALWarpAppOptionsFree(options);
  cancel.check();
  if (!warped)
    throw Error(ErrorKind::data_corrupted,
                "cannot warp the composites onto tile " + std::to_string(tile.z) + "/" +
                    std::to_string(tile.x) + "/" + std::to_string(tile.y),
                errors.last());
  if (GDALRasterIO(GDALGetRasterBand(warped.get(), 1), GF_Read, 0, 0, kTileSize, kTileSize,
                   pixels.data(), kTileSize, kTileSize, GDT_Float32, 0, 0) != CE_None)
    throw Error(ErrorKind::io_error, "cannot read the warped tile", errors.last());
  return pixels;
}

std::string TileRenderer::png(const TileXyz& tile, const CancelToken& cancel) const {
  const std::vector<float> radiance = this->radiance(tile, cancel);
  std::vector<uint8_t> rgba(radiance.size() * 4);
  bool any = false;
  for (size_t i = 0; i < radiance.size(); i++) {
    const Rgba c = night_light_colour(radiance[i]);
    rgba[4 * i] = c.r;
    rgba[4 * i + 1] = c.g;
    rgba[4 * i + 2] = c.b;
    rgba[4 * i + 3] = c.a;
    any = any || c.a != 0;
  }
  return any ? encode_png(rgba) : std::string();
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
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<Bytef> packed(packed_size);
  if (compress2(packed.data(), &packed_size, raw.data(), static_cast<uLong>(raw.size()),
                kPngZlibLevel) != Z_OK)
    throw Error(ErrorKind::internal, "cannot compress a tile");
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
