// The viewer page in a real browser: Debian's chromium, headless, driven by puppeteer-core
// (from viewer/node_modules: viewer/build.sh installs it). Prints TAP; exits 1 on any failure.
//
//   node test/e2e/lib/viewer_check.mjs URL SHOTS_DIR CHECKS.json
//
// CHECKS.json, every key optional:
//   {"lit": [[lon, lat], ...],      bright in to_month (luminance well above the background)
//    "dark": [[lon, lat], ...],     the background colour, or near it, in every month shown
//    "changed": [[lon, lat], ...],  clearly different between from_month and to_month
//    "from_month": "2024-01", "to_month": "2024-12", "also_months": ["2024-06"],
//    "click_area": 1,               clicked on the map: the panel's charts must follow
//    "zoom": 9, "center": [lon, lat],
//    "expect_message": true}        the page has no data: it must say so (and nothing else is checked)
// Screenshots: SHOTS_DIR/from_month.png, to_month.png, month-YYYY-MM.png, chart.png.
// Counted as failures: console errors, page errors, failed requests and HTTP errors, except a
// 404 for a tile PNG under /store/tiles/ (empty tiles are not written) and the abort of a tile
// request that a view change cancelled (and, with expect_message, the 404 of data/viewer.json).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { decodePng } = await import(path.join(ROOT, 'viewer', 'png.mjs'));

const [url, shots, checksFile] = process.argv.slice(2);
if (!url || !shots || !checksFile) {
  console.error('usage: node test/e2e/lib/viewer_check.mjs URL SHOTS_DIR CHECKS.json');
  process.exit(2);
}
let puppeteer;
try {
  puppeteer = createRequire(path.join(ROOT, 'viewer', 'package.json'))('puppeteer-core');
} catch (e) {
  console.error(`viewer_check: puppeteer-core missing (run viewer/build.sh first): ${e.message}`);
  process.exit(2);
}
const checks = JSON.parse(fs.readFileSync(checksFile, 'utf8'));
fs.mkdirSync(shots, { recursive: true });

let n = 0, failed = 0;
function ok(cond, what, detail) {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${what}`);
  if (!cond && detail) for (const line of String(detail).split('\n')) console.log(`#   ${line}`);
  return cond;
}

const TILE_PNG = /\/store\/tiles\/.*\.png(\?.*)?$/;
// without data (expect_message), the manifest's own 404 is the point of the check
const MANIFEST = /\/data\/viewer\.json(\?.*)?$/;
const expected404 = (u) => TILE_PNG.test(u) || (checks.expect_message && MANIFEST.test(u));
const TILE_ANY = /\/store\/tiles\/.*\.(png|pmtiles)(\?.*)?$/;
const problems = { console: [], page: [], requests: [] };
let ignored404 = 0, ignoredAborts = 0;

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--hide-scrollbars', '--force-color-profile=srgb'],
  defaultViewport: { width: 1024, height: 768, deviceScaleFactor: 1 },
});
const timeout = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref());

