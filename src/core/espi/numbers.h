// The numbers of an ESPI feed, read from element text: whole numbers exactly, decimals, and the
// whitespace around them.
#pragma once

#include <cstdint>
#include <string_view>

namespace geoetl::espi {

std::string_view trim(std::string_view s);

// An optional sign and decimal digits, nothing else; false when not so or on overflow.
bool parse_int64(std::string_view s, int64_t* out);

// An ISO 8601 / RFC 3339 date-time as Atom writes it (2012-10-24T00:00:00Z, with a fraction of
// a second, dropped, or an offset such as -07:00): UTC epoch seconds.
bool parse_iso_datetime(std::string_view s, int64_t* out);

// A finite decimal number (fractions and exponents allowed).
bool parse_double(std::string_view s, double* out);

}  // namespace geoetl::espi
