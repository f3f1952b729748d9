/* Shared map set-up for GridGov pages: basemap choice, the GCJ-02 shift for AMap, layers. */
(function (root) {
  "use strict";
  var GridGov = root.GridGov || {};

  // Basemaps. Tianditu is CGCS2000 (= WGS84 for display); AMap is GCJ-02, so WGS84 overlays
  // are shifted onto it (see GridGov.toMap). When the basemap cannot be reached (a government
  // intranet without internet) or none is configured, the map draws the city's own layers.
  GridGov.addBasemap = function (map, opts) {
    var kind = opts.basemap || "none";
    var layers = [];
    if (kind === "tianditu" && opts.tiandituKey) {
      var t = "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=" + encodeURIComponent(opts.tiandituKey);
      layers.push(L.tileLayer(t, {layer: "vec", subdomains: "01234567", maxZoom: 18, attribution: "天地图"}));
      layers.push(L.tileLayer(t, {layer: "cva", subdomains: "01234567", maxZoom: 18}));
    } else if (kind === "amap") {
      layers.push(L.tileLayer("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        {subdomains: "1234", maxZoom: 18, attribution: "高德地图 (GCJ-02)"}));
    } else if (kind === "osm") {
      layers.push(L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        {maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"}));
    }
    GridGov.shifted = kind === "amap";
    if (!layers.length) {
      GridGov.cityBase(map, "none");
      return kind;
    }
    // A basemap that fails its first tiles and loads none is unreachable: drop it (no more
    // failing requests) and draw the city instead. Tiles loading later bring nothing back.
    var loaded = 0, failed = 0;
    layers.forEach(function (layer) {
      layer.on("tileload", function () { loaded++; });
      layer.on("tileerror", function () {
        failed++;
        if (!loaded && failed >= 3 && !map._ggCityBase) {
          layers.forEach(function (l) { map.removeLayer(l); });
          GridGov.cityBase(map, "unreachable");
        }
      });
      layer.addTo(map);
    });
    return kind;
  };

  // The city's own vector layers as a basemap: districts filled, water zones, township lines
  // and grid cells, under every overlay, with a notice in the corner saying why.
  GridGov.cityBase = function (map, why) {
    if (map._ggCityBase) return;
    map._ggCityBase = true;
    var en = (document.documentElement.lang || "").indexOf("en") === 0;
    var container = map.getContainer();
    container.classList.add("gg-city-base");
    container.dataset.basemap = "city";
    map.createPane("ggCityBase").style.zIndex = 250;  // above tiles (200), below overlays (400)
    var drawn = 0;
    function add(url, style) {
      return fetch(url, {credentials: "same-origin"}).then(function (r) {
        if (!r.ok) return;
        return r.json().then(function (fc) {
          GridGov.geoJSON(fc, {pane: "ggCityBase", interactive: false, style: style}).addTo(map);
          container.dataset.cityLayers = ++drawn;
        });
      }).catch(function () { /* that layer stays out; the others still draw */ });
    }
    // Water over the land: one after the other, so the districts' fill cannot cover it.
    // Simplified for the screen (zoom 11: about 30 m, a few dozen kilobytes instead of 589 KB).
    add("/api/areas/?level=district&zoom=11", {color: "#a89f86", weight: 1.2, fillColor: "#f4f1e6", fillOpacity: 1})
      .then(function () {
        return add("/api/zoning/zones/?layer=water", {color: "#6fa8cf", weight: 0.6, fillColor: "#b9d8ee", fillOpacity: 0.9});
      });
    if (L.vectorGrid && !GridGov.shifted) {
      GridGov.tileLayer("/tiles/{layer}/{z}/{x}/{y}.pbf", "admin-areas", function (p) {
        return p.level === "township" ? {color: "#b9ae93", weight: 0.8, fill: false} : {weight: 0, fill: false};
      }, {pane: "ggCityBase"}).addTo(map);
      GridGov.tileLayer("/tiles/{layer}/{z}/{x}/{y}.pbf", "grid-cells", {color: "#c9bfa6", weight: 0.4, fill: false},
        {minZoom: 12, pane: "ggCityBase"}).addTo(map);
    }
    var notice = L.control({position: "bottomleft"});
    notice.onAdd = function () {
      var div = L.DomUtil.create("div", "gg-basemap-notice");
      div.setAttribute("role", "status");
      div.dataset.testid = "basemap-notice";
      div.textContent = why === "none"
        ? (en ? "No online basemap configured: showing the city's own layers" : "未配置在线底图：显示本市矢量底图")
        : (en ? "Basemap unavailable (no connection to the tile service): showing the city's own layers"
              : "底图不可用（无法连接底图服务）：显示本市矢量底图");
      return div;
    };
    notice.addTo(map);
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

  GridGov.escape = function (s) {  // text for HTML; null and undefined are empty
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  };

  // Every page of a paged GeoJSON collection (following each page's `next`), handed to onPage
  // in order; resolves with the number of features.
  GridGov.eachPage = function (url, onPage) {
    var count = 0;
    function page(u) {
      return fetch(u, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (fc) {
        onPage(fc);
        count += fc.features.length;
        return fc.next ? page(fc.next) : count;
      });
    }
    return page(url);
  };

  // Vector tiles for large layers; on a shifted (AMap) basemap they cannot be moved, so the
  // caller falls back to GeoJSON there.
  GridGov.tileLayer = function (url, layer, style, opts) {
    opts = opts || {};
    var styles = {};
    styles[layer] = style;
    var options = {
      rendererFactory: L.svg.tile,
      vectorTileLayerStyles: styles,
      interactive: false,
      minZoom: opts.minZoom || 0,
      maxNativeZoom: 16
    };
    if (opts.pane) options.pane = opts.pane;
    var grid = L.vectorGrid.protobuf(url.replace("{layer}", layer), options);
    // VectorGrid leaves a failed tile fetch (no network) as an unhandled rejection, a console
    // error on every tile: draw the tile empty instead; redraw() asks again once back online.
    var load = grid._getVectorTilePromise;
    grid._getVectorTilePromise = function (coords, tileBounds) {
      return load.call(grid, coords, tileBounds).catch(function () { return {layers: []}; });
    };
    return grid;
  };

  GridGov.homeMap = function (id, opts) {
    var map = GridGov.createMap(id, opts);
    var labels = opts.labels;
    var districts = null;
    fetch(opts.areasUrl + "?level=district&zoom=11").then(function (r) { return r.json(); }).then(function (fc) {
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
