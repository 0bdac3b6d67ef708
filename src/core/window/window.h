// Time windows: date_bin arithmetic and a streaming aggregator of count/mean/min/max/stddev per
// (window, group, column), the core of geoetl.aggregate_window.
//
// The statistics follow PostgreSQL's float8 aggregates step by step (Youngs-Cramer sums,
// NaN sorting above every number), so a window fed the same values in the same order gives the
// same bits as count/avg/min/max/stddev. Memory holds one accumulator per open window and group,
// never the rows: windows are emitted and their storage reused as they close.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

namespace geoetl::window {

// The start of the window holding t: origin + k * stride with k = floor((t - origin) / stride),
// as PostgreSQL's date_bin. All values in microseconds. False when the result overflows.
bool bin_start(int64_t t, int64_t stride, int64_t origin, int64_t* start) noexcept;

// PostgreSQL's float8 order: NaN sorts above every number (and equals NaN).
inline bool float8_lt(double a, double b) noexcept {
  return !std::isnan(a) && (std::isnan(b) || a < b);
}
inline bool float8_gt(double a, double b) noexcept {
  return std::isnan(a) ? !std::isnan(b) : (!std::isnan(b) && a > b);
}

// One column's statistics in one window.
struct Moments {
  int64_t n = 0;
  double sx = 0, sxx = 0, min = 0, max = 0;
  bool overflow = false;  // finite inputs gave an infinite sum (PostgreSQL: "value out of range")

  inline void add(double x) noexcept;
  // Adds another accumulator's values (PostgreSQL's float8_combine, as its parallel aggregates).
  void combine(const Moments& o) noexcept;
  bool has_mean() const noexcept { return n > 0; }
  double mean() const noexcept { return sx / static_cast<double>(n); }
  bool has_stddev() const noexcept { return n > 1; }
  double stddev() const noexcept;  // sample standard deviation
};

// Accumulators keyed by (window start, group). Groups are small dense ids given by the caller.
class Aggregator {
 public:
  // columns: values per row; budget: open (window, group) accumulators, max_windows: open
  // windows, kept before the oldest windows are emitted early (shed).
  Aggregator(size_t columns, size_t budget, size_t max_windows = 1024);

  // The column accumulators of (start, group), created when new. nullptr when that window was
  // already emitted: the input is not in time order beyond the budget.
  Moments* slot(int64_t start, uint32_t group) {
    if (last_ != nullptr && last_start_ == start && group < last_->position.size()) {
      const int32_t p = last_->position[group];  // the common case: the previous row's window
      if (p >= 0) return &last_->moments[static_cast<size_t>(p) * columns_];
    }
    return slot_slow(start, group);
  }

  size_t open_accumulators() const noexcept { return open_; }
  size_t open_windows() const noexcept { return windows_.size(); }
  // Group lookup tables count too: a window holds one cell per group id up to its largest.
  bool over_budget() const noexcept {
    return open_ > budget_ || windows_.size() > max_windows_ || cells_ > 8 * budget_;
  }

  // emit(start, group, const Moments* columns) for each accumulator of the windows chosen, in
  // window order (groups in the order first seen); their storage is then reused.
  template <typename Emit>
  void close_before(int64_t start, Emit&& emit) {  // every window that starts before `start`
    while (!windows_.empty() && windows_.front().start < start) close_oldest(emit);
  }
  template <typename Emit>
  void shed(Emit&& emit) {  // oldest windows until a quarter of the budget is free again
    while (!windows_.empty() &&
           (open_ > budget_ - budget_ / 4 || windows_.size() > max_windows_ - max_windows_ / 4 ||
            cells_ > 6 * budget_))
      close_oldest(emit);
  }
  template <typename Emit>
  void close_all(Emit&& emit) {
    while (!windows_.empty()) close_oldest(emit);
  }

  // Forgets everything (used before the input is read again, in order).
  void clear();

 private:
  struct Window {
    int64_t start = 0;
    std::vector<int32_t> position;  // by group id: index into groups/moments, -1 when absent
    std::vector<uint32_t> groups;   // group ids in the order first seen
    std::vector<Moments> moments;   // groups.size() * columns
  };

  template <typename Emit>
  void close_oldest(Emit& emit) {
    Window& w = windows_.front();
    for (size_t i = 0; i < w.groups.size(); i++)
      emit(w.start, w.groups[i], &w.moments[i * columns_]);
    emitted_ = true;
    last_emitted_ = w.start;
    open_ -= w.groups.size();
    recycle_oldest();
  }
  void recycle_oldest();
  Moments* slot_slow(int64_t start, uint32_t group);

  size_t columns_, budget_, max_windows_;
  size_t open_ = 0;
  size_t cells_ = 0;            // group lookup cells of the open windows
  std::deque<Window> windows_;  // open windows by start (time mostly moves forward)
  std::vector<Window> spare_;   // closed windows' storage, reused
  bool emitted_ = false;
  int64_t last_emitted_ = 0;
  Window* last_ = nullptr;  // the window of the previous call (rows come in runs)
  int64_t last_start_ = 0;
};

// Joins the windows of a table read in parts side by side (consecutive block ranges, each read
// in time order by its own reader). A part's windows are passed on as they come, except its first
// and its latest: those may be the same windows as the neighbouring parts' last and first, so they
// are held and combined at the end. finish() is false when parts overlap beyond those edges (the
// table is not in time order across its parts): the result must then be made again another way.
class PartMerger {
 public:
  PartMerger(size_t columns, size_t parts) : columns_(columns), parts_(parts) {}

