// gzip with zlib: PMTiles compresses its directories and metadata with it (internal
// compression 2).
#include <zlib.h>

#include <string>

#include "base/error.h"
#include "tiles/pmtiles_format.h"

namespace geoetl {

std::string pmtiles_gzip(const std::string& bytes) {
  z_stream z{};
  // windowBits 15 + 16 asks for a gzip wrapper rather than zlib's.
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw Error(ErrorKind::internal, "zlib could not start a gzip stream");
  std::string out(deflateBound(&z, bytes.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw Error(ErrorKind::internal, "zlib could not gzip a directory");
  return out;
}

std::string pmtiles_gunzip(const std::string& bytes, size_t max_size) {
  z_stream z{};
  // windowBits 15 + 32 accepts a gzip or a zlib wrapper.
  if (inflateInit2(&z, 15 + 32) != Z_OK)
    throw Error(ErrorKind::internal, "zlib could not start a gzip stream");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  char chunk[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(chunk, sizeof chunk - z.avail_out);
    if (out.size() > max_size) rc = Z_MEM_ERROR;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END)
    throw Error(ErrorKind::data_corrupted, "a PMTiles directory or metadata is not valid gzip",
                out.size() > max_size
                    ? "It is longer than " + std::to_string(max_size) + " bytes once decompressed."
                    : std::string("zlib stopped with code ") + std::to_string(rc) + ".");
  return out;
}

}  // namespace geoetl
