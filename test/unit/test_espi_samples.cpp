// parse_espi_file on the public Green Button sample files (../shared/data/espi, or the folder in
// GEOETL_ESPI_DATA): reading counts as their README lists them, totals per usage point equal to an
// independent sum (libxml2's DOM and XPath, joining blocks to usage points by their self hrefs'
// paths), five usage points, gas in therms, and the local days of 23 and 25 hours.
#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <cstdlib>
#include <filesystem>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "espi/espi.h"

using namespace geoetl;
namespace fs = std::filesystem;

namespace {

std::string samples_dir() {
  if (const char* dir = std::getenv("GEOETL_ESPI_DATA")) return dir;
  const char* source = std::getenv("GEOETL_SOURCE_DIR");
  return (fs::path(source != nullptr ? source : ".") / ".." / "shared" / "data" / "espi").string();
}

#define SAMPLE_OR_SKIP(var, name)                            \
  const std::string var = samples_dir() + "/" + (name);      \
  if (!fs::exists(var))                                      \
  GTEST_SKIP() << "skipped: the Green Button sample " << var \
               << " is absent (../shared/data/espi; or set GEOETL_ESPI_DATA to its folder)"

struct Totals {
  int64_t readings = 0;
  double value = 0, cost = 0;
  std::set<std::string> reading_types;
};

struct Parsed {
  EspiSummary summary;
  std::vector<EspiReading> readings;
  std::map<std::string, Totals> by_usage_point;
};

Parsed parse(const std::string& path) {
  Parsed p;
  p.summary = parse_espi_file(
      path,
      [&](const EspiReading& r) {
        p.readings.push_back(r);
        Totals& t = p.by_usage_point[r.usage_point];
        t.readings++;
        t.value += r.value;
        t.cost += r.cost.value_or(0);
        t.reading_types.insert(r.reading_type);
      },
      CancelToken());
  return p;
}

// The independent reading: the whole document in memory, XPath over it.
class XPathDoc {
 public:
  explicit XPathDoc(const std::string& path) {
    doc_ = xmlReadFile(path.c_str(), nullptr, XML_PARSE_NONET);
    ctx_ = xmlXPathNewContext(doc_);
    xmlXPathRegisterNs(ctx_, BAD_CAST "a", BAD_CAST "http://www.w3.org/2005/Atom");
    xmlXPathRegisterNs(ctx_, BAD_CAST "e", BAD_CAST "http://naesb.org/espi");
  }
  ~XPathDoc() {
    xmlXPathFreeContext(ctx_);
    xmlFreeDoc(doc_);
  }
  double number(const std::string& expr) {
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr.c_str(), ctx_);
    const double v = o ? xmlXPathCastToNumber(o) : -1;
    xmlXPathFreeObject(o);
    return v;
  }
  std::vector<std::string> strings(const std::string& expr) {
    std::vector<std::string> out;
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr.c_str(), ctx_);
    for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
      xmlChar* s = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
      out.emplace_back(reinterpret_cast<const char*>(s));
      xmlFree(s);
    }
    xmlXPathFreeObject(o);
    return out;
  }

 private:
  xmlDocPtr doc_;
  xmlXPathContextPtr ctx_;
};

// Per usage point (by its self href): the readings of the entries whose self href lies below it.
std::map<std::string, Totals> xpath_totals(const std::string& path) {
  XPathDoc d(path);
  std::map<std::string, Totals> out;
  for (const std::string& up :
       d.strings("//a:entry[a:content/e:UsagePoint]/a:link[@rel='self']/@href")) {
    const std::string readings =
        "//a:entry[starts-with(a:link[@rel='self']/@href, '" + up + "/')]//e:IntervalReading";
    Totals& t = out[up];
    t.readings = static_cast<int64_t>(d.number("count(" + readings + ")"));
    t.value = d.number("sum(" + readings + "/e:value)");
    t.cost = d.number("sum(" + readings + "/e:cost)");
  }
  return out;
}

void expect_totals_match(const std::string& path, double scale) {
  const Parsed p = parse(path);
  const std::map<std::string, Totals> expected = xpath_totals(path);
  ASSERT_EQ(p.summary.usage_points.size(), expected.size());
  for (const auto& [up, e] : expected) {
    SCOPED_TRACE(up);
    const auto it = p.by_usage_point.find(up);
    ASSERT_NE(it, p.by_usage_point.end());
    EXPECT_EQ(it->second.readings, e.readings);
    EXPECT_NEAR(it->second.value, e.value * scale, 1e-9 * e.value * std::abs(scale) + 1e-9);
    EXPECT_NEAR(it->second.cost, e.cost / 100000, 1e-9 * e.cost + 1e-9);
  }
}

