// Monthly composites and map tiles (src/sql/62_composite.sql, 64_tiles.sql): a tile's composite
// written to the store, a month's tiles rendered into it (XYZ files or one PMTiles archive), one
// tile rendered on demand. Core: blackmarble/composite_file.h, tiles/render_month.h.
extern "C" {
#include "postgres.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
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

std::vector<std::string> strings(const geoetl::pg::ArgArray<const char*>& a) {
  return std::vector<std::string>(a.begin(), a.end());
}

// The composites (store keys) as GDAL opens them.
std::vector<std::string> gdal_paths(geoetl::Store& store, const std::vector<std::string>& keys) {
  std::vector<std::string> paths;
  for (const std::string& k : keys) paths.push_back(store.gdal_path(k));
  return paths;
}

// Longitude/latitude boxes from float8[] {west, south, east, north[, west, south, ...]}.
std::vector<geoetl::Bounds> boxes_arg(const geoetl::pg::SqlArgs& args, int n) {
  const geoetl::pg::ArgArray<double> b =
      args.float8_array(n, "boxes", geoetl::pg::NullElements::refuse);
  if (b.count == 0 || b.count % 4 != 0)
    ereport(ERROR,
            (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
             errmsg("boxes must be {west, south, east, north[, west, south, east, north ...]}")));
  std::vector<geoetl::Bounds> boxes;
  for (int i = 0; i < b.count; i += 4)
    boxes.push_back({b.items[i], b.items[i + 1], b.items[i + 2], b.items[i + 3]});
  return boxes;
}

Datum counts_datum(FunctionCallInfo fcinfo, const geoetl::TileCounts& n) {
  const TupleDesc desc = geoetl::pg::composite_result_type(fcinfo, "tile counts");
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
  const std::vector<std::string> uris =
      strings(args.text_array(0, "uris", geoetl::pg::NullElements::refuse));
  const std::string key = args.text(1, "key");
  const geoetl::pg::NightRuleArgs night(args, 2);
  const TupleDesc desc = geoetl::pg::composite_result_type(fcinfo, "_save_composite");
  geoetl::PublishedFile file;
  geoetl::TileComposite c;
  geoetl::CompositeReport report;
  geoetl::pg::call_core([&] {
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    geoetl::RasterOpenOptions ro;
    ro.gdal = geoetl::pg::gdal_settings();
    ro.cancel = &cancel;
    c = geoetl::month_tile_composite(uris, night.rules(), ro, cancel, &report);
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
  });
  std::vector<std::string> used;
  for (const std::string& u : uris)
    if (std::none_of(report.files_invalid.begin(), report.files_invalid.end(),
                     [&](const std::string& bad) { return bad.rfind(u + ": ", 0) == 0; }))
      used.push_back(u);
  geoetl::pg::ResultRow row(desc);
  row.set("uri", TEXTOID, CStringGetTextDatum(file.uri.c_str()));
  row.set("bytes", INT8OID, Int64GetDatum(static_cast<int64_t>(file.bytes)));
  row.set("sha256", TEXTOID, CStringGetTextDatum(file.sha256.c_str()));
  row.set("tile_size", INT4OID, Int32GetDatum(c.tile_size));
  row.set("valid_pixels", INT8OID, Int64GetDatum(file.items));
  row.set("files_used", TEXTARRAYOID, geoetl::pg::text_array_of(used));
  row.set("files_invalid", TEXTARRAYOID, geoetl::pg::text_array_of(report.files_invalid));
  PG_RETURN_DATUM(row.datum());
}

// _render_xyz(keys, prefix, boxes, z) -> (tiles, written, unchanged, empty, removed, bytes)
PG_FUNCTION_INFO_V1(geoetl_render_xyz);
Datum geoetl_render_xyz(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo, "_render_xyz");
  args.require({{0, "keys"}, {1, "prefix"}, {2, "boxes"}, {3, "z"}});
  const std::vector<std::string> keys =
      strings(args.text_array(0, "keys", geoetl::pg::NullElements::refuse));
  const std::string prefix = args.text(1, "prefix");
  const std::vector<geoetl::Bounds> boxes = boxes_arg(args, 2);
  const int z = args.int4(3, "z");
  const geoetl::TileCounts n = geoetl::pg::call_core([&] {
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    const std::unique_ptr<geoetl::Store> store = geoetl::pg::current_store();
    geoetl::check_store_key(prefix);
    geoetl::ensure_gdal(geoetl::pg::gdal_settings());
    const geoetl::TileRenderer& renderer = geoetl::cached_tile_renderer(gdal_paths(*store, keys));
    return geoetl::render_xyz_zoom(renderer, *store, prefix, boxes, z, cancel);
  });
  PG_RETURN_DATUM(counts_datum(fcinfo, n));
}

