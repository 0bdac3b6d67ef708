// Data package clips against gdalwarp, the command people run today, measured in the same run:
// a country-sized polygon cut from the 4800x4800 Float32 DEFLATE raster and written as a
// DEFLATE COG, by clip_raster and by
//   gdalwarp -cutline AREA.geojson -crop_to_cutline -of COG -co COMPRESS=DEFLATE
// and 1,000 village-sized areas, one COG each (clip_raster on one open raster; gdalwarp once per
// area, as a package builder calling it per area does: 1,000 runs, so that benchmark runs one
// iteration, once, whatever --benchmark_repetitions says). Prints Google Benchmark's table, then
// the ratios.
//
//   build/bench_package RASTER   (geoetl_fixtures --bench)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/cancel.h"
#include "bench_polygons.h"
#include "bench_recorder.h"
#include "package/raster_clip.h"

using namespace geoetl;

namespace {

std::string raster_path;
std::string work_dir;

std::string geojson(const MultiPolygon& mp) {
  std::string s =
      R"({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {"type": "MultiPolygon", "coordinates": [)";
  for (size_t p = 0; p < mp.polygons.size(); p++) {
    s += p ? ",[" : "[";
    for (size_t r = 0; r < mp.polygons[p].rings.size(); r++) {
      s += r ? ",[" : "[";
      const Ring& ring = mp.polygons[p].rings[r];
      for (size_t i = 0; i < ring.size(); i++)
        s += (i ? "," : "") + std::string("[") + std::to_string(ring[i].x) + "," +
             std::to_string(ring[i].y) + "]";
      s += "]";
    }
    s += "]";
  }
  return s + "]}}]}";
}

std::vector<std::string> cutlines(const std::vector<MultiPolygon>& areas, const char* name) {
  std::vector<std::string> files;
  for (size_t i = 0; i < areas.size(); i++) {
    files.push_back(work_dir + "/" + name + std::to_string(i) + ".geojson");
    std::ofstream(files.back()) << geojson(areas[i]);
  }
  return files;
}

const std::vector<MultiPolygon>& the_country() {
  static const std::vector<MultiPolygon> c = {country()};
  return c;
}
const std::vector<MultiPolygon>& the_villages() {
  static const std::vector<MultiPolygon> v = villages();
  return v;
}

void by_clip_raster(benchmark::State& state, const std::vector<MultiPolygon>& areas) {
  const Raster r = Raster::open(raster_path, raster_path);
  for (auto _ : state)
    for (size_t i = 0; i < areas.size(); i++) {
      const std::string out = work_dir + "/geoetl" + std::to_string(i) + ".tif";
      clip_raster(r, areas[i], {}, out, CancelToken());
      std::filesystem::remove(out);
    }
}

void by_gdalwarp(benchmark::State& state, const std::vector<MultiPolygon>& areas) {
  const std::vector<std::string> cut = cutlines(areas, "cut");
  for (auto _ : state)
    for (size_t i = 0; i < areas.size(); i++) {
      const std::string out = work_dir + "/warp" + std::to_string(i) + ".tif";
      const std::string cmd = "gdalwarp -q -overwrite -cutline " + cut[i] +
                              " -crop_to_cutline -of COG -co COMPRESS=DEFLATE " + raster_path +
                              " " + out;
      if (std::system(cmd.c_str()) != 0) state.SkipWithError("gdalwarp failed");
      std::filesystem::remove(out);
    }
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
  char tmpl[] = "/tmp/geoetl-bench-package-XXXXXX";
  work_dir = mkdtemp(tmpl);
  benchmark::Initialize(&argc, argv);
  benchmark::RegisterBenchmark("country/clip_raster", [](benchmark::State& s) {
    by_clip_raster(s, the_country());
  })->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("country/gdalwarp", [](benchmark::State& s) {
    by_gdalwarp(s, the_country());
  })->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("villages1000/clip_raster", [](benchmark::State& s) {
    by_clip_raster(s, the_villages());
  })->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("villages1000/gdalwarp",
                               [](benchmark::State& s) { by_gdalwarp(s, the_villages()); })
      ->Unit(benchmark::kMillisecond)
      ->Iterations(1)
      ->Repetitions(1);
  Recorder rec;
  benchmark::RunSpecifiedBenchmarks(&rec);
  std::printf("\nratios (same run):\n");
  rec.ratio("country/clip_raster", "country/gdalwarp", "(goal: at most 1.3)");
  rec.ratio("villages1000/gdalwarp", "villages1000/clip_raster", "(goal: at least 5)");
  std::filesystem::remove_all(work_dir);
  return 0;
}
