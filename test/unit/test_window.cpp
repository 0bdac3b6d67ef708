#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "window.h"

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