// _render_pmtiles(keys, key, boxes, min_zoom, max_zoom, metadata) -> tile counts; the archive
// follows the transaction
PG_FUNCTION_INFO_V1(geoetl_render_pmtiles);
Datum geoetl_render_pmtiles(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo, "_render_pmtiles");
  args.require(
      {{0, "keys"}, {1, "key"}, {2, "boxes"}, {3, "min_zoom"}, {4, "max_zoom"}, {5, "metadata"}});
  const std::vector<std::string> keys =
      strings(args.text_array(0, "keys", geoetl::pg::NullElements::refuse));
  const std::string key = args.text(1, "key");
  const std::vector<geoetl::Bounds> boxes = boxes_arg(args, 2);
  const int min_zoom = args.int4(3, "min_zoom"), max_zoom = args.int4(4, "max_zoom");
  const std::string metadata = args.text(5, "metadata");
  geoetl::TileCounts n;
  geoetl::pg::call_core([&] {
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    geoetl::ensure_gdal(geoetl::pg::gdal_settings());
    geoetl::pg::put_in_transaction(geoetl::pg::current_store(), [&](geoetl::Store& store) {
      const geoetl::TileRenderer& renderer = geoetl::cached_tile_renderer(gdal_paths(store, keys));
      geoetl::PublishedFile file = geoetl::publish_file(
          store, key,
          [&](const std::string& path) {
            n = geoetl::write_pmtiles(renderer, path, boxes, min_zoom, max_zoom, metadata, cancel);
            return n.written;
          },
          cancel);
      return std::move(file.undo);
    });
  });
  PG_RETURN_DATUM(counts_datum(fcinfo, n));
}

// _render_tile(keys, z, x, y) -> PNG, or NULL for a tile without light
PG_FUNCTION_INFO_V1(geoetl_render_tile);
Datum geoetl_render_tile(PG_FUNCTION_ARGS) {
  const geoetl::pg::SqlArgs args(fcinfo, "_render_tile");
  args.require({{0, "keys"}, {1, "z"}, {2, "x"}, {3, "y"}});
  const std::vector<std::string> keys =
      strings(args.text_array(0, "keys", geoetl::pg::NullElements::refuse));
  const int z = args.int4(1, "z"), x = args.int4(2, "x"), y = args.int4(3, "y");
  const std::string png = geoetl::pg::call_core([&] {
    if (x < 0 || y < 0)
      throw geoetl::Error(geoetl::ErrorKind::invalid_argument, "x and y must not be negative");
    const geoetl::TileXyz t{z, static_cast<uint32_t>(x), static_cast<uint32_t>(y)};
    geoetl::check_tile(t);
    if (keys.empty()) return std::string();
    const geoetl::CancelToken cancel = geoetl::pg::interrupt_token();
    const std::unique_ptr<geoetl::Store> store = geoetl::pg::current_store();
    geoetl::ensure_gdal(geoetl::pg::gdal_settings());
    return geoetl::cached_tile_renderer(gdal_paths(*store, keys)).png(t, cancel);
  });
  if (png.empty()) PG_RETURN_NULL();
  PG_RETURN_BYTEA_P(geoetl::pg::bytea_of(png));
}

}  // extern "C"
