#include "zonal/zonal_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "base/error.h"

namespace geoetl {

void ZonalAccumulator::add(const double* v, const double* w, size_t n, double cell_km2) {
  if (n == 0) return;
  double wb = 0, sb = 0, lo = v[0], hi = v[0], lit = 0;
  const bool has_threshold = !std::isnan(opt_->threshold);
  for (size_t i = 0; i < n; i++) {
    wb += w[i];
    sb += w[i] * v[i];
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
    if (has_threshold && v[i] >= opt_->threshold) lit += w[i];
  }
  double mb = sb / wb;
  long double sb_wide = sb;
  if (!std::isfinite(sb)) {  // finite values whose sum overflowed: again, in long double
    sb_wide = 0;
    for (size_t i = 0; i < n; i++) sb_wide += static_cast<long double>(w[i]) * v[i];
    mb = static_cast<double>(sb_wide / wb);
  }
  double m2b = 0;
  for (size_t i = 0; i < n; i++) m2b += w[i] * (v[i] - mb) * (v[i] - mb);

  // Chan et al.: merge (wb, mb, m2b) into the running (w_, mean_, m2_)
  if (w_ == 0) {
    min_ = lo;
    max_ = hi;
  } else {
    min_ = std::min(min_, lo);
    max_ = std::max(max_, hi);
  }
  const double total = w_ + wb, delta = mb - mean_;
  mean_ += delta * wb / total;
  m2_ += m2b + delta * delta * w_ * wb / total;
  w_ = total;
  // Neumaier: keep the low-order bits that adding a small term to a large sum drops
  const double t = sum_ + sb;
  if (!wide_ && !std::isfinite(t)) {
    wide_ = true;
    wide_sum_ = static_cast<long double>(sum_) + sum_c_;
  }
  if (wide_) {
    wide_sum_ += sb_wide;
  } else {
    sum_c_ += std::fabs(sum_) >= std::fabs(sb) ? (sum_ - t) + sb : (sb - t) + sum_;
    sum_ = t;
  }
  lit_w_ += lit;
  area_ += wb * cell_km2;
  lit_area_ += lit * cell_km2;

  if (!opt_->quantiles.empty()) {
    if (budget_->kept + n > opt_->max_quantile_cells)
      throw Error(ErrorKind::limit_exceeded,
                  "too many cells for exact quantiles: more than " +
                      std::to_string(opt_->max_quantile_cells),
                  "Quantiles keep every cell in memory (16 bytes each).",
                  "Raise geoetl.quantile_memory_mb, or pass quantiles => '{}' for moments only.");
    for (size_t i = 0; i < n; i++) cells_.push_back({v[i], w[i]});
    budget_->kept += n;
  }
}

void ZonalAccumulator::reserve(size_t cells) {
  if (opt_->quantiles.empty()) return;
  const size_t left =
      opt_->max_quantile_cells - std::min(budget_->reserved, opt_->max_quantile_cells);
  reserved_ = std::min(cells, left);
  budget_->reserved += reserved_;
  cells_.reserve(reserved_);
}

ZonalResult ZonalAccumulator::finish() {
  const double nan = std::nan("");
  ZonalResult r;
  r.count = w_;
  const double all = w_ + missing_;
  r.weight = all;
  r.nodata_share = all > 0 ? missing_ / all : nan;
  if (w_ <= 0) {
    r.sum = r.mean = r.min = r.max = r.stddev = r.lit_share = nan;
    r.valid_area_km2 = r.lit_area_km2 = nan;
    r.quantiles.assign(opt_->quantiles.size(), nan);
    return r;
  }
  r.sum = sum_ + sum_c_;
  r.mean = r.sum / w_;
  if (wide_) {  // a sum beyond double's range is +-Infinity; the mean is within it
    constexpr double inf = std::numeric_limits<double>::infinity();
    const long double max = std::numeric_limits<double>::max();
    r.sum = wide_sum_ > max ? inf : wide_sum_ < -max ? -inf : static_cast<double>(wide_sum_);
    r.mean = static_cast<double>(wide_sum_ / w_);
  }
  r.min = min_;
  r.max = max_;
  r.stddev = std::sqrt(std::max(0.0, m2_ / w_));
  r.lit_share = std::isnan(opt_->threshold) ? nan : lit_w_ / w_;
  r.valid_area_km2 = area_;
  r.lit_area_km2 = std::isnan(opt_->threshold) ? nan : lit_area_;
  r.quantiles = weighted_quantiles(cells_, opt_->quantiles);
  budget_->kept -= std::min(budget_->kept, cells_.size());
  budget_->reserved -= std::min(budget_->reserved, reserved_);
  cells_.clear();
  cells_.shrink_to_fit();
  return r;
}

}  // namespace geoetl
