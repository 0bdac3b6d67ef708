#include "tiles/render_month.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "base/error.h"
#include "tiles/pmtiles.h"
#include "transfer/store_fetch.h"

namespace geoetl {
namespace {

// Whether the store's object `key` holds exactly `bytes` (false where it cannot tell cheaply:
// no such object, another size, a remote store).
bool holds(Store& store, const std::string& key, const std::string& bytes) {
  const std::optional<uint64_t> size = store.size_of(key);
  if (!size || *size != bytes.size()) return false;
  const std::string path = store.gdal_path(key);
  if (path.rfind("/vsi", 0) == 0) return false;
  std::ifstream in(path, std::ios::binary);
  const std::string have((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return have == bytes;
}

void write_new_file(const std::string& path, const std::string& bytes) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(ErrorKind::io_error, "cannot create \"" + path + "\"", std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int failed = n < 0 ? errno : ENOSPC;
      close(fd);
      unlink(path.c_str());
      throw Error(ErrorKind::io_error, "cannot write \"" + path + "\"", std::strerror(failed));
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) != 0) {
    const int failed = errno;
    unlink(path.c_str());
    throw Error(ErrorKind::io_error, "cannot write \"" + path + "\"", std::strerror(failed));
  }
}

// Puts `bytes` as `key`: staged whole, then moved into place (a local store) or uploaded.
void put_bytes(Store& store, const std::string& key, const std::string& bytes,
               const CancelToken& cancel) {
  const std::string staged = staged_file_name(store, key);
  write_new_file(staged, bytes);
  try {
    if (store.gdal_path(key).rfind("/vsi", 0) == 0) {
      store.put(staged, key, cancel);
      unlink(staged.c_str());
    } else {
      store.adopt(staged, key, cancel);
    }
  } catch (...) {
    unlink(staged.c_str());
    throw;
  }
}

// Tiles rendered together (on the renderer's threads), then written in order.
constexpr size_t kBatch = 64;

std::vector<TileXyz> batch(const std::vector<TileXyz>& tiles, size_t first) {
  return std::vector<TileXyz>(
      tiles.begin() + static_cast<std::ptrdiff_t>(first),
      tiles.begin() + static_cast<std::ptrdiff_t>(std::min(tiles.size(), first + kBatch)));
}

// Refuses a render of more than kMaxRenderTiles tiles before any is listed.
void check_tile_count(const std::vector<Bounds>& areas, int min_zoom, int max_zoom) {
  const uint64_t n = tile_count_over(areas, min_zoom, max_zoom);
  if (n > kMaxRenderTiles)
    throw Error(ErrorKind::invalid_argument,
                "a render of " + std::to_string(n) + " tiles is too big (at most " +
                    std::to_string(kMaxRenderTiles) + ")",
                "", "Render fewer zooms, or an area (render_tiles' area_id).");
}

}  // namespace

const std::string& empty_tile_png() {
  static const std::string png =
      encode_png(std::vector<uint8_t>(static_cast<size_t>(kTileSize) * kTileSize * 4, 0));
  return png;
}

TileCounts render_xyz_zoom(const TileRenderer& renderer, Store& store, const std::string& prefix,
                           const std::vector<Bounds>& areas, int z, const CancelToken& cancel) {
  check_tile_count(areas, z, z);
  TileCounts n;
  std::error_code ec;
  std::filesystem::create_directories(store.staging_dir(), ec);
  if (ec)
    throw Error(ErrorKind::io_error, "cannot create \"" + store.staging_dir() + "\"", ec.message());
  const std::vector<TileXyz> tiles = tiles_over(areas, z);
  std::vector<std::string> pngs;
  for (size_t i = 0; i < tiles.size(); i++) {
    if (i % kBatch == 0) pngs = renderer.pngs(batch(tiles, i), cancel);
    const TileXyz& t = tiles[i];
    const std::string key = prefix + "/" + std::to_string(t.z) + "/" + std::to_string(t.x) + "/" +
                            std::to_string(t.y) + ".png";
    cancel.check();
    const std::string& png = pngs[i % kBatch];
    n.tiles++;
    if (png.empty()) {
      n.empty++;
      if (store.remove(key)) n.removed++;
    } else if (holds(store, key, png)) {
      n.unchanged++;
    } else {
      put_bytes(store, key, png, cancel);
      n.written++;
      n.bytes += png.size();
    }
  }
  return n;
}

TileCounts write_pmtiles(const TileRenderer& renderer, const std::string& path,
                         const std::vector<Bounds>& areas, int min_zoom, int max_zoom,
                         const std::string& metadata_json, const CancelToken& cancel) {
  if (areas.empty()) throw Error(ErrorKind::invalid_argument, "an archive needs a box to cover");
  if (min_zoom < 0 || max_zoom > kMaxTileZoom || min_zoom > max_zoom)
    throw Error(ErrorKind::invalid_argument, "zooms must satisfy 0 <= min_zoom <= max_zoom <= 30");
  check_tile_count(areas, min_zoom, max_zoom);
  TileCounts n;
  PmtilesWriter writer(path, cancel);
  for (int z = min_zoom; z <= max_zoom; z++) {
    const std::vector<TileXyz> tiles = tiles_over(areas, z);
    std::vector<std::string> pngs;
    for (size_t i = 0; i < tiles.size(); i++) {
      if (i % kBatch == 0) pngs = renderer.pngs(batch(tiles, i), cancel);
      const TileXyz& t = tiles[i];
      const std::string& png = pngs[i % kBatch];
      n.tiles++;
      if (png.empty()) {
        n.empty++;
        writer.add(t, empty_tile_png());
      } else {
        n.written++;
        writer.add(t, png);
      }
    }
  }
  Bounds area = areas.front();
  for (const Bounds& b : areas)
    area = {std::min(area.min_x, b.min_x), std::min(area.min_y, b.min_y),
            std::max(area.max_x, b.max_x), std::max(area.max_y, b.max_y)};
  PmtilesInfo info;
  info.min_zoom = min_zoom;
  info.max_zoom = max_zoom;
  info.min_lon = std::max(-180.0, area.min_x);
  info.max_lon = std::min(180.0, area.max_x);
  info.min_lat = std::max(-85.0511287798066, area.min_y);
  info.max_lat = std::min(85.0511287798066, area.max_y);
  info.center_zoom = min_zoom;
  info.center_lon = (info.min_lon + info.max_lon) / 2;
  info.center_lat = (info.min_lat + info.max_lat) / 2;
  info.metadata_json = metadata_json;
  writer.finish(info);
  n.bytes = std::filesystem::file_size(path);
  return n;
}

}  // namespace geoetl
