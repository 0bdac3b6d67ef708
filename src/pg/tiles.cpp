// Monthly composites and map tiles (src/sql/62_composite.sql, 64_tiles.sql): a tile's composite
// written to the store, a month's tiles rendered into it (XYZ files or one PMTiles archive), one
// tile rendered on demand, and the tile arithmetic the SQL asks for. Core:
// blackmarble/composite_file.h, tiles/render_month.h, tiles/tile_grid.h.
//
// Every argument is read as plain palloc'd data first; C++ containers live only inside call_core,
// and results are built there under pg_guard (boundary.h).
extern "C" {
#include "postgres.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "base/error.h"
#include "blackmarble/composite_file.h"
#include "boundary.h"
#include "fetch.h"
#include "gdal/gdal_env.h"
#include "night_rules.h"
#include "result_row.h"
#include "settings.h"
#include "store_txn.h"
#include "tiles/render_month.h"
#include "transfer/store_publish.h"

namespace {

using geoetl::pg::ArgArray;
using geoetl::pg::NullElements;

// The composites (store keys) as GDAL opens them.
std::vector<std::string> gdal_paths(geoetl::Store& store, const ArgArray<const char*>& keys) {
  std::vector<std::string> paths;
  for (const char* k : keys) paths.push_back(store.gdal_path(k));
  return paths;
}

// float8[] {west, south, east, north[, west, south, ...]}, checked (before call_core).
ArgArray<double> boxes_arg(const geoetl::pg::SqlArgs& args, int n) {
  const ArgArray<double> b = args.float8_array(n, "boxes", NullElements::refuse);
  if (b.count == 0 || b.count % 4 != 0)
    ereport(ERROR,
            (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
             errmsg("boxes must be {west, south, east, north[, west, south, east, north ...]}"),
             errhint("Four numbers in degrees per box.")));
  return b;
}

// The boxes as the core takes them (inside call_core).
std::vector<geoetl::Bounds> boxes_of(const ArgArray<double>& b) {
  std::vector<geoetl::Bounds> boxes;
  for (int i = 0; i + 3 < b.count; i += 4)
    boxes.push_back({b.items[i], b.items[i + 1], b.items[i + 2], b.items[i + 3]});
  return boxes;
}

// The counts as the row type geoetl._tile_counts (under pg_guard).
Datum counts_datum(TupleDesc desc, const geoetl::TileCounts& n) {
  geoetl::pg::ResultRow row(desc);
  const std::pair<const char*, int64_t> values[] = {
      {"tiles", n.tiles}, {"written", n.written}, {"unchanged", n.unchanged},
      {"empty", n.empty}, {"removed", n.removed}, {"bytes", static_cast<int64_t>(n.bytes)}};
  for (const auto& [name, v] : values) row.set(name, INT8OID, Int64GetDatum(v));
  return row.datum();
}

}  // namespace

extern "C" {

// _save_composite(uris, key, layer, quality, cloud, snow, negative, min_valid_nights, median)
//   -> (uri, bytes, sha256, tile_size, valid_pixels, files_used, files_invalid)
PG_FUNCTION_INFO_V1(geoetl_save_composite);
Datum geoetl_save_composite(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo, "_save_composite");
  args.require({{0, "uris"}, {1, "key"}});
  const ArgArray<const char*> uris = args.text_array(0, "uris", NullElements::refuse);
  const char* key = args.text(1, "key");
  const geoetl::pg::NightRuleArgs night(args, 2);
  const TupleDesc desc = geoetl::pg::composite_result_type(fcinfo, "_save_composite");
  const Datum result = geoetl::pg::call_core([&] {
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    geoetl::RasterOpenOptions ro;
    ro.gdal = geoetl::pg::gdal_settings();
    ro.cancel = &cancel;
    const std::vector<std::string> paths(uris.begin(), uris.end());
    geoetl::CompositeReport report;
    const geoetl::TileComposite c =
        geoetl::month_tile_composite(paths, night.rules(), ro, cancel, &report);
    geoetl::PublishedFile file;
    geoetl::pg::put_in_transaction(geoetl::pg::current_store(), [&](geoetl::Store& store) {
      file = geoetl::publish_file(
          store, key,
          [&](const std::string& path) {
            geoetl::write_composite_cog(c, path, cancel);
            return static_cast<int64_t>(std::count(c.valid.begin(), c.valid.end(), 1));
          },
          cancel);
      return std::move(file.undo);
    });
    std::vector<std::string> used;
    for (const std::string& u : paths)
      if (std::none_of(report.files_invalid.begin(), report.files_invalid.end(),
                       [&](const std::string& bad) { return bad.rfind(u + ": ", 0) == 0; }))
        used.push_back(u);
    return geoetl::pg::pg_guard([&] {
      geoetl::pg::ResultRow row(desc);
      row.set("uri", TEXTOID, CStringGetTextDatum(file.uri.c_str()));
      row.set("bytes", INT8OID, Int64GetDatum(static_cast<int64_t>(file.bytes)));
      row.set("sha256", TEXTOID, CStringGetTextDatum(file.sha256.c_str()));
      row.set("tile_size", INT4OID, Int32GetDatum(c.tile_size));
      row.set("valid_pixels", INT8OID, Int64GetDatum(file.items));
      row.set("files_used", TEXTARRAYOID, geoetl::pg::text_array_of(used));
      row.set("files_invalid", TEXTARRAYOID, geoetl::pg::text_array_of(report.files_invalid));
      return row.datum();
    });
  });
  PG_RETURN_DATUM(result);
}

// _render_xyz(keys, prefix, boxes, z) -> (tiles, written, unchanged, empty, removed, bytes)
PG_FUNCTION_INFO_V1(geoetl_render_xyz);
Datum geoetl_render_xyz(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo, "_render_xyz");
  args.require({{0, "keys"}, {1, "prefix"}, {2, "boxes"}, {3, "z"}});
  const ArgArray<const char*> keys = args.text_array(0, "keys", NullElements::refuse);
  const char* prefix = args.text(1, "prefix");
  const ArgArray<double> boxes = boxes_arg(args, 2);
  const int z = args.int4(3, "z");
  const TupleDesc desc = geoetl::pg::composite_result_type(fcinfo, "_render_xyz");
  const Datum result = geoetl::pg::call_core([&] {
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    const std::unique_ptr<geoetl::Store> store = geoetl::pg::current_store();
    geoetl::check_store_key(prefix);
    geoetl::ensure_gdal(geoetl::pg::gdal_settings());
    const geoetl::TileCounts n =
        geoetl::render_xyz_zoom(geoetl::cached_tile_renderer(gdal_paths(*store, keys)), *store,
                                prefix, boxes_of(boxes), z, cancel);
    return geoetl::pg::pg_guard([&] { return counts_datum(desc, n); });
  });
  PG_RETURN_DATUM(result);
}

