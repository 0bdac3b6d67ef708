// The night rules of Black Marble composites as SQL passes them (layer, quality, cloud, snow,
// negative, min_valid_nights, median: seven arguments in a row), read once for every function that
// composites (geoetl._nightlight_stats, geoetl._save_composite).
#pragma once

#include "args.h"
#include "blackmarble/composite.h"

namespace geoetl::pg {

struct NightRuleArgs {
  const char* layer;
  ArgArray<int32> quality;
  bool cloud, snow;
  const char* negative;
  int min_valid_nights;
  bool median;

  // Reads the seven arguments from position `first` (before call_core: it may ereport).
  NightRuleArgs(const SqlArgs& args, int first);
  // The rules (inside call_core: an unknown negative rule throws Error).
  NightRules rules() const;
};

}  // namespace geoetl::pg
