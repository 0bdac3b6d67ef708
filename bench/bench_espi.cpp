// Green Button parsing against Python, measured in the same run: a feed in the Green Button
// samples' shape (a year of 15-minute readings per usage point, with cost and the samples'
// comment in every timePeriod), read by parse_espi_file (both passes, every reading delivered)
// and by Debian's python3 with xml.etree.ElementTree.iterparse extracting the same fields (links,
// the small resources' fields, every reading's start, duration, value, cost and quality), which
// the issue names as the peer. Prints Google Benchmark's table, the ratio, and the peak memory of
// each parser on this feed and on one a quarter of its size (flat: the same).
//
//   build/bench_espi [--usage-points=N] [--days=D] [benchmark flags]
//   build/bench_espi [--usage-points=N] [--days=D] --write FILE   (writes the feed, no benchmark)
//
// The default, 10 usage points (350,400 readings, 78 MB), suits a 2-core machine; the issue's
// size is --usage-points=1000 (35 M readings, about 7.8 GB of XML: mind the disk).
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "bench_recorder.h"
#include "espi/espi.h"
#include "espi_feed.h"

using namespace geoetl;

namespace {

const char* const python = "/usr/bin/python3";  // Debian's, not whatever is first on PATH

// The peer: one pass, the same fields, elements cleared as soon as they are read.
const char* const peer_script = R"PY(
import sys, resource
import xml.etree.ElementTree as ET
A = '{http://www.w3.org/2005/Atom}'
E = '{http://naesb.org/espi}'
READING, ENTRY, LINK, ID = E + 'IntervalReading', A + 'entry', A + 'link', A + 'id'
SMALL = {E + 'UsagePoint', E + 'ReadingType', E + 'LocalTimeParameters', E + 'MeterReading'}
def num(el, tag):
    x = el.find(tag)
    return None if x is None else x.text
n, total, entries = 0, 0, []
for event, el in ET.iterparse(sys.argv[1], events=('end',)):
    tag = el.tag
    if tag == READING:
        tp = el.find(E + 'timePeriod')
        start, duration = int(tp.find(E + 'start').text), int(tp.find(E + 'duration').text)
        value = int(el.find(E + 'value').text)
        cost = num(el, E + 'cost')
        cost = None if cost is None else int(cost) / 100000
        quality = el.find(E + 'ReadingQuality/' + E + 'quality')
        quality = None if quality is None else int(quality.text)
        n += 1
        total += value
        el.clear()
    elif tag in SMALL:
        entries.append({c.tag: c.text for c in el.iter()})
    elif tag == ENTRY:
        links = [(l.get('rel'), l.get('href')) for l in el.findall(LINK)]
        entries.append((el.findtext(ID), links))
        el.clear()
print(n, total, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
)PY";

std::string work_dir;
std::string feed_path, quarter_path, script_path;
int64_t feed_readings = 0;
long python_peak_kib = -1;  // of the last python run on the whole feed

// Keeps CPU times too: on a shared machine, the CPU each parser used is the steadier figure.
class CpuRecorder : public Recorder {
 public:
  std::map<std::string, double> cpu_ms;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      const auto child = r.counters.find("child_cpu_ms");
      cpu_ms[r.run_name.function_name] =
          child != r.counters.end() ? child->second.value : r.GetAdjustedCPUTime();
    }
    Recorder::ReportRuns(runs);
  }
  void cpu_ratio(const char* a, const char* b, const char* note) {
    if (cpu_ms.count(a) && cpu_ms.count(b))
      std::printf("  %-26s / %-20s = %.2f  %s\n", a, b, cpu_ms[a] / cpu_ms[b], note);
  }
};

double children_cpu_ms() {
  struct rusage u;
  getrusage(RUSAGE_CHILDREN, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

// The peer's output: readings, their raw value total, its peak memory (KiB).
bool read_peer_output(const std::string& path, long long* n, long long* rss) {
  long long total = 0;
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return false;
  const bool ok = std::fscanf(f, "%lld %lld %lld", n, &total, rss) == 3;
  std::fclose(f);
  return ok;
}

void write_feed(const std::string& path, int usage_points, int days) {
  espi_fixture::FeedSpec spec;
  spec.usage_points = usage_points;
  spec.days = days;
  spec.interval = 900;
  spec.comments = true;
  std::ofstream out(path, std::ios::binary);
  espi_fixture::write_feed(out, spec);
}

void by_geoetl(benchmark::State& state, bool deliver) {
  for (auto _ : state) {
    double total = 0;
    const EspiSummary s = parse_espi_file(feed_path,
                                          deliver ? [&](const EspiReading& r) { total += r.value; }
                                                  : std::function<void(const EspiReading&)>(),
                                          CancelToken());
    if (s.readings != feed_readings) state.SkipWithError("wrong number of readings");
    benchmark::DoNotOptimize(total);
  }
  state.counters["readings/s"] = benchmark::Counter(static_cast<double>(feed_readings),
                                                    benchmark::Counter::kIsIterationInvariantRate);
}

void by_python(benchmark::State& state) {
  const std::string out = work_dir + "/peer.out";
  const std::string cmd = std::string(python) + " " + script_path + " " + feed_path + " > " + out;
  const double cpu_before = children_cpu_ms();
  for (auto _ : state)
    if (std::system(cmd.c_str()) != 0) state.SkipWithError("python3 failed");
  long long n = -1, rss = -1;
  if (!read_peer_output(out, &n, &rss) || n != feed_readings)
    state.SkipWithError("python3 read another number of readings");
  python_peak_kib = static_cast<long>(rss);
  state.counters["child_cpu_ms"] =
      (children_cpu_ms() - cpu_before) / static_cast<double>(state.iterations());
  state.counters["readings/s"] = benchmark::Counter(static_cast<double>(feed_readings),
                                                    benchmark::Counter::kIsIterationInvariantRate);
}

// Peak resident memory (KiB) of a child process parsing `path`, every reading delivered.
long peak_kib_of_geoetl(const std::string& path) {
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      double total = 0;
      parse_espi_file(
          path, [&](const EspiReading& r) { total += r.value; }, CancelToken());
    } catch (...) {
      _exit(1);
    }
    _exit(0);
  }
  int status = 0;
  struct rusage usage;
  if (pid < 0 || wait4(pid, &status, 0, &usage) != pid || status != 0) return -1;
  return usage.ru_maxrss;
}

