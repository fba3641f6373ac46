// A time chart with closed NYSE sessions shaded; data comes from json_script:
// {t: [epoch s], series: [{label, stroke, values}], closed: [[from, to]], empty: "text"}.
// Drawn on load and again after htmx swaps a new chart in (the HF chart appears with the first borrow).
(function () {
  function draw(el) {
    const source = document.getElementById(el.dataset.chart);
    if (!source || el.dataset.drawn === source.textContent.length + "") return;
    const data = JSON.parse(source.textContent);
    el.replaceChildren();
    el.dataset.drawn = source.textContent.length + "";
    if (!data.t.length) { el.textContent = data.empty || "No data yet."; return; }
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
      width: Math.max(280, Math.min(el.clientWidth || 900, 1100)), height: 300, plugins: [shade],
      series: [{}, ...data.series.map(s => ({label: s.label, stroke: s.stroke, dash: s.dash}))],
    }, [data.t, ...data.series.map(s => s.values)], el);
  }

  function drawAll() { document.querySelectorAll("[data-chart]").forEach(draw); }

  drawAll();
  document.addEventListener("htmx:afterSettle", drawAll);
})();
