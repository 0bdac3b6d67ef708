// The PMTiles v3 header: 127 bytes at the start of the archive, little-endian.
#include <string>

#include "base/error.h"
#include "tiles/pmtiles_format.h"

namespace geoetl {
namespace {

constexpr char kMagic[] = "PMTiles";  // 7 bytes, then the version

void put(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; i++) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t get(const std::string& in, size_t at, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; i++)
    value |= uint64_t{static_cast<unsigned char>(in[at + i])} << (8 * i);
  return value;
}

int32_t get_i32(const std::string& in, size_t at) {
  return static_cast<int32_t>(static_cast<uint32_t>(get(in, at, 4)));
}

}  // namespace

std::string pmtiles_header_bytes(const PmtilesHeader& h) {
  std::string out(kMagic, 7);
  put(out, h.version, 1);
  for (uint64_t v : {h.root_offset, h.root_length, h.metadata_offset, h.metadata_length,
                     h.leaf_dirs_offset, h.leaf_dirs_length, h.tile_data_offset, h.tile_data_length,
                     h.addressed_tiles, h.tile_entries, h.tile_contents})
    put(out, v, 8);
  for (uint8_t v : {h.clustered, h.internal_compression, h.tile_compression, h.tile_type,
                    h.min_zoom, h.max_zoom})
    put(out, v, 1);
  for (int32_t v : {h.min_lon_e7, h.min_lat_e7, h.max_lon_e7, h.max_lat_e7})
    put(out, static_cast<uint32_t>(v), 4);
  put(out, h.center_zoom, 1);
  put(out, static_cast<uint32_t>(h.center_lon_e7), 4);
  put(out, static_cast<uint32_t>(h.center_lat_e7), 4);
  return out;
}

PmtilesHeader pmtiles_parse_header(const std::string& bytes) {
  if (bytes.size() < kPmtilesHeaderSize || bytes.compare(0, 7, kMagic) != 0)
    throw Error(ErrorKind::data_corrupted, "not a PMTiles archive",
                "The file does not start with the 127-byte header \"PMTiles\"...");
  PmtilesHeader h;
  h.version = static_cast<uint8_t>(bytes[7]);
  if (h.version != 3)
    throw Error(ErrorKind::data_corrupted, "not a PMTiles version 3 archive",
                "The header says version " + std::to_string(h.version) + ".");
  uint64_t* fields[] = {&h.root_offset,      &h.root_length,      &h.metadata_offset,
                        &h.metadata_length,  &h.leaf_dirs_offset, &h.leaf_dirs_length,
                        &h.tile_data_offset, &h.tile_data_length, &h.addressed_tiles,
                        &h.tile_entries,     &h.tile_contents};
  size_t at = 8;
  for (uint64_t* f : fields) {
    *f = get(bytes, at, 8);
    at += 8;
  }
  uint8_t* flags[] = {&h.clustered,        &h.internal_compression,
                      &h.tile_compression, &h.tile_type,
                      &h.min_zoom,         &h.max_zoom};
  for (uint8_t* f : flags) *f = static_cast<uint8_t>(get(bytes, at++, 1));
  int32_t* bounds[] = {&h.min_lon_e7, &h.min_lat_e7, &h.max_lon_e7, &h.max_lat_e7};
  for (int32_t* b : bounds) {
    *b = get_i32(bytes, at);
    at += 4;
  }
  h.center_zoom = static_cast<uint8_t>(get(bytes, at++, 1));
  h.center_lon_e7 = get_i32(bytes, at);
  h.center_lat_e7 = get_i32(bytes, at + 4);
  return h;
}

}  // namespace geoetl
