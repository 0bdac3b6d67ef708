// A PMTiles archive of geoetl's read back by the `pmtiles` npm package (viewer/node_modules): its
// header, and every tile of an XYZ folder of the same month found in it with the same bytes; each
// distinct tile stored once, those without light (no XYZ file) sharing one. Prints TAP.
//
//   node test/e2e/lib/pmtiles_readback.mjs ARCHIVE.pmtiles XYZ_FOLDER
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { PMTiles } = createRequire(path.join(ROOT, 'viewer', 'package.json'))('pmtiles');
const [archive, folder] = process.argv.slice(2);

// the package's Source for a local file: byte ranges read with fs
class LocalFile {
  constructor(file) { this.file = file; this.fd = fs.openSync(file, 'r'); }
  getKey() { return this.file; }
  async getBytes(offset, length) {
    const buf = Buffer.alloc(length);
    const n = fs.readSync(this.fd, buf, 0, length, offset);
    return { data: buf.buffer.slice(buf.byteOffset, buf.byteOffset + n) };
  }
}

let n = 0, failed = 0;
const ok = (cond, what, detail) => {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${what}`);
  if (!cond && detail) console.log(`#   ${detail}`);
};

const p = new PMTiles(new LocalFile(archive));
const h = await p.getHeader();
ok(h.specVersion === 3, 'the archive is PMTiles version 3', `version ${h.specVersion}`);
ok(h.tileType === 2 && h.clustered, 'its tiles are PNG, clustered', JSON.stringify(h));
const meta = await p.getMetadata();
ok(typeof meta.name === 'string' && meta.format === 'png', 'its metadata names it', JSON.stringify(meta));

const files = [];
for (const z of fs.readdirSync(folder)) for (const x of fs.readdirSync(path.join(folder, z)))
  for (const f of fs.readdirSync(path.join(folder, z, x)))
    files.push([Number(z), Number(x), Number(f.replace(/\.png$/, '')), path.join(folder, z, x, f)]);
let same = 0;
const differ = [];
for (const [z, x, y, file] of files) {
  const t = await p.getZxy(z, x, y);
  if (t && Buffer.from(t.data).equals(fs.readFileSync(file))) same++;
  else differ.push(`${z}/${x}/${y}`);
}
ok(files.length > 0 && same === files.length,
   `every one of the ${files.length} XYZ files is in the archive with the same bytes`, differ.slice(0, 5).join(' '));
// each distinct tile stored once; the tiles without light (addressed, but no XYZ file) all one
const distinct = new Set(files.map(([, , , file]) => fs.readFileSync(file).toString('base64'))).size;
const empties = h.numAddressedTiles - files.length;
ok(empties >= 0 && h.numTileContents === distinct + (empties > 0 ? 1 : 0),
   `each distinct tile is stored once (${distinct} lit, ${empties} without light sharing one)`,
   `addressed ${h.numAddressedTiles}, contents ${h.numTileContents}, files ${files.length}, distinct ${distinct}`);
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
