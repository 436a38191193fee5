// Dashboards: every [data-chart] element is an ECharts chart drawn from the table beside it (data-table="ID":
// rows with data-label, data-value and optionally data-previous), so the table is the chart's data and its text
// alternative at once. window.hotlineDashboards.redraw(ID) redraws a chart after its table changed (the big screen).
(function () {
  "use strict";
  if (typeof echarts === "undefined") return;
  var dark = document.body.classList.contains("dash-screen-body");
  var charts = {};
  var PALETTE = ["#1f6fd1", "#14a37f", "#f2a33a", "#d9534f", "#7a5cc7", "#2bb3c0", "#8c9aab", "#c77dba"];

  function rows(table) {
    var out = [];
    table.querySelectorAll("tbody tr[data-label]").forEach(function (tr) {
      var value = tr.getAttribute("data-value");
      if (value === "" || value === null) return; // nothing to measure (shown as — in the table)
      out.push({
        label: tr.getAttribute("data-label"),
        value: Number(value),
        previous: tr.hasAttribute("data-previous") ? Number(tr.getAttribute("data-previous")) : null
      });
    });
    return out;
  }

  function option(kind, data) {
    var labels = data.map(function (d) { return d.label; });
    var values = data.map(function (d) { return d.value; });
    var base = { color: PALETTE, animationDuration: 300, backgroundColor: "transparent",
      tooltip: { trigger: kind === "pie" ? "item" : "axis" },
      grid: { left: 12, right: 24, top: 24, bottom: 12, containLabel: true } };
    if (kind === "pie") {
      base.series = [{ type: "pie", radius: ["35%", "68%"], data: data.filter(function (d) { return d.value > 0; })
        .map(function (d) { return { name: d.label, value: d.value }; }), label: { formatter: "{b} {c}" } }];
      return base;
    }
    if (kind === "hbar" || kind === "hbar2") {
      base.yAxis = { type: "category", data: labels.slice().reverse(), axisLabel: { width: 160, overflow: "truncate" } };
      base.xAxis = { type: "value", minInterval: 1 };
      base.series = [{ name: "本期", type: "bar", barMaxWidth: 28, data: values.slice().reverse(), label: { show: true, position: "right" } }];
      if (kind === "hbar2") {
        base.legend = { data: ["本期", "上期"], top: 0 };
        base.series.push({ name: "上期", type: "bar", data: data.map(function (d) { return d.previous; }).reverse() });
      }
      return base;
    }
    base.xAxis = { type: "category", data: labels, boundaryGap: kind !== "line" };
    base.yAxis = { type: "value", minInterval: 1 };
    base.series = [{ type: kind === "line" ? "line" : "bar", data: values, smooth: kind === "line",
      areaStyle: kind === "line" ? { opacity: 0.15 } : undefined }];
    return base;
  }

  function draw(el) {
    var id = el.getAttribute("data-table");
    var table = document.getElementById(id);
    if (!table) return;
    var chart = charts[id] || echarts.init(el, dark ? "dark" : null, { renderer: "canvas" });
    charts[id] = chart;
    chart.setOption(option(el.getAttribute("data-chart"), rows(table)), true);
    el.setAttribute("data-drawn", String(Number(el.getAttribute("data-drawn") || "0") + 1));
  }

  document.querySelectorAll("[data-chart]").forEach(draw);
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  window.hotlineDashboards = {
    charts: charts,
    redraw: function (id) {
      var el = document.querySelector('[data-chart][data-table="' + id + '"]');
      if (el) draw(el);
    }
  };
})();
