#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "tiff_writer.h"
#include "transfer/sources.h"

using namespace geoetl;

TEST(Sources, ResolvesPathsUrlsAndS3) {
  EXPECT_EQ(resolve_source("/data/a.tif").gdal_path, "/data/a.tif");
  EXPECT_EQ(resolve_source("https://host.example/a.tif").gdal_path,
            "/vsigeoetl/https://host.example/a.tif");  // geoetl's checked HTTP client
  const Source s3 = resolve_source("s3://bucket/key/a.tif");
  EXPECT_EQ(s3.gdal_path, "/vsis3/bucket/key/a.tif");
  EXPECT_TRUE(s3.s3 && s3.remote);
  EXPECT_EQ(resolve_source("HDF5:\"/d/f.h5\"://g/l").gdal_path, "HDF5:\"/d/f.h5\"://g/l");
  EXPECT_THROW(resolve_source("relative/a.tif"), Error);
  EXPECT_THROW(resolve_source(""), Error);
}

TEST(Sources, FindsTheFileOfASubdatasetAsGdalDoes) {
  EXPECT_EQ(subdataset_file("HDF5:\"/d/f.h5\"://HDFEOS/GRIDS/x"), "/d/f.h5");
  EXPECT_EQ(subdataset_file("NETCDF:\"/d/f.nc\":var"), "/d/f.nc");
  EXPECT_EQ(subdataset_file("HDF5:\"/d/\"../x\"\"://ds"), "");
  EXPECT_EQ(subdataset_file("/d/f.tif"), "");
}

TEST(Sources, NormalizesPathsLexically) {
  EXPECT_EQ(normalize_path("/a/./b/../c//d"), "/a/c/d");
  EXPECT_EQ(normalize_path("/"), "/");
  EXPECT_EQ(normalize_path("/a/.."), "/");
  EXPECT_EQ(normalize_path("/.."), "");
}

TEST(Sources, ParsesThePrefixSetting) {
  EXPECT_EQ(parse_prefixes(" /data/ , https://x.example/pub/,\n s3://b/ ,, "),
            (std::vector<std::string>{"/data/", "https://x.example/pub/", "s3://b/"}));
  EXPECT_TRUE(parse_prefixes("").empty());
}

TEST(Sources, AllowsOnlyBelowAPrefix) {
  const std::vector<std::string> p = {"/data/rasters", "https://x.example/pub/", "s3://bucket/ok"};
  EXPECT_TRUE(source_allowed("/data/rasters/a.tif", p));
  EXPECT_TRUE(source_allowed("/data/rasters/sub/a.tif", p));
  EXPECT_FALSE(source_allowed("/data/rasters-other/a.tif", p));  // not a folder boundary
  EXPECT_FALSE(source_allowed("/data/rasters/../../etc/passwd", p));
  EXPECT_FALSE(source_allowed("/etc/passwd", p));
  EXPECT_FALSE(source_allowed("/vsicurl/https://x.example/pub/a.tif", p));
  EXPECT_TRUE(source_allowed("https://x.example/pub/a.tif", p));
  EXPECT_FALSE(source_allowed("https://x.example/public/a.tif", p));
  EXPECT_FALSE(source_allowed("https://x.example/pub/../private/a.tif", p));
  EXPECT_TRUE(source_allowed("s3://bucket/ok/a.tif", p));
  EXPECT_FALSE(source_allowed("s3://bucket/okay/a.tif", p));
  EXPECT_TRUE(source_allowed("HDF5:\"/data/rasters/f.h5\"://HDFEOS/x", p));
  EXPECT_FALSE(source_allowed("HDF5:\"/etc/f.h5\"://x", p));
  EXPECT_FALSE(source_allowed("GTIFF_RAW:/data/rasters/a.tif", p));
  // GDAL treats quotes as toggles: these name a file outside the allowed folder
  EXPECT_FALSE(source_allowed("HDF5:\"/data/rasters/\"../secret/s.h5\"\"://ds", p));
  EXPECT_FALSE(source_allowed("HDF5:\"/data/rasters/sub\"/../../x\"\"://ds", p));
  EXPECT_FALSE(source_allowed("NETCDF:\"/data/rasters/\"../secret/s.nc\"\":Band1", p));
  EXPECT_FALSE(source_allowed("HDF5:/data/rasters/f.h5://ds", p));  // unquoted: refused
  EXPECT_FALSE(source_allowed("/data/rasters/a.tif", {}));
}