// Per local date (days since 1970-01-01), the hours its readings cover and their local hours.
struct LocalDay {
  int64_t seconds = 0;
  std::vector<int> hours;
};
std::map<int64_t, LocalDay> local_days(const Parsed& p) {
  const EspiLocalTime lt = *p.summary.usage_points.at(0).local_time;
  std::map<int64_t, LocalDay> days;
  for (const EspiReading& r : p.readings) {
    const int64_t local = espi_local_seconds(lt, r.start);
    const int64_t day = local / 86400 - (local % 86400 < 0);
    days[day].seconds += r.duration;
    days[day].hours.push_back(static_cast<int>((local - day * 86400) / 3600));
  }
  return days;
}

std::vector<int> hours_of_a_day_without(int missing) {
  std::vector<int> h;
  for (int i = 0; i < 24; i++)
    if (i != missing) h.push_back(i);
  return h;
}

}  // namespace

TEST(EspiSamples, ReadingCountsAreTheReadmes) {
  const std::map<std::string, int64_t> counts = {
      {"hourlyForMonthMar.xml", 743},
      {"hourlyForMonthNov.xml", 721},
      {"15minLP_15Days.xml", 1340},
      {"1hrLP_32DaysFiveUsagePoints_M.xml", 3840},
      {"Gas.xml", 13},
      {"Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml", 8760}};
  for (const auto& [name, count] : counts) {
    SAMPLE_OR_SKIP(path, name);
    const Parsed p = parse(path);
    EXPECT_EQ(p.summary.readings, count) << name;
    EXPECT_EQ(static_cast<int64_t>(p.readings.size()), count) << name;
  }
}

TEST(EspiSamples, TotalsPerUsagePointEqualAnIndependentSum) {
  for (const char* name : {"hourlyForMonthMar.xml", "hourlyForMonthNov.xml", "15minLP_15Days.xml",
                           "1hrLP_32DaysFiveUsagePoints_M.xml",
                           "Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml"}) {
    SCOPED_TRACE(name);
    SAMPLE_OR_SKIP(path, name);
    expect_totals_match(path, 1.0);
  }
}

TEST(EspiSamples, FiveUsagePointsEachWithItsOwnReadingTypeAndLocalTime) {
  SAMPLE_OR_SKIP(path, "1hrLP_32DaysFiveUsagePoints_M.xml");
  const Parsed p = parse(path);
  ASSERT_EQ(p.summary.usage_points.size(), 5u);
  EXPECT_EQ(p.summary.reading_types.size(), 5u);
  EXPECT_EQ(p.by_usage_point.size(), 5u);
  std::set<std::string> types;
  for (const EspiUsagePoint& up : p.summary.usage_points) {
    SCOPED_TRACE(up.href);
    EXPECT_EQ(up.readings, 768);
    EXPECT_EQ(up.kind, 0);  // electricity
    ASSERT_TRUE(up.local_time.has_value());
    EXPECT_EQ(up.local_time->tz_offset, -18000);
    EXPECT_EQ(up.local_time->dst_start_rule & 0xFFFFF000u, 0x360E2000u);
    const Totals& t = p.by_usage_point.at(up.href);
    ASSERT_EQ(t.reading_types.size(), 1u);  // linked by hrefs, each its own
    types.insert(*t.reading_types.begin());
  }
  EXPECT_EQ(types.size(), 5u);
  // /User/9b6c7064/UsagePoint/01 reads /ReadingType/02 (its MeterReading 02 relates to it)
  EXPECT_EQ(*p.by_usage_point.at("/User/9b6c7064/UsagePoint/01").reading_types.begin(),
            "/ReadingType/02");
  EXPECT_TRUE(p.summary.warnings.empty());
}

TEST(EspiSamples, GasIsInThermsWithMultiplierMinusThree) {
  SAMPLE_OR_SKIP(path, "Gas.xml");
  const Parsed p = parse(path);
  ASSERT_EQ(p.summary.usage_points.size(), 1u);
  EXPECT_EQ(p.summary.usage_points[0].kind, 1);  // gas
  ASSERT_EQ(p.summary.reading_types.size(), 1u);
  const EspiReadingType& rt = p.summary.reading_types[0];
  EXPECT_EQ(rt.uom, 169);
  EXPECT_EQ(rt.unit, "therm");
  EXPECT_EQ(rt.power_of_ten, -3);
  EXPECT_EQ(rt.currency, "USD");
  ASSERT_EQ(p.readings.size(), 13u);
  const EspiReading& first = p.readings[0];  // <value>72609</value>, <cost>23739318</cost>
  EXPECT_EQ(first.unit, "therm");
  EXPECT_EQ(first.uom, 169);
  EXPECT_EQ(first.value, 72.609);
  EXPECT_EQ(*first.cost, 237.39318);
  EXPECT_EQ(first.currency, "USD");
  EXPECT_EQ(first.start, 1301630400);
  EXPECT_EQ(first.duration, 2592000);
  EXPECT_EQ(first.flow, 1);
  EXPECT_FALSE(first.quality.has_value());
  expect_totals_match(path, 1e-3);
}

