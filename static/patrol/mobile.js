/* GridGov mobile patrol app: GPS map, report here, an IndexedDB queue that sends itself, tasks.
 *
 * Every report gets a client_uuid when it is queued; the server answers a resend of the same
 * report with the same case, so the queue may retry as often as it likes: a report made
 * offline appears exactly once. Photos wait in IndexedDB as Blobs next to their report.
 */
(function () {
  "use strict";
  var P = window.PATROL, LBL = P.labels;
  var DB_NAME = "gridgov-patrol", STORE = "queue";

  // ---- IndexedDB ------------------------------------------------------------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, {keyPath: "id"}); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  var dbp = openDb();
  function tx(mode, fn) {
    return dbp.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), store = t.objectStore(STORE), out;
        out = fn(store);
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function allItems() { return tx("readonly", function (s) { return s.getAll(); }); }
  function putItem(item) { return tx("readwrite", function (s) { s.put(item); }); }

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function esc(s) { return GridGov.escape(s == null ? "" : s); }

  // ---- Network indicator ----------------------------------------------------------------
  var net = document.getElementById("net");
  function showNet() {
    net.textContent = navigator.onLine ? LBL.online : LBL.offline;
    net.classList.toggle("off", !navigator.onLine);
  }
  window.addEventListener("online", function () { showNet(); flush(); loadTasks(); });
  window.addEventListener("offline", showNet);
  showNet();

  // ---- Map, GPS, pin --------------------------------------------------------------------
  var map = GridGov.createMap("m-map", {basemap: P.basemap, tiandituKey: P.tiandituKey});
  map.setView([30.25, 120.13], 13);
  if (!GridGov.shifted && L.vectorGrid) {  // grid-cell outlines: where am I, in which cell (works offline once seen)
    GridGov.tileLayer(P.tileUrl, "grid-cells", {color: "#c77d1a", weight: 1, fill: false}, {minZoom: 11}).addTo(map);
  }
  var fix = null, me = null, ring = null, pin = null, pinMoved = false, following = true;
  var gpsBox = document.getElementById("gps");
  map.on("dragstart", function () { following = false; });
  function onFix(pos) {
    fix = {lat: pos.coords.latitude, lon: pos.coords.longitude, acc: pos.coords.accuracy};
    var ll = GridGov.toMap(fix.lon, fix.lat);
    if (!me) {
      me = L.circleMarker(ll, {radius: 7, color: "#fff", weight: 2, fillColor: "#1f5fa8", fillOpacity: 1}).addTo(map);
      ring = L.circle(ll, {radius: fix.acc, color: "#1f5fa8", weight: 1, fillOpacity: 0.12}).addTo(map);
      map.setView(ll, 17);
    } else {
      me.setLatLng(ll); ring.setLatLng(ll); ring.setRadius(fix.acc);
      if (following) map.panTo(ll);
    }
    gpsBox.textContent = fix.lat.toFixed(6) + ", " + fix.lon.toFixed(6) + " ±" + Math.round(fix.acc) + " m";
    gpsBox.dataset.accuracy = Math.round(fix.acc);
  }
  if (navigator.geolocation) {
    navigator.geolocation.watchPosition(onFix, function (err) { gpsBox.textContent = err.message; },
      {enableHighAccuracy: true, maximumAge: 5000, timeout: 30000});
  }

  var form = document.getElementById("report-form");
  document.getElementById("report-here").addEventListener("click", function () {
    var ll = fix ? GridGov.toMap(fix.lon, fix.lat) : map.getCenter();
    if (!pin) {
      pin = L.marker(ll, {draggable: true, title: "上报位置"}).addTo(map);
      pin.on("dragend", function () { pinMoved = true; });
    } else { pin.setLatLng(ll); }
    pinMoved = !fix;
    form.hidden = false;
    document.getElementById("category").focus();
  });
  var photoInput = document.getElementById("photo");
  photoInput.addEventListener("change", function () {
    document.getElementById("photo-count").textContent = photoInput.files.length ? photoInput.files.length + " 张照片" : "";
  });

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var category = document.getElementById("category").value;
    if (!category) { alert(LBL.needCategory); return; }
    if (!pin) { alert(LBL.needFix); return; }
    var p = GridGov.fromMap(pin.getLatLng());
    var item = {
      id: uuid4(),
      created: new Date().toISOString(),
      state: "queued",
      error: "",
      payload: {
        lat: +p.lat.toFixed(7), lon: +p.lon.toFixed(7),
        accuracy_m: (!pinMoved && fix) ? Math.round(fix.acc * 10) / 10 : null,
        category: category,
        category_name: document.getElementById("category").selectedOptions[0].textContent.trim(),
        description: document.getElementById("description").value
      },
      photos: Array.prototype.slice.call(photoInput.files),
      photo_hashes: null
    };
    item.payload.client_uuid = item.id;
    putItem(item).then(function () {
      form.reset(); form.hidden = true;
      document.getElementById("photo-count").textContent = "";
      if (pin) { map.removeLayer(pin); pin = null; }
      render();
      flush();
    });
  });

  // ---- Queue ----------------------------------------------------------------------------
  var queueEl = document.getElementById("queue");
  function render() {
    return allItems().then(function (items) {
      items.sort(function (a, b) { return a.created < b.created ? 1 : -1; });
      queueEl.innerHTML = items.map(function (it) {
        return '<li data-testid="queue-item" data-state="' + it.state + '" data-id="' + esc(it.id) + '"' +
          (it.result ? ' data-issue="' + it.result.id + '"' : "") + ">" +
          "<b>" + esc(it.payload.category_name) + "</b> · <span class='st'>" + esc(LBL[it.state]) + "</span>" +
          (it.result ? " · #" + it.result.id : "") +
          (it.photos && it.photos.length ? " · 📷" + it.photos.length : "") +
          "<div class='m-hint'>" + esc(it.payload.description).slice(0, 80) + "</div>" +
          (it.error ? "<div class='m-hint' style='color:#c62828'>" + esc(it.error) + "</div>" : "") + "</li>";
      }).join("");
    });
  }

  function uploadPhotos(item) {
    if (item.photo_hashes) return Promise.resolve(item.photo_hashes);
    var hashes = [];
    return (item.photos || []).reduce(function (chain, blob) {
      return chain.then(function () {
        var fd = new FormData();
        fd.append("photo", blob, blob.name || "photo.jpg");
        return fetch(P.photosUrl, {method: "POST", body: fd, credentials: "same-origin", headers: {"X-CSRFToken": csrf()}})
          .then(function (r) {
            return r.json().then(function (b) {
              if (!r.ok) { var e = new Error(b.message || r.status); e.status = r.status; throw e; }
              hashes.push(b.sha256);
            });
          });
      });
    }, Promise.resolve()).then(function () { return hashes; });
  }

  var flushing = false;
  function flush() {
    if (flushing) return Promise.resolve();
    flushing = true;
    return allItems().then(function (items) {
      var todo = items.filter(function (it) { return it.state === "queued"; });
      return todo.reduce(function (chain, it) { return chain.then(function () { return sendOne(it); }); }, Promise.resolve());
    }).catch(function () {}).then(function () { flushing = false; });
  }

  function sendOne(it) {
    it.state = "sending"; it.error = "";
    return putItem(it).then(render).then(function () {
      return uploadPhotos(it);
    }).then(function (hashes) {
      it.photo_hashes = hashes;
      var body = Object.assign({}, it.payload, {photo_hashes: hashes});
      delete body.category_name;
      if (body.accuracy_m == null) delete body.accuracy_m;
      return fetch(P.issuesUrl, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf()},
        body: JSON.stringify(body)
      });
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) {
        if (r.status === 200 || r.status === 201) {
          it.state = "sent"; it.result = {id: b.id, status: b.status, deadline: b.deadline};
          it.photos = [];  // the server has them now; keep the record, drop the bytes
        } else if (r.status === 401 || r.status === 403 || r.status >= 500) {
          it.state = "queued"; it.error = b.message || ("HTTP " + r.status);  // retry later (login, server)
        } else {
          it.state = "failed"; it.error = b.message || ("HTTP " + r.status);  // the report itself is wrong
        }
      });
    }, function (err) {
      if (err && err.status && err.status < 500 && err.status !== 401 && err.status !== 403) {
        it.state = "failed"; it.error = err.message;
      } else {
        it.state = "queued"; it.error = navigator.onLine ? String(err && err.message || err) : "";
      }
    }).then(function () { return putItem(it); }).then(render);
  }

  // A report left 'sending' when the app closed is sent again: harmless, thanks to client_uuid.
  allItems().then(function (items) {
    return Promise.all(items.filter(function (it) { return it.state === "sending"; }).map(function (it) {
      it.state = "queued"; return putItem(it);
    }));
  }).then(render).then(flush);
  setInterval(flush, 15000);

  // ---- My tasks -------------------------------------------------------------------------
  var tasksEl = document.getElementById("tasks");
  function renderTasks(fc) {
    var feats = (fc && fc.features) || [];
    if (!feats.length) { tasksEl.innerHTML = "<li class='m-hint'>" + esc(LBL.noTasks) + "</li>"; return; }
    tasksEl.innerHTML = feats.map(function (f) {
      var p = f.properties, acts = (p.allowed_actions || []).filter(function (a) { return LBL[a]; });
      var dl = p.deadline ? new Date(p.deadline) : null;
      return '<li data-testid="task-item" data-id="' + f.id + '" class="' + (p.overdue ? "overdue" : "") + '">' +
        "<b>#" + f.id + " " + esc(p.category_name) + "</b> · " + esc(p.status_label) +
        (dl ? "<div class='dl'>" + esc(LBL.deadline) + " " + dl.toLocaleString("zh-CN") + (p.overdue ? " · " + esc(LBL.overdue) : "") + "</div>" : "") +
        "<div class='m-hint'>" + esc(p.description) + "</div>" +
        (acts.length ? "<div class='acts'><input type='text' placeholder='" + esc(LBL.note) + "' data-role='note'>" +
          "<input type='file' accept='image/*' capture='environment' multiple data-role='photos'>" +
          acts.map(function (a) { return "<button type='button' data-action='" + a + "' data-testid='task-" + a + "'>" + esc(LBL[a]) + "</button>"; }).join("") +
          "</div>" : "") + "</li>";
    }).join("");
  }
  function loadTasks() {
    return fetch(P.tasksUrl, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (fc) {
        if (!fc) return;
        try { localStorage.setItem("gridgov-tasks-" + P.user, JSON.stringify(fc)); } catch (e) { /* quota */ }
        renderTasks(fc);
      }).catch(function () {
        try { renderTasks(JSON.parse(localStorage.getItem("gridgov-tasks-" + P.user) || "null")); } catch (e) { /* none */ }
      });
  }
  tasksEl.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button[data-action]");
    if (!btn) return;
    var li = btn.closest("li"), id = li.dataset.id;
    var note = li.querySelector("[data-role=note]").value;
    var files = Array.prototype.slice.call(li.querySelector("[data-role=photos]").files);
    btn.disabled = true;
    uploadPhotos({photos: files}).then(function (hashes) {
      return fetch(P.issuesUrl + id + "/transition/", {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf()},
        body: JSON.stringify({action: btn.dataset.action, note: note, photo_hashes: hashes,
                              lat: fix ? fix.lat : undefined, lon: fix ? fix.lon : undefined})
      });
    }).then(function (r) { return r.json().then(function (b) { if (!r.ok) throw new Error(b.message); }); })
      .then(loadTasks, function (err) { alert(err.message); btn.disabled = false; });
  });
  document.getElementById("reload-tasks").addEventListener("click", loadTasks);
  loadTasks();

  // ---- Tabs, service worker ----------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll(".m-tabs button"), function (b) {
    b.addEventListener("click", function () {
      document.querySelectorAll(".m-tabs button").forEach(function (x) { x.classList.toggle("active", x === b); });
      document.querySelectorAll(".m-tab").forEach(function (t) { t.classList.toggle("active", t.id === b.dataset.tab); });
      if (b.dataset.tab === "tab-tasks") loadTasks();
      setTimeout(function () { map.invalidateSize(); }, 50);
    });
  });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(P.swUrl, {scope: "/m/"}).catch(function () { /* app works without it */ });
  }
  window.patrolApp = {flush: flush, render: render, map: map};
})();
