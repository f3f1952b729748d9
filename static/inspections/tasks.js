/* GridGov 双随机 inspection tasks for the phone: list my inspections (cached for offline use) and
 * record results on site with photos, through an IndexedDB queue that sends itself when online.
 *
 * Exactly once: every result carries a client-generated id (client_uuid); resending it after a
 * cut connection is harmless (the server answers 200 with the same body), so a result left
 * "sending" when the app closed is simply sent again.
 *
 *   <ul id="inspection-tasks"></ul>
 *   <script src="/static/inspections/tasks.js"></script>
 *   <script>GridGovInspections.mount({container: document.getElementById("inspection-tasks"),
 *     tasksUrl: "/api/inspections/tasks/", resultsUrl: "/api/inspections/results/",
 *     photosUrl: "/api/patrol/photos/", labels: {...}, position: function () { return {lat, lon} }});</script>
 */
(function () {
  "use strict";
  var DB_NAME = "gridgov-inspections", STORE = "results";
  var LABELS = {
    none: "暂无双随机检查任务", deadline: "期限", permit: "排污许可证", noPermit: "无（登记管理）",
    team: "检查人员", code: "行政行为码", pass: "合格", problems: "发现问题", problemsText: "发现的问题",
    legalBasis: "法律依据", photos: "照片", record: "记录结果", queued: "待发送（离线时自动排队）",
    sending: "发送中", sent: "已记录", failed: "未能记录", caseOpened: "已立案", verify: "核验"
  };
  var opts, L, dbp;

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, {keyPath: "id"}); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(mode, fn) {
    return dbp.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), out = fn(t.objectStore(STORE));
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }
  function put(item) { return tx("readwrite", function (s) { s.put(item); }); }
  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function csrf() {
    if (opts.csrf) return opts.csrf();
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  var tasks = [], queue = [];
  function cacheKey() { return "gridgov-inspection-tasks-" + (opts.user || ""); }

  function head(p) {
    return "<b>" + esc(p.name) + "</b> <span class='m-hint'>" + esc(p.credit_code) + "</span>" +
      "<div>" + esc(L.code) + " <code>" + esc(p.code) + "</code> · <a href='" + esc(p.verify_url) + "' target='_blank'>" + esc(L.verify) + "</a></div>" +
      "<div>" + esc(L.permit) + " " + esc(p.permit ? p.permit.number : L.noPermit) + " · " + esc(L.deadline) + " " + esc(p.deadline) + "</div>" +
      "<div>" + esc(L.team) + " " + esc((p.inspectors || []).join("、")) + "</div>";
  }
  function queued(q) {  // a recorded result, with the task as it was when recorded
    return "<li data-testid='inspection-task' data-id='" + q.inspection + "' data-state='" + q.state + "'>" + head(q.props || {}) +
      "<div class='state' data-testid='inspection-state'>" + esc(L[q.state] || q.state) +
      (q.result && q.result.issue ? " · " + esc(L.caseOpened) + " #" + q.result.issue : "") +
      (q.error ? " · " + esc(q.error) : "") + "</div></li>";
  }
  function render() {
    var byTask = {}, open = {};
    queue.forEach(function (q) { byTask[q.inspection] = q; });
    tasks.forEach(function (f) { open[f.id] = true; });
    var html = tasks.map(function (f) {
      var p = f.properties, q = byTask[f.id];
      if (q) return queued(q);
      return "<li data-testid='inspection-task' data-id='" + f.id + "'>" + head(p) +
        "<form class='acts' data-role='result'>" +
        "<label><input type='radio' name='outcome' value='pass' checked> " + esc(L.pass) + "</label> " +
        "<label><input type='radio' name='outcome' value='problems' data-testid='outcome-problems'> " + esc(L.problems) + "</label>" +
        "<textarea name='problems' rows='2' maxlength='4000' placeholder='" + esc(L.problemsText) + "' data-testid='problems'></textarea>" +
        "<input name='legal_basis' maxlength='500' placeholder='" + esc(L.legalBasis) + "' data-testid='legal-basis'>" +
        "<input type='file' name='photos' accept='image/*' capture='environment' multiple data-testid='inspection-photos'>" +
        "<button type='submit' data-testid='record-result'>" + esc(L.record) + "</button></form></li>";
    });
    queue.filter(function (q) { return !open[q.inspection]; })
      .sort(function (a, b) { return a.created < b.created ? 1 : -1; })
      .forEach(function (q) { html.push(queued(q)); });
    opts.container.innerHTML = html.length ? html.join("") : "<li class='m-hint'>" + esc(L.none) + "</li>";
  }

  function load() {
    return fetch(opts.tasksUrl, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (fc) {
        if (!fc) return;
        tasks = fc.features || [];
        try { localStorage.setItem(cacheKey(), JSON.stringify(fc)); } catch (e) { /* quota */ }
      }).catch(function () {
        try { tasks = (JSON.parse(localStorage.getItem(cacheKey()) || "null") || {}).features || tasks; } catch (e) { /* none */ }
      }).then(refresh);
  }
  function refresh() { return all().then(function (items) { queue = items; render(); }); }

  function uploadPhotos(item) { return GridGovPhotos.upload(item, opts.photosUrl, csrf()); }

  function sendOne(it) {
    it.state = "sending"; it.error = "";
    return put(it).then(refresh).then(function () { return uploadPhotos(it); }).then(function (hashes) {
      it.photo_hashes = hashes;
      return fetch(opts.resultsUrl, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf()},
        body: JSON.stringify(Object.assign({}, it.payload, {photo_hashes: hashes}))
      });
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) {
        if (r.status === 200 || r.status === 201) {
          it.state = "sent"; it.result = b; it.photos = [];  // the server has them; drop the bytes
        } else if (r.status === 401 || r.status === 403 || r.status >= 500) {
          it.state = "queued"; it.error = b.message || ("HTTP " + r.status);
        } else {
          it.state = "failed"; it.error = b.message || ("HTTP " + r.status);
        }
      });
    }, function (err) {
      if (err && err.status && err.status < 500 && err.status !== 401 && err.status !== 403) {
        it.state = "failed"; it.error = err.message;
      } else {
        it.state = "queued"; it.error = "";
      }
    }).then(function () { return put(it); }).then(refresh);
  }

  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine) return Promise.resolve();
    flushing = true;
    return all().then(function (items) {
      return items.filter(function (it) { return it.state === "queued"; })
        .reduce(function (chain, it) { return chain.then(function () { return sendOne(it); }); }, Promise.resolve());
    }).catch(function () {}).then(function () { flushing = false; });
  }

  function record(form, taskId) {
    var data = new FormData(form), where = opts.position ? opts.position() : null;
    var task = tasks.filter(function (f) { return String(f.id) === String(taskId); })[0];
    var item = {
      id: uuid4(), inspection: Number(taskId), state: "queued", created: new Date().toISOString(),
      props: task ? task.properties : {},
      photos: Array.prototype.slice.call(form.querySelector("[name=photos]").files),
      payload: {inspection: Number(taskId), outcome: data.get("outcome"),
                problems: data.get("problems") || "", legal_basis: data.get("legal_basis") || ""}
    };
    item.payload.client_uuid = item.id;
    if (where && where.lat != null) { item.payload.lat = where.lat; item.payload.lon = where.lon; }
    return put(item).then(refresh).then(flush);
  }

  function mount(options) {
    opts = options; L = Object.assign({}, LABELS, options.labels || {});
    dbp = openDb();
    opts.container.addEventListener("submit", function (ev) {
      var form = ev.target.closest("form[data-role=result]");
      if (!form) return;
      ev.preventDefault();
      record(form, form.closest("li").dataset.id);
    });
    window.addEventListener("online", function () { flush().then(load); });
    // A result left "sending" when the app closed goes again (harmless: client_uuid).
    all().then(function (items) {
      return Promise.all(items.filter(function (it) { return it.state === "sending"; }).map(function (it) {
        it.state = "queued"; return put(it);
      }));
    }).then(load).then(flush);
    setInterval(flush, 15000);
    return api;
  }
  var api = {mount: mount, load: load, flush: flush, queue: function () { return all(); }};
  window.GridGovInspections = api;
})();
