#include <gtest/gtest.h>

#include <gdal.h>

#include <regex>

#include "version/version.h"

TEST(LibraryVersions, AreDottedVersionNumbers) {
  const auto v = geoetl::library_versions();
  const std::regex dotted(R"(^\d+\.\d+(\.\d+)?.*)");
  EXPECT_TRUE(std::regex_match(v.gdal, dotted)) << v.gdal;
  EXPECT_TRUE(std::regex_match(v.proj, dotted)) << v.proj;
  EXPECT_TRUE(std::regex_match(v.libcurl, dotted)) << v.libcurl;
}

TEST(LibraryVersions, GdalMatchesTheHeadersWeBuiltAgainst) {
  const auto v = geoetl::library_versions();
  EXPECT_EQ(v.gdal.rfind(
                std::to_string(GDAL_VERSION_MAJOR) + "." + std::to_string(GDAL_VERSION_MINOR), 0),
            0u)
      << v.gdal;
}
