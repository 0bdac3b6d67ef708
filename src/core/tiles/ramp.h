// The one colour ramp of night-light map tiles, fixed so that any two months compare: radiance v
// (nW/cm2/sr) at t = log10(1 + v) / log10(101), so 0 to 100 nW/cm2/sr spread over [0, 1] on a log
// scale (clamped above), through dark purple, purple, red, orange and yellow to white. No data
// (NaN) and no light (v <= 0) are transparent; faint light fades in (alpha grows up to t = 0.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace geoetl {

struct Rgba {
  uint8_t r = 0, g = 0, b = 0, a = 0;
  bool operator==(const Rgba& o) const { return r == o.r && g == o.g && b == o.b && a == o.a; }
};

struct RampStop {
  double t;
  Rgba colour;
};

// The ramp's stops, t from 0 to 1 (the legend draws them).
const std::vector<RampStop>& night_light_stops();

// v's position on the ramp, t in [0, 1] (v <= 0: 0; v >= 100: 1).
double night_light_position(double v);

// v's colour (transparent for NaN and v <= 0).
Rgba night_light_colour(double v);

// night_light_colour of each of n values into rgba (4 bytes each), exactly, through a table of
// the colours of small ranges of floats over which it is constant (built once per process).
void night_light_colours(const float* v, size_t n, uint8_t* rgba);

}  // namespace geoetl
