// PMTiles v3 archives (tiles/pmtiles.h): tile ids against the spec's vectors, directories and
// varints byte for byte, archives written in any order and read back tile by tile, deduplication,
// leaf directories, the header's fields, errors, the temporary file and cancellation.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <random>
#include <set>

#include "base/error.h"
#include "tiff_writer.h"
#include "tiles/pmtiles.h"
#include "tiles/pmtiles_format.h"

using namespace geoetl;
namespace fs = std::filesystem;

namespace {

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::internal;  // nothing thrown
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// The number of tiles of zooms 0..z-1.
uint64_t first_id(int z) {
  return ((uint64_t{1} << (2 * z)) - 1) / 3;
}

// Bytes that stand for a tile's PNG: different for every tile, of varying length.
std::string fake_png(const TileXyz& t, size_t extra = 0) {
  std::string s = "\x89PNG " + std::to_string(t.z) + "/" + std::to_string(t.x) + "/" +
                  std::to_string(t.y) + " ";
  for (size_t i = 0; i < extra; i++) s.push_back(static_cast<char>('a' + (t.x + t.y + i) % 26));
  return s;
}

uint64_t le(const std::string& b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v |= uint64_t{static_cast<unsigned char>(b[at + i])} << (8 * i);
  return v;
}

PmtilesInfo info_for(int min_zoom, int max_zoom) {
  PmtilesInfo info;
  info.min_zoom = min_zoom;
  info.max_zoom = max_zoom;
  info.min_lon = 30;
  info.min_lat = -5;
  info.max_lon = 42;
  info.max_lat = 6;
  info.center_zoom = min_zoom;
  info.center_lon = 36;
  info.center_lat = 0.5;
  return info;
}

}  // namespace

TEST(PmtilesIds, SpecTestVectors) {
  EXPECT_EQ(pmtiles_tile_id({0, 0, 0}), 0u);
  EXPECT_EQ(pmtiles_tile_id({1, 0, 0}), 1u);
  EXPECT_EQ(pmtiles_tile_id({1, 0, 1}), 2u);
  EXPECT_EQ(pmtiles_tile_id({1, 1, 1}), 3u);
  EXPECT_EQ(pmtiles_tile_id({1, 1, 0}), 4u);
  EXPECT_EQ(pmtiles_tile_id({2, 0, 0}), 5u);
  EXPECT_EQ(pmtiles_tile_id({12, 3423, 1763}), 19078479u);
  EXPECT_EQ(pmtiles_tile_xyz(0), (TileXyz{0, 0, 0}));
  EXPECT_EQ(pmtiles_tile_xyz(1), (TileXyz{1, 0, 0}));
  EXPECT_EQ(pmtiles_tile_xyz(2), (TileXyz{1, 0, 1}));
  EXPECT_EQ(pmtiles_tile_xyz(3), (TileXyz{1, 1, 1}));
  EXPECT_EQ(pmtiles_tile_xyz(4), (TileXyz{1, 1, 0}));
  EXPECT_EQ(pmtiles_tile_xyz(5), (TileXyz{2, 0, 0}));
  EXPECT_EQ(pmtiles_tile_xyz(19078479), (TileXyz{12, 3423, 1763}));
}

TEST(PmtilesIds, TilesThatDoNotExistAreErrors) {
  EXPECT_EQ(kind_of([] { pmtiles_tile_id({1, 2, 0}); }), ErrorKind::invalid_argument);
  EXPECT_EQ(kind_of([] { pmtiles_tile_id({1, 0, 2}); }), ErrorKind::invalid_argument);
  EXPECT_EQ(kind_of([] { pmtiles_tile_id({-1, 0, 0}); }), ErrorKind::invalid_argument);
  EXPECT_EQ(kind_of([] { pmtiles_tile_id({31, 0, 0}); }), ErrorKind::invalid_argument);
  // The last tile of zoom 30 is the last id; one more is beyond it.
  const uint32_t last = (uint32_t{1} << 30) - 1;
  EXPECT_EQ(pmtiles_tile_xyz(first_id(31) - 1).z, 30);
  EXPECT_EQ(pmtiles_tile_xyz(pmtiles_tile_id({30, last, 0})), (TileXyz{30, last, 0}));
  EXPECT_EQ(kind_of([] { pmtiles_tile_xyz(first_id(31)); }), ErrorKind::invalid_argument);
}

