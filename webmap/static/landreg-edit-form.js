/* landreg: after a refused save, move the keyboard focus to the message that says why. */
(function () {
  'use strict';
  var box = document.getElementById('form-error');
  if (box) { box.focus(); }
}());
