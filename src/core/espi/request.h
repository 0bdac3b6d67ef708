// How geoetl names ESPI things outside a file: the query that asks a Green Button Connect API for
// a time range (published-min / published-max), and the short ids of usage points and reading
// types taken from their hrefs.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "espi/espi.h"

namespace geoetl {

// "2012-03-01T00:00:00Z": UTC epoch seconds in ISO 8601.
std::string espi_iso_time(int64_t utc);

// `url` with published-min=<from>&published-max=<to> added to its query (ISO 8601 UTC).
std::string espi_request_url(const std::string& url, int64_t from, int64_t to);

// The id that follows "/<collection>/" in an ESPI href or URL, up to the next '/', '?' or '#'
// (".../UsagePoint/5/MeterReading" and "UsagePoint" give "5"; so does the relative
// "UsagePoint/5"); "" when there is none.
std::string espi_resource_id(const std::string& href, const std::string& collection);

// The short id of each usage point of a file, by self href: the id in the href (".../UsagePoint/5"
// -> "5"); the whole href where it has none or another usage point of the file has the same id
// (the five-usage-point sample names them /User/9b6c7063/UsagePoint/01,
// /User/9b6c7064/UsagePoint/01, ...).
std::unordered_map<std::string, std::string> espi_usage_point_ids(const EspiSummary& summary);
// The same for its reading types (".../ReadingType/07" -> "07").
std::unordered_map<std::string, std::string> espi_reading_type_ids(const EspiSummary& summary);

}  // namespace geoetl
