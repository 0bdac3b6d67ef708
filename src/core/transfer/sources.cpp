#include "transfer/sources.h"

#include <cpl_string.h>
#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>

#include "base/error.h"
#include "transfer/http_vsi.h"

namespace geoetl {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool is_url(const std::string& s) {
  return starts_with(s, "http://") || starts_with(s, "https://") || starts_with(s, "s3://");
}

}  // namespace

// The file inside a subdataset name (HDF5:"/data/x.h5"://path, NETCDF:"/data/x.nc":var), split
// exactly as GDAL's HDF5 and netCDF drivers split it (quotes toggle, so a name with more than one
// quoted run could smuggle a second path past a naive reader: such names are refused).
std::string subdataset_file(const std::string& s) {
  const bool hdf5 = starts_with(s, "HDF5:"), netcdf = starts_with(s, "NETCDF:");
  if (!hdf5 && !netcdf) return {};
  char** parts = CSLTokenizeString2(s.c_str(), ":", CSLT_HONOURSTRINGS | CSLT_PRESERVEESCAPES);
  std::string file;
  if (CSLCount(parts) == 3) file = parts[1];
  CSLDestroy(parts);
  // only "DRIVER:" + one plain quoted path + ":" + the rest, the path free of quotes and escapes
  const std::string driver = hdf5 ? "HDF5:" : "NETCDF:";
  if (file.empty() || file.find_first_of("\"\\") != std::string::npos ||
      s.compare(driver.size(), file.size() + 3, "\"" + file + "\":") != 0)
    return {};
  return file;
}

namespace {

// Lexically normalised, then resolved through symlinks as far as the file exists.
std::string real_or_normal(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) != nullptr) return buf;
  return normalize_path(path);
}

bool below(const std::string& path, std::string prefix) {
  if (prefix.empty() || path.empty()) return false;
  if (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  return path == prefix || starts_with(path, prefix == "/" ? prefix : prefix + "/");
}

bool path_allowed(const std::string& file, const std::vector<std::string>& prefixes) {
  const std::string normal = normalize_path(file), real = real_or_normal(file);
  for (const std::string& p : prefixes) {
    if (p.empty() || p[0] != '/' || starts_with(p, "/vsi")) continue;
    const std::string prefix_normal = normalize_path(p), prefix_real = real_or_normal(p);
    if ((below(normal, prefix_normal) || below(normal, prefix_real)) &&
        (below(real, prefix_real) || below(real, prefix_normal)))
      return true;
  }
  return false;
}

}  // namespace

std::string normalize_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    const size_t j = std::min(path.find('/', i), path.size());
    const std::string part = path.substr(i, j - i);
    if (part == "..") {
      if (parts.empty()) return {};
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (const std::string& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

}  // namespace

// RFC 3986 section 6.2.2, and stricter: a server may decode %2F or %5C into a separator, or
// read a backslash as one, so those are refused rather than guessed at; dot segments are
// refused rather than removed, so what is checked is what is fetched.
std::string canonical_url(const std::string& url) {
  const size_t colon = url.find("://");
  if (colon == std::string::npos || colon == 0) return {};
  const size_t path_at = url.find_first_of("/?#", colon + 3);
  std::string out = url.substr(0, path_at);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!is_url(out + "/") || out.find_first_of("\\%") != std::string::npos) return {};
  if (path_at == std::string::npos) return out;
  const size_t rest_at = std::min(url.find_first_of("?#", path_at), url.size());
  std::string path;
  for (size_t i = path_at; i < rest_at; i++) {
    const char c = url[i];
    if (static_cast<unsigned char>(c) <= ' ' || c == '\\' || c == 0x7f) return {};
    if (c != '%') {
      path += c;
      continue;
    }
    const int hi = i + 2 < rest_at ? hex_digit(url[i + 1]) : -1;
    const int lo = hi >= 0 ? hex_digit(url[i + 2]) : -1;
    if (lo < 0) return {};  // a lone '%'
    const char decoded = static_cast<char>(hi * 16 + lo);
    if (decoded == '/' || decoded == '\\' || decoded == '%') return {};
    if (unreserved(decoded))
      path += decoded;
    else
      path += url.substr(i, 3);
    i += 2;
  }
  for (size_t i = 0; i <= path.size();) {  // no "." or ".." segment
    const size_t j = std::min(path.find('/', i), path.size());
    const std::string segment = path.substr(i, j - i);
    if (segment == "." || segment == "..") return {};
    i = j + 1;
  }
  return out + path + url.substr(rest_at);
}

Source resolve_source(const std::string& raster) {
  Source s;
  s.shown = raster;
  if (raster.empty()) throw Error(ErrorKind::invalid_argument, "the raster source is empty");
  if (starts_with(raster, "http://") || starts_with(raster, "https://")) {
    s.gdal_path = checked_http_prefix + raster;
    s.remote = true;
  } else if (starts_with(raster, "s3://")) {
    s.gdal_path = "/vsis3/" + raster.substr(5);
    s.remote = s.s3 = true;
  } else if (raster[0] == '/' || !subdataset_file(raster).empty() ||
             raster.find(':') != std::string::npos) {
    s.gdal_path = raster;
  } else {
    throw Error(ErrorKind::invalid_argument, "raster path \"" + raster + "\" is not absolute", {},
                "Give the full path on the database server, an http(s):// URL or an s3:// URL.");
  }
  return s;
}

std::vector<std::string> parse_prefixes(const std::string& setting) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    const size_t a = cur.find_first_not_of(" \t\r");
    const size_t b = cur.find_last_not_of(" \t\r");
    if (a != std::string::npos) out.push_back(cur.substr(a, b - a + 1));
    cur.clear();
  };
  for (char c : setting) {
    if (c == ',' || c == '\n')
      flush();
    else
      cur += c;
  }
  flush();
  return out;
}

bool source_allowed(const std::string& raster, const std::vector<std::string>& prefixes) {
  if (is_url(raster)) {
    const std::string url = canonical_url(raster);
    if (url.empty()) return false;
    for (const std::string& prefix : prefixes) {
      const std::string p = canonical_url(prefix);
      if (!p.empty() && starts_with(url, p) &&
          (p.back() == '/' || url.size() == p.size() || url[p.size()] == '/'))
        return true;
    }
    return false;
  }
  const std::string inner = subdataset_file(raster);
  if (!inner.empty()) return inner[0] == '/' && path_allowed(inner, prefixes);
  if (raster.empty() || raster[0] != '/' || starts_with(raster, "/vsi")) return false;
  return path_allowed(raster, prefixes);
}

}  // namespace geoetl
