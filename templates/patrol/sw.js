{% load static %}/* GridGov mobile service worker: caches the app shell so /m/ opens offline.
 * Only GET requests for the shell are answered here; API calls and every POST go straight to
 * the network, so the page (and its IndexedDB queue) sees the real online/offline state. */
"use strict";
var CACHE = "gridgov-patrol-shell-v4";
var TILES = "gridgov-patrol-tiles-v1";  // grid-cell tiles seen online, for orientation offline
var SHELL = [
  "{% url 'patrol-mobile' %}",
  "{% url 'patrol-manifest' %}",
  "{% static 'leaflet/leaflet.css' %}",
  "{% static 'leaflet/leaflet.js' %}",
  "{% static 'gridgov/coords.js' %}",
  "{% static 'gridgov/map.js' %}",
  "{% static 'gridgov/photos.js' %}",
  "{% static 'vendor/leaflet.vectorgrid-1.3.0/Leaflet.VectorGrid.bundled.min.js' %}",
  "{% static 'patrol/mobile.js' %}",{% if inspections_enabled %}
  "{% static 'inspections/tasks.js' %}",{% endif %}
  "{% static 'patrol/mobile.css' %}",
  "{% static 'patrol/icon-192.png' %}",
  "{% url 'patrol-categories' %}"
];
self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () { return self.skipWaiting(); }));
});
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE && k !== TILES; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});
self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === "navigate" && url.pathname.indexOf("/m/") === 0) {
    // Network first, so a fresh login or a new version wins; the cached shell when offline.
    event.respondWith(fetch(req).then(function (res) {
      if (res.ok && !res.redirected) {
        var copy = res.clone();
        caches.open(CACHE).then(function (c) { c.put("{% url 'patrol-mobile' %}", copy); });
      }
      return res;
    }).catch(function () { return caches.match("{% url 'patrol-mobile' %}"); }));
    return;
  }
  if (url.pathname.indexOf("/tiles/grid-cells/") === 0) {
    // Network first; offline, the tile as last seen (or an empty answer: the map still works).
    event.respondWith(fetch(req).then(function (res) {
      if (res.ok) { var copy = res.clone(); caches.open(TILES).then(function (c) { c.put(req, copy); }); }
      return res;
    }).catch(function () {
      return caches.open(TILES).then(function (c) { return c.match(req); }).then(function (hit) {
        return hit || new Response(new ArrayBuffer(0), {status: 200, headers: {"Content-Type": "application/x-protobuf"}});
      });
    }));
    return;
  }
  if (SHELL.indexOf(url.pathname) >= 0 || url.pathname.indexOf("{% static 'leaflet/images/' %}") === 0) {
    event.respondWith(caches.match(req).then(function (hit) {
      return hit || fetch(req).then(function (res) {
        var copy = res.clone();
        caches.open(CACHE).then(function (c) { c.put(req, copy); });
        return res;
      });
    }));
  }
});
