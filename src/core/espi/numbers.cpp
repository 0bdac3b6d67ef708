#include "espi/numbers.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "espi/local_time.h"

namespace geoetl::espi {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

// n digits at s[at], as a number; -1 if any is not a digit.
int digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Hand-written: a reading's four numbers make this one of the hottest loops.
bool parse_int64(std::string_view s, int64_t* out) {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 18) {  // 19 digits and more: the careful way
    if (s.empty()) return false;
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v > uint64_t{INT64_MAX}) return false;
    *out = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    return true;
  }
  int64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = negative ? -v : v;
  return true;
}

bool parse_iso_datetime(std::string_view s, int64_t* out) {
  const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const int h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      sec < 0 || sec > 60 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':')
    return false;
  static constexpr int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d > month_days[mo - 1] ||
      (mo == 2 && d == 29 && days_from_civil(y, 3, 1) - days_from_civil(y, 2, 1) == 28))
    return false;
  size_t at = 19;
  if (at < s.size() && s[at] == '.') {  // a fraction of a second
    const size_t first = ++at;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') at++;
    if (at == first) return false;
  }
  int64_t offset = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    at++;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    const int oh = digits(s, at + 1, 2), om = digits(s, at + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59 || s[at + 3] != ':') return false;
    offset = (s[at] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    at += 6;
  } else {
    return false;  // a date-time without its offset names no instant
  }
  if (at != s.size()) return false;
  *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
  return true;
}

bool parse_double(std::string_view s, double* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(*out);
}

}  // namespace geoetl::espi
