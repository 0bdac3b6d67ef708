// parse_espi_file on feeds written by the test: namespaces by URI whatever the prefixes, entries
// joined by link hrefs in any order, forward and reverse flows kept apart, every malformed case
// an error naming the file and entry (and no reading delivered), warnings, cancellation.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "espi/espi.h"
#include "espi/numbers.h"
#include "espi_feed.h"
#include "tiff_writer.h"  // TempDir

using namespace geoetl;
using espi_fixture::FeedSpec;
using espi_fixture::Meter;
using espi_fixture::Namespaces;

namespace {

struct Parsed {
  EspiSummary summary;
  std::vector<EspiReading> readings;
};

class EspiFeeds : public testing::Test {
 protected:
  std::string write(const std::string& text, const std::string& name = "feed.xml") {
    const std::string path = dir_.file(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  Parsed parse_text(const std::string& text, const CancelToken& cancel = CancelToken()) {
    return parse_path(write(text), cancel);
  }
  static Parsed parse_path(const std::string& path, const CancelToken& cancel = CancelToken()) {
    Parsed p;
    p.summary = parse_espi_file(
        path, [&](const EspiReading& r) { p.readings.push_back(r); }, cancel);
    return p;
  }
  // The error parsing `text` raises; fails the test when there is none or a reading came first.
  Error error_of(const std::string& text) {
    const std::string path = write(text);
    int64_t delivered = 0;
    try {
      parse_espi_file(
          path, [&](const EspiReading&) { delivered++; }, CancelToken());
    } catch (const Error& e) {
      EXPECT_EQ(delivered, 0) << "a bad file delivered readings before its error";
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      return e;
    }
    ADD_FAILURE() << "no error";
    return Error(ErrorKind::internal, "no error");
  }

  TempDir dir_;
};

// A small feed written by hand: entries given as text, in the order given.
const std::string espi_ns = " xmlns=\"http://naesb.org/espi\"";

std::string entry(const std::string& id,
                  const std::map<std::string, std::vector<std::string>>& links,
                  const std::string& content, bool links_last = false) {
  std::string l;
  for (const auto& [rel, hrefs] : links)
    for (const std::string& href : hrefs) l += "<link rel=\"" + rel + "\" href=\"" + href + "\"/>";
  const std::string c = "<content>" + content + "</content>";
  return "<entry><id>" + id + "</id>" + (links_last ? c + l : l + c) + "</entry>\n";
}

std::string atom_feed(const std::vector<std::string>& entries) {
  std::string s = "<?xml version=\"1.0\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n";
  for (const std::string& e : entries) s += e;
  return s + "</feed>\n";
}

std::string reading(const std::string& start, const std::string& duration, const std::string& value,
                    const std::string& extra = "") {
  return "<IntervalReading>" + extra + "<timePeriod><duration>" + duration + "</duration><start>" +
         start + "</start></timePeriod><value>" + value + "</value></IntervalReading>";
}

std::string block(int64_t start, int64_t duration, const std::string& readings) {
  return "<IntervalBlock" + espi_ns + "><interval><duration>" + std::to_string(duration) +
         "</duration><start>" + std::to_string(start) + "</start></interval>" + readings +
         "</IntervalBlock>";
}

// A usage point with one meter: UP, LTP, MR, RT and one block entry holding `blocks`.
std::vector<std::string> one_meter(
    const std::string& blocks,
    const std::string& reading_type = "<uom>72</uom><flowDirection>1</flowDirection>") {
  return {
      entry("urn:up", {{"self", {"UP/1"}}, {"related", {"UP/1/MeterReading", "LTP/1"}}},
            "<UsagePoint" + espi_ns +
                "><ServiceCategory><kind>0</kind></ServiceCategory></UsagePoint>"),
      entry("urn:ltp", {{"self", {"LTP/1"}}},
            "<LocalTimeParameters" + espi_ns +
                "><tzOffset>-18000</tzOffset><dstOffset>3600</dstOffset>"
                "<dstStartRule>360E2000</dstStartRule><dstEndRule>B40E2000</dstEndRule></"
                "LocalTimeParameters>"),
      entry("urn:mr",
            {{"self", {"UP/1/MeterReading/1"}},
             {"up", {"UP/1/MeterReading"}},
             {"related", {"UP/1/MeterReading/1/IntervalBlock", "RT/1"}}},
            "<MeterReading" + espi_ns + "/>"),
      entry("urn:ib",
            {{"self", {"UP/1/MeterReading/1/IntervalBlock/1"}},
             {"up", {"UP/1/MeterReading/1/IntervalBlock"}}},
            blocks),
      entry("urn:rt", {{"self", {"RT/1"}}},
            "<ReadingType" + espi_ns + ">" + reading_type + "</ReadingType>"),
  };
}

std::string good_block() {
  return block(1000, 7200, reading("1000", "3600", "5") + reading("4600", "3600", "7"));
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

double total(const std::vector<EspiReading>& readings) {
  double t = 0;
  for (const EspiReading& r : readings) t += r.value;
  return t;
}

}  // namespace

TEST_F(EspiFeeds, NamespacesAreMatchedByUriWhateverThePrefixes) {
  FeedSpec spec;
  spec.usage_points = 2;
  spec.meters = {Meter{1, 72, 0, 840}, Meter{19, 72, 0, 840}};
  double expected = 0;
  for (int u = 0; u < 2; u++)
    for (int m = 0; m < 2; m++)
      for (int64_t i = 0; i < 48; i++)
        expected += static_cast<double>(espi_fixture::reading_value(u, m, i));
  for (Namespaces ns : {Namespaces::default_ns, Namespaces::espi_prefix, Namespaces::ns0_prefix}) {
    spec.namespaces = ns;
    const std::string text = espi_fixture::feed_text(spec);
    SCOPED_TRACE(text.substr(0, 200));
    const Parsed p = parse_text(text);
    EXPECT_EQ(p.summary.usage_points.size(), 2u);
    EXPECT_EQ(p.summary.reading_types.size(), 4u);
    EXPECT_EQ(p.readings.size(), 2u * 2u * 48u);
    EXPECT_EQ(total(p.readings), expected);
    EXPECT_TRUE(p.summary.warnings.empty());
  }
}

TEST_F(EspiFeeds, APrefixBoundToAnotherNamespaceIsNotEspi) {
  // espi: names a namespace that is not ESPI's: its "IntervalBlock" is someone else's element
  std::vector<std::string> entries = one_meter(good_block());
  entries[3] = entry("urn:ib",
                     {{"self", {"UP/1/MeterReading/1/IntervalBlock/1"}},
                      {"up", {"UP/1/MeterReading/1/IntervalBlock"}}},
                     "<espi:IntervalBlock xmlns:espi=\"http://example.com/not-espi\">"
                     "<espi:IntervalReading><espi:timePeriod><espi:duration>60</espi:duration>"
                     "<espi:start>0</espi:start></espi:timePeriod><espi:value>9</espi:value>"
                     "</espi:IntervalReading></espi:IntervalBlock>");
  const Parsed p = parse_text(atom_feed(entries));
  EXPECT_EQ(p.summary.readings, 0);
  EXPECT_TRUE(p.readings.empty());
}

TEST_F(EspiFeeds, EntriesInScrambledOrderGiveTheSameReadings) {
  FeedSpec spec;
  spec.usage_points = 3;
  spec.meters = {Meter{1, 72, 0, 840}, Meter{19, 72, -1, 978}};
  const Parsed in_order = parse_text(espi_fixture::feed_text(spec));
  spec.scrambled = true;
  const std::string scrambled = espi_fixture::feed_text(spec);
  ASSERT_LT(scrambled.find("IntervalBlock"), scrambled.find("<UsagePoint"));  // blocks first
  const Parsed p = parse_text(scrambled);
  ASSERT_EQ(p.readings.size(), in_order.readings.size());
  std::map<std::string, double> a, b;
  for (const EspiReading& r : in_order.readings) a[r.usage_point + " " + r.reading_type] += r.value;
  for (const EspiReading& r : p.readings) b[r.usage_point + " " + r.reading_type] += r.value;
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 6u);
  EXPECT_EQ(p.summary.min_start, in_order.summary.min_start);
  EXPECT_EQ(p.summary.max_end, in_order.summary.max_end);
}

TEST_F(EspiFeeds, LinksAfterTheContentAndSeveralBlockEntriesPerMeterReading) {
  std::vector<std::string> entries = one_meter(good_block());
  entries.push_back(entry("urn:ib2",
                          {{"self", {"UP/1/MeterReading/1/IntervalBlock/2"}},
                           {"up", {"UP/1/MeterReading/1/IntervalBlock"}}},
                          block(8200, 3600, reading("8200", "3600", "11")), /*links_last=*/true));
  const Parsed p = parse_text(atom_feed(entries));
  ASSERT_EQ(p.readings.size(), 3u);
  EXPECT_EQ(total(p.readings), 23);
  for (const EspiReading& r : p.readings) {
    EXPECT_EQ(r.usage_point, "UP/1");
    EXPECT_EQ(r.reading_type, "RT/1");
  }
  EXPECT_EQ(p.summary.usage_points.at(0).readings, 3);
}

TEST_F(EspiFeeds, ReadingTypeAndLocalTimeFoundByTheirUpLinksWhenNotRelated) {
  // As the five-usage-point sample: the ReadingType's up is its MeterReading, the
  // LocalTimeParameters' up its UsagePoint; here without the related links to them.
  std::vector<std::string> entries = one_meter(good_block());
  entries[0] = entry("urn:up", {{"self", {"UP/1"}}}, "<UsagePoint" + espi_ns + "/>");
  entries[1] = replace_once(entries[1], "<link rel=\"self\" href=\"LTP/1\"/>",
                            "<link rel=\"up\" href=\"UP/1\"/>");
  entries[2] = replace_once(entries[2], "<link rel=\"related\" href=\"RT/1\"/>", "");
  entries[4] = replace_once(
      entries[4], "<link rel=\"self\" href=\"RT/1\"/>",
      "<link rel=\"self\" href=\"RT/1\"/><link rel=\"up\" href=\"UP/1/MeterReading/1\"/>");
  const Parsed p = parse_text(atom_feed(entries));
  ASSERT_EQ(p.readings.size(), 2u);
  EXPECT_EQ(p.readings[0].reading_type, "RT/1");
  EXPECT_EQ(p.readings[0].usage_point, "UP/1");  // by <UsagePoint self>/MeterReading
  EXPECT_TRUE(p.summary.usage_points[0].local_time.has_value());
  EXPECT_EQ(p.summary.usage_points[0].kind, -1);
}

TEST_F(EspiFeeds, ForwardAndReverseFlowsAreKeptApart) {
  FeedSpec spec;
  spec.meters = {Meter{1, 72, 0, 840}, Meter{19, 72, 0, 840}};
  const Parsed p = parse_text(espi_fixture::feed_text(spec));
  std::map<int, double> by_flow;
  std::map<int, std::string> type_of_flow;
  for (const EspiReading& r : p.readings) {
    by_flow[r.flow] += r.value;
    type_of_flow[r.flow] = r.reading_type;
  }
  ASSERT_EQ(by_flow.size(), 2u);
  double forward = 0, reverse = 0;
  for (int64_t i = 0; i < 48; i++) {
    forward += static_cast<double>(espi_fixture::reading_value(0, 0, i));
    reverse += static_cast<double>(espi_fixture::reading_value(0, 1, i));
  }
  EXPECT_EQ(by_flow[1], forward);
  EXPECT_EQ(by_flow[19], reverse);
  EXPECT_EQ(type_of_flow[1], espi_fixture::reading_type_href(0, 0));
  EXPECT_EQ(type_of_flow[19], espi_fixture::reading_type_href(0, 1));
  EXPECT_EQ(p.summary.usage_points.at(0).readings, 96);  // both, counted per usage point
}

TEST_F(EspiFeeds, ValuesCostsQualityAndUnitsAsTheReadingTypeSays) {
  const std::string readings =
      reading("1000", "3600", "72609", "<cost>23739318</cost>") +
      reading("4600", "3600", "-15", "<ReadingQuality><quality>8</quality></ReadingQuality>");
  const Parsed p = parse_text(atom_feed(one_meter(
      block(1000, 7200, readings),
      "<currency>124</currency><defaultQuality>14</defaultQuality><flowDirection>4</flowDirection>"
      "<powerOfTenMultiplier>-3</powerOfTenMultiplier><uom>119</uom>")));
  ASSERT_EQ(p.readings.size(), 2u);
  EXPECT_EQ(p.readings[0].value, 72.609);
  EXPECT_EQ(*p.readings[0].cost, 237.39318);
  EXPECT_EQ(p.readings[0].currency, "CAD");
  EXPECT_EQ(p.readings[0].unit, "ft3");
  EXPECT_EQ(p.readings[0].uom, 119);
  EXPECT_EQ(p.readings[0].flow, 4);
  EXPECT_EQ(p.readings[0].quality, 14);  // the ReadingType's default
  EXPECT_EQ(p.readings[1].value, -0.015);
  EXPECT_FALSE(p.readings[1].cost.has_value());
  EXPECT_EQ(p.readings[1].quality, 8);  // its own
  EXPECT_EQ(p.summary.reading_types.at(0).interval_length, std::nullopt);
}

TEST_F(EspiFeeds, AnEmptyCallbackChecksWithoutDelivering) {
  FeedSpec spec;
  const std::string path = write(espi_fixture::feed_text(spec));
  const EspiSummary s = parse_espi_file(path, {}, CancelToken());
  EXPECT_EQ(s.readings, 48);
  EXPECT_EQ(s.usage_points.size(), 1u);
}

TEST_F(EspiFeeds, ABlockWhoseReadingsDoNotAddUpIsAWarning) {
  const Parsed p = parse_text(atom_feed(
      one_meter(block(1000, 10800, reading("1000", "3600", "5") + reading("4600", "3600", "7")))));
  EXPECT_EQ(p.readings.size(), 2u);
  ASSERT_EQ(p.summary.warnings.size(), 1u);
  EXPECT_EQ(p.summary.warnings[0].entry_id, "urn:ib");
  EXPECT_NE(p.summary.warnings[0].message.find("readings cover 7200 s"), std::string::npos)
      << p.summary.warnings[0].message;
}

TEST_F(EspiFeeds, AReadingThatStartsBeforeTheOneBeforeEndsIsAWarning) {
  // the whole-year Green Button sample writes one hour of its spring-forward day twice
  const Parsed p = parse_text(
      atom_feed(one_meter(block(1000, 7200,
                                reading("1000", "3600", "5") + reading("1000", "3600", "6") +
                                    reading("4600", "3600", "7")))));
  ASSERT_EQ(p.readings.size(), 3u);  // all delivered, in file order
  EXPECT_EQ(p.readings[1].value, 6);
  ASSERT_EQ(p.summary.warnings.size(), 2u);  // and the block's readings cover 10,800 s of 7,200
  EXPECT_EQ(p.summary.warnings[0].entry_id, "urn:ib");
  EXPECT_NE(p.summary.warnings[0].message.find(
                "IntervalReading 2 of IntervalBlock 1 (start 1000, duration 3600 s) starts before "
                "the reading before it ends (4600)"),
            std::string::npos)
      << p.summary.warnings[0].message;
}

TEST_F(EspiFeeds, AUsagePointWithoutLocalTimeIsAWarning) {
  std::vector<std::string> entries = one_meter(good_block());
  entries.erase(entries.begin() + 1);
  const Parsed p = parse_text(atom_feed(entries));
  EXPECT_FALSE(p.summary.usage_points[0].local_time.has_value());
  ASSERT_EQ(p.summary.warnings.size(), 1u);
  EXPECT_EQ(p.summary.warnings[0].entry_id, "urn:up");
}

TEST_F(EspiFeeds, NotXmlNotAtomAndNoEspiAreErrors) {
  struct Case {
    std::string text, says;
  };
  const std::vector<Case> cases = {
      {"Service unavailable, try again later", "not well-formed XML"},
      {"", "not well-formed XML"},
      {"<html><body><p>Log in</p></body></html>", "not an Atom feed"},
      {"<feed><entry/></feed>", "not an Atom feed"},  // no namespace
      {atom_feed({entry("urn:a", {{"self", {"x"}}}, "nothing here")}), "holds no ESPI content"},
      {atom_feed({}), "holds no ESPI content"},
      {"<?xml version=\"1.0\"?><!DOCTYPE feed [<!ENTITY x \"y\">]><feed "
       "xmlns=\"http://www.w3.org/2005/Atom\"/>",
       "DOCTYPE"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const Error e = error_of(c.text);
    EXPECT_EQ(e.kind(), ErrorKind::data_corrupted);
    EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
  }
}

TEST_F(EspiFeeds, EachReadingCarriesItsBlockEntrysUpdatedTime) {
  std::vector<std::string> entries = one_meter(good_block());
  Parsed p = parse_text(atom_feed(entries));
  ASSERT_EQ(p.readings.size(), 2u);
  EXPECT_FALSE(p.readings[0].updated);  // none written
  // after the content, with an offset: 2012-10-24T00:00:00-07:00 is 07:00 UTC
  entries[3] = replace_once(entries[3], "</content>",
                            "</content><updated>2012-10-24T00:00:00.250-07:00</updated>");
  entries[0] = replace_once(entries[0], "</id>", "</id><updated>1999-01-01T00:00:00Z</updated>");
  p = parse_text(atom_feed(entries));
  ASSERT_EQ(p.readings.size(), 2u);
  for (const EspiReading& r : p.readings) {
    EXPECT_EQ(r.updated, int64_t{1351062000});
    ASSERT_TRUE(r.local_time);  // and its usage point's local time, for local dates
    EXPECT_EQ(r.local_time->tz_offset, -18000);
    EXPECT_EQ(r.local_time->dst_start_rule, 0x360E2000u);
  }
}

TEST_F(EspiFeeds, TheCheckedSummaryComesBeforeTheFirstReading) {
  const std::string path = write(atom_feed(one_meter(good_block())));
  std::vector<std::string> events;
  const EspiSummary s = parse_espi_file(
      path, [&](const EspiReading&) { events.push_back("reading"); }, CancelToken(),
      [&](const EspiSummary& checked) {
        events.push_back("checked " + std::to_string(checked.readings));
      });
  EXPECT_EQ(events, (std::vector<std::string>{"checked 2", "reading", "reading"}));
  EXPECT_EQ(s.readings, 2);
  // a bad file: neither
  events.clear();
  EXPECT_THROW(parse_espi_file(
                   write(atom_feed(one_meter(block(1000, 3600, reading("1.5", "3600", "5"))))),
                   [&](const EspiReading&) { events.push_back("reading"); }, CancelToken(),
                   [&](const EspiSummary&) { events.push_back("checked"); }),
               Error);
  EXPECT_TRUE(events.empty());
}

TEST(EspiNumbers, IsoDateTimesAsAtomWritesThem) {
  struct Case {
    const char* text;
    bool ok;
    int64_t epoch;
  };
  const Case cases[] = {
      {"1970-01-01T00:00:00Z", true, 0},
      {"2012-10-24T00:00:00Z", true, 1351036800},
      {"2012-10-24t00:00:00z", true, 1351036800},
      {"2012-10-24T00:00:00+02:00", true, 1351036800 - 7200},
      {"2012-10-24T00:00:00.999Z", true, 1351036800},  // the fraction is dropped
      {"2012-02-29T12:00:00Z", true, 1330516800},
      {"1969-12-31T23:59:59Z", true, -1},
      {"2011-02-29T12:00:00Z", false, 0},  // not a leap year
      {"2012-10-24T00:00:00", false, 0},   // no offset: no instant
      {"2012-10-24", false, 0},
      {"2012-13-01T00:00:00Z", false, 0},
      {"2012-10-24T24:00:00Z", false, 0},
      {"2012-10-24T00:00:00.Z", false, 0},
      {"2012-10-24T00:00:00+0200", false, 0},
      {"2012-10-24T00:00:00Z ", false, 0},
      {"", false, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    int64_t v = 42;
    EXPECT_EQ(espi::parse_iso_datetime(c.text, &v), c.ok);
    if (c.ok) {
      EXPECT_EQ(v, c.epoch);
    }
  }
}

TEST_F(EspiFeeds, MalformedEntriesAreErrorsNamingTheEntry) {
  struct Case {
    std::vector<std::string> entries;
    std::string entry, says;
  };
  std::vector<std::string> empty_type = one_meter(good_block());
  empty_type[4] = entry("urn:rt", {{"self", {"RT/1"}}}, "<ReadingType" + espi_ns + "/>");
  std::vector<std::string> orphan = one_meter(good_block());
  orphan[3] = replace_once(orphan[3], "UP/1/MeterReading/1/IntervalBlock\"",
                           "UP/9/MeterReading/1/IntervalBlock\"");
  std::vector<std::string> no_type = one_meter(good_block());
  no_type.pop_back();
  std::vector<std::string> two_resources = one_meter(good_block());
  two_resources[0] =
      replace_once(two_resources[0], "</content>", "<MeterReading" + espi_ns + "/></content>");
  std::vector<std::string> bad_updated = one_meter(good_block());
  bad_updated[3] = replace_once(bad_updated[3], "</id>", "</id><updated>2012-10-24</updated>");
  const std::vector<Case> cases = {
      {empty_type, "urn:rt", "empty ReadingType"},
      {bad_updated, "urn:ib", "its updated \"2012-10-24\" is not an ISO 8601 date-time"},
      {one_meter(block(1000, 3600, "<IntervalReading><value>5</value></IntervalReading>")),
       "urn:ib", "IntervalReading 1 of IntervalBlock 1 has no timePeriod"},
      {one_meter(block(1000, 3600, reading("1000.5", "3600", "5"))), "urn:ib", "not whole seconds"},
      {one_meter(block(1000, 3600, reading("1000", "3600.0", "5"))), "urn:ib", "not whole seconds"},
      {one_meter(block(1000, 3600, reading("1000", "-3600", "5"))), "urn:ib", "negative"},
      {one_meter(block(1000, 3600, reading("253402300800", "3600", "5"))), "urn:ib",
       "starts at 253402300800 s, not between 1900 and 9999"},
      {one_meter(block(1000, 3600, reading("-2208988801", "3600", "5"))), "urn:ib",
       "not between 1900 and 9999"},
      {one_meter(block(1000, 3600, reading("1000", "31622401", "5"))), "urn:ib",
       "lasts 31622401 s, more than a year"},
      {one_meter(block(1000, 3600, reading("1000", "3600", "five"))), "urn:ib", "is not a number"},
      {one_meter(block(1000, 3600,
                       "<IntervalReading><timePeriod><start>1000</start></timePeriod>"
                       "<value>5</value></IntervalReading>")),
       "urn:ib", "no timePeriod duration"},
      {one_meter(block(1000, 3600,
                       "<IntervalReading><timePeriod><duration>60</duration>"
                       "<start>1000</start></timePeriod></IntervalReading>")),
       "urn:ib", "has no value"},
      {orphan, "urn:ib", "no MeterReading entry links"},
      {no_type, "urn:mr", "no ReadingType"},
      {two_resources, "urn:up", "one resource per entry"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.says);
    const Error e = error_of(atom_feed(c.entries));
    EXPECT_EQ(e.kind(), ErrorKind::data_corrupted);
    EXPECT_NE(std::string(e.what()).find("entry " + c.entry), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
  }
}

TEST_F(EspiFeeds, ATruncatedFileIsAnErrorAndDeliversNothing) {
  FeedSpec spec;
  spec.days = 20;
  const std::string text = espi_fixture::feed_text(spec);
  for (size_t cut : {text.size() / 2, text.size() - 10, text.size() - 8}) {
    SCOPED_TRACE(cut);
    const Error e = error_of(text.substr(0, cut));
    EXPECT_EQ(e.kind(), ErrorKind::data_corrupted);
    EXPECT_NE(std::string(e.what()).find("not well-formed XML"), std::string::npos) << e.what();
  }
}

TEST_F(EspiFeeds, AnErrorInTheLastReadingComesBeforeAnyReading) {
  FeedSpec spec;
  spec.days = 30;
  std::string text = espi_fixture::feed_text(spec);
  const size_t last = text.rfind("<value>");
  text.replace(last, 7, "<value>x");
  const Error e = error_of(text);  // checks that no reading was delivered
  EXPECT_NE(std::string(e.what()).find("IntervalReading 24 of IntervalBlock 30"), std::string::npos)
      << e.what();
}

TEST_F(EspiFeeds, PathsThatAreNoFile) {
  try {
    parse_espi_file(dir_.file("absent.xml"), {}, CancelToken());
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
  }
  for (const std::string& path : {std::string(), dir_.path()}) {
    try {
      parse_espi_file(path, {}, CancelToken());
      ADD_FAILURE() << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::invalid_argument) << path;
    }
  }
}

TEST_F(EspiFeeds, CancellationStopsEitherPass) {
  FeedSpec spec;
  spec.usage_points = 4;
  spec.days = 400;  // a few MB: several reads of the file in each pass
  const std::string path = write(espi_fixture::feed_text(spec));
  int64_t delivered = 0;
  bool cancel_now = false;
  const CancelToken token([&] { return cancel_now; });
  const auto parse = [&] {
    try {
      parse_espi_file(
          path,
          [&](const EspiReading&) {
            if (++delivered == 100) cancel_now = true;
          },
          token);
      ADD_FAILURE() << "not cancelled";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::cancelled) << e.what();
    }
  };
  parse();  // during the second pass, once readings flow
  EXPECT_GE(delivered, 100);
  EXPECT_LT(delivered, 4 * 400 * 24);
  delivered = 0;
  cancel_now = true;
  parse();  // in the first pass: nothing delivered
  EXPECT_EQ(delivered, 0);
}
