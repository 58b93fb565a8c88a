// The store's CPU or off-CPU timeline (uPlot). Dragging across the plot selects a range: onSelect(fromMs, toMs).
// The selected range is shaded blue, a diff's baseline orange. Times are UTC, as on the index page.
window.moonwalkTimeline = function (el, T, sel, onSelect) {
  'use strict';
  var colors = ['#d62728', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];
  var data = [T.t, T.total].concat(T.series.map(function (s) { return s.values; }));
  // T.unit: what the rates measure (CPU: samples/s; off-CPU: ms blocked/s)
  var unit = T.unit || 'samples/s';
  var series = [{}, { label: 'all ' + unit, stroke: '#333', width: 1.5, fill: 'rgba(60,60,60,.08)', spanGaps: false }]
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
    axes: [{}, { label: unit, size: 56 }],
    legend: { live: true },
    cursor: { drag: { x: true, y: false, setScale: false }, sync: { key: 'moonwalk' } },
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

// JIT trace-abort sites of the stored windows (each keeps its busiest), summed: where LuaJIT keeps trying to
// compile and gives up. Text only (textContent): site names come from the profiled processes.
window.moonwalkAbortTable = function (el, T) {
  'use strict';
  if (!T.aborts || !T.aborts.length) { return; }
  var box = document.createElement('div');
  box.className = 'jit-aborts';
  var h = document.createElement('div');
  h.className = 'jit-aborts-title';
  h.textContent = 'JIT trace aborts by site, summed over the stored windows (each keeps its busiest sites)';
  box.appendChild(h);
  var table = document.createElement('table');
  var head = document.createElement('tr');
  ['VM', 'trace start', 'reason', 'aborts', 'windows', 'last (UTC)'].forEach(function (t) {
    var th = document.createElement('th');
    th.textContent = t;
    head.appendChild(th);
  });
  table.appendChild(head);
  T.aborts.forEach(function (a) {
    var tr = document.createElement('tr');
    [a.vm, a.site, a.reason, String(a.count), String(a.windows),
      new Date(a.last * 1000).toISOString().substring(11, 19)].forEach(function (t) {
      var td = document.createElement('td');
      td.textContent = t;
      tr.appendChild(td);
    });
    table.appendChild(tr);
  });
  box.appendChild(table);
  el.appendChild(box);
  el.setAttribute('data-abort-rows', String(T.aborts.length));
};

// JIT health per interpreter VM on the timeline's buckets, one chart per meter, cursors synced with the
// timeline: live traces, mcode bytes against the VM's limit (dashed), flushes per bucket; then the abort sites.
window.moonwalkJitCharts = function (el, T) {
  'use strict';
  if (!T.jit || !T.jit.length) { window.moonwalkAbortTable(el, T); return; }
  var colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  var charts = [
    { title: 'JIT traces', unit: 'traces', lines: function (vm, c) { return [[vm.vm + ' traces', vm.traces, c, null]]; } },
    { title: 'mcode (dashed: maxmcode)', unit: 'KiB', lines: function (vm, c) {
      var k = function (a) { return a.map(function (x) { return x == null ? null : x / 1024; }); };
      return [[vm.vm + ' mcode', k(vm.mcode_bytes), c, null], [vm.vm + ' limit', k(vm.max_mcode_bytes), c, [6, 4]]];
    } },
    { title: 'JIT flushes per bucket', unit: 'flushes', lines: function (vm, c) { return [[vm.vm + ' flushes', vm.flushes, c, null]]; } }
  ];
  charts.forEach(function (ch, ci) {
    var box = document.createElement('div');
    box.className = 'jit-chart';
    box.setAttribute('data-chart', String(ci));
    el.appendChild(box);
    var data = [T.t], series = [{}];
    T.jit.forEach(function (vm, vi) {
      ch.lines(vm, colors[vi % colors.length]).forEach(function (l) {
        data.push(l[1]);
        series.push({ label: l[0], stroke: l[2], width: 1.2, dash: l[3] || undefined });
      });
    });
    var plot = new uPlot({
      title: ch.title,
      width: Math.max(el.clientWidth || 0, 300),
      height: 130,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); },
      scales: { x: { time: true } },
      series: series,
      axes: [{}, { label: ch.unit, size: 56 }],
      cursor: { drag: { x: false, y: false }, sync: { key: 'moonwalk' } }
    }, data, box);
    window.addEventListener('resize', function () { plot.setSize({ width: Math.max(el.clientWidth, 300), height: 130 }); });
  });
  el.setAttribute('data-vms', String(T.jit.length));
  window.moonwalkAbortTable(el, T);
};
