/* landreg: the plot layer, filter panel, legend and permalink of the regional map.
 * The folium-rendered page defines the Leaflet map (a global named in the config); this
 * script draws the plots from /api/plots and redraws them whenever a filter changes. When more
 * plots match than the map can hold as GeoJSON (cfg.tileThreshold, or ?tiles=1), it draws them
 * from vector tiles (/tiles/plots/{z}/{x}/{y}.mvt, Leaflet.VectorGrid) and fetches a plot's
 * details from /api/plots/<id> when it is clicked. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('landreg-config').textContent);
  var map = window[cfg.mapName];
  var T = cfg.i18n.text, AV = cfg.i18n.availability, PU = cfg.i18n.purpose;
  var form = document.getElementById('filters');
  var countEl = document.getElementById('count');
  var legendEl = document.getElementById('legend');
  var permalink = document.getElementById('permalink');
  var FILTERS = ['kommune', 'purpose_group', 'availability', 'min_daa', 'max_daa', 'byggeklar',
                 'within_min', 'to'];
  var request = 0;
  var locale = cfg.lang === 'en' ? 'en-GB' : 'nb-NO';

  // API data reaches the page only as text nodes (textContent), never as markup.
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
  function str(value) { return value === null || value === undefined ? '' : String(value); }
  function num(value, digits) {
    return Number(value).toLocaleString(locale, {minimumFractionDigits: digits,
                                                  maximumFractionDigits: digits});
  }
  function colourMode() { return form.elements.colour.value; }
  var scores = {};  // plot id -> ranking item of the chosen profile
  var picked = [];  // plot ids chosen for a side-by-side comparison (2–6)
  var compareLink = document.getElementById('compare-link');
  function updateCompare() {
    compareLink.textContent = T.compare + ' (' + picked.length + ')';
    compareLink.hidden = picked.length < 2;
    compareLink.href = cfg.compare + '?profile=' + encodeURIComponent(profile()) +
      '&plots=' + picked.join(',') + '&' + exportQuery();  // ranked within the filters
  }
  map.getContainer().addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('button.pick');
    if (!button) { return; }
    var id = Number(button.dataset.id);
    var at = picked.indexOf(id);
    if (at >= 0) { picked.splice(at, 1); } else if (picked.length < 6) { picked.push(id); }
    button.textContent = picked.indexOf(id) >= 0 ? T.unpick : T.pick;
    updateCompare();
  });
  var surface = null;
  function profile() { return form.elements.profile.value; }
  function rampColour(score) {
    for (var i = 0; i < cfg.ramp.length; i++) {
      if (score <= cfg.ramp[i].to) { return cfg.ramp[i].colour; }
    }
    return cfg.ramp[cfg.ramp.length - 1].colour;
  }
  function colourOf(p) {
    if (colourMode() === 'score') {
      var s = scores[p.id];
      return s ? (s.excluded ? '#9e9e9e' : rampColour(s.score)) : '#ffffff';
    }
    return colourMode() === 'purpose' ? cfg.colours.purpose[p.purpose_group]
                                      : cfg.colours.availability[p.availability];
  }
  function style(feature) {
    var c = colourOf(feature.properties) || '#333';
    return {color: c, fillColor: c, weight: 2, fillOpacity: 0.55, className: 'landreg-plot'};
  }
  function yesNo(v) { return v === true ? T.yes : (v === false ? T.no : '–'); }
  function popup(p) {
    var rows = [
      [T.kommune, str(p.kommunenavn) + ' (' + str(p.kommunenummer) + ')'],
      [T.arealformal, str(p.arealformal) + ' ' + str(p.arealformal_name)],
      [T.area, num(p.area_daa, 1) + ' daa'],
      [T.availability, str(AV[p.availability] || p.availability)],
      [T.readiness, T.road + ': ' + yesNo(p.road_access) + ', ' + T.water + ': ' +
        yesNo(p.water_sewer) + ', ' + T.power + ': ' +
        (p.power_capacity_mw === null ? '–' : num(p.power_capacity_mw, 1) + ' MW')],
      [T.price, p.price_nok_m2 === null ? '–' : num(p.price_nok_m2, 0) + ' NOK/m²'],
      [T.contact, str(p.contact || '–')]
    ];
    var dm = p.drive_min || {};
    var drive = ['gardermoen', 'oslo', 'alnabru', 'junction', 'station', 'border']
      .filter(function (k) { return typeof dm[k] === 'number'; })
      .map(function (k) { return T['drive_' + k] + ' ' + num(dm[k], 0); });
    if (drive.length) { rows.push([T.drive, drive.join(', ')]); }
    var s = scores[p.id];
    if (s) {
      rows.push([T.score + ' (' + form.elements.profile.selectedOptions[0].text + ')',
                 num(s.score, 1) + ' / 100, ' + T.rank + ' ' + s.rank +
                 (s.excluded ? ' — ' + T.excluded + ': ' + s.reasons.join('; ') : '')]);
    }
    var table = el('table', {}, rows.map(function (r) {
      return el('tr', {}, [el('th', {text: r[0]}), el('td', {text: r[1]})]);
    }));
    var href = cfg.plotUrl.replace(/0$/, String(p.id)) + (cfg.lang === 'en' ? '?lang=en' : '');
    var isPicked = picked.indexOf(p.id) >= 0;
    return el('div', {'class': 'plot-popup'}, [
      el('h3', {text: str(p.name)}), table,
      el('a', {href: href, text: T.open_page}), ' ',
      el('button', {type: 'button', 'class': 'pick', 'data-id': str(p.id),
                    text: isPicked ? T.unpick : T.pick})]);
  }

  // Panes: the suitability overlay above the background and reference layers (400), the
  // plots above the overlay.
  map.createPane('landreg-surface').style.zIndex = 410;
  map.createPane('landreg-plots').style.zIndex = 420;
  var plots = L.geoJSON(null, {
    pane: 'landreg-plots',
    style: style,
    onEachFeature: function (feature, layer) {
      layer.bindPopup(function () { return popup(feature.properties); }, {maxWidth: 320});
      layer.on('add', function () {
        if (layer._path) { layer._path.setAttribute('data-plot-id', feature.id); }
      });
    }
  }).addTo(map);

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
        plots.addData(feature);
        plots.getLayers()[0].openPopup(latlng);
      }).catch(function (err) {
        L.popup().setLatLng(latlng).setContent(el('p', {text: T.error + ': ' + err.message}))
          .openOn(map);
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
  }

  function swatch(colour) {
    var span = el('span', {'class': 'swatch'});
    span.style.background = colour;
    return span;
  }
  function legend() {
    var items;
    var title = T.legend;
    if (colourMode() === 'score') {
      title += ': ' + T.score;
      items = cfg.ramp.slice().reverse().map(function (r) {
        return el('li', {}, [swatch(r.colour), num(r.from, 0) + '–' + num(r.to, 0)]);
      });
      items.push(el('li', {}, [swatch('#9e9e9e'), T.excluded]));
    } else {
      var entries = colourMode() === 'purpose' ? PU : AV;
      var colours = colourMode() === 'purpose' ? cfg.colours.purpose : cfg.colours.availability;
      items = Object.keys(entries).filter(function (key) { return key !== 'trukket'; })
        .map(function (key) {
          return el('li', {'data-key': key}, [swatch(colours[key]), entries[key]]);
        });
    }
    legendEl.replaceChildren(el('h2', {text: title}), el('ul', {}, items));
  }

  function filterParams() {
    var params = new URLSearchParams();
    var kommuner = Array.prototype.filter.call(form.elements.kommune, function (el) {
      return el.checked;
    }).map(function (el) { return el.value; });
    if (kommuner.length) { params.set('kommune', kommuner.join(',')); }
    FILTERS.slice(1).forEach(function (name) {
      var v = form.elements[name].value;
      if (v !== '') { params.set(name, v); }
    });
    if (!params.has('within_min') || !params.has('to')) {  // the API wants both or neither
      params.delete('within_min');
      params.delete('to');
    }
    return params;
  }

  function writeUrl() {
    var params = filterParams();
    if (colourMode() !== 'availability') { params.set('colour', colourMode()); }
    if (colourMode() === 'score' || form.elements.surface.checked) {
      params.set('profile', profile());
    }
    if (form.elements.surface.checked) { params.set('surface', '1'); }
    if (cfg.lang !== 'nb') { params.set('lang', cfg.lang); }
    if (forceTiles) { params.set('tiles', '1'); }
    var c = map.getCenter();
    params.set('z', map.getZoom());
    params.set('lat', c.lat.toFixed(5));
    params.set('lon', c.lng.toFixed(5));
    var url = window.location.pathname + '?' + params.toString();
    window.history.replaceState(null, '', url);
    permalink.href = url;
  }

  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    var kommuner = (params.get('kommune') || '').split(',');
    Array.prototype.forEach.call(form.elements.kommune, function (el) {
      el.checked = kommuner.indexOf(el.value) >= 0;
    });
    FILTERS.slice(1).forEach(function (name) {
      if (params.has(name)) { form.elements[name].value = params.get(name); }
    });
    if (['purpose', 'score'].indexOf(params.get('colour')) >= 0) {
      form.elements.colour.value = params.get('colour');
    }
    if (params.get('profile')) { form.elements.profile.value = params.get('profile'); }
    form.elements.surface.checked = params.get('surface') === '1';
    forceTiles = params.get('tiles') === '1';
    var z = parseInt(params.get('z'), 10), lat = parseFloat(params.get('lat')),
        lon = parseFloat(params.get('lon'));
    if (!isNaN(z) && !isNaN(lat) && !isNaN(lon)) { map.setView([lat, lon], z); }
  }

  function load() {
    var mine = ++request;
    countEl.textContent = T.loading;
    document.body.setAttribute('data-loading', 'true');
    var params = filterParams();
    var features = [];
    var matched = null;
    function page(url) {
      return fetch(url, {headers: {Accept: 'application/geo+json'}}).then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) { throw new Error(body.description || res.statusText); }
          return body;
        });
      }).then(function (body) {
        features = features.concat(body.features);
        var next = (body.links || []).filter(function (l) { return l.rel === 'next'; })[0];
        return next ? page(next.href) : null;
      });
    }
    // first how many match (one feature), then GeoJSON pages of 1000 or vector tiles
    var probe = new URLSearchParams(params);
    probe.set('limit', '1');
    return fetch(cfg.api + '?' + probe.toString(), {headers: {Accept: 'application/geo+json'}})
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) { throw new Error(body.description || res.statusText); }
          matched = body.numberMatched;
        });
      }).then(function () {
        if (mine !== request) { return null; }
        if (forceTiles || matched > cfg.tileThreshold) {
          plots.clearLayers();
          return Promise.all([showTiles(filterParams()), loadScores(),
                              surface ? Promise.resolve() : showSurface()])
            .then(function () { return 'tiles'; });
        }
        params.set('limit', '1000');
        return page(cfg.api + '?' + params.toString());
      }).then(function (mode) {
      if (mine !== request) { return; }
      if (mode === 'tiles') { return null; }
      hideTiles();
      plots.clearLayers();
      plots.addData({type: 'FeatureCollection', features: features});
      var daa = features.reduce(function (s, f) { return s + f.properties.area_daa; }, 0);
      return Promise.all([loadScores(), surface ? Promise.resolve() : showSurface()])
        .then(function () { return daa; });
    }).then(function (daa) {
      if (mine !== request || daa === undefined) { return; }
      countEl.textContent = daa === null ? matched + ' ' + T.plots
        : features.length + ' ' + T.plots + ', ' + num(daa, 1) + ' daa';
      document.body.setAttribute('data-loading', 'false');
    }).catch(function (err) {
      if (mine !== request) { return; }
      countEl.textContent = T.error + ': ' + err.message;
      document.body.setAttribute('data-loading', 'error');
    });
  }

  function updateExports() {
    var box = document.getElementById('ranking-exports');
    box.hidden = colourMode() !== 'score';
    var p = encodeURIComponent(profile());
    // every export carries exactly the filters on screen (FORUM, issue 12)
    document.getElementById('ranking-pdf').href = '/rankings/' + p + '/report.pdf?' + exportQuery();
    document.getElementById('ranking-html').href = '/rankings/' + p + '/export.html?' + exportQuery();
    document.getElementById('ranking-csv').href = cfg.rankings.replace('PROFILE', p) +
      '?f=csv&' + exportQuery();
    updateCompare();
  }

  function exportQuery() {  // the filters, and the page's language for the exports' words
    var q = filterParams();
    if (document.documentElement.lang === 'en') { q.set('lang', 'en'); }
    return q.toString();
  }

  function loadScores() {
    updateExports();
    if (colourMode() !== 'score') {
      plots.eachLayer(function (l) { l.unbindTooltip(); });
      return Promise.resolve();
    }
    var params = filterParams();
    return fetch(cfg.rankings.replace('PROFILE', encodeURIComponent(profile())) + '?' +
                 params.toString()).then(function (res) { return res.json(); })
      .then(function (body) {
        scores = {};
        (body.items || []).forEach(function (i) { scores[i.plot_id] = i; });
        plots.eachLayer(function (l) {
          l.setPopupContent(function () { return popup(l.feature.properties); });
          l.unbindTooltip();
          var s = scores[l.feature.id];
          if (s && !s.excluded && s.rank <= 10) {  // the top ten carry their rank
            l.bindTooltip(String(s.rank), {permanent: true, direction: 'center',
                                           className: 'rank-label'});
          }
        });
        restyle();
      });
  }

  function showSurface() {
    if (surface) { map.removeLayer(surface); surface = null; }
    if (!form.elements.surface.checked) { return Promise.resolve(); }
    var p = encodeURIComponent(profile());
    return fetch(cfg.surface.replace('PROFILE', p)).then(function (res) { return res.json(); })
      .then(function (meta) {
        surface = L.imageOverlay(cfg.surfacePng.replace('PROFILE', p), meta.bounds,
                                 {opacity: 0.6, className: 'landreg-surface',
                                  pane: 'landreg-surface'}).addTo(map);
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

  form.addEventListener('change', function (event) {
    var name = event.target.name;
    if (name === 'iso') { showIsochrones(); return; }
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
    setTimeout(function () { legend(); restyle(); writeUrl(); load(); }, 0);
  });
  map.on('moveend', writeUrl);

  window.landregMap = {
    map: map,
    layer: plots,
    plotCount: function () { return plots.getLayers().length; },
    tiles: function () { return tiles; },
    reload: load
  };
  readUrl();
  updateCompare();
  legend();
  writeUrl();
  load();
}());
