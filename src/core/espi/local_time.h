// Local time of a Green Button usage point, from its ESPI LocalTimeParameters: a standard offset
// from UTC, a daylight-saving offset and the two NAESB REQ.21 DST rules (DstRuleType), never a
// table of time zones.
//
// A DST rule is a 32-bit field, written in hex (360E2000):
//   bits 28-31 month 1-12            bits 25-27 operator (below)
//   bits 20-24 day of the month 1-31 (0: not applicable)
//   bits 17-19 day of the week 1-7, Monday = 1 (0: not applicable)
//   bits 12-16 hour 0-23             bits 0-11  seconds 0-3599
// operators: 0 the day of the month; 1 the day of the week on or after the day of the month;
// 2-6 its first to fifth occurrence in the month (a fifth that does not exist is the last);
// 7 its last occurrence. FFFFFFFF: no DST.
// 360E2000 = the second Sunday of March at 02:00, B40E2000 = the first Sunday of November at
// 02:00 (North America since 2007). The time of a rule is local wall-clock time: the start rule
// in standard time, the end rule in daylight time (02:00 EDT is 06:00 UTC in New York), so a
// spring-forward day has 23 hours and a fall-back day 25.
#pragma once

#include <cstdint>
#include <optional>

namespace geoetl {

// One usage point's LocalTimeParameters, as the feed gives them.
struct EspiLocalTime {
  int32_t tz_offset = 0;                 // tzOffset: standard time minus UTC, seconds
  int32_t dst_offset = 0;                // dstOffset: added while DST is on, seconds
  uint32_t dst_start_rule = 0xFFFFFFFF;  // dstStartRule
  uint32_t dst_end_rule = 0xFFFFFFFF;    // dstEndRule
};

// A decoded DstRuleType.
struct EspiDstRule {
  int month = 0;         // 1-12
  int op = 0;            // operator 0-7
  int day_of_month = 0;  // 1-31, 0: not applicable
  int day_of_week = 0;   // 1 (Monday) - 7 (Sunday), 0: not applicable
  int hour = 0;          // 0-23
  int seconds = 0;       // 0-3599, after the hour
};

// The rule's fields; nullopt for FFFFFFFF (no DST). Throws Error(invalid_argument) when a field
// is out of range or the operator needs a field the rule leaves at 0.
std::optional<EspiDstRule> decode_dst_rule(uint32_t rule);

// When the rule falls in `year`, as local wall-clock seconds since 1970-01-01 00:00 local.
int64_t dst_rule_local_seconds(const EspiDstRule& rule, int year);

// The offset (seconds) to add to the UTC instant `utc` (epoch seconds) to get local wall-clock
// time there: tz_offset, plus dst_offset while DST is on. Southern-hemisphere rules (start after
// end in the year) are understood. Throws Error(invalid_argument) for an undecodable rule.
int32_t espi_utc_offset(const EspiLocalTime& local_time, int64_t utc);

// Local wall-clock time of `utc`, as seconds since 1970-01-01 00:00 local: its day is
// floor(result / 86400) days after 1970-01-01, its time of day result mod 86400.
inline int64_t espi_local_seconds(const EspiLocalTime& local_time, int64_t utc) {
  return utc + espi_utc_offset(local_time, utc);
}

// Days since 1970-01-01 of a civil date (proleptic Gregorian), and back.
int64_t days_from_civil(int year, int month, int day);
void civil_from_days(int64_t days, int* year, int* month, int* day);

}  // namespace geoetl
