#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "window/window.h"

using namespace geoetl::window;

namespace {

constexpr int64_t kMinute = 60'000'000;

// Two-pass textbook statistics of a list.
struct Reference {
  double mean, stddev, min, max;
};
Reference reference(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v;
  const double mean = s / static_cast<double>(x.size());
  double ss = 0, lo = x[0], hi = x[0];
  for (double v : x) {
    ss += (v - mean) * (v - mean);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  return {mean, std::sqrt(ss / static_cast<double>(x.size() - 1)), lo, hi};
}

using Key = std::tuple<int64_t, uint32_t>;
struct Collected {
  std::map<Key, std::vector<Moments>> windows;
  std::vector<int64_t> order;
  void operator()(int64_t start, uint32_t group, const Moments* m, size_t columns) {
    auto& v = windows[{start, group}];
    EXPECT_TRUE(v.empty()) << "window emitted twice: " << start << " group " << group;
    v.assign(m, m + columns);
    order.push_back(start);
  }
};

}  // namespace

TEST(WindowBin, FloorsLikeDateBin) {
  int64_t s = 0;
  const int64_t w = 10 * kMinute;
  ASSERT_TRUE(bin_start(0, w, 0, &s));
  EXPECT_EQ(s, 0);
  ASSERT_TRUE(bin_start(w - 1, w, 0, &s));
  EXPECT_EQ(s, 0);
  ASSERT_TRUE(bin_start(w, w, 0, &s));
  EXPECT_EQ(s, w);
  // before the origin: floor, and a value on a boundary is its own window start
  ASSERT_TRUE(bin_start(-1, w, 0, &s));
  EXPECT_EQ(s, -w);
  ASSERT_TRUE(bin_start(-w, w, 0, &s));
  EXPECT_EQ(s, -w);
  // an origin off the round minute shifts every window
  ASSERT_TRUE(bin_start(7 * kMinute, w, 3 * kMinute, &s));
  EXPECT_EQ(s, 3 * kMinute);
  ASSERT_TRUE(bin_start(2 * kMinute, w, 3 * kMinute, &s));
  EXPECT_EQ(s, -7 * kMinute);
}

TEST(WindowBin, RefusesOverflowAndBadStride) {
  int64_t s = 0;
  EXPECT_FALSE(bin_start(std::numeric_limits<int64_t>::max(), kMinute, -kMinute, &s));
  EXPECT_FALSE(bin_start(std::numeric_limits<int64_t>::min() + 5, kMinute, 0, &s));
  EXPECT_FALSE(bin_start(0, 0, 0, &s));
  EXPECT_FALSE(bin_start(0, -kMinute, 0, &s));
}

TEST(WindowMoments, MatchTwoPassStatistics) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> d(1e6, 3.0);  // large mean, small spread: a hard case
  std::vector<double> x;
  Moments m;
  for (int i = 0; i < 10000; i++) {
    x.push_back(d(rng));
    m.add(x.back());
  }
  const Reference r = reference(x);
  EXPECT_EQ(m.n, 10000);
  EXPECT_NEAR(m.mean(), r.mean, std::abs(r.mean) * 1e-14);
  EXPECT_NEAR(m.stddev(), r.stddev, r.stddev * 1e-9);
  EXPECT_EQ(m.min, r.min);
  EXPECT_EQ(m.max, r.max);
  EXPECT_FALSE(m.overflow);
}

TEST(WindowMoments, OneValueHasNoStddevAndConstantsHaveZero) {
  Moments one;
  one.add(4.5);
  EXPECT_TRUE(one.has_mean());
  EXPECT_FALSE(one.has_stddev());
  EXPECT_EQ(one.mean(), 4.5);
  Moments exact, inexact;
  for (int i = 0; i < 100; i++) {
    exact.add(0.5);
    inexact.add(0.1);
  }
  EXPECT_EQ(exact.stddev(), 0.0);
  // PostgreSQL 15: SELECT stddev(0.1::float8) FROM generate_series(1, 100): the same rounding
  EXPECT_EQ(inexact.stddev(), 1.0715240854009133e-16);
  Moments none;
  EXPECT_FALSE(none.has_mean());
}

