/* Charts of a quality station's page (ECharts, vendored at static/vendor/echarts/).
 *
 *   GridGovQualityCharts.station(document, config)   // config: the page's #quality-config JSON
 *
 * Draws into every element marked data-quality-chart = "air-hour" | "air-day" | "water-hour" |
 * "water-day", reading GET {seriesUrl}?interval=&since=&until= (the element's data-since and
 * data-until). Each chart element gets data-state = loading | ready | empty | error and
 * data-points = the rows drawn.
 */
(function (root) {
  "use strict";
  var Q = root.GridGovQualityCharts || {};

  function state(el, s, n) { el.dataset.state = s; el.dataset.points = n || 0; }

  function empty(el, text) {
    if (el._chart) { el._chart.dispose(); el._chart = null; }
    el.innerHTML = '<p class="muted chart-empty"></p>';
    el.firstChild.textContent = text || "";
  }

  function chartOf(el) {
    if (!el._chart) { el.innerHTML = ""; el._chart = root.echarts.init(el); }
    return el._chart;
  }

  function aqiValue(r) { return typeof r.aqi === "number" ? r.aqi : null; }

  function tooltipAqi(cfg) {
    return function (params) {
      var r = params[0] && params[0].data && params[0].data.row;
      if (!r) return "";
      var head = (r.time ? new Date(r.time).toLocaleString() : r.date) + "<br>";
      if (typeof r.aqi !== "number") return head + "AQI " + cfg.labels.na;
      var primary = (r.primary || []).map(function (k) { return cfg.pollutants[k] || k; }).join("、");
      return head + "AQI <b>" + r.aqi + "</b> " + (r.level_label || "") +
        (primary ? "<br>" + cfg.labels.primary + "：" + primary : "") + "<br>" + r.standard;
    };
  }

  var draw = {};

  draw["air-hour"] = function (el, rows, cfg) {
    var aqi = rows.map(function (r) { return {value: [r.time, aqiValue(r)], row: r, itemStyle: {color: r.color || "#999"}}; });
    function conc(key) { return rows.map(function (r) { return [r.time, r.concentrations[key]]; }); }
    chartOf(el).setOption({
      animation: false,
      title: {text: el.dataset.title || "", textStyle: {fontSize: 13}},
      tooltip: {trigger: "axis", formatter: tooltipAqi(cfg)},
      legend: {top: 0, right: 0},
      grid: {left: 48, right: 56, top: 36, bottom: 28},
      xAxis: {type: "time"},
      yAxis: [{type: "value", name: "AQI", min: 0}, {type: "value", name: "μg/m³", min: 0}],
      series: [
        {name: "AQI", type: "line", showSymbol: true, symbolSize: 4, data: aqi, lineStyle: {color: "#555"}},
        {name: cfg.pollutants.pm25, type: "line", showSymbol: false, yAxisIndex: 1, data: conc("pm25")},
        {name: cfg.pollutants.o3, type: "line", showSymbol: false, yAxisIndex: 1, data: conc("o3")}
      ]
    }, true);
  };

  draw["air-day"] = function (el, rows, cfg) {
    var bars = rows.map(function (r) { return {value: [r.date, aqiValue(r)], row: r, itemStyle: {color: r.color || "#bbb"}}; });
    chartOf(el).setOption({
      animation: false,
      title: {text: el.dataset.title || "", textStyle: {fontSize: 13}},
      tooltip: {trigger: "axis", formatter: tooltipAqi(cfg)},
      grid: {left: 48, right: 16, top: 36, bottom: 28},
      xAxis: {type: "time"},
      yAxis: {type: "value", name: "AQI", min: 0},
      series: [{name: "AQI", type: "bar", data: bars, barMaxWidth: 8,
                markLine: {silent: true, symbol: "none", lineStyle: {type: "dashed", color: "#c00"},
                           data: [{yAxis: 100, label: {formatter: cfg.labels.good}}]}}]
    }, true);
  };

  draw["water-hour"] = function (el, rows, cfg) {
    var select = document.querySelector("[data-quality-factor]");
    var code = select ? select.value : cfg.factors[0];
    var line = rows.filter(function (r) { return r.values[code] !== undefined; })
                   .map(function (r) { return [r.time, r.values[code]]; });
    chartOf(el).setOption({
      animation: false,
      title: {text: el.dataset.title || "", textStyle: {fontSize: 13}},
      tooltip: {trigger: "axis"},
      grid: {left: 48, right: 16, top: 36, bottom: 28},
      xAxis: {type: "time"},
      yAxis: {type: "value", name: "mg/L", scale: true},
      series: [{name: cfg.factorLabels[code] || code, type: "line", showSymbol: true, symbolSize: 4, data: line}]
    }, true);
    return line.length;
  };

  draw["water-day"] = function (el, rows, cfg) {
    var classes = cfg.classes;  // [[code, label, colour], …] from I to 劣Ⅴ
    var index = {};
    classes.forEach(function (c, i) { index[c[0]] = i; });
    var bars = rows.filter(function (r) { return r["class"]; }).map(function (r) {
      return {value: [r.date, index[r["class"]] + 1], row: r, itemStyle: {color: r.color}};
    });
    var target = cfg.target ? index[cfg.target] + 1 : null;
    chartOf(el).setOption({
      animation: false,
      title: {text: el.dataset.title || "", textStyle: {fontSize: 13}},
      tooltip: {trigger: "axis", formatter: function (p) {
        var r = p[0] && p[0].data.row;
        return r ? r.date + "<br>" + r.class_label + (r.worst.length ? "（" + r.worst.map(function (f) { return cfg.factorLabels[f] || f; }).join("、") + "）" : "") : "";
      }},
      grid: {left: 56, right: 16, top: 36, bottom: 28},
      xAxis: {type: "time"},
      yAxis: {type: "value", min: 0, max: classes.length, interval: 1,
              axisLabel: {formatter: function (v) { return v >= 1 ? classes[v - 1][1] : ""; }}},
      series: [{name: cfg.labels.waterClass, type: "bar", data: bars, barMaxWidth: 8,
                markLine: target ? {silent: true, symbol: "none", lineStyle: {type: "dashed", color: "#c00"},
                                    data: [{yAxis: target, label: {formatter: cfg.labels.target}}]} : undefined}]
    }, true);
    return bars.length;
  };

  function load(el, cfg) {
    var kind = el.dataset.qualityChart;
    var interval = kind.split("-")[1];
    var url = cfg.seriesUrl + "?interval=" + interval + "&since=" + el.dataset.since + "&until=" + el.dataset.until;
    state(el, "loading");
    return fetch(url, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (body) {
      el._rows = body.rows;
      render(el, cfg);
    }).catch(function () {
      empty(el, cfg.labels.error);
      state(el, "error");
    });
  }

  function render(el, cfg) {
    var rows = el._rows || [];
    if (!rows.length) { empty(el, cfg.labels.empty); state(el, "empty"); return; }
    var n = draw[el.dataset.qualityChart](el, rows, cfg);
    if (n === 0) { empty(el, cfg.labels.empty); state(el, "empty"); return; }
    state(el, "ready", typeof n === "number" ? n : rows.length);
  }

  Q.station = function (doc, cfg) {
    var charts = Array.prototype.slice.call(doc.querySelectorAll("[data-quality-chart]"));
    charts.forEach(function (el) { load(el, cfg); });
    var select = doc.querySelector("[data-quality-factor]");
    if (select) {
      select.addEventListener("change", function () {
        charts.filter(function (el) { return el.dataset.qualityChart === "water-hour"; })
              .forEach(function (el) { render(el, cfg); });
      });
    }
    root.addEventListener("resize", function () {
      charts.forEach(function (el) { if (el._chart) el._chart.resize(); });
    });
  };

  root.GridGovQualityCharts = Q;
})(window);
