// Reading tiles from a PMTiles archive: the root directory is read once, a leaf directory when a
// tile's id falls in it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "base/error.h"
#include "tiles/pmtiles.h"
#include "tiles/pmtiles_format.h"

namespace geoetl {
namespace {

// Directories and metadata decompress to at most this: a bound against a damaged or hostile
// archive, far above what a real one needs.
constexpr size_t kMaxDecompressed = size_t{1} << 30;
// A root, a leaf, and leaves of leaves: deeper nesting is taken for a loop in a damaged file.
constexpr int kMaxDepth = 4;

}  // namespace

PmtilesReader::PmtilesReader(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0)
    throw Error(errno == ENOENT ? ErrorKind::not_found : ErrorKind::io_error,
                "cannot open the PMTiles archive " + path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int e = errno;
    ::close(fd_);
    throw Error(ErrorKind::io_error, "cannot read the PMTiles archive " + path, std::strerror(e));
  }
  file_size_ = static_cast<uint64_t>(st.st_size);
  try {
    header_ = pmtiles_parse_header(read(0, std::min<uint64_t>(file_size_, kPmtilesHeaderSize)));
    if (header_.internal_compression != 1 && header_.internal_compression != 2)
      throw Error(ErrorKind::not_supported,
                  "PMTiles internal compression " + std::to_string(header_.internal_compression) +
                      " is not supported",
                  {}, "geoetl reads archives whose directories are gzip-compressed or not at all.");
    root_ = pmtiles_parse_directory(decompress(read(header_.root_offset, header_.root_length)));
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

PmtilesReader::~PmtilesReader() {
  ::close(fd_);
}

std::optional<std::string> PmtilesReader::tile(const TileXyz& t) const {
  const uint64_t id = pmtiles_tile_id(t);
  const std::vector<PmtilesEntry>* dir = &root_;
  for (int depth = 0; depth < kMaxDepth; depth++) {
    // The last entry whose first tile id is at or before the one looked for.
    const auto after =
        std::upper_bound(dir->begin(), dir->end(), id,
                         [](uint64_t v, const PmtilesEntry& e) { return v < e.tile_id; });
    if (after == dir->begin()) return std::nullopt;
    const PmtilesEntry& e = *(after - 1);
    if (e.run_length == 0) {
      dir = &leaf(header_.leaf_dirs_offset + e.offset, e.length);
      continue;
    }
    if (id - e.tile_id >= e.run_length) return std::nullopt;
    return read(header_.tile_data_offset + e.offset, e.length);
  }
  throw Error(
      ErrorKind::data_corrupted, "the PMTiles archive " + path_ + " is damaged",
      "Its leaf directories are nested more than " + std::to_string(kMaxDepth - 1) + " deep.");
}

std::string PmtilesReader::metadata() const {
  return decompress(read(header_.metadata_offset, header_.metadata_length));
}

// `length` bytes at `offset`; Error(data_corrupted) when the file is shorter.
std::string PmtilesReader::read(uint64_t offset, uint64_t length) const {
  if (offset > file_size_ || length > file_size_ - offset)
    throw Error(ErrorKind::data_corrupted, "the PMTiles archive " + path_ + " is damaged",
                "A section or tile lies beyond the end of the file.");
  std::string bytes(length, '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::pread(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw Error(ErrorKind::io_error, "cannot read the PMTiles archive " + path_,
                  n < 0 ? std::strerror(errno) : "The file became shorter while being read.");
    done += static_cast<size_t>(n);
  }
  return bytes;
}

std::string PmtilesReader::decompress(const std::string& bytes) const {
  return header_.internal_compression == 2 ? pmtiles_gunzip(bytes, kMaxDecompressed) : bytes;
}

const std::vector<PmtilesEntry>& PmtilesReader::leaf(uint64_t offset, uint32_t length) const {
  if (offset != leaf_offset_) {
    leaf_ = pmtiles_parse_directory(decompress(read(offset, length)));
    leaf_offset_ = offset;
  }
  return leaf_;
}

}  // namespace geoetl
