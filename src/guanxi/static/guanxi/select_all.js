/* A header checkbox <input data-select-all="ids"> ticks every row checkbox named "ids". */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-select-all]")) { return; }
    var table = box.closest("table") || document;
    table.querySelectorAll("input[type=checkbox][name='" + box.dataset.selectAll + "']").forEach(function (row) {
      row.checked = box.checked;
    });
  });
})();
