// Zonal engine against the physical limit: the time GDAL needs only to read and decompress the
// same blocks. Prints Google Benchmark's table, then ratios measured in the same run.
//
//   build/bench_zonal RASTER   (a 4800x4800 tiled DEFLATE GeoTIFF: geoetl_fixtures --bench)
//
// Every iteration drops GDAL's block cache first, so each one decompresses what it reads.
#include <benchmark/benchmark.h>
#include <gdal.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bench_polygons.h"
#include "bench_recorder.h"
#include "zonal/zonal.h"

using namespace geoetl;

namespace {

std::string raster_path;

void drop_block_cache(const Raster& r) {
  GDALFlushCache(static_cast<GDALDatasetH>(r.gdal_handle()));
  GDALSetCacheMax64(0);
  GDALSetCacheMax64(64 << 20);
}

// Reads (and decompresses) exactly the blocks the engine reads, and nothing else.
void read_only(const Raster& r, const std::vector<MultiPolygon>& polygons) {
  const Band band(r, 1);
  const Grid& g = r.grid();
  std::map<std::pair<int64_t, int64_t>, bool> blocks;
  const int64_t bw = band.block_width(), bh = band.block_height();
  for (const MultiPolygon& p : polygons) {
    const Box b = bounding_box(p);
    const Window w = intersect({static_cast<int64_t>(std::floor((b.ymax - g.y0) / g.dy)),
                                static_cast<int64_t>(std::floor((b.xmin - g.x0) / g.dx)),
                                static_cast<int64_t>(std::ceil((b.ymin - b.ymax) / g.dy)) + 1,
                                static_cast<int64_t>(std::ceil((b.xmax - b.xmin) / g.dx)) + 1},
                               g.window());
    for (int64_t br = w.row0 / bh; br <= (w.row0 + w.rows - 1) / bh; br++)
      for (int64_t bc = w.col0 / bw; bc <= (w.col0 + w.cols - 1) / bw; bc++)
        blocks[{br, bc}] = true;
  }
  std::vector<double> values(static_cast<size_t>(bw * bh));
  std::vector<uint8_t> valid(values.size());
  for (const auto& [key, _] : blocks) {
    const Window block = intersect({key.first * bh, key.second * bw, bh, bw}, g.window());
    band.read(block, values.data(), valid.data(), CancelToken());
    benchmark::DoNotOptimize(values.data());
  }
}

void run(benchmark::State& state, const std::vector<MultiPolygon>& polygons, Coverage mode,
         bool quantiles, bool stats) {
  const Raster r = Raster::open(raster_path, raster_path);
  ZonalOptions o;
  o.coverage = mode;
  if (!quantiles) o.stats.quantiles.clear();
  for (auto _ : state) {
    state.PauseTiming();
    drop_block_cache(r);
    state.ResumeTiming();
    if (stats) {
      benchmark::DoNotOptimize(zonal_statistics(r, polygons, o, CancelToken()));
    } else {
      read_only(r, polygons);
    }
  }
}

const std::vector<MultiPolygon>& the_country() {
  static const std::vector<MultiPolygon> c = {country()};
  return c;
}
const std::vector<MultiPolygon>& the_villages() {
  static const std::vector<MultiPolygon> v = villages();
  return v;
}

void register_all() {
  struct Case {
    const char* name;
    const std::vector<MultiPolygon>& (*polys)();
    Coverage mode;
    bool quantiles, stats;
  };
  static const Case cases[] = {
      {"country/read_only", the_country, Coverage::exact, false, false},
      {"country/exact", the_country, Coverage::exact, false, true},
      {"country/center", the_country, Coverage::center, false, true},
      {"country/exact+median+p90", the_country, Coverage::exact, true, true},
      {"villages/read_only", the_villages, Coverage::exact, false, false},
      {"villages/exact_many", the_villages, Coverage::exact, false, true},
  };
  for (const Case& c : cases)
    benchmark::RegisterBenchmark(
        c.name, [&c](benchmark::State& s) { run(s, c.polys(), c.mode, c.quantiles, c.stats); })
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s RASTER [benchmark flags]\n", argv[0]);
    return 2;
  }
  raster_path = argv[1];
  argv[1] = argv[0];
  argc--;
  argv++;
  benchmark::Initialize(&argc, argv);
  register_all();
  Recorder rec;
  benchmark::RunSpecifiedBenchmarks(&rec);
  std::printf("\nratios (same run):\n");
  rec.ratio("country/exact", "country/read_only");
  rec.ratio("country/center", "country/read_only");
  rec.ratio("country/exact+median+p90", "country/exact");
  rec.ratio("villages/exact_many", "villages/read_only");
  return 0;
}
