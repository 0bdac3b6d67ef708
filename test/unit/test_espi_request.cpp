// The ESPI request query and the ids taken from hrefs (espi/request.h).
#include <gtest/gtest.h>

#include "espi/request.h"

using namespace geoetl;

TEST(EspiRequest, IsoTimesInUtc) {
  EXPECT_EQ(espi_iso_time(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(espi_iso_time(1351062000), "2012-10-24T07:00:00Z");
  EXPECT_EQ(espi_iso_time(1330516799), "2012-02-29T11:59:59Z");
  EXPECT_EQ(espi_iso_time(-1), "1969-12-31T23:59:59Z");
}

TEST(EspiRequest, TheRangeIsAddedToTheQuery) {
  const std::string u = "http://127.0.0.1:8080/espi/1_1/resource/Batch/Subscription/1/UsagePoint/2";
  EXPECT_EQ(espi_request_url(u, 0, 86399),
            u + "?published-min=1970-01-01T00:00:00Z&published-max=1970-01-01T23:59:59Z");
  EXPECT_EQ(espi_request_url(u + "?a=1#top", 0, 1),
            u + "?a=1&published-min=1970-01-01T00:00:00Z&published-max=1970-01-01T00:00:01Z");
}

TEST(EspiRequest, IdsFromHrefs) {
  const std::string base = "https://utility.test/DataCustodian/espi/1_1/resource/";
  EXPECT_EQ(espi_resource_id(base + "Batch/Subscription/5/UsagePoint/12", "UsagePoint"), "12");
  EXPECT_EQ(espi_resource_id(base + "Subscription/5/UsagePoint/12/MeterReading/1", "UsagePoint"),
            "12");
  EXPECT_EQ(espi_resource_id(base + "ReadingType/07?x=1", "ReadingType"), "07");
  EXPECT_EQ(espi_resource_id("ReadingType/1-0", "ReadingType"), "1-0");
  EXPECT_EQ(espi_resource_id("RetailCustomer/1/UsagePoint/01", "UsagePoint"), "01");
  EXPECT_EQ(espi_resource_id(base + "Subscription/5", "UsagePoint"), "");
  EXPECT_EQ(espi_resource_id("MyUsagePoint/3", "UsagePoint"), "");
}

TEST(EspiRequest, UsagePointIdsAreShortUnlessTheFileRepeatsThem) {
  EspiSummary s;
  for (const char* href : {"/User/9b6c7063/UsagePoint/01", "/User/9b6c7064/UsagePoint/01",
                           "/Subscription/5/UsagePoint/7", "urn:up"}) {
    EspiUsagePoint u;
    u.href = href;
    s.usage_points.push_back(u);
  }
  const auto ids = espi_usage_point_ids(s);
  EXPECT_EQ(ids.at("/User/9b6c7063/UsagePoint/01"), "/User/9b6c7063/UsagePoint/01");
  EXPECT_EQ(ids.at("/User/9b6c7064/UsagePoint/01"), "/User/9b6c7064/UsagePoint/01");
  EXPECT_EQ(ids.at("/Subscription/5/UsagePoint/7"), "7");
  EXPECT_EQ(ids.at("urn:up"), "urn:up");
}

TEST(EspiRequest, ReadingTypeIdsLikewise) {
  EspiSummary s;
  for (const char* href : {"/ReadingType/07", "/a/ReadingType/01", "/b/ReadingType/01"}) {
    EspiReadingType t;
    t.href = href;
    s.reading_types.push_back(t);
  }
  const auto ids = espi_reading_type_ids(s);
  EXPECT_EQ(ids.at("/ReadingType/07"), "07");
  EXPECT_EQ(ids.at("/a/ReadingType/01"), "/a/ReadingType/01");
  EXPECT_EQ(ids.at("/b/ReadingType/01"), "/b/ReadingType/01");
}
