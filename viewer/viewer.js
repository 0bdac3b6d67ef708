// geoetl's night-light viewer: a static page over the files scripts/viewer.sh exports.
//   data/viewer.json        geoetl.viewer_manifest(product): bounds and the months' tiles
//   data/areas.geojson      geoetl.areas_geojson(product): the areas, latest month's metrics
//   data/series/<id>.json   geoetl.nightlight_series(id, product): an area's months
//   store/...               the extension's store folder (XYZ PNG tiles or .pmtiles archives)
// No framework and nothing from the network: Leaflet and pmtiles' browser bundle are copied
// beside the page by viewer/build.sh.
//
// For tests: window.geoetlViewer = {map, months, setMonth(indexOrYYYYMM), ready, openArea(id),
// areaLayer(id)}; setMonth's promise resolves once the new month's visible tiles have loaded,
// ready once the manifest, the areas and the first month's tiles have.
(function () {
  'use strict';

  // A 1x1 transparent GIF: what an absent tile shows (XYZ folders hold no empty tiles).
  const TRANSPARENT = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';
  const MAX_ZOOM = 14;
  const LEGEND_VALUES = [0, 1, 10, 100];
  const OUTLINE = { color: '#dcdcf0', weight: 1.2, opacity: 0.85, fill: true, fillColor: '#ffffff', fillOpacity: 0 };
  const OUTLINE_HOVER = { weight: 2.4, opacity: 1 };
  const OUTLINE_SELECTED = { color: '#ffd27a', weight: 2.4, opacity: 1 };

  // Position of a radiance (nW/cm²/sr) on the colour ramp: as src/core/tiles/ramp.cpp.
  const rampPosition = (v) => (v > 0 ? Math.min(1, Math.log10(1 + v) / Math.log10(101)) : 0);

  const $ = (id) => document.getElementById(id);
  const slider = $('month');
  const monthLabel = $('month-label');

  const state = {
    manifest: null,
    months: [],          // the manifest's month entries, ascending
    index: -1,           // the month shown (or being switched to)
    current: null,       // the tile layer whose tiles are shown
    currentIndex: -1,
    onMap: new Set(),    // tile layers on the map (the current one and ones still loading)
    token: 0,            // setMonth calls, newest wins
    archives: new Map(), // .pmtiles URL -> pmtiles.PMTiles
    areas: null,         // L.GeoJSON
    areaById: new Map(),
    selected: null,
    panelToken: 0,
  };

  const map = L.map('map', {
    minZoom: 0,
    maxZoom: MAX_ZOOM,
    fadeAnimation: false, // tiles show at once: setMonth's promise means "what you see is the month"
    worldCopyJump: false,
  }).setView([0, 0], 2);

  // ---------------------------------------------------------------------------- messages
  // parts: strings and ['code', text] pairs; built with DOM nodes, never innerHTML.
  function showMessage(parts) {
    const box = $('message');
    box.replaceChildren(...parts.map((p) => {
      if (!Array.isArray(p)) return document.createTextNode(p);
      const el = document.createElement(p[0]);
      el.textContent = p[1];
      return el;
    }));
    box.hidden = false;
  }

  async function fetchJSON(url) {
    const res = await fetch(url, { cache: 'no-cache' });
    if (!res.ok) {
      const err = new Error(`${url}: HTTP ${res.status}`);
      err.status = res.status;
      throw err;
    }
    try {
      return await res.json();
    } catch (e) {
      throw new Error(`${url}: not valid JSON (${e.message})`);
    }
  }

  // ---------------------------------------------------------------------------- tile layers
  // An archive's tiles through pmtiles' reader (HTTP range requests); like pmtiles'
  // leafletRasterLayer, but an absent tile counts as loaded (so the layer's `load` event
  // fires) and a tile is done only once its image has decoded.
  const PmtilesLayer = L.GridLayer.extend({
    initialize(archive, mime, options) {
      this._archive = archive;
      this._mime = mime;
      L.GridLayer.prototype.initialize.call(this, options);
    },
    createTile(coords, done) {
      const img = document.createElement('img');
      img.alt = '';
      img.setAttribute('role', 'presentation');
      const controller = new AbortController();
      img._abort = () => controller.abort();
      this._archive.getZxy(coords.z, coords.x, coords.y, controller.signal).then((tile) => {
        img._abort = null;
        if (!tile || !tile.data || tile.data.byteLength === 0) {
          // no tile here: a transparent image (an <img> without a source would draw a frame)
          img.onload = () => done(null, img);
          img.src = TRANSPARENT;
          return;
        }
        const url = URL.createObjectURL(new Blob([tile.data], { type: this._mime }));
        img.onload = () => { URL.revokeObjectURL(url); done(null, img); };
        img.onerror = () => {
          URL.revokeObjectURL(url);
          img.onerror = null;
          img.src = TRANSPARENT;
          done(new Error('undecodable tile'), img);
        };
        img.src = url;
      }).catch((err) => {
        if (err && err.name === 'AbortError') return;
        img.src = TRANSPARENT;
        done(err, img); // a `tileerror` event, no console noise
      });
      return img;
    },
    _removeTile(key) {
      const tile = this._tiles[key];
      if (tile && tile.el._abort) tile.el._abort();
      L.GridLayer.prototype._removeTile.call(this, key);
    },
  });

  const TILE_MIME = { 2: 'image/png', 3: 'image/jpeg', 4: 'image/webp', 5: 'image/avif' };

  function archive(url) {
    if (!state.archives.has(url)) state.archives.set(url, new pmtiles.PMTiles(url));
    return state.archives.get(url);
  }

  function layerBounds() {
    const b = state.manifest.bounds;
    if (!validBounds(b)) return undefined;
    return L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
  }

  async function makeLayer(entry) {
    const options = {
      minNativeZoom: Number.isInteger(entry.min_zoom) ? entry.min_zoom : 0,
      maxNativeZoom: Number.isInteger(entry.max_zoom) ? entry.max_zoom : 8,
      maxZoom: MAX_ZOOM,
      bounds: layerBounds(),
      noWrap: true,
      className: 'night-lights',
    };
    if (entry.format === 'pmtiles') {
      const a = archive(entry.tiles);
      const header = await a.getHeader();
      const mime = TILE_MIME[header.tileType];
      if (!mime) throw new Error(`${entry.tiles}: not an archive of raster tiles (tile type ${header.tileType})`);
      options.minNativeZoom = header.minZoom;
      options.maxNativeZoom = header.maxZoom;
      return new PmtilesLayer(a, mime, options);
    }
    if (entry.format && entry.format !== 'xyz') throw new Error(`unknown tile format ${entry.format}`);
    return L.tileLayer(entry.tiles, { ...options, errorTileUrl: TRANSPARENT });
  }

  // Resolves once the layer has no tile left to load.
  function loaded(layer) {
    return new Promise((resolve) => {
      if (!layer.isLoading()) resolve();
      else layer.once('load', () => resolve());
    });
  }

  const painted = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));

  function monthIndex(which) {
    if (typeof which === 'number') return Number.isInteger(which) && which >= 0 && which < state.months.length ? which : -1;
    return state.months.findIndex((m) => m.month === String(which));
  }

  function showMonthLabel(i) {
    slider.value = String(i);
    monthLabel.textContent = state.months[i].month;
    slider.setAttribute('aria-valuetext', state.months[i].month);
  }

  // Shows month `which` (an index into months or 'YYYY-MM'). The month shown so far stays
  // until the new one's visible tiles have loaded; a newer call supersedes an older one.
  function setMonth(which) {
    const i = monthIndex(which);
    if (i < 0) return Promise.reject(new Error(`no month ${which} in data/viewer.json`));
    const token = ++state.token;
    state.index = i;
    showMonthLabel(i);
    return (async () => {
      let layer = state.current && state.currentIndex === i ? state.current : null;
      if (!layer) {
        layer = await makeLayer(state.months[i]);
        if (token !== state.token) return;
        layer.addTo(map);
        state.onMap.add(layer);
      }
      await loaded(layer);
      if (token !== state.token) {
        if (layer !== state.current) { map.removeLayer(layer); state.onMap.delete(layer); }
        return;
      }
      for (const other of state.onMap) {
        if (other !== layer) { map.removeLayer(other); state.onMap.delete(other); }
      }
      state.current = layer;
      state.currentIndex = i;
      await painted();
    })();
  }

  // ---------------------------------------------------------------------------- legend
  function addLegend() {
    const legend = L.control({ position: 'bottomleft' });
    legend.onAdd = () => {
      const div = L.DomUtil.create('div', 'legend');
      const title = L.DomUtil.create('div', 'title', div);
      title.textContent = 'Radiance, nW/cm²/sr (log scale)';
      const img = L.DomUtil.create('img', '', div);
      img.src = 'legend.png';
      img.alt = 'colour ramp from dark purple (no light) through purple, red, orange and yellow to white (100 and more)';
      const ticks = L.DomUtil.create('div', 'ticks', div);
      LEGEND_VALUES.forEach((v, k) => {
        const span = L.DomUtil.create('span', k === 0 ? 'first' : k === LEGEND_VALUES.length - 1 ? 'last' : '', ticks);
        span.style.left = `${(rampPosition(v) * 100).toFixed(2)}%`;
        span.textContent = String(v);
      });
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    legend.addTo(map);
  }

  // ---------------------------------------------------------------------------- areas
  const areaId = (f) => (f.id !== undefined && f.id !== null ? f.id : f.properties && f.properties.area_id);

  function addAreas(geojson) {
    state.areas = L.geoJSON(geojson, {
      style: () => ({ ...OUTLINE }),
      onEachFeature: (feature, layer) => {
        const id = areaId(feature);
        state.areaById.set(String(id), layer);
        const name = (feature.properties && feature.properties.name) || `area ${id}`;
        // a DOM node, never a string: Leaflet puts strings in as HTML
        const tip = document.createElement('span');
        tip.textContent = name;
        layer.bindTooltip(tip, { sticky: true, className: 'area-tip', direction: 'top' });
        layer.on('mouseover', () => { if (state.selected !== layer) layer.setStyle(OUTLINE_HOVER); });
        layer.on('mouseout', () => { if (state.selected !== layer) layer.setStyle(OUTLINE); });
        layer.on('click', () => { openArea(id); });
      },
    }).addTo(map);
  }

  const fmt = (v, digits = 3) => {
    if (v === null || v === undefined || !Number.isFinite(Number(v))) return '–';
    const n = Number(v);
    if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en');
    return Number(n.toPrecision(digits)).toLocaleString('en', { maximumFractionDigits: 6 });
  };
  const pct = (v) => (v === null || v === undefined || !Number.isFinite(Number(v)) ? '–' : `${fmt(Number(v) * 100)}%`);

  function closePanel() {
    $('panel').hidden = true;
    state.panelToken++;
    if (state.selected) state.selected.setStyle(OUTLINE);
    state.selected = null;
  }

  // Opens the panel of area `id`; resolves once its charts are drawn (or it says why not).
  async function openArea(id) {
    const layer = state.areaById.get(String(id));
    if (!layer) throw new Error(`no area ${id}`);
    const p = layer.feature.properties || {};
    if (state.selected && state.selected !== layer) state.selected.setStyle(OUTLINE);
    state.selected = layer;
    layer.setStyle(OUTLINE_SELECTED);
    const token = ++state.panelToken;
    $('panel-title').textContent = p.name || `area ${id}`;
    $('panel-latest').textContent = p.month
      ? `${p.month}: sum of lights ${fmt(p.sum_of_lights)}, lit share ${pct(p.lit_share)}, coverage ${pct(p.coverage)}`
      : '';
    const charts = $('panel-charts');
    charts.textContent = 'Loading the monthly series…';
    $('panel').hidden = false;
    let series;
    try {
      series = await fetchJSON(`data/series/${encodeURIComponent(id)}.json`);
    } catch (e) {
      if (token === state.panelToken) charts.textContent = `No monthly series for this area (${e.message}).`;
      return;
    }
    if (token !== state.panelToken) return;
    const months = Array.isArray(series.months) ? series.months : [];
    if (months.length === 0) {
      charts.textContent = 'No months measured for this area yet.';
      return;
    }
    const labels = months.map((m) => m.month);
    const num = (v) => (v === null || v === undefined || !Number.isFinite(Number(v)) ? null : Number(v));
    charts.replaceChildren(
      lineChart('sum_of_lights', 'Sum of lights (nW/cm²/sr, summed over the area)', labels,
        months.map((m) => num(m.sum_of_lights)), fmt),
      lineChart('lit_share', 'Lit share (% of the area\'s pixels with light)', labels,
        months.map((m) => { const v = num(m.lit_share); return v === null ? null : v * 100; }), (v) => `${fmt(v)}%`),
    );
  }

  // ---------------------------------------------------------------------------- charts
  const SVG = 'http://www.w3.org/2000/svg';
  function svgEl(name, attrs, parent) {
    const el = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    if (parent) parent.appendChild(el);
    return el;
  }

  function niceCeil(v) {
    if (!(v > 0)) return 1;
    const e = Math.pow(10, Math.floor(Math.log10(v)));
    const f = v / e;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e;
  }

  // A line chart of values (null = a gap) over month labels, with axes, month labels and values.
  function lineChart(key, title, labels, values, format) {
    const W = 360, H = 160, L0 = 46, R = 24, T = 10, B = 30;
    const LABEL = 50; // room for a YYYY-MM label under the axis
    const box = document.createElement('figure');
    box.className = `chart ${key}`;
    box.style.margin = '0 0 0.8em';
    const h3 = document.createElement('h3');
    h3.textContent = title;
    box.appendChild(h3);
    const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title, 'data-series': key }, box);
    const n = labels.length;
    const finite = values.filter((v) => v !== null);
    const top = niceCeil(Math.max(0, ...finite));
    const bottom = Math.min(0, ...finite);
    const x = (i) => (n === 1 ? (L0 + W - R) / 2 : L0 + (i * (W - L0 - R)) / (n - 1));
    const y = (v) => T + (H - T - B) * (1 - (v - bottom) / (top - bottom || 1));
    // y axis: grid and values at bottom, middle, top
    for (const v of [bottom, (bottom + top) / 2, top]) {
      svgEl('line', { class: 'grid', x1: L0, x2: W - R, y1: y(v), y2: y(v) }, svg);
      const t = svgEl('text', { x: L0 - 5, y: y(v) + 3.5, 'text-anchor': 'end' }, svg);
      t.textContent = format(v);
    }
    svgEl('line', { class: 'axis', x1: L0, x2: L0, y1: T, y2: H - B }, svg);
    svgEl('line', { class: 'axis', x1: L0, x2: W - R, y1: H - B, y2: H - B }, svg);
    // x axis: a tick per month, labels as many as fit, always the first and the last
    const spacing = n > 1 ? (W - L0 - R) / (n - 1) : W;
    const step = Math.max(1, Math.ceil(LABEL / spacing));
    labels.forEach((m, i) => {
      const last = i === n - 1;
      svgEl('line', { class: 'axis', x1: x(i), x2: x(i), y1: H - B, y2: H - B + 3 }, svg);
      if (i % step !== 0 && !last) return;
      if (!last && i !== 0 && (n - 1 - i) * spacing < LABEL) return; // would crowd the last label
      svgEl('line', { class: 'axis', x1: x(i), x2: x(i), y1: H - B, y2: H - B + 5 }, svg);
      const t = svgEl('text', { x: x(i), y: H - B + 16, 'text-anchor': 'middle' }, svg);
      t.textContent = m;
    });
    if (finite.length === 0) {
      const t = svgEl('text', { class: 'empty', x: (L0 + W - R) / 2, y: (T + H - B) / 2, 'text-anchor': 'middle' }, svg);
      t.textContent = 'no values';
      return box;
    }
    // the line (a new subpath after a gap) and a dot per value, titled "month: value"
    let d = '', pen = false;
    values.forEach((v, i) => {
      if (v === null) { pen = false; return; }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    svgEl('path', { class: 'series', d, 'data-points': finite.length }, svg);
    values.forEach((v, i) => {
      if (v === null) return;
      const c = svgEl('circle', { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2.6 }, svg);
      svgEl('title', {}, c).textContent = `${labels[i]}: ${format(v)}`;
    });
    // the latest value, written beside the last dot
    const lastI = values.map((v) => v !== null).lastIndexOf(true);
    const t = svgEl('text', { x: x(lastI) - 4, y: y(values[lastI]) - 6, 'text-anchor': 'end', class: 'value' }, svg);
    t.textContent = format(values[lastI]);
    return box;
  }

  // ---------------------------------------------------------------------------- start
  function validBounds(b) {
    return Array.isArray(b) && b.length === 4 && b.every(Number.isFinite) && b[0] < b[2] && b[1] < b[3];
  }

  async function start() {
    let manifest;
    try {
      manifest = await fetchJSON('data/viewer.json');
    } catch (e) {
      showMessage(location.protocol === 'file:'
        ? ['This page reads its data over HTTP: open it through ', ['code', 'scripts/viewer.sh'], ', which serves it.']
        : ['No map data: ', ['code', 'data/viewer.json'], ` could not be read (${e.status ? `HTTP ${e.status}` : e.message}). `,
          'Run ', ['code', 'scripts/viewer.sh'], ', which exports it from the database with ',
          ['code', "SELECT geoetl.viewer_manifest('VNP46A2')"], '.']);
      throw e;
    }
    state.manifest = manifest;
    const product = manifest.product || 'night lights';
    $('product').textContent = `${product} · night lights`;
    document.title = `geoetl · ${product} night lights`;
    map.attributionControl.addAttribution(`Night lights: NASA Black Marble ${product}, rendered by geoetl`);
    addLegend();

    let areas = null;
    try {
      areas = await fetchJSON('data/areas.geojson');
      addAreas(areas);
    } catch (e) {
      console.warn(`geoetl viewer: no areas (${e.message})`);
    }
    if (validBounds(manifest.bounds)) {
      const [w, s, e, n] = manifest.bounds;
      map.fitBounds([[s, w], [n, e]], { padding: [16, 16], animate: false });
    } else if (state.areas && state.areas.getBounds().isValid()) {
      map.fitBounds(state.areas.getBounds(), { padding: [16, 16], animate: false });
    }

    const months = Array.isArray(manifest.months) ? manifest.months.filter((m) => m && m.month && m.tiles) : [];
    months.sort((a, b) => (a.month < b.month ? -1 : a.month > b.month ? 1 : 0));
    state.months.push(...months);
    if (months.length === 0) {
      showMessage([`No night-light tiles for ${product} yet: `, ['code', 'data/viewer.json'],
        ' lists no months. Render the monthly tiles, then run ', ['code', 'scripts/viewer.sh'], ' again.']);
      throw new Error('no months in data/viewer.json');
    }
    slider.max = String(months.length - 1);
    slider.disabled = months.length === 1;
    $('month-control').hidden = false;
    slider.addEventListener('input', () => {
      setMonth(Number(slider.value)).catch((e) => showMessage([`Cannot show ${state.months[Number(slider.value)].month}: ${e.message}`]));
    });
    await setMonth(months.length - 1); // the latest month, the one areas.geojson's metrics are of
  }

  $('panel-close').addEventListener('click', closePanel);
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') closePanel(); });
  $('message').addEventListener('click', () => { if (state.months.length) $('message').hidden = true; });

  const ready = start();
  ready.catch(() => {}); // the page says what went wrong; ready still rejects for a test

  window.geoetlViewer = {
    map,
    get months() { return state.months.map((m) => m.month); },
    get month() { return state.index >= 0 ? state.months[state.index].month : null; },
    setMonth,
    ready,
    openArea,
    areaLayer: (id) => state.areaById.get(String(id)),
  };
})();
