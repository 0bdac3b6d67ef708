#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_utils.h>
#include <gtest/gtest.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "package/vector_clip.h"
#include "tiff_writer.h"

using namespace geoetl;

namespace {

// Five features in WGS 84: inside, across the area's east edge, outside, touching its north
// edge from outside (shares part of it), and a multipolygon with one part in and one out.
const char* const kSource = R"({"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {"name": "inside", "pop": 10},
  "geometry": {"type": "Polygon", "coordinates": [[[1,1],[3,1],[3,3],[1,3],[1,1]]]}},
 {"type": "Feature", "properties": {"name": "across", "pop": 20},
  "geometry": {"type": "Polygon", "coordinates": [[[8,4],[12,4],[12,6],[8,6],[8,4]]]}},
 {"type": "Feature", "properties": {"name": "outside", "pop": 30},
  "geometry": {"type": "Polygon", "coordinates": [[[20,20],[21,20],[21,21],[20,21],[20,20]]]}},
 {"type": "Feature", "properties": {"name": "touching", "pop": 40},
  "geometry": {"type": "Polygon", "coordinates": [[[4,10],[6,10],[6,12],[4,12],[4,10]]]}},
 {"type": "Feature", "properties": {"name": "parts", "pop": 50},
  "geometry": {"type": "MultiPolygon", "coordinates": [[[[5,5],[6,5],[6,6],[5,6],[5,5]]],
                                                      [[[30,30],[31,30],[31,31],[30,31],[30,30]]]]}}
]})";

MultiPolygon square(double x0, double y0, double x1, double y1) {
  return MultiPolygon{{Polygon{{Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}}};
}

std::string write_source(const TempDir& dir) {
  const std::string path = dir.file("src.geojson");
  std::ofstream(path) << kSource;
  return path;
}

// name -> (pop, area) of the features of the output's only layer
std::map<std::string, std::pair<int, double>> read_back(const std::string& path) {
  std::map<std::string, std::pair<int, double>> out;
  GDALDatasetH ds = GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
  EXPECT_NE(ds, nullptr) << path;
  if (ds == nullptr) return out;
  EXPECT_EQ(GDALDatasetGetLayerCount(ds), 1);
  OGRLayerH layer = GDALDatasetGetLayer(ds, 0);
  OGRFeatureH f;
  while ((f = OGR_L_GetNextFeature(layer)) != nullptr) {
    OGRGeometryH g = OGR_F_GetGeometryRef(f);
    out[OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "name"))] = {
        OGR_F_GetFieldAsInteger(f, OGR_F_GetFieldIndex(f, "pop")),
        g != nullptr ? OGR_G_Area(g) : -1};
    OGR_F_Destroy(f);
  }
  GDALClose(ds);
  return out;
}

size_t files_in(const TempDir& dir) {
  size_t n = 0;
  for (auto e = std::filesystem::directory_iterator(dir.path()); e != end(e); ++e) n++;
  return n;
}

}  // namespace

TEST(VectorClip, CutsFeaturesAtTheAreaAndKeepsAttributes) {
  TempDir dir;
  const std::string src = write_source(dir);
  const VectorClip clip = clip_vector(src, "src.geojson", square(0, 0, 10, 10), "EPSG:4326", {},
                                      dir.file("out.gpkg"), CancelToken());
  EXPECT_EQ(clip.features, 3);
  EXPECT_EQ(clip.layer, "src");
  const auto got = read_back(dir.file("out.gpkg"));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got.at("inside").first, 10);
  EXPECT_NEAR(got.at("inside").second, 4, 1e-9);
  EXPECT_EQ(got.at("across").first, 20);
  EXPECT_NEAR(got.at("across").second, 4, 1e-9);  // 2 x 2 of its 4 x 2 inside
  EXPECT_NEAR(got.at("parts").second, 1, 1e-9);   // the part outside is gone
  EXPECT_EQ(got.count("touching"), 0u);           // shares an edge only
  EXPECT_EQ(got.count("outside"), 0u);
}