TEST(WindowMoments, NanAndInfinityAsPostgres) {
  Moments m;
  m.add(1);
  m.add(std::nan(""));
  m.add(-2);
  EXPECT_EQ(m.min, -2);  // NaN sorts above every number
  EXPECT_TRUE(std::isnan(m.max));
  EXPECT_TRUE(std::isnan(m.mean()));
  EXPECT_TRUE(std::isnan(m.stddev()));
  EXPECT_FALSE(m.overflow);
  Moments first_nan;
  first_nan.add(std::nan(""));
  first_nan.add(3);
  EXPECT_EQ(first_nan.min, 3);
  EXPECT_TRUE(std::isnan(first_nan.max));
  Moments inf;
  inf.add(std::numeric_limits<double>::infinity());
  inf.add(1);
  EXPECT_TRUE(std::isinf(inf.mean()));
  EXPECT_TRUE(std::isnan(inf.stddev()));
  EXPECT_FALSE(inf.overflow);
  Moments zeros;  // ties keep the later value, as float8smaller/float8larger: -0 after 0
  zeros.add(0.0);
  zeros.add(-0.0);
  EXPECT_TRUE(std::signbit(zeros.min));
  EXPECT_TRUE(std::signbit(zeros.max));
  Moments big;  // finite values whose sum overflows
  big.add(1.5e308);
  big.add(1.5e308);
  EXPECT_TRUE(big.overflow);
}

TEST(WindowAggregator, GroupsAndWindowsMatchABruteForceGrouping) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> v(-50, 50);
  const size_t columns = 2;
  Aggregator agg(columns, 1 << 20);
  std::map<Key, std::vector<std::vector<double>>> truth;
  for (int64_t t = 0; t < 600 * kMinute; t += kMinute) {
    for (uint32_t g = 0; g < 5; g++) {
      if ((t / kMinute + g) % 13 == 0) continue;  // gaps
      int64_t start = 0;
      ASSERT_TRUE(bin_start(t, 10 * kMinute, 0, &start));
      Moments* m = agg.slot(start, g);
      ASSERT_NE(m, nullptr);
      auto& cols = truth[{start, g}];
      cols.resize(columns);
      for (size_t c = 0; c < columns; c++) {
        const double x = v(rng);
        m[c].add(x);
        cols[c].push_back(x);
      }
    }
  }
  Collected out;
  agg.close_all([&](int64_t s, uint32_t g, const Moments* m) { out(s, g, m, columns); });
  ASSERT_EQ(out.windows.size(), truth.size());
  for (const auto& [key, cols] : truth) {
    const auto& got = out.windows.at(key);
    for (size_t c = 0; c < columns; c++) {
      const Reference r = reference(cols[c]);
      EXPECT_EQ(got[c].n, static_cast<int64_t>(cols[c].size()));
      EXPECT_NEAR(got[c].mean(), r.mean, 1e-12 * std::max(1.0, std::abs(r.mean)));
      EXPECT_NEAR(got[c].stddev(), r.stddev, 1e-12 * r.stddev);
      EXPECT_EQ(got[c].min, r.min);
      EXPECT_EQ(got[c].max, r.max);
    }
  }
  EXPECT_EQ(agg.open_accumulators(), 0u);
}

TEST(WindowAggregator, OrderedInputKeepsOnlyTheOpenWindow) {
  Aggregator agg(1, 1 << 20);
  Collected out;
  size_t most_open = 0;
  for (int64_t t = 0; t < 1000 * kMinute; t += kMinute) {
    int64_t start = 0;
    ASSERT_TRUE(bin_start(t, 10 * kMinute, 0, &start));
    agg.close_before(start, [&](int64_t s, uint32_t g, const Moments* m) { out(s, g, m, 1); });
    for (uint32_t g = 0; g < 3; g++) agg.slot(start, g)->add(1.0);
    most_open = std::max(most_open, agg.open_accumulators());
  }
  agg.close_all([&](int64_t s, uint32_t g, const Moments* m) { out(s, g, m, 1); });
  EXPECT_EQ(most_open, 3u);  // one window, three groups
  EXPECT_EQ(out.windows.size(), 300u);
  for (size_t i = 1; i < out.order.size(); i++) EXPECT_LE(out.order[i - 1], out.order[i]);
}

