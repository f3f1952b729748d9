/* Behaviour of the shared page frame (templates/base.html), kept out of inline handlers so
   pages run under the Content-Security-Policy. */
(function () {
  "use strict";
  // The language switch submits its form as soon as a language is picked.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
