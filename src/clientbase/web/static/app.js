// Render every chart of the page with the vendored vega-embed (no CDN, no inline script).
(function () {
  "use strict";
  function renderCharts(root) {
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById("spec-" + el.dataset.chart);
      if (!source || el.dataset.rendered) { return; }
      el.dataset.rendered = "1";
      window.vegaEmbed(el, JSON.parse(source.textContent), { actions: false, renderer: "svg" })
        .then(function () { el.dataset.rendered = "done"; })
        .catch(function (err) { el.dataset.rendered = "failed"; el.textContent = String(err); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { renderCharts(document); });
})();