TEST(PmtilesIds, EveryTileUpToZoom8HasItsOwnIdAlongAHilbertCurve) {
  for (int z = 0; z <= 8; z++) {
    const uint32_t n = uint32_t{1} << z;
    std::vector<TileXyz> by_id(uint64_t{n} * n);
    for (uint32_t x = 0; x < n; x++)
      for (uint32_t y = 0; y < n; y++) {
        const uint64_t id = pmtiles_tile_id({z, x, y});
        ASSERT_GE(id, first_id(z));
        ASSERT_LT(id, first_id(z + 1));
        ASSERT_EQ(pmtiles_tile_xyz(id), (TileXyz{z, x, y}));
        by_id[id - first_id(z)] = {z, x, y};
      }
    // A Hilbert curve moves to a neighbouring tile at each step.
    for (size_t i = 1; i < by_id.size(); i++) {
      const int64_t dx = int64_t{by_id[i].x} - by_id[i - 1].x;
      const int64_t dy = int64_t{by_id[i].y} - by_id[i - 1].y;
      ASSERT_EQ(std::abs(dx) + std::abs(dy), 1) << "zoom " << z << " step " << i;
    }
  }
}

TEST(PmtilesIds, RandomTilesOfDeepZoomsRoundTrip) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100000; i++) {
    const int z = 9 + static_cast<int>(rng() % 22);
    const uint32_t n_minus_1 = static_cast<uint32_t>((uint64_t{1} << z) - 1);
    const TileXyz t{z, static_cast<uint32_t>(rng()) & n_minus_1,
                    static_cast<uint32_t>(rng()) & n_minus_1};
    const uint64_t id = pmtiles_tile_id(t);
    ASSERT_GE(id, first_id(z));
    ASSERT_LT(id, first_id(z + 1));
    ASSERT_EQ(pmtiles_tile_xyz(id), t);
  }
}

TEST(PmtilesDirectory, VarintsRoundTripAndHaveTheirLeb128Bytes) {
  std::string out;
  pmtiles_append_varint(out, 300);
  EXPECT_EQ(out, std::string("\xac\x02"));
  out.clear();
  const std::vector<uint64_t> values = {
      0, 1, 127, 128, 16383, 16384, UINT32_MAX, 1ull << 35, UINT64_MAX - 1, UINT64_MAX};
  for (uint64_t v : values) pmtiles_append_varint(out, v);
  size_t pos = 0;
  for (uint64_t v : values) EXPECT_EQ(pmtiles_read_varint(out, pos), v);
  EXPECT_EQ(pos, out.size());

  std::string max;
  pmtiles_append_varint(max, UINT64_MAX);
  EXPECT_EQ(max.size(), 10u);
  pos = 0;
  EXPECT_EQ(kind_of([&] { pmtiles_read_varint(std::string("\x80\x80"), pos); }),
            ErrorKind::data_corrupted);  // ends inside the number
  pos = 0;
  EXPECT_EQ(kind_of([&] { pmtiles_read_varint(std::string(10, '\xff') + '\x01', pos); }),
            ErrorKind::data_corrupted);  // more than 64 bits
}

TEST(PmtilesDirectory, SerialisesColumnsWithDeltasAndContiguousOffsets) {
  // Two tiles one after the other, a run of two, a tile that reuses the first one's bytes, and
  // a leaf pointer.
  const std::vector<PmtilesEntry> entries = {
      {0, 0, 10, 1}, {1, 10, 5, 2}, {5, 0, 10, 1}, {300, 15, 7, 0}};
  const std::string bytes = pmtiles_serialize_directory(entries);
  // The count; the id deltas 0, 1, 4 and 295 (varint a7 02); the run lengths; the lengths; the
  // offsets, + 1 or 0 when an entry's bytes follow the previous entry's.
  const std::string expected(
      "\x04"
      "\x00\x01\x04\xa7\x02"
      "\x01\x02\x01\x00"
      "\x0a\x05\x0a\x07"
      "\x01\x00\x01\x10",
      18);
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ(pmtiles_parse_directory(bytes), entries);

  EXPECT_EQ(kind_of([&] { pmtiles_parse_directory(bytes + '\0'); }), ErrorKind::data_corrupted);
  EXPECT_EQ(kind_of([&] { pmtiles_parse_directory(bytes.substr(0, bytes.size() - 1)); }),
            ErrorKind::data_corrupted);
  EXPECT_EQ(kind_of([] { pmtiles_parse_directory(std::string("\x05\x00\x00\x00\x00", 5)); }),
            ErrorKind::data_corrupted);  // counts more entries than its bytes can hold
}

