#include "package/vector_clip.h"

#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "base/error.h"
#include "gdal/dataset.h"
#include "raster/crs.h"

namespace geoetl {

namespace {

const VectorFormat formats[] = {
    {"GPKG", "GPKG", "gpkg", "application/geopackage+sqlite3"},
    {"FlatGeobuf", "FlatGeobuf", "fgb", "application/flatgeobuf"},
    {"GeoJSON", "GeoJSON", "geojson", "application/geo+json"},
    {"CSV", "CSV", "csv", "text/csv"},
};

struct GeometryDeleter {
  void operator()(void* g) const { OGR_G_DestroyGeometry(static_cast<OGRGeometryH>(g)); }
};
using GeometryPtr = std::unique_ptr<void, GeometryDeleter>;
struct FeatureDeleter {
  void operator()(void* f) const { OGR_F_Destroy(static_cast<OGRFeatureH>(f)); }
};
using FeaturePtr = std::unique_ptr<void, FeatureDeleter>;

std::string last_gdal_error() {
  const char* msg = CPLGetLastErrorMsg();
  return msg != nullptr ? msg : "";
}

GeometryPtr to_ogr(const MultiPolygon& mp) {
  GeometryPtr out(OGR_G_CreateGeometry(wkbMultiPolygon));
  for (const Polygon& p : mp.polygons) {
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    for (const Ring& ring : p.rings) {
      OGRGeometryH r = OGR_G_CreateGeometry(wkbLinearRing);
      for (const Point& pt : ring) OGR_G_AddPoint_2D(r, pt.x, pt.y);
      OGR_G_AddGeometryDirectly(poly, r);
    }
    OGR_G_AddGeometryDirectly(static_cast<OGRGeometryH>(out.get()), poly);
  }
  return out;
}

// The parts of `g` of dimension `dim` (a polygon cut along an edge of the area also yields the
// edge): nullptr when none.
GeometryPtr keep_dimension(GeometryPtr g, int dim) {
  if (g == nullptr || OGR_G_IsEmpty(static_cast<OGRGeometryH>(g.get()))) return nullptr;
  auto* h = static_cast<OGRGeometryH>(g.get());
  if (wkbFlatten(OGR_G_GetGeometryType(h)) != wkbGeometryCollection)
    return OGR_G_GetDimension(h) == dim ? std::move(g) : nullptr;
  GeometryPtr kept(OGR_G_CreateGeometry(wkbGeometryCollection));
  for (int i = 0; i < OGR_G_GetGeometryCount(h); i++) {
    OGRGeometryH part = OGR_G_GetGeometryRef(h, i);
    if (OGR_G_GetDimension(part) == dim && !OGR_G_IsEmpty(part))
      OGR_G_AddGeometry(static_cast<OGRGeometryH>(kept.get()), part);
  }
  if (OGR_G_GetGeometryCount(static_cast<OGRGeometryH>(kept.get())) == 0) return nullptr;
  return kept;
}

// Removes `out_path` and what a driver left beside it under names that begin with it
// (GeoPackage's -journal and -wal, FlatGeobuf's temporary index file).
void remove_output(const std::string& out_path) {
  const std::string dir = CPLGetDirname(out_path.c_str());
  const std::string base = CPLGetFilename(out_path.c_str());
  CPLStringList names(VSIReadDir(dir.c_str()));
  for (int i = 0; i < names.size(); i++)
    if (std::string(names[i]).rfind(base, 0) == 0)
      VSIUnlink(CPLFormFilename(dir.c_str(), names[i], nullptr));
}

// The Table Schema type of an OGR field type (lists and binaries as strings).
const char* table_schema_type(OGRFieldType type) {
  switch (type) {
    case OFTInteger:
    case OFTInteger64: return "integer";
    case OFTReal: return "number";
    case OFTDate: return "date";
    case OFTTime: return "time";
    case OFTDateTime: return "datetime";
    default: return "string";
  }
}

// A date or date-time attribute that CSV output holds as ISO 8601 text, as Table Schema's date and
// datetime types read it: GDAL's CSV driver writes 2024/02/01 and 2024/02/01 10:30:00+00.
struct IsoColumn {
  int source;  // the field's index in the source layer
  int output;  // in the output layer
  OGRFieldType type;
};

// A date ("2024-02-01") or date-time ("2024-02-01T10:30:00.250+05:30") attribute in ISO 8601.
std::string iso8601(OGRFeatureH feature, const IsoColumn& column) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, tz = 0;
  float second = 0;
  OGR_F_GetFieldAsDateTimeEx(feature, column.source, &year, &month, &day, &hour, &minute, &second,
                             &tz);
  char text[64];
  std::string out(text, std::snprintf(text, sizeof text, "%04d-%02d-%02d", year, month, day));
  if (column.type == OFTDate) return out;
  const bool whole = second == std::floor(second);
  out.append(text,
             std::snprintf(text, sizeof text, whole ? "T%02d:%02d:%02.0f" : "T%02d:%02d:%06.3f",
                           hour, minute, static_cast<double>(second)));
  if (tz == 100) return out + "Z";  // GDAL's time zone flag: 0 unknown, 1 local, 100 UTC
  if (tz <= 1) return out;
  const int minutes = std::abs(tz - 100) * 15;  // steps of 15 minutes from UTC
  return out.append(text, std::snprintf(text, sizeof text, "%c%02d:%02d", tz > 100 ? '+' : '-',
                                        minutes / 60, minutes % 60));
}

// Creates the attributes of `defn` in `layer` (CSV's dates and date-times as text, listed in
// `iso`) and returns the output's columns as Table Schema fields.
std::vector<VectorField> create_fields(OGRLayerH layer, OGRFeatureDefnH defn,
                                       const VectorFormat& format, std::vector<IsoColumn>& iso,
                                       const std::string& shown, const std::string& out_path) {
  const bool csv = std::string(format.name) == "CSV";
  std::vector<VectorField> columns;
  if (csv) columns.push_back({"WKT", "string"});
  OGRFeatureDefnH out_defn = OGR_L_GetLayerDefn(layer);
  for (int i = 0; i < OGR_FD_GetFieldCount(defn); i++) {
    OGRFieldDefnH field = OGR_FD_GetFieldDefn(defn, i);
    const OGRFieldType type = OGR_Fld_GetType(field);
    const bool as_text = csv && (type == OFTDate || type == OFTDateTime);
    OGRFieldDefnH text = as_text ? OGR_Fld_Create(OGR_Fld_GetNameRef(field), OFTString) : nullptr;
    const OGRErr err = OGR_L_CreateField(layer, as_text ? text : field, TRUE);
    if (text != nullptr) OGR_Fld_Destroy(text);
    if (err != OGRERR_NONE)
      throw Error(ErrorKind::io_error,
                  "cannot create the attributes of " + shown + " in " + out_path,
                  last_gdal_error());
    const int output = OGR_FD_GetFieldCount(out_defn) - 1;
    if (as_text) iso.push_back({i, output, type});
    OGRFieldDefnH created = OGR_FD_GetFieldDefn(out_defn, output);
    columns.push_back({OGR_Fld_GetNameRef(created),
                       table_schema_type(as_text ? type : OGR_Fld_GetType(created))});
  }
  return columns;
}

VectorClip write_clip(OGRLayerH in, const std::string& shown, OGRGeometryH area,
                      const VectorClipOptions& options, const VectorFormat& format,
                      const std::string& out_path, const CancelToken& cancel) {
  VectorClip result;
  result.layer = OGR_L_GetName(in);
  GdalDataset out(GDALCreate(GDALGetDriverByName(format.driver), out_path.c_str(), 0, 0, 0,
                             GDT_Unknown, nullptr));
  if (!out) throw Error(ErrorKind::io_error, "cannot create " + out_path, last_gdal_error());
  CPLStringList lco;
  if (std::string(format.name) == "CSV") {
    lco.SetNameValue("GEOMETRY", "AS_WKT");
    lco.SetNameValue("STRING_QUOTING",
                     "IF_NEEDED");  // numbers unquoted, as Table Schema reads them
  }
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(in);
  const OGRwkbGeometryType type = OGR_L_GetGeomType(in);
  OGRLayerH layer = GDALDatasetCreateLayer(out.get(), result.layer.c_str(), OGR_L_GetSpatialRef(in),
                                           type, lco.List());
  if (layer == nullptr)
    throw Error(ErrorKind::io_error, "cannot create layer " + result.layer + " in " + out_path,
                last_gdal_error());
  std::vector<IsoColumn> iso;
  result.columns = create_fields(layer, defn, format, iso, shown, out_path);
  OGRFeatureDefnH out_defn = OGR_L_GetLayerDefn(layer);
  const bool transaction = GDALDatasetStartTransaction(out.get(), FALSE) == OGRERR_NONE;
  OGR_L_SetSpatialFilter(in, area);
  OGR_L_ResetReading(in);
  for (FeaturePtr f; f.reset(OGR_L_GetNextFeature(in)), f != nullptr;) {
    cancel.check();
    auto* feature = static_cast<OGRFeatureH>(f.get());
    OGRGeometryH g = OGR_F_GetGeometryRef(feature);
    if (g == nullptr || !OGR_G_Intersects(g, area)) continue;
    GeometryPtr kept;
    if (options.clip) {
      kept = keep_dimension(GeometryPtr(OGR_G_Intersection(g, area)), OGR_G_GetDimension(g));
      if (kept == nullptr) continue;  // touches the area only along its boundary
      if (type != wkbUnknown)
        kept.reset(OGR_G_ForceTo(static_cast<OGRGeometryH>(kept.release()), type, nullptr));
    }
    FeaturePtr copy(OGR_F_Create(out_defn));
    auto* c = static_cast<OGRFeatureH>(copy.get());
    OGR_F_SetFrom(c, feature, TRUE);
    for (const IsoColumn& column : iso)
      if (OGR_F_IsFieldSetAndNotNull(feature, column.source))
        OGR_F_SetFieldString(c, column.output, iso8601(feature, column).c_str());
    if (kept != nullptr) OGR_F_SetGeometryDirectly(c, static_cast<OGRGeometryH>(kept.release()));
    if (OGR_L_CreateFeature(layer, c) != OGRERR_NONE)
      throw Error(ErrorKind::io_error, "cannot write a feature of " + shown + " to " + out_path,
                  last_gdal_error());
    result.features++;
  }
  if (transaction && GDALDatasetCommitTransaction(out.get()) != OGRERR_NONE)
    throw Error(ErrorKind::io_error, "cannot write " + out_path, last_gdal_error());
  CPLErrorReset();
  out.reset();
  if (CPLGetLastErrorType() >= CE_Failure)
    throw Error(ErrorKind::io_error, "cannot write " + out_path, last_gdal_error());
  return result;
}

}  // namespace