TEST(WindowAggregator, ShedsOldestWindowsOverBudgetAndRefusesThemAfterwards) {
  Aggregator agg(1, 8);
  Collected out;
  auto emit = [&](int64_t s, uint32_t g, const Moments* m) { out(s, g, m, 1); };
  for (int64_t w = 0; w < 100; w++) {
    agg.slot(w * 10, 0)->add(static_cast<double>(w));
    if (agg.over_budget()) agg.shed(emit);
    EXPECT_LE(agg.open_accumulators(), 8u);
  }
  EXPECT_GT(out.windows.size(), 80u);
  const int64_t emitted = out.order.back();
  EXPECT_EQ(agg.slot(emitted, 0), nullptr);      // a row for a window already emitted
  EXPECT_EQ(agg.slot(emitted - 5, 0), nullptr);  // or for one before it
  EXPECT_NE(agg.slot(99 * 10, 1), nullptr);      // still open: a new group is fine
  agg.clear();
  EXPECT_NE(agg.slot(0, 0), nullptr);  // after clear() everything starts again
}

TEST(WindowAggregator, RowsInAnyOrderWithinTheBudget) {
  std::mt19937_64 rng(5);
  std::vector<std::pair<int64_t, double>> rows;
  for (int64_t t = 0; t < 300 * kMinute; t += kMinute / 2)
    rows.emplace_back(t, static_cast<double>(t % 977));
  std::shuffle(rows.begin(), rows.end(), rng);  // windows open in random order, in the middle too
  Aggregator agg(1, 1 << 20, 1 << 20);
  std::map<int64_t, std::vector<double>> truth;
  for (const auto& [t, x] : rows) {
    int64_t start = 0;
    ASSERT_TRUE(bin_start(t, 7 * kMinute, 0, &start));
    Moments* m = agg.slot(start, 0);
    ASSERT_NE(m, nullptr);
    m->add(x);
    truth[start].push_back(x);
  }
  Collected out;
  agg.close_all([&](int64_t s, uint32_t g, const Moments* m) { out(s, g, m, 1); });
  ASSERT_EQ(out.windows.size(), truth.size());
  for (size_t i = 1; i < out.order.size(); i++) EXPECT_LT(out.order[i - 1], out.order[i]);
  for (const auto& [start, xs] : truth) {
    const Moments& got = out.windows.at({start, 0})[0];
    const Reference r = reference(xs);
    EXPECT_EQ(got.n, static_cast<int64_t>(xs.size()));
    EXPECT_NEAR(got.mean(), r.mean, 1e-12 * std::max(1.0, std::abs(r.mean)));
    EXPECT_EQ(got.min, r.min);
    EXPECT_EQ(got.max, r.max);
  }
}

TEST(WindowAggregator, ManySparseGroupsCountAgainstTheBudget) {
  // every window sees one group with a large id: the lookup tables must not grow unseen
  Aggregator agg(1, 1000, 1 << 20);
  size_t shed = 0;
  for (int64_t w = 0; w < 500; w++) {
    agg.slot(w * 10, static_cast<uint32_t>(50000 + w))->add(1.0);
    if (agg.over_budget()) agg.shed([&](int64_t, uint32_t, const Moments*) { shed++; });
    EXPECT_LE(agg.open_windows(), 1u);  // 50,000 cells each exceed 8 x 1,000 at once
  }
  EXPECT_GE(shed, 499u);
  agg.close_all([](int64_t, uint32_t, const Moments*) {});
  EXPECT_EQ(agg.open_accumulators(), 0u);
}

