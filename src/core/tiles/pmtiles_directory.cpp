// PMTiles directories: varints, a directory's columnar serialisation, and the split of a large
// directory into a root and leaf directories.
#include <algorithm>
#include <string>
#include <vector>

#include "base/error.h"
#include "tiles/pmtiles_format.h"

namespace geoetl {
namespace {

[[noreturn]] void corrupted(const std::string& detail) {
  throw Error(ErrorKind::data_corrupted, "a PMTiles directory is damaged", detail);
}

// A u32 field of an entry, checked.
uint32_t read_u32(const std::string& in, size_t& pos) {
  const uint64_t v = pmtiles_read_varint(in, pos);
  if (v > UINT32_MAX) corrupted("A length or run length does not fit in 32 bits.");
  return static_cast<uint32_t>(v);
}

// Leaves of `per_leaf` entries each (gzip-compressed, one after the other) and the root that
// points at them.
PmtilesDirectories split(const std::vector<PmtilesEntry>& entries, size_t per_leaf) {
  PmtilesDirectories d;
  d.leaf_entries = per_leaf;
  std::vector<PmtilesEntry> root;
  for (size_t first = 0; first < entries.size(); first += per_leaf) {
    const size_t end = std::min(entries.size(), first + per_leaf);
    const std::vector<PmtilesEntry> leaf(entries.begin() + first, entries.begin() + end);
    const std::string bytes = pmtiles_gzip(pmtiles_serialize_directory(leaf));
    root.push_back({leaf.front().tile_id, d.leaves.size(), static_cast<uint32_t>(bytes.size()), 0});
    d.leaves += bytes;
  }
  d.root = pmtiles_gzip(pmtiles_serialize_directory(root));
  return d;
}

}  // namespace

void pmtiles_append_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

uint64_t pmtiles_read_varint(const std::string& in, size_t& pos) {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= in.size()) corrupted("It ends inside a number.");
    const auto byte = static_cast<unsigned char>(in[pos++]);
    if (shift == 63 && byte > 1) corrupted("A number is longer than 64 bits.");
    value |= uint64_t{byte & 0x7fu} << shift;
    if (byte < 0x80) return value;
  }
  corrupted("A number is longer than 64 bits.");
}

std::string pmtiles_serialize_directory(const std::vector<PmtilesEntry>& entries) {
  std::string out;
  pmtiles_append_varint(out, entries.size());
  uint64_t last_id = 0;
  for (const PmtilesEntry& e : entries) {
    pmtiles_append_varint(out, e.tile_id - last_id);
    last_id = e.tile_id;
  }
  for (const PmtilesEntry& e : entries) pmtiles_append_varint(out, e.run_length);
  for (const PmtilesEntry& e : entries) pmtiles_append_varint(out, e.length);
  for (size_t i = 0; i < entries.size(); i++) {
    const bool follows =
        i > 0 && entries[i].offset == entries[i - 1].offset + entries[i - 1].length;
    pmtiles_append_varint(out, follows ? 0 : entries[i].offset + 1);
  }
  return out;
}

std::vector<PmtilesEntry> pmtiles_parse_directory(const std::string& bytes) {
  size_t pos = 0;
  const uint64_t n = pmtiles_read_varint(bytes, pos);
  // Every entry takes at least four bytes, which bounds what a damaged count can allocate.
  if (n > bytes.size() / 4) corrupted("It counts more entries than its bytes can hold.");
  std::vector<PmtilesEntry> entries(n);
  uint64_t id = 0;
  for (PmtilesEntry& e : entries) {
    const uint64_t delta = pmtiles_read_varint(bytes, pos);
    if (delta > UINT64_MAX - id) corrupted("A tile id is beyond 64 bits.");
    id += delta;
    e.tile_id = id;
  }
  for (PmtilesEntry& e : entries) e.run_length = read_u32(bytes, pos);
  for (PmtilesEntry& e : entries) e.length = read_u32(bytes, pos);
  for (size_t i = 0; i < entries.size(); i++) {
    const uint64_t v = pmtiles_read_varint(bytes, pos);
    if (v == 0 && i == 0) corrupted("The first entry's offset refers to no previous entry.");
    entries[i].offset = v == 0 ? entries[i - 1].offset + entries[i - 1].length : v - 1;
  }
  if (pos != bytes.size()) corrupted("Bytes follow its last entry.");
  return entries;
}

PmtilesDirectories pmtiles_build_directories(const std::vector<PmtilesEntry>& entries,
                                             const CancelToken& cancel) {
  const size_t room = kPmtilesRootLimit - kPmtilesHeaderSize;
  PmtilesDirectories d;
  d.root = pmtiles_gzip(pmtiles_serialize_directory(entries));
  if (d.root.size() <= room) return d;
  // Fewer, larger leaves give a smaller root; grow them until the root fits.
  for (size_t per_leaf = 4096;; per_leaf += per_leaf / 5) {
    cancel.check();
    d = split(entries, per_leaf);
    if (d.root.size() <= room) return d;
  }
}

}  // namespace geoetl