TEST(VectorClip, WithoutClipWholeFeaturesThatIntersect) {
  TempDir dir;
  const std::string src = write_source(dir);
  VectorClipOptions whole;
  whole.clip = false;
  const VectorClip clip = clip_vector(src, "src.geojson", square(0, 0, 10, 10), "EPSG:4326", whole,
                                      dir.file("out.gpkg"), CancelToken());
  const auto got = read_back(dir.file("out.gpkg"));
  EXPECT_NEAR(got.at("across").second, 8, 1e-9);
  EXPECT_NEAR(got.at("parts").second, 2, 1e-9);
  EXPECT_EQ(got.count("touching"), 1u);  // intersects (along an edge), kept whole
  EXPECT_EQ(clip.features, 4);
}

TEST(VectorClip, EveryFormatReadsBack) {
  TempDir dir;
  const std::string src = write_source(dir);
  for (const char* name : {"GPKG", "FlatGeobuf", "GeoJSON", "CSV"}) {
    const VectorFormat& f = vector_format(name);
    const std::string out = dir.file(std::string("out.") + f.extension);
    VectorClipOptions o;
    o.format = name;
    EXPECT_EQ(
        clip_vector(src, "src", square(0, 0, 10, 10), "EPSG:4326", o, out, CancelToken()).features,
        3)
        << name;
    const auto got = read_back(out);
    EXPECT_EQ(got.size(), 3u) << name;
    if (got.count("across")) {
      EXPECT_NEAR(got.at("across").second, 4, 1e-9) << name;
    }
  }
  std::ifstream csv(dir.file("out.csv"));
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header.rfind("WKT,", 0), 0u) << header;
  EXPECT_THROW(vector_format("Shapefile"), Error);
  // FlatGeobuf makes a folder of a name without its extension: such a name is refused
  VectorClipOptions fgb;
  fgb.format = "FlatGeobuf";
  EXPECT_THROW(
      clip_vector(src, "src", square(0, 0, 10, 10), "", fgb, dir.file("out.part"), CancelToken()),
      Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.part")));
}

TEST(VectorClip, AnAreaInAnotherCrsIsTransformedToTheSources) {
  TempDir dir;
  const std::string src = write_source(dir);
  // (0, 0)-(10, 9.95) degrees in Web Mercator metres: the same features (off the shared edge).
  const double r = 6378137.0, to_rad = M_PI / 180;
  const double x = 10 * to_rad * r, y = r * std::log(std::tan(M_PI / 4 + 9.95 * to_rad / 2));
  const VectorClip clip = clip_vector(src, "src", square(0, 0, x, y), "EPSG:3857", {},
                                      dir.file("out.gpkg"), CancelToken());
  EXPECT_EQ(clip.features, 3);
}

TEST(VectorClip, BadSourcesAndOptionsAreClearErrors) {
  TempDir dir;
  auto kind_of = [&](const std::string& src, const VectorClipOptions& o) {
    try {
      clip_vector(src, "the source", square(0, 0, 10, 10), "EPSG:4326", o, dir.file("out.gpkg"),
                  CancelToken());
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::internal;
  };
  EXPECT_EQ(kind_of(dir.file("missing.gpkg"), {}), ErrorKind::not_found);
  std::ofstream(dir.file("garbage.geojson")) << "{\"type\": \"FeatureCollection\", \"featu";
  EXPECT_EQ(kind_of(dir.file("garbage.geojson"), {}), ErrorKind::data_corrupted);
  write_tiff(dir.file("raster.tif"), TiffSpec{});
  EXPECT_EQ(kind_of(dir.file("raster.tif"), {}), ErrorKind::data_corrupted);
  VectorClipOptions layer;
  layer.layer = "nope";
  EXPECT_EQ(kind_of(write_source(dir), layer), ErrorKind::invalid_argument);
  VectorClipOptions format;
  format.format = "KML";
  EXPECT_EQ(kind_of(write_source(dir), format), ErrorKind::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.gpkg")));
}

TEST(VectorClip, ACancelledClipLeavesNoFile) {
  TempDir dir;
  const std::string src = write_source(dir);
  for (const char* format : {"GPKG", "FlatGeobuf"})
    for (int after : {0, 2}) {
      int calls = 0;
      VectorClipOptions o;
      o.format = format;
      try {
        clip_vector(src, "src", square(0, 0, 10, 10), "EPSG:4326", o,
                    dir.file(std::string("out.part-1.") + vector_format(format).extension),
                    CancelToken([&] { return ++calls > after; }));
        ADD_FAILURE() << format << " not cancelled after " << after;
      } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::cancelled);
      }
      EXPECT_EQ(files_in(dir), 1u) << format << " after " << after;  // src.geojson alone
    }
}

