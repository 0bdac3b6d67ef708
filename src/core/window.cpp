#include "window.h"

#include <cmath>
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

double Moments::stddev() const noexcept { return std::sqrt(sxx / (static_cast<double>(n) - 1.0)); }

Aggregator::Aggregator(size_t columns, size_t budget, size_t max_windows)
    : columns_(columns), budget_(budget < 4 ? 4 : budget), max_windows_(max_windows < 4 ? 4 : max_windows) {}

Moments* Aggregator::slot_slow(int64_t start, uint32_t group) {
  Window* w;
  if (last_ != nullptr && last_start_ == start) {
    w = last_;
  } else {
    // time mostly moves forward: a window after every open one is found without a search
    const bool newest = windows_.empty() || start > windows_.rbegin()->first;
    auto it = newest ? windows_.end() : windows_.find(start);
    if (it == windows_.end()) {
      if (emitted_ && start <= last_emitted_) return nullptr;
      const auto hint = newest ? windows_.end() : windows_.lower_bound(start);
      if (spare_.empty()) {
        it = windows_.emplace_hint(hint, start, Window{});
      } else {
        Windows::node_type node = std::move(spare_.back());
        spare_.pop_back();
        node.key() = start;
        it = windows_.insert(hint, std::move(node));
      }
    }
    w = &it->second;
    last_ = w;
    last_start_ = start;
  }
  if (group >= w->position.size()) w->position.resize(group + 1, -1);
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

void Aggregator::recycle(Windows::iterator it) {
  Window& w = it->second;
  if (last_ == &w) last_ = nullptr;
  for (uint32_t g : w.groups) w.position[g] = -1;
  w.groups.clear();
  w.moments.clear();
  Windows::node_type node = windows_.extract(it);
  spare_.push_back(std::move(node));  // at most as many as were ever open at once
}

void Aggregator::clear() {
  windows_.clear();
  spare_.clear();
  open_ = 0;
  emitted_ = false;
  last_ = nullptr;
}

}  // namespace geoetl::window
