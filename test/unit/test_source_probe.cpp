#include <cpl_vsi.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "base/error.h"
#include "package/source_probe.h"
#include "tiff_writer.h"

using namespace geoetl;

TEST(SourceProbe, TellsRastersFromVectors) {
  TempDir dir;
  TiffSpec spec;
  spec.srs = "EPSG:4326";
  const SourceInfo r = probe_source(write_tiff(dir.file("a.tif"), spec), "a.tif", {});
  EXPECT_EQ(r.kind, SourceInfo::Kind::raster);
  EXPECT_STREQ(source_kind_name(r.kind), "raster");
  EXPECT_EQ(r.driver, "GTiff");
  EXPECT_EQ(r.bands, 1);
  EXPECT_NE(r.crs_wkt.find("WGS"), std::string::npos);
  EXPECT_FALSE(r.signature.empty());

  std::ofstream(dir.file("v.geojson")) << R"({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"n": 1}, "geometry": {"type": "Point", "coordinates": [1, 2]}}]})";
  const SourceInfo v = probe_source(dir.file("v.geojson"), "v.geojson", {});
  EXPECT_EQ(v.kind, SourceInfo::Kind::vector);
  EXPECT_EQ(v.driver, "GeoJSON");
  ASSERT_EQ(v.layers.size(), 1u);
  EXPECT_EQ(v.layers[0], "v");
  EXPECT_NE(v.crs_wkt.find("WGS"), std::string::npos);
  EXPECT_FALSE(v.signature.empty());
}

TEST(SourceProbe, MissingAndUnreadableSourcesAreClearErrors) {
  TempDir dir;
  auto kind_of = [](const std::string& path) {
    try {
      probe_source(path, "the source", {});
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::internal;
  };
  EXPECT_EQ(kind_of(dir.file("missing.tif")), ErrorKind::not_found);
  std::ofstream(dir.file("notes.txt")) << "not a dataset\n";
  EXPECT_EQ(kind_of(dir.file("notes.txt")), ErrorKind::data_corrupted);
  std::ofstream(dir.file("cut.geojson")) << R"({"type": "FeatureCollection", "feat)";
  EXPECT_EQ(kind_of(dir.file("cut.geojson")), ErrorKind::data_corrupted);
  // a vector dataset that is not a local file (remote reads are checked for rasters only)
  const std::string json = R"({"type": "FeatureCollection", "features": []})";
  VSIFCloseL(VSIFileFromMemBuffer("/vsimem/v.geojson",
                                  reinterpret_cast<GByte*>(const_cast<char*>(json.data())),
                                  static_cast<vsi_l_offset>(json.size()), FALSE));
  EXPECT_EQ(kind_of("/vsimem/v.geojson"), ErrorKind::not_supported);
  VSIUnlink("/vsimem/v.geojson");
  try {
    probe_source(dir.file("notes.txt"), "notes.txt", {});
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("neither a raster nor a vector"), std::string::npos);
    EXPECT_NE(e.hint().find("pg:schema.table"), std::string::npos);
  }
}