TEST(WindowMoments, CombinedPartsMatchOneRunAsPostgresCombines) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> d(1e4, 7.0);
  for (int split : {0, 1, 2, 500, 999, 1000}) {
    std::vector<double> x;
    Moments whole, a, b;
    for (int i = 0; i < 1000; i++) {
      x.push_back(d(rng));
      whole.add(x.back());
      (i < split ? a : b).add(x.back());
    }
    a.combine(b);
    const Reference r = reference(x);
    EXPECT_EQ(a.n, 1000);
    EXPECT_NEAR(a.mean(), r.mean, 1e-12 * std::abs(r.mean)) << "split " << split;
    EXPECT_NEAR(a.stddev(), r.stddev, 1e-9 * r.stddev) << "split " << split;
    EXPECT_NEAR(a.stddev(), whole.stddev(), 1e-9 * r.stddev) << "split " << split;
    EXPECT_EQ(a.min, r.min);
    EXPECT_EQ(a.max, r.max);
    EXPECT_FALSE(a.overflow);
  }
  Moments empty, one;
  one.add(2);
  empty.combine(one);
  EXPECT_EQ(empty.n, 1);
  EXPECT_EQ(empty.mean(), 2);
  one.combine(Moments{});
  EXPECT_EQ(one.n, 1);
  Moments nan, num;  // NaN sorts above every number, wherever it was
  nan.add(std::nan(""));
  num.add(-1);
  num.add(5);
  nan.combine(num);
  EXPECT_EQ(nan.min, -1);
  EXPECT_TRUE(std::isnan(nan.max));
  EXPECT_TRUE(std::isnan(nan.stddev()));
  Moments big1, big2;  // finite parts whose sum overflows: "value out of range" as one run
  big1.add(1.5e308);
  big2.add(1.5e308);
  big1.combine(big2);
  EXPECT_TRUE(big1.overflow);
  Moments inf, fin;  // an infinite input is not an overflow
  inf.add(std::numeric_limits<double>::infinity());
  fin.add(1);
  inf.combine(fin);
  EXPECT_FALSE(inf.overflow);
  EXPECT_TRUE(std::isinf(inf.mean()));
}

namespace {
// Rows (t, group, value) aggregated in parts, each by its own Aggregator, their windows fed to a
// PartMerger interleaved at random; the merged result, or nullopt-like false when refused.
bool merge_parts(const std::vector<std::vector<std::tuple<int64_t, uint32_t, double>>>& parts,
                 int64_t width, uint64_t seed, Collected* out) {
  std::vector<std::vector<std::tuple<int64_t, uint32_t, Moments>>> streams(parts.size());
  for (size_t p = 0; p < parts.size(); p++) {
    Aggregator agg(1, 1 << 20);
    for (const auto& [t, g, x] : parts[p]) {
      int64_t start = 0;
      EXPECT_TRUE(bin_start(t, width, 0, &start));
      agg.slot(start, g)->add(x);
    }
    agg.close_all(
        [&](int64_t s, uint32_t g, const Moments* m) { streams[p].emplace_back(s, g, *m); });
  }
  PartMerger merger(1, parts.size());
  std::mt19937_64 rng(seed);
  std::vector<size_t> next(parts.size(), 0);
  auto emit = [&](int64_t s, uint32_t g, const Moments* m) { (*out)(s, g, m, 1); };
  for (;;) {
    std::vector<size_t> live;
    for (size_t p = 0; p < parts.size(); p++)
      if (next[p] < streams[p].size()) live.push_back(p);
    if (live.empty()) break;
    const size_t p = live[rng() % live.size()];
    const auto& [s, g, m] = streams[p][next[p]++];
    merger.add(p, s, g, &m, emit);
  }
  return merger.finish(emit);
}
}  // namespace

