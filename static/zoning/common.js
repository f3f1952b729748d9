/* What the zoning pages share: requests, the category colours and their legend, Leaflet-Geoman in
   the page's language, the reason dialog. Every word comes from the page's labels (zoning/labels.py). */
(function (root) {
  "use strict";
  var C = {};
  // 三线一单 colours: priority protection green, key control red, general control yellow
  // (zoning/report_render.py draws the report's map with the same).
  C.COLORS = {priority: "#2e8b57", key: "#d9534f", general: "#e0b000", red_line: "#b30000",
    water: "#3b7dd8", air: "#8e7cc3", soil: "#a0522d", resource: "#5f9ea0"};
  C.GAP_STYLE = {color: "#ff7f00", weight: 2, dashArray: "3 3", fillColor: "#ff7f00", fillOpacity: 0.55};
  C.OVERLAP_STYLE = {color: "#ff00ff", weight: 2, fillOpacity: 0.5};
  C.esc = GridGov.escape;
  C.english = (document.documentElement.lang || "").indexOf("en") === 0;

  // "%(name)s" placeholders, as in the .po file.
  C.fmt = function (text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (m, k) { return values && values[k] != null ? values[k] : ""; });
  };
  C.labels = function (id) { return JSON.parse(document.getElementById(id).textContent); };

  C.api = function (url, method, body, csrf) {
    var opts = {method: method || "GET", credentials: "same-origin", headers: {"X-CSRFToken": csrf || ""}};
    if (body instanceof FormData) { opts.body = body; }
    else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) { return {ok: r.ok, status: r.status, body: b}; });
    });
  };

  // Geometry of a Leaflet layer in WGS84 for the API (the map may be GCJ-02 on AMap).
  C.layerGeometry = function (layer) {
    var g = layer.toGeoJSON(false).geometry;  // full precision: rounding would open slivers against neighbours
    return {geometry: g, crs: GridGov.shifted ? "gcj02" : "wgs84"};
  };

  // A unit's style; a layer Geoman made (a cut's result) may not carry its feature yet.
  C.unitStyle = function (f) {
    var category = f && f.properties && f.properties.category;
    return {color: C.COLORS[category] || "#666", weight: 1.5, fillOpacity: 0.25};
  };

  C.redLine = function (map, url) {
    return fetch(url + "?layer=red_line").then(function (r) { return r.json(); }).then(function (fc) {
      return GridGov.geoJSON(fc, {pmIgnore: true, interactive: false,
        style: {color: C.COLORS.red_line, weight: 2, dashArray: "5 4", fillOpacity: 0.08}}).addTo(map);
    });
  };

  // Leaflet-Geoman's toolbar in the page's language (its bundle holds zh and en), with our words
  // for the tools whose generic names would mislead here.
  C.geomanLanguage = function (map, labels) {
    var lang = C.english ? "en" : "zh";
    map.pm.setLang(lang, labels.geoman, lang);
  };

  // The legend: [{color, label, kind: "fill" | "dash" | "line"}].
  C.legend = function (map, title, items) {
    var control = L.control({position: "bottomright"});
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "zoning-legend");
      div.dataset.testid = "legend";
      var html = "<strong>" + C.esc(title) + "</strong>";
      items.forEach(function (i) {
        html += "<div class='zoning-legend-row'><span class='zoning-swatch zoning-swatch-" + C.esc(i.kind || "fill") +
          "' style='--swatch:" + C.esc(i.color) + "'></span>" + C.esc(i.label) + "</div>";
      });
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    control.addTo(map);
    return control;
  };
  C.categoryLegend = function (labels) {
    return ["priority", "key", "general"].map(function (k) { return {color: C.COLORS[k], label: labels.categories[k]}; })
      .concat([{color: C.COLORS.red_line, label: labels.redLine, kind: "dash"}]);
  };

  // The reason dialog (templates/zoning/_reason_dialog.html): a title, what the edit will do, a
  // required reason up to the limit. Resolves with the reason, or null when cancelled.
  C.askReason = function (labels, title, summary) {
    var dialog = document.getElementById("reason-dialog");
    var text = dialog.querySelector("textarea"), count = dialog.querySelector("[data-count]");
    var error = dialog.querySelector("[data-error]");
    dialog.querySelector("[data-title]").textContent = title;
    var box = dialog.querySelector("[data-summary]");
    box.innerHTML = "";
    (summary || []).forEach(function (node) { box.appendChild(node); });
    text.value = ""; error.textContent = "";
    function counted() { count.textContent = C.fmt(labels.reasonCount, {count: text.value.length, max: labels.maxReason}); }
    counted();
    return new Promise(function (resolve) {
      function close(value) {
        text.removeEventListener("input", counted);
        dialog.querySelector("form").removeEventListener("submit", submit);
        dialog.querySelector("[data-cancel]").removeEventListener("click", cancel);
        dialog.removeEventListener("cancel", cancel);
        dialog.close();
        resolve(value);
      }
      function submit(e) {
        e.preventDefault();
        var reason = text.value.trim();
        if (!reason) { error.textContent = labels.reasonRequired; text.focus(); return; }
        close(reason);
      }
      function cancel(e) { if (e) e.preventDefault(); close(null); }
      text.addEventListener("input", counted);
      dialog.querySelector("form").addEventListener("submit", submit);
      dialog.querySelector("[data-cancel]").addEventListener("click", cancel);
      dialog.addEventListener("cancel", cancel);
      dialog.showModal();
      text.focus();
    });
  };
  C.paragraph = function (text, className) {
    var p = document.createElement("p");
    p.textContent = text;
    if (className) p.className = className;
    return p;
  };

  root.ZoningCommon = C;
})(window);
