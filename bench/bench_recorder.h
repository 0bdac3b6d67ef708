// Shared by the benchmarks: keeps each benchmark's real time per iteration while printing
// Google Benchmark's table, so that main() can print ratios measured in the same run. With
// --benchmark_repetitions, a benchmark's time is the mean of its repetitions (its aggregate
// rows, mean, median, stddev and cv, are printed only).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

class Recorder : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> ms;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration) continue;
      const std::string& name = r.run_name.function_name;
      const int n = ++repetitions_[name];
      ms[name] += (r.GetAdjustedRealTime() - ms[name]) / n;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  // Prints a / b when both ran, with a note (e.g. the goal).
  void ratio(const char* a, const char* b, const char* note = "") {
    if (ms.count(a) && ms.count(b))
      std::printf("  %-26s / %-20s = %.2f  %s\n", a, b, ms[a] / ms[b], note);
  }

 private:
  std::map<std::string, int> repetitions_;
};
