/* landreg: upload a file, show the dry run per feature, then import all of it or nothing. */
(function () {
  'use strict';
  var form = document.getElementById('import-form');
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var status = document.getElementById('import-status');
  var apply = document.getElementById('import-apply');
  var partial = document.getElementById('import-apply-valid');
  var skips = document.getElementById('import-skipped');

  function send(dryRun, allowPartial) {
    var data = new FormData();
    data.append('file', form.elements.file.files[0]);
    data.append('kommune', form.elements.kommune.value);
    data.append('crs', form.elements.crs.value);
    form.elements.map.value.split('\n').forEach(function (line) {
      if (line.trim()) { data.append('map', line.trim()); }
    });
    data.append('dry_run', dryRun ? 'true' : 'false');
    if (allowPartial) { data.append('allow_partial', 'true'); }
    status.textContent = dryRun ? 'Prøvekjører …' : 'Importerer …';
    return fetch('/api/import', {method: 'POST', headers: {'X-CSRFToken': csrf}, body: data})
      .then(function (res) {
        return res.json().then(function (body) { return {ok: res.ok, body: body}; });
      });
  }
  function show(r) {
    if (!r.ok) { status.textContent = r.body.description; return; }
    var b = r.body;
    document.getElementById('import-report').hidden = false;
    var c = b.counts;
    document.getElementById('import-counts').textContent =
      'nye ' + (c.create || 0) + ', endres ' + (c.update || 0) + ', uendret ' +
      (c.unchanged || 0) + ', hoppet over (ikke næringsareal) ' + (c.skipped || 0) +
      ', avvist ' + (c.rejected || 0);
    skips.replaceChildren();
    Object.keys(b.skipped_by_code || {}).forEach(function (label) {
      var li = document.createElement('li');
      li.textContent = label + ': ' + b.skipped_by_code[label];
      skips.appendChild(li);
    });
    var rows = document.getElementById('import-rows');
    rows.replaceChildren();
    b.features.forEach(function (f, i) {
      var tr = document.createElement('tr');
      [i + 1, f.action, f.name || '', (f.reasons || []).map(function (x) {
        return x.message || x;
      }).join('; ')].forEach(function (v) {
        var td = document.createElement('td');
        td.textContent = v;
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
    var todo = (c.create || 0) + (c.update || 0);
    apply.hidden = !b.dry_run || (c.rejected || 0) > 0 || !todo;
    partial.hidden = !b.dry_run || !(c.rejected || 0) || !todo;
    status.textContent = b.dry_run ? 'Prøvekjøring: ingenting er skrevet.' : 'Importert.';
    document.body.setAttribute('data-import', b.dry_run ? 'dry-run' : 'applied');
  }
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    send(true).then(show);
  });
  apply.addEventListener('click', function () { send(false).then(show); });
  partial.addEventListener('click', function () { send(false, true).then(show); });
}());