TEST(WindowPartMerger, PartsReadSideBySideGiveTheWholeResult) {
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> v(0, 100);
  std::vector<std::tuple<int64_t, uint32_t, double>> rows;
  for (int64_t t = 0; t < 400 * kMinute; t += kMinute)
    for (uint32_t g = 0; g < 3; g++)
      if ((t / kMinute + g) % 7 != 0) rows.emplace_back(t, g, v(rng));
  const int64_t width = 10 * kMinute;
  for (size_t nparts : {1, 2, 3, 5}) {
    for (uint64_t trial = 0; trial < 20; trial++) {
      // cut the rows at random places: mid-window, on a window's edge, empty parts, one-window
      // parts
      std::vector<size_t> cuts = {0, rows.size()};
      for (size_t k = 1; k < nparts; k++) {
        const size_t c = trial % 4 == 0 ? rows.size() / 2 : rng() % (rows.size() + 1);
        cuts.push_back(trial % 5 == 1 ? (c / 30) * 30 : c);
      }
      std::sort(cuts.begin(), cuts.end());
      std::vector<std::vector<std::tuple<int64_t, uint32_t, double>>> parts(nparts);
      for (size_t k = 0; k < nparts; k++)
        parts[k].assign(rows.begin() + static_cast<long>(cuts[k]),
                        rows.begin() + static_cast<long>(cuts[k + 1]));
      Collected out;
      ASSERT_TRUE(merge_parts(parts, width, trial, &out)) << nparts << " parts, trial " << trial;
      std::map<Key, std::vector<double>> truth;
      for (const auto& [t, g, x] : rows) truth[{t - t % width, g}].push_back(x);
      ASSERT_EQ(out.windows.size(), truth.size()) << nparts << " parts, trial " << trial;
      for (const auto& [key, xs] : truth) {
        const Moments& got = out.windows.at(key)[0];
        const Reference r = reference(xs);
        EXPECT_EQ(got.n, static_cast<int64_t>(xs.size()));
        EXPECT_NEAR(got.mean(), r.mean, 1e-12 * std::max(1.0, std::abs(r.mean)));
        if (xs.size() > 1) {
          EXPECT_NEAR(got.stddev(), r.stddev, 1e-12 * std::max(1.0, r.stddev));
        }
        EXPECT_EQ(got.min, r.min);
        EXPECT_EQ(got.max, r.max);
      }
    }
  }
}

TEST(WindowPartMerger, RefusesPartsThatOverlapBeyondTheirEdges) {
  const int64_t w = 10 * kMinute;
  auto at = [&](int64_t minute) { return std::make_tuple(minute * kMinute, 0u, 1.0); };
  // part 0 reaches window 20, part 1 starts back at window 10: not in time order across parts
  std::vector<std::vector<std::tuple<int64_t, uint32_t, double>>> parts = {
      {at(0), at(11), at(25)}, {at(12), at(31), at(45)}};
  Collected refused;
  EXPECT_FALSE(merge_parts(parts, w, 1, &refused));
  {  // seen as soon as the windows arrive, before the end
    PartMerger early(1, 2);
    Moments one;
    one.add(1);
    auto ignore = [](int64_t, uint32_t, const Moments*) {};
    early.add(1, 10 * kMinute, 0, &one, ignore);
    early.add(0, 0, 0, &one, ignore);
    EXPECT_FALSE(early.overlapping());
    early.add(0, 10 * kMinute, 0, &one, ignore);  // the edge: fine
    EXPECT_FALSE(early.overlapping());
    early.add(0, 20 * kMinute, 0, &one, ignore);
    EXPECT_TRUE(early.overlapping());
  }
  // sharing only the edge window (part 0's last, part 1's first) is fine
  parts = {{at(0), at(11), at(25)}, {at(26), at(31), at(45)}};
  Collected edge;
  ASSERT_TRUE(merge_parts(parts, w, 1, &edge));
  EXPECT_EQ(edge.windows.at({20 * kMinute, 0})[0].n, 2);
  EXPECT_EQ(edge.windows.size(), 5u);
  // an empty part between two others is skipped in the check
  parts = {{at(0), at(25)}, {}, {at(21), at(50)}};
  Collected gap;
  ASSERT_TRUE(merge_parts(parts, w, 2, &gap));
  EXPECT_EQ(gap.windows.at({20 * kMinute, 0})[0].n, 2);
  parts = {{at(0), at(35)}, {}, {at(21), at(50)}};
  Collected back;
  EXPECT_FALSE(merge_parts(parts, w, 2, &back));
}
