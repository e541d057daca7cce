/* landreg: the plot layer, filter panel, legend and permalink of the regional map.
 * The folium-rendered page defines the Leaflet map (a global named in the config); this
 * script draws the plots from /api/plots and redraws them whenever a filter changes. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('landreg-config').textContent);
  var map = window[cfg.mapName];
  var T = cfg.i18n.text, AV = cfg.i18n.availability, PU = cfg.i18n.purpose;
  var form = document.getElementById('filters');
  var countEl = document.getElementById('count');
  var legendEl = document.getElementById('legend');
  var permalink = document.getElementById('permalink');
  var FILTERS = ['kommune', 'purpose_group', 'availability', 'min_daa', 'max_daa', 'byggeklar'];
  var request = 0;
  var locale = cfg.lang === 'en' ? 'en-GB' : 'nb-NO';

  function esc(value) {
    return String(value === null || value === undefined ? '' : value)
      .replace(/[&<>"']/g, function (c) {
        return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
      });
  }
  function num(value, digits) {
    return Number(value).toLocaleString(locale, {minimumFractionDigits: digits,
                                                  maximumFractionDigits: digits});
  }
  function colourMode() { return form.elements.colour.value; }
  function colourOf(p) {
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
      [T.kommune, esc(p.kommunenavn) + ' (' + esc(p.kommunenummer) + ')'],
      [T.arealformal, esc(p.arealformal) + ' ' + esc(p.arealformal_name)],
      [T.area, num(p.area_daa, 1) + ' daa'],
      [T.availability, esc(AV[p.availability] || p.availability)],
      [T.readiness, T.road + ': ' + yesNo(p.road_access) + ', ' + T.water + ': ' +
        yesNo(p.water_sewer) + ', ' + T.power + ': ' +
        (p.power_capacity_mw === null ? '–' : num(p.power_capacity_mw, 1) + ' MW')],
      [T.price, p.price_nok_m2 === null ? '–' : num(p.price_nok_m2, 0) + ' NOK/m²'],
      [T.contact, esc(p.contact || '–')]
    ];
    var html = '<div class="plot-popup"><h3>' + esc(p.name) + '</h3><table>';
    rows.forEach(function (r) { html += '<tr><th>' + r[0] + '</th><td>' + r[1] + '</td></tr>'; });
    var href = cfg.plotUrl.replace(/0$/, String(p.id)) + (cfg.lang === 'en' ? '?lang=en' : '');
    return html + '</table><a href="' + esc(href) + '">' + esc(T.open_page) + '</a></div>';
  }

  var plots = L.geoJSON(null, {
    style: style,
    onEachFeature: function (feature, layer) {
      layer.bindPopup(popup(feature.properties), {maxWidth: 320});
      layer.on('add', function () {
        if (layer._path) { layer._path.setAttribute('data-plot-id', feature.id); }
      });
    }
  }).addTo(map);

  function legend() {
    var entries = colourMode() === 'purpose' ? PU : AV;
    var colours = colourMode() === 'purpose' ? cfg.colours.purpose : cfg.colours.availability;
    var html = '<h2>' + esc(T.legend) + '</h2><ul>';
    Object.keys(entries).forEach(function (key) {
      if (key === 'trukket') { return; }
      html += '<li data-key="' + esc(key) + '"><span class="swatch" style="background:' +
        esc(colours[key]) + '"></span>' + esc(entries[key]) + '</li>';
    });
    legendEl.innerHTML = html + '</ul>';
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
    return params;
  }

  function writeUrl() {
    var params = filterParams();
    if (colourMode() !== 'availability') { params.set('colour', colourMode()); }
    if (cfg.lang !== 'nb') { params.set('lang', cfg.lang); }
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
    if (params.get('colour') === 'purpose') { form.elements.colour.value = 'purpose'; }
    var z = parseInt(params.get('z'), 10), lat = parseFloat(params.get('lat')),
        lon = parseFloat(params.get('lon'));
    if (!isNaN(z) && !isNaN(lat) && !isNaN(lon)) { map.setView([lat, lon], z); }
  }

  function load() {
    var mine = ++request;
    countEl.textContent = T.loading;
    document.body.setAttribute('data-loading', 'true');
    var params = filterParams();
    params.set('limit', '1000');
    var features = [];
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
    return page(cfg.api + '?' + params.toString()).then(function () {
      if (mine !== request) { return; }
      plots.clearLayers();
      plots.addData({type: 'FeatureCollection', features: features});
      var daa = features.reduce(function (s, f) { return s + f.properties.area_daa; }, 0);
      countEl.textContent = features.length + ' ' + T.plots + ', ' + num(daa, 1) + ' daa';
      document.body.setAttribute('data-loading', 'false');
    }).catch(function (err) {
      if (mine !== request) { return; }
      countEl.textContent = T.error + ': ' + err.message;
      document.body.setAttribute('data-loading', 'error');
    });
  }

  form.addEventListener('change', function (event) {
    if (event.target.name === 'colour') {
      plots.setStyle(style);
      legend();
      writeUrl();
      return;
    }
    writeUrl();
    load();
  });
  form.addEventListener('submit', function (event) { event.preventDefault(); });
  form.addEventListener('reset', function () {
    setTimeout(function () { legend(); plots.setStyle(style); writeUrl(); load(); }, 0);
  });
  map.on('moveend', writeUrl);

  window.landregMap = {
    map: map,
    layer: plots,
    plotCount: function () { return plots.getLayers().length; },
    reload: load
  };
  readUrl();
  legend();
  writeUrl();
  load();
}());
