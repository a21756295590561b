// Draw the figures of the page with the bundled Plotly.js; a click on a cell follows its link.
// An external file (not an inline script), so the Content-Security-Policy can forbid inline code.
// The page's language picks Plotly's locale (static/plotly-locale-ja.js for Japanese).
var plotLocale = document.documentElement.lang === "ja" ? "ja" : "en";
document.querySelectorAll("[data-figure]").forEach(function (el) {
  var figure = JSON.parse(document.getElementById(el.dataset.figure).textContent);
  Plotly.newPlot(el, figure.data, figure.layout, {displayModeBar: false, responsive: true, locale: plotLocale}).then(function () {
    el.on("plotly_click", function (event) {
      var link = event.points && event.points[0] && event.points[0].customdata;
      if (typeof link === "string" && link.charAt(0) === "/") { window.location.href = link; }
    });
    el.dataset.rendered = "true";
  });
});