TEST(EspiSamples, MarchHasATwentyThreeHourDay) {
  SAMPLE_OR_SKIP(path, "hourlyForMonthMar.xml");
  const Parsed p = parse(path);
  const std::map<int64_t, LocalDay> days = local_days(p);
  ASSERT_EQ(days.size(), 31u);
  for (const auto& [day, d] : days) {
    if (day == days_from_civil(2011, 3, 13)) {
      EXPECT_EQ(d.seconds, 23 * 3600);
      EXPECT_EQ(d.hours, hours_of_a_day_without(2));  // 01:00 EST is followed by 03:00 EDT
    } else {
      EXPECT_EQ(d.seconds, 24 * 3600) << day;
      EXPECT_EQ(d.hours, hours_of_a_day_without(-1)) << day;  // every day starts at 00:00
    }
  }
  EXPECT_TRUE(p.summary.warnings.empty());
}

TEST(EspiSamples, NovemberHasATwentyFiveHourDay) {
  SAMPLE_OR_SKIP(path, "hourlyForMonthNov.xml");
  const Parsed p = parse(path);
  const std::map<int64_t, LocalDay> days = local_days(p);
  ASSERT_EQ(days.size(), 30u);
  for (const auto& [day, d] : days) {
    if (day == days_from_civil(2011, 11, 6)) {
      EXPECT_EQ(d.seconds, 25 * 3600);
      std::vector<int> hours = hours_of_a_day_without(-1);
      hours.insert(hours.begin() + 1, 1);  // 01:00 EDT, then 01:00 EST
      EXPECT_EQ(d.hours, hours);
    } else {
      EXPECT_EQ(d.seconds, 24 * 3600) << day;
      EXPECT_EQ(d.hours, hours_of_a_day_without(-1)) << day;
    }
  }
}

TEST(EspiSamples, FifteenMinuteDaysIncludeTheSpringForwardOf2012) {
  SAMPLE_OR_SKIP(path, "15minLP_15Days.xml");
  const Parsed p = parse(path);
  const std::map<int64_t, LocalDay> days = local_days(p);
  ASSERT_EQ(days.size(), 14u);
  for (const auto& [day, d] : days)
    EXPECT_EQ(d.seconds, (day == days_from_civil(2012, 3, 11) ? 23 : 24) * 3600) << day;
  for (const EspiReading& r : p.readings) ASSERT_EQ(r.duration, 900);
}

TEST(EspiSamples, TheYearLongSampleIsDeliveredAsWrittenAroundItsDstDays) {
  SAMPLE_OR_SKIP(path, "Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml");
  const Parsed p = parse(path);
  ASSERT_EQ(p.summary.usage_points.size(), 1u);
  EXPECT_EQ(p.summary.usage_points[0].local_time->tz_offset, -28800);
  const std::map<int64_t, LocalDay> days = local_days(p);
  ASSERT_EQ(days.size(), 365u);
  for (const auto& [day, d] : days) {
    const size_t expected = day == days_from_civil(2011, 3, 13)   ? 23
                            : day == days_from_civil(2011, 11, 6) ? 25
                                                                  : 24;
    EXPECT_EQ(d.hours.size(), expected) << day;
  }
  // Its exporter wrote the spring-forward day's 01:00 PST as one reading of 7,200 s, and the
  // fall-back day's repeated hour as an extra reading of 0 s at 01:00 PST; and it wrote the
  // spring-forward day's 10:00 PDT (17:00 UTC) twice, 707 then 721 Wh: geoetl delivers what the
  // file says, and warns about both.
  const std::vector<int> fall_back = days.at(days_from_civil(2011, 11, 6)).hours;
  EXPECT_EQ(std::vector<int>(fall_back.begin(), fall_back.begin() + 5),
            std::vector<int>({0, 1, 1, 1, 2}));
  ASSERT_EQ(p.summary.warnings.size(), 2u);
  for (const EspiWarning& w : p.summary.warnings)
    EXPECT_EQ(w.entry_id, "urn:uuid:EE0EC179-2726-43B1-BFE2-40ACC6A8901B");
  EXPECT_NE(p.summary.warnings[0].message.find("(start 1300035600, duration 3600 s) starts before "
                                               "the reading before it ends (1300039200)"),
            std::string::npos)
      << p.summary.warnings[0].message;
  EXPECT_NE(p.summary.warnings[1].message.find("duration of 0 s"), std::string::npos);
  EXPECT_EQ(*p.summary.min_start, 1293868800);  // 2011-01-01 00:00 PST
  EXPECT_EQ(*p.summary.max_end, 1325404800);    // 2012-01-01 00:00 PST
}
