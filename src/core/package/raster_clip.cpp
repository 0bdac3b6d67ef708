#include "package/raster_clip.h"

#include <cpl_string.h>
#include <gdal.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "base/error.h"
#include "gdal/dataset.h"
#include "zonal/zonal.h"

namespace geoetl {

namespace {

// The most bytes a clip may hold in memory (all its bands) before it is written.
constexpr int64_t max_clip_bytes = int64_t{4} << 30;

int stop_when_cancelled(double, const char*, void* cancel) {
  return static_cast<const CancelToken*>(cancel)->requested() ? FALSE : TRUE;
}

[[noreturn]] void gdal_failed(const std::string& what) {
  const char* msg = CPLGetLastErrorMsg();
  throw Error(ErrorKind::io_error, what, msg != nullptr ? msg : "");
}

}  // namespace

RasterClip clip_raster(const Raster& raster, const MultiPolygon& area,
                       const RasterClipOptions& options, const std::string& out_path,
                       const CancelToken& cancel) {
  const Grid& grid = raster.grid();
  std::vector<int> bands = options.bands;
  if (bands.empty())
    for (int b = 1; b <= raster.band_count(); b++) bands.push_back(b);
  for (int b : bands)
    if (b < 1 || b > raster.band_count())
      throw Error(ErrorKind::invalid_argument,
                  "band " + std::to_string(b) + " does not exist in " + raster.name(),
                  "The raster has " + std::to_string(raster.band_count()) + " band(s).");

  // the zonal statistics' rule, so that a clip holds exactly the cells zonal_stats counts
  const Coverage mode = options.all_touched ? Coverage::touched : Coverage::center;
  const CellCoverage coverage = cell_coverage(area, grid, mode);
  const Window w = intersect(coverage.bounds(), grid.window());
  if (w.empty())
    throw Error(ErrorKind::invalid_argument, "the area lies outside " + raster.name(),
                "No cell of the raster is within the area's bounding box.",
                "Check the area and the source's extent.");

  // Which cells of the window are in: 1 in `inside`.
  std::vector<uint8_t> inside(static_cast<size_t>(w.rows * w.cols));
  std::vector<double> weights(static_cast<size_t>(w.cols));
  RasterClip result{w, 0};
  for (int64_t r = 0; r < w.rows; r++) {
    cancel.check();
    coverage.row_weights(mode, w.row0 + r, w.col0, w.cols, weights.data());
    for (int64_t c = 0; c < w.cols; c++) {
      const bool in = weights[static_cast<size_t>(c)] > 0;
      inside[static_cast<size_t>(r * w.cols + c)] = in;
      result.cells_in += in;
    }
  }
  if (result.cells_in == 0)
    throw Error(ErrorKind::invalid_argument, "the area takes no cell of " + raster.name(),
                "No cell centre lies inside the area.",
                "The area is smaller than a cell: use the option all_touched.");

  auto* src = static_cast<GDALDatasetH>(raster.gdal_handle());
  const GDALDataType type = GDALGetRasterDataType(GDALGetRasterBand(src, bands[0]));
  const int type_bytes = GDALGetDataTypeSizeBytes(type);
  if (w.rows * w.cols * type_bytes * static_cast<int64_t>(bands.size()) > max_clip_bytes)
    throw Error(ErrorKind::limit_exceeded, "the clip of " + raster.name() + " is too large",
                std::to_string(w.cols) + " x " + std::to_string(w.rows) + " cells, " +
                    std::to_string(bands.size()) + " band(s).",
                "Clip to a smaller area or fewer bands.");

  GdalDataset mem(GDALCreate(GDALGetDriverByName("MEM"), "", static_cast<int>(w.cols),
                             static_cast<int>(w.rows), static_cast<int>(bands.size()), type,
                             nullptr));
  if (!mem) gdal_failed("cannot hold the clip of " + raster.name() + " in memory");
  double gt[6] = {grid.x0 + static_cast<double>(w.col0) * grid.dx, grid.dx, 0,
                  grid.y0 + static_cast<double>(w.row0) * grid.dy, 0,       grid.dy};
  GDALSetGeoTransform(mem.get(), gt);
  if (!raster.crs_wkt().empty()) GDALSetProjection(mem.get(), raster.crs_wkt().c_str());

  std::vector<unsigned char> buf(static_cast<size_t>(w.rows * w.cols * type_bytes));
  bool masked = false;  // some band has no nodata value: a mask says which cells are out
  for (size_t i = 0; i < bands.size(); i++) {
    cancel.check();
    GDALRasterBandH in = GDALGetRasterBand(src, bands[i]);
    GDALRasterBandH out = GDALGetRasterBand(mem.get(), static_cast<int>(i) + 1);
    if (GDALGetRasterDataType(in) != type)
      throw Error(ErrorKind::not_supported,
                  "the bands of " + raster.name() + " have different data types", "",
                  "Pick bands of one type with the option bands.");
    if (GDALRasterIO(in, GF_Read, static_cast<int>(w.col0), static_cast<int>(w.row0),
                     static_cast<int>(w.cols), static_cast<int>(w.rows), buf.data(),
                     static_cast<int>(w.cols), static_cast<int>(w.rows), type, 0, 0) != CE_None)
      throw Error(ErrorKind::data_corrupted, "cannot read " + raster.name(), CPLGetLastErrorMsg());
    int has_nodata = FALSE;
    const double nodata = GDALGetRasterNoDataValue(in, &has_nodata);
    if (has_nodata) {
      std::vector<unsigned char> fill(static_cast<size_t>(type_bytes));
      GDALCopyWords(&nodata, GDT_Float64, 0, fill.data(), type, 0, 1);
      for (size_t k = 0; k < inside.size(); k++)
        if (!inside[k]) std::copy_n(fill.data(), type_bytes, &buf[k * type_bytes]);
      GDALSetRasterNoDataValue(out, nodata);
    } else {
      masked = true;
    }
    int ok = FALSE;
    const double scale = GDALGetRasterScale(in, &ok);
    if (ok) GDALSetRasterScale(out, scale);
    const double offset = GDALGetRasterOffset(in, &ok);
    if (ok) GDALSetRasterOffset(out, offset);
    GDALSetDescription(out, GDALGetDescription(in));
    GDALSetRasterColorInterpretation(out, GDALGetRasterColorInterpretation(in));
    if (GDALRasterIO(out, GF_Write, 0, 0, static_cast<int>(w.cols), static_cast<int>(w.rows),
                     buf.data(), static_cast<int>(w.cols), static_cast<int>(w.rows), type, 0,
                     0) != CE_None)
      gdal_failed("cannot hold the clip of " + raster.name() + " in memory");
  }
  if (masked) {
    if (GDALCreateDatasetMaskBand(mem.get(), GMF_PER_DATASET) != CE_None)
      gdal_failed("cannot mask the clip of " + raster.name());
    for (uint8_t& v : inside) v = v ? 255 : 0;
    GDALRasterBandH mask = GDALGetMaskBand(GDALGetRasterBand(mem.get(), 1));
    if (GDALRasterIO(mask, GF_Write, 0, 0, static_cast<int>(w.cols), static_cast<int>(w.rows),
                     inside.data(), static_cast<int>(w.cols), static_cast<int>(w.rows), GDT_Byte, 0,
                     0) != CE_None)
      gdal_failed("cannot mask the clip of " + raster.name());
  }

  CPLStringList co;
  co.SetNameValue("COMPRESS", options.compression.c_str());
  co.SetNameValue("OVERVIEWS", "AUTO");
  GDALDriverH cog = GDALGetDriverByName("COG");
  if (cog == nullptr) throw Error(ErrorKind::internal, "GDAL has no COG driver");
  CPLErrorReset();
  GdalDataset written(GDALCreateCopy(cog, out_path.c_str(), mem.get(), FALSE, co.List(),
                                     stop_when_cancelled, const_cast<CancelToken*>(&cancel)));
  const bool complete = written != nullptr && CPLGetLastErrorType() < CE_Failure;
  written.reset();  // closing a COG copy writes nothing more: it was written by CreateCopy
  if (!complete || CPLGetLastErrorType() >= CE_Failure) {
    VSIUnlink(out_path.c_str());
    cancel.check();
    gdal_failed("cannot write the clip of " + raster.name() + " to " + out_path);
  }
  return result;
}

}  // namespace geoetl
