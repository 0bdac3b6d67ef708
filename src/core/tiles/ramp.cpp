#include "tiles/ramp.h"

#include <algorithm>
#include <cmath>
#include <cstring>

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

namespace {

// The ramp's segment holding t, as night_light_colour finds it.
size_t segment_of(double t) {
  const std::vector<RampStop>& stops = night_light_stops();
  size_t i = 1;
  while (i + 1 < stops.size() && stops[i].t < t) i++;
  return i;
}

uint32_t bits_of(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

float float_of(uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

uint32_t pack(const Rgba& c) {
  return static_cast<uint32_t>(c.r) | static_cast<uint32_t>(c.g) << 8 |
         static_cast<uint32_t>(c.b) << 16 | static_cast<uint32_t>(c.a) << 24;
}

// Positive floats by bit pattern, in buckets of 2^kShift neighbours (11 bits of mantissa kept,
// relative width 0.05%) from 2^-20 to 2^8: a bucket's packed colour when night_light_colour is
// the same over all of it, else 0 (a lit colour never packs to 0: its alpha is at least 77).
// Within one segment of the ramp every channel and alpha is monotonic in v, so the same colour at
// both ends of a bucket inside one segment is the colour of every float between.
constexpr int kShift = 12;
struct ColourTable {
  uint32_t first = bits_of(std::ldexp(1.0f, -20)) >> kShift;
  uint32_t count = (bits_of(std::ldexp(1.0f, 8)) >> kShift) - first;
  std::vector<uint32_t> packed;
  ColourTable() : packed(count) {
    for (uint32_t k = 0; k < count; k++) {
      const float lo = float_of((first + k) << kShift);
      const float hi = float_of(((first + k + 1) << kShift) - 1);
      const Rgba a = night_light_colour(lo), b = night_light_colour(hi);
      if (a == b && segment_of(night_light_position(lo)) == segment_of(night_light_position(hi)))
        packed[k] = pack(a);
    }
  }
};

}  // namespace

void night_light_colours(const float* v, size_t n, uint8_t* rgba) {
  static const ColourTable table;
  for (size_t i = 0; i < n; i++, rgba += 4) {
    uint32_t c = 0;
    if (v[i] > 0) {
      const uint32_t k = (bits_of(v[i]) >> kShift) - table.first;
      if (k < table.count) c = table.packed[k];
      if (c == 0) c = pack(night_light_colour(v[i]));
    }
    rgba[0] = static_cast<uint8_t>(c);
    rgba[1] = static_cast<uint8_t>(c >> 8);
    rgba[2] = static_cast<uint8_t>(c >> 16);
    rgba[3] = static_cast<uint8_t>(c >> 24);
  }
}

}  // namespace geoetl
