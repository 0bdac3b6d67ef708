// Packs a folder of XYZ PNG tiles (DIR/{z}/{x}/{y}.png) into one PMTiles v3 archive: a test
// fixture for the viewer's PMTiles path (the extension's own writer is C++). Root directory
// only (fine for the few thousand tiles of a fixture), no compression, clustered.
//
//   node viewer/test/make_pmtiles.mjs TILE_DIR OUT.pmtiles [west south east north]
import fs from 'node:fs';
import path from 'node:path';
import { zxyToTileId } from 'pmtiles';

const [dir, out, ...b] = process.argv.slice(2);
if (!dir || !out) {
  console.error('usage: node make_pmtiles.mjs TILE_DIR OUT.pmtiles [west south east north]');
  process.exit(2);
}
const bounds = b.length === 4 ? b.map(Number) : [-180, -85, 180, 85];

const tiles = [];
for (const z of fs.readdirSync(dir).filter((s) => /^\d+$/.test(s))) {
  for (const x of fs.readdirSync(path.join(dir, z)).filter((s) => /^\d+$/.test(s))) {
    for (const f of fs.readdirSync(path.join(dir, z, x))) {
      const m = /^(\d+)\.png$/.exec(f);
      if (!m) continue;
      const id = zxyToTileId(Number(z), Number(x), Number(m[1]));
      tiles.push({ id, z: Number(z), data: fs.readFileSync(path.join(dir, z, x, f)) });
    }
  }
}
if (tiles.length === 0) throw new Error(`no tiles in ${dir}`);
tiles.sort((a, b) => a.id - b.id);

function varint(n, outArr) {
  while (n >= 0x80) { outArr.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80); }
  outArr.push(n);
}

// The directory: count, then the id deltas, run lengths, lengths, offsets (0 = right after
// the previous entry's data, else offset + 1).
const dirBytes = [];
varint(tiles.length, dirBytes);
let last = 0;
for (const t of tiles) { varint(t.id - last, dirBytes); last = t.id; }
for (let i = 0; i < tiles.length; i++) varint(1, dirBytes);
for (const t of tiles) varint(t.data.length, dirBytes);
let offset = 0;
tiles.forEach((t, i) => {
  varint(i > 0 ? 0 : offset + 1, dirBytes);
  t.offset = offset;
  offset += t.data.length;
});
const directory = Buffer.from(dirBytes);
if (127 + directory.length > 16384) throw new Error('too many tiles for a root-only directory');
const metadata = Buffer.from(JSON.stringify({ name: path.basename(out), format: 'png' }));
const data = Buffer.concat(tiles.map((t) => t.data));

const h = Buffer.alloc(127);
h.write('PMTiles', 0, 'latin1');
h[7] = 3;
const u64 = (v, at) => h.writeBigUInt64LE(BigInt(v), at);
u64(127, 8); u64(directory.length, 16);                      // root directory
u64(127 + directory.length, 24); u64(metadata.length, 32);   // metadata
u64(127 + directory.length + metadata.length, 40); u64(0, 48); // leaf directories: none
u64(127 + directory.length + metadata.length, 56); u64(data.length, 64); // tile data
u64(tiles.length, 72); u64(tiles.length, 80); u64(tiles.length, 88);
h[96] = 1; // clustered
h[97] = 1; // internal compression: none
h[98] = 1; // tile compression: none
h[99] = 2; // tile type: png
const zooms = tiles.map((t) => t.z);
h[100] = Math.min(...zooms);
h[101] = Math.max(...zooms);
const e7 = (v, at) => h.writeInt32LE(Math.round(v * 1e7), at);
e7(bounds[0], 102); e7(bounds[1], 106); e7(bounds[2], 110); e7(bounds[3], 114);
h[118] = h[100];
e7((bounds[0] + bounds[2]) / 2, 119); e7((bounds[1] + bounds[3]) / 2, 123);
fs.writeFileSync(out, Buffer.concat([h, directory, metadata, data]));
console.log(`make_pmtiles: ${tiles.length} tiles, ${h[100]}-${h[101]}, into ${out}`);
