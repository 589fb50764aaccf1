// The map of a project's (or the city's) ideas, drawn with Leaflet from the list beside it: each item
// carries data-lat and data-lng, so the list stays the text alternative and is all a browser without
// JavaScript needs. Tiles only when the site has a tile URL (WEB_TILE_URL); each pin is focusable and
// opens a link to its idea.
(function () {
  "use strict";
  var box = document.getElementById("ideas-map");
  var list = document.querySelector("[data-map-list]");
  if (!box || !list || typeof L === "undefined") return;

  // the map is shown only with JavaScript (site.css): make sure it has its size before Leaflet measures it
  document.documentElement.classList.add("js");
  var map = L.map(box, { scrollWheelZoom: false });
  if (box.dataset.tiles) {
    L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution || "" }).addTo(map);
  }
  var points = [];
  list.querySelectorAll("[data-lat][data-lng]").forEach(function (item) {
    var lat = parseFloat(item.dataset.lat), lng = parseFloat(item.dataset.lng);
    var link = item.querySelector("[data-map-title]");
    if (!isFinite(lat) || !isFinite(lng) || !link) return;
    var title = link.textContent;
    var marker = L.marker([lat, lng], { title: title, alt: title, keyboard: true }).addTo(map);
    var popup = document.createElement("a");
    popup.href = link.getAttribute("href");
    popup.textContent = title;
    marker.bindPopup(popup);
    points.push([lat, lng]);
  });
  if (points.length === 1) {
    map.setView(points[0], 15);
  } else if (points.length) {
    map.fitBounds(points, { padding: [24, 24], maxZoom: 16 });
  }
  box.classList.add("is-ready");
})();
