/* The imagery review queue: candidates on the map, confirm / dismiss, job progress and cancel. */
(function () {
  "use strict";
  var cfg = window.IMAGERY;
  var COLORS = {vegetation_loss: "#2e7d32", construction: "#ef6c00", water_change: "#1565c0"};
  var map = GridGov.createMap("map", {basemap: cfg.basemap, tiandituKey: cfg.tiandituKey});
  var layers = {};

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": cfg.csrf},
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return {ok: r.ok, status: r.status, data: data}; });
    });
  }

  if (cfg.candidatesUrl) fetch(cfg.candidatesUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (fc) {
    if (!fc.features || !fc.features.length) return;
    var group = GridGov.geoJSON(fc, {
      style: function (f) {
        var p = f.properties;
        return {color: p.violation ? "#d50000" : (COLORS[p.change_type] || "#555"), weight: p.violation ? 3 : 1.5,
                fillColor: COLORS[p.change_type] || "#555", fillOpacity: 0.45};
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        layers[f.id] = l;
        l.bindPopup("#" + f.id + " " + GridGov.escape(p.change_type_label) + " " + Math.round(p.area_m2) + " ㎡" +
          (p.violation ? '<br><b style="color:#d50000">疑似违规</b>：' + GridGov.escape(p.violation_reason) : "") +
          '<br><img width="120" src="' + p.chips.before + '"> <img width="120" src="' + p.chips.after + '">');
        l.on("click", function () {
          var li = document.querySelector('li.candidate[data-id="' + f.id + '"]');
          if (li) { li.scrollIntoView({block: "nearest"}); li.classList.add("focus"); setTimeout(function () { li.classList.remove("focus"); }, 1500); }
        });
      }
    }).addTo(map);
    map.fitBounds(group.getBounds(), {maxZoom: 16, padding: [20, 20]});
  });

  document.querySelectorAll("a.zoom").forEach(function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      var l = layers[a.dataset.id];
      if (l) { map.fitBounds(l.getBounds(), {maxZoom: 17}); l.openPopup(); }
    });
  });

  document.querySelectorAll("button.confirm").forEach(function (b) {
    b.addEventListener("click", function () {
      var li = b.closest("li"), out = li.querySelector(".result");
      b.disabled = true;
      post(cfg.apiRoot + "candidates/" + b.dataset.id + "/confirm/").then(function (res) {
        if (res.ok) {
          li.dataset.status = "confirmed";
          li.querySelector(".actions").innerHTML = '已确认：<a data-testid="case-link" href="/patrol/' + res.data.issue_id +
            '/">案件 #' + res.data.issue_id + "</a>";
        } else {
          b.disabled = false;
          out.textContent = (res.data && res.data.message) || ("错误 " + res.status);
        }
      });
    });
  });

  document.querySelectorAll("button.dismiss").forEach(function (b) {
    b.addEventListener("click", function () {
      var li = b.closest("li"), out = li.querySelector(".result");
      var reason = li.querySelector(".dismiss-reason").value.trim();
      if (!reason) { out.textContent = "请填写排除理由"; return; }
      b.disabled = true;
      post(cfg.apiRoot + "candidates/" + b.dataset.id + "/dismiss/", {reason: reason}).then(function (res) {
        if (res.ok) {
          li.dataset.status = "dismissed";
          li.querySelector(".actions").textContent = "已排除：" + reason;
        } else {
          b.disabled = false;
          out.textContent = (res.data && res.data.message) || ("错误 " + res.status);
        }
      });
    });
  });

  document.querySelectorAll("button.job-cancel").forEach(function (b) {
    b.addEventListener("click", function () {
      b.disabled = true;
      post(cfg.apiRoot + "jobs/" + b.dataset.job + "/cancel/").then(function (res) {
        var row = b.closest("tr");
        row.querySelector(".job-status").textContent = res.ok ? res.data.status_label : ((res.data && res.data.message) || "错误");
      });
    });
  });

  var form = document.getElementById("job-form");
  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var out = form.querySelector(".form-result");
      var body = {before: +form.before.value, after: +form.after.value, params: {min_area_m2: +form.min_area_m2.value || 500}};
      post(cfg.apiRoot + "jobs/", body).then(function (res) {
        if (res.ok) { out.textContent = "已提交任务 #" + res.data.id; setTimeout(function () { location.reload(); }, 800); }
        else { out.textContent = (res.data && res.data.message) || ("错误 " + res.status); }
      });
    });
  }

  // Poll running jobs until they finish, then reload to show their candidates.
  function poll() {
    if (!cfg.running.length) return;
    Promise.all(cfg.running.map(function (id) {
      return fetch(cfg.apiRoot + "jobs/" + id + "/", {credentials: "same-origin"}).then(function (r) { return r.json(); });
    })).then(function (jobs) {
      var finished = false;
      jobs.forEach(function (j) {
        var row = document.querySelector('tr[data-job="' + j.id + '"]');
        if (!row) return;
        row.querySelector("progress").value = j.progress;
        row.querySelector(".job-status").textContent = j.status_label;
        row.querySelector(".job-message").textContent = j.message || "";
        if (["done", "failed", "cancelled"].indexOf(j.status) >= 0) finished = true;
      });
      if (finished) { location.reload(); } else { setTimeout(poll, 2000); }
    });
  }
  setTimeout(poll, 1500);
})();
