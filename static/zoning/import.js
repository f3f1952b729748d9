/* The editor's import panel: a trial import (dry run) shows what the file would create, update
   and what is refused with the reasons; only a clean file can then be imported, with a reason. */
(function (root) {
  "use strict";
  var C = root.ZoningCommon, fmt = C.fmt;

  root.ZoningImport = function (opts, T, reload) {
    var panel = document.getElementById("import-panel");
    if (!panel) return;
    var file = panel.querySelector("input[type=file]"), gcj02 = panel.querySelector("input[name=gcj02]");
    var report = panel.querySelector("[data-testid=import-report]"), msg = panel.querySelector("[data-testid=import-message]");
    var trial = panel.querySelector("[data-testid=import-dry-run]");

    function say(text, kind) { msg.textContent = text; msg.className = "message " + (kind || ""); }
    function send(dryRun, reason) {
      var fd = new FormData();
      fd.append("file", file.files[0]);
      fd.append("dry_run", dryRun ? "true" : "false");
      fd.append("gcj02", gcj02.checked ? "true" : "false");
      if (reason) fd.append("reason", reason);
      return C.api(opts.importUrl, "POST", fd, opts.csrf);
    }
    function section(title, testid, entries) {
      var wrap = document.createElement("div");
      wrap.dataset.testid = testid;
      var h = document.createElement("h3");
      h.textContent = title + "（" + entries.length + "）";
      wrap.appendChild(h);
      var ul = document.createElement("ul");
      entries.forEach(function (entry) {
        var li = document.createElement("li");
        if (typeof entry === "string") { li.textContent = entry; }
        else {
          li.textContent = fmt(T.importFeature, {n: entry.feature, code: entry.code || ""});
          var reasons = document.createElement("ul");
          entry.reasons.forEach(function (r) { var x = document.createElement("li"); x.textContent = r; reasons.appendChild(x); });
          li.appendChild(reasons);
        }
        ul.appendChild(li);
      });
      wrap.appendChild(ul);
      return wrap;
    }
    function show(b) {
      report.innerHTML = "";
      report.appendChild(C.paragraph(fmt(T.importSummary, {features: b.features, crs: b.source_crs,
        created: b.created, updated: b.updated, refused: b.refused_count})));
      if (b.construction_bans) report.appendChild(C.paragraph(fmt(T.importBans, {count: b.construction_bans}), "muted"));
      var refused = {};
      b.refused.forEach(function (r) { refused[r.code] = true; });
      var created = b.created_codes.filter(function (c) { return !refused[c]; });
      var updated = b.updated_codes.filter(function (c) { return !refused[c]; });
      if (created.length) report.appendChild(section(T.importCreated, "import-created", created));
      if (updated.length) report.appendChild(section(T.importUpdated, "import-updated", updated));
      if (b.refused.length) {
        report.appendChild(section(T.importRefused, "import-refused", b.refused));
        report.appendChild(C.paragraph(T.importFix, "message error"));
        return;
      }
      var go = document.createElement("button");
      go.type = "button"; go.textContent = T.importConfirm; go.dataset.testid = "import-confirm";
      go.addEventListener("click", function () {
        C.askReason(T, fmt(T.dialogImport, {count: b.features}), []).then(function (reason) {
          if (reason === null) return;
          say(T.importChecking);
          send(false, reason).then(function (res) {
            if (!res.ok) { say(res.body.message || T.requestFailed, "error"); return; }
            report.innerHTML = "";
            say(fmt(T.importDone, {created: res.body.created, updated: res.body.updated}), "ok");
            reload();
          });
        });
      });
      report.appendChild(go);
    }
    trial.addEventListener("click", function () {
      report.innerHTML = "";
      if (!file.files.length) { say(T.importChoose, "error"); return; }
      say(T.importChecking);
      send(true).then(function (res) {
        if (!res.ok) { say(res.body.message || T.requestFailed, "error"); return; }
        say("");
        show(res.body);
      });
    });
    file.addEventListener("change", function () { report.innerHTML = ""; say(""); });
  };
})(window);
