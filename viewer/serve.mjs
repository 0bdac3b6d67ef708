// A static file server for the viewer page, on 127.0.0.1 only, with no dependencies.
//
//   node viewer/serve.mjs --root DIR [--store STOREDIR] [--port N]
//
// Serves DIR at / and STOREDIR (geoetl's store folder) at /store/. GET and HEAD; single byte
// ranges (`bytes=a-b`, `a-`, `-n`: 206 with Content-Range, 416 when unsatisfiable; a malformed
// or multi-range header is ignored and the whole file sent), which PMTiles archives need.
// No directory listing (a folder serves its index.html or 404); `..` segments, encoded or not,
// are refused (403), and so is a file whose real path (symlinks resolved) leaves its root.
// --port 0 (the default) picks a free port. Prints `viewer: http://127.0.0.1:PORT/` once
// listening; exits 0 on SIGTERM or SIGINT. Runs on node >= 18.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.geojson': 'application/geo+json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.pmtiles': 'application/octet-stream',
};

function usage(msg) {
  if (msg) console.error(`serve: ${msg}`);
  console.error('usage: node serve.mjs --root DIR [--store STOREDIR] [--port N]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { root: null, store: null, port: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--root') opts.root = value();
    else if (a === '--store') opts.store = value();
    else if (a === '--port') opts.port = Number(value());
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!opts.root) usage('--root is required');
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
  return opts;
}

// Parses a Range header against a file of `size` bytes: null = serve the whole file (no
// header, or one we ignore), 'unsatisfiable', or {start, end} (inclusive).
export function parseRange(header, size) {
  if (header === undefined) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') { // suffix: the last n bytes
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return null; // invalid range-spec: ignored
  if (start >= size) return 'unsatisfiable';
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}

function send(res, status, text, headers = {}) {
  const body = Buffer.from(text ? `${text}\n` : '');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': CSP,
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

// The page runs only its own scripts: nothing that comes in as data (an area's name) can run.
const CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'";

function inside(base, p) {
  return p === base || p.startsWith(base.endsWith(path.sep) ? base : base + path.sep);
}

// The file for a URL path, or {status} when refused or absent.
async function resolveFile(roots, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { status: 400 };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { status: 400 };
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return { status: 403 };
  let base = roots.root;
  let rest = segments.filter((s) => s !== '');
  if (rest[0] === 'store') {
    // only the store's map tiles: never its staging copies, fetched files or packages
    if (!roots.store || rest[1] !== 'tiles') return { status: 404 };
    base = path.join(roots.store, 'tiles');
    rest = rest.slice(2);
  }
  let file = path.join(base, ...rest);
  let st;
  try {
    st = await fsp.stat(file);
    if (st.isDirectory()) {
      file = path.join(file, 'index.html');
      st = await fsp.stat(file);
    }
  } catch {
    return { status: 404 };
  }
  if (!st.isFile()) return { status: 404 };
  let real;
  try {
    real = await fsp.realpath(file);
  } catch {
    return { status: 404 };
  }
  if (!inside(base, real)) return { status: 403 };
  return { file: real, stat: st };
}

// Host names this server answers to: a page elsewhere that points its own name at 127.0.0.1
// (DNS rebinding) gets nothing.
function hostAllowed(req, port) {
  const host = (req.headers.host || '').toLowerCase();
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

async function handle(roots, req, res) {
  if (!hostAllowed(req, req.socket.localPort)) return send(res, 421, 'misdirected request');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return send(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
  }
  const rawPath = (req.url || '/').split('?')[0].split('#')[0];
  if (!rawPath.startsWith('/')) return send(res, 400, 'bad request');
  const found = await resolveFile(roots, rawPath);
  if (found.status) {
    const text = { 400: 'bad request', 403: 'forbidden', 404: 'not found' }[found.status];
    return send(res, found.status, text);
  }
  const { file, stat } = found;
  const size = stat.size;
  const etag = `"${size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  const headers = {
    'Content-Type': TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Last-Modified': stat.mtime.toUTCString(),
    ETag: etag,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': CSP,
  };
  let range = parseRange(req.headers.range, size);
  // If-Range with another validator: send the whole (changed) file
  if (range && req.headers['if-range'] && req.headers['if-range'] !== etag) range = null;
  if (range === 'unsatisfiable') {
    return send(res, 416, 'range not satisfiable', { 'Content-Range': `bytes */${size}` });
  }
  if (!range && req.headers['if-none-match'] === etag) {
    res.writeHead(304, { ETag: etag, 'Cache-Control': 'no-cache' });
    return res.end();
  }
  let status = 200, start = 0, end = size - 1;
  if (range) {
    status = 206;
    ({ start, end } = range);
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['Content-Length'] = size === 0 ? 0 : end - start + 1;
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || size === 0) return res.end();
  const stream = fs.createReadStream(file, { start, end });
  stream.on('error', (err) => {
    console.error(`serve: reading ${file}: ${err.message}`);
    res.destroy(err);
  });
  stream.pipe(res);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const roots = {};
  for (const key of ['root', 'store']) {
    if (!opts[key]) continue;
    try {
      roots[key] = await fsp.realpath(opts[key]);
      if (!(await fsp.stat(roots[key])).isDirectory()) throw new Error('not a folder');
    } catch (err) {
      usage(`--${key} ${opts[key]}: ${err.code === 'ENOENT' ? 'no such folder' : err.message}`);
    }
  }
  const server = http.createServer((req, res) => {
    handle(roots, req, res).catch((err) => {
      console.error(`serve: ${req.method} ${req.url}: ${err.stack || err}`);
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    });
  });
  server.on('error', (err) => {
    console.error(`serve: ${err.message}`);
    process.exit(1);
  });
  server.listen(opts.port, '127.0.0.1', () => {
    console.log(`viewer: http://127.0.0.1:${server.address().port}/`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main();
}
