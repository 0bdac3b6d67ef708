// The glue of data packages (src/sql/89_package.sql): geoetl._probe_source(), what a source
// file is (package/source_probe.h), and geoetl._package_clip_raster/_vector(), a source clipped
// to an area and published into the store as one object (package/raster_clip.h, vector_clip.h,
// publish.h), taken back if the transaction fails.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
}

#include <functional>
#include <string>
#include <vector>

#include "access.h"
#include "args.h"
#include "boundary.h"
#include "fetch.h"
#include "geometry_arg.h"
#include "package.h"
#include "transfer/store_publish.h"
#include "package/raster_clip.h"
#include "package/source_probe.h"
#include "package/vector_clip.h"
#include "raster/crs.h"
#include "settings.h"
#include "store_txn.h"
#include "transfer/sources.h"

namespace geoetl::pg {

char* published_json(const PublishedFile& p, const std::vector<VectorField>* columns) {
  StringInfoData buf;
  initStringInfo(&buf);
  appendStringInfoString(&buf, "{\"uri\": ");
  escape_json(&buf, p.uri.c_str());
  appendStringInfo(&buf,
                   ", \"bytes\": %llu, \"sha256\": ", static_cast<unsigned long long>(p.bytes));
  escape_json(&buf, p.sha256.c_str());
  appendStringInfo(&buf, ", \"items\": %lld", static_cast<long long>(p.items));
  if (columns != nullptr) {
    appendStringInfoString(&buf, ", \"columns\": [");
    for (size_t i = 0; i < columns->size(); i++) {
      appendStringInfoString(&buf, i > 0 ? ", {\"name\": " : "{\"name\": ");
      escape_json(&buf, (*columns)[i].name.c_str());
      appendStringInfoString(&buf, ", \"type\": ");
      escape_json(&buf, (*columns)[i].type.c_str());
      appendStringInfoChar(&buf, '}');
    }
    appendStringInfoChar(&buf, ']');
  }
  appendStringInfoChar(&buf, '}');
  return buf.data;
}

}  // namespace geoetl::pg

