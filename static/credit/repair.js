// 信用修复: the enterprise contact files a repair request for a deduction (POST /api/credit/repairs/).
(function () {
  "use strict";
  var me = document.currentScript;
  document.querySelectorAll("form.repair-form").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var say = form.querySelector(".repair-message");
      var button = form.querySelector("button");
      button.disabled = true;
      fetch(me.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": form.csrfmiddlewaretoken.value},
        body: JSON.stringify({evidence: Number(form.dataset.evidence), statement: form.statement.value})
      }).then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) { throw new Error(body.message || String(r.status)); }
          form.replaceWith(Object.assign(document.createElement("span"), {textContent: me.dataset.sent}));
        });
      }).catch(function (e) { say.textContent = e.message; button.disabled = false; });
    });
  });
})();
