// NASA Black Marble (VIIRS night lights) files: names, dates, tiles and layers.
//
// A granule is one file: VNP46A2.A2024060.h21v08.002.2024069123456.h5 is product VNP46A2,
// year 2024, day of year 060 (29 February: leap years count), tile h21v08 (10x10 degrees; west
// edge -180 + 10h, north edge 90 - 10v), collection 002, produced on day 069 at 12:34:56.
// GDAL 3.6 does not georeference these files and does not apply their scale_factor, add_offset
// or (for integer layers) _FillValue: open_layer() does all three from the tile number and the
// layer's own attributes.
#pragma once

#include <array>
#include <optional>
#include <string>

#include "raster/raster.h"

namespace geoetl {

struct Date {
  int year = 0, month = 0, day = 0;
};

bool is_leap_year(int year);
int days_in_month(int year, int month);
// Day of year (1 = 1 January) to a calendar date and back; invalid_argument when out of range.
Date date_from_day_of_year(int year, int day_of_year);
int day_of_year(const Date& date);

struct Granule {
  std::string product;     // VNP46A1 .. VNP46A4 (also VJ146xx)
  Date date;               // first day covered
  int h = 0, v = 0;        // tile
  int collection = 0;      // 1 or 2 (001, 002)
  std::string production;  // YYYYDDDHHMMSS: newer means reprocessed
};

// Parses a file name (a path's last component). Throws Error(invalid_argument) with the reason.
Granule parse_granule_name(const std::string& file_name);
// The same, or nothing when the name is not a granule's (for sifting listings).
std::optional<Granule> read_granule_name(const std::string& file_name);

// How often a product has a granule per tile, by its number: A1 and A2 daily, A3 monthly, A4
// yearly. The daily products keep their layers in another HDF5 grid, with other quality layers.
// (geoetl.dataset states the same for the products it lists; a regression test holds them equal.)
enum class Cadence { daily, monthly, yearly };
Cadence product_cadence(const std::string& product);
const char* cadence_name(Cadence cadence);

// The geotransform of a tile's grid of width x height pixels (10 degrees either way).
std::array<double, 6> tile_geotransform(int h, int v, int width, int height);

// The GDAL name of one layer of a granule file, e.g.
// HDF5:"/data/f.h5"://HDFEOS/GRIDS/VNP_Grid_DNB/Data_Fields/DNB_BRDF-Corrected_NTL.
std::string layer_gdal_name(const std::string& path, const Granule& g, const std::string& layer);

// Opens one layer, georeferenced in EPSG:4326 from the tile number, with its fill value, scale
// and offset taken from the layer's attributes. Throws not_found for a missing layer and
// data_corrupted for a file that is not a readable HDF5 granule.
Raster open_layer(const std::string& path, const Granule& g, const std::string& layer,
                  const RasterOpenOptions& options = {});

}  // namespace geoetl