TEST(PmtilesDirectory, RandomDirectoriesRoundTripThroughGzip) {
  std::mt19937_64 rng(7);
  std::vector<PmtilesEntry> entries;
  uint64_t id = 0, offset = 0;
  for (int i = 0; i < 20000; i++) {
    id += 1 + rng() % 1000;
    PmtilesEntry e{id, offset, static_cast<uint32_t>(1 + rng() % 100000),
                   static_cast<uint32_t>(rng() % 5)};
    e.offset = rng() % 4 == 0 ? rng() % (offset + 1) : offset;  // some reuse earlier bytes
    offset = std::max(offset, e.offset + e.length);
    entries.push_back(e);
  }
  const std::string packed = pmtiles_gzip(pmtiles_serialize_directory(entries));
  EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x1f);  // gzip's magic
  EXPECT_EQ(static_cast<unsigned char>(packed[1]), 0x8b);
  EXPECT_EQ(pmtiles_parse_directory(pmtiles_gunzip(packed, 1 << 30)), entries);
  EXPECT_EQ(kind_of([&] { pmtiles_gunzip(packed.substr(0, packed.size() / 2), 1 << 30); }),
            ErrorKind::data_corrupted);
  EXPECT_EQ(kind_of([&] { pmtiles_gunzip(packed, 1000); }), ErrorKind::data_corrupted);
}

TEST(PmtilesDirectory, HeaderBytesRoundTrip) {
  PmtilesHeader h;
  h.root_offset = 127;
  h.root_length = 0x0102030405060708ull;
  h.tile_contents = 99;
  h.clustered = 1;
  h.min_lon_e7 = -1800000000;
  h.center_lat_e7 = -123;
  const std::string bytes = pmtiles_header_bytes(h);
  ASSERT_EQ(bytes.size(), kPmtilesHeaderSize);
  EXPECT_EQ(le(bytes, 16, 8), 0x0102030405060708ull);
  const PmtilesHeader back = pmtiles_parse_header(bytes);
  EXPECT_EQ(back.root_length, h.root_length);
  EXPECT_EQ(back.tile_contents, 99u);
  EXPECT_EQ(back.min_lon_e7, -1800000000);
  EXPECT_EQ(back.center_lat_e7, -123);
  std::string v2 = bytes;
  v2[7] = 2;
  EXPECT_EQ(kind_of([&] { pmtiles_parse_header(v2); }), ErrorKind::data_corrupted);
  EXPECT_EQ(kind_of([&] { pmtiles_parse_header(bytes.substr(0, 126)); }),
            ErrorKind::data_corrupted);
}

TEST(PmtilesArchive, ZoomsZeroToEightInRandomOrderReadBackTileByTile) {
  TempDir d;
  const std::string path = d.file("east_africa.pmtiles");
  std::vector<TileXyz> tiles;
  for (int z = 0; z <= 8; z++)
    for (const TileXyz& t : tiles_over({30, -5, 42, 6}, z)) tiles.push_back(t);
  ASSERT_GT(tiles.size(), 100u);
  std::shuffle(tiles.begin(), tiles.end(), std::mt19937(1));
  {
    PmtilesWriter w(path, CancelToken());
    for (const TileXyz& t : tiles) w.add(t, fake_png(t, t.x % 50));
    PmtilesInfo info = info_for(0, 8);
    info.metadata_json = R"({"name":"east africa","format":"png"})";
    w.finish(info);
  }
  PmtilesReader r(path);
  std::set<uint64_t> present;
  for (const TileXyz& t : tiles) {
    present.insert(pmtiles_tile_id(t));
    const auto bytes = r.tile(t);
    ASSERT_TRUE(bytes.has_value()) << t.z << "/" << t.x << "/" << t.y;
    EXPECT_EQ(*bytes, fake_png(t, t.x % 50));
  }
  // Every other tile of zooms 0..8, and tiles of zoom 9, are absent.
  size_t absent = 0;
  for (int z = 0; z <= 9; z++)
    for (uint32_t x = 0; x < (1u << z); x += 3)
      for (uint32_t y = 0; y < (1u << z); y += 3)
        if (!present.count(pmtiles_tile_id({z, x, y}))) {
          EXPECT_FALSE(r.tile({z, x, y}).has_value()) << z << "/" << x << "/" << y;
          absent++;
        }
  EXPECT_GT(absent, 10000u);
  EXPECT_EQ(r.header().addressed_tiles, tiles.size());
  EXPECT_EQ(r.header().tile_entries, tiles.size());
  EXPECT_EQ(r.header().tile_contents, tiles.size());
  EXPECT_EQ(r.header().leaf_dirs_length, 0u);
  EXPECT_EQ(r.metadata(), R"({"name":"east africa","format":"png"})");
}

