/* landreg: save the comparison on screen under a name (planners). */
(function () {
  'use strict';
  var form = document.getElementById('save-comparison');
  var data = JSON.parse(document.getElementById('comparison-data').textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var status = document.getElementById('save-status');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    fetch('/api/comparisons', {
      method: 'POST',
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
      body: JSON.stringify({name: form.elements.name.value, profile: data.profile,
                            plots: data.plots, weights: data.weights})
    }).then(function (res) { return res.json().then(function (b) { return [res.ok, b]; }); })
      .then(function (r) {
        if (!r[0]) { status.textContent = r[1].description; return; }
        status.replaceChildren();
        var a = document.createElement('a');
        a.href = r[1].url;
        a.id = 'saved-link';
        a.textContent = window.LandregI18n.t('saved') + ': ' + r[1].name;
        status.appendChild(a);
      });
  });
}());
