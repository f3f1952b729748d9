/* GridGov mobile patrol app: GPS map, report here, an IndexedDB queue that sends itself, tasks.
 *
 * Every report gets a client_uuid when it is queued; the server answers a resend of the same
 * report with the same case, so the queue may retry as often as it likes: a report made
 * offline appears exactly once. Photos wait in IndexedDB as Blobs next to their report. Each
 * report is kept with the account that made it and only that account sends it.
 * Every string shown comes from the template (window.PATROL.labels), in the page language.
 */
(function () {
  "use strict";
  var P = window.PATROL, LBL = P.labels;
  var DB_NAME = "gridgov-patrol", STORE = "queue";

  function fmt(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (m, k) { return values[k] != null ? values[k] : m; });
  }
  // Times in Beijing time whatever the phone's own zone.
  function when(iso) {
    return new Date(iso).toLocaleString(P.locale, {timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit",
                                                   day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false});
  }

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
  function mine(it) { return !it.user || it.user === P.user; }
  function allItems() {
    return tx("readonly", function (s) { return s.getAll(); }).then(function (items) { return items.filter(mine); });
  }
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
  var esc = GridGov.escape;

  // ---- A dialog instead of alert()/confirm() ----------------------------------------------
  var dialog = document.getElementById("m-dialog");
  function ask(text, withCancel) {
    return new Promise(function (resolve) {
      document.getElementById("m-dialog-text").textContent = text;
      dialog.querySelector("[value=cancel]").hidden = !withCancel;
      dialog.returnValue = "";
      dialog.addEventListener("close", function done() {
        dialog.removeEventListener("close", done);
        resolve(dialog.returnValue === "ok");
      });
      dialog.showModal();
    });
  }

  // ---- Network indicator ----------------------------------------------------------------
  var net = document.getElementById("net");
  function showNet() {
    net.textContent = navigator.onLine ? LBL.online : LBL.offline;
    net.classList.toggle("off", !navigator.onLine);
  }
  window.addEventListener("offline", showNet);
  showNet();

  // ---- Map, GPS, pin --------------------------------------------------------------------
  var map = GridGov.createMap("m-map", {basemap: P.basemap, tiandituKey: P.tiandituKey});
  map.setView([30.25, 120.13], 13, {animate: false});
  var cells = null;  // grid-cell outlines: where am I, in which cell (tiles cached by the service worker)
  if (!GridGov.shifted && L.vectorGrid) {
    cells = GridGov.tileLayer(P.tileUrl, "grid-cells", {color: "#c77d1a", weight: 1, fill: false}, {minZoom: 11}).addTo(map);
  }
  var fix = null, me = null, ring = null, pin = null, pinMoved = false, following = true;
  var gpsBox = document.getElementById("gps");
  map.on("dragstart", function () { following = false; });

  // Leaflet drops a setView made while a zoom animation runs (the first fix often arrives
  // during the opening zoom): wait for the animation to end, then centre without animating.
  function centre(ll, zoom) {
    if (map._animatingZoom) {
      map.once("zoomend", function () { centre(ll, zoom); });
      return;
    }
    map.setView(ll, zoom || Math.max(map.getZoom(), 17), {animate: false});
  }
  function onFix(pos) {
    fix = {lat: pos.coords.latitude, lon: pos.coords.longitude, acc: pos.coords.accuracy};
    var ll = GridGov.toMap(fix.lon, fix.lat);
    if (!me) {
      me = L.circleMarker(ll, {radius: 7, color: "#fff", weight: 2, fillColor: "#1f5fa8", fillOpacity: 1}).addTo(map);
      ring = L.circle(ll, {radius: fix.acc, color: "#1f5fa8", weight: 1, fillOpacity: 0.12}).addTo(map);
      centre(ll, 17);
    } else {
      me.setLatLng(ll); ring.setLatLng(ll); ring.setRadius(fix.acc);
      if (following) centre(ll);
    }
    gpsBox.textContent = fix.lat.toFixed(6) + ", " + fix.lon.toFixed(6) + " · " + LBL.accuracy + " ±" +
      fmt(LBL.metres, {n: Math.round(fix.acc)});
    gpsBox.dataset.accuracy = Math.round(fix.acc);
  }
  function onGpsError(err) {
    gpsBox.textContent = err && err.code === 1 ? LBL.gpsDenied : LBL.gpsUnavailable;
  }
  if (navigator.geolocation) {
    navigator.geolocation.watchPosition(onFix, onGpsError, {enableHighAccuracy: true, maximumAge: 5000, timeout: 30000});
  }
  document.getElementById("recentre").addEventListener("click", function () {
    following = true;
    if (fix) centre(GridGov.toMap(fix.lon, fix.lat), Math.max(map.getZoom(), 17));
  });

  // Where the pin is: township and grid cell (the server's lookup), and a warning outside the
  // officer's own cells. Offline, the server decides when the report arrives.
  var placeEl = document.getElementById("pin-place"), warnEl = document.getElementById("pin-warning");
  var locateSeq = 0;
  function describePin() {
    if (!pin) return;
    var p = GridGov.fromMap(pin.getLatLng()), seq = ++locateSeq;
    placeEl.textContent = LBL.locating;
    placeEl.dataset.cell = "";
    warnEl.hidden = true;
    fetch(P.locateUrl + "?lat=" + p.lat.toFixed(7) + "&lon=" + p.lon.toFixed(7), {credentials: "same-origin"})
      .then(function (r) { return r.json().then(function (b) { return {ok: r.ok, body: b}; }); })
      .then(function (res) {
        if (seq !== locateSeq) return;
        if (!res.ok) { placeEl.textContent = LBL.placeUnknown; return; }
        var cell = res.body.grid_cell.code;
        placeEl.textContent = fmt(LBL.place, {township: res.body.township.name, cell: cell});
        placeEl.dataset.cell = cell;
        if (P.ownCells.length && P.ownCells.indexOf(cell) < 0) {
          warnEl.textContent = fmt(LBL.outside, {cells: P.ownCells.join(", ")});
          warnEl.hidden = false;
        }
      }, function () { if (seq === locateSeq) placeEl.textContent = LBL.placeOffline; });
  }

  var form = document.getElementById("report-form"), formError = document.getElementById("form-error");
  function showError(text) { formError.textContent = text; formError.hidden = !text; }
  document.getElementById("report-here").addEventListener("click", function () {
    var ll = fix ? GridGov.toMap(fix.lon, fix.lat) : map.getCenter();
    if (!pin) {
      pin = L.marker(ll, {draggable: true, title: LBL.pinTitle}).addTo(map);
      pin.on("dragend", function () { pinMoved = true; describePin(); });
    } else { pin.setLatLng(ll); }
    pinMoved = !fix;
    form.hidden = false;
    showError("");
    describePin();
    document.getElementById("category").focus();
  });
  var photoInput = document.getElementById("photo");
  photoInput.addEventListener("change", function () {
    document.getElementById("photo-count").textContent = photoInput.files.length ? fmt(LBL.photos, {n: photoInput.files.length}) : "";
  });

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var category = document.getElementById("category").value;
    if (!category) { showError(LBL.needCategory); return; }
    if (!pin) { showError(LBL.needFix); return; }
    var p = GridGov.fromMap(pin.getLatLng());
    var item = {
      id: uuid4(),
      user: P.user,
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
      form.reset(); form.hidden = true; showError("");
      placeEl.textContent = ""; warnEl.hidden = true;
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
          (it.result ? " · <a href='" + esc(P.caseUrl.replace("/0/", "/" + it.result.id + "/")) + "'>#" + it.result.id + "</a>" : "") +
          (it.photos && it.photos.length ? " · 📷" + it.photos.length : "") +
          "<div class='m-hint'>" + esc(it.payload.description).slice(0, 80) + "</div>" +
          (it.error ? "<div class='m-hint m-error'>" + esc(it.error) + "</div>" : "") + "</li>";
      }).join("");
    });
  }

  function uploadPhotos(item) { return GridGovPhotos.upload(item, P.photosUrl, csrf(), LBL.error); }

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
          it.state = "queued"; it.error = b.message || LBL.error;  // retry later (login, server)
        } else {
          it.state = "failed"; it.error = b.message || LBL.error;  // the report itself is wrong
        }
      });
    }, function (err) {
      if (err && err.status && err.status < 500 && err.status !== 401 && err.status !== 403) {
        it.state = "failed"; it.error = err.message;
      } else {
        it.state = "queued"; it.error = navigator.onLine ? LBL.error : "";
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

  // ---- My tasks: work assigned to me, and my own reports, nearest first --------------------
  var assignedEl = document.getElementById("tasks-assigned"), reportedEl = document.getElementById("tasks-reported");
  function metresTo(f) {
    var from = fix || GridGov.fromMap(map.getCenter());
    var c = f.geometry.coordinates, rad = Math.PI / 180;
    var dLat = (c[1] - from.lat) * rad, dLon = (c[0] - from.lon) * rad;
    var a = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(from.lat * rad) * Math.cos(c[1] * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 6371008.8 * 2 * Math.atan2(Math.sqrt(a), Math.sqrt(1 - a));
  }
  function distanceText(m) {
    return m < 1000 ? fmt(LBL.metres, {n: Math.round(m)}) : fmt(LBL.km, {n: (m / 1000).toFixed(1)});
  }
  function taskHtml(f) {
    var p = f.properties, acts = (p.allowed_actions || []).filter(function (a) { return LBL[a]; });
    return '<li data-testid="task-item" data-id="' + f.id + '" data-kind="' + esc(p.task) + '" data-distance="' +
      Math.round(f._m) + '" class="' + (p.overdue ? "overdue" : "") + '">' +
      "<a href='" + esc(P.caseUrl.replace("/0/", "/" + f.id + "/")) + "' data-testid='task-link'><b>#" + f.id + " " +
      esc(p.category_name) + "</b></a> · " + esc(p.status_label) +
      "<div class='m-hint'>" + esc(fmt(LBL.away, {d: distanceText(f._m)})) + (p.township_name ? " · " + esc(p.township_name) : "") + "</div>" +
      (p.deadline ? "<div class='dl'>" + esc(LBL.deadline) + " " + esc(when(p.deadline)) + (p.overdue ? " · " + esc(LBL.overdue) : "") + "</div>" : "") +
      "<div class='m-hint'>" + esc(p.description) + "</div>" +
      (acts.length ? "<div class='acts'><input type='text' placeholder='" + esc(LBL.note) + "' data-role='note' aria-label='" + esc(LBL.note) + "'>" +
        "<input type='file' accept='image/*' capture='environment' multiple data-role='photos'>" +
        acts.map(function (a) { return "<button type='button' data-action='" + a + "' data-testid='task-" + a + "'>" + esc(LBL[a]) + "</button>"; }).join("") +
        "</div>" : "") + "</li>";
  }
  function renderTasks(fc) {
    var feats = ((fc && fc.features) || []).map(function (f) { f._m = metresTo(f); return f; });
    feats.sort(function (a, b) { return a._m - b._m; });
    [[assignedEl, "assigned"], [reportedEl, "reported"]].forEach(function (pair) {
      var list = feats.filter(function (f) { return f.properties.task === pair[1]; });
      pair[0].innerHTML = list.length ? list.map(taskHtml).join("") : "<li class='m-hint'>" + esc(LBL.noTasks) + "</li>";
    });
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
  document.getElementById("tasks").addEventListener("click", function (ev) {
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
    }).then(function (r) { return r.json().then(function (b) { if (!r.ok) throw new Error(b.message || LBL.error); }); })
      .then(loadTasks, function (err) { ask(err.message || LBL.error, false); btn.disabled = false; });
  });
  document.getElementById("reload-tasks").addEventListener("click", loadTasks);
  loadTasks();

  // ---- Back online: send the queue, refresh tasks, redraw the grid outlines ----------------
  window.addEventListener("online", function () {
    showNet(); flush(); loadTasks();
    // Tiles asked for while offline came back empty; ask again now.
    if (cells) cells.redraw();
  });

  // ---- Header: language switch, logout (warns about reports not sent yet) ----------------
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  var logout = document.getElementById("logout-form");
  logout.addEventListener("submit", function (ev) {
    if (logout.dataset.confirmed === "1") return;
    ev.preventDefault();
    allItems().then(function (items) {
      var waiting = items.filter(function (it) { return it.state !== "sent"; }).length;
      return waiting ? ask(fmt(LBL.unsent, {n: waiting}), true) : true;
    }).then(function (ok) {
      if (ok) { logout.dataset.confirmed = "1"; logout.submit(); }
    });
  });

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
  window.patrolApp = {
    flush: flush, render: render, map: map, cells: cells,
    position: function () { return fix ? {lat: fix.lat, lon: fix.lon} : null; }
  };
})();
