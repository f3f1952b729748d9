/* The public pages (templates/public/): the 曝光台 map, a published case's map, and the map of
 * the citizen report form (click to place the pin, or find a known place name). Everything the
 * page says comes from the template (#public-labels, data attributes), in the page language. */
(function () {
  "use strict";
  var el = document.getElementById("public-map");
  if (!el) return;
  var labels = JSON.parse((document.getElementById("public-labels") || {}).textContent || "{}");
  var map = GridGov.createMap("public-map", {basemap: el.dataset.basemap, tiandituKey: el.dataset.tiandituKey});
  var esc = GridGov.escape;

  if (el.dataset.role === "cases") {
    fetch(el.dataset.mapUrl).then(function (r) { return r.ok ? r.json() : null; }).then(function (fc) {
      if (!fc || !fc.features.length) { el.dataset.cases = 0; return; }
      var layer = GridGov.geoJSON(fc, {
        pointToLayer: function (f, ll) {
          return L.circleMarker(ll, {radius: 7, weight: 2, fillOpacity: 0.7,
                                     color: f.properties.rectified ? "#2e7d32" : "#e65100"});
        },
        onEachFeature: function (f, l) {
          l.bindPopup('<a href="' + esc(f.properties.url) + '">' + esc(f.properties.category) + "</a><br>" + esc(f.properties.progress));
        }
      }).addTo(map);
      map.fitBounds(layer.getBounds(), {maxZoom: 14, padding: [20, 20]});
      el.dataset.cases = fc.features.length;
    });
    return;
  }
  if (el.dataset.role === "case") {
    var here = GridGov.toMap(parseFloat(el.dataset.lon), parseFloat(el.dataset.lat));
    L.marker(here).addTo(map);
    map.setView(here, 15);
    return;
  }

  // The report form: a pin the citizen places; its WGS84 position goes into the hidden fields.
  var form = el.closest("form");
  var lat = form.querySelector("[name=lat]"), lon = form.querySelector("[name=lon]");
  var pinText = document.getElementById("pin-text"), pin = null;
  function setPin(ll, zoom) {
    if (!pin) {
      pin = L.marker(ll, {draggable: true}).addTo(map);
      pin.on("dragend", function () { setPin(pin.getLatLng()); });
    } else { pin.setLatLng(ll); }
    var p = GridGov.fromMap(ll);
    lat.value = p.lat.toFixed(7); lon.value = p.lon.toFixed(7);
    pinText.textContent = (labels.pin || "").replace("{lat}", lat.value).replace("{lon}", lon.value);
    el.dataset.pinned = "1";
    if (zoom) map.setView(ll, zoom);
  }
  map.on("click", function (ev) { setPin(ev.latlng); });
  if (lat.value && lon.value) setPin(GridGov.toMap(parseFloat(lon.value), parseFloat(lat.value)), 15);
  else pinText.textContent = labels.nopin || "";

  var results = document.getElementById("place-results");
  var address = form.querySelector("[name=address]");
  function find() {
    var q = address.value.trim();
    results.innerHTML = "";
    if (q.length < 2) return;
    fetch(el.dataset.placesUrl + "?q=" + encodeURIComponent(q)).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw new Error(b.message); return b; });
    }).then(function (b) {
      if (!b.results.length) { results.innerHTML = "<li class='muted'>" + esc(labels.none) + "</li>"; return; }
      results.innerHTML = b.results.map(function (p, i) {
        return "<li><button type='button' data-i='" + i + "' data-testid='place-result'>" + esc(p.name) +
          " <small class='muted'>" + esc(p.kind) + "</small></button></li>";
      }).join("");
      results.querySelectorAll("button[data-i]").forEach(function (btn) {
        btn.addEventListener("click", function () {
          var p = b.results[+btn.dataset.i];
          setPin(GridGov.toMap(p.lon, p.lat), 15);
          results.innerHTML = "";
        });
      });
    }).catch(function (err) { results.innerHTML = "<li class='error'>" + esc(err.message || labels.error) + "</li>"; });
  }
  document.getElementById("place-find").addEventListener("click", find);
  address.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); find(); } });
})();
