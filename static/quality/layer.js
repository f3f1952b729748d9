/* Quality stations on a GridGov map: air stations coloured by today's AQI level (the latest
 * hourly AQI, HJ 633 colours), water sections by their latest daily class (GB 3838-2002; red
 * ring when worse than the target). Grey: no valid data today.
 *
 *   <script src="{% static 'quality/layer.js' %}"></script>
 *   GridGovQuality.addTo(map, {url: "/api/quality/stations/", pageUrl: "/quality/stations/",
 *                              labels: {air: "空气质量监测站", water: "地表水水质监测断面",
 *                                       noData: "今日暂无有效数据", target: "水质目标",
 *                                       offTarget: "不达标", primary: "首要污染物"}});
 *
 * Reads every page of GET /api/quality/stations/ (GeoJSON) and places the points through
 * GridGov.toMap, so they sit right on an AMap (GCJ-02) basemap too. Returns the layer group;
 * the map's element carries data-quality-stations = the number of stations drawn, once loaded.
 */
(function (root) {
  "use strict";
  var Q = root.GridGovQuality || {};
  Q.noDataColour = "#9e9e9e";

  var esc = GridGov.escape;
  function toMap(lon, lat) { return root.GridGov && GridGov.toMap ? GridGov.toMap(lon, lat) : L.latLng(lat, lon); }

  function popup(p, labels, pageUrl) {
    var t = p.today, html = "<b>" + esc(p.name) + "</b> <code>" + esc(p.code) + "</code><br>" + esc(labels[p.kind] || p.kind_label);
    if (!t) {
      html += "<br>" + esc(labels.noData || "");
    } else if (p.kind === "air") {
      html += "<br>AQI <b>" + esc(t.aqi) + "</b> " + esc(t.level_label || "") +
        (t.primary && t.primary.length ? "<br>" + esc(labels.primary || "") + " " + esc(t.primary.join(", ")) : "");
    } else {
      html += "<br>" + esc(t.class_label) + (p.target_class ? " · " + esc(labels.target || "") + " " + esc(p.target_class) : "") +
        (t.meets_target === false ? ' <b class="alarm-text">' + esc(labels.offTarget || "!") + "</b>" : "");
    }
    if (pageUrl) html += '<br><a href="' + pageUrl + encodeURIComponent(p.code) + '/">' + esc(p.code) + "</a>";
    return html;
  }

  Q.addTo = function (map, opts) {
    opts = opts || {};
    var labels = opts.labels || {};
    var group = L.layerGroup().addTo(map);
    function draw(fc) {
      fc.features.forEach(function (f) {
        var p = f.properties, c = f.geometry.coordinates, ll = toMap(c[0], c[1]);
        var colour = p.today && p.today.color ? p.today.color : Q.noDataColour;
        var shape = p.kind === "water" ? {radius: 7, weight: 2, color: "#0d47a1"} : {radius: 7, weight: 1, color: "#333"};
        var marker = L.circleMarker(ll, {radius: shape.radius, color: shape.color, weight: shape.weight, fillColor: colour,
                                         fillOpacity: 0.95, bubblingMouseEvents: false, className: "gg-quality gg-quality-" + p.kind});
        marker.bindPopup(popup(p, labels, opts.pageUrl));
        group.addLayer(marker);
        if (p.today && p.today.meets_target === false) {
          group.addLayer(L.circleMarker(ll, {radius: 12, color: "#c62828", weight: 3, fill: false, interactive: false,
                                             className: "gg-quality-off-target"}));
        }
      });
    }
    var url = opts.url || "/api/quality/stations/";
    GridGov.eachPage(url + (url.indexOf("?") < 0 ? "?limit=1000" : "&limit=1000"), draw).then(function (n) {
      map.getContainer().dataset.qualityStations = n;
    });
    return group;
  };

  root.GridGovQuality = Q;
})(window);
