#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "zonal/quantiles.h"

using namespace geoetl;

namespace {

// R type 7 from its textbook definition, on a sorted copy.
double type7(std::vector<double> x, double q) {
  std::sort(x.begin(), x.end());
  const double h = (static_cast<double>(x.size()) - 1) * q;
  const size_t lo = static_cast<size_t>(std::floor(h));
  return lo + 1 < x.size() ? x[lo] + (h - static_cast<double>(lo)) * (x[lo + 1] - x[lo]) : x[lo];
}

// The weighted definition by brute force: sort, midpoints, rescale, interpolate.
double reference(std::vector<WeightedValue> c, double q) {
  std::sort(c.begin(), c.end(), [](auto& a, auto& b) {
    return a.value < b.value || (a.value == b.value && a.weight < b.weight);
  });
  std::vector<double> m(c.size());
  double s = 0;
  for (size_t k = 0; k < c.size(); k++) m[k] = (s += c[k].weight) - c[k].weight / 2;
  if (c.size() == 1) return c[0].value;
  const double t = m.front() + q * (m.back() - m.front());
  for (size_t k = 0; k + 1 < c.size(); k++)
    if (t <= m[k + 1]) {
      if (m[k + 1] == m[k]) return c[k].value;
      return c[k].value + (t - m[k]) / (m[k + 1] - m[k]) * (c[k + 1].value - c[k].value);
    }
  return c.back().value;
}

std::vector<WeightedValue> unit(const std::vector<double>& x) {
  std::vector<WeightedValue> c;
  for (double v : x) c.push_back({v, 1});
  return c;
}

}  // namespace

TEST(WeightedQuantiles, UnitWeightsGiveRType7) {
  std::vector<double> x = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
  auto c = unit(x);
  const std::vector<double> q = {0, 0.1, 0.25, 0.5, 0.9, 0.99, 1};
  const auto got = weighted_quantiles(c, q);
  for (size_t i = 0; i < q.size(); i++) EXPECT_DOUBLE_EQ(got[i], type7(x, q[i])) << q[i];
}

TEST(WeightedQuantiles, KnownValuesOfNumpyLinear) {
  auto c = unit({1, 2, 3, 4});
  // numpy.quantile([1,2,3,4], [0.5, 0.9]) == [2.5, 3.7]
  const auto got = weighted_quantiles(c, {0.5, 0.9});
  EXPECT_DOUBLE_EQ(got[0], 2.5);
  EXPECT_NEAR(got[1], 3.7, 1e-15);
}

TEST(WeightedQuantiles, LargeRandomUnitWeightsMatchType7) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> n(10, 3);
  std::vector<double> x(100003);
  for (double& v : x) v = std::round(n(rng) * 4) / 4;  // many ties
  auto c = unit(x);
  const std::vector<double> q = {0.001, 0.5, 0.9, 0.999};
  const auto got = weighted_quantiles(c, q);
  for (size_t i = 0; i < q.size(); i++) EXPECT_DOUBLE_EQ(got[i], type7(x, q[i])) << q[i];
}

TEST(WeightedQuantiles, RandomWeightsMatchTheDefinition) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 200; trial++) {
    const size_t n = 1 + static_cast<size_t>(u(rng) * (trial < 100 ? 40 : 3000));
    std::vector<WeightedValue> c(n);
    for (auto& cell : c) cell = {std::floor(u(rng) * 50), u(rng) < 0.7 ? 1.0 : u(rng) + 1e-6};
    const std::vector<double> q = {0, 0.5, 0.9, 1, u(rng)};
    auto work = c;
    const auto got = weighted_quantiles(work, q);
    for (size_t i = 0; i < q.size(); i++)
      EXPECT_NEAR(got[i], reference(c, q[i]), 1e-9) << "trial " << trial << " q " << q[i];
  }
}

// The largest value on a sliver cell: the bins' weights, summed in another order than the total,
// fall short of the q = 1 target by a rounding error; the search must stay inside the data.
TEST(WeightedQuantiles, ALastCellOfAlmostNoWeightIsStillTheMaximum) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 2000; trial++) {
    std::vector<WeightedValue> c(300 + trial % 700);
    for (auto& cell : c) cell = {u(rng) * 500, u(rng) < 0.8 ? 1.0 : u(rng)};
    c[static_cast<size_t>(trial) % c.size()] = {700, 1e-12};
    const std::vector<double> q = {1, 0.999999, 0.5};
    auto work = c;
    const auto got = weighted_quantiles(work, q);
    ASSERT_EQ(got[0], 700) << trial;
    for (size_t i = 1; i < q.size(); i++) {  // relative: sums in another order near a 1e-12 weight
      const double want = reference(c, q[i]);
      ASSERT_NEAR(got[i], want, 1e-9 * std::max(1.0, std::fabs(want))) << trial;
    }
  }
}

TEST(WeightedQuantiles, HalfACellCountsHalf) {
  // values 0 (w 1), 10 (w 1), 20 (w .5): midpoints .5, 1.5, 2.25 -> median at 1.375 -> 8.75
  std::vector<WeightedValue> c = {{20, 0.5}, {0, 1}, {10, 1}};
  EXPECT_DOUBLE_EQ(weighted_quantiles(c, {0.5})[0], 8.75);
}

TEST(WeightedQuantiles, EdgeCases) {
  std::vector<WeightedValue> none;
  EXPECT_TRUE(std::isnan(weighted_quantiles(none, {0.5})[0]));
  std::vector<WeightedValue> one = {{42, 0.3}};
  EXPECT_EQ(weighted_quantiles(one, {0, 0.5, 1}), (std::vector<double>{42, 42, 42}));
  std::vector<WeightedValue> same = {{7, 1}, {7, 1}, {7, 0.2}};
  EXPECT_EQ(weighted_quantiles(same, {0.1, 0.9})[1], 7);
}
