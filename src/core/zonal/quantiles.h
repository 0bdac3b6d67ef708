// Weighted quantiles that equal R type 7 (numpy "linear", PostGIS ST_Quantile) for unit weights.
//
// Definition: sort the cells by (value, weight); cell k with weight w_k and cumulative weight
// S_k sits at the midpoint m_k = S_k - w_k / 2 of its weight. Positions are rescaled so the
// first cell is at 0 and the last at 1: p_k = (m_k - m_1) / (m_n - m_1). The q-quantile is the
// linear interpolation of the values at p = q. With all weights 1, p_k = (k - 1) / (n - 1):
// exactly type 7. A cell half inside a polygon thus counts half as much as a whole one.
//
// Computed by MSD radix selection on the values' bits (a few linear passes shared by all the
// quantiles asked for), never by sorting all the values.
#pragma once

#include <vector>

namespace geoetl {

struct WeightedValue {
  double value;
  double weight;  // > 0
};

// The quantiles `probs` (each in [0, 1]) of `cells`, in the order of `probs`; NaN for no cells.
// Reorders `cells`.
std::vector<double> weighted_quantiles(std::vector<WeightedValue>& cells,
                                       const std::vector<double>& probs);

}  // namespace geoetl
