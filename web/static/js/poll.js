// A multiple-choice question allows at most `data-max-choices` answers: once that many are ticked, the
// others are disabled until one is unticked. The API refuses more either way.
(function () {
  "use strict";
  document.querySelectorAll("fieldset[data-max-choices]").forEach(function (set) {
    var max = parseInt(set.dataset.maxChoices, 10);
    var boxes = set.querySelectorAll("input[type=checkbox]");
    function update() {
      var ticked = set.querySelectorAll("input[type=checkbox]:checked").length;
      boxes.forEach(function (box) { box.disabled = !box.checked && ticked >= max; });
    }
    if (max > 0 && max < boxes.length) {
      set.addEventListener("change", update);
      update();
    }
  });
})();
