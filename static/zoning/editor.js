/* The unit editor (/zoning/editor/): select, edit, cut, draw new units carved out of their
   neighbours, import; every save is previewed (dry run), then confirmed with a reason. */
(function (root) {
  "use strict";
  var C = root.ZoningCommon, esc = C.esc, fmt = C.fmt;

  root.ZoningEditor = function (opts) {
    var T = C.labels("zoning-labels");
    var map = GridGov.createMap("map", opts);
    var form = document.getElementById("unit-form");
    var msg = document.getElementById("message");
    var del = document.getElementById("delete-unit"), discard = document.getElementById("discard-unit");
    var selected = null, isNew = false, markers = L.layerGroup().addTo(map), gapLayer = L.layerGroup().addTo(map);
    var units = GridGov.geoJSON(null, {style: C.unitStyle, onEachFeature: function (f, l) { own(l); bindUnit(l); }}).addTo(map);
    C.redLine(map, opts.zonesUrl);
    C.geomanLanguage(map, T);
    C.legend(map, T.legend, C.categoryLegend(T).concat([
      {color: "#1f5fa8", label: T.selected, kind: "line"},
      {color: "#3388ff", label: T.newUnit, kind: "line"},
      {color: C.GAP_STYLE.color, label: T.gap},
      {color: C.OVERLAP_STYLE.color, label: T.overlap}
    ]));

    // Leaflet gives each feature's layer the collection's options; Geoman's cut builds its result
    // from them (L.geoJSON(result, layer.options)), which would style a feature-less result and
    // shift already shifted coordinates again. The layer keeps only its own path options.
    function own(l) { delete l.options.style; delete l.options.onEachFeature; delete l.options.coordsToLatLng; }
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
    function highlight(l, on) {
      if (!l || !l.setStyle) return;
      l.setStyle(on ? {color: "#1f5fa8", weight: 3} : C.unitStyle(l.feature));
    }
    function select(l) {
      if (selected && selected !== l) { if (selected.pm) selected.pm.disable(); highlight(selected, false); }
      selected = l; isNew = !l.feature || !l.feature.properties.code;
      markers.clearLayers(); say("");
      if (!isNew) highlight(l, true);
      var p = (l.feature && l.feature.properties) || {};
      form.hidden = false;
      form.code.value = p.code || ""; form.code.readOnly = !isNew;
      form.name.value = p.name || ""; form.category.value = p.category || "general";
      form.category.disabled = !isNew || !opts.canEdit;
      form.version.value = p.version || "";
      form.querySelectorAll("textarea[data-dimension]").forEach(function (t) {
        var bans = t.dataset.forbidsConstruction === "1";
        t.value = (p.access_list || []).filter(function (i) {
          return i.dimension === t.dataset.dimension && Boolean(i.forbids_construction) === bans;
        }).map(function (i) { return i.text; }).join("\n");
      });
      form.querySelectorAll("input,textarea").forEach(function (el) { el.disabled = !opts.canEdit; });
      if (del) del.hidden = isNew;  // an unsaved drawing is discarded, not deleted
      if (discard) discard.hidden = !isNew;
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
    function area(a) { return fmt(T.hectares, {ha: a.ha}); }
    function showError(res) {
      var b = res.body;
      say(b.message || T.saveFailed, "error");
      if (b.location) {
        var ll = GridGov.toMap(b.location.coordinates[0], b.location.coordinates[1]);
        var m = L.circleMarker(ll, {radius: 9, color: "#b30000", className: "gg-error-marker"}).addTo(markers);
        var div = document.createElement("div");
        div.innerHTML = "<b>" + esc(T.invalidGeometry) + "</b><br>" + esc(b.reason) +
          (b.repaired ? "<br><button type='button' data-testid='accept-repair'>" + esc(T.acceptRepair) + "</button>" : "");
        m.bindPopup(div).openPopup();
        var btn = div.querySelector("button");
        if (btn) btn.addEventListener("click", function () {
          var latlngs = GridGov.geoJSON(b.repaired).getLayers()[0].getLatLngs();
          selected.setLatLngs(latlngs); selected._zoningEdited = true; markers.clearLayers(); say(T.repairAccepted, "ok");
        });
      }
      (b.overlaps || []).forEach(function (o) {
        GridGov.geoJSON(o.geometry, {pmIgnore: true, style: C.OVERLAP_STYLE, className: "gg-overlap"})
          .bindPopup(esc(fmt(T.overlapWith, {name: o.name, code: o.code, area: Math.round(o.area_m2).toLocaleString() + " m²"})))
          .addTo(markers).openPopup();
      });
      if (b.outside_geometry) GridGov.geoJSON(b.outside_geometry, {pmIgnore: true, style: C.OVERLAP_STYLE}).addTo(markers);
    }
    function showGap(gap) {
      gapLayer.clearLayers();
      if (gap && gap.opened && gap.geometry) {
        GridGov.geoJSON(gap.geometry, {pmIgnore: true, interactive: false, style: C.GAP_STYLE, className: "zoning-gap"}).addTo(gapLayer);
      }
    }
    // What the preview says the edit will do, as paragraphs for the dialog.
    function summary(preview) {
      var nodes = [];
      if (preview.carved && preview.carved.length) {
        nodes.push(C.paragraph(T.carvedIntro));
        var ul = document.createElement("ul");
        ul.dataset.testid = "carved";
        preview.carved.forEach(function (c) {
          var li = document.createElement("li");
          li.textContent = c.deleted ? fmt(T.carvedWhole, {name: c.name, code: c.code, version: c.version})
            : fmt(T.carvedUnit, {name: c.name, code: c.code, area: area(c.area_taken), base: c.base_version, version: c.version});
          ul.appendChild(li);
        });
        nodes.push(ul);
      }
      if (preview.coverage_gap && preview.coverage_gap.opened) {
        var warn = C.paragraph(preview.coverage_gap.message, "message warn");
        warn.dataset.testid = "gap-warning";
        nodes.push(warn);
      }
      return nodes;
    }
    // Preview (dry run), then the dialog, then the same request for real.
    function confirmed(url, method, body, title) {
      say(T.checking);
      return C.api(url, method, Object.assign({}, body, {dry_run: true}), opts.csrf).then(function (preview) {
        if (!preview.ok) { showError(preview); return null; }
        say("");
        showGap(preview.body.coverage_gap);
        return C.askReason(T, title, summary(preview.body)).then(function (reason) {
          if (reason === null) { gapLayer.clearLayers(); return null; }
          var real = Object.assign({}, body, {reason: reason, dry_run: false});
          if (body.carve) {
            real.base_versions = {};
            preview.body.carved.forEach(function (c) { real.base_versions[c.code] = c.base_version; });
          }
          return C.api(url, method, real, opts.csrf);
        });
      });
    }
    function after(res) {
      if (!res) return;
      if (!res.ok) { showError(res); return; }
      var b = res.body, code = b.properties ? b.properties.code : form.code.value;
      if (selected && selected.pm) selected.pm.disable();
      if (isNew && selected) map.removeLayer(selected);
      showGap(b.coverage_gap);
      var gapText = b.coverage_gap && b.coverage_gap.opened ? " " + b.coverage_gap.message : "";
      var kind = gapText ? "warn" : "ok";
      load().then(function () {
        if (b.deleted) { form.hidden = true; selected = null; say(fmt(T.deleted, {code: b.code, version: b.version}) + gapText, kind); return; }
        units.eachLayer(function (l) { if (l.feature.properties.code === code) select(l); });
        say(fmt(T.saved, {version: b.properties.version}) + gapText, kind);
      });
    }
    function history(code) {
      var list = document.getElementById("history");
      list.textContent = T.historyLoading;
      C.api(opts.unitsUrl + encodeURIComponent(code) + "/history/").then(function (res) {
        if (!res.ok) { list.textContent = res.body.message || ""; return; }
        list.innerHTML = "";
        res.body.slice().reverse().forEach(function (v) { list.appendChild(historyEntry(code, v)); });
      });
    }
    function attributeChange(key, change) {
      var name = T.attributes[key] || key;
      if (key === "access_list") {
        return name + "：" + fmt(T.historyAccessList, {before: (change.before || []).length, after: (change.after || []).length});
      }
      var show = function (v) { return key === "category" ? (T.categories[v] || v) : (v == null ? "—" : String(v)); };
      return name + "：" + show(change.before).slice(0, 60) + " → " + show(change.after).slice(0, 60);
    }
    function historyEntry(code, v) {
      var li = document.createElement("li"), ch = v.changes;
      var head = document.createElement("b");
      head.textContent = fmt(T.version, {version: v.version});
      li.appendChild(head);
      // created_at is local time with its offset (zoning/selectors.py): the clock time as it reads.
      li.appendChild(document.createTextNode(" " + (T.actions[v.action] || v.action) + " · " + v.author + " · " +
        v.created_at.slice(0, 16).replace("T", " ")));
      var lines = [T.historyReason + "：" + v.reason,
        fmt(T.historyArea, {added: Math.round(ch.area_added_m2).toLocaleString() + " m²", removed: Math.round(ch.area_removed_m2).toLocaleString() + " m²"})];
      Object.keys(ch.attributes).forEach(function (k) { lines.push(attributeChange(k, ch.attributes[k])); });
      lines.forEach(function (line) { li.appendChild(document.createElement("br")); li.appendChild(document.createTextNode(line)); });
      if (opts.canEdit && String(v.version) !== String(form.version.value) && v.action !== "delete") {
        var b = document.createElement("button");
        b.type = "button"; b.textContent = T.revertTo; b.dataset.testid = "revert-" + v.version;
        b.addEventListener("click", function () {
          confirmed(opts.unitsUrl + encodeURIComponent(code) + "/revert/", "POST",
            {to_version: v.version, base_version: Number(form.version.value)},
            fmt(T.dialogRevert, {code: code, version: v.version})).then(after);
        });
        li.appendChild(document.createElement("br")); li.appendChild(b);
      }
      return li;
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!selected || !opts.canEdit) return;
      var body = {name: form.name.value, access_list: accessList()};
      if (isNew || selected._zoningEdited) {
        var g = C.layerGeometry(selected); body.geometry = g.geometry; body.crs = g.crs;
        body.carve = true;  // a new or reshaped unit takes its area from the units it overlaps
      }
      if (isNew) {
        body.code = form.code.value.trim(); body.category = form.category.value;
        confirmed(opts.unitsUrl, "POST", body, fmt(T.dialogCreate, {code: body.code})).then(after);
      } else {
        body.base_version = Number(form.version.value);
        confirmed(opts.unitsUrl + encodeURIComponent(form.code.value) + "/", "PATCH", body,
          fmt(T.dialogSave, {code: form.code.value})).then(after);
      }
    });
    if (del) del.addEventListener("click", function () {
      if (!selected || isNew) return;
      confirmed(opts.unitsUrl + encodeURIComponent(form.code.value) + "/", "DELETE",
        {base_version: Number(form.version.value)}, fmt(T.dialogDelete, {code: form.code.value})).then(after);
    });
    if (discard) discard.addEventListener("click", function () {
      if (!selected || !isNew) return;
      map.removeLayer(selected); selected = null; form.hidden = true; markers.clearLayers(); gapLayer.clearLayers(); say("");
    });

    if (opts.canEdit) {
      map.pm.addControls({position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false, drawCircle: false,
        drawText: false, rotateMode: false, removalMode: false});
      map.pm.setGlobalOptions({snappable: true, snapDistance: 15, allowSelfIntersection: true});
      map.on("pm:create", function (e) {
        if (e.shape === "Cut") return;
        e.layer.feature = {type: "Feature", properties: {}};
        e.layer.on("click", function () { select(e.layer); });
        select(e.layer); say(T.drawn);
      });
      // The cut tool works on the selected unit only: Geoman would otherwise cut every layer
      // the drawn ring touches, neighbours included. (It empties the list after a cut: set it
      // each time the tool is taken up.)
      map.on("pm:globalcutmodetoggled", function (e) {
        if (!e.enabled) return;
        if (!selected || isNew) { map.pm.disableDraw(); say(T.cutSelectFirst, "error"); return; }
        map.pm.Draw.Cut.setOptions({layersToCut: [selected]});
      });
      map.on("pm:cut", function (e) {  // the cut replaces the layer by a new one
        var l = e.layer, original = e.originalLayer;
        if (!original.feature || !l.setStyle) return;
        l.feature = original.feature; l._zoningEdited = true;
        units.removeLayer(original); units.addLayer(l); bindUnit(l);
        selected = null; select(l); say(T.cutDone, "ok");
      });
    } else {
      map.pm.setGlobalOptions({snappable: false});
    }
    if (opts.canEdit) root.ZoningImport(opts, T, load);
    load();
    root.zoningEditor = {map: map, units: units, select: select, selectCode: function (code) {
      units.eachLayer(function (l) { if (l.feature.properties.code === code) select(l); });
    }, selected: function () { return selected; }};
  };
})(window);
