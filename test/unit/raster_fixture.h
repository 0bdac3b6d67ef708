// GeoTIFFs written by GDAL for the core's tests, in a temporary folder removed afterwards.
#pragma once

#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "gdal_env.h"

struct TiffSpec {
  int width = 3, height = 3;
  double gt[6] = {0, 1, 0, 3, 0, -1};  // cell (r, c) is x in [c, c+1], y in [2-r, 3-r]
  std::vector<double> values;          // row-major; empty: r * width + c + 1
  GDALDataType type = GDT_Float32;
  bool has_nodata = false;
  double nodata = -9999;
  std::string srs;  // "" for none, else e.g. "EPSG:4326"
  int block = 0;    // tile size; 0 for strips
  double scale = 1, offset = 0;
  std::vector<uint8_t> mask;  // per-dataset mask (0 = masked); empty for none
};

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/geoetl-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string write_tiff(const std::string& path, const TiffSpec& spec) {
  geoetl::ensure_gdal({});
  std::vector<std::string> opts = {"COMPRESS=DEFLATE"};
  if (spec.block > 0) {
    opts.push_back("TILED=YES");
    opts.push_back("BLOCKXSIZE=" + std::to_string(spec.block));
    opts.push_back("BLOCKYSIZE=" + std::to_string(spec.block));
  }
  std::vector<const char*> copts;
  for (auto& o : opts) copts.push_back(o.c_str());
  copts.push_back(nullptr);
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path.c_str(), spec.width, spec.height,
                               1, spec.type, const_cast<char**>(copts.data()));
  double gt[6];
  std::copy(spec.gt, spec.gt + 6, gt);
  GDALSetGeoTransform(ds, gt);
  if (!spec.srs.empty()) {
    OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
    OSRSetFromUserInput(srs, spec.srs.c_str());
    char* wkt = nullptr;
    OSRExportToWkt(srs, &wkt);
    GDALSetProjection(ds, wkt);
    CPLFree(wkt);
    OSRDestroySpatialReference(srs);
  }
  GDALRasterBandH band = GDALGetRasterBand(ds, 1);
  if (spec.has_nodata) GDALSetRasterNoDataValue(band, spec.nodata);
  if (spec.scale != 1) GDALSetRasterScale(band, spec.scale);
  if (spec.offset != 0) GDALSetRasterOffset(band, spec.offset);
  std::vector<double> v = spec.values;
  if (v.empty())
    for (int i = 0; i < spec.width * spec.height; i++) v.push_back(i + 1);
  if (GDALRasterIO(band, GF_Write, 0, 0, spec.width, spec.height, v.data(), spec.width, spec.height,
                   GDT_Float64, 0, 0) != CE_None)
    throw std::runtime_error("writing the test raster failed");
  if (!spec.mask.empty()) {
    GDALCreateMaskBand(band, GMF_PER_DATASET);
    std::vector<uint8_t> m = spec.mask;
    if (GDALRasterIO(GDALGetMaskBand(band), GF_Write, 0, 0, spec.width, spec.height, m.data(),
                     spec.width, spec.height, GDT_Byte, 0, 0) != CE_None)
      throw std::runtime_error("writing the test mask failed");
  }
  GDALClose(ds);
  return path;
}
