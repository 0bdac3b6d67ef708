#include "blackmarble/composite_file.h"

#include <cpl_string.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <array>
#include <vector>

#include "base/error.h"
#include "blackmarble/granule_scan.h"
#include "gdal/dataset.h"
#include "gdal/gdal_env.h"
#include "transfer/atomic_file.h"

namespace geoetl {
namespace {

int stop_when_cancelled(double, const char*, void* token) {
  return static_cast<const CancelToken*>(token)->requested() ? FALSE : TRUE;
}

}  // namespace

TileComposite month_tile_composite(const std::vector<std::string>& paths, const NightRules& rules,
                                   const RasterOpenOptions& options, const CancelToken& cancel,
                                   CompositeReport* report) {
  if (paths.empty()) throw Error(ErrorKind::invalid_argument, "a composite needs granules");
  const Granule first = parse_granule_name(paths.front());
  for (const std::string& p : paths) {
    const Granule g = parse_granule_name(p);
    if (g.h != first.h || g.v != first.v || g.product != first.product)
      throw Error(ErrorKind::invalid_argument, "the granules of a composite are of one tile",
                  "\"" + paths.front() + "\" and \"" + p + "\" are not");
  }
  const std::string layer = rules.layer.empty() ? default_layer(first.product) : rules.layer;
  const int n = granule_tile_size(paths, layer, options);
  if (n == 0) {
    build_composite(paths, first, 1, {}, rules, options, cancel, report);  // reports every file
    throw Error(ErrorKind::data_corrupted,
                "none of the " + std::to_string(paths.size()) + " granules could be read",
                report->files_invalid.empty() ? "" : report->files_invalid.front());
  }
  return build_composite(paths, first, n, {0, 0, n, n}, rules, options, cancel, report);
}

void write_composite_cog(const TileComposite& c, const std::string& path,
                         const CancelToken& cancel) {
  const Window& w = c.window;
  if (w.rows <= 0 || w.cols <= 0 || c.value.size() != static_cast<size_t>(w.rows * w.cols))
    throw Error(ErrorKind::invalid_argument, "the composite is empty");
  GdalErrors errors;
  GDALDriverH mem = GDALGetDriverByName("MEM");
  GDALDriverH cog = GDALGetDriverByName("COG");
  if (mem == nullptr || cog == nullptr)
    throw Error(ErrorKind::internal, "GDAL has no MEM or COG driver");
  GdalDataset image(GDALCreate(mem, "", static_cast<int>(w.cols), static_cast<int>(w.rows), 1,
                               GDT_Float32, nullptr));
  if (!image)
    throw Error(ErrorKind::internal, "cannot hold the composite in memory", errors.last());
  // the window's corner in the tile's grid
  const std::array<double, 6> tile = tile_geotransform(c.h, c.v, c.tile_size, c.tile_size);
  double gt[6] = {tile[0] + static_cast<double>(w.col0) * tile[1], tile[1], 0,
                  tile[3] + static_cast<double>(w.row0) * tile[5], 0,       tile[5]};
  GDALSetGeoTransform(image.get(), gt);
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(srs, 4326);
  char* wkt = nullptr;
  OSRExportToWkt(srs, &wkt);
  GDALSetProjection(image.get(), wkt);
  CPLFree(wkt);
  OSRDestroySpatialReference(srs);
  std::vector<float> pixels(c.value.size());
  for (size_t i = 0; i < pixels.size(); i++)
    pixels[i] = c.valid[i] ? c.value[i] : std::numeric_limits<float>::quiet_NaN();
  GDALRasterBandH band = GDALGetRasterBand(image.get(), 1);
  GDALSetRasterNoDataValue(band, std::numeric_limits<double>::quiet_NaN());
  if (GDALRasterIO(band, GF_Write, 0, 0, static_cast<int>(w.cols), static_cast<int>(w.rows),
                   pixels.data(), static_cast<int>(w.cols), static_cast<int>(w.rows), GDT_Float32,
                   0, 0) != CE_None)
    throw Error(ErrorKind::internal, "cannot hold the composite in memory", errors.last());

  CPLStringList options;
  options.SetNameValue("COMPRESS", "DEFLATE");
  options.SetNameValue("PREDICTOR", "YES");
  options.SetNameValue("OVERVIEWS", "AUTO");
  options.SetNameValue("OVERVIEW_RESAMPLING", "AVERAGE");
  options.SetNameValue("BLOCKSIZE", "256");
  const std::string part = path + ".part-" + std::to_string(getpid());
  CPLErrorReset();
  GdalDataset written(GDALCreateCopy(cog, part.c_str(), image.get(), FALSE, options.List(),
                                     stop_when_cancelled, const_cast<CancelToken*>(&cancel)));
  const bool complete = written != nullptr && CPLGetLastErrorType() < CE_Failure;
  written.reset();
  if (!complete || CPLGetLastErrorType() >= CE_Failure) {
    VSIUnlink(part.c_str());
    cancel.check();
    throw Error(ErrorKind::io_error, "cannot write the composite to \"" + path + "\"",
                errors.last());
  }
  if (const int err = move_file(part, path); err != 0) {
    VSIUnlink(part.c_str());
    throw Error(ErrorKind::io_error, "cannot write the composite to \"" + path + "\"",
                std::strerror(err));
  }
}

}  // namespace geoetl
