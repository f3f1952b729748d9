/* Monitoring charts (ECharts): a factor's values against its permitted limit.
 *
 * GridGovCharts.outletCharts(root, {seriesUrl, labels}) draws, for every outlet section of the
 * enterprise page, its 24-hour (minute) and 30-day (hour) charts of the chosen factor.
 * Elements marked data-gg-case-chart (sources/case_chart.html, on a case's page) draw the
 * case's episode or outage from their data-series-url by themselves.
 * Each chart element gets data-state = loading | ready | empty | error and data-points.
 */
(function (root) {
  "use strict";
  var C = root.GridGovCharts || {};

  function num(v) { return v === "" || v === null || v === undefined ? null : parseFloat(v); }

  function limitLines(low, high, label) {
    var lines = [];
    if (high !== null) lines.push({yAxis: high, name: label, label: {formatter: label + " " + high}});
    if (low !== null) lines.push({yAxis: low, name: label, label: {formatter: label + " " + low}});
    return {silent: true, symbol: "none", lineStyle: {color: "#d0342c", type: "dashed"}, data: lines};
  }

  function state(el, s, points) {
    el.dataset.state = s;
    el.dataset.points = points || 0;
  }

  function chartOf(el) {
    if (!el._chart) el._chart = root.echarts.init(el);
    return el._chart;
  }

  // rows: [{time, value, flag, exceeded}], opts: {title, unit, low, high, labels}
  C.draw = function (el, rows, opts) {
    var labels = opts.labels || {};
    if (!rows.length) {
      if (el._chart) { el._chart.dispose(); el._chart = null; }
      el.innerHTML = '<p class="muted chart-empty">' + (labels.empty || "") + "</p>";
      state(el, "empty", 0);
      return;
    }
    if (!el._chart) el.innerHTML = "";
    var line = rows.map(function (r) { return [r.time, r.value]; });
    var over = rows.filter(function (r) { return r.exceeded === true; }).map(function (r) { return [r.time, r.value]; });
    var gaps = rows.filter(function (r) { return r.flag && r.flag !== "N"; }).map(function (r) { return [r.time, r.value]; });
    var series = [{name: labels.value, type: "line", showSymbol: false, data: line,
                   markLine: limitLines(opts.low, opts.high, labels.limit)}];
    if (over.length) series.push({name: labels.exceeded, type: "scatter", symbolSize: 8, itemStyle: {color: "#d0342c"}, data: over});
    if (gaps.length) series.push({name: labels.gap, type: "scatter", symbolSize: 6, itemStyle: {color: "#999"}, data: gaps});
    chartOf(el).setOption({
      animation: false,
      title: {text: opts.title || "", textStyle: {fontSize: 13}},
      tooltip: {trigger: "axis"},
      legend: {top: 0, right: 0},
      grid: {left: 48, right: 16, top: 36, bottom: 28},
      xAxis: {type: "time"},
      yAxis: {type: "value", name: opts.unit || "", scale: true},
      series: series
    }, true);
    state(el, "ready", rows.length);
  };

  function load(el, url, opts) {
    state(el, "loading", 0);
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .catch(function () {
        el.innerHTML = '<p class="error">' + ((opts.labels || {}).error || "") + "</p>";
        state(el, "error", 0);
        return null;
      });
  }

  C.outletCharts = function (rootEl, opts) {
    rootEl.querySelectorAll(".outlet").forEach(function (section) {
      var select = section.querySelector(".factor-select");
      var box = section.querySelector(".charts");
      if (!select || !box) return;
      function refresh() {
        var o = select.options[select.selectedIndex];
        box.querySelectorAll(".chart").forEach(function (el) {
          var url = opts.seriesUrl + "?mn=" + encodeURIComponent(box.dataset.mn) + "&factor=" +
            encodeURIComponent(o.value) + "&interval=" + el.dataset.interval + "&since=" + encodeURIComponent(el.dataset.since);
          load(el, url, opts).then(function (rows) {
            if (rows === null) return;
            C.draw(el, rows, {title: el.dataset.title + " · " + o.dataset.label, unit: o.dataset.unit,
                              low: num(o.dataset.low), high: num(o.dataset.high), labels: opts.labels});
          });
        });
      }
      select.addEventListener("change", refresh);
      refresh();
    });
  };

  C.caseChart = function (el) {
    var d = el.dataset;
    var labels = {limit: d.labelLimit, value: d.labelValue, exceeded: d.labelExceeded, empty: d.labelEmpty,
                  gap: d.labelOutage, error: d.labelError};
    load(el, d.seriesUrl, {labels: labels}).then(function (body) {
      if (body === null) return;
      var caption = el.parentNode.querySelector(".case-chart-caption");
      if (!body.kind) { C.draw(el, [], {labels: labels}); return; }
      if (caption) {
        caption.textContent = body.enterprise.name + " " + body.outlet.code + " · MN " + body.mn + " · " +
          body.factor_label + "（" + body.factor + "）" + (body.kind === "outage" ? " · " + d.labelOutage : "");
      }
      var limit = body.limit || {};
      C.draw(el, body.hours, {title: body.factor_label, unit: body.unit, low: num(limit.low), high: num(limit.high),
                               labels: labels});
      el.dataset.kind = body.kind;
      el.dataset.exceeded = (body.exceeded_hours || []).length;
    });
  };

  function init() { document.querySelectorAll("[data-gg-case-chart]").forEach(C.caseChart); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();

  root.GridGovCharts = C;
})(window);
