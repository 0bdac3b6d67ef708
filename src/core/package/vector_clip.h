// Clipping a vector dataset (GeoPackage, Shapefile, GeoJSON, FlatGeobuf) to an area for a data
// package: the features that intersect the area, cut at its boundary or whole, every attribute
// kept, in the source's CRS, written as GeoPackage, FlatGeobuf, GeoJSON or CSV (geometry as WKT).
#pragma once

#include <cstdint>
#include <string>

#include "base/cancel.h"
#include "gdal/gdal_env.h"
#include "geom/geometry.h"

namespace geoetl {

struct VectorClipOptions {
  std::string layer;            // "": the dataset's only layer
  bool clip = true;             // cut geometries at the area's boundary; false: keep them whole
  std::string format = "GPKG";  // GPKG, FlatGeobuf, GeoJSON or CSV
  GdalSettings gdal;
};

// A column of the output as a Table Schema field (type: string, integer, number, boolean, date,
// time, datetime); CSV output starts with its geometry column, "WKT", and holds dates and
// date-times in ISO 8601 (2024-02-01, 2024-02-01T10:30:00Z), Table Schema's default formats.
struct VectorField {
  std::string name;
  std::string type;
};

struct VectorClip {
  int64_t features = 0;              // written
  std::string layer;                 // the source layer read (and the output layer's name)
  std::vector<VectorField> columns;  // of the output, in order
};

// The file extension and media type of an output format ("gpkg", "application/geopackage+sqlite3").
struct VectorFormat {
  const char* name;
  const char* driver;
  const char* extension;
  const char* mediatype;
};
// invalid_argument (22023) for a format geoetl does not write.
const VectorFormat& vector_format(const std::string& name);

// The GDAL drivers vector sources are read with (a nullptr-terminated list for GDALOpenEx).
const char* const* vector_source_drivers();

// Writes the clip of the vector dataset at `path` (`shown` in errors) to `area` (given in
// `area_crs`, a WKT or PROJ definition; "" when already in the source's CRS) to `out_path`, a
// new file ending in the format's extension, which the caller renames into place. Throws not_found
// / data_corrupted for a source GDAL cannot open as one of the formats above, invalid_argument for
// an unknown or ambiguous layer, cancelled when `cancel` asks; on any failure `out_path` does not
// exist afterwards.
VectorClip clip_vector(const std::string& path, const std::string& shown, const MultiPolygon& area,
                       const std::string& area_crs, const VectorClipOptions& options,
                       const std::string& out_path, const CancelToken& cancel);

// clip_vector() of features given as GeoJSON text (a FeatureCollection whose "crs" member names
// the CRS of its coordinates, as geoetl writes the rows of a table), read in memory. The layer is
// named by the text's "name" member, else "features".
VectorClip clip_geojson(const std::string& geojson, const std::string& shown,
                        const MultiPolygon& area, const std::string& area_crs,
                        const VectorClipOptions& options, const std::string& out_path,
                        const CancelToken& cancel);

}  // namespace geoetl
