// The ballot's live bar: what the chosen projects cost (or the points given, or the projects chosen)
// against the budget's limit, updated while the citizen chooses. Without JavaScript the server draws the
// same bar after each save, and the API checks the ballot on every save either way.
(function () {
  "use strict";

  function setup(form) {
    var kind = form.dataset.kind;
    var limit = parseFloat(form.dataset.limit);
    var money = kind === "knapsack";
    var format = new Intl.NumberFormat(form.dataset.locale || document.documentElement.lang || "en",
      money ? { style: "currency", currency: form.dataset.currency || "EUR", minimumFractionDigits: 2, maximumFractionDigits: 2 } : {});

    function used() {
      var sum = 0;
      if (kind === "cumulative") {
        form.querySelectorAll("input[data-points]").forEach(function (input) {
          var n = parseInt(input.value, 10);
          if (n > 0) sum += n;
        });
      } else {
        form.querySelectorAll("input[type=checkbox][name=item]:checked").forEach(function (box) {
          sum += money ? parseFloat(box.dataset.cost) || 0 : 1;
        });
      }
      return sum;
    }

    function text(selector, value) {
      var el = form.querySelector(selector);
      if (el) el.textContent = value;
    }

    function update() {
      var u = used();
      var bounded = !isNaN(limit) && limit > 0;
      var over = bounded && u > limit;
      text("[data-used]", money ? format.format(u) : String(u));
      text("[data-over-amount]", over ? format.format(u - limit) : "");
      text("[data-left-amount]", bounded && !over ? format.format(limit - u) : "");
      var overNote = form.querySelector("[data-over]");
      if (overNote) overNote.hidden = !over;
      var within = form.querySelector("[data-within]");
      if (within && bounded) within.hidden = over;
      var bar = form.querySelector(".ballot-status svg.bar");
      if (bar && bounded) {
        bar.querySelector(".bar__fill").setAttribute("width", String(Math.min(100, Math.floor(100 * u / limit))));
        bar.classList.toggle("bar--over", over);
      }
      form.querySelectorAll(".ballot-item").forEach(function (item) {
        var box = item.querySelector("input[name=item]");
        var points = item.querySelector("input[data-points]");
        item.classList.toggle("is-chosen", box ? box.checked : parseInt(points && points.value, 10) > 0);
      });
    }

    form.addEventListener("input", update);
    form.addEventListener("change", update);
  }

  document.querySelectorAll("form[data-ballot]").forEach(setup);
})();
