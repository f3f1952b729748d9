/* Supervision cockpit map: choropleth with drill-down, server-binned heat map, case list.
   The page opens on the user's own area (its outline drawn, the map zoomed to it); every
   drill-down tells the cockpit (cockpit.js) which area to describe and rank. Words come from
   the page, translated (opts.labels, keyed by name: dashboard/labels.py). */
(function (root) {
  "use strict";
  var esc = GridGov.escape;
  var NEXT = {city: "district", district: "township", township: "grid"};
  var RAMPS = {
    bad: ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"],   // more is worse
    good: ["#f7fcf5", "#c7e9c0", "#74c476", "#238b45", "#00441b"]   // more is better
  };

  function qs(params) {
    return Object.keys(params).filter(function (k) { return params[k] !== "" && params[k] !== null && params[k] !== undefined; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); }).join("&");
  }
  function getJSON(url) {
    return fetch(url, {credentials: "same-origin"}).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw b; return b; });
    });
  }

  var LABELS = {};
  function t(key) { return LABELS[key] || key; }

  function start(opts) {
    LABELS = opts.labels || {};
    var map = GridGov.createMap("map", opts);
    var el = document.getElementById("map");
    var form = document.getElementById("filters");
    // The drill-down path: [{code, name, level, district}], the last entry is the area shown.
    var path = [opts.root];
    var state = {page: 1, caseArea: null, seq: 0};
    var choro = null, heat = null, casesLayer = L.layerGroup(), legend = null, tiles = {}, outline = null;
    var show = {choropleth: true, heat: true, cases: false};

    function filters() {
      var f = {};
      ["since", "until", "category", "source", "status", "district"].forEach(function (k) { f[k] = form.elements[k].value; });
      return f;
    }
    function metric() { return form.elements.metric.value; }
    function current() { return path[path.length - 1]; }
    function scoped(cur) { return cur.code && cur.level !== "city" && cur.level !== "scope"; }
    function childLevel() {
      var cur = current();
      if (cur.level === "scope") return cur.child || "district";
      return NEXT[cur.level] || "grid";
    }

    // The area's own outline, drawn over the choropleth: where the user's jurisdiction ends.
    if (opts.root.outline) {
      map.createPane("ggOutline").style.zIndex = 450;
      outline = GridGov.geoJSON(JSON.parse(opts.root.outline), {
        pane: "ggOutline", interactive: false, style: {color: "#0b3d91", weight: 3, fill: false}
      }).addTo(map);
      map.fitBounds(outline.getBounds(), {animate: false});
      el.dataset.outline = opts.root.code;
    }

    function crumbs() {
      var nav = document.getElementById("crumbs");
      nav.innerHTML = path.map(function (p, i) {
        return i === path.length - 1 ? "<b data-level='" + esc(p.level) + "'>" + esc(p.name) + "</b>"
          : "<a href='#' data-i='" + i + "'>" + esc(p.name) + "</a>";
      }).join(" › ");
      nav.querySelectorAll("a").forEach(function (a) {
        a.addEventListener("click", function (e) {
          e.preventDefault();
          path = path.slice(0, +a.dataset.i + 1);
          refresh(true);
        });
      });
    }

    // The district selector shows the district of the area drilled into ("" at the city).
    function syncDistrict() {
      var select = form.elements.district, code = current().district || "";
      if (select.value === code) return;
      var has = Array.prototype.some.call(select.options, function (o) { return o.value === code; });
      if (has) select.value = code;
    }

    function fmt(value, m) {
      if (value === null || value === undefined) return "—";
      if (m === "closure_rate") return (value * 100).toFixed(value * 100 % 1 ? 1 : 0) + "%";
      if (m === "mean_days") return value.toFixed(1) + " " + t("days");
      return String(Math.round(value * 100) / 100);
    }
    function colour(value, breaks, ramp) {
      if (value === null || value === undefined) return "#eeeeee";
      var i = 0;
      while (i + 1 < breaks.length && value >= breaks[i + 1]) i++;
      return ramp[i];
    }

    function drawLegend(breaks, ramp, m) {
      if (legend) map.removeControl(legend);
      legend = L.control({position: "bottomright"});
      legend.onAdd = function () {
        var div = L.DomUtil.create("div", "dash-legend");
        div.setAttribute("data-testid", "legend");
        var rows = breaks.map(function (b, i) {
          var to = i + 1 < breaks.length ? " – " + fmt(breaks[i + 1], m) : " " + t("above");
          return "<div data-break='" + b + "'><i style='background:" + ramp[i] + "'></i>" + fmt(b, m) + to + "</div>";
        });
        div.innerHTML = "<b>" + esc(opts.metricLabels[m]) + "</b>" + (rows.join("") || "<div>" + t("no_data") + "</div>") +
          "<div><i style='background:#eee'></i>" + t("no_cases") + "</div>";
        return div;
      };
      legend.addTo(map);
    }

    function loadChoropleth(fit) {
      var cur = current(), level = childLevel(), m = metric(), seq = ++state.seq;
      var params = Object.assign({level: level, metric: m, format: "geojson"}, filters());
      if (scoped(cur)) params.parent = cur.code;
      el.dataset.loading = "1";
      return getJSON(opts.api + "aggregate/?" + qs(params)).then(function (fc) {
        if (seq !== state.seq) return;
        if (choro) map.removeLayer(choro);
        var breaks = fc.breaks || [];
        var ramp = m === "closure_rate" ? RAMPS.good : RAMPS.bad;
        choro = GridGov.geoJSON(fc, {
          style: function (f) {
            return {color: "#444", weight: level === "grid" ? 0.5 : 1, fillOpacity: 0.6,
                    fillColor: colour(f.properties.value, breaks, ramp), className: "dash-area"};
          },
          onEachFeature: function (f, layer) {
            var p = f.properties;
            layer.bindTooltip("<b>" + esc(p.name) + "</b> " + esc(p.code) + "<br>" + t("cases") + " " + p.count + " · " + t("overdue") + " " +
              p.overdue + " · " + t("closure_rate") + " " + fmt(p.closure_rate, "closure_rate") + " · " + t("mean") + " " +
              fmt(p.mean_days, "mean_days"), {sticky: true});
            layer.on("click", function () { areaClicked(p.code, p.name, level); });
          }
        });
        if (show.choropleth) choro.addTo(map);
        choro.eachLayer(function (l) { if (l._path) l._path.setAttribute("data-code", l.feature.properties.code); });
        drawLegend(breaks, ramp, m);
        el.dataset.level = level;
        el.dataset.features = fc.features.length;
        if (fit && fc.features.length) map.fitBounds(choro.getBounds(), {animate: false});
        el.dataset.loading = "";
      }).catch(function (err) { el.dataset.loading = ""; showError(err); });
    }

    function areaClicked(code, name, level) {
      listCases(code, name, 1);
      if (level !== "grid") {
        var cur = current();
        path.push({code: code, name: name, level: level, district: level === "district" ? code : cur.district || ""});
        refresh(true);
      }
    }

    function showError(err) {
      var box = document.getElementById("cases");
      box.classList.add("error");
      box.textContent = (err && err.message) || t("request_failed");
    }

    function loadHeat() {
      if (!show.heat) { if (heat) map.removeLayer(heat); return; }
      var b = map.getBounds(), sw = GridGov.fromMap(b.getSouthWest()), ne = GridGov.fromMap(b.getNorthEast());
      var clamp = function (v, lo, hi) { return Math.max(lo, Math.min(hi, v)); };
      var bbox = [clamp(sw.lon, -180, 180), clamp(sw.lat, -85, 85), clamp(ne.lon, -180, 180), clamp(ne.lat, -85, 85)]
        .map(function (v) { return v.toFixed(5); }).join(",");
      var zoom = Math.max(3, Math.min(18, map.getZoom()));
      var params = Object.assign({bbox: bbox, zoom: zoom}, filters());
      var cur = current();
      if (scoped(cur)) params.area = cur.code;
      getJSON(opts.api + "heat/?" + qs(params)).then(function (res) {
        var pts = res.points.map(function (p) { var ll = GridGov.toMap(p[1], p[0]); return [ll.lat, ll.lng, p[2]]; });
        if (heat) map.removeLayer(heat);
        heat = L.heatLayer(pts, {radius: 22, blur: 18, max: Math.max(1, res.max * 0.6), minOpacity: 0.3});
        if (show.heat) heat.addTo(map);
        el.dataset.heatBins = res.points.length;
        el.dataset.heatTotal = res.total;
      }).catch(showError);
    }

    function listCases(code, name, page) {
      state.caseArea = {code: code, name: name};
      state.page = page;
      var params = Object.assign({area: code, page: page}, filters());
      getJSON(opts.api + "cases/?" + qs(params)).then(function (res) {
        document.getElementById("cases-title").textContent = t("cases") + " · " + name;
        var box = document.getElementById("cases");
        box.classList.remove("muted", "error");
        if (!res.results.length) { box.innerHTML = "<p>" + t("no_cases") + "</p>"; }
        else {
          box.innerHTML = "<table><tr><th>" + t("id") + "</th><th>" + t("category") + "</th><th>" + t("status") + "</th><th>" +
            t("reported") + "</th></tr>" + res.results.map(function (c) {
              return "<tr class='" + (c.overdue ? "overdue" : "") + "'><td><a href='/patrol/" + c.id + "/'>" + c.id + "</a></td><td>" +
                esc(c.category_name) + "</td><td>" + esc(c.status_label) + (c.overdue ? " <b>" + t("overdue") + "</b>" : "") +
                "</td><td>" + esc(String(c.reported_at).slice(0, 16).replace("T", " ")) + "</td></tr>";
            }).join("") + "</table>";
        }
        box.dataset.count = res.results.length;
        document.getElementById("page").textContent = res.page;
        document.getElementById("prev").disabled = res.page <= 1;
        document.getElementById("next").disabled = !res.has_next;
        casesLayer.clearLayers();
        res.results.forEach(function (c) {
          L.circleMarker(GridGov.toMap(c.lon, c.lat), {radius: 5, weight: 1, color: "#222",
            fillColor: opts.statusColours[c.status] || "#000", fillOpacity: 0.9})
            .bindTooltip("#" + c.id + " " + esc(c.category_name) + " · " + esc(c.status_label)).addTo(casesLayer);
        });
      }).catch(showError);
    }

    function exportLinks() {
      var f = filters(), cur = current();
      if (scoped(cur)) f.area = cur.code;
      if (state.caseArea) f.area = state.caseArea.code;
      document.getElementById("export-csv").href = opts.api + "export/?" + qs(Object.assign({format: "csv"}, f));
      document.getElementById("export-xlsx").href = opts.api + "export/?" + qs(Object.assign({format: "xlsx"}, f));
      var month = document.getElementById("report-month").value;
      document.getElementById("report-html").href = opts.reports + month + ".html";
      document.getElementById("report-pdf").href = opts.reports + month + ".pdf";
    }

    // What the cockpit ranks at this level: districts, the townships of a district, the cells of a township.
    function rankingOf(cur) {
      if (cur.level === "district") return ["township", cur.code];
      if (cur.level === "township") return ["grid", cur.code];
      return [cur.level === "scope" && cur.child === "township" ? "township" : "district", null];
    }

    function refresh(fit) {
      crumbs();
      syncDistrict();
      exportLinks();
      loadChoropleth(fit).then(loadHeat);
      var cur = current(), rank = rankingOf(cur);
      GridGovCockpit.area(scoped(cur) ? cur.code : null, filters(), rank[0], rank[1]);
    }

    // A district filter is a drill-down to that district.
    form.addEventListener("change", function (e) {
      if (e.target.name === "district") {
        var opt = e.target.selectedOptions[0];
        path = [path[0]];
        if (e.target.value && path[0].code !== e.target.value) {
          path.push({code: e.target.value, name: opt.textContent, level: "district", district: e.target.value});
        }
        refresh(true);
        return;
      }
      refresh(false);
      if (state.caseArea) listCases(state.caseArea.code, state.caseArea.name, 1);
    });
    document.querySelectorAll("[data-layer]").forEach(function (box) {
      box.addEventListener("change", function () {
        var name = box.dataset.layer;
        show[name] = box.checked;
        var layer = name === "choropleth" ? choro : name === "heat" ? heat : casesLayer;
        if (name === "heat" && box.checked) { loadHeat(); return; }
        if (layer) { if (box.checked) layer.addTo(map); else map.removeLayer(layer); }
      });
    });
    document.querySelectorAll("[data-tiles]").forEach(function (box) {
      box.addEventListener("change", function () {
        var name = box.dataset.tiles;
        if (!tiles[name]) {
          var s = name === "red-line" ? {color: "#d00", weight: 1.5, fill: true, fillOpacity: 0.2}
            : name === "grid-cells" ? {color: "#c77d1a", weight: 0.6, fill: false}
            : function (p) {
              var c = {"1": "#2b8a3e", "2": "#c92a2a", "3": "#e6b800"}[String(p.category || "").slice(0, 1)] || "#2b8a3e";
              return {color: c, weight: 1, fill: true, fillOpacity: 0.15};
            };
          tiles[name] = GridGov.tileLayer(opts.tileUrl, name, s, {minZoom: name === "grid-cells" ? 11 : 0});
        }
        if (box.checked) tiles[name].addTo(map); else map.removeLayer(tiles[name]);
      });
    });
    // Imagery candidates (疑似违规图斑) come as GeoJSON from the imagery app, already scoped.
    var geojsonLayers = {};
    document.querySelectorAll("[data-geojson]").forEach(function (box) {
      box.addEventListener("change", function () {
        var url = box.dataset.geojson;
        if (!box.checked) { if (geojsonLayers[url]) map.removeLayer(geojsonLayers[url]); return; }
        if (geojsonLayers[url]) { geojsonLayers[url].addTo(map); return; }
        getJSON(url).then(function (fc) {
          geojsonLayers[url] = GridGov.geoJSON(fc, {
            style: {color: "#7b2cbf", weight: 2, fillOpacity: 0.35},
            onEachFeature: function (f, l) {
              var p = f.properties || {};
              l.bindTooltip(t("candidate") + esc(f.id || p.id) + " " + esc(p.change_type_label || p.change_type || "") +
                " " + esc(p.status_label || p.status || ""));
            }
          });
          if (box.checked) geojsonLayers[url].addTo(map);
          el.dataset.candidates = (fc.features || []).length;
        }).catch(showError);
      });
    });
    document.getElementById("prev").addEventListener("click", function () {
      if (state.caseArea) listCases(state.caseArea.code, state.caseArea.name, state.page - 1);
    });
    document.getElementById("next").addEventListener("click", function () {
      if (state.caseArea) listCases(state.caseArea.code, state.caseArea.name, state.page + 1);
    });
    document.getElementById("report-month").addEventListener("change", exportLinks);
    casesLayer.addTo(map);
    map.removeLayer(casesLayer);
    var timer = null;
    map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(loadHeat, 250); });
    root.dashboardMap = map;
    GridGovCockpit.init(opts);
    refresh(!opts.root.outline);
  }

  root.GridGovDashboard = {start: start};
})(window);
