/* landreg: upload a file, show the dry run (every reason of every rejected area at once), then
 * import all of it or only the valid ones, and list what was created, updated, left unchanged
 * or skipped, with links to the plots. Every word from the catalogue (LandregI18n); the
 * server's messages come in the page's language (form field "lang"). The DOM is built with
 * createElement and textContent only. */
(function () {
  'use strict';
  var T = window.LandregI18n;
  var form = document.getElementById('import-form');
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var status = document.getElementById('import-status');
  var error = document.getElementById('import-error');
  var report = document.getElementById('import-report');
  var heading = document.getElementById('import-report-h');
  var apply = document.getElementById('import-apply');
  var partial = document.getElementById('import-apply-valid');
  var busy = false;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }
  function fileName() {
    var f = form.elements.file.files[0];
    return f ? f.name : '';
  }
  function fill(listId, items, make) {
    var list = document.getElementById(listId);
    list.replaceChildren();
    items.forEach(function (item) { list.appendChild(make(item)); });
    document.getElementById(listId + '-box').hidden = items.length === 0;
  }
  function reasonsOf(f) {
    var ul = el('ul', null, 'import-reasons');
    (f.reasons || []).forEach(function (r) { ul.appendChild(el('li', r.message)); });
    return ul;
  }
  function send(dryRun, allowPartial) {
    var file = form.elements.file.files[0];
    if (!file) {
      error.textContent = T.t('imp_choose_file');
      error.hidden = false;
      form.elements.file.focus();
      return Promise.resolve(null);
    }
    var data = new FormData();
    data.append('file', file);
    data.append('kommune', form.elements.kommune.value);
    data.append('crs', form.elements.crs.value);
    data.append('lang', T.lang);
    form.elements.map.value.split('\n').forEach(function (line) {
      if (line.trim()) { data.append('map', line.trim()); }
    });
    data.append('dry_run', dryRun ? 'true' : 'false');
    if (allowPartial) { data.append('allow_partial', 'true'); }
    error.hidden = true;
    busy = true;
    [apply, partial].forEach(function (b) { b.disabled = true; });
    status.textContent = T.t(dryRun ? 'imp_running_dry' : 'imp_running', {file: file.name});
    return fetch('/api/import', {method: 'POST', headers: {'X-CSRFToken': csrf}, body: data})
      .then(function (res) {
        return res.json().then(function (body) { return {ok: res.ok, body: body}; },
          function () { return {ok: false, body: {description: res.statusText}}; });
      })
      .finally(function () {
        busy = false;
        [apply, partial].forEach(function (b) { b.disabled = false; });
      });
  }
  function counts(b) {
    var c = b.counts;
    return T.t(b.dry_run ? 'imp_counts' : 'imp_counts_done', {
      create: T.num(c.create || 0, 0), update: T.num(c.update || 0, 0),
      unchanged: T.num(c.unchanged || 0, 0), skipped: T.num(c.skipped || 0, 0),
      rejected: T.num(c.rejected || 0, 0)});
  }
  function plotItem(f) {
    var li = el('li');
    var name = f.name || (T.t('imp_col_row') + ' ' + f.row);
    if (f.url) {
      var a = el('a', name);
      a.href = f.url;
      li.appendChild(a);
    } else {
      li.appendChild(el('span', name));
    }
    if (f.published !== undefined) {
      li.appendChild(document.createTextNode(' · ' + T.t(f.published ? 'imp_is_published' : 'imp_not_published')));
    }
    if (f.skipped) { li.appendChild(document.createTextNode(' · ' + f.skipped)); }
    if (f.changes) {
      li.appendChild(document.createTextNode(' · ' + f.changes.map(function (c) {
        return c === 'geometry' ? T.t('imp_changed_geometry') : T.label(c);
      }).join(', ')));
    }
    return li;
  }
  function groups(b) {
    var box = document.getElementById('import-groups');
    box.replaceChildren();
    ['create', 'update', 'unchanged', 'skipped'].forEach(function (action) {
      var items = (b.plots || {})[action] || [];
      if (!items.length) { return; }
      box.appendChild(el('h4', T.t('imp_group_' + action) + ' (' + T.num(b.counts[action] || 0, 0) + ')'));
      var ul = el('ul', null, 'import-list');
      ul.setAttribute('data-action', action);
      items.forEach(function (f) { ul.appendChild(plotItem(f)); });
      box.appendChild(ul);
    });
  }
  function show(r) {
    if (!r) { return; }
    if (!r.ok) {
      status.textContent = '';
      error.textContent = r.body.description || r.body.message || String(r.body.code || '');
      error.hidden = false;
      return;
    }
    var b = r.body;
    report.hidden = false;
    document.getElementById('import-counts').textContent = counts(b);
    document.getElementById('import-rejected-h').textContent =
      T.t(b.dry_run ? 'imp_rejected_h' : 'imp_group_rejected');
    fill('import-rejected', b.rejected || [], function (f) {
      var li = el('li');
      li.appendChild(el('strong', T.t('imp_col_row') + ' ' + f.row + (f.name ? ' – ' + f.name : '')));
      li.appendChild(reasonsOf(f));
      return li;
    });
    var notes = (b.warnings || []).slice();
    b.features.forEach(function (f) {
      (f.warnings || []).forEach(function (w) { notes.push(T.t('imp_col_row') + ' ' + f.row + ': ' + w); });
    });
    fill('import-warnings', notes, function (w) { return el('li', w); });
    fill('import-skipped', Object.keys(b.skipped_by_code || {}), function (label) {
      return el('li', label + ': ' + T.num(b.skipped_by_code[label], 0));
    });
    var rows = document.getElementById('import-rows');
    rows.replaceChildren();
    b.features.forEach(function (f) {
      var tr = el('tr');
      tr.appendChild(el('td', T.num(f.row, 0)));
      tr.appendChild(el('td', T.t((b.dry_run || f.action === 'rejected' ? 'imp_action_' : 'imp_done_') + f.action)));
      tr.appendChild(el('td', f.name || '–'));
      var td = el('td');
      if (f.reasons) { td.appendChild(reasonsOf(f)); } else { td.textContent = f.skipped || ''; }
      tr.appendChild(td);
      rows.appendChild(tr);
    });
    var total = Object.keys(b.counts).reduce(function (s, k) { return s + b.counts[k]; }, 0);
    var more = document.getElementById('import-more');
    more.hidden = b.features.length >= total;
    more.textContent = T.t('imp_more_features', {shown: T.num(b.features.length, 0), total: T.num(total, 0)});
    var c = b.counts;
    var todo = (c.create || 0) + (c.update || 0);
    apply.hidden = !b.dry_run || (c.rejected || 0) > 0 || !todo;
    partial.hidden = !b.dry_run || !(c.rejected || 0) || !todo;
    document.getElementById('import-done').hidden = b.dry_run;
    if (!b.dry_run) { groups(b); }
    status.textContent = T.t(b.dry_run ? 'imp_dry_done' : 'imp_done', {file: b.file || fileName()});
    document.body.setAttribute('data-import', b.dry_run ? 'dry-run' : 'applied');
    heading.focus();
  }
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (!busy) { send(true).then(show); }
  });
  apply.addEventListener('click', function () { if (!busy) { send(false).then(show); } });
  partial.addEventListener('click', function () { if (!busy) { send(false, true).then(show); } });
}());
