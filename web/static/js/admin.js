// The officials' workspace, enhanced: everything also works without this file.
(function () {
  "use strict";
  // "Select all" in the input manager's bulk form.
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) return;
    var form = document.getElementById(all.getAttribute("data-select-all"));
    if (!form) return;
    form.querySelectorAll("input[type=checkbox][name=idea_id]").forEach(function (box) { box.checked = all.checked; });
  });
  // Copy the insight sentences as plain text.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button || !navigator.clipboard) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    navigator.clipboard.writeText(source.value || source.textContent).then(function () {
      button.textContent = button.getAttribute("data-copied") || button.textContent;
    });
  });
  document.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = !navigator.clipboard; });
})();
