// The numbers of an ESPI feed, read from element text: whole numbers exactly, decimals, and the
// whitespace around them.
#pragma once

#include <cstdint>
#include <string_view>

namespace geoetl::espi {

std::string_view trim(std::string_view s);

// An optional sign and decimal digits, nothing else; false when not so or on overflow.
bool parse_int64(std::string_view s, int64_t* out);

// A finite decimal number (fractions and exponents allowed).
bool parse_double(std::string_view s, double* out);

}  // namespace geoetl::espi
