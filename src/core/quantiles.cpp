#include "quantiles.h"

#include <algorithm>
#include <cmath>

namespace geoetl {
namespace {

bool before(const WeightedValue& a, const WeightedValue& b) {
  return a.value < b.value || (a.value == b.value && a.weight < b.weight);
}

// The neighbours of a target position on the midpoint axis: the last cell with m <= target
// and the first with m > target (or the same cell at the end).
struct Bracket {
  double lo_value, lo_m, hi_value, hi_m;
};

// Weighted quickselect over cells[lo, hi), whose midpoints start after `offset` weight.
// `upper` carries the first cell right of the range (value, midpoint), if any.
Bracket select(std::vector<WeightedValue>& cells, size_t lo, size_t hi, double offset,
               double target, WeightedValue upper, double upper_m, bool has_upper) {
  while (hi - lo > 32) {
    // median of three as pivot, then a three-way partition: < pivot, == pivot, > pivot
    const WeightedValue a = cells[lo], b = cells[lo + (hi - lo) / 2], c = cells[hi - 1];
    const WeightedValue pivot = before(a, b) ? (before(b, c) ? b : (before(a, c) ? c : a))
                                             : (before(a, c) ? a : (before(b, c) ? c : b));
    size_t lt = lo, i = lo, gt = hi;
    double w_less = 0;
    while (i < gt) {
      if (before(cells[i], pivot)) {
        w_less += cells[i].weight;
        std::swap(cells[lt++], cells[i++]);
      } else if (before(pivot, cells[i])) {
        std::swap(cells[i], cells[--gt]);
      } else {
        i++;
      }
    }
    const double w_eq = pivot.weight * static_cast<double>(gt - lt);
    const double first_eq_m = offset + w_less + pivot.weight / 2;
    const double last_eq_m = offset + w_less + w_eq - pivot.weight / 2;
    if (target < first_eq_m && lt > lo) {
      hi = lt;
      upper = pivot;
      upper_m = first_eq_m;
      has_upper = true;
    } else if (target < last_eq_m || (target < first_eq_m && lt == lo)) {
      return {pivot.value, first_eq_m, pivot.value, first_eq_m};
    } else if (gt < hi) {
      // the bracket starts at the last equal cell unless the target lies beyond the greater ones
      size_t k_min = gt;
      for (size_t k = gt + 1; k < hi; k++)
        if (before(cells[k], cells[k_min])) k_min = k;
      const double next_m = offset + w_less + w_eq + cells[k_min].weight / 2;
      if (target < next_m) return {pivot.value, last_eq_m, cells[k_min].value, next_m};
      offset += w_less + w_eq;
      lo = gt;
    } else {
      if (has_upper) return {pivot.value, last_eq_m, upper.value, upper_m};
      return {pivot.value, last_eq_m, pivot.value, last_eq_m};
    }
  }
  // small range: sort and scan
  std::sort(cells.begin() + static_cast<long>(lo), cells.begin() + static_cast<long>(hi), before);
  double s = offset;
  Bracket br{cells[lo].value, offset + cells[lo].weight / 2, cells[lo].value,
             offset + cells[lo].weight / 2};
  for (size_t k = lo; k < hi; k++) {
    const double m = s + cells[k].weight / 2;
    s += cells[k].weight;
    if (m <= target || k == lo) {
      br = {cells[k].value, m, cells[k].value, m};
    } else {
      br.hi_value = cells[k].value;
      br.hi_m = m;
      return br;
    }
  }
  if (has_upper) br.hi_value = upper.value, br.hi_m = upper_m;
  return br;
}

}  // namespace

std::vector<double> weighted_quantiles(std::vector<WeightedValue>& cells,
                                       const std::vector<double>& probs) {
  std::vector<double> out(probs.size(), std::nan(""));
  if (cells.empty()) return out;
  // first and last cells in (value, weight) order, and the total weight
  size_t first = 0, last = 0;
  double total = 0;
  for (size_t k = 0; k < cells.size(); k++) {
    total += cells[k].weight;
    if (before(cells[k], cells[first])) first = k;
    if (before(cells[last], cells[k])) last = k;
  }
  const double m_first = cells[first].weight / 2;
  const double m_last = total - cells[last].weight / 2;
  for (size_t i = 0; i < probs.size(); i++) {
    if (cells.size() == 1 || m_last <= m_first) {
      out[i] = cells[first].value;
      continue;
    }
    const double target = m_first + probs[i] * (m_last - m_first);
    const Bracket b = select(cells, 0, cells.size(), 0, target, {}, 0, false);
    out[i] = b.hi_m > b.lo_m
                 ? b.lo_value + (target - b.lo_m) / (b.hi_m - b.lo_m) * (b.hi_value - b.lo_value)
                 : b.lo_value;
  }
  return out;
}

}  // namespace geoetl
