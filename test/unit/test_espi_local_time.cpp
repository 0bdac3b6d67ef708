// espi/local_time: NAESB REQ.21 DST rules decoded bit by bit, and UTC instants turned into local
// time by them (North America both ways round its changes, the southern hemisphere, no DST).
#include <gtest/gtest.h>

#include "base/error.h"
#include "espi/local_time.h"

using namespace geoetl;

namespace {

int64_t utc(int y, int mo, int d, int h, int mi = 0, int s = 0) {
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}
int64_t local(int y, int mo, int d, int h, int mi = 0) {
  return utc(y, mo, d, h, mi);
}

uint32_t rule(int month, int op, int day_of_month, int day_of_week, int hour, int seconds = 0) {
  return static_cast<uint32_t>(month) << 28 | static_cast<uint32_t>(op) << 25 |
         static_cast<uint32_t>(day_of_month) << 20 | static_cast<uint32_t>(day_of_week) << 17 |
         static_cast<uint32_t>(hour) << 12 | static_cast<uint32_t>(seconds);
}

const EspiLocalTime eastern{-18000, 3600, 0x360E2000, 0xB40E2000};

}  // namespace

TEST(EspiLocalTime, CivilDatesRoundTripAcrossLeapYearsAndBefore1970) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28), 2);  // 2000 is leap
  EXPECT_EQ(days_from_civil(1900, 3, 1) - days_from_civil(1900, 2, 28), 1);  // 1900 is not
  for (int64_t d : {-800000, -1, 0, 59, 11016, 15044, 19782, 2932896}) {
    int y, m, day;
    civil_from_days(d, &y, &m, &day);
    EXPECT_EQ(days_from_civil(y, m, day), d);
  }
  int y, m, d;
  civil_from_days(-1, &y, &m, &d);
  EXPECT_EQ(y * 10000 + m * 100 + d, 19691231);
}

TEST(EspiLocalTime, DecodesTheNorthAmericanRulesBitByBit) {
  const EspiDstRule start = *decode_dst_rule(0x360E2000);
  EXPECT_EQ(start.month, 3);
  EXPECT_EQ(start.op, 3);  // second occurrence
  EXPECT_EQ(start.day_of_month, 0);
  EXPECT_EQ(start.day_of_week, 7);  // Sunday
  EXPECT_EQ(start.hour, 2);
  EXPECT_EQ(start.seconds, 0);
  const EspiDstRule end = *decode_dst_rule(0xB40E2000);
  EXPECT_EQ(end.month, 11);
  EXPECT_EQ(end.op, 2);  // first occurrence
  EXPECT_EQ(end.day_of_week, 7);
  EXPECT_EQ(end.hour, 2);
  EXPECT_EQ(rule(3, 3, 0, 7, 2), 0x360E2000u);  // the test's encoder agrees with the samples
  EXPECT_EQ(rule(11, 2, 0, 7, 2), 0xB40E2000u);
  EXPECT_FALSE(decode_dst_rule(0xFFFFFFFF).has_value());
  EXPECT_EQ(decode_dst_rule(0x360E2004)->seconds, 4);  // the five-usage-point sample's variant
}

TEST(EspiLocalTime, SecondSundayOfMarchAndFirstSundayOfNovember) {
  const EspiDstRule start = *decode_dst_rule(0x360E2000), end = *decode_dst_rule(0xB40E2000);
  EXPECT_EQ(dst_rule_local_seconds(start, 2011), local(2011, 3, 13, 2));
  EXPECT_EQ(dst_rule_local_seconds(start, 2012), local(2012, 3, 11, 2));
  EXPECT_EQ(dst_rule_local_seconds(start, 2024), local(2024, 3, 10, 2));
  EXPECT_EQ(dst_rule_local_seconds(start, 2026), local(2026, 3, 8, 2));  // March 1st a Sunday
  EXPECT_EQ(dst_rule_local_seconds(end, 2011), local(2011, 11, 6, 2));
  EXPECT_EQ(dst_rule_local_seconds(end, 2012), local(2012, 11, 4, 2));
  EXPECT_EQ(dst_rule_local_seconds(end, 2024), local(2024, 11, 3, 2));
  EXPECT_EQ(dst_rule_local_seconds(end, 2026), local(2026, 11, 1, 2));  // November 1st a Sunday
}

TEST(EspiLocalTime, EveryOperator) {
  const auto at = [](uint32_t r, int year) {
    return dst_rule_local_seconds(*decode_dst_rule(r), year);
  };
  EXPECT_EQ(at(rule(6, 0, 18, 0, 2, 3012), 2025), local(2025, 6, 18, 2, 50) + 12);  // a date
  EXPECT_EQ(at(rule(3, 1, 8, 7, 2), 2011), local(2011, 3, 13, 2));   // Sunday on/after the 8th
  EXPECT_EQ(at(rule(3, 1, 13, 7, 2), 2011), local(2011, 3, 13, 2));  // ... on it
  EXPECT_EQ(at(rule(2, 1, 14, 2, 0), 2025), local(2025, 2, 18, 0));  // Tuesday on/after the 14th
  EXPECT_EQ(at(rule(3, 4, 0, 5, 1, 2700), 2024), local(2024, 3, 15, 1, 45));  // third Friday
  EXPECT_EQ(at(rule(3, 7, 0, 7, 2), 2024), local(2024, 3, 31, 2));    // last Sunday of March
  EXPECT_EQ(at(rule(10, 7, 0, 7, 3), 2024), local(2024, 10, 27, 3));  // last Sunday of October
  EXPECT_EQ(at(rule(12, 7, 0, 2, 0), 2025), local(2025, 12, 30, 0));  // last Tuesday of December
  EXPECT_EQ(at(rule(3, 6, 0, 7, 2), 2024), local(2024, 3, 31, 2));    // a fifth Sunday exists
  EXPECT_EQ(at(rule(2, 6, 0, 7, 2), 2025), local(2025, 2, 23, 2));    // none: the last
  EXPECT_EQ(at(rule(2, 0, 30, 0, 0), 2025), local(2025, 2, 28, 0));   // Feb 30th: its last day
}

