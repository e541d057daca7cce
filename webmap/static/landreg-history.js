/* landreg: restore an earlier version of a plot as a new version (history page). Asks first;
 * a refusal (someone saved meanwhile, no rights) is said in the page's language. */
(function () {
  'use strict';
  var I = window.LandregI18n;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var status = document.getElementById('restore-status');
  document.querySelectorAll('button.restore-version').forEach(function (button) {
    button.addEventListener('click', function () {
      if (!window.confirm(I.t('planner_hist_restore_confirm', {version: button.dataset.version}))) {
        return;
      }
      button.disabled = true;
      fetch(button.dataset.url, {
        method: 'POST',
        headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
        body: JSON.stringify({version: Number(button.dataset.current)})
      }).then(function (res) {
        return res.json().then(function (body) { return {ok: res.ok, status: res.status, body: body}; });
      }).then(function (r) {
        if (r.ok) { window.location.reload(); return; }
        button.disabled = false;
        var message = r.status === 409
          ? I.t('planner_stale_action', {version: (r.body.details || {}).current_version})
          : (r.body.description || String(r.status));
        status.textContent = I.t('planner_hist_restore_failed', {message: message});
      }).catch(function (err) {
        button.disabled = false;
        status.textContent = I.t('planner_hist_restore_failed', {message: err.message});
      });
    });
  });
}());
