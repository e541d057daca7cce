/* landreg: restore an earlier version of a plot as a new version (history page). */
(function () {
  'use strict';
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var status = document.getElementById('restore-status');
  document.querySelectorAll('button.restore-version').forEach(function (button) {
    button.addEventListener('click', function () {
      fetch(button.dataset.url, {
        method: 'POST',
        headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
        body: JSON.stringify({version: Number(button.dataset.current)})
      }).then(function (res) {
        return res.json().then(function (body) { return {ok: res.ok, body: body}; });
      }).then(function (r) {
        if (!r.ok) { status.textContent = r.body.description; return; }
        window.location.reload();
      });
    });
  });
}());
