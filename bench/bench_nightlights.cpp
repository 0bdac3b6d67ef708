// One month of night lights against the physical limit: the time GDAL needs only to read and
// decompress the four layers of every night that the composite reads (radiance, quality, cloud
// mask, snow flag). Prints Google Benchmark's table, then the ratio measured in the same run.
//
//   build/bench_nightlights DIR   (the month's VNP46A2 granules of one tile, e.g. from
//                                  geoetl_blackmarble DIR VNP46A2 2 h21v08 2024-01-01 30 2400)
//
// The area is the whole tile. Every iteration drops GDAL's block cache first, so each one
// decompresses what it reads.
#include <benchmark/benchmark.h>
#include <dirent.h>
#include <gdal.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench_recorder.h"
#include "blackmarble/blackmarble.h"
#include "blackmarble/nightlights.h"

using namespace geoetl;

namespace {

std::vector<std::string> files;
int tile_h = 0, tile_v = 0;

std::vector<std::string> granules_in(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > 3 && name.compare(name.size() - 3, 3, ".h5") == 0)
        out.push_back(dir + "/" + name);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void drop_block_cache() {
  GDALSetCacheMax64(0);
  GDALSetCacheMax64(int64_t{64} << 20);
}

// Reads (and decompresses) every layer the composite reads, whole, and nothing else.
void read_only() {
  std::vector<double> values;
  std::vector<uint8_t> valid;
  for (const std::string& path : files) {
    const Granule g = parse_granule_name(path);
    for (const char* layer :
         {"DNB_BRDF-Corrected_NTL", "Mandatory_Quality_Flag", "QF_Cloud_Mask", "Snow_Flag"}) {
      const Raster r = open_layer(path, g, layer);
      const Window w = r.grid().window();
      values.resize(static_cast<size_t>(w.rows * w.cols));
      valid.resize(values.size());
      Band(r, 1).read(w, values.data(), valid.data(), CancelToken());
      benchmark::DoNotOptimize(values.data());
    }
  }
}

MultiPolygon whole_tile() {
  const double x0 = -180.0 + 10 * tile_h, y1 = 90.0 - 10 * tile_v;
  return MultiPolygon{
      {Polygon{{Ring{{x0, y1 - 10}, {x0 + 10, y1 - 10}, {x0 + 10, y1}, {x0, y1}, {x0, y1 - 10}}}}}};
}

void run(benchmark::State& state, bool metrics, bool median) {
  const MultiPolygon area = whole_tile();
  NightRules rules;
  rules.median = median;
  for (auto _ : state) {
    state.PauseTiming();
    drop_block_cache();
    state.ResumeTiming();
    if (metrics) {
      benchmark::DoNotOptimize(nightlight_month(area, files, rules, 0.5, Coverage::exact,
                                                RasterOpenOptions(), CancelToken()));
    } else {
      read_only();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [benchmark flags]\n", argv[0]);
    return 2;
  }
  files = granules_in(argv[1]);
  if (files.empty()) {
    std::fprintf(stderr, "%s: no .h5 granules in %s\n", argv[0], argv[1]);
    return 2;
  }
  const Granule first = parse_granule_name(files.front());
  tile_h = first.h;
  tile_v = first.v;
  argv[1] = argv[0];
  argc--;
  argv++;
  GDALAllRegister();
  benchmark::Initialize(&argc, argv);
  const struct {
    const char* name;
    bool metrics, median;
  } cases[] = {{"month/read_only", false, false},
               {"month/metrics_mean", true, false},
               {"month/metrics_median", true, true}};
  for (const auto& c : cases)
    benchmark::RegisterBenchmark(c.name, [c](benchmark::State& s) { run(s, c.metrics, c.median); })
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
  Recorder rec;
  benchmark::RunSpecifiedBenchmarks(&rec);
  std::printf("\n%zu granules of tile h%02dv%02d; ratios (same run):\n", files.size(), tile_h,
              tile_v);
  rec.ratio("month/metrics_mean", "month/read_only", "(goal <= 1.5)");
  rec.ratio("month/metrics_median", "month/read_only", "");
  return 0;
}