long peak_kib_of_python(const std::string& path) {
  const std::string out = work_dir + "/peer_rss.out";
  const std::string cmd = std::string(python) + " " + script_path + " " + path + " > " + out;
  long long n = -1, rss = -1;
  if (std::system(cmd.c_str()) != 0 || !read_peer_output(out, &n, &rss)) return -1;
  return static_cast<long>(rss);
}

int flag(int* argc, char** argv, const char* name, int fallback) {
  const size_t len = std::strlen(name);
  for (int i = 1; i < *argc; i++)
    if (std::strncmp(argv[i], name, len) == 0 && argv[i][len] == '=') {
      const int v = std::atoi(argv[i] + len + 1);
      for (int j = i; j + 1 < *argc; j++) argv[j] = argv[j + 1];
      (*argc)--;
      return v;
    }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int usage_points = flag(&argc, argv, "--usage-points", 10);
  const int days = flag(&argc, argv, "--days", 365);
  if (argc == 3 && std::strcmp(argv[1], "--write") == 0) {  // the feed only (bench/espi_load.sh)
    write_feed(argv[2], usage_points, days);
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  char tmpl[] = "/tmp/geoetl-bench-espi-XXXXXX";
  work_dir = mkdtemp(tmpl);
  feed_path = work_dir + "/feed.xml";
  quarter_path = work_dir + "/quarter.xml";
  script_path = work_dir + "/peer.py";
  std::ofstream(script_path) << peer_script;
  write_feed(feed_path, usage_points, days);
  write_feed(quarter_path, std::max(1, usage_points / 4), days);
  feed_readings = static_cast<int64_t>(usage_points) * days * 96;
  const double mb = static_cast<double>(std::filesystem::file_size(feed_path)) / 1e6;
  std::printf("feed: %d usage points x %d days of 15-minute readings = %lld readings, %.0f MB\n",
              usage_points, days, static_cast<long long>(feed_readings), mb);

  benchmark::RegisterBenchmark("espi/parse", [](benchmark::State& s) { by_geoetl(s, true); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->MinTime(2.0);
  benchmark::RegisterBenchmark("espi/check_only", [](benchmark::State& s) { by_geoetl(s, false); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->MinTime(2.0);
  benchmark::RegisterBenchmark("espi/python_iterparse", by_python)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(feed_readings > 1000000 ? 1 : 2);
  CpuRecorder rec;
  benchmark::RunSpecifiedBenchmarks(&rec);

  std::printf("\nratios (same run), elapsed time:\n");
  rec.ratio("espi/python_iterparse", "espi/parse", "(goal: at least 5)");
  rec.ratio("espi/parse", "espi/check_only", "(both passes / the first)");
  std::printf("ratios (same run), CPU time (python3's: its process's user + system):\n");
  rec.cpu_ratio("espi/python_iterparse", "espi/parse", "(goal: at least 5)");
  rec.cpu_ratio("espi/parse", "espi/check_only", "(both passes / the first)");
  const double quarter_mb = static_cast<double>(std::filesystem::file_size(quarter_path)) / 1e6;
  std::printf("\npeak memory (max RSS, MiB)     %6.0f MB feed  %6.0f MB feed\n", quarter_mb, mb);
  std::printf("  parse_espi_file              %12.1f  %12.1f\n",
              peak_kib_of_geoetl(quarter_path) / 1024.0, peak_kib_of_geoetl(feed_path) / 1024.0);
  if (python_peak_kib < 0) python_peak_kib = peak_kib_of_python(feed_path);
  std::printf("  python3 iterparse            %12.1f  %12.1f\n",
              peak_kib_of_python(quarter_path) / 1024.0, python_peak_kib / 1024.0);
  std::filesystem::remove_all(work_dir);
  return 0;
}
