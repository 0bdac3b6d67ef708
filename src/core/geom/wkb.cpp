#include "geom/wkb.h"

#include <cstring>
#include <string>

#include "base/error.h"

namespace geoetl {
namespace {

constexpr uint32_t ewkb_z = 0x80000000u, ewkb_m = 0x40000000u, ewkb_srid = 0x20000000u;

// The WKB type's name (ISO 13249-3 codes 0-17), with its article: "a Point", "an unknown
// geometry type (99)".
std::string type_name(uint32_t t) {
  static const char* names[] = {"a Geometry",
                                "a Point",
                                "a LineString",
                                "a Polygon",
                                "a MultiPoint",
                                "a MultiLineString",
                                "a MultiPolygon",
                                "a GeometryCollection",
                                "a CircularString",
                                "a CompoundCurve",
                                "a CurvePolygon",
                                "a MultiCurve",
                                "a MultiSurface",
                                "a Curve",
                                "a Surface",
                                "a PolyhedralSurface",
                                "a TIN",
                                "a Triangle"};
  if (t < sizeof names / sizeof names[0]) return names[t];
  return "an unknown geometry type (WKB type " + std::to_string(t) + ")";
}

// What to do with a geometry of type t instead of a polygon.
std::string polygon_hint(uint32_t t) {
  if (t == 7) return "Take its polygons with ST_CollectionExtract(geom, 3).";
  if (t >= 8 && t <= 14) return "Turn its curves into lines first, e.g. with ST_CurveToLine(geom).";
  if (t >= 15 && t <= 17) return "Take its polygons first, e.g. with ST_Dump(geom).";
  return "Buffer points and lines into polygons first, e.g. with ST_Buffer.";
}

// A bounds-checked reader over the WKB bytes.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}

  void byte_order() { little_ = byte() == 1; }
  uint8_t byte() {
    need(1);
    return *p_++;
  }
  uint32_t u32() {
    need(4);
    uint32_t v;
    std::memcpy(&v, p_, 4);
    p_ += 4;
    return little_ ? v : __builtin_bswap32(v);
  }
  double f64() {
    need(8);
    uint64_t v;
    std::memcpy(&v, p_, 8);
    p_ += 8;
    if (!little_) v = __builtin_bswap64(v);
    double d;
    std::memcpy(&d, &v, 8);
    return d;
  }
  void need(size_t n) const {
    if (static_cast<size_t>(end_ - p_) < n)
      throw Error(ErrorKind::invalid_argument, "truncated WKB geometry");
  }
  // Counts are checked against the bytes left so a corrupt count cannot allocate gigabytes.
  uint32_t count(size_t min_bytes_each) {
    const uint32_t n = u32();
    if (min_bytes_each > 0 && n > static_cast<size_t>(end_ - p_) / min_bytes_each)
      throw Error(ErrorKind::invalid_argument, "truncated WKB geometry",
                  "count " + std::to_string(n) + " exceeds the data");
    return n;
  }
  bool done() const { return p_ == end_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  bool little_ = true;
};

struct Header {
  uint32_t type;
  int dims;
  int32_t srid;
};

Header header(Reader& in) {
  in.byte_order();
  uint32_t raw = in.u32();
  Header h{0, 2, 0};
  if (raw & ewkb_z) h.dims++;
  if (raw & ewkb_m) h.dims++;
  if (raw & ewkb_srid) h.srid = static_cast<int32_t>(in.u32());
  raw &= 0x0fffffffu;
  if (raw >= 1000) {  // ISO WKB: 1000s Z, 2000s M, 3000s ZM
    const uint32_t iso = raw / 1000;
    h.dims = 2 + (iso == 1 || iso == 2 ? 1 : 0) + (iso == 3 ? 2 : 0);
    raw %= 1000;
  }
  h.type = raw;
  return h;
}

Polygon polygon_body(Reader& in, int dims) {
  Polygon poly;
  const uint32_t nrings = in.count(4);
  poly.rings.resize(nrings);
  for (Ring& ring : poly.rings) {
    const uint32_t npoints = in.count(8 * static_cast<size_t>(dims));
    ring.resize(npoints);
    for (Point& pt : ring) {
      pt.x = in.f64();
      pt.y = in.f64();
      for (int d = 2; d < dims; d++) in.f64();
    }
  }
  return poly;
}

}  // namespace

ParsedGeometry parse_wkb(const uint8_t* data, size_t size) {
  Reader in(data, size);
  const Header h = header(in);
  ParsedGeometry out;
  out.srid = h.srid;
  if (h.type == 3) {
    out.polygons.polygons.push_back(polygon_body(in, h.dims));
  } else if (h.type == 6) {
    const uint32_t n = in.count(9);
    for (uint32_t i = 0; i < n; i++) {
      const Header part = header(in);
      if (part.type != 3)
        throw Error(ErrorKind::invalid_argument, "malformed WKB MultiPolygon",
                    "a part is " + type_name(part.type));
      out.polygons.polygons.push_back(polygon_body(in, part.dims));
    }
  } else {
    throw Error(ErrorKind::invalid_argument,
                "zonal statistics need a Polygon or MultiPolygon, not " + type_name(h.type), {},
                polygon_hint(h.type));
  }
  if (!in.done()) throw Error(ErrorKind::invalid_argument, "malformed WKB: trailing bytes");
  for (const Polygon& p : out.polygons.polygons)
    for (const Ring& r : p.rings)
      if (!r.empty() && (r.size() < 4 || r.front().x != r.back().x || r.front().y != r.back().y))
        throw Error(ErrorKind::invalid_argument, "malformed WKB polygon: a ring is not closed");
  return out;
}

}  // namespace geoetl
