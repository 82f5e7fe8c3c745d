// hangdoc report: the stack group filters and the flame graph zoom. Evidence text is read
// from the DOM as text and written back only through textContent, never as markup.
(function () {
  'use strict';

  var search = document.getElementById('group-search');
  var stateFilter = document.getElementById('state-filter');
  var countOut = document.getElementById('group-count');
  var groups = Array.prototype.slice.call(document.querySelectorAll('#group-list .group'));
  var texts = groups.map(function (g) { return g.textContent.toLowerCase(); });

  function filterGroups() {
    var terms = search ? search.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
    var state = stateFilter ? stateFilter.value : '*';
    var shown = 0, goroutines = 0;
    groups.forEach(function (g, i) {
      var ok = (state === '*' || g.getAttribute('data-state') === state) &&
        terms.every(function (t) { return texts[i].indexOf(t) >= 0; });
      g.hidden = !ok;
      if (ok) { shown += 1; goroutines += Number(g.getAttribute('data-count')) || 0; }
    });
    if (countOut) {
      countOut.textContent = shown + ' of ' + groups.length + ' groups, ' + goroutines + ' goroutines';
    }
  }
  if (search) { search.addEventListener('input', filterGroups); }
  if (stateFilter) { stateFilter.addEventListener('change', filterGroups); }
  filterGroups();

  // Flame graph: clicking a box stretches it to the full width; boxes outside it hide.
  var svg = document.getElementById('flame-svg');
  if (svg) {
    var WIDTH = 1200, CHAR_W = 6.6;
    var boxes = Array.prototype.slice.call(svg.querySelectorAll('.fb')).map(function (g) {
      return {
        g: g, rect: g.querySelector('rect'), text: g.querySelector('text'),
        x: Number(g.getAttribute('data-x')), w: Number(g.getAttribute('data-w')),
        name: g.getAttribute('data-n') || ''
      };
    });
    var fit = function (name, w) {
      var max = Math.floor((w - 6) / CHAR_W);
      if (max < 3) { return ''; }
      return name.length <= max ? name : name.slice(0, max - 1) + '\u2026';
    };
    var zoom = function (zx, zw) {
      var k = WIDTH / zw;
      boxes.forEach(function (b) {
        var x0 = Math.max(0, (b.x - zx) * k), x1 = Math.min(WIDTH, (b.x + b.w - zx) * k);
        var visible = x1 - x0 >= 0.3 && b.x + b.w > zx + 1e-6 && b.x < zx + zw - 1e-6;
        b.g.style.display = visible ? '' : 'none';
        if (!visible) { return; }
        b.rect.setAttribute('x', x0.toFixed(2));
        b.rect.setAttribute('width', (x1 - x0).toFixed(2));
        b.text.setAttribute('x', (x0 + 3).toFixed(2));
        b.text.textContent = fit(b.name, x1 - x0);
      });
    };
    boxes.forEach(function (b) {
      b.g.addEventListener('click', function () { zoom(b.x, b.w); });
    });
    var reset = document.getElementById('flame-reset');
    if (reset) { reset.addEventListener('click', function () { zoom(0, WIDTH); }); }
  }
}());