TEST(PmtilesArchive, IdenticalTilesAreStoredOnceAndConsecutiveOnesBecomeRuns) {
  TempDir d;
  // 1000 tiles of zoom 10 with consecutive ids: all "ocean" but tile 500 and tile 700.
  std::vector<TileXyz> tiles;
  for (uint64_t i = 0; i < 1000; i++) tiles.push_back(pmtiles_tile_xyz(first_id(10) + i));
  const std::string ocean(2000, 'o');
  const auto content = [&](size_t i) {
    return i == 500 ? std::string(1500, 'l') : i == 700 ? std::string(2000, 'p') : ocean;
  };
  std::vector<size_t> order(tiles.size());
  for (size_t i = 0; i < order.size(); i++) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(3));
  {
    PmtilesWriter w(d.file("same.pmtiles"), CancelToken());
    for (size_t i : order) w.add(tiles[i], content(i));
    w.finish(info_for(10, 10));
  }
  {
    PmtilesWriter w(d.file("distinct.pmtiles"), CancelToken());
    for (size_t i : order) w.add(tiles[i], fake_png(tiles[i], 2000));
    w.finish(info_for(10, 10));
  }
  EXPECT_LT(fs::file_size(d.file("same.pmtiles")) * 100, fs::file_size(d.file("distinct.pmtiles")));

  PmtilesReader r(d.file("same.pmtiles"));
  const PmtilesHeader h = r.header();
  EXPECT_EQ(h.addressed_tiles, 1000u);
  EXPECT_EQ(h.tile_contents, 3u);
  EXPECT_EQ(h.tile_data_length, 2000u + 1500u + 2000u);
  // ocean x500, land, ocean x199, the other tile, ocean x299: the ocean's bytes come first
  // (clustered) and the later runs point back at them.
  const std::vector<PmtilesEntry> expected = {{first_id(10), 0, 2000, 500},
                                              {first_id(10) + 500, 2000, 1500, 1},
                                              {first_id(10) + 501, 0, 2000, 199},
                                              {first_id(10) + 700, 3500, 2000, 1},
                                              {first_id(10) + 701, 0, 2000, 299}};
  EXPECT_EQ(r.root(), expected);
  EXPECT_EQ(h.tile_entries, 5u);
  for (size_t i = 0; i < tiles.size(); i++) ASSERT_EQ(r.tile(tiles[i]), content(i)) << i;
  EXPECT_FALSE(r.tile(pmtiles_tile_xyz(first_id(10) + 1000)).has_value());  // just after the run
}

