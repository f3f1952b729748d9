/* Zoning pages: the unit editor (Leaflet-Geoman) and the site analysis. */
(function (root) {
  "use strict";
  var Z = {};
  var COLORS = {priority: "#2e8b57", key: "#d9534f", general: "#e0b000"};
  var esc = function (s) { return GridGov.escape(s == null ? "" : s); };

  function api(url, method, body, csrf) {
    var opts = {method: method || "GET", credentials: "same-origin", headers: {"X-CSRFToken": csrf || ""}};
    if (body instanceof FormData) { opts.body = body; }
    else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) { return {ok: r.ok, status: r.status, body: b}; });
    });
  }
  // Geometry of a Leaflet layer in WGS84 for the API (the map may be GCJ-02 on AMap).
  function layerGeometry(layer) {
    var g = layer.toGeoJSON(false).geometry;  // full precision: rounding would open slivers against neighbours
    return {geometry: g, crs: GridGov.shifted ? "gcj02" : "wgs84"};
  }
  function unitStyle(f) {
    return {color: COLORS[f.properties.category] || "#666", weight: 1.5, fillOpacity: 0.25};
  }
  function redLine(map, url) {
    return fetch(url + "?layer=red_line").then(function (r) { return r.json(); }).then(function (fc) {
      return GridGov.geoJSON(fc, {pmIgnore: true, interactive: false,
        style: {color: "#b30000", weight: 2, dashArray: "5 4", fillOpacity: 0.08}}).addTo(map);
    });
  }

  Z.editor = function (opts) {
    var map = GridGov.createMap("map", opts);
    var form = document.getElementById("unit-form");
    var msg = document.getElementById("message");
    var selected = null, isNew = false, markers = L.layerGroup().addTo(map);
    var units = GridGov.geoJSON(null, {style: unitStyle, onEachFeature: function (f, l) { bindUnit(l); }}).addTo(map);
    redLine(map, opts.zonesUrl);

    function bindUnit(l) {
      l.on("click", function () { select(l); });
      l.bindTooltip(function () { return esc(l.feature.properties.name) + " " + esc(l.feature.properties.code); }, {sticky: true});
    }
    function load() {
      return fetch(opts.unitsUrl).then(function (r) { return r.json(); }).then(function (fc) {
        units.clearLayers(); units.addData(fc);
        document.getElementById("map").dataset.units = fc.features.length;
        if (!load.fitted) { map.fitBounds(units.getBounds()); load.fitted = true; }
      });
    }
    function say(text, kind) { msg.textContent = text; msg.className = "message " + (kind || ""); }
    function select(l) {
      if (selected && selected !== l && selected.pm) { selected.pm.disable(); }
      selected = l; isNew = !l.feature || !l.feature.properties.code;
      markers.clearLayers(); say("");
      var p = (l.feature && l.feature.properties) || {};
      form.hidden = false;
      form.code.value = p.code || ""; form.code.readOnly = !isNew;
      form.name.value = p.name || ""; form.category.value = p.category || "general";
      form.version.value = p.version || "";
      form.querySelectorAll("textarea[data-dimension]").forEach(function (t) {
        var bans = t.dataset.forbidsConstruction === "1";
        t.value = (p.access_list || []).filter(function (i) {
          return i.dimension === t.dataset.dimension && Boolean(i.forbids_construction) === bans;
        }).map(function (i) { return i.text; }).join("\n");
      });
      form.querySelectorAll("input,select,textarea").forEach(function (el) { el.disabled = !opts.canEdit; });
      if (opts.canEdit && l.pm) {
        l.pm.enable({snappable: true, allowSelfIntersection: true});
        if (!l._zoningBound) { l._zoningBound = true; l.on("pm:edit pm:dragend pm:markerdragend", function () { l._zoningEdited = true; }); }
      }
      if (!isNew) { history(p.code); } else { document.getElementById("history").innerHTML = ""; }
    }
    function accessList() {
      var items = [];
      form.querySelectorAll("textarea[data-dimension]").forEach(function (t) {
        var bans = t.dataset.forbidsConstruction === "1";
        t.value.split(/\n+/).forEach(function (line) {
          if (line.trim()) items.push({dimension: t.dataset.dimension, text: line.trim(), forbids_construction: bans});
        });
      });
      return items;
    }
    function showError(res) {
      var b = res.body;
      say((b.message || "保存失败") + (res.status === 409 ? "" : ""), "error");
      if (b.location) {
        var ll = GridGov.toMap(b.location.coordinates[0], b.location.coordinates[1]);
        var m = L.circleMarker(ll, {radius: 9, color: "#b30000", className: "gg-error-marker"}).addTo(markers);
        var div = document.createElement("div");
        div.innerHTML = "<b>几何无效</b><br>" + esc(b.reason) + (b.repaired ? "<br><button type='button' data-testid='accept-repair'>采用修复后的几何</button>" : "");
        m.bindPopup(div).openPopup();
        var btn = div.querySelector("button");
        if (btn) btn.onclick = function () {
          var repaired = GridGov.geoJSON(b.repaired);
          var latlngs = repaired.getLayers()[0].getLatLngs();
          selected.setLatLngs(latlngs); selected._zoningEdited = true; markers.clearLayers(); say("已采用修复后的几何，请再次保存", "ok");
        };
      }
      (b.overlaps || []).forEach(function (o) {
        GridGov.geoJSON(o.geometry, {pmIgnore: true, style: {color: "#ff00ff", weight: 2, fillOpacity: 0.5}, className: "gg-overlap"})
          .bindPopup("与 " + esc(o.name) + "（" + esc(o.code) + "）重叠 " + Math.round(o.area_m2) + " m²").addTo(markers).openPopup();
      });
      if (b.outside_geometry) {
        GridGov.geoJSON(b.outside_geometry, {pmIgnore: true, style: {color: "#ff00ff", fillOpacity: 0.5}}).addTo(markers);
      }
    }
    function history(code) {
      var list = document.getElementById("history");
      list.innerHTML = "…";
      api(opts.unitsUrl + encodeURIComponent(code) + "/history/").then(function (res) {
        if (!res.ok) { list.textContent = res.body.message || ""; return; }
        list.innerHTML = "";
        res.body.slice().reverse().forEach(function (v) {
          var li = document.createElement("li");
          var ch = v.changes, attrs = Object.keys(ch.attributes).map(function (k) {
            return esc(k) + "：" + esc(JSON.stringify(ch.attributes[k].before)).slice(0, 60) + " → " + esc(JSON.stringify(ch.attributes[k].after)).slice(0, 60);
          }).join("<br>");
          li.innerHTML = "<b>第 " + v.version + " 版</b> " + esc(v.action) + " · " + esc(v.author) + " · " + esc(v.created_at.slice(0, 16).replace("T", " ")) +
            "<br>说明：" + esc(v.reason) + "<br>面积 +" + Math.round(ch.area_added_m2) + " / −" + Math.round(ch.area_removed_m2) + " m²" +
            (attrs ? "<br>" + attrs : "");
          if (opts.canEdit && String(v.version) !== String(form.version.value) && v.action !== "delete") {
            var b = document.createElement("button"); b.type = "button"; b.textContent = "回退到此版";
            b.dataset.testid = "revert-" + v.version; b.setAttribute("data-testid", "revert-" + v.version);
            b.onclick = function () {
              var reason = form.reason.value.trim() || prompt("调整说明（回退原因）") || "";
              api(opts.unitsUrl + encodeURIComponent(code) + "/revert/", "POST",
                {to_version: v.version, base_version: Number(form.version.value), reason: reason}, opts.csrf).then(after);
            };
            li.appendChild(document.createElement("br")); li.appendChild(b);
          }
          list.appendChild(li);
        });
      });
    }
    function after(res) {
      if (!res.ok) { showError(res); return; }
      var code = res.body.properties ? res.body.properties.code : form.code.value;
      if (selected && selected.pm) selected.pm.disable();
      if (isNew && selected) map.removeLayer(selected);
      load().then(function () {
        say("已保存：第 " + (res.body.properties ? res.body.properties.version : "") + " 版", "ok");
        units.eachLayer(function (l) { if (l.feature.properties.code === code) { select(l); say("已保存：第 " + l.feature.properties.version + " 版", "ok"); } });
      });
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!selected) return;
      var body = {name: form.name.value, access_list: accessList(), reason: form.reason.value};
      if (isNew || selected._zoningEdited) { var g = layerGeometry(selected); body.geometry = g.geometry; body.crs = g.crs; }
      if (isNew) {
        body.code = form.code.value.trim(); body.category = form.category.value;
        api(opts.unitsUrl, "POST", body, opts.csrf).then(after);
      } else {
        body.base_version = Number(form.version.value);
        api(opts.unitsUrl + encodeURIComponent(form.code.value) + "/", "PATCH", body, opts.csrf).then(after);
      }
    });
    var del = document.getElementById("delete-unit");
    if (del) del.onclick = function () {
      if (!selected || isNew) return;
      api(opts.unitsUrl + encodeURIComponent(form.code.value) + "/", "DELETE",
        {base_version: Number(form.version.value), reason: form.reason.value}, opts.csrf).then(function (res) {
        if (!res.ok) { showError(res); return; }
        form.hidden = true; load();
      });
    };
    if (opts.canEdit) {
      map.pm.addControls({position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false, drawCircle: false,
        drawText: false, rotateMode: false, removalMode: false});
      map.pm.setGlobalOptions({snappable: true, snapDistance: 15, allowSelfIntersection: true});
      map.on("pm:create", function (e) { e.layer.feature = {type: "Feature", properties: {}}; e.layer.on("click", function () { select(e.layer); }); select(e.layer); });
      map.on("pm:cut", function (e) {  // cutting a hole replaces the layer
        e.layer.feature = e.originalLayer.feature; e.layer._zoningEdited = true; units.addLayer(e.layer); bindUnit(e.layer); select(e.layer);
      });
    } else {
      map.pm.setGlobalOptions({snappable: false});
    }
    load();
    root.zoningEditor = {map: map, units: units, select: select, selectCode: function (code) {
      units.eachLayer(function (l) { if (l.feature.properties.code === code) select(l); });
    }, selected: function () { return selected; }};
  };

  Z.analyze = function (opts) {
    var map = GridGov.createMap("map", opts);
    var result = document.getElementById("result"), runBtn = document.getElementById("run");
    var site = null, hits = L.layerGroup().addTo(map);
    var unitsLayer = null;
    fetch(opts.unitsUrl).then(function (r) { return r.json(); }).then(function (fc) {
      unitsLayer = GridGov.geoJSON(fc, {pmIgnore: true, style: function (f) { var s = unitStyle(f); s.fillOpacity = 0.1; s.weight = 1; return s; },
        onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.name), {sticky: true}); }}).addTo(map);
      map.fitBounds(unitsLayer.getBounds());
    });
    redLine(map, opts.zonesUrl);
    map.pm.addControls({position: "topleft", drawCircleMarker: false, drawPolyline: false, drawCircle: false, drawText: false,
      editMode: true, dragMode: false, cutPolygon: false, removalMode: false, rotateMode: false});
    map.on("pm:create", function (e) { setSite(e.layer); });
    function setSite(layer) {
      if (site && site !== layer) map.removeLayer(site);
      site = layer; runBtn.disabled = false;
    }
    document.getElementById("clear").onclick = function () { if (site) map.removeLayer(site); site = null; hits.clearLayers(); result.innerHTML = ""; runBtn.disabled = true; };
    var fileInput = document.getElementById("site-file");  // only for signed-in users
    if (fileInput) fileInput.onchange = function () { runBtn.disabled = !this.files.length; };
    runBtn.onclick = function () {
      var file = fileInput && fileInput.files[0];
      var crs = document.getElementById("site-crs").value, req;
      if (file && !site) {
        var fd = new FormData(); fd.append("file", file); fd.append("crs", crs);
        req = api(opts.analyzeUrl, "POST", fd, opts.csrf);
      } else {
        var g = layerGeometry(site);
        req = api(opts.analyzeUrl, "POST", {geometry: g.geometry, crs: g.crs}, opts.csrf);
      }
      result.textContent = "…";
      req.then(show);
    };
    function show(res) {
      hits.clearLayers();
      if (!res.ok) { result.innerHTML = "<p class='message error'>" + esc(res.body.message) + "</p>"; return; }
      var b = res.body;
      if (!site && b.site) { site = GridGov.geoJSON(b.site, {pmIgnore: true, style: {color: "#0050b3", weight: 3, fill: false}}).addTo(map); map.fitBounds(site.getBounds()); }
      var rows = b.overlaps.map(function (o) {
        return "<tr><td>" + esc(o.code) + "</td><td>" + esc(o.name) + "</td><td>" + esc(o.category || o.layer) + "</td><td>" +
          Math.round(o.area_m2) + "</td><td>" + o.share_pct.toFixed(1) + "</td></tr>";
      }).join("");
      var items = b.overlaps.map(function (o) {
        return o.access_list.map(function (i) { return "<li>" + esc(o.code) + "【" + esc(i.dimension_label) + "】" + esc(i.text) + "</li>"; }).join("");
      }).join("");
      result.innerHTML = "<div class='verdict v-" + esc(b.verdict) + "' data-testid='verdict'>" + esc(b.verdict) + "</div>" +
        "<p>" + esc(b.rule.explain) + "</p><p>选址面积 " + Math.round(b.site_area_m2) + " m²" + (b.red_line_conflict ? " · <b>涉及生态保护红线</b>" : "") + "</p>" +
        (rows ? "<table class='overlaps'><tr><th>编码</th><th>名称</th><th>类别</th><th>m²</th><th>%</th></tr>" + rows + "</table>" : "<p>不在任何单元内</p>") +
        (items ? "<h3>适用准入要求</h3><ul>" + items + "</ul>" : "");
      if (unitsLayer) unitsLayer.eachLayer(function (l) {
        if (b.overlaps.some(function (o) { return o.code === l.feature.properties.code; })) {
          L.geoJSON(l.toGeoJSON(), {style: {color: "#000", weight: 2, fill: false}, pmIgnore: true}).addTo(hits);
        }
      });
      var f = document.getElementById("report-form");
      f.geometry.value = JSON.stringify(b.site); f.crs.value = "wgs84"; f.hidden = false;
    }
    root.zoningAnalyze = {map: map, setSite: setSite};
  };
  root.ZoningPages = Z;
})(window);
