// Maps, drawn only when JavaScript runs; without it the coordinates are plain text and fields.
// [data-map-picker]: a click sets the latitude and longitude fields; typing in them moves the marker.
// [data-map-view]: one marker at data-lat/data-lng.
(function () {
  "use strict";
  if (typeof L === "undefined") return;
  var DEFAULT_CENTRE = [50.85, 4.35];

  function baseMap(element, centre, zoom, options) {
    element.hidden = false;
    var map = L.map(element, Object.assign({ scrollWheelZoom: false }, options || {})).setView(centre, zoom);
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: element.dataset.attribution || "" }).addTo(map);
    }
    return map;
  }

  function number(input) {
    var value = parseFloat(String(input.value).replace(",", "."));
    return isFinite(value) ? value : null;
  }

  function picker(element) {
    var lat = document.getElementById(element.dataset.latField);
    var lng = document.getElementById(element.dataset.lngField);
    var start = number(lat) !== null && number(lng) !== null ? [number(lat), number(lng)] : null;
    var map = baseMap(element, start || DEFAULT_CENTRE, start ? 15 : 12);
    var marker = start ? L.marker(start, { keyboard: false }).addTo(map) : null;
    function place(latlng) {
      if (marker) marker.setLatLng(latlng); else marker = L.marker(latlng, { keyboard: false }).addTo(map);
    }
    map.on("click", function (event) {
      lat.value = event.latlng.lat.toFixed(6);
      lng.value = event.latlng.lng.toFixed(6);
      place(event.latlng);
    });
    function typed() {
      if (number(lat) !== null && number(lng) !== null) {
        place([number(lat), number(lng)]);
        map.panTo([number(lat), number(lng)]);
      }
    }
    lat.addEventListener("change", typed);
    lng.addEventListener("change", typed);
  }

  function view(element) {
    var at = [parseFloat(element.dataset.lat), parseFloat(element.dataset.lng)];
    // a picture beside its text alternative (the coordinates): nothing in it to reach with the keyboard
    var map = baseMap(element, at, 15, { keyboard: false, zoomControl: false, dragging: false, attributionControl: false });
    L.marker(at, { keyboard: false }).addTo(map);
  }

  function init(root) {
    root.querySelectorAll("[data-map-picker]").forEach(picker);
    root.querySelectorAll("[data-map-view]").forEach(view);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(document); });
  else init(document);
})();
