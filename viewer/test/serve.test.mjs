// The viewer's static server (viewer/serve.mjs): ranges, types, HEAD, refusals, shutdown.
//   node --test viewer/test/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'serve.mjs');
let tmp, server, port;
const BODY = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));

// A raw request: the path goes out exactly as written (no URL normalisation of `..`).
function request(method, rawPath, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geoetl-serve-test-'));
  const root = path.join(tmp, 'root'), store = path.join(tmp, 'store');
  fs.mkdirSync(path.join(root, 'data'), { recursive: true });
  fs.mkdirSync(path.join(store, 'tiles', 'P'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>t</title>');
  fs.writeFileSync(path.join(root, 'viewer.js'), 'let a = 1;');
  fs.writeFileSync(path.join(root, 'data', 'viewer.json'), '{}');
  fs.writeFileSync(path.join(root, 'data', 'areas.geojson'), '{}');
  fs.writeFileSync(path.join(store, 'tiles', 'P', '2024-01.pmtiles'), BODY);
  fs.writeFileSync(path.join(store, 'tiles', 'P', 'empty.png'), '');
  // what else a store holds: never served
  fs.mkdirSync(path.join(store, '.staging'), { recursive: true });
  fs.mkdirSync(path.join(store, 'espi', 'raw'), { recursive: true });
  fs.writeFileSync(path.join(store, '.staging', 'undo-1.xml'), 'private staging');
  fs.writeFileSync(path.join(store, 'espi', 'raw', 'p_1_0.xml'), 'private readings');
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'secret');
  fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(root, 'escape.txt'));
  fs.symlinkSync(path.join(root, 'viewer.js'), path.join(root, 'alias.js'));
  server = spawn(process.execPath, [SERVE, '--root', root, '--store', store, '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    server.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const m = /^viewer: http:\/\/127\.0\.0\.1:(\d+)\/$/.exec(line);
  assert.ok(m, `listening line: ${line}`);
  port = Number(m[1]);
});

after(() => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('serves the page at / with types', async () => {
  const index = await request('GET', '/');
  assert.equal(index.status, 200);
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(index.body.toString(), /<title>t<\/title>/);
  for (const [p, type] of [['/viewer.js', 'text/javascript; charset=utf-8'],
    ['/data/viewer.json', 'application/json'], ['/data/areas.geojson', 'application/geo+json'],
    ['/store/tiles/P/2024-01.pmtiles', 'application/octet-stream'],
    ['/store/tiles/P/empty.png', 'image/png']]) {
    const r = await request('GET', p);
    assert.equal(r.status, 200, p);
    assert.equal(r.headers['content-type'], type, p);
  }
});

test('whole file, HEAD, and an empty file', async () => {
  const get = await request('GET', '/store/tiles/P/2024-01.pmtiles');
  assert.equal(get.headers['accept-ranges'], 'bytes');
  assert.equal(get.headers['content-length'], '1000');
  assert.ok(get.body.equals(BODY));
  const head = await request('HEAD', '/store/tiles/P/2024-01.pmtiles');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '1000');
  assert.equal(head.body.length, 0);
  const empty = await request('GET', '/store/tiles/P/empty.png');
  assert.equal(empty.headers['content-length'], '0');
  assert.equal(empty.body.length, 0);
});

test('byte ranges: a-b, a-, -n, clamped end', async () => {
  const cases = [['bytes=0-126', 0, 126], ['bytes=10-19', 10, 19], ['bytes=990-', 990, 999],
    ['bytes=-10', 990, 999], ['bytes=-5000', 0, 999], ['bytes=995-5000', 995, 999],
    ['bytes=999-999', 999, 999]];
  for (const [range, start, end] of cases) {
    const r = await request('GET', '/store/tiles/P/2024-01.pmtiles', { Range: range });
    assert.equal(r.status, 206, range);
    assert.equal(r.headers['content-range'], `bytes ${start}-${end}/1000`, range);
    assert.equal(r.headers['content-length'], String(end - start + 1), range);
    assert.ok(r.body.equals(BODY.subarray(start, end + 1)), range);
  }
  const head = await request('HEAD', '/store/tiles/P/2024-01.pmtiles', { Range: 'bytes=0-99' });
  assert.equal(head.status, 206);
  assert.equal(head.headers['content-length'], '100');
  assert.equal(head.body.length, 0);
});

test('unsatisfiable ranges are 416, malformed ones ignored', async () => {
  for (const range of ['bytes=1000-', 'bytes=1000-1001', 'bytes=-0']) {
    const r = await request('GET', '/store/tiles/P/2024-01.pmtiles', { Range: range });
    assert.equal(r.status, 416, range);
    assert.equal(r.headers['content-range'], 'bytes */1000', range);
  }
  const emptyFile = await request('GET', '/store/tiles/P/empty.png', { Range: 'bytes=0-' });
  assert.equal(emptyFile.status, 416);
  for (const range of ['bytes=5-1', 'items=0-1', 'bytes=0-1,5-6', 'bytes=-']) {
    const r = await request('GET', '/store/tiles/P/2024-01.pmtiles', { Range: range });
    assert.equal(r.status, 200, range);
    assert.equal(r.body.length, 1000, range);
  }
});

test('refuses traversal, symlinks out of the root, listings and other methods', async () => {
  for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/data/..%2f..%2fsecret.txt',
    '/store/../../secret.txt', '/store/%2e%2e/root/index.html', '/data/%2e%2e/index.html']) {
    const r = await request('GET', p);
    assert.equal(r.status, 403, p);
    assert.ok(!r.body.toString().includes('secret'), p);
  }
  const out = await request('GET', '/escape.txt');
  assert.equal(out.status, 403);
  assert.ok(!out.body.toString().includes('secret'));
  assert.equal((await request('GET', '/alias.js')).status, 200);
  for (const p of ['/data/', '/store/', '/store/tiles/P/', '/missing.png', '/store/tiles/P/9/9/9.png', '/%zz']) {
    const r = await request('GET', p);
    assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
    assert.ok(!r.body.toString().includes('2024-01'), p);
  }
  const post = await request('POST', '/');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
});

test('serves only the store\'s tiles, to its own host names, under a content security policy', async () => {
  for (const p of ['/store/.staging/undo-1.xml', '/store/espi/raw/p_1_0.xml', '/store/tiles/../espi/raw/p_1_0.xml']) {
    const r = await request('GET', p);
    assert.ok(r.status === 404 || r.status === 403, `${p}: ${r.status}`);
    assert.ok(!r.body.toString().includes('private'), p);
  }
  const tile = await request('GET', '/store/tiles/P/2024-01.pmtiles');
  assert.equal(tile.status, 200);
  assert.match(tile.headers['content-security-policy'], /default-src 'self'/);
  assert.match((await request('GET', '/')).headers['content-security-policy'], /default-src 'self'/);
  for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`]) {
    const r = await request('GET', '/store/tiles/P/2024-01.pmtiles', { Host: host });
    assert.equal(r.status, 421, host);
    assert.ok(!r.body.toString().includes('2024'), host);
  }
  assert.equal((await request('GET', '/', { Host: `localhost:${port}` })).status, 200);
});

test('exits 0 on SIGTERM', async () => {
  const code = await new Promise((resolve) => {
    server.on('exit', (c, sig) => resolve(c === null ? sig : c));
    server.kill('SIGTERM');
  });
  assert.equal(code, 0);
});
