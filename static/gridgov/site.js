/* Behaviour of the shared page frame (templates/base.html), kept out of inline handlers so
   pages run under the Content-Security-Policy. */
(function () {
  "use strict";
  // Selects marked data-autosubmit (the language switch, filters) submit their form when changed.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