TEST(PmtilesArchive, LargeDirectoryIsSplitIntoLeafDirectories) {
  TempDir d;
  const std::string path = d.file("large.pmtiles");
  // 200,000 distinct tiny tiles scattered over zooms 12 to 14, of varying lengths, so that the
  // directory compresses badly and cannot fit in the root.
  std::mt19937_64 rng(11);
  std::set<uint64_t> ids;
  while (ids.size() < 200000) ids.insert(first_id(12) + rng() % (first_id(15) - first_id(12)));
  std::vector<uint64_t> shuffled(ids.begin(), ids.end());
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  const auto bytes_of = [](uint64_t id) { return std::to_string(id) + std::string(id % 37, 'x'); };

  const auto start = std::chrono::steady_clock::now();
  {
    PmtilesWriter w(path, CancelToken());
    for (uint64_t id : shuffled) w.add(pmtiles_tile_xyz(id), bytes_of(id));
    w.finish(info_for(12, 14));
  }
  const auto written = std::chrono::steady_clock::now();
  PmtilesReader r(path);
  const PmtilesHeader h = r.header();
  EXPECT_EQ(h.root_offset, kPmtilesHeaderSize);
  EXPECT_LE(h.root_offset + h.root_length, kPmtilesRootLimit);
  EXPECT_GT(h.leaf_dirs_length, 0u);
  EXPECT_EQ(h.leaf_dirs_offset, h.metadata_offset + h.metadata_length);
  EXPECT_EQ(h.tile_entries, 200000u);
  ASSERT_GT(r.root().size(), 1u);
  for (const PmtilesEntry& e : r.root()) EXPECT_EQ(e.run_length, 0u);  // all leaf pointers
  for (uint64_t id : ids) {  // in id order: each leaf is read once
    const auto tile = r.tile(pmtiles_tile_xyz(id));
    ASSERT_TRUE(tile.has_value()) << id;
    ASSERT_EQ(*tile, bytes_of(id));
  }
  size_t absent = 0;
  for (int i = 0; i < 2000; i++) {
    const uint64_t id = first_id(12) + rng() % (first_id(15) - first_id(12));
    if (ids.count(id)) continue;
    ASSERT_FALSE(r.tile(pmtiles_tile_xyz(id)).has_value()) << id;
    absent++;
  }
  EXPECT_GT(absent, 1900u);
  EXPECT_FALSE(r.tile({11, 0, 0}).has_value());  // before the first leaf
  EXPECT_FALSE(r.tile({15, 0, 0}).has_value());  // after the last
  const auto read = std::chrono::steady_clock::now();
  const auto ms = [](auto a, auto b) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
  };
  std::cout << "[ leaves   ] " << fs::file_size(path) << " bytes, root " << h.root_length
            << " bytes for " << r.root().size() << " leaves (" << h.leaf_dirs_length
            << " bytes); written in " << ms(start, written) << " ms, read back in "
            << ms(written, read) << " ms\n";
}

TEST(PmtilesArchive, HeaderFieldsAsTheSpecLaysThemOut) {
  TempDir d;
  const std::string path = d.file("header.pmtiles");
  {
    PmtilesWriter w(path, CancelToken());
    w.add({3, 4, 3}, "\x89PNG a");
    w.add({5, 19, 15}, "\x89PNG b");
    PmtilesInfo info;
    info.min_zoom = 3;
    info.max_zoom = 5;
    info.min_lon = 34.5;
    info.min_lat = -1.25;
    info.max_lon = 35.1234567;
    info.max_lat = 4.0000001;
    info.center_zoom = 4;
    info.center_lon = -0.5;
    info.center_lat = 2.5;
    info.metadata_json = R"({"name": "kakuma"})";
    w.finish(info);
  }
  const std::string b = read_file(path);
  ASSERT_GE(b.size(), kPmtilesHeaderSize);
  EXPECT_EQ(b.substr(0, 7), "PMTiles");
  EXPECT_EQ(b[7], 3);            // version
  EXPECT_EQ(le(b, 8, 8), 127u);  // root directory right after the header
  EXPECT_EQ(le(b, 72, 8), 2u);   // addressed tiles
  EXPECT_EQ(le(b, 80, 8), 2u);   // tile entries
  EXPECT_EQ(le(b, 88, 8), 2u);   // tile contents
  EXPECT_EQ(b[96], 1);           // clustered
  EXPECT_EQ(b[97], 2);           // internal compression gzip
  EXPECT_EQ(b[98], 1);           // tile compression none
  EXPECT_EQ(b[99], 2);           // png
  EXPECT_EQ(b[100], 3);          // min zoom
  EXPECT_EQ(b[101], 5);          // max zoom
  EXPECT_EQ(static_cast<int32_t>(le(b, 102, 4)), 345000000);
  EXPECT_EQ(static_cast<int32_t>(le(b, 106, 4)), -12500000);
  EXPECT_EQ(static_cast<int32_t>(le(b, 110, 4)), 351234567);
  EXPECT_EQ(static_cast<int32_t>(le(b, 114, 4)), 40000001);
  EXPECT_EQ(b[118], 4);  // center zoom
  EXPECT_EQ(static_cast<int32_t>(le(b, 119, 4)), -5000000);
  EXPECT_EQ(static_cast<int32_t>(le(b, 123, 4)), 25000000);

  PmtilesReader r(path);
  const PmtilesHeader h = r.header();
  // Sections follow each other: header, root, metadata, leaves (none), tile data.
  EXPECT_EQ(h.metadata_offset, h.root_offset + h.root_length);
  EXPECT_EQ(h.leaf_dirs_offset, h.metadata_offset + h.metadata_length);
  EXPECT_EQ(h.leaf_dirs_length, 0u);
  EXPECT_EQ(h.tile_data_offset, h.leaf_dirs_offset);
  EXPECT_EQ(h.tile_data_length, 12u);
  EXPECT_EQ(b.size(), h.tile_data_offset + h.tile_data_length);
  // Clustered: tile data in tile id order (3/4/3 comes before 5/19/15).
  ASSERT_LT(pmtiles_tile_id({3, 4, 3}), pmtiles_tile_id({5, 19, 15}));
  EXPECT_EQ(b.substr(h.tile_data_offset), "\x89PNG a\x89PNG b");
  // The metadata is gzip.
  EXPECT_EQ(b.substr(h.metadata_offset, 2), "\x1f\x8b");
  EXPECT_EQ(r.metadata(), R"({"name": "kakuma"})");
}

