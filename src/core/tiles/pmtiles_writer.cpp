// Writing a PMTiles archive: tiles come in any order, their distinct contents go to a temporary
// file as they come, and finish() lays the archive out in tile id order.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>

#include "base/error.h"
#include "tiles/pmtiles.h"
#include "tiles/pmtiles_format.h"
#include "transfer/atomic_file.h"

namespace geoetl {
namespace {

constexpr size_t kBufferSize = size_t{1} << 20;  // bytes gathered before a write

std::string tile_name(const TileXyz& t) {
  return std::to_string(t.z) + "/" + std::to_string(t.x) + "/" + std::to_string(t.y);
}

void check_range(double v, double low, double high, const char* what) {
  if (!(v >= low && v <= high))
    throw Error(ErrorKind::invalid_argument,
                std::string("PMTiles ") + what + " " + std::to_string(v) + " is not between " +
                    std::to_string(low) + " and " + std::to_string(high));
}

// Checks what the header will say before anything is written.
void check_info(const PmtilesInfo& info, int min_zoom_added, int max_zoom_added) {
  check_range(info.min_zoom, 0, kMaxTileZoom, "min_zoom");
  check_range(info.max_zoom, info.min_zoom, kMaxTileZoom, "max_zoom");
  check_range(info.center_zoom, 0, kMaxTileZoom, "center_zoom");
  check_range(info.min_lon, -180, 180, "min_lon");
  check_range(info.max_lon, info.min_lon, 180, "max_lon");
  check_range(info.min_lat, -90, 90, "min_lat");
  check_range(info.max_lat, info.min_lat, 90, "max_lat");
  check_range(info.center_lon, -180, 180, "center_lon");
  check_range(info.center_lat, -90, 90, "center_lat");
  if (min_zoom_added < info.min_zoom || max_zoom_added > info.max_zoom)
    throw Error(ErrorKind::invalid_argument,
                "the archive has tiles of zooms " + std::to_string(min_zoom_added) + " to " +
                    std::to_string(max_zoom_added) + ", outside its zoom range " +
                    std::to_string(info.min_zoom) + " to " + std::to_string(info.max_zoom));
  const auto first = info.metadata_json.find_first_not_of(" \t\r\n");
  const auto last = info.metadata_json.find_last_not_of(" \t\r\n");
  if (first == std::string::npos || info.metadata_json[first] != '{' ||
      info.metadata_json[last] != '}')
    throw Error(ErrorKind::invalid_argument, "PMTiles metadata must be a JSON object");
}

int32_t e7(double degrees) {
  return static_cast<int32_t>(std::lround(degrees * 1e7));
}

}  // namespace

PmtilesWriter::PmtilesWriter(const std::string& path, const CancelToken& cancel)
    : path_(path), cancel_(cancel), temp_(std::make_unique<AtomicFile>(path + ".tiles")) {
  temp_read_fd_ = ::open(temp_->path().c_str(), O_RDONLY | O_CLOEXEC);
  if (temp_read_fd_ < 0)
    throw Error(ErrorKind::io_error, "cannot read back the temporary file " + temp_->path(),
                std::strerror(errno));
}

PmtilesWriter::~PmtilesWriter() {
  if (temp_read_fd_ >= 0) ::close(temp_read_fd_);
  // temp_'s destructor removes the temporary file.
}

void PmtilesWriter::add(const TileXyz& t, const std::string& png) {
  cancel_.check();
  if (finished_)
    throw Error(ErrorKind::invalid_argument, "a tile was added after the archive was finished");
  const uint64_t id = pmtiles_tile_id(t);
  if (png.empty() || png.size() > UINT32_MAX)
    throw Error(ErrorKind::invalid_argument,
                "tile " + tile_name(t) + " has " + std::to_string(png.size()) + " bytes",
                "A PMTiles tile has 1 byte to 4 GiB.");
  if (tile_ids_.count(id))
    throw Error(ErrorKind::invalid_argument, "tile " + tile_name(t) + " was added twice");
  const uint32_t content = content_of(png);
  tile_ids_.insert(id);
  tiles_.push_back({id, content});
  min_zoom_added_ = std::min(min_zoom_added_, t.z);
  max_zoom_added_ = std::max(max_zoom_added_, t.z);
}

// The index of the content equal to `png`, stored first if it is new. Equal hashes are
// confirmed byte by byte.
uint32_t PmtilesWriter::content_of(const std::string& png) {
  const size_t hash = std::hash<std::string>{}(png);
  const auto same = content_by_hash_.equal_range(hash);
  for (auto it = same.first; it != same.second; ++it) {
    const Content& c = contents_[it->second];
    if (c.length == png.size() && read_content(c) == png) return it->second;
  }
  const auto index = static_cast<uint32_t>(contents_.size());
  contents_.push_back({flushed_ + buffer_.size(), static_cast<uint32_t>(png.size())});
  content_by_hash_.emplace(hash, index);
  buffer_ += png;
  if (buffer_.size() >= kBufferSize) flush_buffer();
  return index;
}

// A content's bytes, from the buffer or the temporary file (a content is never split between
// them: the buffer is written whole).
std::string PmtilesWriter::read_content(const Content& c) const {
  if (c.temp_offset >= flushed_) return buffer_.substr(c.temp_offset - flushed_, c.length);
  std::string bytes(c.length, '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pread(temp_read_fd_, bytes.data() + done, bytes.size() - done,
                              static_cast<off_t>(c.temp_offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw Error(ErrorKind::io_error, "cannot read the temporary file " + temp_->path(),
                  n < 0 ? std::strerror(errno) : "It is shorter than what was written to it.");
    done += static_cast<size_t>(n);
  }
  return bytes;
}

void PmtilesWriter::flush_buffer() {
  temp_->write(buffer_.data(), buffer_.size());
  flushed_ += buffer_.size();
  buffer_.clear();
}

void PmtilesWriter::finish(const PmtilesInfo& info) {
  if (finished_) throw Error(ErrorKind::invalid_argument, "the archive was already finished");
  if (tiles_.empty())
    throw Error(ErrorKind::invalid_argument, "a PMTiles archive needs at least one tile",
                "Nothing was added to " + path_ + ".");
  check_info(info, min_zoom_added_, max_zoom_added_);
  cancel_.check();
  flush_buffer();
  std::sort(tiles_.begin(), tiles_.end(), [](const Tile& a, const Tile& b) { return a.id < b.id; });

  // Each content goes where its first tile (in id order) is; consecutive ids with the same
  // content become one entry with a longer run.
  std::vector<uint64_t> offset(contents_.size(), UINT64_MAX);
  std::vector<uint32_t> order;  // contents in the order of the tile data
  std::vector<PmtilesEntry> entries;
  uint64_t data_length = 0;
  for (size_t i = 0; i < tiles_.size(); i++) {
    if (i % 65536 == 0) cancel_.check();
    const Tile& t = tiles_[i];
    const Content& c = contents_[t.content];
    if (offset[t.content] == UINT64_MAX) {
      offset[t.content] = data_length;
      data_length += c.length;
      order.push_back(t.content);
    }
    PmtilesEntry* last = entries.empty() ? nullptr : &entries.back();
    if (last && last->tile_id + last->run_length == t.id && last->offset == offset[t.content] &&
        last->run_length < UINT32_MAX)
      last->run_length++;
    else
      entries.push_back({t.id, offset[t.content], c.length, 1});
  }

  const PmtilesDirectories dirs = pmtiles_build_directories(entries, cancel_);
  const std::string metadata = pmtiles_gzip(info.metadata_json);
  PmtilesHeader h;
  h.root_offset = kPmtilesHeaderSize;
  h.root_length = dirs.root.size();
  h.metadata_offset = h.root_offset + h.root_length;
  h.metadata_length = metadata.size();
  h.leaf_dirs_offset = h.metadata_offset + h.metadata_length;
  h.leaf_dirs_length = dirs.leaves.size();
  h.tile_data_offset = h.leaf_dirs_offset + h.leaf_dirs_length;
  h.tile_data_length = data_length;
  h.addressed_tiles = tiles_.size();
  h.tile_entries = entries.size();
  h.tile_contents = contents_.size();
  h.clustered = 1;
  h.internal_compression = 2;  // gzip
  h.tile_compression = 1;      // none: PNG is compressed already
  h.tile_type = 2;             // png
  h.min_zoom = static_cast<uint8_t>(info.min_zoom);
  h.max_zoom = static_cast<uint8_t>(info.max_zoom);
  h.min_lon_e7 = e7(info.min_lon);
  h.min_lat_e7 = e7(info.min_lat);
  h.max_lon_e7 = e7(info.max_lon);
  h.max_lat_e7 = e7(info.max_lat);
  h.center_zoom = static_cast<uint8_t>(info.center_zoom);
  h.center_lon_e7 = e7(info.center_lon);
  h.center_lat_e7 = e7(info.center_lat);

  AtomicFile out(path_);
  std::string chunk = pmtiles_header_bytes(h) + dirs.root + metadata + dirs.leaves;
  for (size_t i = 0; i < order.size(); i++) {
    if (i % 4096 == 0) cancel_.check();
    chunk += read_content(contents_[order[i]]);
    if (chunk.size() >= kBufferSize) {
      out.write(chunk.data(), chunk.size());
      chunk.clear();
    }
  }
  out.write(chunk.data(), chunk.size());
  out.commit();

  finished_ = true;
  ::close(temp_read_fd_);
  temp_read_fd_ = -1;
  temp_.reset();  // removes the temporary file
}

}  // namespace geoetl
