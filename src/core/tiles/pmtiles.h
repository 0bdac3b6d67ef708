// PMTiles version 3 archives of PNG tiles: writing one from tiles given in any order, and reading
// a tile back. An archive is one file: a 127-byte header, a root directory, JSON metadata, leaf
// directories when the root would not fit in the first 16,384 bytes, then the tile data.
//
// Vocabulary: a tile id numbers every tile of every zoom along a Hilbert curve, zoom by zoom
// (pmtiles_tile_id); an entry maps a run of consecutive tile ids to one blob of tile data; a
// content is one distinct blob (identical tiles share it, so it is stored once).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/cancel.h"
#include "tiles/tile_grid.h"

namespace geoetl {

class AtomicFile;

// The tile id of a tile: the number of tiles of all lower zooms plus the tile's position on the
// Hilbert curve of its zoom. Throws Error(invalid_argument) for z outside 0..30 or x, y outside
// 0..2^z-1.
uint64_t pmtiles_tile_id(const TileXyz& t);
// The tile of a tile id. Throws Error(invalid_argument) for an id beyond zoom 30.
TileXyz pmtiles_tile_xyz(uint64_t id);

// What the caller tells the archive about its tiles (the header's fields and the metadata).
struct PmtilesInfo {
  int min_zoom = 0, max_zoom = 0;
  double min_lon = -180, min_lat = -85.0511287798066, max_lon = 180, max_lat = 85.0511287798066;
  int center_zoom = 0;
  double center_lon = 0, center_lat = 0;
  std::string metadata_json = "{}";  // a JSON object, stored gzip-compressed
};

// The header's fields as stored (offsets and lengths in bytes from the start of the file,
// longitudes and latitudes in units of 1e-7 degree).
struct PmtilesHeader {
  uint8_t version = 3;
  uint64_t root_offset = 0, root_length = 0;
  uint64_t metadata_offset = 0, metadata_length = 0;
  uint64_t leaf_dirs_offset = 0, leaf_dirs_length = 0;
  uint64_t tile_data_offset = 0, tile_data_length = 0;
  uint64_t addressed_tiles = 0, tile_entries = 0, tile_contents = 0;
  uint8_t clustered = 0;
  uint8_t internal_compression = 0;  // 1 none, 2 gzip
  uint8_t tile_compression = 0;      // 1 none
  uint8_t tile_type = 0;             // 2 png
  uint8_t min_zoom = 0, max_zoom = 0;
  int32_t min_lon_e7 = 0, min_lat_e7 = 0, max_lon_e7 = 0, max_lat_e7 = 0;
  uint8_t center_zoom = 0;
  int32_t center_lon_e7 = 0, center_lat_e7 = 0;
};

// One directory entry: run_length tiles from tile_id on share the bytes at offset (from the
// start of the tile data); run_length 0 means the bytes are a leaf directory (offset from the
// start of the leaf directories).
struct PmtilesEntry {
  uint64_t tile_id = 0;
  uint64_t offset = 0;
  uint32_t length = 0;
  uint32_t run_length = 0;
  bool operator==(const PmtilesEntry& o) const {
    return tile_id == o.tile_id && offset == o.offset && length == o.length &&
           run_length == o.run_length;
  }
};

// Writes an archive of PNG tiles. The tiles' bytes go to a temporary file beside the archive as
// they come (each distinct content once), so memory holds only the directory; finish() writes the
// archive whole, with the tile data in tile id order (a clustered archive).
class PmtilesWriter {
 public:
  // `path` is the archive finish() writes; its folder must exist. Throws Error(io_error) when
  // the temporary file cannot be made.
  PmtilesWriter(const std::string& path, const CancelToken& cancel);
  // Removes the temporary file (and writes nothing) unless finish() ran.
  ~PmtilesWriter();
  PmtilesWriter(const PmtilesWriter&) = delete;
  PmtilesWriter& operator=(const PmtilesWriter&) = delete;

  // Adds a tile's PNG bytes. Throws Error(invalid_argument) for a tile that does not exist, one
  // added before, empty bytes or more than 4 GiB; Error(cancelled) when the token says so.
  void add(const TileXyz& t, const std::string& png);
  // Writes the archive (whole or not at all) and removes the temporary file. Throws
  // Error(invalid_argument) when no tile was added, for zooms or bounds that are not valid or
  // a tile outside the zoom range, and for metadata that is not a JSON object.
  void finish(const PmtilesInfo& info);

 private:
  struct Content {
    uint64_t temp_offset;  // where its bytes are in the temporary file
    uint32_t length;
  };
  struct Tile {
    uint64_t id;
    uint32_t content;  // index in contents_
  };

  uint32_t content_of(const std::string& png);
  std::string read_content(const Content& c) const;
  void flush_buffer();

  std::string path_;
  CancelToken cancel_;
  std::unique_ptr<AtomicFile> temp_;  // never committed: its destructor removes it
  int temp_read_fd_ = -1;
  std::string buffer_;    // bytes not yet written to the temporary file
  uint64_t flushed_ = 0;  // bytes already in the temporary file
  std::vector<Content> contents_;
  std::unordered_multimap<size_t, uint32_t> content_by_hash_;
  std::vector<Tile> tiles_;
  std::unordered_set<uint64_t> tile_ids_;
  int min_zoom_added_ = 31, max_zoom_added_ = -1;
  bool finished_ = false;
};

// Reads tiles from an archive this writer (or another PMTiles v3 writer using gzip or no
// internal compression) made.
class PmtilesReader {
 public:
  // Throws Error(not_found) when the file cannot be opened, Error(data_corrupted) when it is not
  // a PMTiles v3 archive, Error(not_supported) for an internal compression other than none/gzip.
  explicit PmtilesReader(const std::string& path);
  ~PmtilesReader();
  PmtilesReader(const PmtilesReader&) = delete;
  PmtilesReader& operator=(const PmtilesReader&) = delete;

  // The tile's bytes, or std::nullopt when the archive has none for it.
  std::optional<std::string> tile(const TileXyz& t) const;
  PmtilesHeader header() const { return header_; }
  // The metadata JSON, decompressed.
  std::string metadata() const;
  // The root directory's entries (leaf pointers have run_length 0).
  const std::vector<PmtilesEntry>& root() const { return root_; }

 private:
  std::string read(uint64_t offset, uint64_t length) const;
  std::string decompress(const std::string& bytes) const;
  const std::vector<PmtilesEntry>& leaf(uint64_t offset, uint32_t length) const;

  std::string path_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  PmtilesHeader header_;
  std::vector<PmtilesEntry> root_;
  // The last leaf directory read: reading tiles in id order reads each leaf once.
  mutable uint64_t leaf_offset_ = UINT64_MAX;
  mutable std::vector<PmtilesEntry> leaf_;
};

}  // namespace geoetl
