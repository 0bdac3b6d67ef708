#include "tiles/ramp.h"

#include <algorithm>
#include <cmath>

namespace geoetl {

const std::vector<RampStop>& night_light_stops() {
  static const std::vector<RampStop> stops = {
      {0.0, {20, 10, 40, 255}},   {0.25, {90, 20, 110, 255}},  {0.5, {200, 40, 50, 255}},
      {0.7, {250, 140, 30, 255}}, {0.85, {255, 220, 80, 255}}, {1.0, {255, 255, 255, 255}},
  };
  return stops;
}

double night_light_position(double v) {
  if (!(v > 0)) return 0;
  return std::min(1.0, std::log10(1 + v) / std::log10(101.0));
}

Rgba night_light_colour(double v) {
  if (std::isnan(v) || v <= 0) return Rgba{};
  const double t = night_light_position(v);
  const std::vector<RampStop>& stops = night_light_stops();
  size_t i = 1;
  while (i + 1 < stops.size() && stops[i].t < t) i++;
  const RampStop& lo = stops[i - 1];
  const RampStop& hi = stops[i];
  const double f = std::clamp((t - lo.t) / (hi.t - lo.t), 0.0, 1.0);
  const auto mix = [f](uint8_t a, uint8_t b) {
    return static_cast<uint8_t>(std::lround(a + (b - a) * f));
  };
  Rgba c{mix(lo.colour.r, hi.colour.r), mix(lo.colour.g, hi.colour.g),
         mix(lo.colour.b, hi.colour.b), 255};
  c.a = static_cast<uint8_t>(std::lround(255 * std::min(1.0, 0.3 + 7 * t)));
  return c;
}

}  // namespace geoetl
