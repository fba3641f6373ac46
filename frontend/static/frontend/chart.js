// Oracle rounds with closed sessions shaded; data comes from json_script.
(function () {
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  const el = document.getElementById("chart");
  if (!data.series.t.length) { el.textContent = "No rounds yet."; return; }
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
    series: [{}, {label: "Reference (USD)", stroke: "#2563eb"}, {label: "Token 24/7 (USD)", stroke: "#f59e0b"}],
  }, [data.series.t, data.series.reference, data.series.token], el);
})();
