// Render every chart of the page with the vendored vega-embed (no CDN, no inline script).
(function () {
  "use strict";
  // The language's number and time formats (built from Babel's CLDR data by the server).
  function locale() {
    var source = document.getElementById("vega-locale");
    return source ? JSON.parse(source.textContent) : {};
  }
  function renderCharts(root) {
    var loc = locale();
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById("spec-" + el.dataset.chart);
      if (!source || el.dataset.rendered) { return; }
      el.dataset.rendered = "1";
      window.vegaEmbed(el, JSON.parse(source.textContent), {
        actions: false,
        renderer: "svg",
        formatLocale: loc.number,
        timeFormatLocale: loc.time
      })
        .then(function () { el.dataset.rendered = "done"; })
        .catch(function (err) { el.dataset.rendered = "failed"; el.textContent = String(err); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { renderCharts(document); });
})();
