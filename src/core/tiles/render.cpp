#include "tiles/render.h"

#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_utils.h>

#include <ogr_srs_api.h>

#include <algorithm>
#include <cmath>
#include <limits>

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
  if (rgba.size() != static_cast<size_t>(kTileSize) * kTileSize * 4)
    throw Error(ErrorKind::invalid_argument, "a tile has 256 x 256 RGBA pixels");
  GdalErrors errors;
  GDALDriverH mem = GDALGetDriverByName("MEM");
  GDALDriverH png = GDALGetDriverByName("PNG");
  if (mem == nullptr || png == nullptr)
    throw Error(ErrorKind::internal, "GDAL has no MEM or PNG driver");
  GdalDataset image(GDALCreate(mem, "", kTileSize, kTileSize, 4, GDT_Byte, nullptr));
  if (!image) throw Error(ErrorKind::internal, "cannot create a tile in memory", errors.last());
  // band b's bytes are every fourth byte from b - 1 (pixel spacing 4, line spacing 4 x 256)
  if (GDALDatasetRasterIO(image.get(), GF_Write, 0, 0, kTileSize, kTileSize,
                          const_cast<uint8_t*>(rgba.data()), kTileSize, kTileSize, GDT_Byte, 4,
                          nullptr, 4, 4 * kTileSize, 1) != CE_None)
    throw Error(ErrorKind::internal, "cannot fill a tile in memory", errors.last());
  for (int band = 1; band <= 4; band++)
    GDALSetRasterColorInterpretation(GDALGetRasterBand(image.get(), band),
                                     static_cast<GDALColorInterp>(GCI_RedBand + band - 1));
  const std::string name = CPLSPrintf("/vsimem/geoetl_tile_%p.png", image.get());
  GdalDataset written(
      GDALCreateCopy(png, name.c_str(), image.get(), FALSE, nullptr, nullptr, nullptr));
  written.reset();
  vsi_l_offset size = 0;
  GByte* bytes = VSIGetMemFileBuffer(name.c_str(), &size, FALSE);
  std::string out = bytes != nullptr ? std::string(reinterpret_cast<char*>(bytes), size) : "";
  VSIUnlink(name.c_str());
  if (out.empty()) throw Error(ErrorKind::internal, "cannot encode a tile as PNG", errors.last());
  return out;
}

}  // namespace geoetl
