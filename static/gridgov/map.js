/* Shared map set-up for GridGov pages: basemap choice, the GCJ-02 shift for AMap, layers. */
(function (root) {
  "use strict";
  var GridGov = root.GridGov || {};

  // Basemaps. Tianditu is CGCS2000 (= WGS84 for display); AMap is GCJ-02, so WGS84 overlays
  // are shifted onto it (see GridGov.toMap). With no network the vector layers still draw.
  GridGov.addBasemap = function (map, opts) {
    var kind = opts.basemap || "none";
    if (kind === "tianditu" && opts.tiandituKey) {
      var t = "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=" + encodeURIComponent(opts.tiandituKey);
      L.tileLayer(t, {layer: "vec", subdomains: "01234567", maxZoom: 18, attribution: "天地图"}).addTo(map);
      L.tileLayer(t, {layer: "cva", subdomains: "01234567", maxZoom: 18}).addTo(map);
    } else if (kind === "amap") {
      L.tileLayer("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        {subdomains: "1234", maxZoom: 18, attribution: "高德地图 (GCJ-02)"}).addTo(map);
    } else if (kind === "osm") {
      L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        {maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"}).addTo(map);
    }
    GridGov.shifted = kind === "amap";
    return kind;
  };

  // WGS84 lon/lat -> the map's latlng (GCJ-02 on AMap), and back for clicks.
  GridGov.toMap = function (lon, lat) {
    if (!GridGov.shifted) return L.latLng(lat, lon);
    var p = GridGovCoords.wgs84ToGcj02(lon, lat);
    return L.latLng(p[1], p[0]);
  };
  GridGov.fromMap = function (latlng) {
    if (!GridGov.shifted) return {lon: latlng.lng, lat: latlng.lat};
    var p = GridGovCoords.gcj02ToWgs84(latlng.lng, latlng.lat);
    return {lon: p[0], lat: p[1]};
  };
  GridGov.geoJSON = function (data, options) {
    options = options || {};
    options.coordsToLatLng = function (c) { return GridGov.toMap(c[0], c[1]); };
    return L.geoJSON(data, options);
  };

  GridGov.createMap = function (id, opts) {
    var map = L.map(id, {preferCanvas: false, zoomControl: true}).setView([29.95, 119.55], 9);
    GridGov.addBasemap(map, opts);
    L.control.scale({imperial: false}).addTo(map);
    return map;
  };

  GridGov.escape = function (s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  };

  // Vector tiles for large layers; on a shifted (AMap) basemap they cannot be moved, so the
  // caller falls back to GeoJSON there.
  GridGov.tileLayer = function (url, layer, style, opts) {
    opts = opts || {};
    var styles = {};
    styles[layer] = style;
    return L.vectorGrid.protobuf(url.replace("{layer}", layer), {
      rendererFactory: L.svg.tile,
      vectorTileLayerStyles: styles,
      interactive: false,
      minZoom: opts.minZoom || 0,
      maxNativeZoom: 16
    });
  };

  GridGov.homeMap = function (id, opts) {
    var map = GridGov.createMap(id, opts);
    var labels = opts.labels;
    var districts = null;
    fetch(opts.areasUrl + "?level=district").then(function (r) { return r.json(); }).then(function (fc) {
      districts = GridGov.geoJSON(fc, {
        className: "gg-district",
        style: {color: "#1f5fa8", weight: 2, fill: true, fillOpacity: 0.04},
        onEachFeature: function (f, l) { l.bindTooltip(f.properties.name, {sticky: true}); }
      }).addTo(map);
      map.fitBounds(districts.getBounds());
      document.getElementById(id).dataset.districts = fc.features.length;
    });
    if (!GridGov.shifted) {
      GridGov.tileLayer(opts.tileUrl, "admin-areas", function (p) {
        return p.level === "township" ? {color: "#6a8caf", weight: 1, fill: false, dashArray: "4 3"} : {weight: 0, fill: false};
      }).addTo(map);
      GridGov.tileLayer(opts.tileUrl, "grid-cells", {color: "#c77d1a", weight: 0.6, fill: false}, {minZoom: 11}).addTo(map);
    }
    var marker = null;
    map.on("click", function (e) {
      var p = GridGov.fromMap(e.latlng);
      var box = document.getElementById("locate-result");
      fetch(opts.locateUrl + "?lat=" + p.lat.toFixed(7) + "&lon=" + p.lon.toFixed(7), {credentials: "same-origin"})
        .then(function (r) { return r.json().then(function (b) { return {ok: r.ok, body: b}; }); })
        .then(function (res) {
          if (marker) map.removeLayer(marker);
          marker = L.marker(e.latlng).addTo(map);
          if (!res.ok) { box.textContent = res.body.message || labels.outside; return; }
          var b = res.body, esc = GridGov.escape;
          var staff = b.officers.map(function (o) {
            return "<li>" + esc(o.duty_label) + "：" + esc(o.name) + (o.phone ? " " + esc(o.phone) : "") + "</li>";
          }).join("");
          box.innerHTML = "<b>" + esc(b.district.name) + " · " + esc(b.township.name) + "</b><br>" +
            labels.cell + " <code>" + esc(b.grid_cell.code) + "</code><ul>" + staff + "</ul>";
        });
    });
    root.gridgovMap = map;
    return map;
  };

  root.GridGov = GridGov;
})(window);
