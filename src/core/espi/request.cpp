#include "espi/request.h"

#include <cstdio>
#include <vector>

#include "espi/local_time.h"

namespace geoetl {

std::string espi_iso_time(int64_t utc) {
  const int64_t days = utc >= 0 ? utc / 86400 : -((-utc + 86399) / 86400);
  const int64_t second = utc - days * 86400;
  int y, m, d;
  civil_from_days(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d,
                static_cast<int>(second / 3600), static_cast<int>(second / 60 % 60),
                static_cast<int>(second % 60));
  return buf;
}

std::string espi_request_url(const std::string& url, int64_t from, int64_t to) {
  const size_t fragment = url.find('#');
  const std::string base = url.substr(0, fragment);
  const char join = base.find('?') == std::string::npos ? '?' : '&';
  return base + join + "published-min=" + espi_iso_time(from) +
         "&published-max=" + espi_iso_time(to);
}

std::string espi_resource_id(const std::string& href, const std::string& collection) {
  const std::string marker = "/" + collection + "/";
  const size_t at = href.rfind(marker);
  size_t begin = at + marker.size();
  if (at == std::string::npos) {  // a relative href may start with the collection
    if (href.compare(0, marker.size() - 1, marker, 1, std::string::npos) != 0) return "";
    begin = marker.size() - 1;
  }
  const size_t end = href.find_first_of("/?#", begin);
  return href.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

namespace {

template <typename T>
std::unordered_map<std::string, std::string> short_ids(const std::vector<T>& items,
                                                       const std::string& collection) {
  std::unordered_map<std::string, int> uses;
  for (const T& item : items) uses[espi_resource_id(item.href, collection)]++;
  std::unordered_map<std::string, std::string> ids;
  for (const T& item : items) {
    const std::string id = espi_resource_id(item.href, collection);
    ids[item.href] = id.empty() || uses[id] > 1 ? item.href : id;
  }
  return ids;
}

}  // namespace

std::unordered_map<std::string, std::string> espi_usage_point_ids(const EspiSummary& summary) {
  return short_ids(summary.usage_points, "UsagePoint");
}

std::unordered_map<std::string, std::string> espi_reading_type_ids(const EspiSummary& summary) {
  return short_ids(summary.reading_types, "ReadingType");
}

}  // namespace geoetl