TEST(VectorClip, ReadsAShapefileWithItsAttributes) {
  TempDir dir;
  const std::string src = write_source(dir);
  ensure_gdal({});  // GDAL's drivers, for the conversion below
  GDALDatasetH in = GDALOpenEx(src.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
  ASSERT_NE(in, nullptr);
  const char* args[] = {"-f", "ESRI Shapefile", "-nlt", "MULTIPOLYGON", nullptr};
  GDALVectorTranslateOptions* o = GDALVectorTranslateOptionsNew(const_cast<char**>(args), nullptr);
  GDALDatasetH shp =
      GDALVectorTranslate(dir.file("villages.shp").c_str(), nullptr, 1, &in, o, nullptr);
  GDALVectorTranslateOptionsFree(o);
  ASSERT_NE(shp, nullptr);
  GDALClose(shp);
  GDALClose(in);
  const VectorClip clip =
      clip_vector(dir.file("villages.shp"), "villages.shp", square(0, 0, 10, 10), "EPSG:4326", {},
                  dir.file("out.gpkg"), CancelToken());
  EXPECT_EQ(clip.features, 3);
  const auto got = read_back(dir.file("out.gpkg"));
  ASSERT_EQ(got.count("across"), 1u);
  EXPECT_EQ(got.at("across").first, 20);  // from the .dbf beside the .shp
}

namespace {

// Rows as geoetl hands a table's features to clip_geojson: a FeatureCollection whose "crs" names
// EPSG:32636 (UTM zone 36N, metres), around (33 E, 9 N). 33 E is the zone's central meridian,
// x = 500000 exactly: an area whose west edge follows it cuts "across" in two halves of 1 km².
const char* const kUtmRows = R"({"type": "FeatureCollection",
 "crs": {"type": "name", "properties": {"name": "EPSG:32636"}}, "features": [
 {"type": "Feature", "properties": {"name": "inside", "pop": 1},
  "geometry": {"type": "Polygon", "coordinates": [[[502000,1000000],[503000,1000000],
                                                   [503000,1001000],[502000,1001000],[502000,1000000]]]}},
 {"type": "Feature", "properties": {"name": "across", "pop": 2},
  "geometry": {"type": "Polygon", "coordinates": [[[499000,1000000],[501000,1000000],
                                                   [501000,1001000],[499000,1001000],[499000,1000000]]]}},
 {"type": "Feature", "properties": {"name": "outside", "pop": 3},
  "geometry": {"type": "Polygon", "coordinates": [[[600000,1000000],[601000,1000000],
                                                   [601000,1001000],[600000,1001000],[600000,1000000]]]}}
]})";

// A feature with an attribute of each type a table's row can give (JSON numbers, strings that
// read as dates and times, a 64-bit integer, a null).
const char* const kTypedRow = R"({"type": "FeatureCollection",
 "crs": {"type": "name", "properties": {"name": "EPSG:4326"}}, "features": [
 {"type": "Feature", "properties": {"id": 7, "value": 1.5, "name": "a", "day": "2024-02-01",
   "seen_at": "2024-02-01T10:30:00Z", "at": "10:30:00", "big": 10000000000, "nothing": null},
  "geometry": {"type": "Point", "coordinates": [1, 1]}}
]})";

// Files GDAL holds in memory under /vsimem/ (clip_geojson leaves none).
size_t files_in_memory() {
  CPLStringList names(VSIReadDirRecursive("/vsimem/"));
  return static_cast<size_t>(names.size());
}

