#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/error.h"
#include "geom/wkb.h"

using namespace geoetl;

namespace {

struct Writer {
  std::vector<uint8_t> bytes;
  void u8(uint8_t v) { bytes.push_back(v); }
  void u32(uint32_t v) {
    uint8_t b[4];
    std::memcpy(b, &v, 4);
    bytes.insert(bytes.end(), b, b + 4);
  }
  void f64(double v) {
    uint8_t b[8];
    std::memcpy(b, &v, 8);
    bytes.insert(bytes.end(), b, b + 8);
  }
  void square(double x0, double y0, double s, int dims = 2) {
    const double pts[5][2] = {{x0, y0}, {x0 + s, y0}, {x0 + s, y0 + s}, {x0, y0 + s}, {x0, y0}};
    u32(1);
    u32(5);
    for (auto& p : pts) {
      f64(p[0]);
      f64(p[1]);
      for (int d = 2; d < dims; d++) f64(99);
    }
  }
};

}  // namespace

TEST(Wkb, ReadsAPolygon) {
  Writer w;
  w.u8(1);
  w.u32(3);
  w.square(1, 2, 3);
  const ParsedGeometry g = parse_wkb(w.bytes.data(), w.bytes.size());
  ASSERT_EQ(g.polygons.polygons.size(), 1u);
  EXPECT_EQ(g.polygons.polygons[0].rings[0][2].x, 4);
  EXPECT_EQ(g.polygons.polygons[0].rings[0][2].y, 5);
  EXPECT_EQ(g.srid, 0);
}

TEST(Wkb, ReadsEwkbWithSridAndZ) {
  Writer w;
  w.u8(1);
  w.u32(6 | 0x20000000u | 0x80000000u);
  w.u32(4326);
  w.u32(2);
  for (int i = 0; i < 2; i++) {
    w.u8(1);
    w.u32(3 | 0x80000000u);
    w.square(i * 10, 0, 1, 3);
  }
  const ParsedGeometry g = parse_wkb(w.bytes.data(), w.bytes.size());
  EXPECT_EQ(g.srid, 4326);
  ASSERT_EQ(g.polygons.polygons.size(), 2u);
  EXPECT_EQ(g.polygons.polygons[1].rings[0][0].x, 10);
  EXPECT_DOUBLE_EQ(area(g.polygons), 2);
}

TEST(Wkb, ReadsIsoZmAndBigEndian) {
  Writer w;
  w.u8(1);
  w.u32(3003);  // Polygon ZM
  w.square(0, 0, 2, 4);
  EXPECT_DOUBLE_EQ(area(parse_wkb(w.bytes.data(), w.bytes.size()).polygons), 4);

  const uint8_t big[] = {0, 0, 0, 0, 3, 0, 0, 0, 0};  // big-endian empty polygon
  EXPECT_TRUE(parse_wkb(big, sizeof big).polygons.empty());
}

TEST(Wkb, RejectsPointsAndLinesByName) {
  Writer w;
  w.u8(1);
  w.u32(1);
  w.f64(0);
  w.f64(0);
  try {
    parse_wkb(w.bytes.data(), w.bytes.size());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("not a Point"), std::string::npos);
  }
}

TEST(Wkb, NamesCurvesAndUnknownTypesWithWhatToDo) {
  const std::pair<uint32_t, const char*> cases[] = {
      {10, "not a CurvePolygon"},
      {1012, "not a MultiSurface"},  // ISO Z
      {17, "not a Triangle"},
      {99, "not an unknown geometry type (WKB type 99)"}};
  for (const auto& [type, want] : cases) {
    Writer w;
    w.u8(1);
    w.u32(type);
    try {
      parse_wkb(w.bytes.data(), w.bytes.size());
      ADD_FAILURE() << type;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
      EXPECT_FALSE(e.hint().empty()) << type;
    }
  }
}

TEST(Wkb, RejectsTruncatedAndOversizedInput) {
  Writer w;
  w.u8(1);
  w.u32(3);
  w.square(0, 0, 1);
  for (size_t n = 0; n < w.bytes.size(); n++)
    EXPECT_THROW(parse_wkb(w.bytes.data(), n), Error) << n;
  Writer huge;
  huge.u8(1);
  huge.u32(3);
  huge.u32(0xffffffffu);  // ring count far beyond the data
  EXPECT_THROW(parse_wkb(huge.bytes.data(), huge.bytes.size()), Error);
  w.u8(0);
  EXPECT_THROW(parse_wkb(w.bytes.data(), w.bytes.size()), Error);  // trailing byte
}

TEST(Wkb, RejectsUnclosedRings) {
  Writer w;
  w.u8(1);
  w.u32(3);
  w.u32(1);
  w.u32(4);
  const double pts[4][2] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
  for (auto& p : pts) {
    w.f64(p[0]);
    w.f64(p[1]);
  }
  EXPECT_THROW(parse_wkb(w.bytes.data(), w.bytes.size()), Error);
}
