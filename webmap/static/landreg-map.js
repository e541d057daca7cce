/* landreg: the regional map — plots, markers, result list, search, filters, legend, permalink.
 * The folium-rendered page defines the Leaflet map (a global named in the config); this
 * script draws the plots from /api/plots and redraws them whenever a filter changes.
 *
 * - Every plot is an outline (visible from about zoom 13) AND a marker of a fixed size at a
 *   point inside it, so each plot is visible and clickable at region zoom; markers that
 *   would overlap are clustered (leaflet.markercluster), never drawn on top of each other.
 *   A marker opens the outline's popup, so the editor's buttons work from either.
 * - The result list beside the map holds the same plots (same filters, same count); its
 *   columns sort by click or keyboard; a row's name focuses the plot and opens its popup.
 * - With a purpose profile chosen, markers and list carry the plot's rank
 *   (/api/rankings/<profile>: `rank`, `count`, `region_rank`).
 * - Above cfg.tileThreshold matching plots (or ?tiles=1) the plots come from vector tiles
 *   (/tiles/plots/{z}/{x}/{y}.mvt) and the list shows the first page of the API.
 * Words and numbers come from window.LandregI18n (the one catalogue); API data reaches the
 * page only as text nodes (textContent), never as markup. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('landreg-config').textContent);
  var map = window[cfg.mapName];
  var I = window.LandregI18n;
  var T = function (key, params) { return I.t(key, params); };
  var form = document.getElementById('filters');
  var countEl = document.getElementById('count');
  var legendEl = document.getElementById('legend');
  var permalink = document.getElementById('permalink');
  var listBody = document.getElementById('results-body');
  var listNote = document.getElementById('results-note');
  var FILTERS = ['kommune', 'purpose_group', 'availability', 'min_daa', 'max_daa', 'byggeklar',
                 'within_min', 'to', 'road_km', 'junction_km', 'rail_km', 'station_km', 'q'];
  var DIST_KINDS = ['road', 'junction', 'rail', 'station'];
  var DRIVE_KEYS = ['gardermoen', 'oslo', 'alnabru', 'junction', 'station', 'border'];
  var LIST_LIMIT = 1000;  // rows of the list in tile mode (one API page)
  var request = 0;
  var present = false;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }
  function str(value) { return value === null || value === undefined ? '–' : String(value); }
  function num(value, digits) { return I.num(value, digits); }
  function km(metres) {
    return metres === null || metres === undefined ? '–' : num(metres / 1000, 1) + '\u00a0km';
  }
  function colourMode() { return form.elements.colour.value; }
  function profile() { return form.elements.profile.value; }
  function profileName() {
    var o = form.elements.profile.selectedOptions[0];
    return o ? o.text : '';
  }
  function destination() { return form.elements.to.value; }

  var scores = {};      // plot id -> ranking item of the chosen profile
  var ranking = null;   // the ranking body ({count, region_count, items}) or null
  var features = [];    // the matching plots (GeoJSON features; the list's rows)
  var picked = [];      // plot ids chosen for a side-by-side comparison (2–6)
  var compareLink = document.getElementById('compare-link');
  function updateCompare() {
    compareLink.textContent = T('compare') + ' (' + picked.length + ')';
    compareLink.hidden = picked.length < 2;
    compareLink.href = cfg.compare + '?profile=' + encodeURIComponent(profile() ||
      cfg.defaultProfile) + '&plots=' + picked.join(',') + '&' + exportQuery();  // ranked within the filters
  }
  map.getContainer().addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('button.pick');
    if (!button) { return; }
    var id = Number(button.dataset.id);
    var at = picked.indexOf(id);
    if (at >= 0) { picked.splice(at, 1); } else if (picked.length < 6) { picked.push(id); }
    button.textContent = picked.indexOf(id) >= 0 ? T('unpick') : T('pick');
    updateCompare();
  });
  var surface = null;
  function rampColour(score) {
    for (var i = 0; i < cfg.ramp.length; i++) {
      if (score <= cfg.ramp[i].to) { return cfg.ramp[i].colour; }
    }
    return cfg.ramp[cfg.ramp.length - 1].colour;
  }
  function colourOf(p) {
    if (colourMode() === 'score') {
      var s = scores[p.id];
      return s ? (s.excluded ? cfg.colours.excluded : rampColour(s.score)) : '#ffffff';
    }
    return colourMode() === 'purpose' ? cfg.colours.purpose[p.purpose_group]
                                      : cfg.colours.availability[p.availability];
  }
  function style(feature) {
    var c = colourOf(feature.properties) || '#333';
    return {color: c, fillColor: c, weight: 2, fillOpacity: 0.55, className: 'landreg-plot'};
  }

  /* --- the popup -------------------------------------------------------------------- */
  function rankText(s) {
    if (!s || s.rank === undefined || s.rank === null) { return ''; }
    var count = ranking && ranking.count !== undefined ? ranking.count : features.length;
    if (s.region_rank !== undefined && s.region_rank !== null) {
      return T('rank_label', {rank: s.rank, count: count, region_rank: s.region_rank});
    }
    return T('rank_label_selection', {rank: s.rank, count: count});
  }
  function distanceText(p) {
    var d = p.dist_m || {};
    return DIST_KINDS.filter(function (k) { return typeof d[k] === 'number'; })
      .map(function (k) { return T('map_dist_' + k) + ' ' + km(d[k]); }).join(' · ');
  }
  function driveText(p) {
    var dm = p.drive_min || {};
    return DRIVE_KEYS.filter(function (k) { return typeof dm[k] === 'number'; })
      .map(function (k) { return T('drive_' + k) + ' ' + num(dm[k], 0) + '\u00a0min'; })
      .join(' · ');
  }
  // a hard-limit breach as the engine writes it ("dist_main_road 6.2e+03 > 5000
  // (max_dist_main_road)") in words: "Avstand til E16/Rv2 6,2 km (grense 5,0 km)"
  function quantity(value, unit) {
    if (unit === 'm') { return km(value); }
    if (unit === 'andel') { return num(value * 100, 0) + '\u00a0%'; }
    if (unit === 'grader') { return num(value, 1) + '\u00b0'; }
    if (unit === 'daa') { return I.daa(value); }
    return num(value, 1) + (unit ? '\u00a0' + unit : '');
  }
  function reasonText(reason) {
    var m = /^(\w+) (\S+) ([<>]) (\S+) \((\w+)\)$/.exec(reason || '');
    if (!m) { return str(reason); }
    var c = m[1] === 'area_daa' ? [T('area'), 'daa'] : cfg.criteria[m[1]];
    if (!c) { return str(reason); }
    return T('map_reason', {what: c[0], value: quantity(Number(m[2]), c[1]),
                            bound: quantity(Number(m[4]), c[1])});
  }
  function popup(p) {
    var rows = [
      [T('kommune'), str(p.kommunenavn)],
      [T('arealformal'), str(p.arealformal_name)],
      [T('area'), I.daa(p.area_daa)],
      [T('availability'), I.value('availability', p.availability)],
      [T('readiness'), T('road') + ': ' + I.value('road_access', p.road_access) + ' · ' +
        T('water') + ': ' + I.value('water_sewer', p.water_sewer) + ' · ' + T('power') + ': ' +
        (p.power_capacity_mw === null || p.power_capacity_mw === undefined ? '–'
          : num(p.power_capacity_mw, 1) + '\u00a0MW')],
      [T('price'), p.price_nok_m2 === null || p.price_nok_m2 === undefined ? '–'
        : num(p.price_nok_m2, 0) + '\u00a0kr/m²']
    ];
    var dist = distanceText(p);
    if (dist) { rows.push([T('map_distances'), dist]); }
    var drive = driveText(p);
    if (drive) { rows.push([T('map_drive_minutes'), drive]); }
    var s = scores[p.id];
    if (s) {
      rows.push([T('score'), profileName() + ': ' + T('map_score_of', {score: num(s.score, 0)}) +
                 (s.excluded ? ' — ' + T('excluded') + ': ' +
                  (s.reasons || []).map(reasonText).join('; ') : '')]);
      rows.push([T('rank'), rankText(s)]);
    }
    if (p.contact) { rows.push([T('contact'), String(p.contact)]); }
    var table = el('table', {}, rows.map(function (r) {
      return el('tr', {}, [el('th', {scope: 'row', text: r[0]}), el('td', {text: r[1]})]);
    }));
    var href = cfg.plotUrl.replace(/0$/, String(p.id)) +
      (profile() ? '?profile=' + encodeURIComponent(profile()) : '') +
      (cfg.lang === 'en' ? (profile() ? '&' : '?') + 'lang=en' : '');
    var isPicked = picked.indexOf(p.id) >= 0;
    return el('div', {'class': 'plot-popup', 'data-plot-id': String(p.id)}, [
      el('h2', {text: str(p.name), tabindex: '-1', 'class': 'popup-title'}), table,
      el('p', {'class': 'popup-actions'}, [
        el('a', {href: href, text: T('open_page')}), ' ',
        el('button', {type: 'button', 'class': 'pick', 'data-id': String(p.id),
                      text: isPicked ? T('unpick') : T('pick')})])]);
  }

  // Panes: the suitability overlay above the background and reference layers (400), the
  // plots above the overlay, the markers above the plots.
  map.createPane('landreg-surface').style.zIndex = 410;
  map.createPane('landreg-plots').style.zIndex = 420;
  map.getContainer().setAttribute('role', 'region');
  map.getContainer().setAttribute('aria-label', T('map_accessible_name'));
  var byId = {};  // plot id -> outline layer
  var plots = L.geoJSON(null, {
    pane: 'landreg-plots',
    style: style,
    onEachFeature: function (feature, layer) {
      byId[feature.id] = layer;
      // the popup pans clear of the buttons over the map's top edge (Filter, Presentasjon,
      // the layer switcher), which hid its heading on a phone, and of the attribution
      layer.bindPopup(function () { return popup(feature.properties); },
                      {maxWidth: 340, autoPanPaddingTopLeft: [12, 72],
                       autoPanPaddingBottomRight: [12, 48]});
      layer.on('add', function () {
        if (layer._path) { layer._path.setAttribute('data-plot-id', feature.id); }
      });
    }
  }).addTo(map);

  /* --- markers: every plot visible and clickable at region zoom ----------------------- */
  // markercluster needs the map's own maxZoom (the topo layer that set one may be dropped
  // offline)
  if (map.options.maxZoom === undefined) { map.options.maxZoom = 18; }
  var markers = L.markerClusterGroup({
    maxClusterRadius: 56, disableClusteringAtZoom: 13, spiderfyOnMaxZoom: true,
    showCoverageOnHover: false, chunkedLoading: true,
    // the kommune names move clear of the markers once all are on the map (chunks finish
    // later than addLayers returns on a busy machine)
    chunkProgress: function (done, total) { if (done === total) { placeLabelsSoon(); } },
    iconCreateFunction: function (cluster) {
      var n = cluster.getChildCount();
      var div = el('div', {'class': 'plot-cluster-inner', title: T('map_cluster', {count: n})},
                   [el('span', {text: '+' + String(n)})]);
      return L.divIcon({html: div, className: 'plot-cluster', iconSize: [38, 30]});
    }
  });
  map.addLayer(markers);
  var markerById = {};
  function centreOf(layer) {
    // a point inside the plot: the centre of its largest ring's bounds is good enough at
    // marker scale; fall back to the bounds' centre
    return layer.getBounds().getCenter();
  }
  function markerIcon(p) {
    var s = scores[p.id];
    var ranked = s && !s.excluded && s.rank !== undefined;
    var inner = el('span', {'class': 'plot-marker-label', text: ranked ? String(s.rank) : ''});
    var div = el('div', {'class': 'plot-marker-inner' + (ranked ? ' ranked' : '')}, [inner]);
    div.style.borderColor = colourOf(p) || '#333';
    if (!ranked) { div.style.background = colourOf(p) || '#333'; }
    var size = ranked ? 30 : 24;  // a touch target of at least 24 px (WCAG 2.5.8)
    return L.divIcon({html: div, className: 'plot-marker', iconSize: [size, size]});
  }
  function markerTitle(p) {
    var s = scores[p.id];
    return str(p.name) + ', ' + str(p.kommunenavn) + ', ' + I.daa(p.area_daa) + ', ' +
      I.value('availability', p.availability) + (s ? ', ' + rankText(s) : '');
  }
  function drawMarkers() {
    markers.clearLayers();
    markerById = {};
    var list = [];
    plots.eachLayer(function (layer) {
      var p = layer.feature.properties;
      var m = L.marker(centreOf(layer), {icon: markerIcon(p), title: markerTitle(p),
                                         keyboard: true, riseOnHover: true,
                                         zIndexOffset: scores[p.id] ? 1000 - (scores[p.id].rank || 0) : 0});
      m.plotId = layer.feature.id;
      m.on('click', function () {
        lastListButton = null;
        openPopupOf(layer.feature.id, false);
      });
      m.on('add', function () {
        var icon = m.getElement();
        if (icon) {
          icon.setAttribute('data-plot-id', layer.feature.id);
          icon.setAttribute('aria-label', markerTitle(p));
          icon.setAttribute('role', 'button');
          if (!icon.dataset.keys) {  // Enter or Space opens the popup and moves focus into it
            icon.dataset.keys = '1';
            icon.addEventListener('keydown', function (e) {
              if (e.key !== 'Enter' && e.key !== ' ') { return; }
              e.preventDefault();
              e.stopPropagation();
              lastListButton = null;
              openPopupOf(layer.feature.id, false, true);
            });
          }
        }
      });
      markerById[layer.feature.id] = m;
      list.push(m);
    });
    markers.addLayers(list);
    placeLabelsSoon();
  }

  /* --- kommune names clear of the markers --------------------------------------------- */
  // The kommune labels (webmap.render) are markers as well: a cluster or a plot marker drawn
  // over one hid the name (Sør-Odal and Eidskog at the start view). After each redraw every
  // label takes the spot nearest its place (within 80 px sideways, three lines up or down)
  // where it covers no marker and no label placed before it (failing that, the fewest).
  var labelTimer = null;
  // where a label may go, nearest first: steps of 20 px sideways, of a text line up or down
  var SPOTS = [];
  [-4, -3, -2, -1, 0, 1, 2, 3, 4].forEach(function (i) {
    [-3, -2, -1, 0, 1, 2, 3].forEach(function (j) { SPOTS.push([i, j]); });
  });
  SPOTS.sort(function (a, b) {
    return (a[0] * a[0] + a[1] * a[1]) - (b[0] * b[0] + b[1] * b[1]);
  });
  var labelCheck = null;
  function placeLabelsSoon() {
    if (labelTimer === null) { labelTimer = setTimeout(placeLabels, 60); }
    // and once more when whatever moved the markers has surely ended (the clusters' CSS
    // transitions, a late chunk on a busy machine)
    clearTimeout(labelCheck);
    labelCheck = setTimeout(placeLabels, 700);
  }
  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }
  function placeLabels() {
    labelTimer = null;
    var box = map.getContainer();
    var taken = Array.prototype.map.call(  // each marker with a 3 px margin
      box.querySelectorAll('.plot-cluster-inner, .plot-marker-inner'), function (node) {
        var m = node.getBoundingClientRect();
        return {left: m.left - 3, right: m.right + 3, top: m.top - 3, bottom: m.bottom + 3};
      });
    Array.prototype.forEach.call(box.querySelectorAll('.kommune-label'), function (label) {
      label.style.transform = '';
      var range = document.createRange();
      range.selectNodeContents(label);  // the text itself, not its fixed-size icon box
      var r = range.getBoundingClientRect();
      if (!r.width) { return; }
      var best = null;
      var h = r.height + 2;
      SPOTS.some(function (spot) {
        var d = [spot[0] * 20, spot[1] * h];
        var at = {left: r.left + d[0], right: r.right + d[0], top: r.top + d[1],
                  bottom: r.bottom + d[1]};
        var n = taken.filter(function (t) { return overlaps(at, t); }).length;
        if (best === null || n < best.n) { best = {n: n, d: d, at: at}; }
        return n === 0;
      });
      if (best.d[0] || best.d[1]) {
        label.style.transform = 'translate(' + best.d[0] + 'px, ' + best.d[1] + 'px)';
      }
      taken.push(best.at);
    });
  }
  map.on('zoomend moveend resize', placeLabelsSoon);
  markers.on('animationend', placeLabelsSoon);
  function openPopupOf(id, fromList, focus) {
    var layer = byId[id];
    if (!layer) { return; }
    var m = markerById[id];
    var at = m ? m.getLatLng() : centreOf(layer);
    var open = function () {
      layer.openPopup(at);
      var title = document.querySelector('.leaflet-popup .popup-title');
      if (title && (fromList || focus)) { title.focus({preventScroll: true}); }
    };
    if (fromList) {
      var zoom = Math.max(map.getZoom(), 13);
      map.setView(at, Math.min(Math.max(zoom, map.getBoundsZoom(layer.getBounds()) - 1), 15),
                  {animate: false});
      if (m && markers.hasLayer(m)) {
        markers.zoomToShowLayer(m, open);
        return;
      }
    }
    open();
  }

  // Vector tiles for a large register: same colours, a popup from the API on click.
  var forceTiles = false;  // ?tiles=1 draws tiles whatever the count
  var tiles = null;
  function tileStyle(properties) {
    var c = colourOf(properties) || '#333';
    // radius: plots are points at zoom 9 and below (landreg/registry/tiles.py)
    return {color: c, fillColor: c, weight: 1.5, fill: true, fillOpacity: 0.55, radius: 3,
            className: 'landreg-plot-tile'};
  }
  function openPlot(id, latlng) {
    fetch(cfg.api + '/' + encodeURIComponent(id), {headers: {Accept: 'application/geo+json'}})
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) { throw new Error(body.description || res.statusText); }
          return body;
        });
      }).then(function (feature) {
        // the clicked plot joins the GeoJSON layer (empty in tile mode), so its popup and
        // the editor's "Rediger" work exactly as on a small register
        plots.clearLayers();
        byId = {};
        plots.addData(feature);
        var layer = plots.getLayers()[0];
        layer.openPopup(latlng || layer.getBounds().getCenter());
      }).catch(function (err) {
        L.popup().setLatLng(latlng || map.getCenter())
          .setContent(el('p', {text: T('error') + ': ' + err.message})).openOn(map);
      });
  }
  function hideTiles() {
    if (tiles) { map.removeLayer(tiles); tiles = null; }
  }
  function showTiles(params) {
    hideTiles();
    var query = params.toString();
    tiles = L.vectorGrid.protobuf(cfg.tiles + (query ? '?' + query : ''), {
      pane: 'landreg-plots', interactive: true, maxZoom: 22,
      fetchOptions: {credentials: 'same-origin'},
      // with a feature id VectorGrid also takes each unloaded tile's renderer off the map;
      // without it every tile ever drawn stays a map layer and zooming slows to a crawl
      getFeatureId: function (f) { return f.properties.id; },
      vectorTileLayerStyles: {plots: tileStyle}
    });
    tiles.on('click', function (e) { openPlot(e.layer.properties.id, e.latlng); });
    var loaded = new Promise(function (resolve) { tiles.once('load', resolve); });
    tiles.addTo(map);
    return loaded;
  }
  function restyle() {
    plots.setStyle(style);
    if (tiles) { tiles.redraw(); }
    drawMarkers();
    renderList();
  }

  /* --- legend ----------------------------------------------------------------------- */
  function swatch(colour) {
    var span = el('span', {'class': 'swatch', 'aria-hidden': 'true'});
    span.style.background = colour;
    return span;
  }
  function legend() {
    var items;
    var title = T('legend');
    if (colourMode() === 'score') {
      title += ': ' + T('score');
      items = cfg.ramp.slice().reverse().map(function (r) {
        return el('li', {}, [swatch(r.colour), num(r.from, 0) + '–' + num(r.to, 0)]);
      });
      items.push(el('li', {}, [swatch(cfg.colours.excluded), T('excluded')]));
    } else {
      var field = colourMode() === 'purpose' ? 'purpose_group' : 'availability';
      var colours = colourMode() === 'purpose' ? cfg.colours.purpose : cfg.colours.availability;
      items = Object.keys(colours).filter(function (key) {
        return key !== 'trukket' || cfg.user;
      }).map(function (key) {
        return el('li', {'data-key': key}, [swatch(colours[key]), I.value(field, key)]);
      });
    }
    legendEl.replaceChildren(el('h2', {text: title}), el('ul', {}, items));
  }

  /* --- filters and the address bar --------------------------------------------------- */
  function filterParams() {
    var params = new URLSearchParams();
    var kommuner = Array.prototype.filter.call(form.elements.kommune, function (box) {
      return box.checked;
    }).map(function (box) { return box.value; });
    if (kommuner.length) { params.set('kommune', kommuner.join(',')); }
    FILTERS.slice(1).forEach(function (name) {
      var input = name === 'q' ? document.getElementById('search-q') : form.elements[name];
      var v = input ? input.value.trim() : '';
      if (v !== '') { params.set(name, v); }
    });
    if (!params.has('within_min') || !params.has('to')) {  // the API wants both or neither
      params.delete('within_min');
    }
    return params;
  }
  // "Upublisert" (planners) is not a status but the published flag
  function statusParams(params) {
    if (params.get('availability') === 'upublisert') {
      params.delete('availability');
      params.set('published', 'false');
    }
    return params;
  }
  function apiParams() {
    var params = statusParams(filterParams());
    if (params.has('to') && !params.has('within_min')) { params.delete('to'); }
    return params;
  }

  function writeUrl() {
    var params = filterParams();
    if (colourMode() !== 'availability') { params.set('colour', colourMode()); }
    if (profile()) { params.set('profile', profile()); }
    if (form.elements.surface.checked) { params.set('surface', '1'); }
    if (cfg.lang !== 'nb') { params.set('lang', cfg.lang); }
    if (forceTiles) { params.set('tiles', '1'); }
    if (present) { params.set('present', '1'); }
    if (sortKey !== null) { params.set('sort', (sortDir < 0 ? '-' : '') + sortKey); }
    var c = map.getCenter();
    params.set('z', map.getZoom());
    params.set('lat', c.lat.toFixed(5));
    params.set('lon', c.lng.toFixed(5));
    var url = window.location.pathname + '?' + params.toString();
    window.history.replaceState(null, '', url);
    permalink.href = url;
    var sw = document.getElementById('lang-switch');
    if (sw) {  // the language switch keeps the whole state
      var other = new URLSearchParams(params);
      if (cfg.lang === 'en') { other.delete('lang'); } else { other.set('lang', 'en'); }
      sw.href = window.location.pathname + '?' + other.toString();
    }
  }

  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    var kommuner = (params.get('kommune') || '').split(',');
    Array.prototype.forEach.call(form.elements.kommune, function (box) {
      box.checked = kommuner.indexOf(box.value) >= 0;
    });
    FILTERS.slice(1).forEach(function (name) {
      var input = name === 'q' ? document.getElementById('search-q') : form.elements[name];
      if (input && params.has(name)) { input.value = params.get(name); }
    });
    if (['purpose', 'score'].indexOf(params.get('colour')) >= 0) {
      form.elements.colour.value = params.get('colour');
    }
    if (params.get('profile')) { form.elements.profile.value = params.get('profile'); }
    if (colourMode() === 'score' && !profile()) { form.elements.profile.value = cfg.defaultProfile; }
    form.elements.surface.checked = params.get('surface') === '1';
    forceTiles = params.get('tiles') === '1';
    var sort = params.get('sort');
    if (sort && COLUMNS.some(function (c) { return c.key === sort.replace(/^-/, ''); })) {
      sortKey = sort.replace(/^-/, '');
      sortDir = sort.charAt(0) === '-' ? -1 : 1;
    }
    setPresent(params.get('present') === '1', true);
    var z = parseInt(params.get('z'), 10), lat = parseFloat(params.get('lat')),
        lon = parseFloat(params.get('lon'));
    // the first view is set, not animated: a zoom still running when the page says it has
    // loaded took back the view of a click made right then (a popup opened at zoom 14 ended at
    // the region's zoom, under the buttons)
    if (!isNaN(z) && !isNaN(lat) && !isNaN(lon)) {
      map.setView([lat, lon], z, {animate: false});
    } else if (cfg.regionBounds) {  // the whole region, as large as the screen allows
      map.options.zoomSnap = 0.25;
      map.fitBounds(cfg.regionBounds, {padding: [8, 8], animate: false});
    }
  }

  /* --- loading --------------------------------------------------------------------- */
  function getJson(url) {
    return fetch(url, {headers: {Accept: 'application/geo+json'}}).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) { throw new Error(body.description || res.statusText); }
        return body;
      });
    });
  }
  var mode = 'geojson';
  var matched = 0;
  function load() {
    var mine = ++request;
    countEl.textContent = T('loading');
    document.body.setAttribute('data-loading', 'true');
    var params = apiParams();
    var found = [];
    function page(url) {
      return getJson(url).then(function (body) {
        found = found.concat(body.features);
        matched = body.numberMatched;
        var next = (body.links || []).filter(function (l) { return l.rel === 'next'; })[0];
        return next && found.length < LIST_LIMIT * 50 ? page(next.href) : null;
      });
    }
    // first how many match (one feature), then GeoJSON pages of 1000 or vector tiles
    var probe = new URLSearchParams(params);
    probe.set('limit', '1');
    return getJson(cfg.api + '?' + probe.toString()).then(function (body) {
      matched = body.numberMatched;
      if (mine !== request) { return null; }
      if (forceTiles || matched > cfg.tileThreshold) {
        mode = 'tiles';
        plots.clearLayers();
        markers.clearLayers();
        byId = {};
        var first = new URLSearchParams(params);
        first.set('limit', String(LIST_LIMIT));
        return Promise.all([showTiles(params), getJson(cfg.api + '?' + first.toString())
          .then(function (b) { found = b.features; })]);
      }
      mode = 'geojson';
      var all = new URLSearchParams(params);
      all.set('limit', '1000');
      return page(cfg.api + '?' + all.toString()).then(function () {
        if (mine !== request) { return; }
        hideTiles();
        plots.clearLayers();
        byId = {};
        plots.addData({type: 'FeatureCollection', features: found});
      });
    }).then(function () {
      if (mine !== request) { return null; }
      features = found;
      return Promise.all([loadScores(), surface ? Promise.resolve() : showSurface()]);
    }).then(function () {
      if (mine !== request) { return; }
      restyle();
      var daa = features.reduce(function (s, f) { return s + f.properties.area_daa; }, 0);
      countEl.textContent = mode === 'tiles'
        ? T('map_count_tiles', {count: num(matched, 0), shown: num(features.length, 0)})
        : num(features.length, 0) + ' ' + T('plots') + ', ' + I.daa(daa);
      document.body.setAttribute('data-loading', 'false');
    }).catch(function (err) {
      if (mine !== request) { return; }
      countEl.textContent = T('error') + ': ' + err.message;
      document.body.setAttribute('data-loading', 'error');
    });
  }

  function updateExports() {
    var box = document.getElementById('ranking-exports');
    box.hidden = !profile();
    var p = encodeURIComponent(profile() || cfg.defaultProfile);
    // every export carries exactly the filters on screen (issue 12)
    document.getElementById('ranking-pdf').href = '/rankings/' + p + '/report.pdf?' + exportQuery();
    document.getElementById('ranking-html').href = '/rankings/' + p + '/export.html?' + exportQuery();
    document.getElementById('ranking-csv').href = cfg.rankings.replace('PROFILE', p) +
      '?f=csv&' + exportQuery();
    updateCompare();
  }

  function exportQuery() {  // the filters, and the page's language for the exports' words
    var q = apiParams();
    if (cfg.lang === 'en') { q.set('lang', 'en'); }
    return q.toString();
  }

  function loadScores() {
    updateExports();
    if (!profile()) {
      scores = {};
      ranking = null;
      return Promise.resolve();
    }
    return fetch(cfg.rankings.replace('PROFILE', encodeURIComponent(profile())) + '?' +
                 apiParams().toString()).then(function (res) { return res.json(); })
      .then(function (body) {
        scores = {};
        ranking = body;
        (body.items || []).forEach(function (i) { scores[i.plot_id] = i; });
        plots.eachLayer(function (l) {
          l.setPopupContent(function () { return popup(l.feature.properties); });
        });
      });
  }

  function showSurface() {
    if (surface) { map.removeLayer(surface); surface = null; }
    if (!form.elements.surface.checked) { return Promise.resolve(); }
    var p = encodeURIComponent(profile() || cfg.defaultProfile);
    return fetch(cfg.surface.replace('PROFILE', p)).then(function (res) { return res.json(); })
      .then(function (meta) {
        surface = L.imageOverlay(cfg.surfacePng.replace('PROFILE', p), meta.bounds,
                                 {opacity: 0.6, className: 'landreg-surface',
                                  pane: 'landreg-surface', alt: ''}).addTo(map);
      });
  }

  // Drive-time zones from a destination: 60 (light) … 15 (dark) minutes, from the API.
  var isochrones = null;
  var ISO_COLOURS = {15: '#08519c', 30: '#3182bd', 45: '#6baed6', 60: '#bdd7e7'};
  function showIsochrones() {
    if (isochrones) { map.removeLayer(isochrones); isochrones = null; }
    var dest = form.elements.iso.value;
    if (!dest) { return Promise.resolve(); }
    return fetch(cfg.isochrones.replace('DEST', encodeURIComponent(dest)) +
                 '?minutes=15,30,45,60').then(function (res) { return res.json(); })
      .then(function (fc) {
        isochrones = L.geoJSON(fc, {
          pane: 'landreg-surface', interactive: false,
          style: function (f) {
            var c = ISO_COLOURS[f.properties.minutes] || '#999';
            return {color: c, fillColor: c, weight: 1, fillOpacity: 0.25,
                    className: 'landreg-isochrone'};
          }
        }).addTo(map);
      });
  }

  /* --- the result list ---------------------------------------------------------------- */
  var COLUMNS = [
    {key: 'rank', label: 'rank', show: function () { return !!profile(); }, numeric: true,
     value: function (f) { var s = scores[f.id]; return s ? s.rank : null; },
     text: function (f) { var s = scores[f.id]; return s ? String(s.rank) : '–'; }},
    {key: 'name', label: 'name', value: function (f) { return String(f.properties.name || ''); }},
    {key: 'kommune', label: 'kommune',
     value: function (f) { return String(f.properties.kommunenavn || ''); }},
    {key: 'area', label: 'area', numeric: true,
     value: function (f) { return f.properties.area_daa; },
     text: function (f) { return I.daa(f.properties.area_daa); }},
    {key: 'status', label: 'availability',
     value: function (f) { return I.value('availability', f.properties.availability); }},
    {key: 'score', label: 'score', show: function () { return !!profile(); }, numeric: true,
     value: function (f) { var s = scores[f.id]; return s ? s.score : null; },
     text: function (f) { var s = scores[f.id]; return s ? num(s.score, 0) : '–'; }},
    {key: 'drive', label: 'map_col_drive', show: function () { return !!destination(); },
     numeric: true,
     value: function (f) { var d = f.properties.drive_min || {}; return d[destination()]; },
     text: function (f) {
       var d = (f.properties.drive_min || {})[destination()];
       return typeof d === 'number' ? num(d, 0) + '\u00a0min' : '–';
     }}
  ];
  var sortKey = null, sortDir = 1;
  function defaultSort() { return profile() ? 'rank' : null; }
  function visibleColumns() {
    return COLUMNS.filter(function (c) { return !c.show || c.show(); });
  }
  function sortedFeatures() {
    var key = sortKey;
    var col = COLUMNS.filter(function (c) { return c.key === key && (!c.show || c.show()); })[0];
    if (!col) { key = defaultSort(); col = COLUMNS.filter(function (c) { return c.key === key; })[0]; }
    var rows = features.slice();
    if (!col) { return rows; }  // the API's order: kommune, name
    var dir = col.key === sortKey ? sortDir : 1;
    var collator = new Intl.Collator(I.locale);
    rows.sort(function (a, b) {
      var va = col.value(a), vb = col.value(b);
      var na = va === null || va === undefined, nb = vb === null || vb === undefined;
      if (na || nb) { return na === nb ? 0 : (na ? 1 : -1); }  // missing values last
      var c = col.numeric ? va - vb : collator.compare(va, vb);
      return c * dir || a.id - b.id;
    });
    return rows;
  }
  function renderHead() {
    var row = document.getElementById('results-head');
    var active = sortKey || defaultSort();
    row.replaceChildren.apply(row, visibleColumns().map(function (c) {
      var th = el('th', {scope: 'col', 'data-col': c.key, 'class': 'col-' + c.key});
      if (c.key === active) {
        th.setAttribute('aria-sort', (c.key === sortKey ? sortDir : 1) > 0 ? 'ascending'
                                                                           : 'descending');
      }
      var b = el('button', {type: 'button', 'class': 'sort', 'data-col': c.key,
                            text: T(c.label)});
      th.appendChild(b);
      return th;
    }));
  }
  function renderList() {
    renderHead();
    var cols = visibleColumns();
    var rows = sortedFeatures().map(function (f) {
      var tr = el('tr', {'data-plot-id': String(f.id)});
      cols.forEach(function (c) {
        var td = el('td', {'class': (c.numeric ? 'num ' : '') + 'col-' + c.key});
        if (c.key === 'name') {
          var b = el('button', {type: 'button', 'class': 'linkish-dark show-plot',
                                'data-plot-id': String(f.id), text: c.value(f) || '–'});
          td.className = 'name';
          td.appendChild(el('span', {'class': 'name-line'},
                            [swatch(colourOf(f.properties) || '#333'), b]));
          // the kommune under the name where the list is too narrow for its own column
          td.appendChild(el('span', {'class': 'sub', 'aria-hidden': 'true',
                                     text: str(f.properties.kommunenavn)}));
        } else {
          td.textContent = c.text ? c.text(f) : (c.value(f) || '–');
        }
        tr.appendChild(td);
      });
      return tr;
    });
    listBody.replaceChildren.apply(listBody, rows);
    listNote.textContent = mode === 'tiles' ? T('map_list_first', {shown: num(features.length, 0),
                                                                   count: num(matched, 0)}) : '';
    document.getElementById('results').setAttribute('data-rows', String(rows.length));
  }
  document.getElementById('results').addEventListener('click', function (event) {
    var sort = event.target.closest('button.sort');
    if (sort) {
      var key = sort.dataset.col;
      var current = sortKey || defaultSort();
      if (current === key) { sortDir = (sortKey === key ? sortDir : 1) * -1; } else { sortDir = 1; }
      sortKey = key;
      renderList();
      writeUrl();
      var again = document.querySelector('#results-head button[data-col="' + key + '"]');
      if (again) { again.focus(); }
      return;
    }
    var show = event.target.closest('button.show-plot');
    if (show) {
      lastListButton = show;
      var id = Number(show.dataset.plotId);
      if (mode === 'tiles') { openPlot(id, null); } else { openPopupOf(id, true); }
      if (document.body.classList.contains('sheet-open')) { toggleSheet(false); }
    }
  });
  var lastListButton = null;
  map.on('popupclose', function () {
    // back to the list row the popup was opened from (keyboard users keep their place)
    var active = document.activeElement;
    if (lastListButton && (!active || active === document.body ||
                           map.getContainer().contains(active))) {
      lastListButton.focus({preventScroll: true});
    }
    lastListButton = null;
  });
  map.on('popupopen', function (e) {
    var node = e.popup.getElement();
    if (node) { node.setAttribute('role', 'dialog'); }
  });

  /* --- search: plots by name or plan id, places by name ------------------------------ */
  var searchForm = document.getElementById('search');
  var searchInput = document.getElementById('search-q');
  var searchStatus = document.getElementById('search-status');
  function placeFor(text) {
    var low = text.toLowerCase();
    var exact = cfg.places.filter(function (p) { return p.name.toLowerCase() === low; });
    return exact[0] || null;
  }
  var placeMarker = null;
  searchForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var text = searchInput.value.trim();
    var place = text ? placeFor(text) : null;
    if (placeMarker) { map.removeLayer(placeMarker); placeMarker = null; }
    if (place) {  // a place: go there, plots unfiltered by the text
      searchInput.value = '';
      writeUrl();
      map.setView([place.lat, place.lon], 12);
      placeMarker = L.circleMarker([place.lat, place.lon], {radius: 9, color: '#000',
        weight: 3, fill: false, interactive: false, className: 'place-marker'}).addTo(map);
      searchStatus.textContent = T('map_search_place', {name: place.name});
      return load();
    }
    writeUrl();
    return load().then(function () {
      if (!text) { searchStatus.textContent = ''; return; }
      searchStatus.textContent = T('map_search_found', {count: num(features.length, 0)});
      if (features.length === 1) { openPopupOf(features[0].id, true); } else if (features.length) {
        if (mode !== 'tiles') { map.fitBounds(plots.getBounds(), {maxZoom: 14, padding: [30, 30]}); }
      }
    });
  });
  searchInput.addEventListener('input', function (e) {
    // a place picked from the suggestions (datalist) goes there at once
    if (e.inputType === undefined || e.inputType === 'insertReplacementText') {
      if (placeFor(searchInput.value.trim())) { searchForm.requestSubmit(); }
    }
  });
  searchInput.addEventListener('search', function () {  // the field's own clear button
    if (!searchInput.value) { searchForm.requestSubmit(); }
  });

  /* --- presentation mode and the phone's filter sheet -------------------------------- */
  var presentButton = document.getElementById('present');
  var legendButton = document.getElementById('legend-open');
  // on a phone the panel that holds the legend is a sheet, hidden in presentation mode: a
  // button of its own shows the legend there (CSS shows the button only then)
  var panel = document.getElementById('filter-panel');
  function toggleLegend(open) {
    document.body.classList.toggle('legend-open', open);
    legendButton.setAttribute('aria-expanded', open ? 'true' : 'false');
    // just under the map's buttons (however many rows they wrapped into) and the zoom buttons
    var below = !open ? 0 : Math.max.apply(null, Array.prototype.map.call(
      document.querySelectorAll('.map-tools, .leaflet-control-zoom'),
      function (node) { return node.getBoundingClientRect().bottom; }));
    panel.style.top = open ? (below + window.scrollY + 8) + 'px' : '';
    panel.style.maxHeight = open ? Math.max(window.innerHeight - below - 70, 120) + 'px' : '';
  }
  legendButton.addEventListener('click', function () {
    toggleLegend(!document.body.classList.contains('legend-open'));
  });
  function setPresent(on, quiet) {
    present = on;
    document.body.classList.toggle('present', on);
    if (!on) { toggleLegend(false); }
    placeLabelsSoon();  // the labels' size changed with the class
    presentButton.setAttribute('aria-pressed', on ? 'true' : 'false');
    presentButton.textContent = on ? T('map_present_end') : T('map_present');
    // the map's box changed with the class: Leaflet must measure it again before a fit
    // (?present=1 on load fitted the region into the box of the normal layout)
    map.invalidateSize(false);
    if (!quiet) {
      map.closePopup();
      setTimeout(function () {
        map.invalidateSize();
        if (on && cfg.regionBounds) { map.fitBounds(cfg.regionBounds, {padding: [8, 8]}); }
      }, 50);
      writeUrl();
    }
  }
  presentButton.addEventListener('click', function () { setPresent(!present); });
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Escape') { return; }
    if (document.querySelector('.leaflet-popup')) {
      // Leaflet closes a popup on Escape only while the map itself has the focus
      if (document.activeElement && document.activeElement.closest('.leaflet-popup')) {
        map.closePopup();
      }
    } else if (document.body.classList.contains('legend-open')) {
      toggleLegend(false);
      legendButton.focus();
    } else if (present) {
      setPresent(false);
    }
  });
  var sheetButton = document.getElementById('filters-open');
  var sheetClose = document.getElementById('filters-close');
  function toggleSheet(open) {
    document.body.classList.toggle('sheet-open', open);
    sheetButton.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) { form.elements.colour.focus(); } else { sheetButton.focus(); }
  }
  sheetButton.addEventListener('click', function () {
    toggleSheet(!document.body.classList.contains('sheet-open'));
  });
  sheetClose.addEventListener('click', function () { toggleSheet(false); });

  form.addEventListener('change', function (event) {
    var name = event.target.name;
    if (name === 'iso') { showIsochrones(); return; }
    if (name === 'colour' && colourMode() === 'score' && !profile()) {
      form.elements.profile.value = cfg.defaultProfile;
    }
    if (name === 'colour' || name === 'profile' || name === 'surface') {
      writeUrl();
      legend();
      document.body.setAttribute('data-loading', 'true');
      Promise.all([loadScores(), showSurface()]).then(function () {
        restyle();
        document.body.setAttribute('data-loading', 'false');
      });
      return;
    }
    writeUrl();
    load();
  });
  form.addEventListener('submit', function (event) { event.preventDefault(); });
  form.addEventListener('reset', function () {
    setTimeout(function () {
      searchInput.value = '';
      sortKey = null;
      legend(); writeUrl(); load();
    }, 0);
  });
  map.on('moveend', writeUrl);

  window.landregMap = {
    map: map,
    layer: plots,
    markers: markers,
    plotCount: function () { return plots.getLayers().length; },
    markerCount: function () { return Object.keys(markerById).length; },
    listIds: function () {
      return Array.prototype.map.call(listBody.querySelectorAll('tr'), function (tr) {
        return Number(tr.dataset.plotId);
      });
    },
    tiles: function () { return tiles; },
    reload: load
  };
  readUrl();
  updateCompare();
  legend();
  writeUrl();
  load();
}());
