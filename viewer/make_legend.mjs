// Writes viewer/legend.png: the night-light colour ramp, left (t = 0, no light) to right
// (t = 1, 100 nW/cm²/sr and more), full alpha. The stops are those of src/core/tiles/ramp.cpp
// (night_light_stops), mixed the same way; keep the two in step. The page labels the ramp at
// t = log10(1 + v) / log10(101) for v = 0, 1, 10, 100.
//
//   node viewer/make_legend.mjs [OUT.png] [WIDTH] [HEIGHT]     (default viewer/legend.png 256 16)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng } from './png.mjs';

const STOPS = [
  [0.0, [20, 10, 40]], [0.25, [90, 20, 110]], [0.5, [200, 40, 50]],
  [0.7, [250, 140, 30]], [0.85, [255, 220, 80]], [1.0, [255, 255, 255]],
];

export function rampColour(t) {
  let i = 1;
  while (i + 1 < STOPS.length && STOPS[i][0] < t) i++;
  const [t0, lo] = STOPS[i - 1];
  const [t1, hi] = STOPS[i];
  const f = Math.min(1, Math.max(0, (t - t0) / (t1 - t0)));
  // std::lround rounds halves away from zero; the mixed values are never negative
  return lo.map((a, k) => Math.floor(a + (hi[k] - a) * f + 0.5));
}

const here = path.dirname(fileURLToPath(import.meta.url));
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] || path.join(here, 'legend.png');
  const width = Number(process.argv[3] || 256);
  const height = Number(process.argv[4] || 16);
  const rgba = new Uint8Array(width * height * 4);
  for (let x = 0; x < width; x++) {
    const [r, g, b] = rampColour(width > 1 ? x / (width - 1) : 0);
    for (let y = 0; y < height; y++) rgba.set([r, g, b, 255], (y * width + x) * 4);
  }
  fs.writeFileSync(out, encodePng(width, height, rgba));
  console.log(`make_legend: wrote ${out} (${width}x${height})`);
}
