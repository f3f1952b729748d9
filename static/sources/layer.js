/* Pollution sources on a GridGov map: one circle per enterprise, coloured by management class,
 * ringed in red while one of its exceedance cases is open (for staff who may see it).
 *
 *   <script src="{% static 'sources/layer.js' %}"></script>
 *   GridGovSources.addTo(map, {url: "/api/sources/enterprises/", pageUrl: "/sources/",
 *                              labels: {key: "重点管理", simplified: "简化管理", registration: "登记管理",
 *                                       permit: "排污许可证", exceedance: "超标未结案"}});
 *
 * Reads every page of GET /api/sources/enterprises/ (GeoJSON) and places points through
 * GridGov.toMap, so they sit right on an AMap (GCJ-02) basemap too. Returns the layer group;
 * its element carries data-sources = the number of enterprises drawn, once loaded.
 */
(function (root) {
  "use strict";
  var S = root.GridGovSources || {};
  S.colours = {key: "#c62828", simplified: "#ef8f00", registration: "#1565c0"};

  var esc = GridGov.escape;
  function toMap(lon, lat) { return root.GridGov && GridGov.toMap ? GridGov.toMap(lon, lat) : L.latLng(lat, lon); }

  S.addTo = function (map, opts) {
    opts = opts || {};
    var labels = opts.labels || {};
    var group = L.layerGroup().addTo(map);
    function draw(fc) {
      fc.features.forEach(function (f) {
        var p = f.properties, c = f.geometry.coordinates, ll = toMap(c[0], c[1]);
        var colour = S.colours[p.management_class] || "#555";
        var marker = L.circleMarker(ll, {radius: 6, color: "#fff", weight: 1, fillColor: colour, fillOpacity: 0.9, bubblingMouseEvents: false,
                                         className: "gg-source gg-source-" + p.management_class});
        var html = "<b>" + esc(p.name) + "</b><br>" + esc(labels[p.management_class] || p.management_class_label) +
          (p.permit_number ? "<br>" + esc(labels.permit || "") + " <code>" + esc(p.permit_number) + "</code>" : "") +
          (p.exceedance_open ? '<br><b style="color:#c62828">' + esc(labels.exceedance || "!") + "</b>" : "") +
          (opts.pageUrl ? '<br><a href="' + opts.pageUrl + encodeURIComponent(p.credit_code) + '/">' + esc(p.credit_code) + "</a>" : "");
        marker.bindPopup(html);
        group.addLayer(marker);
        if (p.exceedance_open) {
          group.addLayer(L.circleMarker(ll, {radius: 11, color: "#c62828", weight: 3, fill: false, interactive: false,
                                             className: "gg-source-alarm"}));
        }
      });
    }
    var url = (opts.url || "/api/sources/enterprises/") + (String(opts.url || "").indexOf("?") < 0 ? "?limit=1000" : "");
    GridGov.eachPage(url, draw).then(function (n) { map.getContainer().dataset.sources = n; });
    return group;
  };

  root.GridGovSources = S;
})(window);
