#include <gdal.h>
#include <gdal_utils.h>
#include <gtest/gtest.h>
#include <ogr_api.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

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