  // One window of one group from a part (a part's windows come in ascending order).
  template <typename Emit>
  void add(size_t part, int64_t start, uint32_t group, const Moments* m, Emit&& emit) {
    Part& p = parts_[part];
    if (!p.any || start == p.first.start) {
      const bool is_new = !p.any;
      p.any = true;
      p.first.start = start;
      p.first.push(group, m, columns_);
      if (is_new) check(part);
      return;
    }
    if (p.has_last && start == p.last.start) {
      p.last.push(group, m, columns_);
      return;
    }
    if (start < (p.has_last ? p.last.start : p.first.start)) ordered_ = false;
    if (p.has_last) {  // the latest window so far is neither this part's first nor its last
      for (size_t i = 0; i < p.last.groups.size(); i++)
        emit(p.last.start, p.last.groups[i], &p.last.moments[i * columns_]);
      p.last.clear();
    }
    p.has_last = true;
    p.last.start = start;
    p.last.push(group, m, columns_);
    check(part);
  }

  // Whether the parts' windows overlap beyond their edges already (finish() will be false).
  bool overlapping() const noexcept { return !ordered_; }

  // The held windows, combined where parts share them, in window order. False (and nothing
  // emitted) when the parts' windows overlap beyond their edges.
  template <typename Emit>
  bool finish(Emit&& emit) {
    std::vector<const Held*>& held = held_;  // by start: parts' windows never go back
    held.clear();
    for (const Part& p : parts_) {
      if (!p.any) continue;
      if (!held.empty() && held.back()->start > p.first.start) ordered_ = false;
      held.push_back(&p.first);
      if (p.has_last) held.push_back(&p.last);
    }
    if (!ordered_) return false;
    for (size_t i = 0; i < held.size();) {
      size_t j = i + 1;
      while (j < held.size() && held[j]->start == held[i]->start) j++;
      if (j == i + 1) {
        for (size_t g = 0; g < held[i]->groups.size(); g++)
          emit(held[i]->start, held[i]->groups[g], &held[i]->moments[g * columns_]);
      } else {
        combine_and_emit(held, i, j, emit);
      }
      i = j;
    }
    return true;
  }

 private:
  struct Held {
    int64_t start = 0;
    std::vector<uint32_t> groups;
    std::vector<Moments> moments;  // groups.size() * columns
    void push(uint32_t group, const Moments* m, size_t columns) {
      groups.push_back(group);
      moments.insert(moments.end(), m, m + columns);
    }
    void clear() {
      groups.clear();
      moments.clear();
    }
  };
  struct Part {
    bool any = false, has_last = false;
    Held first, last;
  };

  int64_t latest(const Part& p) const noexcept { return p.has_last ? p.last.start : p.first.start; }
  // A part's windows reach further: every earlier part must end at or before its first window,
  // every later one begin at or after its latest.
  void check(size_t part) {
    const Part& p = parts_[part];
    for (size_t q = 0; q < parts_.size(); q++) {
      if (q == part || !parts_[q].any) continue;
      if (q < part ? latest(parts_[q]) > p.first.start : latest(p) > parts_[q].first.start)
        ordered_ = false;
    }
  }

  template <typename Emit>
  void combine_and_emit(const std::vector<const Held*>& held, size_t from, size_t to, Emit& emit) {
    Held& all = all_;
    all.clear();
    all.start = held[from]->start;
    std::unordered_map<uint32_t, size_t>& at = at_;  // group: its place in all
    at.clear();
    for (size_t h = from; h < to; h++)
      for (size_t g = 0; g < held[h]->groups.size(); g++) {
        const Moments* m = &held[h]->moments[g * columns_];
        const auto [it, is_new] = at.emplace(held[h]->groups[g], all.groups.size());
        if (is_new) {
          all.push(held[h]->groups[g], m, columns_);
          continue;
        }
        Moments* into = &all.moments[it->second * columns_];
        for (size_t c = 0; c < columns_; c++) into[c].combine(m[c]);
      }
    for (size_t g = 0; g < all.groups.size(); g++)
      emit(all.start, all.groups[g], &all.moments[g * columns_]);
  }

  size_t columns_;
  std::vector<Part> parts_;
  bool ordered_ = true;
  // finish()'s working storage, kept here: emit may leave by a PostgreSQL error (longjmp), which
  // skips the destructors of objects on the stack
  std::vector<const Held*> held_;
  Held all_;
  std::unordered_map<uint32_t, size_t> at_;
};

// PostgreSQL's float8_accum (Youngs-Cramer), float8smaller and float8larger.
inline void Moments::add(double x) noexcept {
  const double n_old = static_cast<double>(n);
  n++;
  if (n_old > 0) {
    const double sx_old = sx;
    const double nd = n_old + 1;
    sx += x;
    const double tmp = x * nd - sx;
    sxx += tmp * tmp / (nd * n_old);
    if (__builtin_expect(std::isinf(sx) || std::isinf(sxx), 0)) {
      if (!std::isinf(sx_old) && !std::isinf(x)) overflow = true;
      sxx = std::numeric_limits<double>::quiet_NaN();
    }
    if (!float8_lt(min, x)) min = x;  // float8smaller: the new value on a tie (-0 after 0)
    if (!float8_gt(max, x)) max = x;  // float8larger
  } else {
    sx = x;
    if (std::isnan(x) || std::isinf(x)) sxx = std::numeric_limits<double>::quiet_NaN();
    min = max = x;
  }
}

}  // namespace geoetl::window
