// The pieces of the PMTiles v3 format that the writer and the reader share: the header's 127
// bytes, varints, directories (serialised and split into a root and leaves) and gzip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/cancel.h"
#include "tiles/pmtiles.h"

namespace geoetl {

constexpr size_t kPmtilesHeaderSize = 127;
// The header and the root directory must fit in the first 16,384 bytes, which clients fetch
// first.
constexpr size_t kPmtilesRootLimit = 16384;

// The 127 bytes of a header, little-endian.
std::string pmtiles_header_bytes(const PmtilesHeader& h);
// The header of an archive's first 127 (or more) bytes. Throws Error(data_corrupted) when they
// are too short or do not start with "PMTiles" and version 3.
PmtilesHeader pmtiles_parse_header(const std::string& bytes);

// Appends an unsigned LEB128 varint (7 bits a byte, low bits first).
void pmtiles_append_varint(std::string& out, uint64_t value);
// Reads the varint at `pos` and moves `pos` past it. Throws Error(data_corrupted) when the bytes
// end inside it or it is longer than 64 bits.
uint64_t pmtiles_read_varint(const std::string& in, size_t& pos);

// A directory's bytes before compression: the number of entries, then the tile ids as deltas,
// the run lengths, the lengths, and the offsets (0 when an entry follows the previous one's
// bytes, else offset + 1), all varints. `entries` must be sorted by tile id.
std::string pmtiles_serialize_directory(const std::vector<PmtilesEntry>& entries);
// The entries of a directory's uncompressed bytes. Throws Error(data_corrupted).
std::vector<PmtilesEntry> pmtiles_parse_directory(const std::string& bytes);

// The directories of an archive, gzip-compressed.
struct PmtilesDirectories {
  std::string root;
  std::string leaves;       // empty when the root holds every entry
  size_t leaf_entries = 0;  // entries in each leaf (the last may have fewer); 0 without leaves
};
// The root alone when it fits beside the header in the first 16,384 bytes; otherwise leaves of
// a growing number of entries (from 4096, by a fifth each time) until the root of their
// pointers fits. `entries` must be sorted by tile id and not empty.
PmtilesDirectories pmtiles_build_directories(const std::vector<PmtilesEntry>& entries,
                                             const CancelToken& cancel);

// gzip (RFC 1952) compression with zlib, for directories and metadata.
std::string pmtiles_gzip(const std::string& bytes);
// Decompresses gzip or zlib data. Throws Error(data_corrupted) when it is damaged or would be
// longer than `max_size` bytes.
std::string pmtiles_gunzip(const std::string& bytes, size_t max_size);

}  // namespace geoetl
