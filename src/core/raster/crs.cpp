#include "raster/crs.h"

#include <ogr_srs_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <list>
#include <memory>
#include <vector>

#include "base/error.h"
#include "gdal/gdal_env.h"
#include "raster/shared_memo.h"

namespace geoetl {
namespace {

struct SrsDeleter {
  void operator()(void* p) const {
    OSRDestroySpatialReference(static_cast<OGRSpatialReferenceH>(p));
  }
};
using Srs = std::unique_ptr<void, SrsDeleter>;

// A plain struct as the shared memo keeps it (its bytes), and back.
template <typename T>
std::string as_bytes(const T& v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}
template <typename T>
bool from_memo(MemoKind kind, const std::string& key, T* v) {
  std::string bytes;
  if (!shared_memo_get(kind, key, &bytes) || bytes.size() != sizeof *v) return false;
  std::memcpy(v, bytes.data(), sizeof *v);
  return true;
}

Srs make_srs(const std::string& definition, const char* what) {
  OGRSpatialReferenceH h = OSRNewSpatialReference(nullptr);
  Srs srs(h);
  GdalErrors errors;
  if (OSRSetFromUserInput(h, definition.c_str()) != OGRERR_NONE)
    throw Error(ErrorKind::invalid_argument, std::string("cannot understand the ") + what + " CRS",
                errors.last());
  OSRSetAxisMappingStrategy(h, OAMS_TRADITIONAL_GIS_ORDER);
  return srs;
}

}  // namespace

namespace {

// Parsing two CRSs and asking PROJ for a transformation costs far more than summarising a
// village: each (geometry CRS, raster CRS) pair's transformation (null when the two are the
// same) is kept, most recent first, and destroyed when it falls out.
struct CtDeleter {
  void operator()(void* ct) const {
    OCTDestroyCoordinateTransformation(static_cast<OGRCoordinateTransformationH>(ct));
  }
};
using Transformation = std::unique_ptr<void, CtDeleter>;

OGRCoordinateTransformationH transformation(const std::string& from, const std::string& to_wkt,
                                            const std::string& raster_name) {
  static std::list<std::pair<std::string, Transformation>> cache;
  const std::string key = from + '\0' + to_wkt;
  for (auto it = cache.begin(); it != cache.end(); ++it)
    if (it->first == key) {
      cache.splice(cache.begin(), cache, it);
      return static_cast<OGRCoordinateTransformationH>(it->second.get());
    }
  // the same CRS, as another backend found: no transformation, and no PROJ asked
  std::string same;
  if (shared_memo_get(MemoKind::same_crs, key, &same) && same == "1") {
    cache.emplace_front(key, Transformation());
    if (cache.size() > 16) cache.pop_back();
    return nullptr;
  }
  Srs src = make_srs(from, "geometry's"), dst = make_srs(to_wkt, "raster's");
  Transformation ct;
  if (OSRIsSame(static_cast<OGRSpatialReferenceH>(src.get()),
                static_cast<OGRSpatialReferenceH>(dst.get()))) {
    shared_memo_put(MemoKind::same_crs, key, "1");
  } else {
    GdalErrors errors;
    ct.reset(OCTNewCoordinateTransformation(static_cast<OGRSpatialReferenceH>(src.get()),
                                            static_cast<OGRSpatialReferenceH>(dst.get())));
    if (!ct)
      throw Error(ErrorKind::invalid_argument,
                  "cannot transform the geometry to the CRS of \"" + raster_name + "\"",
                  errors.last());
  }
  cache.emplace_front(key, std::move(ct));
  if (cache.size() > 16) cache.pop_back();
  return static_cast<OGRCoordinateTransformationH>(cache.front().second.get());
}

}  // namespace

namespace {

// What bounding a CRS's coordinates needs, parsed once per CRS.
struct CrsBound {
  bool geographic;
  double degrees_per_unit, metres_per_unit;
};

CrsBound crs_bound(const std::string& definition) {
  static std::list<std::pair<std::string, CrsBound>> cache;
  for (auto& [key, bound] : cache)
    if (key == definition) return bound;
  CrsBound b{};
  if (!from_memo(MemoKind::crs_bound, definition, &b)) {
    Srs srs = make_srs(definition, "geometry's");
    auto h = static_cast<OGRSpatialReferenceH>(srs.get());
    const bool geographic = OSRIsGeographic(h) != 0;
    b = {geographic, geographic ? OSRGetAngularUnits(h, nullptr) * 180 / M_PI : 0,
         geographic ? 0 : OSRGetLinearUnits(h, nullptr)};
    shared_memo_put(MemoKind::crs_bound, definition, as_bytes(b));
  }
  cache.emplace_front(definition, b);
  if (cache.size() > 16) cache.pop_back();
  return b;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

}  // namespace

void check_coordinate_range(const Box& box, const std::string& crs, const std::string& what) {
  const double corners[] = {box.xmin, box.ymin, box.xmax, box.ymax};
  for (double v : corners)
    if (!std::isfinite(v))
      throw Error(ErrorKind::invalid_argument, what + " has non-finite coordinates",
                  "A coordinate is " + number(v) + ".",
                  "Coordinates must be finite numbers: check how the geometry was built.");
  if (crs.empty()) return;
  const CrsBound b = crs_bound(crs);
  // generous: a geographic CRS's longitudes may wrap once, any projected CRS of the Earth stays
  // within a few 1e7 m; PROJ answers at once far beyond these
  const double x = std::max(std::fabs(box.xmin), std::fabs(box.xmax));
  const double y = std::max(std::fabs(box.ymin), std::fabs(box.ymax));
  const bool metres = !b.geographic && b.metres_per_unit > 0;
  const double xs = b.geographic ? x * b.degrees_per_unit : metres ? x * b.metres_per_unit : x;
  const double ys = b.geographic ? y * b.degrees_per_unit : metres ? y * b.metres_per_unit : y;
  const double xmax = b.geographic ? 360 : 1e9, ymax = b.geographic ? 180 : 1e9;
  if (xs <= xmax && ys <= ymax) return;
  const std::string unit = b.geographic ? " degrees" : " m";
  throw Error(ErrorKind::invalid_argument, what + " has coordinates out of range for its CRS",
              "Its bounding box is " + number(box.xmin) + " " + number(box.ymin) + ", " +
                  number(box.xmax) + " " + number(box.ymax) + "; the CRS allows x within +-" +
                  number(xmax) + unit + " and y within +-" + number(ymax) + unit + ".",
              b.geographic ? "Longitude/latitude CRSs (such as EPSG:4326) take degrees: check "
                             "the SRID, and whether the coordinates are projected ones."
                           : "Check the SRID and the coordinates' units.");
}

void transform_to_raster_crs(MultiPolygon& mp, const std::string& from, const std::string& to_wkt,
                             const std::string& raster_name) {
  for (const Polygon& p : mp.polygons)  // NaN does not show in a bounding box
    for (const Ring& ring : p.rings)
      for (const Point& pt : ring)
        if (!std::isfinite(pt.x) || !std::isfinite(pt.y))
          check_coordinate_range({pt.x, pt.y, pt.x, pt.y}, {}, "the geometry");
  const Box box = bounding_box(mp);
  if (!box.empty()) check_coordinate_range(box, from, "the geometry");
  if (from.empty()) return;
  if (to_wkt.empty())
    throw Error(ErrorKind::invalid_argument,
                "raster \"" + raster_name + "\" has no coordinate reference system",
                "The geometry has an SRID, so it cannot be placed on the raster.",
                "If the geometry is in the raster's own coordinates, give it SRID 0 with "
                "ST_SetSRID(geom, 0).");
  OGRCoordinateTransformationH ct = transformation(from, to_wkt, raster_name);
  if (ct == nullptr) return;
  GdalErrors errors;
  std::vector<double> xs, ys;
  bool ok = true;
  for (Polygon& p : mp.polygons)
    for (Ring& ring : p.rings) {
      xs.resize(ring.size());
      ys.resize(ring.size());
      for (size_t i = 0; i < ring.size(); i++) xs[i] = ring[i].x, ys[i] = ring[i].y;
      std::vector<int> success(ring.size());
      if (!OCTTransformEx(ct, static_cast<int>(ring.size()), xs.data(), ys.data(), nullptr,
                          success.data()) ||
          std::find(success.begin(), success.end(), 0) != success.end())
        ok = false;
      for (size_t i = 0; i < ring.size(); i++) ring[i] = {xs[i], ys[i]};
    }
  if (!ok)
    throw Error(
        ErrorKind::invalid_argument,
        "the geometry lies outside the area where the CRS of \"" + raster_name + "\" is defined",
        errors.last());
}

namespace {

// What cell areas need from a CRS, parsed once per CRS.
struct CrsUnits {
  bool geographic;
  double a, inv_f, radians_per_unit, metres_per_unit;
};

const CrsUnits& crs_units(const std::string& wkt) {
  static std::list<std::pair<std::string, CrsUnits>> cache;
  for (auto& [key, units] : cache)
    if (key == wkt) return units;
  CrsUnits u{};
  if (!from_memo(MemoKind::crs_units, wkt, &u)) {
    Srs srs = make_srs(wkt, "raster's");
    auto h = static_cast<OGRSpatialReferenceH>(srs.get());
    OGRErr err = OGRERR_NONE;
    u = {OSRIsGeographic(h) != 0, OSRGetSemiMajor(h, &err), OSRGetInvFlattening(h, &err),
         OSRGetAngularUnits(h, nullptr), OSRGetLinearUnits(h, nullptr)};
    shared_memo_put(MemoKind::crs_units, wkt, as_bytes(u));
  }
  cache.emplace_front(wkt, u);
  if (cache.size() > 16) cache.pop_back();
  return cache.front().second;
}

}  // namespace

CellAreas::CellAreas(const Grid& grid, const std::string& crs_wkt) {
  if (crs_wkt.empty()) return;
  const CrsUnits& u = crs_units(crs_wkt);
  if (u.geographic) {
    const double f = u.inv_f > 0 ? 1 / u.inv_f : 0;
    const double e2 = f * (2 - f);
    kind_ = Kind::geographic;
    e_ = std::sqrt(e2);
    a2_1me2_half_ = u.a * u.a * (1 - e2) / 2;
    to_rad_ = u.radians_per_unit;
    dlambda_ = std::fabs(grid.dx) * to_rad_;
    y0_ = grid.y0;
    dy_ = grid.dy;
  } else {
    kind_ = Kind::planar;
    planar_km2_ = std::fabs(grid.dx * grid.dy) * u.metres_per_unit * u.metres_per_unit / 1e6;
  }
}

double CellAreas::km2(int64_t row) const {
  switch (kind_) {
    case Kind::unknown: return std::nan("");
    case Kind::planar: return planar_km2_;
    case Kind::geographic: break;
  }
  // Area between two parallels on the ellipsoid, per radian of longitude:
  // a²(1-e²)/2 · [q(φ)] with q(φ) = sinφ/(1-e²sin²φ) + ln((1+e sinφ)/(1-e sinφ))/(2e).
  auto q = [&](double lat_units) {
    const double phi = std::clamp(lat_units * to_rad_, -M_PI / 2, M_PI / 2);
    const double s = std::sin(phi);
    if (e_ == 0) return 2 * s;
    return s / (1 - e_ * e_ * s * s) + std::log((1 + e_ * s) / (1 - e_ * s)) / (2 * e_);
  };
  const double top = y0_ + static_cast<double>(row) * dy_, bottom = top + dy_;
  return a2_1me2_half_ * dlambda_ * std::fabs(q(top) - q(bottom)) / 1e6;
}

}  // namespace geoetl
