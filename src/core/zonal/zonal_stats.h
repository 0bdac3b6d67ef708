// One pass of weighted zonal statistics: what the engine accumulates per polygon.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "zonal/quantiles.h"

namespace geoetl {

// Everything zonal_stats reports. NaN means "no value" (NULL in SQL).
struct ZonalResult {
  double weight = 0;  // all the polygon's weight: valid, missing and outside the raster
  double count = 0;   // Σw over valid cells
  double sum = 0;     // Σ w·v (NaN when count is 0)
  double mean = 0, min = 0, max = 0, stddev = 0;
  std::vector<double> quantiles;
  double lit_share = 0;       // Σ w·[v >= threshold] / Σw
  double valid_area_km2 = 0;  // Σ w·(cell area)
  double lit_area_km2 = 0;
  double nodata_share = 0;  // weight on nodata/masked/outside cells / all weight
};

struct StatsOptions {
  double threshold;               // NaN: no lit_share / lit_area_km2
  std::vector<double> quantiles;  // probabilities in [0, 1]
  size_t max_quantile_cells;      // memory bound for quantiles, per call (16 bytes a cell)
};

// Cells kept for quantiles by all the accumulators of one call, against one memory bound.
struct QuantileBudget {
  size_t kept = 0;      // cells stored
  size_t reserved = 0;  // capacity reserved in advance (a hint, clamped to the bound)
};

class ZonalAccumulator {
 public:
  // All accumulators of one call share `budget`: together they keep at most
  // options->max_quantile_cells cells for quantiles.
  ZonalAccumulator(const StatsOptions* options, QuantileBudget* budget)
      : opt_(options), budget_(budget) {}

  // Valid cells of one row segment: values v[i] with weights w[i] > 0, cell area in km2 (NaN if
  // unknown). Chunk-wise two-pass moments merged with Chan's formula: one pass over the data,
  // yet as accurate as a two-pass algorithm.
  void add(const double* v, const double* w, size_t n, double cell_km2);
  // Room for about `cells` values when quantiles are wanted (never beyond the memory bound).
  void reserve(size_t cells);
  // Weight that fell on nodata, masked or outside-the-raster cells.
  void add_missing(double w) { missing_ += w; }

  ZonalResult finish();

 private:
  const StatsOptions* opt_;
  QuantileBudget* budget_;
  size_t reserved_ = 0;
  double w_ = 0, mean_ = 0, m2_ = 0;
  double sum_ = 0, sum_c_ = 0;  // Neumaier-compensated Σ w·v
  // Σ w·v once it left double's range (finite values near 1.8e308): long double holds it
  bool wide_ = false;
  long double wide_sum_ = 0;
  double min_ = 0, max_ = 0;
  double lit_w_ = 0, area_ = 0, lit_area_ = 0;
  double missing_ = 0;
  std::vector<WeightedValue> cells_;
};

}  // namespace geoetl
