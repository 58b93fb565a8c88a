// The store's CPU timeline (uPlot). Dragging across the plot selects a range: onSelect(fromMs, toMs).
// The selected range is shaded blue, a diff's baseline orange. Times are UTC, as on the index page.
window.moonwalkTimeline = function (el, T, sel, onSelect) {
  'use strict';
  var colors = ['#d62728', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];
  var data = [T.t, T.total].concat(T.series.map(function (s) { return s.values; }));
  var series = [{}, { label: 'all samples/s', stroke: '#333', width: 1.5, fill: 'rgba(60,60,60,.08)', spanGaps: false }]
      .concat(T.series.map(function (s, i) { return { label: s.name, stroke: colors[i % colors.length], width: 1 }; }));
  function shade(u, from, to, color) {
    if (from == null || to == null) { return; }
    var x0 = u.valToPos(from / 1000, 'x', true), x1 = u.valToPos(to / 1000, 'x', true);
    var l = Math.max(u.bbox.left, Math.min(x0, x1)), r = Math.min(u.bbox.left + u.bbox.width, Math.max(x0, x1));
    if (r <= l) { return; }
    u.ctx.save();
    u.ctx.fillStyle = color;
    u.ctx.fillRect(l, u.bbox.top, Math.max(r - l, 2), u.bbox.height);
    u.ctx.restore();
  }
  var opts = {
    width: Math.max(el.clientWidth || 0, 300),
    height: 170,
    tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); },
    scales: { x: { time: true } },
    series: series,
    axes: [{}, { label: 'samples/s', size: 56 }],
    legend: { live: true },
    cursor: { drag: { x: true, y: false, setScale: false } },
    hooks: {
      drawClear: [function (u) {
        if (sel) {
          shade(u, sel.bfrom, sel.bto, 'rgba(255,140,0,.18)');
          shade(u, sel.from, sel.to, 'rgba(30,110,230,.16)');
        }
      }],
      setSelect: [function (u) {
        if (u.select.width < 2) { return; }
        var a = u.posToVal(u.select.left, 'x'), b = u.posToVal(u.select.left + u.select.width, 'x');
        onSelect(Math.floor(a * 1000), Math.ceil(b * 1000));
      }]
    }
  };
  var plot = new uPlot(opts, data, el);
  el.setAttribute('data-points', String(T.t.length));
  window.addEventListener('resize', function () { plot.setSize({ width: Math.max(el.clientWidth, 300), height: 170 }); });
  return plot;
};
