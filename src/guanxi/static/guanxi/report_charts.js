/* Report charts: draws the charts described in <script id="gx-charts" type="application/json">
   with ECharts (SVG renderer, so bars and regions are DOM elements). A click on a bar, point or
   region opens its drill-down link. Without ECharts the page still shows every table. */
(function () {
  "use strict";

  var PALETTE = ["#0d6efd", "#dc3545", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#ffc107"];

  function openLink(chart, index, data) {
    var link = (data && data.link) || (chart.links || [])[index];
    if (link) { window.location.assign(link); }
  }

  // Many bars read better lying down (long labels, e.g. 行业, stay legible).
  function isHorizontal(chart) { return chart.kind === "bar" && chart.categories.length > 8; }

  function axisOption(chart, narrow) {
    var many = chart.categories.length > 6;
    var option = {
      color: PALETTE,
      tooltip: { trigger: chart.kind === "line" ? "axis" : "item", confine: true },
      legend: chart.series.length > 1 ? { top: 0 } : undefined,
      grid: { left: 8, right: 16, top: chart.series.length > 1 ? 32 : 16, bottom: 8, containLabel: true },
      xAxis: {
        type: "category",
        data: chart.categories,
        axisLabel: { rotate: many || narrow ? 40 : 0, interval: chart.kind === "line" ? "auto" : 0,
                     width: 96, overflow: "truncate" },
      },
      yAxis: { type: "value", minInterval: 1 },
      series: chart.series.map(function (s) {
        return {
          name: s.name, type: chart.kind === "line" ? "line" : "bar", data: s.values,
          barMaxWidth: 48, cursor: (chart.links || []).length ? "pointer" : "default",
          symbolSize: 7, triggerLineEvent: true, emphasis: { focus: "series" },
        };
      }),
    };
    if (isHorizontal(chart)) {
      option.xAxis = { type: "value", minInterval: 1 };
      option.yAxis = { type: "category", data: chart.categories, inverse: true,
                       axisLabel: { interval: 0, width: narrow ? 72 : 120, overflow: "truncate" } };
    }
    return option;
  }

  function mapOption(chart) {
    var values = chart.series[0] ? chart.series[0].values : [];
    var data = [];
    chart.regions.forEach(function (name, i) {
      if (name) { data.push({ name: name, value: values[i], link: (chart.links || [])[i] }); }
    });
    var max = Math.max.apply(null, [1].concat(values));
    return {
      tooltip: { trigger: "item", formatter: function (p) { return p.name + "：" + (p.value || 0); } },
      visualMap: { min: 0, max: max, left: 8, bottom: 8, calculable: true, itemHeight: 80,
                   inRange: { color: ["#e7f1ff", "#0d6efd"] } },
      series: [{ type: "map", map: "china", roam: false, data: data, cursor: "pointer",
                 name: chart.series[0] ? chart.series[0].name : "",
                 label: { show: false }, emphasis: { label: { show: true } } }],
    };
  }

  function draw(chart, mapReady) {
    var el = document.getElementById(chart.id);
    if (!el) { return; }
    var narrow = el.clientWidth < 420;
    if (chart.kind === "map" && narrow) { el.style.height = "320px"; }
    if (isHorizontal(chart)) { el.style.height = Math.max(300, chart.categories.length * 22 + 48) + "px"; }
    var instance = window.echarts.init(el, null, { renderer: "svg" });
    // Ready once drawn and the entry animation has ended: bars and regions are then where a
    // click (or a browser test) expects them.
    instance.on("finished", function () { el.dataset.ready = "1"; });
    if (chart.kind === "map") {
      mapReady.then(function () { instance.setOption(mapOption(chart)); },
                    function () { el.dataset.ready = "error"; });
    } else {
      instance.setOption(axisOption(chart, narrow));
    }
    instance.on("click", function (p) { openLink(chart, p.dataIndex, p.data); });
    window.addEventListener("resize", function () { instance.resize(); });
  }

  function loadMap(url) {
    return fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error("map " + r.status); } return r.json(); })
      .then(function (json) { window.echarts.registerMap("china", json); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("gx-charts");
    if (!source || !window.echarts) { return; }
    var charts = JSON.parse(source.textContent);
    var needsMap = charts.some(function (c) { return c.kind === "map"; });
    var holder = document.querySelector("[data-map-url]");
    var mapUrl = holder ? holder.dataset.mapUrl : "";
    var mapReady = !needsMap ? Promise.resolve()
      : mapUrl ? loadMap(mapUrl) : Promise.reject(new Error("map data not installed"));
    charts.forEach(function (chart) { draw(chart, mapReady); });
  });
})();