TEST(PmtilesWriter, ATileAddedTwiceAndAnEmptyArchiveAreErrors) {
  TempDir d;
  const std::string path = d.file("a.pmtiles");
  {
    PmtilesWriter w(path, CancelToken());
    w.add({2, 1, 1}, "x");
    EXPECT_EQ(kind_of([&] { w.add({2, 1, 1}, "y"); }), ErrorKind::invalid_argument);
    EXPECT_EQ(kind_of([&] { w.add({2, 1, 4}, "y"); }), ErrorKind::invalid_argument);
    EXPECT_EQ(kind_of([&] { w.add({2, 1, 2}, ""); }), ErrorKind::invalid_argument);
    PmtilesInfo info = info_for(3, 5);  // zoom 2 is outside
    EXPECT_EQ(kind_of([&] { w.finish(info); }), ErrorKind::invalid_argument);
    info = info_for(2, 2);
    info.metadata_json = "[1]";
    EXPECT_EQ(kind_of([&] { w.finish(info); }), ErrorKind::invalid_argument);
    info = info_for(2, 2);
    info.min_lat = 91;
    EXPECT_EQ(kind_of([&] { w.finish(info); }), ErrorKind::invalid_argument);
    EXPECT_FALSE(fs::exists(path));
    w.finish(info_for(2, 2));  // the errors above left the writer usable
    EXPECT_EQ(kind_of([&] { w.add({2, 0, 0}, "z"); }), ErrorKind::invalid_argument);
  }
  PmtilesReader r(path);
  EXPECT_EQ(r.tile({2, 1, 1}), std::optional<std::string>("x"));
  EXPECT_EQ(r.header().addressed_tiles, 1u);  // the refused tiles are not in it

  const std::string empty = d.file("empty.pmtiles");
  {
    PmtilesWriter w(empty, CancelToken());
    EXPECT_EQ(kind_of([&] { w.finish(info_for(0, 0)); }), ErrorKind::invalid_argument);
  }
  EXPECT_FALSE(fs::exists(empty));
  EXPECT_EQ(files_in(d.path()), std::vector<std::string>{"a.pmtiles"});
}