TEST(EspiLocalTime, RulesWithImpossibleFieldsAreRefused) {
  for (uint32_t bad :
       {rule(0, 3, 0, 7, 2), rule(13, 3, 0, 7, 2), rule(3, 3, 0, 7, 24), rule(3, 3, 0, 7, 2, 3600),
        rule(3, 3, 0, 0, 2), rule(3, 0, 0, 0, 2), rule(3, 1, 8, 0, 2), rule(3, 7, 0, 0, 2), 0u}) {
    try {
      decode_dst_rule(bad);
      ADD_FAILURE() << std::hex << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::invalid_argument) << std::hex << bad;
    }
  }
  EXPECT_THROW(espi_utc_offset({-18000, 3600, rule(0, 3, 0, 7, 2), 0xB40E2000}, 0), Error);
}

TEST(EspiLocalTime, NorthAmericaSpringsForwardAtTwoStandardAndFallsBackAtTwoDaylight) {
  EXPECT_EQ(espi_utc_offset(eastern, utc(2011, 1, 15, 12)), -18000);
  EXPECT_EQ(espi_utc_offset(eastern, utc(2011, 3, 13, 6, 59, 59)), -18000);  // 01:59:59 EST
  EXPECT_EQ(espi_utc_offset(eastern, utc(2011, 3, 13, 7)), -14400);          // 03:00 EDT
  EXPECT_EQ(espi_utc_offset(eastern, utc(2011, 7, 4, 12)), -14400);
  EXPECT_EQ(espi_utc_offset(eastern, utc(2011, 11, 6, 5, 59, 59)), -14400);  // 01:59:59 EDT
  EXPECT_EQ(espi_utc_offset(eastern, utc(2011, 11, 6, 6)), -18000);          // 01:00 EST again
  EXPECT_EQ(espi_local_seconds(eastern, utc(2011, 3, 13, 7)), local(2011, 3, 13, 3));
  EXPECT_EQ(espi_local_seconds(eastern, utc(2011, 11, 6, 6)), local(2011, 11, 6, 1));
  EXPECT_EQ(espi_local_seconds(eastern, utc(2011, 11, 6, 5)), local(2011, 11, 6, 1));
  // Pacific, as the year-long sample: the same rules, three hours later in UTC
  const EspiLocalTime pacific{-28800, 3600, 0x360E2000, 0xB40E2000};
  EXPECT_EQ(espi_utc_offset(pacific, utc(2011, 3, 13, 9, 59, 59)), -28800);
  EXPECT_EQ(espi_utc_offset(pacific, utc(2011, 3, 13, 10)), -25200);
  EXPECT_EQ(espi_utc_offset(pacific, utc(2011, 11, 6, 8, 59, 59)), -25200);
  EXPECT_EQ(espi_utc_offset(pacific, utc(2011, 11, 6, 9)), -28800);
}

TEST(EspiLocalTime, SouthernHemisphereSummerSpansNewYear) {
  // Sydney: +10:00, DST from the first Sunday of October 02:00 AEST to the first Sunday of April
  // 03:00 AEDT
  const EspiLocalTime sydney{36000, 3600, rule(10, 2, 0, 7, 2), rule(4, 2, 0, 7, 3)};
  EXPECT_EQ(espi_utc_offset(sydney, utc(2024, 1, 15, 0)), 39600);
  EXPECT_EQ(espi_utc_offset(sydney, utc(2024, 4, 6, 15, 59, 59)), 39600);  // 02:59:59 AEDT
  EXPECT_EQ(espi_utc_offset(sydney, utc(2024, 4, 6, 16)), 36000);          // 02:00 AEST
  EXPECT_EQ(espi_utc_offset(sydney, utc(2024, 6, 15, 0)), 36000);
  EXPECT_EQ(espi_utc_offset(sydney, utc(2024, 10, 5, 15, 59, 59)), 36000);  // 01:59:59 AEST
  EXPECT_EQ(espi_utc_offset(sydney, utc(2024, 10, 5, 16)), 39600);          // 03:00 AEDT
  EXPECT_EQ(espi_utc_offset(sydney, utc(2024, 12, 31, 20)), 39600);         // new year, local
}

TEST(EspiLocalTime, NoDstWhenARuleIsOffOrTheOffsetIsZero) {
  const EspiLocalTime arizona{-25200, 3600, 0xFFFFFFFF, 0xFFFFFFFF};
  EXPECT_EQ(espi_utc_offset(arizona, utc(2011, 7, 4, 12)), -25200);
  EXPECT_EQ(espi_utc_offset({-25200, 3600, 0x360E2000, 0xFFFFFFFF}, utc(2011, 7, 4, 12)), -25200);
  EXPECT_EQ(espi_utc_offset({-25200, 0, 0x360E2000, 0xB40E2000}, utc(2011, 7, 4, 12)), -25200);
  EXPECT_EQ(espi_utc_offset({19800, 0, 0xFFFFFFFF, 0xFFFFFFFF}, utc(2024, 1, 1, 0)), 19800);
}
