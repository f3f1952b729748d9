/* The site analysis page (/zoning/analyze/): draw or upload a site, see the verdict, the units it
   touches with their areas as the server wrote them (zoning/figures.py), and open the report. */
(function (root) {
  "use strict";
  var C = root.ZoningCommon, esc = C.esc;

  root.ZoningAnalyze = function (opts) {
    var T = C.labels("zoning-labels");
    var map = GridGov.createMap("map", opts);
    var result = document.getElementById("result"), runBtn = document.getElementById("run");
    var site = null, hits = L.layerGroup().addTo(map), unitsLayer = null;
    C.geomanLanguage(map, T);
    C.legend(map, T.legend, [{color: "#0050b3", label: T.site, kind: "line"}, {color: "#000", label: T.touched, kind: "line"}]
      .concat(C.categoryLegend(T)));
    fetch(opts.unitsUrl).then(function (r) { return r.json(); }).then(function (fc) {
      unitsLayer = GridGov.geoJSON(fc, {pmIgnore: true, style: function (f) { var s = C.unitStyle(f); s.fillOpacity = 0.1; s.weight = 1; return s; },
        onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.name), {sticky: true}); }}).addTo(map);
      map.fitBounds(unitsLayer.getBounds());
    });
    C.redLine(map, opts.zonesUrl);
    map.pm.addControls({position: "topleft", drawCircleMarker: false, drawPolyline: false, drawCircle: false, drawText: false,
      editMode: true, dragMode: false, cutPolygon: false, removalMode: false, rotateMode: false});
    map.on("pm:create", function (e) { setSite(e.layer); });
    function setSite(layer) {
      if (site && site !== layer) map.removeLayer(site);
      site = layer; runBtn.disabled = false;
    }
    document.getElementById("clear").addEventListener("click", function () {
      if (site) map.removeLayer(site);
      site = null; hits.clearLayers(); result.innerHTML = ""; runBtn.disabled = true;
      document.getElementById("report-form").hidden = true;
    });
    var fileInput = document.getElementById("site-file");  // only for signed-in users
    if (fileInput) fileInput.addEventListener("change", function () { runBtn.disabled = !this.files.length; });
    runBtn.addEventListener("click", function () {
      var file = fileInput && fileInput.files[0];
      var crs = document.getElementById("site-crs").value, req;
      if (file && !site) {
        var fd = new FormData(); fd.append("file", file); fd.append("crs", crs);
        req = C.api(opts.analyzeUrl, "POST", fd, opts.csrf);
      } else {
        var g = C.layerGeometry(site);
        req = C.api(opts.analyzeUrl, "POST", {geometry: g.geometry, crs: g.crs}, opts.csrf);
      }
      result.textContent = T.running;
      req.then(show);
    });
    function cell(text, className) { return "<td" + (className ? " class='" + className + "'" : "") + ">" + esc(text) + "</td>"; }
    function table(b) {
      var point = b.site_kind === "point";
      var head = "<tr><th>" + esc(T.code) + "</th><th>" + esc(T.name) + "</th><th>" + esc(T.layerCategory) + "</th>" +
        (point ? "<th>" + esc(T.inside) + "</th>"
          : "<th class='num'>" + esc(T.areaM2) + "</th><th class='num'>" + esc(T.hectares) + "</th><th class='num'>" +
            esc(T.mu) + "</th><th class='num'>" + esc(T.share) + "</th>") + "</tr>";
      var rows = b.overlaps.map(function (o) {
        var kind = o.category_label ? o.layer_label + " / " + o.category_label : o.layer_label;
        return "<tr data-code='" + esc(o.code) + "'>" + cell(o.code) + cell(o.name) + cell(kind) +
          (point ? cell(T.yes) : cell(o.area.m2, "num") + cell(o.area.ha, "num") + cell(o.area.mu, "num") + cell(o.share, "num")) + "</tr>";
      }).join("");
      return "<table class='overlaps' data-testid='overlaps'>" + head + rows + "</table>";
    }
    function show(res) {
      hits.clearLayers();
      if (!res.ok) { result.innerHTML = "<p class='message error'>" + esc(res.body.message || T.requestFailed) + "</p>"; return; }
      var b = res.body;
      if (!site && b.site) {
        site = GridGov.geoJSON(b.site, {pmIgnore: true, style: {color: "#0050b3", weight: 3, fill: false}}).addTo(map);
        map.fitBounds(site.getBounds());
      }
      var items = b.overlaps.map(function (o) {
        return o.access_list.map(function (i) { return "<li>" + esc(o.code) + "【" + esc(i.dimension_label) + "】" + esc(i.text) + "</li>"; }).join("");
      }).join("");
      var where = b.site_kind === "point" ? esc(T.point)
        : esc(T.siteArea) + " <span data-testid='site-area'>" + esc(b.site_area.text) + "</span>";
      result.innerHTML = "<div class='verdict v-" + esc(b.verdict_key) + "' data-testid='verdict' data-verdict='" + esc(b.verdict) + "'>" +
        esc(b.verdict_label) + "</div><p>" + esc(b.rule.explain) + "</p><p>" + where +
        (b.red_line_conflict ? " · <b>" + esc(T.redLineConflict) + "</b>" : "") + "</p>" +
        (b.overlaps.length ? table(b) : "<p>" + esc(T.outside) + "</p>") +
        (items ? "<h3>" + esc(T.items) + "</h3><ul>" + items + "</ul>" : "");
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
})(window);