try {
  const page = await browser.newPage();
  page.setDefaultTimeout(30000);
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = (msg.location() && msg.location().url) || '';
    if (/status of 404/.test(msg.text()) && expected404(where)) { ignored404++; return; }
    problems.console.push(`${msg.text()}${where ? ` (${where})` : ''}`);
  });
  page.on('pageerror', (err) => problems.page.push(String(err && err.stack ? err.stack : err)));
  page.on('requestfailed', (req) => {
    const why = req.failure() ? req.failure().errorText : 'failed';
    if (why === 'net::ERR_ABORTED' && TILE_ANY.test(req.url())) { ignoredAborts++; return; }
    problems.requests.push(`${req.method()} ${req.url()}: ${why}`);
  });
  page.on('response', (res) => {
    if (res.status() < 400) return;
    if (res.status() === 404 && expected404(res.url())) return; // counted by the console handler
    problems.requests.push(`${res.request().method()} ${res.url()}: HTTP ${res.status()}`);
  });

  await page.goto(url, { waitUntil: 'load' });
  const readiness = await Promise.race([
    page.evaluate(() => window.geoetlViewer.ready.then(() => 'ready', (e) => `rejected: ${e.message}`)),
    timeout(45000, 'geoetlViewer.ready'),
  ]).catch((e) => e.message);

  if (checks.expect_message) {
    const message = await page.$eval('#message', (el) => (el.hidden ? '' : el.textContent));
    ok(readiness.startsWith('rejected'), 'without data, geoetlViewer.ready rejects', readiness);
    ok(message.length > 20, 'without data, the page says what is missing', message || '(no message shown)');
    await page.screenshot({ path: path.join(shots, 'message.png') });
    console.log(`# message: ${message}`);
  } else {
    if (!ok(readiness === 'ready', 'geoetlViewer.ready resolves (manifest, areas, first month\'s tiles)', readiness)) {
      throw new Error('the page never became ready');
    }
    const months = await page.evaluate(() => window.geoetlViewer.months);
    console.log(`# months: ${months.join(' ')}`);
    const from = checks.from_month || months[0];
    const to = checks.to_month || months[months.length - 1];
    ok(months.includes(from) && months.includes(to), `the manifest's months include ${from} and ${to}`, months.join(' '));

    if (checks.center || checks.zoom !== undefined) {
      await page.evaluate(({ center, zoom }) => {
        const map = window.geoetlViewer.map;
        map.setView(center ? [center[1], center[0]] : map.getCenter(), zoom !== undefined ? zoom : map.getZoom(), { animate: false });
      }, { center: checks.center, zoom: checks.zoom });
    }

    // page pixel position of each point of interest
    const points = [...(checks.lit || []), ...(checks.dark || []), ...(checks.changed || [])];
    const where = await page.evaluate((pts) => {
      const map = window.geoetlViewer.map;
      const r = map.getContainer().getBoundingClientRect();
      const bg = getComputedStyle(map.getContainer()).backgroundColor;
      return { bg, px: pts.map(([lon, lat]) => {
        const p = map.latLngToContainerPoint([lat, lon]);
        return [Math.round(r.left + p.x), Math.round(r.top + p.y)];
      }) };
    }, points);
    const pixelOf = (lonlat) => where.px[points.findIndex((p) => p === lonlat)];
    const bg = (where.bg.match(/\d+/g) || [0, 0, 0]).slice(0, 3).map(Number);
    console.log(`# map background rgb(${bg.join(',')})`);
    for (const [k, lonlat] of points.entries()) {
      const [x, y] = where.px[k];
      ok(x >= 2 && y >= 2 && x < 1022 && y < 766, `point ${lonlat} is in the viewport at ${x},${y}`);
    }

    // each month: switch, wait for its tiles, screenshot, read the points
    const shot = {};
    const sample = (png, [x, y]) => { // mean RGB of the 3x3 block around (x, y)
      const s = [0, 0, 0];
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const i = ((y + dy) * png.width + (x + dx)) * 4;
        for (let c = 0; c < 3; c++) s[c] += png.data[i + c] / 9;
      }
      return s.map(Math.round);
    };
    const order = [from, ...(checks.also_months || []).filter((m) => m !== from && m !== to), to];
    for (const m of order) {
      const res = await Promise.race([
        page.evaluate((mm) => window.geoetlViewer.setMonth(mm).then(() => 'ok', (e) => e.message), m),
        timeout(30000, `setMonth(${m})`),
      ]).catch((e) => e.message);
      ok(res === 'ok', `setMonth('${m}') resolves once its tiles have loaded`, res);
      const label = await page.$eval('#month-label', (el) => el.textContent);
      ok(label === m, `the slider's label shows ${m}`, label);
      const file = path.join(shots, m === from ? 'from_month.png' : m === to ? 'to_month.png' : `month-${m}.png`);
      const buf = await page.screenshot({ path: file });
      shot[m] = decodePng(Buffer.from(buf));
      console.log(`# ${m}: ${file}`);
    }

    const lum = ([r, g, b]) => 0.2126 * r + 0.7152 * g + 0.0722 * b;
    const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    for (const p of checks.lit || []) {
      const c = sample(shot[to], pixelOf(p));
      ok(lum(c) >= lum(bg) + 80, `lit point ${p} is bright in ${to}`, `rgb(${c}) against background rgb(${bg})`);
    }
    for (const p of checks.dark || []) {
      for (const m of order) {
        const c = sample(shot[m], pixelOf(p));
        ok(dist(c, bg) <= 24, `dark point ${p} shows the background in ${m}`, `rgb(${c}) against background rgb(${bg})`);
      }
    }
    for (const p of checks.changed || []) {
      const a = sample(shot[from], pixelOf(p)), b = sample(shot[to], pixelOf(p));
      ok(dist(a, b) >= 60, `point ${p} changed between ${from} and ${to}`, `rgb(${a}) then rgb(${b})`);
    }

    // the slider itself: the keyboard moves it a month back, the map follows
    if (months.length > 1) {
      await page.evaluate(() => window.geoetlViewer.setMonth(window.geoetlViewer.months.length - 1));
      await page.focus('#month');
      await page.keyboard.press('ArrowLeft');
      const want = months[months.length - 2];
      const followed = await page.waitForFunction((m) => window.geoetlViewer.month === m
        && document.getElementById('month-label').textContent === m, { timeout: 10000 }, want).then(() => true, () => false);
      ok(followed, `the slider's arrow key goes back to ${want}`);
      await page.evaluate((m) => window.geoetlViewer.setMonth(m), to);
    }

    // every area's name shown as text: an HTML-like name neither runs nor becomes markup
    const names = await page.evaluate(async () => {
      const v = window.geoetlViewer;
      const shown = [];
      v.map.eachLayer((l) => {
        if (l.feature && l.getTooltip && l.getTooltip()) {
          l.openTooltip();
          const el = l.getTooltip().getElement();
          shown.push({ name: l.feature.properties.name, text: el ? el.textContent : null,
                       markup: el ? el.querySelectorAll('img, script, iframe').length : -1 });
          l.closeTooltip();
        }
      });
      await new Promise((r) => setTimeout(r, 300));
      return { shown, xss: window.__xss === undefined ? null : window.__xss };
    });
    ok(names.shown.length > 0 && names.shown.every((s) => s.text === s.name && s.markup === 0) && names.xss === null,
       'area names are shown as text, never run as markup', JSON.stringify(names));

    if (checks.click_area !== undefined) {
      const id = checks.click_area;
      const target = await page.evaluate((areaId) => {
        const v = window.geoetlViewer;
        const layer = v.areaLayer(areaId);
        if (!layer) return null;
        const r = v.map.getContainer().getBoundingClientRect();
        const p = v.map.latLngToContainerPoint(layer.getCenter());
        return { x: Math.round(r.left + p.x), y: Math.round(r.top + p.y), name: layer.feature.properties.name };
      }, id);
      if (ok(target !== null, `area ${id} is on the map`)) {
        const hit = await page.evaluate(({ x, y }) => {
          const el = document.elementFromPoint(x, y);
          return el ? `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}` : 'nothing';
        }, target);
        ok(/leaflet-interactive/.test(hit), `area ${id}'s centre (${target.x},${target.y}) is clickable`, `topmost element there: ${hit}`);
        await page.mouse.click(target.x, target.y);
        const drawn = await page.waitForFunction(() => {
          const panel = document.getElementById('panel');
          return !panel.hidden && document.querySelectorAll('#panel svg path.series').length >= 2;
        }, { timeout: 15000 }).then(() => true, () => false);
        ok(drawn, `clicking area ${id} opens the panel with its charts`);
        const info = await page.evaluate(async (areaId) => {
          const series = await (await fetch(`data/series/${areaId}.json`)).json();
          const paths = [...document.querySelectorAll('#panel svg[data-series]')].map((svg) => {
            const path = svg.querySelector('path.series');
            return {
              key: svg.getAttribute('data-series'),
              points: path ? (path.getAttribute('d').match(/[ML]/g) || []).length : 0,
              text: [...svg.querySelectorAll('text')].map((t) => t.textContent),
            };
          });
          return { title: document.getElementById('panel-title').textContent, months: series.months.map((m) => m.month), paths };
        }, id);
        ok(info.title === target.name, `the panel is titled ${target.name}`, info.title);
        for (const key of ['sum_of_lights', 'lit_share']) {
          const p = info.paths.find((q) => q.key === key);
          ok(p && p.points === info.months.length, `the ${key} chart has a point per month (${info.months.length})`,
            p ? `${p.points} points` : 'no such chart');
          ok(p && p.text.includes(info.months[0]) && p.text.includes(info.months[info.months.length - 1]),
            `the ${key} chart labels its first and last months`, p ? p.text.join(' | ') : '');
        }
        await page.screenshot({ path: path.join(shots, 'chart.png') });
        console.log(`# chart: ${path.join(shots, 'chart.png')}`);
      }
    }
  }

  await new Promise((r) => setTimeout(r, 300)); // late console messages
  ok(problems.console.length === 0, 'no console errors', problems.console.join('\n'));
  ok(problems.page.length === 0, 'no page errors', problems.page.join('\n'));
  ok(problems.requests.length === 0, 'no failed requests', problems.requests.join('\n'));
  console.log(`# ignored: ${ignored404} expected 404s, ${ignoredAborts} cancelled tile requests`);
} catch (e) {
  ok(false, 'the check ran to its end', e.stack || e);
} finally {
  await browser.close();
}
console.log(`1..${n}`);
console.log(`# ${n - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