// The output's layer: its CRS's EPSG code, and the envelope of the feature named `name`.
struct LayerRead {
  std::string epsg;
  OGREnvelope envelope{};
};
LayerRead read_layer(const std::string& path, const std::string& name) {
  LayerRead out;
  GDALDatasetH ds = GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
  EXPECT_NE(ds, nullptr) << path;
  if (ds == nullptr) return out;
  OGRLayerH layer = GDALDatasetGetLayer(ds, 0);
  if (OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(layer)) {
    const char* code = OSRGetAuthorityCode(srs, nullptr);
    out.epsg = code != nullptr ? code : "";
  }
  OGRFeatureH f;
  while ((f = OGR_L_GetNextFeature(layer)) != nullptr) {
    if (name == OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "name")))
      OGR_G_GetEnvelope(OGR_F_GetGeometryRef(f), &out.envelope);
    OGR_F_Destroy(f);
  }
  GDALClose(ds);
  return out;
}

}  // namespace

TEST(VectorClip, GeoJsonTextIsClippedInTheCrsItNames) {
  TempDir dir;
  const size_t in_memory = files_in_memory();
  const VectorClip clip = clip_geojson(kUtmRows, "the table's rows", square(33.0, 9.0, 33.1, 9.1),
                                       "EPSG:4326", {}, dir.file("out.gpkg"), CancelToken());
  EXPECT_EQ(clip.features, 2);
  const auto got = read_back(dir.file("out.gpkg"));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got.at("inside").first, 1);
  EXPECT_NEAR(got.at("inside").second, 1e6, 1e-3);  // square metres: still in UTM
  EXPECT_NEAR(got.at("across").second, 1e6, 1e-3);  // cut at x = 500000
  EXPECT_EQ(got.count("outside"), 0u);
  const LayerRead layer = read_layer(dir.file("out.gpkg"), "across");
  EXPECT_EQ(layer.epsg, "32636");
  EXPECT_NEAR(layer.envelope.MinX, 500000, 1e-6);
  EXPECT_EQ(layer.envelope.MaxX, 501000);
  EXPECT_EQ(layer.envelope.MinY, 1000000);
  EXPECT_EQ(files_in_memory(), in_memory);  // the text's in-memory file is gone
  // an area already in the rows' CRS ("") is taken as it is
  const VectorClip same_crs =
      clip_geojson(kUtmRows, "the table's rows", square(500000, 990000, 510000, 1010000), "", {},
                   dir.file("same.gpkg"), CancelToken());
  EXPECT_EQ(same_crs.features, 2);
  EXPECT_NEAR(read_back(dir.file("same.gpkg")).at("across").second, 1e6, 1e-6);
}

TEST(VectorClip, BadGeoJsonTextOrACancelLeavesNothing) {
  TempDir dir;
  const size_t in_memory = files_in_memory();
  auto kind_of = [&](const std::string& text, const CancelToken& cancel) {
    try {
      clip_geojson(text, "the table's rows", square(0, 0, 10, 10), "EPSG:4326", {},
                   dir.file("out.gpkg"), cancel);
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::internal;
  };
  EXPECT_EQ(kind_of("{\"type\": \"FeatureCollection\", \"featu", CancelToken()),
            ErrorKind::data_corrupted);
  EXPECT_EQ(kind_of("", CancelToken()), ErrorKind::data_corrupted);
  EXPECT_EQ(kind_of(kSource, CancelToken([] { return true; })), ErrorKind::cancelled);
  EXPECT_EQ(files_in(dir), 0u);
  EXPECT_EQ(files_in_memory(), in_memory);
}

TEST(VectorClip, ColumnsAreTableSchemaFields) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"id", "integer"},       {"value", "number"}, {"name", "string"}, {"day", "date"},
      {"seen_at", "datetime"}, {"at", "time"},      {"big", "integer"}, {"nothing", "string"}};
  for (const char* name : {"GPKG", "FlatGeobuf", "GeoJSON", "CSV"}) {
    VectorClipOptions o;
    o.format = name;
    const VectorClip clip =
        clip_geojson(kTypedRow, "the row", square(0, 0, 10, 10), "EPSG:4326", o,
                     dir.file(std::string("out.") + vector_format(name).extension), CancelToken());
    std::vector<std::pair<std::string, std::string>> got;
    for (const VectorField& f : clip.columns) got.emplace_back(f.name, f.type);
    auto expected = fields;
    if (std::string(name) == "CSV")  // its geometry, as text, comes first
      expected.insert(expected.begin(), {"WKT", "string"});
    EXPECT_EQ(got, expected) << name;
  }
  // a source file's columns too
  const VectorClip file = clip_vector(write_source(dir), "src", square(0, 0, 10, 10), "EPSG:4326",
                                      {}, dir.file("src.gpkg"), CancelToken());
  ASSERT_EQ(file.columns.size(), 2u);
  EXPECT_EQ(file.columns[0].name, "name");
  EXPECT_EQ(file.columns[0].type, "string");
  EXPECT_EQ(file.columns[1].name, "pop");
  EXPECT_EQ(file.columns[1].type, "integer");
}