TEST(Sources, SymlinksOutOfAnAllowedFolderAreRefused) {
  TempDir dir;
  const std::string allowed = dir.file("allowed");
  std::filesystem::create_directory(allowed);
  std::ofstream(dir.file("secret.tif")) << "x";
  std::ofstream(allowed + "/fine.tif") << "x";
  std::filesystem::create_symlink(dir.file("secret.tif"), allowed + "/link.tif");
  EXPECT_TRUE(source_allowed(allowed + "/fine.tif", {allowed}));
  EXPECT_FALSE(source_allowed(allowed + "/link.tif", {allowed}));
}

TEST(Sources, UrlsAreComparedInTheirCanonicalForm) {
  EXPECT_EQ(canonical_url("HTTP://Host.Example/pub/%61%2D%7e.tif?x=%2e#f"),
            "http://host.example/pub/a-~.tif?x=%2e#f");
  EXPECT_EQ(canonical_url("https://h/pub/a%20b.tif"), "https://h/pub/a%20b.tif");
  EXPECT_EQ(canonical_url("https://h"), "https://h");
  for (const char* bad :
       {"http://h/pub/%2e%2e/secret.tif", "http://h/pub/%2E%2E/secret.tif",
        "http://h/pub/.%2e/secret.tif", "http://h/pub/%2e/a.tif", "http://h/pub/..",
        "http://h/pub/%2fsecret.tif", "http://h/pub/..%2Fsecret.tif", "http://h/pub/%5c..%5csecret",
        "http://h/pub\\..\\secret.tif", "http://h/pub/%252e%252e/secret.tif", "http://h/pub/%2",
        "http://h/pub/%zz", "http://h/pub/a b.tif", "http://h%2e/pub", "not a url"})
    EXPECT_EQ(canonical_url(bad), "") << bad;
}

TEST(Sources, EscapedDotSegmentsDoNotPassThePrefixCheck) {
  const std::vector<std::string> p = {"http://127.0.0.1:8000/pub", "s3://bucket/ok/"};
  EXPECT_TRUE(source_allowed("http://127.0.0.1:8000/pub/a.tif", p));
  EXPECT_TRUE(source_allowed("http://127.0.0.1:8000/pub/%61.tif", p));  // /pub/a.tif
  EXPECT_FALSE(source_allowed("HTTP://127.0.0.1:8000/pub/a.tif", p));   // not read as a URL
  EXPECT_FALSE(source_allowed("http://127.0.0.1:8000/pub/%2e%2e/secret.tif", p));
  EXPECT_FALSE(source_allowed("http://127.0.0.1:8000/pub/%2E%2e/secret.tif", p));
  EXPECT_FALSE(source_allowed("http://127.0.0.1:8000/pub/.%2E/.%2e/secret.tif", p));
  EXPECT_FALSE(source_allowed("http://127.0.0.1:8000/pub%2f..%2fsecret.tif", p));
  EXPECT_FALSE(source_allowed("http://127.0.0.1:8000/pub/%5c..%5csecret.tif", p));
  EXPECT_FALSE(source_allowed("http://127.0.0.1:8000/%70ub2/a.tif", p));
  EXPECT_FALSE(source_allowed("s3://bucket/ok/%2e%2e/secret.tif", p));
  // a prefix written with escapes means what it decodes to
  EXPECT_TRUE(source_allowed("http://h/pub/a.tif", {"http://h/%70ub/"}));
}

TEST(Sources, OtherDriversSyntaxIsRefusedBelowAnAllowedFolder) {
  const std::vector<std::string> p = {"/data/rasters"};
  for (const char* bad :
       {"/vsizip//data/rasters/a.zip/a.tif", "/vsizip/data/rasters/a.zip/a.tif",
        "/vsicurl/http://127.0.0.1/a.tif", "MEM:::DATAPOINTER=0x1,PIXELS=1,LINES=1,BANDS=1",
        "GTIFF_DIR:1:/data/rasters/a.tif", "GTIFF_RAW:/data/rasters/a.tif",
        "<VRTDataset rasterXSize=\"1\" rasterYSize=\"1\"></VRTDataset>",
        "NETCDF:\"http://127.0.0.1/a.nc\":v", "HDF5:\"/data/rasters/../x.h5\"://d"})
    EXPECT_FALSE(source_allowed(bad, p)) << bad;
}