// _render_pmtiles(keys, key, boxes, min_zoom, max_zoom, metadata) -> tile counts; the archive
// follows the transaction
PG_FUNCTION_INFO_V1(geoetl_render_pmtiles);
Datum geoetl_render_pmtiles(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo, "_render_pmtiles");
  args.require(
      {{0, "keys"}, {1, "key"}, {2, "boxes"}, {3, "min_zoom"}, {4, "max_zoom"}, {5, "metadata"}});
  const ArgArray<const char*> keys = args.text_array(0, "keys", NullElements::refuse);
  const char* key = args.text(1, "key");
  const ArgArray<double> boxes = boxes_arg(args, 2);
  const int min_zoom = args.int4(3, "min_zoom"), max_zoom = args.int4(4, "max_zoom");
  const char* metadata = args.text(5, "metadata");
  const TupleDesc desc = geoetl::pg::composite_result_type(fcinfo, "_render_pmtiles");
  const Datum result = geoetl::pg::call_core([&] {
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    geoetl::ensure_gdal(geoetl::pg::gdal_settings());
    geoetl::TileCounts n;
    geoetl::pg::put_in_transaction(geoetl::pg::current_store(), [&](geoetl::Store& store) {
      const geoetl::TileRenderer& renderer = geoetl::cached_tile_renderer(gdal_paths(store, keys));
      geoetl::PublishedFile file = geoetl::publish_file(
          store, key,
          [&](const std::string& path) {
            n = geoetl::write_pmtiles(renderer, path, boxes_of(boxes), min_zoom, max_zoom, metadata,
                                      cancel);
            return n.written;
          },
          cancel);
      return std::move(file.undo);
    });
    return geoetl::pg::pg_guard([&] { return counts_datum(desc, n); });
  });
  PG_RETURN_DATUM(result);
}

