// Draws the statistics charts (stats/templates/stats/dashboard.html) with the vendored ECharts.
// The data comes from a json_script element (CSP: no inline script); each chart's table is on the
// page beside it, so the page reads fine without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  var source = document.getElementById("stats-charts");
  if (!source || typeof window.echarts === "undefined") { return; }
  var specs = JSON.parse(source.textContent);
  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var spec = specs[element.getAttribute("data-chart")];
    if (!spec) { return; }
    // A CSSOM write, not a style attribute: allowed by the CSP.
    element.style.width = "100%";
    element.style.height = spec.kind === "line" ? "300px" : Math.max(260, spec.x.length * 18) + "px";
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(option(spec));
    // A bar is a link to the ledger list behind its number (the same URL as the table's cell).
    chart.on("click", function (params) {
      var series = spec.series[params.seriesIndex];
      var url = series && series.urls && series.urls[params.dataIndex];
      if (url) { window.location.href = url; }
    });
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });

  function option(spec) {
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 40, bottom: 48, containLabel: true },
      xAxis: { type: "category", data: spec.x, axisLabel: { interval: 0, rotate: spec.x.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: spec.series.map(function (series) {
        return { name: series.name, type: spec.kind, data: series.data, smooth: false };
      })
    };
  }
});
