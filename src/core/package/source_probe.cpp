#include "package/source_probe.h"

#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <memory>

#include "base/error.h"
#include "gdal/dataset.h"
#include "package/vector_clip.h"

namespace geoetl {

namespace {}  // namespace

const char* source_kind_name(SourceInfo::Kind kind) {
  return kind == SourceInfo::Kind::raster ? "raster" : "vector";
}

SourceInfo probe_source(const std::string& gdal_path, const std::string& shown,
                        const RasterOpenOptions& options) {
  SourceInfo info;
  std::string raster_error;
  try {
    const Raster r = Raster::open(gdal_path, shown, options);
    info.driver =
        GDALGetDriverShortName(GDALGetDatasetDriver(static_cast<GDALDatasetH>(r.gdal_handle())));
    info.crs_wkt = r.crs_wkt();
    info.bands = r.band_count();
    info.signature = r.signature();
    return info;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::not_found)
      throw Error(ErrorKind::not_found, "source " + shown + " does not exist", e.detail(),
                  e.hint());
    if (e.kind() != ErrorKind::data_corrupted && e.kind() != ErrorKind::not_supported) throw;
    raster_error = e.what();
  }
  if (gdal_path.rfind("/vsi", 0) == 0)  // remote reads are checked for rasters only
    throw Error(ErrorKind::not_supported,
                shown + " is not a raster, and vector sources are local files", raster_error,
                "Copy the vector file to the database server and register its path.");
  CPLErrorReset();
  GdalDataset ds(GDALOpenEx(gdal_path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY,
                            vector_source_drivers(), nullptr, nullptr));
  if (!ds || GDALDatasetGetLayerCount(ds.get()) == 0) {
    const char* why = CPLGetLastErrorMsg();
    throw Error(ErrorKind::data_corrupted,
                shown + " is neither a raster nor a vector dataset geoetl reads",
                raster_error + (why != nullptr && *why ? std::string("; ") + why : ""),
                "Sources are rasters GDAL reads, GeoPackage, Shapefile, GeoJSON or FlatGeobuf "
                "files, or pg:schema.table.");
  }
  info.kind = SourceInfo::Kind::vector;
  info.driver = GDALGetDriverShortName(GDALGetDatasetDriver(ds.get()));
  for (int i = 0; i < GDALDatasetGetLayerCount(ds.get()); i++) {
    OGRLayerH layer = GDALDatasetGetLayer(ds.get(), i);
    info.layers.emplace_back(OGR_L_GetName(layer));
    if (i == 0)
      if (OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(layer)) {
        char* wkt = nullptr;
        OSRExportToWkt(srs, &wkt);
        info.crs_wkt = wkt != nullptr ? wkt : "";
        CPLFree(wkt);
      }
  }
  info.signature = local_signature(gdal_path);
  return info;
}

}  // namespace geoetl
