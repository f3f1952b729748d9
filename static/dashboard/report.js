/* The monthly report's progress page: poll the rendering's state, then download the PDF. */
(function () {
  "use strict";
  var box = document.querySelector("[data-testid=report-progress]");
  if (!box) return;
  var started = Date.now(), done = false;
  function show(id, on) { document.getElementById(id).hidden = !on; }
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
      document.getElementById("report-bar").value = s.progress || 0;
      document.getElementById("report-pct").textContent = s.progress || 0;
      document.getElementById("report-stage").textContent = s.stage || s.state_label || "";
      box.dataset.state = s.state;
      if (s.ready) {
        done = true;
        show("report-done", true);
        show("report-slow", false);
        window.location.href = box.dataset.pdfUrl;
        return;
      }
      if (s.state === "failed") {
        document.getElementById("report-failed").textContent = s.error;
        show("report-failed", true);
        return;
      }
      show("report-slow", s.state === "queued" && Date.now() - started > 15000);
      setTimeout(poll, 1000);
    }).catch(function () { if (!done) setTimeout(poll, 3000); });
  }
  poll();
})();
