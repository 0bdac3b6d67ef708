#include "blackmarble/blackmarble.h"

#include <gdal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/error.h"

namespace geoetl {

bool is_leap_year(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

Date date_from_day_of_year(int year, int doy) {
  const int in_year = is_leap_year(year) ? 366 : 365;
  if (doy < 1 || doy > in_year)
    throw Error(ErrorKind::invalid_argument,
                "day of year " + std::to_string(doy) + " does not exist in " + std::to_string(year),
                std::to_string(year) + " has " + std::to_string(in_year) + " days.");
  Date d{year, 1, doy};
  while (d.day > days_in_month(year, d.month)) d.day -= days_in_month(year, d.month++);
  return d;
}

int day_of_year(const Date& date) {
  int doy = date.day;
  for (int m = 1; m < date.month; m++) doy += days_in_month(date.year, m);
  return doy;
}

namespace {

// VNP46A1-A4 (VIIRS on Suomi NPP) or VJ146A1-A4 (on NOAA-20).
bool known_product(const std::string& p) {
  return p.size() == 7 && (p.rfind("VNP46A", 0) == 0 || p.rfind("VJ146A", 0) == 0) && p[6] >= '1' &&
         p[6] <= '4';
}

}  // namespace

Granule parse_granule_name(const std::string& file_name) {
  const std::string name = file_name.substr(file_name.find_last_of('/') + 1);
  char product[16] = "", production[16] = "", ext[8] = "";
  int year = 0, doy = 0, h = 0, v = 0, collection = 0, used = 0;
  const int got = std::sscanf(name.c_str(), "%7[A-Z0-9].A%4d%3d.h%2dv%2d.%3d.%13[0-9].%3[h5]%n",
                              product, &year, &doy, &h, &v, &collection, production, ext, &used);
  auto bad = [&](const std::string& why) {
    return Error(ErrorKind::invalid_argument, "\"" + name + "\" is not a Black Marble file name",
                 why, "Names look like VNP46A2.A2024060.h21v08.002.2024069123456.h5.");
  };
  if (got != 8 || static_cast<size_t>(used) != name.size() || std::strcmp(ext, "h5") != 0)
    throw bad("expected PRODUCT.AYYYYDDD.hHHvVV.CCC.YYYYDDDHHMMSS.h5");
  const std::string p = product;
  if (!known_product(p)) throw bad("the product " + p + " is not VNP46A1-A4 or VJ146A1-A4");
  if (h < 0 || h > 35 || v < 0 || v > 17) throw bad("tiles run from h00v00 to h35v17");
  if (collection != 1 && collection != 2) throw bad("collections are 001 and 002");
  Granule g;
  g.product = p;
  g.date = date_from_day_of_year(year, doy);
  g.h = h;
  g.v = v;
  g.collection = collection;
  g.production = production;
  return g;
}

std::optional<Granule> read_granule_name(const std::string& file_name) {
  try {
    return parse_granule_name(file_name);
  } catch (const Error&) {
    return std::nullopt;
  }
}

Cadence product_cadence(const std::string& product) {
  const char number = known_product(product) ? product[6] : '?';
  if (number == '1' || number == '2') return Cadence::daily;
  if (number == '3') return Cadence::monthly;
  if (number == '4') return Cadence::yearly;
  throw Error(ErrorKind::invalid_argument, "unknown product \"" + product + "\"", {},
              "Known products: VNP46A1, VNP46A2, VNP46A3, VNP46A4 (and VJ146A1-A4).");
}

const char* cadence_name(Cadence cadence) {
  switch (cadence) {
    case Cadence::daily: return "daily";
    case Cadence::monthly: return "monthly";
    case Cadence::yearly: return "yearly";
  }
  return "?";
}

std::array<double, 6> tile_geotransform(int h, int v, int width, int height) {
  return {-180.0 + 10 * h, 10.0 / width, 0, 90.0 - 10 * v, 0, -10.0 / height};
}

std::string layer_gdal_name(const std::string& path, const Granule& g, const std::string& layer) {
  const bool daily = product_cadence(g.product) == Cadence::daily;
  return "HDF5:\"" + path + "\"://HDFEOS/GRIDS/" + (daily ? "VNP_Grid_DNB" : "VIIRS_Grid_DNB_2d") +
         "/Data_Fields/" + layer;
}

namespace {

// The layer attribute `name` (GDAL names it <path with underscores>_<name>), if present.
bool layer_attribute(GDALDatasetH ds, const char* name, double* value) {
  char** md = GDALGetMetadata(GDALGetRasterBand(ds, 1), nullptr);
  const std::string suffix = std::string("_") + name + "=";
  for (char** item = md; item != nullptr && *item != nullptr; item++) {
    const char* eq = std::strchr(*item, '=');
    if (eq == nullptr) continue;
    const size_t key_end = static_cast<size_t>(eq - *item) + 1;
    if (key_end >= suffix.size() &&
        std::strncmp(*item + key_end - suffix.size(), suffix.c_str(), suffix.size()) == 0) {
      char* end = nullptr;
      *value = std::strtod(eq + 1, &end);
      return end != eq + 1;
    }
  }
  return false;
}

constexpr const char* wgs84_wkt =
    "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563]],"
    "PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433],AXIS[\"Latitude\",NORTH],"
    "AXIS[\"Longitude\",EAST],AUTHORITY[\"EPSG\",\"4326\"]]";

}  // namespace

Raster open_layer(const std::string& path, const Granule& g, const std::string& layer,
                  const RasterOpenOptions& options) {
  const std::string name = layer_gdal_name(path, g, layer);
  struct stat st;
  if (path.rfind("/vsi", 0) != 0 && stat(path.c_str(), &st) != 0 && errno == ENOENT)
    throw Error(ErrorKind::not_found, "\"" + path + "\" is missing", "no such file",
                "It was registered but is no longer there: register its folder again "
                "(geoetl.register_rasters) or fetch it again.");
  Raster r;
  try {
    r = Raster::open(name, path + " (" + layer + ")", options);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::data_corrupted) throw;
    // Tell a missing layer from a file that is not a usable HDF5 granule at all.
    const NoSidecarFiles sidecars;
    GDALDatasetH whole =
        GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
    if (whole == nullptr)
      throw Error(ErrorKind::data_corrupted, "\"" + path + "\" is not a readable HDF5 file",
                  e.detail(),
                  "It may be truncated, or an error page saved in its place: fetch it again.");
    GDALClose(whole);
    throw Error(ErrorKind::not_found, "\"" + path + "\" has no layer " + layer, e.detail(),
                "Layer names are case-sensitive, e.g. DNB_BRDF-Corrected_NTL.");
  }
  auto* ds = static_cast<GDALDatasetH>(r.gdal_handle());
  ValueEncoding enc;
  double fill = 0;
  enc.has_nodata = layer_attribute(ds, "_FillValue", &fill);
  enc.nodata = fill;
  if (!layer_attribute(ds, "scale_factor", &enc.scale)) enc.scale = 1;
  if (!layer_attribute(ds, "add_offset", &enc.offset)) enc.offset = 0;
  r.override_encoding(enc);
  const Grid& grid = r.grid();
  r.override_georeference(
      tile_geotransform(g.h, g.v, static_cast<int>(grid.width), static_cast<int>(grid.height)),
      wgs84_wkt);
  return r;
}

}  // namespace geoetl
