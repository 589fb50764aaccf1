// Small enhancements; every page works without them.
document.documentElement.classList.add("js");

// After an htmx swap that reports errors, move the focus to them so keyboard and screen-reader users hear them.
document.addEventListener("htmx:afterSwap", function (event) {
  var summary = event.detail.target.querySelector("[role=alert][tabindex]");
  if (summary) summary.focus();
});
