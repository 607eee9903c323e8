// The report's period selector applies as soon as it changes (a script file: the page's policy runs no inline code).
(function () {
  "use strict";
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
