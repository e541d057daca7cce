/* landreg: drawing and editing plots on the map (logged-in planners only).
 * Leaflet-Geoman (served from /vendor/) draws and reshapes with snapping; saves go to the
 * JSON API with the CSRF token, carrying the version the planner started from, so a
 * concurrent edit is refused (409) instead of overwritten. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('landreg-config').textContent);
  var lm = window.landregMap;
  var map = lm.map;
  var T = cfg.i18n.text;
  var I = window.LandregI18n;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var form = document.getElementById('plot-form');
  var status = document.getElementById('edit-status');
  var drawButton = document.getElementById('draw');
  var editing = null;  // {layer, id, version} or {layer, id: null} for a new plot

  map.pm.setGlobalOptions({snappable: true, snapDistance: 15, allowSelfIntersection: false});

  function say(text) { status.textContent = text; }
  // /plots/<id><suffix> in the page's language (the history link's pattern, /plots/0/history)
  function plotUrl(id, suffix) {
    var base = cfg.edit.history.replace(/0\/history$/, id + suffix);
    return cfg.lang === 'en' ? base + '?lang=en' : base;
  }
  function canEdit(p) {
    return cfg.user.role === 'admin' || cfg.user.kommuner.indexOf(p.kommunenummer) >= 0;
  }
  function openForm(title, props) {
    form.hidden = false;
    document.getElementById('plot-form-title').textContent = title;
    form.elements.name.value = props.name || '';
    form.elements.arealformal.value = props.arealformal || 1340;
    form.elements.availability.value = props.availability || 'ledig';
    form.elements.price_nok_m2.value = props.price_nok_m2 === null ||
      props.price_nok_m2 === undefined ? '' : props.price_nok_m2;
    form.elements.published.checked = props.published !== false;
    document.getElementById('e-hint').textContent = editing && editing.id ? T.edit_hint : '';
    // every other field (plan, readiness, contact …) on the plot's full edit form
    var all = document.getElementById('e-all-fields');
    all.hidden = !(editing && editing.id);
    if (editing && editing.id) { all.href = plotUrl(editing.id, '/edit'); }
    form.elements.name.focus();
  }
  function closeForm() {
    form.hidden = true;
    if (editing && editing.layer) {
      if (editing.id) { editing.layer.pm.disable(); } else { map.removeLayer(editing.layer); }
    }
    editing = null;
  }

  drawButton.addEventListener('click', function () {
    closeForm();
    map.pm.enableDraw('Polygon', {snappable: true});
  });
  map.on('pm:create', function (e) {
    editing = {layer: e.layer, id: null};
    openForm(T.new_plot, {});
  });

  // "Rediger" in the popup of a plot the planner may edit
  lm.layer.on('popupopen', function (e) {
    var p = e.layer.feature.properties;
    if (!canEdit(p)) { return; }
    var content = e.popup.getElement().querySelector('.plot-popup');
    if (!content || content.querySelector('.edit-actions')) { return; }
    var div = document.createElement('div');
    div.className = 'edit-actions';
    var edit = document.createElement('button');
    edit.type = 'button';
    edit.textContent = T.edit;
    edit.className = 'edit-plot';
    edit.addEventListener('click', function () {
      map.closePopup();
      closeForm();
      editing = {layer: e.layer, id: e.layer.feature.id, version: p.version};
      e.layer.pm.enable({snappable: true, allowSelfIntersection: false});
      openForm(p.name, p);
    });
    var hist = document.createElement('a');
    hist.href = cfg.edit.history.replace(/0\/history$/, e.layer.feature.id + '/history');
    hist.textContent = T.history;
    // withdrawal asks for confirmation and a reason on its own page, which offers "Angre"
    var withdraw = document.createElement('a');
    withdraw.href = plotUrl(e.layer.feature.id, '/withdraw');
    withdraw.textContent = T.withdraw;
    withdraw.className = 'withdraw-plot';
    div.appendChild(edit);
    div.appendChild(document.createTextNode(' '));
    div.appendChild(withdraw);
    div.appendChild(document.createTextNode(' '));
    div.appendChild(hist);
    content.appendChild(div);
  });

  // Someone saved first: show their version next to ours, field by field; nothing is lost.
  function showConflict(id, mine, error) {
    say(T.conflict + ' (' + error.description + ')');
    fetch(cfg.edit.history.replace(/0\/history$/, id + '/history').replace('/plots/', '/api/plots/'))
      .then(function (res) { return res.json(); })
      .then(function (h) {
        var theirs = h.versions[h.versions.length - 1];
        var table = document.createElement('table');
        table.className = 'facts conflict';
        var head = table.insertRow();
        ['', T.mine, T.saved_by + ' ' + theirs.changed_by + ' (v' + theirs.version + ')']
          .forEach(function (t) { var th = document.createElement('th'); th.textContent = t;
                                  head.appendChild(th); });
        Object.keys(mine).forEach(function (k) {
          var row = table.insertRow();
          // labels and values as a person reads them, never the field name or true/false
          [I.label(k), I.value(k, mine[k]), I.value(k, theirs.attributes[k])]
            .forEach(function (v) { row.insertCell().textContent = v; });
          if (String(mine[k]) !== String(theirs.attributes[k])) { row.className = 'differ'; }
        });
        status.appendChild(table);
        editing.version = theirs.version;  // the next save is based on what is stored now
      });
  }

  document.getElementById('e-cancel').addEventListener('click', closeForm);
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (!editing) { return; }
    var props = {
      name: form.elements.name.value,
      arealformal: Number(form.elements.arealformal.value),
      availability: form.elements.availability.value,
      price_nok_m2: form.elements.price_nok_m2.value === '' ? null
        : Number(form.elements.price_nok_m2.value),
      published: form.elements.published.checked
    };
    var geometry = editing.layer.toGeoJSON().geometry;
    var url = editing.id ? cfg.edit.update.replace(/0$/, editing.id) : cfg.edit.create;
    var body = {properties: props, geometry: geometry, crs: 'EPSG:4326'};
    if (editing.id) { body.version = editing.version; }
    fetch(url, {
      method: editing.id ? 'PATCH' : 'POST',
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().then(function (data) { return {status: res.status, data: data}; });
    }).then(function (r) {
      if (r.status === 409) {
        showConflict(editing.id, props, r.data);
        return;
      }
      if (r.status >= 400) { say(r.data.description); return; }
      var plot = r.data.plot;
      var done = editing;
      editing = null;
      form.hidden = true;
      if (done.id) { done.layer.pm.disable(); } else { map.removeLayer(done.layer); }
      var msg = T.saved + ': ' + plot.properties.name + ', ' + I.daa(plot.properties.area_daa) +
        ', ' + plot.properties.kommunenavn + ' (' +
        I.t('planner_version_short', {version: plot.properties.version}) + ')';
      (r.data.warnings || []).forEach(function (w) { msg += ' ' + w; });
      say(msg);
      document.body.setAttribute('data-saved-plot', plot.id);
      lm.reload();
      fetch(cfg.edit.scores.replace(/0\/scores$/, plot.id + '/scores'))
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (s) {
          if (!s || !s.scores.length) { return; }
          var best = s.scores[0];
          say(msg + ' — ' + T.score + ': ' +
              (I.lang === 'en' ? best.profile_name_en : best.profile_name_nb) + ' ' +
              I.num(best.score, 1));
          document.body.setAttribute('data-saved-score', best.score);
        });
    }).catch(function (err) { say(T.error + ': ' + err.message); });
  });
}());