TEST(PmtilesWriter, TheTemporaryFileIsGoneAfterFinishAndAfterDestruction) {
  TempDir d;
  const std::string path = d.file("t.pmtiles");
  const auto fill = [](PmtilesWriter& w) {
    for (uint32_t x = 0; x < 64; x++)
      for (uint32_t y = 0; y < 64; y++) w.add({6, x, y}, fake_png({6, x, y}, 1000));
  };
  {
    PmtilesWriter w(path, CancelToken());
    fill(w);
    const auto during = files_in(d.path());
    ASSERT_EQ(during.size(), 1u);
    EXPECT_NE(during[0].find(".part-"), std::string::npos) << during[0];
    EXPECT_GT(fs::file_size(d.file(during[0])), 2000000u);  // the tiles went to it, not to memory
    w.finish(info_for(6, 6));
    EXPECT_EQ(files_in(d.path()), std::vector<std::string>{"t.pmtiles"});
  }
  EXPECT_EQ(files_in(d.path()), std::vector<std::string>{"t.pmtiles"});
  EXPECT_EQ(PmtilesReader(path).tile({6, 63, 0}), fake_png({6, 63, 0}, 1000));

  fs::remove(path);
  {
    PmtilesWriter w(path, CancelToken());
    fill(w);
    EXPECT_EQ(files_in(d.path()).size(), 1u);
  }
  EXPECT_TRUE(files_in(d.path()).empty());
}

TEST(PmtilesWriter, PollsCancellationWhileAddingAndFinishing) {
  TempDir d;
  const std::string path = d.file("c.pmtiles");
  bool cancel = false;
  int polls = 0;
  int cancel_at_poll = -1;
  const CancelToken token([&] {
    polls++;
    return cancel || polls == cancel_at_poll;
  });
  {
    PmtilesWriter w(path, token);
    w.add({1, 0, 0}, "a");
    cancel = true;
    EXPECT_EQ(kind_of([&] { w.add({1, 0, 1}, "b"); }), ErrorKind::cancelled);
    EXPECT_EQ(kind_of([&] { w.finish(info_for(1, 1)); }), ErrorKind::cancelled);
  }
  EXPECT_TRUE(files_in(d.path()).empty());

  // Cancelled at one of finish()'s polls: never an archive, never a temporary file left.
  cancel = false;
  int finish_polls = 0;
  {
    PmtilesWriter w(path, token);
    for (uint32_t i = 0; i < 100000; i++)
      w.add(pmtiles_tile_xyz(first_id(10) + i), "t" + std::to_string(i));
    polls = 0;
    w.finish(info_for(10, 10));
    finish_polls = polls;
  }
  EXPECT_GE(finish_polls, 3);  // not only once at the start
  fs::remove(path);
  // The first polls (before the layout), one in the middle, and the last (while copying tiles).
  for (int k : {1, 2, 3, finish_polls / 2, finish_polls}) {
    {
      PmtilesWriter w(path, token);
      for (uint32_t i = 0; i < 100000; i++)
        w.add(pmtiles_tile_xyz(first_id(10) + i), "t" + std::to_string(i));
      polls = 0;
      cancel_at_poll = k;
      EXPECT_EQ(kind_of([&] { w.finish(info_for(10, 10)); }), ErrorKind::cancelled) << k;
      cancel_at_poll = -1;
      EXPECT_FALSE(fs::exists(path));
    }
    EXPECT_TRUE(files_in(d.path()).empty());
  }
}

TEST(PmtilesReader, MissingAndDamagedFiles) {
  TempDir d;
  EXPECT_EQ(kind_of([&] { PmtilesReader r(d.file("none.pmtiles")); }), ErrorKind::not_found);
  { std::ofstream(d.file("text.pmtiles")) << "hello"; }
  EXPECT_EQ(kind_of([&] { PmtilesReader r(d.file("text.pmtiles")); }), ErrorKind::data_corrupted);

  const std::string path = d.file("ok.pmtiles");
  {
    PmtilesWriter w(path, CancelToken());
    w.add({0, 0, 0}, std::string(5000, 'w'));
    w.finish(info_for(0, 0));
  }
  const std::string whole = read_file(path);
  { std::ofstream(d.file("cut.pmtiles"), std::ios::binary) << whole.substr(0, whole.size() - 10); }
  PmtilesReader cut(d.file("cut.pmtiles"));  // the directories are whole, the tile is not
  EXPECT_EQ(kind_of([&] { cut.tile({0, 0, 0}); }), ErrorKind::data_corrupted);
  {
    std::string bad = whole;
    bad[kPmtilesHeaderSize + PmtilesReader(path).header().root_length - 8] ^= 0x55;  // root's CRC
    std::ofstream(d.file("bad.pmtiles"), std::ios::binary) << bad;
  }
  EXPECT_EQ(kind_of([&] { PmtilesReader r(d.file("bad.pmtiles")); }), ErrorKind::data_corrupted);
}
