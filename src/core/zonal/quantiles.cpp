#include "zonal/quantiles.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "base/error.h"

namespace geoetl {
namespace {

bool before(const WeightedValue& a, const WeightedValue& b) {
  return a.value < b.value || (a.value == b.value && a.weight < b.weight);
}

// Order-preserving unsigned key of a double (negative values flipped, positive offset).
uint64_t key_of(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const uint64_t negative = uint64_t{0} - (bits >> 63);  // all ones for negative values
  return bits ^ (negative | (uint64_t{1} << 63));
}

struct Bracket {
  double lo_value, lo_m, hi_value, hi_m;
};

// One quantile being searched: its target midpoint and the weight before its candidate set.
struct Search {
  double target;
  double offset = 0;
  Bracket result{};
};

// A candidate set and the sets enclosing it, innermost last: each level's set is a contiguous
// range of the (value, weight) order inside its parent's.
struct Span {
  const WeightedValue* cells;
  size_t n;
};
using Chain = std::vector<Span>;

// The cell just before `first` (or just after `last`) in (value, weight) order, looked for in
// the enclosing sets from the innermost out: the first set that has one has the closest one.
const WeightedValue* neighbour(const Chain& chain, const WeightedValue& edge, bool below) {
  for (auto set = chain.rbegin(); set != chain.rend(); ++set) {
    const WeightedValue* best = nullptr;
    for (size_t i = 0; i < set->n; i++) {
      const WeightedValue& c = set->cells[i];
      if (below ? before(c, edge) && (!best || before(*best, c))
                : before(edge, c) && (!best || before(c, *best)))
        best = &c;
    }
    if (best != nullptr) return best;
  }
  return nullptr;
}

// The bracket of a search whose cells are few (sorted here) or all share one key.
Bracket finish(const Chain& chain, WeightedValue* cells, size_t n, bool equal_keys,
               const Search& s) {
  if (n == 0) throw Error(ErrorKind::internal, "quantile selection lost its target");
  WeightedValue first = cells[0], last = cells[0];
  double total = 0;
  if (equal_keys) {  // one value: only the lightest (first) and heaviest (last) weights matter
    for (size_t i = 0; i < n; i++) {
      if (cells[i].weight < first.weight) first = cells[i];
      if (cells[i].weight > last.weight) last = cells[i];
      total += cells[i].weight;
    }
  } else {
    std::sort(cells, cells + n, before);
    first = cells[0];
    last = cells[n - 1];
    for (size_t i = 0; i < n; i++) total += cells[i].weight;
  }
  const double m_first = s.offset + first.weight / 2;
  const double m_last = s.offset + total - last.weight / 2;
  Bracket b{first.value, m_first, first.value, m_first};
  if (s.target < m_first) {
    if (const WeightedValue* p = neighbour(chain, first, true))
      b.lo_value = p->value, b.lo_m = s.offset - p->weight / 2;
    return b;
  }
  if (s.target >= m_last) {
    b = {last.value, m_last, last.value, m_last};
    if (const WeightedValue* q = neighbour(chain, last, false))
      b.hi_value = q->value, b.hi_m = s.offset + total + q->weight / 2;
    return b;
  }
  if (equal_keys) return b;
  double acc = s.offset;
  for (size_t i = 0; i + 1 < n; i++) {
    acc += cells[i].weight;
    const double m = acc - cells[i].weight / 2, m_next = acc + cells[i + 1].weight / 2;
    if (s.target < m_next) return {cells[i].value, m, cells[i + 1].value, m_next};
  }
  return {last.value, m_last, last.value, m_last};  // rounding put the target at the very end
}

// MSD radix selection, 16 key bits per level, for several quantiles at once. Per level: one
// pass builds weighted (and counting) histograms, one branch-free pass copies out the cells of
// the bins holding the targets; the next level looks only at those. No sort of the data.
void radix_select(Chain& chain, WeightedValue* cells, size_t n, int level,
                  const std::vector<Search*>& searches) {
  if (n <= 256 || level == 4) {
    for (Search* s : searches) s->result = finish(chain, cells, n, level == 4, *s);
    return;
  }
  const int shift = 48 - 16 * level;
  auto bin_of = [shift](double v) { return static_cast<uint32_t>((key_of(v) >> shift) & 0xffff); };
  // Four interleaved histograms: clustered values hit the same bins over and over, and a single
  // histogram would make each addition wait for the previous one to the same bin.
  std::vector<double> weight(4 * 65536, 0.0);
  std::vector<uint32_t> count(4 * 65536, 0);
  size_t head = 0;
  for (; head + 4 <= n; head += 4)
    for (size_t j = 0; j < 4; j++) {
      const uint32_t k = bin_of(cells[head + j].value);
      weight[j * 65536 + k] += cells[head + j].weight;
      count[j * 65536 + k]++;
    }
  for (; head < n; head++) {
    weight[bin_of(cells[head].value)] += cells[head].weight;
    count[bin_of(cells[head].value)]++;
  }
  for (size_t b = 0; b < 65536; b++) {
    weight[b] += weight[65536 + b] + weight[2 * 65536 + b] + weight[3 * 65536 + b];
    count[b] += count[65536 + b] + count[2 * 65536 + b] + count[3 * 65536 + b];
  }

  uint32_t last_bin = 65535;
  while (last_bin > 0 && count[last_bin] == 0) last_bin--;

  struct Target {
    uint32_t bin;
    double offset;
    std::vector<WeightedValue> inside;
    size_t filled = 0;
    std::vector<Search*> searches;
  };
  std::vector<Target> targets;
  for (Search* s : searches) {
    uint32_t b = 0;
    double cum = s->offset;
    // never past the last non-empty bin: the bins' weights, added in another order than the
    // total was, may fall a rounding error short of a target at the very end
    while (b < last_bin && (count[b] == 0 || cum + weight[b] <= s->target)) cum += weight[b++];
    auto same =
        std::find_if(targets.begin(), targets.end(), [b](const Target& t) { return t.bin == b; });
    if (same == targets.end()) {
      targets.push_back({b, cum, std::vector<WeightedValue>(count[b] + 1), 0, {}});
      same = targets.end() - 1;
    }
    same->searches.push_back(s);
    s->offset = cum;
  }
  for (size_t i = 0; i < n; i++) {
    const uint32_t k = bin_of(cells[i].value);
    for (Target& t : targets) {  // write always, keep only matches: no branch to mispredict
      t.inside[t.filled] = cells[i];
      t.filled += k == t.bin;
    }
  }
  chain.push_back({cells, n});
  for (Target& t : targets) radix_select(chain, t.inside.data(), t.filled, level + 1, t.searches);
  chain.pop_back();
}

}  // namespace

std::vector<double> weighted_quantiles(std::vector<WeightedValue>& cells,
                                       const std::vector<double>& probs) {
  std::vector<double> out(probs.size(), std::nan(""));
  if (cells.empty()) return out;
  // first and last cells in (value, weight) order, and the total weight; written with
  // selects rather than branches, which random data would mispredict
  WeightedValue first = cells[0], last = cells[0];
  double total = 0;
  for (const WeightedValue& c : cells) {
    total += c.weight;
    const bool lower = c.value < first.value || (c.value == first.value && c.weight < first.weight);
    const bool higher = c.value > last.value || (c.value == last.value && c.weight > last.weight);
    first = lower ? c : first;
    last = higher ? c : last;
  }
  const double m_first = first.weight / 2;
  const double m_last = total - last.weight / 2;
  if (cells.size() == 1 || m_last <= m_first) {
    std::fill(out.begin(), out.end(), first.value);
    return out;
  }
  std::vector<Search> searches(probs.size());
  std::vector<Search*> pending;
  for (size_t i = 0; i < probs.size(); i++) {
    searches[i].target = m_first + probs[i] * (m_last - m_first);
    if (probs[i] >= 1 || searches[i].target >= m_last) {  // the last cell itself
      searches[i].result = {last.value, m_last, last.value, m_last};
      continue;
    }
    pending.push_back(&searches[i]);
  }
  Chain chain;
  radix_select(chain, cells.data(), cells.size(), 0, pending);
  for (size_t i = 0; i < probs.size(); i++) {
    const Bracket& b = searches[i].result;
    const double t = searches[i].target;
    if (b.hi_m <= b.lo_m) {
      out[i] = b.lo_value;
      continue;
    }
    const double f = (t - b.lo_m) / (b.hi_m - b.lo_m);
    out[i] = b.lo_value + f * (b.hi_value - b.lo_value);
    // between finite values of opposite sign near float8's limits the difference overflows
    if (!std::isfinite(out[i])) out[i] = b.lo_value * (1 - f) + b.hi_value * f;
  }
  return out;
}

}  // namespace geoetl