TEST(VectorClip, GeoJsonTextGivesTheSameFileEveryTime) {
  TempDir dir;
  VectorClipOptions geojson;
  geojson.format = "GeoJSON";
  auto clip = [&](const std::string& text, const std::string& out) {
    return clip_geojson(text, "the table's rows", square(33.0, 9.0, 33.1, 9.1), "EPSG:4326",
                        geojson, dir.file(out), CancelToken());
  };
  const VectorClip first = clip(kUtmRows, "first.geojson");
  const VectorClip second = clip(kUtmRows, "second.geojson");
  // the layer is not named after the text's in-memory file (this process's id, a counter)
  EXPECT_EQ(first.layer, "features");
  EXPECT_EQ(second.layer, "features");
  EXPECT_EQ(read_file(dir.file("first.geojson")), read_file(dir.file("second.geojson")));
  // a "name" member names it
  std::string named = kUtmRows;
  named.insert(1, "\"name\": \"villages\", ");
  EXPECT_EQ(clip(named, "named.geojson").layer, "villages");
}

TEST(VectorClip, CsvDatesAreWrittenAsTableSchemaReadsThem) {
  TempDir dir;
  const std::string rows = R"({"type": "FeatureCollection", "features": [
   {"type": "Feature", "properties": {"id": 1, "day": "2024-02-01", "seen_at": "2024-02-01T10:30:00Z"},
    "geometry": {"type": "Point", "coordinates": [1, 1]}},
   {"type": "Feature", "properties": {"id": 2, "day": "1999-12-31", "seen_at": "2024-02-01T10:30:00.250+05:30"},
    "geometry": {"type": "Point", "coordinates": [2, 2]}},
   {"type": "Feature", "properties": {"id": 3, "day": null, "seen_at": "2024-02-01T10:30:00"},
    "geometry": {"type": "Point", "coordinates": [3, 3]}}
  ]})";
  VectorClipOptions csv;
  csv.format = "CSV";
  const VectorClip clip = clip_geojson(rows, "the rows", square(0, 0, 10, 10), "", csv,
                                       dir.file("out.csv"), CancelToken());
  ASSERT_EQ(clip.columns.size(), 4u);
  EXPECT_EQ(clip.columns[2].type, "date");
  EXPECT_EQ(clip.columns[3].type, "datetime");
  // Table Schema's default formats: ISO 8601 (GDAL writes 2024/02/01 and 2024/02/01 10:30:00+00);
  // numbers unquoted
  std::ifstream in(dir.file("out.csv"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line.substr(line.find(',') + 1));
  EXPECT_EQ(lines, std::vector<std::string>({"id,day,seen_at", "1,2024-02-01,2024-02-01T10:30:00Z",
                                             "2,1999-12-31,2024-02-01T10:30:00.250+05:30",
                                             "3,,2024-02-01T10:30:00"}));
  // other formats keep their own date types
  VectorClipOptions gpkg;
  const VectorClip typed = clip_geojson(rows, "the rows", square(0, 0, 10, 10), "", gpkg,
                                        dir.file("out.gpkg"), CancelToken());
  GDALDatasetH ds =
      GDALOpenEx(dir.file("out.gpkg").c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
  ASSERT_NE(ds, nullptr);
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(GDALDatasetGetLayer(ds, 0));
  EXPECT_EQ(OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, 1)), OFTDate);
  EXPECT_EQ(OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, 2)), OFTDateTime);
  GDALClose(ds);
  EXPECT_EQ(typed.columns[1].type, "date");
}