// _render_tile(keys, z, x, y) -> PNG, or NULL for a tile without light
PG_FUNCTION_INFO_V1(geoetl_render_tile);
Datum geoetl_render_tile(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo, "_render_tile");
  args.require({{0, "keys"}, {1, "z"}, {2, "x"}, {3, "y"}});
  const ArgArray<const char*> keys = args.text_array(0, "keys", NullElements::refuse);
  const int z = args.int4(1, "z"), x = args.int4(2, "x"), y = args.int4(3, "y");
  bytea* png = geoetl::pg::call_core([&]() -> bytea* {
    if (x < 0 || y < 0)
      throw geoetl::Error(geoetl::ErrorKind::invalid_argument, "x and y must not be negative");
    const geoetl::TileXyz t{z, static_cast<uint32_t>(x), static_cast<uint32_t>(y)};
    geoetl::check_tile(t);
    if (keys.count == 0) return nullptr;
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    const std::unique_ptr<geoetl::Store> store = geoetl::pg::current_store();
    geoetl::ensure_gdal(geoetl::pg::gdal_settings());
    const std::string bytes = geoetl::cached_tile_renderer(gdal_paths(*store, keys)).png(t, cancel);
    if (bytes.empty()) return nullptr;
    return geoetl::pg::pg_guard([&] { return geoetl::pg::bytea_of(bytes); });
  });
  if (png == nullptr) PG_RETURN_NULL();
  PG_RETURN_BYTEA_P(png);
}

// _tile_lonlat(z, x, y) -> {west, south, east, north} in degrees
PG_FUNCTION_INFO_V1(geoetl_tile_lonlat);
Datum geoetl_tile_lonlat(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo, "_tile_lonlat");
  args.require({{0, "z"}, {1, "x"}, {2, "y"}});
  const int z = args.int4(0, "z"), x = args.int4(1, "x"), y = args.int4(2, "y");
  const Datum result = geoetl::pg::call_core([&] {
    if (x < 0 || y < 0)
      throw geoetl::Error(geoetl::ErrorKind::invalid_argument, "x and y must not be negative");
    const geoetl::Bounds b =
        geoetl::tile_bounds_4326({z, static_cast<uint32_t>(x), static_cast<uint32_t>(y)});
    return geoetl::pg::pg_guard([&] {
      Datum items[4] = {Float8GetDatum(b.min_x), Float8GetDatum(b.min_y), Float8GetDatum(b.max_x),
                        Float8GetDatum(b.max_y)};
      return PointerGetDatum(
          construct_array(items, 4, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    });
  });
  PG_RETURN_DATUM(result);
}

// _tile_count(boxes, min_zoom, max_zoom) -> how many tiles a render of them lists (at most)
PG_FUNCTION_INFO_V1(geoetl_tile_count);
Datum geoetl_tile_count(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo, "_tile_count");
  args.require({{0, "boxes"}, {1, "min_zoom"}, {2, "max_zoom"}});
  const ArgArray<double> boxes = boxes_arg(args, 0);
  const int min_zoom = args.int4(1, "min_zoom"), max_zoom = args.int4(2, "max_zoom");
  const uint64_t n = geoetl::pg::call_core(
      [&] { return geoetl::tile_count_over(boxes_of(boxes), min_zoom, max_zoom); });
  PG_RETURN_INT64(static_cast<int64_t>(std::min<uint64_t>(n, INT64_MAX)));
}

}  // extern "C"