const VectorFormat& vector_format(const std::string& name) {
  for (const VectorFormat& f : formats)
    if (name == f.name) return f;
  throw Error(ErrorKind::invalid_argument, "unknown vector output format \"" + name + "\"", "",
              "Use GPKG, FlatGeobuf, GeoJSON or CSV.");
}

const char* const* vector_source_drivers() {
  static const char* const drivers[] = {"GPKG", "ESRI Shapefile", "GeoJSON", "FlatGeobuf", nullptr};
  return drivers;
}

VectorClip clip_vector(const std::string& path, const std::string& shown, const MultiPolygon& area,
                       const std::string& area_crs, const VectorClipOptions& options,
                       const std::string& out_path, const CancelToken& cancel) {
  const VectorFormat& format = vector_format(options.format);
  const std::string suffix = std::string(".") + format.extension;
  if (out_path.size() <= suffix.size() ||
      out_path.compare(out_path.size() - suffix.size(), suffix.size(), suffix) != 0)
    throw Error(ErrorKind::internal, "the output " + out_path + " does not end in " + suffix,
                "GDAL's drivers take the format's extension (FlatGeobuf makes a folder of "
                "another name).");
  ensure_gdal(options.gdal);
  CPLErrorReset();
  GdalDataset src(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY,
                             vector_source_drivers(), nullptr, nullptr));
  if (!src) {
    VSIStatBufL st;
    if (VSIStatL(path.c_str(), &st) != 0)
      throw Error(ErrorKind::not_found, "vector source " + shown + " does not exist");
    throw Error(ErrorKind::data_corrupted,
                "cannot open " + shown + " as a GeoPackage, Shapefile, GeoJSON or FlatGeobuf",
                last_gdal_error());
  }
  OGRLayerH in = nullptr;
  const int layers = GDALDatasetGetLayerCount(src.get());
  if (!options.layer.empty()) {
    in = GDALDatasetGetLayerByName(src.get(), options.layer.c_str());
    if (in == nullptr)
      throw Error(ErrorKind::invalid_argument,
                  "vector source " + shown + " has no layer \"" + options.layer + "\"");
  } else if (layers == 1) {
    in = GDALDatasetGetLayer(src.get(), 0);
  } else {
    throw Error(ErrorKind::invalid_argument,
                "vector source " + shown + " has " + std::to_string(layers) + " layers", "",
                "Name one with the option layer.");
  }
  std::string layer_wkt;
  if (OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(in)) {
    char* wkt = nullptr;
    OSRExportToWkt(srs, &wkt);
    layer_wkt = wkt != nullptr ? wkt : "";
    CPLFree(wkt);
  }
  MultiPolygon in_source_crs = area;
  transform_to_raster_crs(in_source_crs, area_crs, layer_wkt, shown);
  GeometryPtr area_geom = to_ogr(in_source_crs);
  try {
    return write_clip(in, shown, static_cast<OGRGeometryH>(area_geom.get()), options, format,
                      out_path, cancel);
  } catch (...) {
    remove_output(out_path);
    throw;
  }
}

VectorClip clip_geojson(const std::string& geojson, const std::string& shown,
                        const MultiPolygon& area, const std::string& area_crs,
                        const VectorClipOptions& options, const std::string& out_path,
                        const CancelToken& cancel) {
  static uint64_t counter = 0;
  ensure_gdal(options.gdal);
  // a folder of its own, so that the file's name, which GDAL names the layer after, is the same
  // every time (a "name" member in the text names it instead)
  const std::string name = "/vsimem/geoetl-features-" + std::to_string(getpid()) + "-" +
                           std::to_string(++counter) + "/features.geojson";
  VSILFILE* f = VSIFileFromMemBuffer(name.c_str(),
                                     reinterpret_cast<GByte*>(const_cast<char*>(geojson.data())),
                                     static_cast<vsi_l_offset>(geojson.size()), FALSE);
  if (f == nullptr) throw Error(ErrorKind::internal, "cannot read the features of " + shown);
  VSIFCloseL(f);
  try {
    VectorClip clip = clip_vector(name, shown, area, area_crs, options, out_path, cancel);
    VSIUnlink(name.c_str());
    return clip;
  } catch (...) {
    VSIUnlink(name.c_str());
    throw;
  }
}

}  // namespace geoetl
