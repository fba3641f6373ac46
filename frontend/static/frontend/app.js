// Small page behaviour, no inline script (the CSP forbids it): live countdowns to the next open or close,
// the Max button of the action forms, and focus on a form htmx has just opened.
(function () {
  "use strict";

  function countdown(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600),
      m = Math.floor(seconds % 3600 / 60), s = seconds % 60, pad = n => String(n).padStart(2, "0");
    if (d) return d + "d " + h + "h " + pad(m) + "m";
    if (h) return h + "h " + pad(m) + "m " + pad(s) + "s";
    return m + "m " + pad(s) + "s";
  }

  function tick() {
    const now = Date.now();
    for (const el of document.querySelectorAll("time[data-countdown]")) {
      const left = (Date.parse(el.getAttribute("datetime")) - now) / 1000;
      el.textContent = left > 0 ? countdown(left) : "now";
    }
  }

  // Max: the preview fragment carries the current limit in data-max ("max" when it is the whole balance or debt).
  document.addEventListener("click", event => {
    const button = event.target.closest("button[data-max-for]");
    if (!button) return;
    const input = document.getElementById(button.dataset.maxFor);
    const limit = button.form && button.form.querySelector("[data-max]");
    if (!input || !limit) return;
    input.value = limit.dataset.max;
    input.dispatchEvent(new Event("input", {bubbles: true}));
    input.focus();
  });

  document.addEventListener("htmx:afterSwap", event => {
    const target = event.detail.target;
    if (target && target.id === "action-panel") {
      const amount = target.querySelector("input[name=amount]");
      target.scrollIntoView({block: "nearest"});
      if (amount) amount.focus();
    }
  });
  document.addEventListener("htmx:afterSettle", tick);

  document.addEventListener("DOMContentLoaded", tick);
  setInterval(tick, 1000);
})();
