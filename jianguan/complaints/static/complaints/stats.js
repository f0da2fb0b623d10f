/* Statistics charts (ECharts): the data comes from <script type="application/json" id="stats-data"> (json_script),
   the Jiangsu city outlines from the vendored GeoJSON; no inline script (CSP script-src 'self'). */
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  var KIND_LABELS = { complaint: "投诉", report: "举报", consultation: "咨询", suggestion: "建议", help: "求助" };

  ready(function () {
    var node = document.getElementById("stats-data");
    if (!node || typeof echarts === "undefined") { return; }
    var data = JSON.parse(node.textContent);
    var charts = [];
    function chart(id) {
      var el = document.getElementById(id);
      if (!el) { return null; }
      var c = echarts.init(el);
      charts.push(c);
      return c;
    }

    var monthly = chart("chart-monthly");
    if (monthly) {
      var months = data.monthly.map(function (m) { return m.month; });
      monthly.setOption({
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 40, right: 10, top: 30, bottom: 30 },
        xAxis: { type: "category", data: months },
        yAxis: { type: "value" },
        series: Object.keys(KIND_LABELS).map(function (k) {
          return { name: KIND_LABELS[k], type: "bar", stack: "total", data: data.monthly.map(function (m) { return m[k]; }) };
        })
      });
    }

    var category = chart("chart-category");
    if (category) {
      var cats = data.by_category.slice(0, 12).reverse();
      category.setOption({
        tooltip: {},
        grid: { left: 90, right: 20, top: 10, bottom: 20 },
        xAxis: { type: "value" },
        yAxis: { type: "category", data: cats.map(function (c) { return c.name; }) },
        series: [{ type: "bar", data: cats.map(function (c) { return c.count; }) }]
      });
    }

    var department = chart("chart-department");
    if (department) {
      department.setOption({
        tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["35%", "70%"],
          data: data.by_department.map(function (d) { return { name: d.name || d.code, value: d.count }; }) }]
      });
    }

    var mapEl = document.getElementById("chart-map");
    if (mapEl) {
      fetch(mapEl.getAttribute("data-geo"), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (geo) {
          echarts.registerMap("jiangsu", geo);
          var values = data.by_city.filter(function (c) { return c.code !== "320000"; })
            .map(function (c) { return { name: c.name, value: c.count }; });
          var max = values.reduce(function (m, v) { return Math.max(m, v.value); }, 1);
          var map = chart("chart-map");
          map.setOption({
            tooltip: { trigger: "item", formatter: "{b}: {c}" },
            visualMap: { min: 0, max: max, left: 0, bottom: 0, calculable: true,
              inRange: { color: ["#e6effa", "#1f4e8c"] } },
            series: [{ type: "map", map: "jiangsu", roam: false, label: { show: true, fontSize: 10 }, data: values }]
          });
        })
        .catch(function () { mapEl.textContent = "—"; });
    }

    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  });
})();
