/* The case page (templates/patrol/issue_detail.html): actions that cannot simply be taken back
 * ask first in a dialog (not window.confirm, and no inline handlers, for the page's CSP). The
 * dialog's title and text come from the template in the page language (#confirm-texts). */
(function () {
  "use strict";
  var dialog = document.getElementById("confirm-dialog");
  var texts = JSON.parse((document.getElementById("confirm-texts") || {}).textContent || "{}");
  if (!dialog) return;
  var pending = null;
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (form.dataset.confirmed === "1") return;  // confirmed: let it go
      ev.preventDefault();
      if (!form.reportValidity()) return;
      var t = texts[form.dataset.confirm] || {};
      document.getElementById("confirm-title").textContent = t.title || "";
      document.getElementById("confirm-text").textContent = t.text || "";
      pending = form;
      dialog.returnValue = "";
      if (dialog.showModal) dialog.showModal(); else dialog.setAttribute("open", "");
      dialog.querySelector("[value=cancel]").focus();
    });
  });
  dialog.addEventListener("close", function () {
    var form = pending;
    pending = null;
    if (form && dialog.returnValue === "ok") {
      form.dataset.confirmed = "1";
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }
  });
})();
