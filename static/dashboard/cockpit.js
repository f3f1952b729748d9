/* The cockpit around the map: KPI cards, charts (Apache ECharts), 我的待办 and the ranking.
   Words come translated from the page (opts.labels, keyed by name: dashboard/labels.py), numbers
   from /api/dashboard/overview/, /todo/ and /ranking/. The map (dashboard.js) calls area() on
   every drill-down, so the figures always describe the area shown. */
(function (root) {
  "use strict";
  var esc = GridGov.escape;
  var LABELS = {};
  function t(key) { return LABELS[key] || key; }
  function getJSON(url) {
    return fetch(url, {credentials: "same-origin"}).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw b; return b; });
    });
  }
  function qs(params) {
    return Object.keys(params).filter(function (k) { return params[k] !== "" && params[k] !== null && params[k] !== undefined; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); }).join("&");
  }
  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }
  function local(iso) { return iso ? String(iso).slice(0, 16).replace("T", " ") : "—"; }

  // KPI cards: which way is good (a rise in overdue cases is bad news).
  var CARDS = [
    {key: "today", rate: false, good: 0},
    {key: "awaiting_verification", rate: false, good: -1},
    {key: "overdue", rate: false, good: -1},
    {key: "closure_rate", rate: true, good: 1},
    {key: "on_time_rate", rate: true, good: 1}
  ];

  var opts = null, charts = {}, state = {area: null, filters: {}, todoKind: "", todoLimit: 8, seq: 0};

  function change(card, k) {
    if (k.change === null || k.change === undefined) return "<span class='chg'>" + t("vs_last_month") + " —</span>";
    if (k.change === 0) return "<span class='chg same'>" + t("vs_last_month") + " " + t("unchanged") + "</span>";
    var up = k.change > 0, cls = card.good === 0 ? "" : ((up ? 1 : -1) * card.good > 0 ? "good" : "bad");
    var amount = card.rate ? (Math.abs(k.change) * 100).toFixed(1) + "%" : Math.abs(k.change);
    return "<span class='chg " + cls + "' data-direction='" + (up ? "up" : "down") + "'>" + t("vs_last_month") + " " +
      (up ? "↑" : "↓") + amount + "</span>";
  }

  function renderKpis(k) {
    var box = document.getElementById("kpis");
    box.innerHTML = CARDS.map(function (card) {
      var v = k[card.key];
      var value = card.rate ? pct(v.value) : v.value;
      var previous = card.rate ? pct(v.previous) : v.previous;
      var period = v.period ? " <small>" + esc(v.period) + "</small>" : "";
      return "<div class='kpi' data-testid='kpi-" + card.key + "'><div class='kpi-label'>" + esc(v.label) + period +
        "</div><div class='kpi-value'>" + esc(value) + "</div><div class='kpi-foot'>" + change(card, v) +
        " <span class='muted'>" + t("last_month_value") + " " + esc(previous) + "</span></div></div>";
    }).join("");
    box.dataset.loaded = "1";
  }

  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, {locale: opts.lang.indexOf("en") === 0 ? "EN" : "ZH"});
    return charts[id];
  }
  function mark(id, n) { document.getElementById(id).dataset.points = n; }
  var TITLE = {left: 0, top: 0, textStyle: {fontSize: 13}};

  function renderCharts(o) {
    var weeks = o.weekly.map(function (w) { return w.week.slice(5); });
    chart("chart-trend").setOption({
      title: Object.assign({text: t("trend")}, TITLE), tooltip: {trigger: "axis"},
      legend: {top: 0, right: 0, data: [t("reported_series"), t("closed_series")]},
      grid: {left: 36, right: 8, top: 32, bottom: 24},
      xAxis: {type: "category", data: weeks}, yAxis: {type: "value", minInterval: 1},
      series: [
        {name: t("reported_series"), type: "line", smooth: true, data: o.weekly.map(function (w) { return w.reported; })},
        {name: t("closed_series"), type: "line", smooth: true, data: o.weekly.map(function (w) { return w.closed; })}
      ]
    }, true);
    mark("chart-trend", o.weekly.filter(function (w) { return w.reported || w.closed; }).length);
    chart("chart-category").setOption({
      title: Object.assign({text: t("by_category") + " · " + o.period}, TITLE), tooltip: {trigger: "axis"},
      grid: {left: 64, right: 16, top: 28, bottom: 8, containLabel: false},
      xAxis: {type: "value", minInterval: 1}, yAxis: {type: "category", inverse: true, data: o.by_category.map(function (c) { return c.name; })},
      series: [{type: "bar", name: t("cases"), data: o.by_category.map(function (c) { return c.count; }), itemStyle: {color: "#1f5fa8"}}]
    }, true);
    mark("chart-category", o.by_category.filter(function (c) { return c.count; }).length);
    chart("chart-source").setOption({
      title: Object.assign({text: t("by_source") + " · " + o.period}, TITLE), tooltip: {trigger: "item"},
      series: [{type: "pie", radius: ["35%", "62%"], center: ["50%", "58%"], label: {fontSize: 11},
        data: o.by_source.filter(function (s) { return s.count; }).map(function (s) { return {name: s.name, value: s.count}; })}]
    }, true);
    mark("chart-source", o.by_source.filter(function (s) { return s.count; }).length);
    var bins = o.close_time.map(function (b) { return b.to_days === null ? b.from_days + t("days_or_more") : b.from_days + "–" + b.to_days; });
    chart("chart-close").setOption({
      title: Object.assign({text: t("close_time") + " · " + o.period}, TITLE), tooltip: {trigger: "axis"},
      grid: {left: 36, right: 8, top: 28, bottom: 24},
      xAxis: {type: "category", data: bins}, yAxis: {type: "value", minInterval: 1},
      series: [{type: "bar", name: t("cases"), data: o.close_time.map(function (b) { return b.count; }), itemStyle: {color: "#c0504d"}}]
    }, true);
    mark("chart-close", o.close_time.filter(function (b) { return b.count; }).length);
  }

  function loadOverview() {
    var seq = ++state.seq;
    var params = Object.assign({period: period()}, state.filters);
    if (state.area) params.area = state.area;
    return getJSON(opts.api + "overview/?" + qs(params)).then(function (o) {
      if (seq !== state.seq) return;
      renderKpis(o.kpis);
      renderCharts(o);
    }).catch(function (err) { document.getElementById("kpis").textContent = (err && err.message) || t("request_failed"); });
  }

  function loadTodo() {
    var params = {limit: state.todoLimit, kind: state.todoKind};
    return getJSON(opts.api + "todo/?" + qs(params)).then(function (res) {
      var total = 0;
      Object.keys(res.counts).forEach(function (k) { total += res.counts[k]; });
      document.getElementById("todo-total").textContent = total;
      var tabs = document.getElementById("todo-tabs");
      tabs.innerHTML = ["", "verify", "dispatch", "accept", "supervise"].filter(function (k) { return !k || k in res.counts; })
        .map(function (k) {
          var n = k ? res.counts[k] : total, label = k ? res.labels[k] : t("all_kinds");
          return "<button type='button' role='tab' data-kind='" + k + "' aria-selected='" + (k === state.todoKind) + "'>" +
            esc(label) + " <b>" + n + "</b></button>";
        }).join("");
      tabs.querySelectorAll("button").forEach(function (b) {
        b.addEventListener("click", function () { state.todoKind = b.dataset.kind; state.todoLimit = 8; loadTodo(); });
      });
      var list = document.getElementById("todo-list");
      list.innerHTML = res.results.length ? res.results.map(function (i) {
        return "<li class='" + (i.overdue ? "overdue" : "") + "' data-kind='" + esc(i.kind) + "'><a href='" + esc(i.url) + "'>#" + i.id +
          " " + esc(i.category_name) + "</a> <span class='tag'>" + esc(i.kind_label) + "</span><br><span class='muted'>" +
          esc(i.township || i.district || "") + " · " + t("waiting") + " " + (i.days_waiting || 0) + " " + t("days") +
          (i.deadline && (i.kind === "supervise") ? " · " + t("deadline") + " " + esc(local(i.deadline)) : "") + "</span></li>";
      }).join("") : "<li class='muted'>" + t("todo_empty") + "</li>";
      list.dataset.count = res.results.length;
      var more = document.getElementById("todo-more");
      more.hidden = !res.next;
    }).catch(function () { document.getElementById("todo-list").innerHTML = "<li class='error'>" + t("request_failed") + "</li>"; });
  }

  function arrow(r) {
    if (r.trend === null || r.trend === undefined) return "";
    if (r.trend === "same") return "<span class='same'>" + t("unchanged") + "</span>";
    return r.trend === "up" ? "<span class='up'>↑" + r.rank_change + "</span>" : "<span class='down'>↓" + (-r.rank_change) + "</span>";
  }

  function loadRanking(level, parent) {
    var order = document.getElementById("rank-order").value;
    var params = {level: level, period: period(), order: order, parent: parent};
    return getJSON(opts.api + "ranking/?" + qs(params)).then(function (res) {
      var rows = res.results.slice(0, 40).map(function (r) {
        var v = r.metrics[order];
        var shown = v === null ? "—" : (order.indexOf("rate") >= 0 ? pct(v) : v);
        return "<tr data-code='" + esc(r.code) + "'><td>" + (r.rank === null ? "—" : r.rank) + "</td><td>" + arrow(r) + "</td><td>" +
          esc(r.name) + "</td><td>" + shown + "</td><td>" + r.metrics.count + "</td></tr>";
      }).join("");
      document.getElementById("ranking").innerHTML = "<table><tr><th>" + t("rank") + "</th><th>" + t("change") + "</th><th>" +
        t("area") + "</th><th>" + esc(opts.rankLabels[order]) + "</th><th>" + t("cases") + "</th></tr>" + rows + "</table>";
      document.getElementById("ranking").dataset.level = level;
    }).catch(function () { document.getElementById("ranking").textContent = t("request_failed"); });
  }

  function period() { return document.getElementById("period").value; }

  var rankingArgs = ["district", null];
  var GridGovCockpit = {
    init: function (o) {
      opts = o;
      LABELS = o.labels || {};
      document.getElementById("rank-order").addEventListener("change", function () { loadRanking.apply(null, rankingArgs); });
      document.getElementById("period").addEventListener("change", function () {
        loadOverview();
        loadRanking.apply(null, rankingArgs);
      });
      document.getElementById("todo-more").addEventListener("click", function () { state.todoLimit += 20; loadTodo(); });
      window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
      loadTodo();
    },
    // The area shown changed (drill-down or filters): figures for it, ranking of its children.
    area: function (code, filters, rankLevel, rankParent) {
      state.area = code || null;
      state.filters = {category: filters.category, source: filters.source};
      rankingArgs = [rankLevel, rankParent];
      loadOverview();
      loadRanking(rankLevel, rankParent);
    }
  };
  root.GridGovCockpit = GridGovCockpit;
})(window);
