// A time chart with closed NYSE sessions shaded; data comes from json_script:
// {t: [epoch s], series: [{label, stroke, values}], closed: [[from, to]], empty: "text"}.
(function () {
  for (const el of document.querySelectorAll("[data-chart]")) {
    const data = JSON.parse(document.getElementById(el.dataset.chart).textContent);
    if (!data.t.length) { el.textContent = data.empty || "No data yet."; continue; }
    const shade = {
      hooks: {
        drawClear: [u => {
          const ctx = u.ctx;
          ctx.save();
          ctx.fillStyle = "rgba(120,120,120,0.15)";
          for (const [a, b] of data.closed) {
            const x0 = u.valToPos(a, "x", true), x1 = u.valToPos(b, "x", true);
            ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
          }
          ctx.restore();
        }],
      },
    };
    new uPlot({
      width: Math.min(el.clientWidth || 900, 1100), height: 320, plugins: [shade],
      series: [{}, ...data.series.map(s => ({label: s.label, stroke: s.stroke, dash: s.dash}))],
    }, [data.t, ...data.series.map(s => s.values)], el);
  }
})();
