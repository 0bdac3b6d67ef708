#include "night_rules.h"

namespace geoetl::pg {

NightRuleArgs::NightRuleArgs(const SqlArgs& args, int first)
    : layer(args.text_or(first, "")),
      quality(args.is_null(first + 1) ? ArgArray<int32>{}
                                      : args.int4_array(first + 1, "quality", NullElements::skip)),
      cloud(args.boolean(first + 2, "cloud")),
      snow(args.boolean(first + 3, "snow")),
      negative(args.text(first + 4, "negative")),
      min_valid_nights(args.int4(first + 5, "min_valid_nights")),
      median(args.boolean(first + 6, "median")) {}

NightRules NightRuleArgs::rules() const {
  NightRules r;
  r.layer = layer;
  r.quality.assign(quality.begin(), quality.end());
  r.cloud = cloud;
  r.snow = snow;
  r.negative = parse_negative(negative);
  r.min_valid_nights = min_valid_nights;
  r.median = median;
  return r;
}

}  // namespace geoetl::pg
