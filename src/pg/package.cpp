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

#include <string>

#include "access.h"
#include "args.h"
#include "boundary.h"
#include "fetch.h"
#include "geometry_arg.h"
#include "package/publish.h"
#include "package/raster_clip.h"
#include "package/source_probe.h"
#include "package/vector_clip.h"
#include "raster/crs.h"
#include "settings.h"
#include "store_txn.h"
#include "transfer/sources.h"

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

// {"uri", "bytes", "sha256", "items"} as text. Allocates: call under pg_guard.
char* published_json(const geoetl::PublishedFile& p) {
  StringInfoData buf;
  initStringInfo(&buf);
  appendStringInfoString(&buf, "{\"uri\": ");
  escape_json(&buf, p.uri.c_str());
  appendStringInfo(&buf,
                   ", \"bytes\": %llu, \"sha256\": ", static_cast<unsigned long long>(p.bytes));
  escape_json(&buf, p.sha256.c_str());
  appendStringInfo(&buf, ", \"items\": %lld}", static_cast<long long>(p.items));
  return buf.data;
}

// Publishes what `write` writes as `key` of the current store, following the transaction.
char* publish(const char* key, const std::function<int64_t(const std::string&)>& write,
              const geoetl::CancelToken& cancel) {
  geoetl::PublishedFile p;
  geoetl::pg::put_in_transaction(geoetl::pg::current_store(), [&](geoetl::Store& store) {
    p = geoetl::publish_file(store, key, write, cancel);
    return std::move(p.undo);
  });
  return geoetl::pg::pg_guard([&] { return published_json(p); });
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
  const Datum geom = args.datum(1, "area");
  const Oid geom_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
  const char* key = args.text(2, "key");
  geoetl::VectorClipOptions o;
  o.layer = args.text_or(3, "");
  o.clip = args.boolean(4, "clip");
  o.format = args.text(5, "format");
  char* json = geoetl::pg::call_core([&] {
    geoetl::pg::check_read_access(location, "source");
    const geoetl::Source src = geoetl::resolve_source(location);
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    o.gdal = geoetl::pg::gdal_settings();
    int32_t srid = 0;
    const geoetl::MultiPolygon area =
        geoetl::pg::polygon_arg(geom, geom_type, geoetl::pg::ewkb_of(geom, geom_type), &srid);
    const std::string area_crs = geoetl::pg::srid_crs(srid, geom_type);
    return publish(
        key,
        [&](const std::string& path) {
          return geoetl::clip_vector(src.gdal_path, src.shown, area, area_crs, o, path, cancel)
              .features;
        },
        cancel);
  });
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

}  // extern "C"
