#include "espi/local_time.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "base/error.h"

namespace geoetl {
namespace {

constexpr uint32_t no_dst = 0xFFFFFFFF;

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// ISO weekday of a day count: 1 Monday ... 7 Sunday (1970-01-01 was a Thursday).
int weekday(int64_t days) {
  return static_cast<int>((days % 7 + 7 + 3) % 7) + 1;
}

int64_t days_in_month(int year, int month) {
  const int64_t first = days_from_civil(year, month, 1);
  return (month == 12 ? days_from_civil(year + 1, 1, 1) : days_from_civil(year, month + 1, 1)) -
         first;
}

[[noreturn]] void bad_rule(uint32_t rule, const char* why) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "%08X", rule);
  throw Error(ErrorKind::invalid_argument, std::string("DST rule ") + hex + " is invalid: " + why,
              "", "a DstRuleType holds month, operator, day, weekday, hour and seconds fields");
}

// The day (days since 1970-01-01) on which the rule falls in `year`.
int64_t rule_day(const EspiDstRule& r, int year) {
  const int64_t first = days_from_civil(year, r.month, 1);
  const int64_t length = days_in_month(year, r.month);
  const auto forward_to_weekday = [&](int64_t day) {
    return day + (r.day_of_week - weekday(day) + 7) % 7;
  };
  switch (r.op) {
    case 0: return first + std::min<int64_t>(r.day_of_month, length) - 1;
    case 1: return forward_to_weekday(first + r.day_of_month - 1);
    case 7: {
      const int64_t last = first + length - 1;
      return last - (weekday(last) - r.day_of_week + 7) % 7;
    }
    default: {  // 2-6: the (op - 1)th occurrence; one past the month's end is its last
      int64_t day = forward_to_weekday(first) + 7 * (r.op - 2);
      while (day >= first + length) day -= 7;
      return day;
    }
  }
}

}  // namespace

int64_t days_from_civil(int year, int month, int day) {
  const int64_t y = year - (month <= 2);
  const int64_t era = floor_div(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t days, int* year, int* month, int* day) {
  const int64_t z = days + 719468;
  const int64_t era = floor_div(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = static_cast<int>(yoe + era * 400 + (*month <= 2));
}

std::optional<EspiDstRule> decode_dst_rule(uint32_t rule) {
  if (rule == no_dst) return std::nullopt;
  EspiDstRule r;
  r.seconds = static_cast<int>(rule & 0xFFF);
  r.hour = static_cast<int>((rule >> 12) & 0x1F);
  r.day_of_week = static_cast<int>((rule >> 17) & 0x7);
  r.day_of_month = static_cast<int>((rule >> 20) & 0x1F);
  r.op = static_cast<int>((rule >> 25) & 0x7);
  r.month = static_cast<int>(rule >> 28);
  if (r.month < 1 || r.month > 12) bad_rule(rule, "the month is not 1-12");
  if (r.hour > 23) bad_rule(rule, "the hour is not 0-23");
  if (r.seconds > 3599) bad_rule(rule, "the seconds are not 0-3599");
  if (r.op <= 1 && r.day_of_month == 0) bad_rule(rule, "the operator needs a day of the month");
  if (r.op >= 1 && r.day_of_week == 0) bad_rule(rule, "the operator needs a day of the week");
  return r;
}

int64_t dst_rule_local_seconds(const EspiDstRule& rule, int year) {
  return rule_day(rule, year) * 86400 + rule.hour * 3600 + rule.seconds;
}

int32_t espi_utc_offset(const EspiLocalTime& lt, int64_t utc) {
  const std::optional<EspiDstRule> start = decode_dst_rule(lt.dst_start_rule);
  const std::optional<EspiDstRule> end = decode_dst_rule(lt.dst_end_rule);
  if (!start || !end || lt.dst_offset == 0) return lt.tz_offset;
  int year, month, day;
  civil_from_days(floor_div(utc + lt.tz_offset, 86400), &year, &month, &day);
  const int64_t on = dst_rule_local_seconds(*start, year) - lt.tz_offset;  // standard time
  const int64_t off =
      dst_rule_local_seconds(*end, year) - lt.tz_offset - lt.dst_offset;  // daylight
  const bool dst = on < off ? (utc >= on && utc < off) : (utc >= on || utc < off);
  return lt.tz_offset + (dst ? lt.dst_offset : 0);
}

}  // namespace geoetl
