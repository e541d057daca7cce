/* The catalogue (landreg/i18n/text.yaml) for page scripts: words, field and value labels, and
 * numbers in the page's language (Intl with the locale the server names: "1 234,5" in nb).
 * Every page based on base.html or map_page.html carries the bundle as JSON in
 * #landreg-i18n; scripts use window.LandregI18n:
 *   t('map'), t('n_plots', {count: 3})   a UI text, placeholders filled
 *   label('area_daa')                    a field's label
 *   value('availability', 'ledig')       a coded value's label (true/false: Ja/Nei)
 *   num(43.7, 1), daa(43.7)              "43,7", "43,7 daa"
 * An unknown key shows the key in brackets (and warns) rather than "undefined".
 */
(function () {
  'use strict';
  var el = document.getElementById('landreg-i18n');
  var B = el ? JSON.parse(el.textContent) : {lang: 'nb', locale: 'nb-NO', text: {}, fields: {}, values: {}};
  var formats = {};
  function missing(kind, key) {
    if (window.console) { console.warn('landreg-i18n: no ' + kind + ' for ' + key); }
    return '[' + key + ']';
  }
  function num(value, digits) {
    if (value === null || value === undefined || value === '' || isNaN(value)) { return '–'; }
    var d = digits === undefined ? 1 : digits;
    if (!formats[d]) {
      formats[d] = new Intl.NumberFormat(B.locale, {minimumFractionDigits: d, maximumFractionDigits: d});
    }
    return formats[d].format(Number(value));
  }
  function t(key, params) {
    var text = B.text[key];
    if (text === undefined) { return missing('text', key); }
    if (params) {
      text = text.replace(/\{(\w+)\}/g, function (m, name) {
        return params[name] === undefined ? m : String(params[name]);
      });
    }
    return text;
  }
  window.LandregI18n = {
    lang: B.lang,
    locale: B.locale,
    t: t,
    num: num,
    daa: function (value, digits) {
      return value === null || value === undefined ? '–' : num(value, digits === undefined ? 1 : digits) + '\u00a0daa';
    },
    label: function (field) {
      return B.fields[field] === undefined ? missing('label', field) : B.fields[field];
    },
    value: function (field, value) {
      if (value === null || value === undefined || value === '') { return '–'; }
      if (value === true || value === false) { return B.values.bool[String(value)]; }
      var labels = B.values[field];
      if (labels && labels[value] !== undefined) { return labels[value]; }
      if (typeof value === 'number') { return num(value, Number.isInteger(value) ? 0 : 1); }
      return String(value);
    }
  };
}());
