#include "wkb.h"

#include <cstring>
#include <string>

#include "error.h"

namespace geoetl {
namespace {

constexpr uint32_t ewkb_z = 0x80000000u, ewkb_m = 0x40000000u, ewkb_srid = 0x20000000u;

const char* type_name(uint32_t t) {
  static const char* names[] = {
      "Geometry",   "Point",           "LineString",   "Polygon",
      "MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"};
  if (t < 8) return names[t];
  if (t == 15) return "PolyhedralSurface";
  if (t == 16) return "TIN";
  if (t == 17) return "Triangle";
  return "unknown geometry type";
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
                    std::string("a part is a ") + type_name(part.type));
      out.polygons.polygons.push_back(polygon_body(in, part.dims));
    }
  } else {
    throw Error(
        ErrorKind::invalid_argument,
        std::string("zonal statistics need a Polygon or MultiPolygon, not a ") + type_name(h.type),
        {},
        h.type == 7 ? "Take its polygons with ST_CollectionExtract(geom, 3)."
                    : "Buffer points and lines into polygons first, e.g. with ST_Buffer.");
  }
  if (!in.done()) throw Error(ErrorKind::invalid_argument, "malformed WKB: trailing bytes");
  for (const Polygon& p : out.polygons.polygons)
    for (const Ring& r : p.rings)
      if (!r.empty() && (r.size() < 4 || r.front().x != r.back().x || r.front().y != r.back().y))
        throw Error(ErrorKind::invalid_argument, "malformed WKB polygon: a ring is not closed");
  return out;
}

}  // namespace geoetl