namespace {

// {"kind", "driver", "crs", "bands" | "layers", "signature"} as text. Allocates: call under
// pg_guard.
char* source_json(const geoetl::SourceInfo& info) {
  StringInfoData buf;
  initStringInfo(&buf);
  appendStringInfoString(&buf, "{\"kind\": ");
  escape_json(&buf, geoetl::source_kind_name(info.kind));
  appendStringInfoString(&buf, ", \"driver\": ");
  escape_json(&buf, info.driver.c_str());
  appendStringInfoString(&buf, ", \"crs\": ");
  if (info.crs_wkt.empty())
    appendStringInfoString(&buf, "null");
  else
    escape_json(&buf, info.crs_wkt.c_str());
  if (info.kind == geoetl::SourceInfo::Kind::raster) {
    appendStringInfo(&buf, ", \"bands\": %d", info.bands);
  } else {
    appendStringInfoString(&buf, ", \"layers\": [");
    for (size_t i = 0; i < info.layers.size(); i++) {
      if (i > 0) appendStringInfoString(&buf, ", ");
      escape_json(&buf, info.layers[i].c_str());
    }
    appendStringInfoChar(&buf, ']');
  }
  appendStringInfoString(&buf, ", \"signature\": ");
  escape_json(&buf, info.signature.c_str());
  appendStringInfoChar(&buf, '}');
  return buf.data;
}

// Publishes what `write` writes as `key` of the current store, following the transaction.
char* publish(const char* key, const std::function<int64_t(const std::string&)>& write,
              const geoetl::CancelToken& cancel,
              const std::vector<geoetl::VectorField>* columns = nullptr) {
  geoetl::PublishedFile p;
  geoetl::pg::put_in_transaction(geoetl::pg::current_store(), [&](geoetl::Store& store) {
    p = geoetl::publish_file(store, key, write, cancel);
    return std::move(p.undo);
  });
  return geoetl::pg::pg_guard([&] { return geoetl::pg::published_json(p, columns); });
}

// A vector clip's area (argument 1), key (2), and clip and format (at `clip_at` and after).
struct VectorArgs {
  geoetl::VectorClipOptions options;
  Datum geom;
  Oid geom_type;
  const char* key;
};

VectorArgs vector_args(FunctionCallInfo fcinfo, const geoetl::pg::SqlArgs& args, const char* layer,
                       int clip_at) {
  VectorArgs v;
  v.geom = args.datum(1, "area");
  v.geom_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
  v.key = args.text(2, "key");
  v.options.layer = layer;
  v.options.clip = args.boolean(clip_at, "clip");
  v.options.format = args.text(clip_at + 1, "format");
  return v;
}

// Publishes what `clip` writes to its path as the vector clip's key: {"uri", "bytes", "sha256",
// "items", "columns"}. Call inside call_core.
char* publish_vector(
    VectorArgs& v,
    const std::function<geoetl::VectorClip(const geoetl::MultiPolygon&, const std::string& area_crs,
                                           const std::string& path, const geoetl::CancelToken&)>&
        clip) {
  const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
  v.options.gdal = geoetl::pg::gdal_settings();
  int32_t srid = 0;
  const geoetl::MultiPolygon area =
      geoetl::pg::polygon_arg(v.geom, v.geom_type, geoetl::pg::ewkb_of(v.geom, v.geom_type), &srid);
  const std::string area_crs = geoetl::pg::srid_crs(srid, v.geom_type);
  std::vector<geoetl::VectorField> columns;
  return publish(
      v.key,
      [&](const std::string& path) {
        geoetl::VectorClip written = clip(area, area_crs, path, cancel);
        columns = std::move(written.columns);
        return written.features;
      },
      cancel, &columns);
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(geoetl_probe_source);
Datum geoetl_probe_source(PG_FUNCTION_ARGS) {
  const std::string location = geoetl::pg::SqlArgs(fcinfo).text(0, "location");
  char* json = geoetl::pg::call_core([&] {
    const bool superuser = geoetl::pg::check_read_access(location, "source");
    const geoetl::Source src = geoetl::resolve_source(location);
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    const geoetl::RasterOpenOptions ro = geoetl::pg::raster_open_options(superuser, &cancel);
    const geoetl::SourceInfo info = geoetl::probe_source(src.gdal_path, src.shown, ro);
    return geoetl::pg::pg_guard([&] { return source_json(info); });
  });
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

// _package_format(format) -> {"extension", "mediatype"}: COG (rasters) or a vector format.
PG_FUNCTION_INFO_V1(geoetl_package_format);
Datum geoetl_package_format(PG_FUNCTION_ARGS) {
  const std::string format = geoetl::pg::SqlArgs(fcinfo).text(0, "format");
  char* json = geoetl::pg::call_core([&] {
    std::string extension = geoetl::kRasterClipExtension;
    std::string mediatype = geoetl::kRasterClipMediatype;
    if (format != "COG") {
      const geoetl::VectorFormat& f = geoetl::vector_format(format);
      extension = f.extension;
      mediatype = f.mediatype;
    }
    return geoetl::pg::pg_guard([&] {
      StringInfoData buf;
      initStringInfo(&buf);
      appendStringInfoString(&buf, "{\"extension\": ");
      escape_json(&buf, extension.c_str());
      appendStringInfoString(&buf, ", \"mediatype\": ");
      escape_json(&buf, mediatype.c_str());
      appendStringInfoChar(&buf, '}');
      return buf.data;
    });
  });
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

// _package_clip_raster(location, area, key, bands int[], all_touched, compression) -> jsonb
PG_FUNCTION_INFO_V1(geoetl_package_clip_raster);
Datum geoetl_package_clip_raster(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo);
  const char* location = args.text(0, "location");
  const Datum geom = args.datum(1, "area");
  const Oid geom_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
  const char* key = args.text(2, "key");
  const geoetl::pg::ArgArray<int32> bands =
      args.int4_array(3, "bands", geoetl::pg::NullElements::refuse);
  geoetl::RasterClipOptions o;
  o.bands.assign(bands.begin(), bands.end());
  o.all_touched = args.boolean(4, "all_touched");
  o.compression = args.text(5, "compression");
  char* json = geoetl::pg::call_core([&] {
    const bool superuser = geoetl::pg::check_read_access(location, "source");
    const geoetl::Source src = geoetl::resolve_source(location);
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    const geoetl::Raster raster = geoetl::Raster::open(
        src.gdal_path, src.shown, geoetl::pg::raster_open_options(superuser, &cancel));
    int32_t srid = 0;
    geoetl::MultiPolygon area =
        geoetl::pg::polygon_arg(geom, geom_type, geoetl::pg::ewkb_of(geom, geom_type), &srid);
    geoetl::transform_to_raster_crs(area, geoetl::pg::srid_crs(srid, geom_type), raster.crs_wkt(),
                                    raster.name());
    return publish(
        key,
        [&](const std::string& path) {
          return geoetl::clip_raster(raster, area, o, path, cancel).cells_in;
        },
        cancel);
  });
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

// _package_clip_vector(location, area, key, layer, clip, format) -> jsonb
PG_FUNCTION_INFO_V1(geoetl_package_clip_vector);
Datum geoetl_package_clip_vector(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo);
  const char* location = args.text(0, "location");
  VectorArgs v = vector_args(fcinfo, args, args.text_or(3, ""), 4);
  char* json = geoetl::pg::call_core([&] {
    geoetl::pg::check_read_access(location, "source");
    const geoetl::Source src = geoetl::resolve_source(location);
    return publish_vector(v, [&](const geoetl::MultiPolygon& area, const std::string& area_crs,
                                 const std::string& path, const geoetl::CancelToken& cancel) {
      return geoetl::clip_vector(src.gdal_path, src.shown, area, area_crs, v.options, path, cancel);
    });
  });
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

// _package_clip_features(features, area, key, clip, format) -> jsonb: features is a GeoJSON
// FeatureCollection (the rows of a table source, with a "crs" member).
PG_FUNCTION_INFO_V1(geoetl_package_clip_features);
Datum geoetl_package_clip_features(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo);
  const std::string features = args.text(0, "features");
  VectorArgs v = vector_args(fcinfo, args, "", 3);
  char* json = geoetl::pg::call_core([&] {
    return publish_vector(v, [&](const geoetl::MultiPolygon& area, const std::string& area_crs,
                                 const std::string& path, const geoetl::CancelToken& cancel) {
      return geoetl::clip_geojson(features, "the table's rows", area, area_crs, v.options, path,
                                  cancel);
    });
  });
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

}  // extern "C"
