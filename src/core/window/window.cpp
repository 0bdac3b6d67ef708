#include "window/window.h"

#include <cmath>
#include <algorithm>
#include <utility>

namespace geoetl::window {

bool bin_start(int64_t t, int64_t stride, int64_t origin, int64_t* start) noexcept {
  int64_t diff;
  if (stride <= 0 || __builtin_sub_overflow(t, origin, &diff)) return false;
  int64_t delta = diff - diff % stride;
  if (diff < 0 && diff % stride != 0) {  // floor, not truncation, before the origin
    if (__builtin_sub_overflow(delta, stride, &delta)) return false;
  }
  return !__builtin_add_overflow(origin, delta, start);
}

double Moments::stddev() const noexcept {
  return std::sqrt(sxx / (static_cast<double>(n) - 1.0));
}

void Moments::combine(const Moments& o) noexcept {
  if (o.n == 0) return;
  overflow = overflow || o.overflow;
  if (n == 0) {
    const bool was = overflow;
    *this = o;
    overflow = was;
    return;
  }
  const double n1 = static_cast<double>(n), n2 = static_cast<double>(o.n);
  const double sx1 = sx;
  sx += o.sx;  // float8_pl: an infinite sum of finite values overflows
  if (std::isinf(sx) && !std::isinf(sx1) && !std::isinf(o.sx)) overflow = true;
  const double tmp = sx1 / n1 - o.sx / n2;
  const double sxx1 = sxx;
  sxx = sxx1 + o.sxx + n1 * n2 * tmp * tmp / (n1 + n2);
  if (std::isinf(sxx) && !std::isinf(sxx1) && !std::isinf(o.sxx)) overflow = true;
  n += o.n;
  if (!float8_lt(min, o.min)) min = o.min;  // float8smaller, as min's combine function
  if (!float8_gt(max, o.max)) max = o.max;  // float8larger
}

Aggregator::Aggregator(size_t columns, size_t budget, size_t max_windows)
    : columns_(columns),
      budget_(budget < 4 ? 4 : budget),
      max_windows_(max_windows < 4 ? 4 : max_windows) {}

Moments* Aggregator::slot_slow(int64_t start, uint32_t group) {
  Window* w;
  if (last_ != nullptr && last_start_ == start) {
    w = last_;
  } else {
    auto it = windows_.end();
    if (windows_.empty() || start > windows_.back().start) {  // a new newest window
      if (emitted_ && start <= last_emitted_) return nullptr;
      windows_.emplace_back();
      if (!spare_.empty()) {
        windows_.back() = std::move(spare_.back());
        spare_.pop_back();
        cells_ += windows_.back().position.size();
      }
      it = windows_.end() - 1;
    } else {
      it = std::lower_bound(windows_.begin(), windows_.end(), start,
                            [](const Window& x, int64_t s) { return x.start < s; });
      if (it->start != start) {  // a new window among the open ones: rare, moves the later ones
        if (emitted_ && start <= last_emitted_) return nullptr;
        it = windows_.insert(it, Window{});
      }
    }
    it->start = start;
    w = &*it;
    last_ = w;
    last_start_ = start;
  }
  if (group >= w->position.size()) {
    cells_ += group + 1 - w->position.size();
    w->position.resize(group + 1, -1);
  }
  int32_t p = w->position[group];
  if (p < 0) {
    p = static_cast<int32_t>(w->groups.size());
    w->position[group] = p;
    w->groups.push_back(group);
    w->moments.resize(w->moments.size() + columns_);
    open_++;
  }
  return &w->moments[static_cast<size_t>(p) * columns_];
}

void Aggregator::recycle_oldest() {
  Window& w = windows_.front();
  if (last_ == &w) last_ = nullptr;
  cells_ -= w.position.size();
  if (spare_.size() < 64) {  // storage for the next windows (a few: their lookup tables are big)
    for (uint32_t g : w.groups) w.position[g] = -1;
    w.groups.clear();
    w.moments.clear();
    spare_.push_back(std::move(w));
  }
  windows_.pop_front();
}

void Aggregator::clear() {
  windows_.clear();
  spare_.clear();
  open_ = 0;
  cells_ = 0;
  emitted_ = false;
  last_ = nullptr;
}

}  // namespace geoetl::window
