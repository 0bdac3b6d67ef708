#include <gtest/gtest.h>

#include <cpl_conv.h>
#include <gdal.h>

#include <string>

#include "gdal/gdal_env.h"

using geoetl::ensure_gdal;
using geoetl::GdalSettings;

namespace {
std::string option(const char* key) {
  const char* v = CPLGetConfigOption(key, nullptr);
  return v != nullptr ? v : "(unset)";
}
}  // namespace

TEST(GdalEnv, SettingsComeBackAfterPostgisDestroysTheDriverManager) {
  GdalSettings s;
  s.http_timeout_s = 7;
  s.s3_endpoint = "127.0.0.1:9";
  ensure_gdal(s);
  EXPECT_EQ(option("GDAL_HTTP_TIMEOUT"), "7");
  EXPECT_EQ(option("AWS_S3_ENDPOINT"), "127.0.0.1:9");
  GDALDestroyDriverManager();  // what postgis.gdal_enabled_drivers does: options go too
  ensure_gdal(s);
  EXPECT_EQ(option("GDAL_HTTP_TIMEOUT"), "7");
  EXPECT_EQ(option("AWS_S3_ENDPOINT"), "127.0.0.1:9");
  EXPECT_NE(GDALGetDriverByName("GTiff"), nullptr);
}

TEST(GdalEnv, DriversPostgisDisabledStayOffButGeoetlsAreThere) {
  GDALDestroyDriverManager();
  CPLSetConfigOption("GDAL_SKIP", "PNG GTiff HDF5");
  ensure_gdal({});
  EXPECT_NE(GDALGetDriverByName("GTiff"), nullptr);
  EXPECT_NE(GDALGetDriverByName("HDF5"), nullptr);
  EXPECT_EQ(GDALGetDriverByName("PNG"), nullptr);  // not geoetl's, so PostGIS's choice stands
  EXPECT_EQ(option("GDAL_SKIP"), "PNG GTiff HDF5");
  CPLSetConfigOption("GDAL_SKIP", nullptr);
  GDALDestroyDriverManager();
  ensure_gdal({});
  EXPECT_NE(GDALGetDriverByName("PNG"), nullptr);  // no restriction: every driver
}
