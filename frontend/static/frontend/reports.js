// The dashboard works without script; this only opens every table before printing, so the
// printed report carries the numbers behind each chart.
(function () {
  "use strict";
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll(".rp details").forEach(function (d) { d.setAttribute("open", ""); });
  });
})();
